package profiles

import (
	"context"

	"github.com/optline/optline/models"
)

// ChecklistItem is one thing a business needs before it can request the
// verified badge. Key is the catalogue key of its label; Href points to
// the form field that fixes it.
type ChecklistItem struct {
	Key  string
	Href string
	Done bool
}

// Checklist is the profile's readiness for verification.
type Checklist struct {
	Items []ChecklistItem
	// State is the business's verification state.
	State string
}

// Missing lists the items still to do.
func (c Checklist) Missing() []ChecklistItem {
	var out []ChecklistItem
	for _, it := range c.Items {
		if !it.Done {
			out = append(out, it)
		}
	}
	return out
}

// CanRequest reports whether the business is in a state to request the
// verified badge (not verified, no request waiting): only then is the
// checklist of what the request needs worth showing.
func (c Checklist) CanRequest() bool {
	return c.State != models.VerificationVerified && c.State != models.VerificationPending
}

// Complete reports whether every item is done.
func (c Checklist) Complete() bool { return len(c.Missing()) == 0 }

// DoneCount is the number of items done.
func (c Checklist) DoneCount() int { return len(c.Items) - len(c.Missing()) }

// checklist computes the readiness of p for a business named name.
func checklist(name string, p *Profile) []ChecklistItem {
	return []ChecklistItem{
		{"checklist.display_name", "/profile#f-display_name", CheckDisplayName("display_name", name) == nil},
		{"checklist.about", "/profile#f-about", p.About != ""},
		{"checklist.description", "/profile#f-description", p.Description != ""},
		{"checklist.vertical", "/profile#f-vertical", p.Vertical != "" && p.Vertical != "UNDEFINED"},
		{"checklist.email", "/profile#f-email", p.Email != ""},
		{"checklist.website", "/profile#f-website1", p.Website1 != ""},
		{"checklist.phone", "/profile#f-phone", p.PhoneE164 != ""},
		{"checklist.photo", "/profile#photo", p.HasPhoto()},
		{"checklist.legal_name", "/profile/legal#f-legal_name", p.LegalName != ""},
		{"checklist.registered_address", "/profile/legal#f-registered_address", p.RegisteredAddress != ""},
		{"checklist.country", "/profile/legal#f-country", p.Country != ""},
	}
}

// LoadChecklist says what the business still has to fill in before it
// can request verification. The dashboard shows it compactly.
func LoadChecklist(ctx context.Context, t models.Tenant) (Checklist, error) {
	b, err := t.Business(ctx)
	if err != nil {
		return Checklist{}, models.Wrap("profiles.LoadChecklist", err)
	}
	p, err := Get(ctx, t)
	if err != nil {
		return Checklist{}, models.Wrap("profiles.LoadChecklist", err)
	}
	return ChecklistOf(b, p), nil
}

// ChecklistOf is ProfileChecklist for a business and profile already read.
func ChecklistOf(b *models.Business, p *Profile) Checklist {
	return Checklist{Items: checklist(b.Name, p), State: b.VerificationState}
}
