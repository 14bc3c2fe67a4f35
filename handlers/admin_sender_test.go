package handlers_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/optline/optline/models"
	"github.com/optline/optline/web"
)

func TestAdminSetsSender(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.signup("Café Sender", "owner@sender.example")
	a.signup("Other Sender", "owner@other-sender.example")
	adm := a.admin()
	ctx := context.Background()
	u, _ := a.db.UserByEmail(ctx, "owner@sender.example")
	m, _ := a.db.MembershipOf(ctx, u.ID)
	path := "/admin/businesses/" + strconv.FormatInt(m.BusinessID, 10)

	page := adm.get(path)
	checkA11y(t, path, page)
	if !strings.Contains(page.Text(`[data-testid="sender-provider"]`), "sandbox") || !strings.Contains(page.Text(`[data-testid="sender-current"]`), "None set") {
		t.Fatalf("sender section: %q / %q", page.Text(`[data-testid="sender-provider"]`), page.Text(`[data-testid="sender-current"]`))
	}
	if page.Has(`[data-testid="sender-incomplete"]`) {
		t.Fatal("completeness is shown for the sandbox")
	}
	action := page.Attr(`[data-testid="sender"] form`, "action")
	if action != path+"/sender" {
		t.Fatalf("form action %q", action)
	}
	// With a wrong CSRF token the form is refused and nothing changes.
	if p := adm.post(action, vals("_csrf", "forged", "phone_number_id", "11111111", "waba_id", "22222222")); p.Status != http.StatusForbidden {
		t.Fatalf("forged CSRF: status %d", p.Status)
	}

	// Half a sender: 422 with the field's message and what was typed kept.
	p := adm.post(action, vals("phone_number_id", "106540352242922"))
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Text(`[data-testid="sender"]`), "Enter both") ||
		p.Value(`#f-phone_number_id`) != "106540352242922" {
		t.Fatalf("half a sender: status %d, %q", p.Status, p.Text(`[data-testid="sender"]`))
	}
	checkA11y(t, action+" (refused)", p)
	if p := adm.post(action, vals("phone_number_id", "sandbox-1", "waba_id", "12345")); p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("non-numeric id: status %d", p.Status)
	}
	p = adm.postFollow(action, vals("phone_number_id", "106540352242922", "waba_id", "102290129340398"))
	if !strings.Contains(p.Text(`.flash-success`), "saved") || p.Value(`#f-phone_number_id`) != "106540352242922" || p.Value(`#f-waba_id`) != "102290129340398" {
		t.Fatalf("after save: %q, %q", p.Text(`.flash-success`), p.Value(`#f-phone_number_id`))
	}
	b, _ := a.db.BusinessByID(ctx, m.BusinessID)
	if b.PhoneNumberID != "106540352242922" || b.WABAID != "102290129340398" {
		t.Fatalf("stored %+v", b)
	}
	// Another business cannot take the same phone-number id.
	u2, _ := a.db.UserByEmail(ctx, "owner@other-sender.example")
	m2, _ := a.db.MembershipOf(ctx, u2.ID)
	path2 := "/admin/businesses/" + strconv.FormatInt(m2.BusinessID, 10) + "/sender"
	if p := adm.post(path2, vals("phone_number_id", "106540352242922", "waba_id", "55555555")); p.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(p.Text(`[data-testid="sender"]`), "Another business") {
		t.Fatalf("taken id: status %d", p.Status)
	}
	// Clearing both removes the sender.
	p = adm.postFollow(action, vals("phone_number_id", "", "waba_id", ""))
	if !strings.Contains(p.Text(`.flash-success`), "removed") {
		t.Fatalf("clear: %q", p.Text(`.flash-success`))
	}
	// A synthetic sandbox sender is shown as such, never put in the form.
	if _, _, err := a.db.ClaimSandboxSender(ctx, m.BusinessID); err != nil {
		t.Fatal(err)
	}
	p = adm.get(path)
	if !strings.Contains(p.Text(`[data-testid="sender-current"]`), models.SandboxSenderID(m.BusinessID)) || p.Value(`#f-phone_number_id`) != "" {
		t.Fatalf("synthetic: %q, field %q", p.Text(`[data-testid="sender-current"]`), p.Value(`#f-phone_number_id`))
	}
	// The business's owner may not use the route; reloading the address
	// leads back to the page.
	owner.primeCSRF("/team")
	if p := owner.post(action, vals("phone_number_id", "123456789", "waba_id", "987654321")); p.Status != http.StatusForbidden {
		t.Fatalf("owner: status %d", p.Status)
	}
	if p := adm.getRaw(action); p.Status != http.StatusSeeOther || p.Location != path {
		t.Fatalf("reload: %d %q", p.Status, p.Location)
	}
	// The audit log names the change.
	var n int64
	a.db.WithContext(ctx).Table("audit_events").Where("action = ? AND business_id = ?", "business.sender_set", m.BusinessID).Count(&n)
	if n != 2 {
		t.Fatalf("%d sender_set audit entries, want 2", n)
	}
}

func TestAdminSenderCompletenessOnCloudAPI(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(c *web.Config) { c.Channel.Provider = web.ChannelCloudAPI })
	a.signup("Cloud Co", "owner@cloud.example")
	adm := a.admin()
	ctx := context.Background()
	u, _ := a.db.UserByEmail(ctx, "owner@cloud.example")
	m, _ := a.db.MembershipOf(ctx, u.ID)
	path := "/admin/businesses/" + strconv.FormatInt(m.BusinessID, 10)
	p := adm.get(path)
	if !strings.Contains(p.Text(`[data-testid="sender-provider"]`), "Cloud API") || !p.Has(`[data-testid="sender-incomplete"]`) {
		t.Fatalf("cloudapi, no sender: %q", p.Text(`[data-testid="sender"]`))
	}
	// A sandbox sender left over from before the switch is incomplete too.
	a.db.ClaimSandboxSender(ctx, m.BusinessID)
	if p := adm.get(path); !p.Has(`[data-testid="sender-incomplete"]`) {
		t.Fatal("a sandbox sender counted as complete for the Cloud API")
	}
	p = adm.postFollow(path+"/sender", vals("phone_number_id", "106540352242922", "waba_id", "102290129340398"))
	if !p.Has(`[data-testid="sender-complete"]`) {
		t.Fatalf("complete sender: %q", p.Text(`[data-testid="sender"]`))
	}
}
