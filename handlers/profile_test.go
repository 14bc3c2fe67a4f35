package handlers_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/optline/optline/i18n"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/profiles"
)

// upload posts one file as multipart/form-data, with the CSRF token as
// the first field, before the file, as the upload forms do.
func (c *client) upload(path, field, filename string, data []byte) *page {
	c.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.WriteField("_csrf", c.csrf)
	fw, _ := w.CreateFormFile(field, filename)
	_, _ = fw.Write(data)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.url(path), &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req, false)
}

func pngImage(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		img.Set(x, x%h, color.RGBA{11, 110, 79, 255})
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

func gifImage(w, h int) []byte {
	var b bytes.Buffer
	_ = gif.Encode(&b, image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Black, color.White}), nil)
	return b.Bytes()
}

// msg is the English catalogue message.
func msg(key string, args ...any) string { return i18n.Default.T(key, args...) }

func profileValues() url.Values {
	return vals("display_name", "Bäckerei Kraus", "about", "Fresh bread every morning.", "description", "Family bakery since 1962.",
		"vertical", "RESTAURANT", "address", "Hauptstraße 1, 10115 Berlin", "email", "hello@kraus.example",
		"website1", "https://kraus.example", "website2", "", "phone", "+49 30 901820")
}

func legalValues() url.Values {
	return vals("legal_name", "Kraus Backwaren GmbH", "registered_address", "Hauptstraße 1\n10115 Berlin", "country", "DE",
		"vat_id", "DE 123 456 789", "billing_email", "billing@kraus.example", "time_zone", "Europe/Berlin", "currency", "EUR")
}

func with(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, x := range v {
		out[k] = append([]string(nil), x...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

func businessOf(t *testing.T, a *app, email string) (*models.Business, models.Tenant) {
	t.Helper()
	ctx := context.Background()
	u, err := a.db.UserByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.db.MembershipOf(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := a.db.BusinessByID(ctx, m.BusinessID)
	tn, _ := a.db.Tenant(m.BusinessID)
	return b, tn
}

func TestProfilePageShowsChecklistPreviewAndNav(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Bäckerei Kraus", "anna@kraus.example")
	p := c.get("/profile")
	if p.Status != http.StatusOK {
		t.Fatalf("status %d", p.Status)
	}
	if !p.Has(`nav.mainnav a[href="/profile"][aria-current="page"]`) {
		t.Error("Profile is not the current navigation item")
	}
	if !p.Has(`[data-testid="profile-checklist"]`) || !p.Has(`[data-testid="todo-checklist.photo"]`) || p.Has(`[data-testid="todo-checklist.display_name"]`) {
		t.Errorf("checklist: %q", p.Text(`[data-testid="profile-checklist"]`))
	}
	if got := p.Text(`[data-testid="preview-name"]`); got != "Bäckerei Kraus" {
		t.Errorf("preview name %q", got)
	}
	if got := p.Text(`[data-testid="preview-about"]`); got != msg("preview.empty_about") {
		t.Errorf("preview about placeholder %q", got)
	}
	if src, _ := p.Doc.Find(`script[src="/static/js/profile.js"]`).Attr("nonce"); src == "" {
		t.Error("profile.js without nonce")
	}
	if !strings.Contains(p.Header.Get("Cache-Control"), "no-store") {
		t.Errorf("Cache-Control %q", p.Header.Get("Cache-Control"))
	}
	for _, path := range []string{"/profile/legal", "/verification"} {
		if p := c.get(path); p.Status != http.StatusOK {
			t.Errorf("%s: %d", path, p.Status)
		}
	}
}

func TestProfileErrorMessages(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Bäckerei Kraus", "anna@kraus.example")
	c.primeCSRF("/profile")
	cases := []struct {
		field, value, want string
	}{
		{"display_name", "", msg("profile.display_name.required")},
		{"display_name", "Kr", "The display name must be 3 to 64 characters long; this one has 2."},
		{"display_name", strings.Repeat("K", 65), msg("profile.display_name.length", 3, 64, 65)},
		{"display_name", "Shop", msg("profile.display_name.generic", "Shop")},
		{"display_name", "Kraus Official", msg("profile.display_name.claim", "official")},
		{"display_name", "Verified Kraus", msg("profile.display_name.claim", "verified")},
		{"display_name", "kraus.de", msg("profile.display_name.url", "kraus.de")},
		{"display_name", "Kraus\u202egnp", msg("field.control_chars")},
		{"about", "", msg("profile.about.required", 139)},
		{"about", strings.Repeat("a", 140), "The About text can have at most 139 characters; this one has 140."},
		{"description", strings.Repeat("d", 513), msg("profile.description.too_long", 512, 513)},
		{"address", strings.Repeat("a", 257), msg("profile.address.too_long", 256, 257)},
		{"email", "hello@", msg("email.invalid")},
		{"email", strings.Repeat("a", 117) + "@example.com", msg("profile.email.too_long", 128, 129)},
		{"website1", "javascript:alert(1)", msg("profile.website.scheme")},
		{"website1", "https://" + strings.Repeat("a", 250) + ".de", msg("profile.website.too_long", 256, 261)},
		{"website2", "https://user:pw@kraus.example", msg("profile.website.credentials")},
		{"website2", "https://kraus.example", msg("profile.website.duplicate")},
		{"vertical", "CASINO", msg("profile.vertical.invalid")},
		{"phone", "+49 12", msg("profile.phone.invalid")},
		{"phone", "030 901820", msg("profile.phone.need_country")},
	}
	for _, tc := range cases {
		t.Run(tc.field+"="+tc.value[:min(len(tc.value), 12)], func(t *testing.T) {
			p := c.post("/profile", with(profileValues(), tc.field, tc.value))
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", p.Status)
			}
			if got := p.Text(`[data-testid="error-` + tc.field + `"]`); got != tc.want {
				t.Errorf("message %q, want %q", got, tc.want)
			}
			if desc, _ := p.Doc.Find("#f-" + tc.field).Attr("aria-describedby"); !strings.Contains(desc, "e-"+tc.field) {
				t.Errorf("aria-describedby %q", desc)
			}
			if inv, _ := p.Doc.Find("#f-" + tc.field).Attr("aria-invalid"); inv != "true" {
				t.Errorf("aria-invalid %q", inv)
			}
			if !p.Has(`[data-testid="form-errors"]`) {
				t.Error("no error summary")
			}
		})
	}
	// Typed values survive, in the form and in the preview.
	p := c.post("/profile", with(profileValues(), "about", "Neu: Sonntags geöffnet", "email", "nope"))
	if v, _ := p.Doc.Find("#f-about").Attr("value"); v != "Neu: Sonntags geöffnet" {
		t.Errorf("typed about lost: %q", v)
	}
	if got := p.Text(`[data-testid="preview-about"]`); got != "Neu: Sonntags geöffnet" {
		t.Errorf("preview about %q", got)
	}
	b, _ := businessOf(t, a, "anna@kraus.example")
	if ev, _ := a.db.AuditLog(context.Background(), models.AuditFilter{BusinessID: b.ID, Action: "profile."}); len(ev) != 0 {
		t.Errorf("refused saves were audited: %+v", ev)
	}
}

func TestProfileSaveAndExtraFieldsIgnored(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.signup("Blumen Meier", "meier@example.com")
	c := a.signup("Bäckerei Kraus", "anna@kraus.example")
	c.primeCSRF("/profile")
	otherBiz, _ := businessOf(t, a, "meier@example.com")
	v := with(profileValues(), "business_id", strconv.FormatInt(otherBiz.ID, 10), "verification_state", "verified", "verified", "1",
		"status", "suspended", "staff_can_edit", "1")
	p := c.post("/profile", v)
	if p.Status != http.StatusSeeOther || p.Location != "/profile" {
		t.Fatalf("save: %d %s %s", p.Status, p.Location, p.Text(".error"))
	}
	p = c.get("/profile")
	if !strings.Contains(p.Text(".flash-success"), msg("profile.saved")) {
		t.Errorf("flash %q", p.Text(".flash"))
	}
	if got := p.Text(`[data-testid="preview-about"]`); got != "Fresh bread every morning." {
		t.Errorf("preview about %q", got)
	}
	if v, _ := p.Doc.Find("#f-phone").Attr("value"); v != "+49 30 901820" {
		t.Errorf("phone shown as %q", v)
	}
	b, tn := businessOf(t, a, "anna@kraus.example")
	prof, _ := profiles.Get(context.Background(), tn)
	if b.VerificationState != models.VerificationUnverified || b.Status != models.BusinessActive || prof.StaffCanEdit || prof.PhoneE164 != "+4930901820" {
		t.Errorf("business %+v, profile %+v", b, prof)
	}
	if ob, _ := a.db.BusinessByID(context.Background(), otherBiz.ID); ob.Name != "Blumen Meier" {
		t.Errorf("other business renamed to %q", ob.Name)
	}
}

func TestDisplayNameIsShownAsText(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Bäckerei Kraus", "anna@kraus.example")
	c.primeCSRF("/profile")
	p := c.post("/profile", with(profileValues(), "display_name", `<script>alert(1)</script>`))
	if p.Status != http.StatusSeeOther {
		t.Fatalf("status %d: %s", p.Status, p.Text(".error"))
	}
	p = c.get("/profile")
	if strings.Contains(p.Body, "<script>alert(1)") {
		t.Error("display name rendered as markup")
	}
	if got := p.Text(`[data-testid="preview-name"]`); got != `<script>alert(1)</script>` {
		t.Errorf("preview name %q", got)
	}
}

func TestStaffReadOnlyUnlessAllowed(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Bäckerei Kraus", "anna@kraus.example")
	staff := a.staff(owner, "jonas@kraus.example")
	p := staff.get("/profile")
	if p.Status != http.StatusOK || !p.Has(`[data-testid="read-only-note"]`) || p.Has(`[data-testid="save-profile"]`) || p.Has("#f-photo") {
		t.Fatalf("staff page: status %d, read-only %v", p.Status, p.Has(`[data-testid="read-only-note"]`))
	}
	if _, ok := p.Doc.Find("#f-about").Attr("readonly"); !ok {
		t.Error("about is editable for staff")
	}
	for path, v := range map[string]url.Values{
		"/profile":              profileValues(),
		"/profile/legal":        legalValues(),
		"/profile/staff-access": vals("staff_can_edit", "1"),
		"/profile/photo/remove": nil,
		"/verification":         vals("registration_number", "HRB 1"),
	} {
		if p := staff.post(path, v); p.Status != http.StatusForbidden {
			t.Errorf("staff POST %s: %d", path, p.Status)
		}
	}
	if p := staff.upload("/profile/photo", "photo", "a.png", pngImage(200, 200)); p.Status != http.StatusForbidden {
		t.Errorf("staff photo upload: %d", p.Status)
	}
	b, tn := businessOf(t, a, "anna@kraus.example")
	ev, _ := a.db.AuditLog(context.Background(), models.AuditFilter{BusinessID: b.ID, Action: "access.denied"})
	if len(ev) < 6 {
		t.Errorf("%d access.denied entries, want 6", len(ev))
	}
	// The owner allows staff to edit.
	owner.primeCSRF("/profile")
	if p := owner.post("/profile/staff-access", vals("staff_can_edit", "1")); p.Status != http.StatusSeeOther {
		t.Fatalf("toggle: %d", p.Status)
	}
	staff.primeCSRF("/profile")
	if p := staff.post("/profile", profileValues()); p.Status != http.StatusSeeOther {
		t.Fatalf("allowed staff save: %d %s", p.Status, p.Text(".error"))
	}
	if prof, _ := profiles.Get(context.Background(), tn); prof.About != "Fresh bread every morning." {
		t.Errorf("staff save not stored: %+v", prof)
	}
	// Legal details stay with owners.
	if p := staff.post("/profile/legal", legalValues()); p.Status != http.StatusForbidden {
		t.Errorf("staff legal save: %d", p.Status)
	}
	// … and so does reading them (owner_only_test.go).
	if p := staff.getRaw("/profile/legal"); p.Status != http.StatusForbidden || p.Has(`[data-testid="save-legal"]`) {
		t.Errorf("staff GET legal page: %d", p.Status)
	}
}

func TestLegalErrorMessages(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Bäckerei Kraus", "anna@kraus.example")
	c.primeCSRF("/profile/legal")
	cases := []struct {
		kv   []string
		want map[string]string
	}{
		{[]string{"vat_id", "DE12345"}, map[string]string{"vat_id": "A German VAT ID is DE followed by 9 digits, for example DE123456789."}},
		{[]string{"country", "AT", "vat_id", "AT12345678"}, map[string]string{"vat_id": msg("vat.invalid.AT")}},
		{[]string{"country", "FR", "vat_id", "FR1"}, map[string]string{"vat_id": msg("vat.invalid.FR")}},
		{[]string{"country", "NL", "vat_id", "NL123"}, map[string]string{"vat_id": msg("vat.invalid.NL")}},
		{[]string{"country", "IT", "vat_id", "IT1"}, map[string]string{"vat_id": msg("vat.invalid.IT")}},
		{[]string{"country", "ES", "vat_id", "ES1"}, map[string]string{"vat_id": msg("vat.invalid.ES")}},
		{[]string{"country", "BE", "vat_id", "BE9"}, map[string]string{"vat_id": msg("vat.invalid.BE")}},
		{[]string{"country", "PL", "vat_id", "PL1"}, map[string]string{"vat_id": msg("vat.invalid.PL")}},
		{[]string{"vat_id", "ATU12345678"}, map[string]string{"vat_id": msg("vat.wrong_country", "AT", "DE")}},
		{[]string{"country", "Germany"}, map[string]string{"country": msg("legal.country.invalid")}},
		{[]string{"time_zone", "Berlin"}, map[string]string{"time_zone": msg("legal.time_zone.invalid", "Berlin")}},
		{[]string{"currency", "BTC"}, map[string]string{"currency": msg("legal.currency.invalid")}},
		{[]string{"legal_name", "", "registered_address", ""}, map[string]string{"legal_name": msg("legal.legal_name.required"), "registered_address": msg("legal.registered_address.required")}},
		{[]string{"billing_email", "billing"}, map[string]string{"billing_email": msg("email.invalid")}},
	}
	for _, tc := range cases {
		p := c.post("/profile/legal", with(legalValues(), tc.kv...))
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("%v: status %d", tc.kv, p.Status)
			continue
		}
		for field, want := range tc.want {
			if got := p.Text(`[data-testid="error-` + field + `"]`); got != want {
				t.Errorf("%v: %s = %q, want %q", tc.kv, field, got, want)
			}
		}
	}
	p := c.post("/profile/legal", legalValues())
	if p.Status != http.StatusSeeOther || p.Location != "/profile/legal" {
		t.Fatalf("save: %d", p.Status)
	}
	p = c.get("/profile/legal")
	if v, _ := p.Doc.Find("#f-vat_id").Attr("value"); v != "DE123456789" {
		t.Errorf("VAT shown as %q", v)
	}
	if got := p.Doc.Find("#f-country option[selected]").Text(); got != "Germany" {
		t.Errorf("country option %q", got)
	}
	// With the country set, a national sender number works.
	c.primeCSRF("/profile")
	if p := c.post("/profile", with(profileValues(), "phone", "030 901820")); p.Status != http.StatusSeeOther {
		t.Errorf("national number: %d %s", p.Status, p.Text(".error"))
	}
}

func TestPhotoUpload(t *testing.T) {
	a := newApp(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	c := a.signup("Bäckerei Kraus", "anna@kraus.example")
	c.primeCSRF("/profile")
	refusals := []struct {
		name   string
		file   string
		data   []byte
		status int
		want   string
	}{
		{"not square", "photo.png", pngImage(640, 480), 422, "The photo is 640 × 480 pixels; it must be square (the same width and height). Crop it to 480 × 480 and upload it again."},
		{"too small", "photo.png", pngImage(100, 100), 422, msg("photo.too_small", 100, 100, 192)},
		{"gif named png", "photo.png", gifImage(300, 300), 422, msg("photo.type", "image/gif")},
		{"pdf named jpg", "photo.jpg", []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"), 422, msg("photo.type", "application/pdf")},
		{"html named png", "photo.png", []byte("<html><script>alert(1)</script></html>"), 422, msg("photo.type", "text/html")},
		{"broken png", "photo.png", []byte("\x89PNG\r\n\x1a\nnothing else"), 422, msg("photo.corrupt", "png")},
		{"empty", "photo.png", []byte{}, 422, msg("photo.empty")},
		{"over 5 MB", "photo.png", append(pngImage(300, 300), make([]byte, 5<<20)...), 413, msg("photo.too_large", 5)},
	}
	for _, r := range refusals {
		p := c.upload("/profile/photo", "photo", r.file, r.data)
		if p.Status != r.status {
			t.Errorf("%s: status %d, want %d", r.name, p.Status, r.status)
		}
		if got := p.Text(`[data-testid="error-photo"]`); got != r.want {
			t.Errorf("%s: message %q, want %q", r.name, got, r.want)
		}
	}
	// No file chosen at all.
	if p := c.upload("/profile/photo", "other", "x.png", pngImage(200, 200)); p.Status != 422 || p.Text(`[data-testid="error-photo"]`) != msg("photo.missing") {
		t.Errorf("no file: %d %q", p.Status, p.Text(`[data-testid="error-photo"]`))
	}
	files := filepath.Join(a.srv.Config.DataDir, "files")
	if n := countFiles(t, files); n != 0 {
		t.Errorf("%d files stored after refusals", n)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("temporary files left: %v", entries)
	}
	// A PNG named .pdf is a PNG: the content decides, not the name.
	img := pngImage(256, 256)
	p := c.upload("/profile/photo", "photo", "logo.pdf", img)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", p.Status, p.Text(`[data-testid="error-photo"]`))
	}
	p = c.get("/profile")
	src, ok := p.Doc.Find(`[data-testid="photo-current"]`).Attr("src")
	if !ok || !strings.HasPrefix(src, "/profile/photo/") {
		t.Fatalf("photo src %q", src)
	}
	if !p.Has(`[data-testid="phone-preview"] img[src="` + src + `"]`) {
		t.Error("preview does not show the photo")
	}
	ph := c.getRaw(src)
	if ph.Status != 200 || ph.Body != string(img) || ph.Header.Get("Content-Type") != "image/png" ||
		!strings.HasPrefix(ph.Header.Get("Cache-Control"), "private") || ph.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("photo response %d %q %q", ph.Status, ph.Header.Get("Content-Type"), ph.Header.Get("Cache-Control"))
	}
	if n := countFiles(t, files); n != 1 {
		t.Errorf("%d files stored", n)
	}
	// Replacing it removes the old file.
	if p := c.upload("/profile/photo", "photo", "new.png", pngImage(300, 300)); p.Status != http.StatusSeeOther {
		t.Fatalf("replace: %d", p.Status)
	}
	if n := countFiles(t, files); n != 1 {
		t.Errorf("%d files after replacing", n)
	}
	// Isolation: another business gets 404; staff and administrators see it.
	p = c.get("/profile")
	src, _ = p.Doc.Find(`[data-testid="photo-current"]`).Attr("src")
	other := a.signup("Blumen Meier", "meier@example.com")
	if p := other.getRaw(src); p.Status != http.StatusNotFound {
		t.Errorf("other business sees the photo: %d", p.Status)
	}
	staff := a.staff(c, "jonas@kraus.example")
	if p := staff.getRaw(src); p.Status != http.StatusOK {
		t.Errorf("staff: %d", p.Status)
	}
	admin := a.client()
	admin.login("admin@example.com", testPassword)
	if p := admin.getRaw(src); p.Status != http.StatusOK {
		t.Errorf("admin: %d", p.Status)
	}
	if p := a.client().getRaw(src); p.Status != http.StatusSeeOther {
		t.Errorf("visitor: %d", p.Status)
	}
	// Removing it deletes the file.
	c.primeCSRF("/profile")
	if p := c.post("/profile/photo/remove", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("remove: %d", p.Status)
	}
	if n := countFiles(t, files); n != 0 {
		t.Errorf("%d files after removal", n)
	}
	if p := c.getRaw(src); p.Status != http.StatusNotFound {
		t.Errorf("removed photo: %d", p.Status)
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n++
		}
		return nil
	})
	return n
}
