package contacts

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
)

// ContactEdit is the "Edit contact" form: the contact's own fields. The
// number is not among them: it is the contact's identity, and consent and
// opt-outs belong to a number, so a new number is a new contact. Consent
// has its own forms.
type ContactEdit struct {
	Name      string
	FirstName string
	LastName  string
	Email     string
	Language  string // ISO 639-1 code or a language name ("Deutsch")
	// Attrs is the full set of custom attributes after the edit; an empty
	// value removes the attribute.
	Attrs map[string]string
	// NewKey and NewValue add one attribute (both empty: none). The key
	// must be new: an existing one is changed through Attrs.
	NewKey, NewValue string
}

// ValidAttrKey reports whether k can name a custom attribute: a lower-case
// letter, then up to 63 of a-z, 0-9 and _ (the names imports give them).
func ValidAttrKey(k string) bool { return attrKeyRe.MatchString(k) }

var attrKeyRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// AttrField is the form field that reports problems of attribute key.
func AttrField(key string) string { return "attr_" + key }

// Update saves the fields of one of the business's contacts and
// returns it as stored. Problems are reported per field (name,
// first_name, last_name, email, language, AttrField(key), attr_new_key,
// attr_new_value, attrs), all at once; nothing is saved then. Another business's contact is ErrNotFound.
func Update(ctx context.Context, t models.Tenant, id int64, in ContactEdit) (*Contact, error) {
	if err := t.Check(); err != nil {
		return nil, models.Wrap("contacts.Update", err)
	}
	v := &models.ValidationError{}
	name, first, last := strings.TrimSpace(in.Name), strings.TrimSpace(in.FirstName), strings.TrimSpace(in.LastName)
	if name == "" && (first != "" || last != "") {
		name = strings.TrimSpace(first + " " + last) // as an import names a contact
	}
	checkOptionalText(v, "name", name, maxContactName)
	checkOptionalText(v, "first_name", first, maxContactName)
	checkOptionalText(v, "last_name", last, maxContactName)
	email, lang := contactDetails(v, in.Email, in.Language)
	attrs := Attrs{}
	for _, k := range slices.Sorted(maps.Keys(in.Attrs)) {
		val := cleanAttrValue(in.Attrs[k])
		if val == "" {
			continue // removed
		}
		if !ValidAttrKey(k) {
			v.Add(AttrField(k), "contact.attr_key_invalid")
		} else {
			checkAttrValue(v, AttrField(k), val)
		}
		attrs[k] = val
	}
	newKey, newValue := strings.ToLower(strings.TrimSpace(in.NewKey)), cleanAttrValue(in.NewValue)
	if _, exists := in.Attrs[newKey]; newKey != "" || newValue != "" {
		switch {
		case !ValidAttrKey(newKey):
			v.Add("attr_new_key", "contact.attr_key_invalid")
		case exists:
			v.Add("attr_new_key", "contact.attr_key_taken")
		case newValue == "":
			v.Add("attr_new_value", "contact.attr_value_required")
		default:
			checkAttrValue(v, "attr_new_value", newValue)
			attrs[newKey] = newValue
		}
	}
	if len(attrs) > maxAttrKeys {
		v.Add("attrs", "contact.attrs_too_many", maxAttrKeys)
	}
	if err := v.Err(); err != nil {
		return nil, models.Wrap("contacts.Update", err)
	}
	var c *Contact
	err := t.DB().Tx(ctx, func(tx *gorm.DB) (err error) {
		if c, err = lockContact(t, tx, id); err != nil {
			return err
		}
		c.Name, c.FirstName, c.LastName, c.Email, c.Language, c.Attrs = name, first, last, email, lang, attrs
		c.UpdatedAt = t.DB().Now()
		c.derive()
		return tx.Model(&Contact{}).Where("business_id = ? AND id = ?", t.BusinessID(), c.ID).Updates(map[string]any{
			"name": c.Name, "first_name": c.FirstName, "last_name": c.LastName, "email": c.Email, "language": c.Language,
			"attrs": c.Attrs, "search": c.Search, "landline": c.Landline, "updated_at": c.UpdatedAt}).Error
	})
	if err != nil {
		return nil, models.Wrap("contacts.Update", err)
	}
	return c, attachTags(ctx, t, c)
}

// cleanAttrValue is an attribute value as stored: trimmed, with Unix line
// ends.
func cleanAttrValue(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }

// checkAttrValue checks a custom attribute's value into v at field.
func checkAttrValue(v *models.ValidationError, field, val string) {
	switch {
	case !utf8.ValidString(val):
		v.Add(field, "field.invalid_text")
	case len(val) > maxAttrValueLen:
		v.Add(field, "field.too_long", maxAttrValueLen)
	case hasControlCharsMultiline(val):
		v.Add(field, "field.control_chars")
	}
}

// contactDetails checks an e-mail address and a language as a person typed
// them (both optional) into v, and returns them as stored.
func contactDetails(v *models.ValidationError, email, language string) (string, string) {
	email = strings.TrimSpace(email)
	if email != "" {
		v.Merge(models.CheckEmail("email", email))
	}
	lang := ""
	if l := strings.TrimSpace(language); l != "" {
		code, ok := importer.NormalizeLanguage(l)
		if !ok {
			v.Add("language", "contact.language_invalid")
		}
		lang = code
	}
	return email, lang
}
