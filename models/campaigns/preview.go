package campaigns

import (
	"context"
	"strings"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/templates"
)

// Preview is the message one real recipient would get.
type Preview struct {
	ContactID int64
	Name      string
	Phone     string
	// Vars are the mapping's variables with this recipient's values.
	Vars   []PreviewVar
	Header []templates.Segment
	Body   []templates.Segment
	Footer string
	// Buttons carry their URL with the suffix filled in.
	Buttons []PreviewButton
}

// PreviewVar is one variable's value for one recipient; Fallback is set
// when the contact lacked the value and the fallback was used.
type PreviewVar struct {
	Var      Var
	Value    string
	Fallback bool
}

// PreviewButton is a button as the recipient sees it.
type PreviewButton struct {
	Type string
	Text string
	URL  string
}

// Previews renders the message for the first n recipients (by contact
// id) with their values and, where they lack one, the fallback.
func Previews(ctx context.Context, tn models.Tenant, c *Campaign, n int) ([]Preview, error) {
	if err := tn.Check(); err != nil {
		return nil, err
	}
	tpl, err := templates.Get(ctx, tn, c.TemplateID)
	if err != nil {
		return nil, models.Wrap("campaigns.Previews", err)
	}
	cond, args, err := c.RecipientWhere(ctx, tn)
	if err != nil {
		return nil, models.Wrap("campaigns.Previews", err)
	}
	var rows []contacts.Contact
	err = tn.Gorm(ctx).Table("contacts AS c").Select("c.id, c.phone, c.name, c.first_name, c.last_name, c.language, c.email, c.attrs").
		Where("c.business_id = ?", tn.BusinessID()).Where(cond, args...).Order("c.id").Limit(max(n, 0)).Find(&rows).Error
	if err != nil {
		return nil, models.Wrap("campaigns.Previews", err)
	}
	out := make([]Preview, 0, len(rows))
	for _, ct := range rows {
		r := contacts.Recipient{ContactID: ct.ID, Phone: ct.Phone, Name: ct.Name, FirstName: ct.FirstName, LastName: ct.LastName,
			Language: ct.Language, Email: ct.Email, Attrs: ct.Attrs}
		out = append(out, render(tpl, c.Mapping, r))
	}
	return out, nil
}

// render fills tpl for r by the mapping.
func render(tpl *templates.Template, m Mapping, r contacts.Recipient) Preview {
	header, body, urls, _ := m.Render(r)
	p := Preview{ContactID: r.ContactID, Name: r.Name, Phone: r.Phone, Footer: tpl.Footer}
	if p.Name == "" {
		p.Name = strings.TrimSpace(r.FirstName + " " + r.LastName)
	}
	for _, v := range m {
		own := strings.TrimSpace(v.value(r))
		pv := PreviewVar{Var: v, Value: own}
		if own == "" {
			pv.Value, pv.Fallback = strings.TrimSpace(v.Fallback), true
		}
		p.Vars = append(p.Vars, pv)
	}
	if tpl.Header != "" {
		p.Header = templates.Fill(tpl.Header, header)
	}
	p.Body = templates.Fill(tpl.Body, body)
	for i, b := range tpl.ButtonList() {
		pb := PreviewButton{Type: b.Type, Text: b.Text, URL: b.URL}
		if b.Type == channel.ButtonURL {
			pb.URL = templates.Render(b.URL, []string{urls[i]})
		}
		if b.Type == channel.ButtonPhone {
			pb.URL = b.Phone
		}
		p.Buttons = append(p.Buttons, pb)
	}
	return p
}
