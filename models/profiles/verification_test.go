package profiles_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/profiles"
)

func fiveLinks() string {
	var l []string
	for i := 1; i <= 5; i++ {
		l = append(l, fmt.Sprintf("https://press%d.example/kraus", i))
	}
	return strings.Join(l, "\n")
}

func validRequest() profiles.VerificationInput {
	return profiles.VerificationInput{RegistrationNumber: "HRB 12345 B", Website: "https://kraus.example", Country: "DE", Links: fiveLinks()}
}

func (f *fixture) submit(t *testing.T) *profiles.VerificationRequest {
	t.Helper()
	r, err := profiles.SubmitVerification(context.Background(), f.tn, f.owner, validRequest(), "")
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return r
}

func (f *fixture) state(t *testing.T) string {
	t.Helper()
	b, err := f.tn.Business(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return b.VerificationState
}

func TestSubmitNeedsCompleteProfile(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, err := profiles.SubmitVerification(context.Background(), f.tn, f.owner, validRequest(), "")
	if got := problem(err, "checklist"); got != "verify.incomplete" {
		t.Fatalf("problem = %q (err %v)", got, err)
	}
	if f.state(t) != models.VerificationUnverified {
		t.Error("state changed")
	}
}

func TestSubmitFieldRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	completeProfile(t, f, f.tn, f.owner)
	ctx := context.Background()
	links := func(n int) string {
		var l []string
		for i := 0; i < n; i++ {
			l = append(l, fmt.Sprintf("https://l%d.example", i))
		}
		return strings.Join(l, "\n")
	}
	cases := []struct {
		name, field, key string
		edit             func(*profiles.VerificationInput)
	}{
		{"registration empty", "registration_number", "verify.registration.required", func(in *profiles.VerificationInput) { in.RegistrationNumber = " " }},
		{"registration junk", "registration_number", "verify.registration.invalid", func(in *profiles.VerificationInput) { in.RegistrationNumber = "<b>12</b>" }},
		{"registration long", "registration_number", "verify.registration.invalid", func(in *profiles.VerificationInput) { in.RegistrationNumber = strings.Repeat("1", 65) }},
		{"website empty", "website", "verify.website.required", func(in *profiles.VerificationInput) { in.Website = "" }},
		{"website javascript", "website", "profile.website.scheme", func(in *profiles.VerificationInput) { in.Website = "javascript:alert(1)" }},
		{"country", "country", "verify.country.invalid", func(in *profiles.VerificationInput) { in.Country = "XX" }},
		{"4 links no document", "links", "verify.links.too_few", func(in *profiles.VerificationInput) { in.Links = links(4) }},
		{"11 links", "links", "verify.links.too_many", func(in *profiles.VerificationInput) { in.Links = links(11) }},
		{"bad link", "links", "verify.links.invalid", func(in *profiles.VerificationInput) { in.Links = links(4) + "\njavascript:alert(1)" }},
		{"duplicate link", "links", "verify.links.duplicate", func(in *profiles.VerificationInput) { in.Links = links(5) + "\nhttps://L0.example" }},
		{"further info 1001", "further_info", "verify.further_info.too_long", func(in *profiles.VerificationInput) { in.FurtherInfo = strings.Repeat("ü", 1001) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := validRequest()
			c.edit(&in)
			_, err := profiles.SubmitVerification(ctx, f.tn, f.owner, in, "")
			if got := problem(err, c.field); got != c.key {
				t.Fatalf("problem = %q, want %q (err %v)", got, c.key, err)
			}
		})
	}
	// Ten links and blank lines are fine.
	in := validRequest()
	in.Links = "\n" + links(10) + "\n\n"
	in.FurtherInfo = strings.Repeat("ü", 1000)
	r, err := profiles.SubmitVerification(ctx, f.tn, f.owner, in, "")
	if err != nil {
		t.Fatalf("10 links: %v", err)
	}
	if len(r.LinkList()) != 10 || r.Kind != profiles.KindFirst || r.DisplayName != "Bäckerei Kraus" || r.LegalName != "Kraus Backwaren GmbH" {
		t.Errorf("request = %+v", r)
	}
}

func TestOneDocumentReplacesLinks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	completeProfile(t, f, f.tn, f.owner)
	ctx := context.Background()
	d, err := profiles.AddDocument(ctx, f.tn, f.owner, "docs/1/a.pdf", "register.pdf", "application/pdf", 1000, "abc", "")
	if err != nil {
		t.Fatal(err)
	}
	in := validRequest()
	in.Links = ""
	r, err := profiles.SubmitVerification(ctx, f.tn, f.owner, in, "")
	if err != nil {
		t.Fatalf("submit with a document: %v", err)
	}
	docs, _ := profiles.RequestDocuments(ctx, f.db, r.ID)
	if len(docs) != 1 || docs[0].ID != d.ID {
		t.Errorf("request documents = %+v", docs)
	}
}

func TestStateMachine(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	completeProfile(t, f, f.tn, f.owner)
	admin := f.admin(t, "admin@optline.example")
	ctx := context.Background()
	r := f.submit(t)
	if f.state(t) != models.VerificationPending || r.State != profiles.RequestPending {
		t.Fatalf("after submit: business %s, request %s", f.state(t), r.State)
	}
	if _, err := profiles.SubmitVerification(ctx, f.tn, f.owner, validRequest(), ""); !errors.Is(err, profiles.ErrRequestPending) {
		t.Errorf("second submit = %v, want ErrRequestPending", err)
	}
	got, err := profiles.Decide(ctx, f.db, admin, r.ID, profiles.Decision{Approve: true, Revision: r.Revision}, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != profiles.RequestApproved || got.DecidedByEmail != admin.Email || f.state(t) != models.VerificationVerified {
		t.Errorf("after approve: %+v, business %s", got, f.state(t))
	}
	if _, err := profiles.SubmitVerification(ctx, f.tn, f.owner, validRequest(), ""); !errors.Is(err, profiles.ErrAlreadyVerified) {
		t.Errorf("submit when verified = %v", err)
	}
	if _, err := profiles.Decide(ctx, f.db, admin, r.ID, profiles.Decision{Approve: false, Reason: "x", Revision: r.Revision}, ""); err == nil {
		t.Error("deciding an approved request again succeeded")
	}
	ev, _ := f.db.AuditLog(ctx, models.AuditFilter{BusinessID: f.biz.ID, Action: "verification."})
	actions := []string{}
	for _, e := range ev {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, ",") != "verification.approved,verification.requested" {
		t.Errorf("audit = %v", actions)
	}
	if !strings.Contains(ev[0].Detail, "previous: request pending, business pending") || ev[0].ActorEmail != admin.Email {
		t.Errorf("approval audit = %+v", ev[0])
	}
}

func TestRejectNeedsReason(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	completeProfile(t, f, f.tn, f.owner)
	admin := f.admin(t, "admin@optline.example")
	r := f.submit(t)
	for _, reason := range []string{"", "   \n ", strings.Repeat("x", 1001)} {
		_, err := profiles.Decide(context.Background(), f.db, admin, r.ID, profiles.Decision{Reason: reason, Revision: 1}, "")
		if problem(err, "reason") == "" {
			t.Errorf("reason %q: err = %v", reason[:min(len(reason), 5)], err)
		}
	}
	if f.state(t) != models.VerificationPending {
		t.Error("state changed without a reason")
	}
}

func TestRefusedRequestRefilesAfter30Days(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	completeProfile(t, f, f.tn, f.owner)
	admin := f.admin(t, "admin@optline.example")
	ctx := context.Background()
	r := f.submit(t)
	decidedAt := f.clock.Now()
	got, err := profiles.Decide(ctx, f.db, admin, r.ID, profiles.Decision{Reason: "Register number does not match the legal name.", Revision: 1}, "")
	if err != nil {
		t.Fatal(err)
	}
	if f.state(t) != models.VerificationRejected || got.RefileAfter == nil || !got.RefileAfter.Equal(decidedAt.Add(30*24*time.Hour)) {
		t.Fatalf("after reject: business %s, refile %v", f.state(t), got.RefileAfter)
	}
	var re *profiles.RefileError
	if _, err := profiles.SubmitVerification(ctx, f.tn, f.owner, validRequest(), ""); !errors.As(err, &re) || !re.OpensAt.Equal(*got.RefileAfter) {
		t.Fatalf("resubmit at once = %v", err)
	}
	f.clock.Advance(30*24*time.Hour - time.Minute)
	if _, err := profiles.SubmitVerification(ctx, f.tn, f.owner, validRequest(), ""); !errors.As(err, &re) {
		t.Fatalf("resubmit one minute early = %v", err)
	}
	f.clock.Advance(time.Minute)
	in := validRequest()
	in.RegistrationNumber = "HRB 12345 B (Amtsgericht Charlottenburg)"
	in.Links = fiveLinks() + "\nhttps://register.example/kraus"
	again, err := profiles.SubmitVerification(ctx, f.tn, f.owner, in, "")
	if err != nil {
		t.Fatalf("resubmit after 30 days: %v", err)
	}
	if again.Kind != profiles.KindResubmission || f.state(t) != models.VerificationPending {
		t.Errorf("resubmission kind %s, state %s", again.Kind, f.state(t))
	}
	prev, err := profiles.PreviousDecision(ctx, f.db, again)
	if err != nil || prev == nil || prev.ID != r.ID {
		t.Fatalf("previous decision = %+v, %v", prev, err)
	}
	diff := profiles.DiffRequests(prev, again, nil, nil)
	if len(diff) != 2 || diff[0].Field != "verify.field.registration_number" || diff[1].Field != "verify.field.links" ||
		len(diff[1].Added) != 1 || diff[1].Added[0] != "https://register.example/kraus" {
		t.Errorf("diff = %+v", diff)
	}
}

func TestRejectForFixAllowsImmediateResubmission(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	completeProfile(t, f, f.tn, f.owner)
	admin := f.admin(t, "admin@optline.example")
	r := f.submit(t)
	got, err := profiles.Decide(context.Background(), f.db, admin, r.ID, profiles.Decision{Reason: "Scan unreadable", FixNow: true, Revision: 1}, "")
	if err != nil || got.RefileAfter != nil {
		t.Fatalf("reject for fix = %+v, %v", got, err)
	}
	if _, err := profiles.SubmitVerification(context.Background(), f.tn, f.owner, validRequest(), ""); err != nil {
		t.Fatalf("immediate resubmission: %v", err)
	}
}

func TestNameChangeSendsVerifiedBusinessBackToReview(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	completeProfile(t, f, f.tn, f.owner)
	admin := f.admin(t, "admin@optline.example")
	ctx := context.Background()
	r := f.submit(t)
	if _, err := profiles.Decide(ctx, f.db, admin, r.ID, profiles.Decision{Approve: true, Revision: 1}, ""); err != nil {
		t.Fatal(err)
	}
	in := validProfile()
	in.DisplayName = "Kraus Backstube"
	if _, err := profiles.Save(ctx, f.tn, f.owner, models.RoleOwner, in, ""); problem(err, "confirm_reverify") != "profile.confirm_reverify.required" {
		t.Fatalf("rename without confirming = %v", err)
	}
	if b, _ := f.tn.Business(ctx); b.Name != "Bäckerei Kraus" || !b.Verified() {
		t.Fatalf("unconfirmed rename applied: %+v", b)
	}
	// Other fields of a verified business change without review.
	same := validProfile()
	same.About = "New about text"
	if res, err := profiles.Save(ctx, f.tn, f.owner, models.RoleOwner, same, ""); err != nil || res.Reverify {
		t.Fatalf("about change = %+v, %v", res, err)
	}
	in.ConfirmReverify = true
	res, err := profiles.Save(ctx, f.tn, f.owner, models.RoleOwner, in, "")
	if err != nil || !res.Reverify {
		t.Fatalf("confirmed rename = %+v, %v", res, err)
	}
	if f.state(t) != models.VerificationPending {
		t.Fatalf("state = %s", f.state(t))
	}
	latest, _ := profiles.LatestRequest(ctx, f.tn)
	if latest.Kind != profiles.KindNameChange || latest.DisplayName != "Kraus Backstube" || latest.RegistrationNumber != "HRB 12345 B" || len(latest.LinkList()) != 5 {
		t.Errorf("re-verification request = %+v", latest)
	}
	if _, err := profiles.Decide(ctx, f.db, admin, latest.ID, profiles.Decision{Approve: true, Revision: latest.Revision}, ""); err != nil {
		t.Fatal(err)
	}
	// The legal name is reviewed too.
	legal := validLegal()
	legal.LegalName = "Kraus Holding GmbH"
	if _, err := profiles.SaveLegal(ctx, f.tn, f.owner, legal, ""); problem(err, "confirm_reverify") == "" {
		t.Fatalf("legal rename without confirming = %v", err)
	}
	legal.ConfirmReverify = true
	if res, err := profiles.SaveLegal(ctx, f.tn, f.owner, legal, ""); err != nil || !res.Reverify {
		t.Fatalf("legal rename = %+v, %v", res, err)
	}
	if latest, _ = profiles.LatestRequest(ctx, f.tn); latest.LegalName != "Kraus Holding GmbH" || f.state(t) != models.VerificationPending {
		t.Errorf("after legal rename: %+v, %s", latest, f.state(t))
	}
	ev, _ := f.db.AuditLog(ctx, models.AuditFilter{BusinessID: f.biz.ID, Action: "verification.reverify"})
	if len(ev) != 2 || !strings.Contains(ev[0].Detail, "previous: verified") {
		t.Errorf("audit = %+v", ev)
	}
}

func TestNameChangeWhilePendingStopsStaleDecision(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	completeProfile(t, f, f.tn, f.owner)
	admin := f.admin(t, "admin@optline.example")
	ctx := context.Background()
	r := f.submit(t)
	in := validProfile()
	in.DisplayName = "Kraus Backstube"
	res, err := profiles.Save(ctx, f.tn, f.owner, models.RoleOwner, in, "")
	if err != nil || !res.PendingUpdated {
		t.Fatalf("rename while pending = %+v, %v", res, err)
	}
	if _, err := profiles.Decide(ctx, f.db, admin, r.ID, profiles.Decision{Approve: true, Revision: r.Revision}, ""); !errors.Is(err, profiles.ErrRequestChanged) {
		t.Fatalf("decision on the old revision = %v", err)
	}
	cur, _ := profiles.RequestByID(ctx, f.db, r.ID)
	if cur.Revision != 2 || cur.DisplayName != "Kraus Backstube" || f.state(t) != models.VerificationPending {
		t.Fatalf("request = %+v", cur)
	}
	if _, err := profiles.Decide(ctx, f.db, admin, r.ID, profiles.Decision{Approve: true, Revision: 2}, ""); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentDecisionsOneWins(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	completeProfile(t, f, f.tn, f.owner)
	admins := []*models.User{f.admin(t, "a1@optline.example"), f.admin(t, "a2@optline.example")}
	ctx := context.Background()
	r := f.submit(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			d := profiles.Decision{Approve: i%2 == 0, Reason: "Documents do not match", Revision: r.Revision}
			_, errs[i] = profiles.Decide(ctx, f.db, admins[i%2], r.ID, d, "")
		}(i)
	}
	close(start)
	wg.Wait()
	wins, winner := 0, -1
	for i, err := range errs {
		var ad *profiles.AlreadyDecidedError
		switch {
		case err == nil:
			wins++
			winner = i
		case errors.As(err, &ad):
			if ad.By == "" || ad.At.IsZero() {
				t.Errorf("loser %d told %+v", i, ad)
			}
		default:
			t.Errorf("decision %d: %v", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d decisions won, want exactly 1", wins)
	}
	want := models.VerificationRejected
	if winner%2 == 0 {
		want = models.VerificationVerified
	}
	if f.state(t) != want {
		t.Errorf("business state %s, winner %d wanted %s", f.state(t), winner, want)
	}
	ev, _ := f.db.AuditLog(ctx, models.AuditFilter{BusinessID: f.biz.ID, Action: "verification."})
	decisions := 0
	for _, e := range ev {
		if e.Action == "verification.approved" || e.Action == "verification.rejected" {
			decisions++
		}
	}
	if decisions != 1 {
		t.Errorf("%d decisions audited, want 1", decisions)
	}
}
