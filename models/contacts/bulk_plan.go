package contacts

import (
	"maps"
	"time"

	"github.com/optline/optline/models"
)

// plannedContact is one contact row to write, with what the rules decided.
type plannedContact struct {
	s        *stagedContact
	c        Contact // final values; c.ID is set for existing contacts
	attrs    string  // final attributes as JSON
	o        consentOutcome
	inserted bool
}

// batchPlan is what a batch writes: new contacts and changed ones.
type batchPlan struct {
	inserts []*plannedContact
	updates []*plannedContact
}

// plan applies decideConsent and the field rules to every staged row,
// given the stored contacts and suppressions of the batch's numbers, and
// counts the rows. Both databases write the same plan.
func (b *importBatch) plan(staged []*stagedContact, prior map[string]*priorContact, supp map[string]time.Time, res *BatchResult) batchPlan {
	var p batchPlan
	importID := b.importID
	for _, s := range staged {
		old := prior[s.phone]
		// A number repeated within the import is counted once, as a
		// repeat: in an empty book it is not an "update" of anything.
		dup := old != nil && old.ImportID != nil && *old.ImportID == b.importID
		if dup {
			res.Duplicates++
		}
		importRow := int64(s.row)
		if dup || len(s.dupRows) > 0 {
			first := s.row
			if dup {
				first = 0
				if old.ImportRow != nil {
					first = int(*old.ImportRow)
					importRow = *old.ImportRow // the contact stays with its first row
				}
				res.addRepeat(s.phone, s.row, first)
			}
			for _, r := range s.dupRows {
				res.addRepeat(s.phone, r, first)
			}
		}
		if old != nil && b.skip {
			if !dup {
				res.Skipped++
			}
			continue
		}
		var sp *time.Time
		if at, ok := supp[s.hash]; ok {
			sp = &at
		}
		o := decideConsent(old, sp, s)
		pc := &plannedContact{s: s, o: o, attrs: s.attrsJSON, inserted: old == nil}
		pc.c = Contact{BusinessID: b.t.BusinessID(), Phone: s.phone, PhoneHash: s.hash, Name: s.name, FirstName: s.first, LastName: s.last,
			Email: s.email, Language: s.lang, ConsentState: o.state, OptedInAt: o.inAt, OptInSource: o.source, OptedOutAt: o.outAt,
			ImportID: &importID, ImportRow: &importRow, Landline: s.landline, Search: s.search, CreatedAt: b.now, UpdatedAt: b.now}
		switch {
		case dup:
		case o.state == ConsentOptedOut:
			res.Suppressed++
		case old == nil:
			res.Imported++
		default:
			res.Updated++
		}
		if old == nil {
			p.inserts = append(p.inserts, pc)
			continue
		}
		c := &pc.c
		c.ID = old.ID
		c.Name, c.FirstName, c.LastName = orKeep(s.name, old.Name), orKeep(s.first, old.FirstName), orKeep(s.last, old.LastName)
		c.Email, c.Language = orKeep(s.email, old.Email), orKeep(s.lang, old.Language)
		c.Search = models.SearchText(c.Name, c.Email, c.Phone)
		if len(s.attrs) > 0 {
			merged := Attrs{}
			maps.Copy(merged, old.Attrs)
			maps.Copy(merged, s.attrs)
			pc.attrs, _ = jsonAttrs(merged)
		} else {
			pc.attrs, _ = jsonAttrs(old.Attrs)
		}
		p.updates = append(p.updates, pc)
	}
	return p
}

func (r *BatchResult) addRepeat(phone string, row, first int) {
	if len(r.Repeats) < MaxRepeatsPerBatch {
		r.Repeats = append(r.Repeats, Repeat{Phone: phone, Row: row, First: first})
	}
}

// jsonAttrs is attributes as stored: a JSON object, "{}" for none.
func jsonAttrs(a Attrs) (string, error) {
	v, err := a.Value()
	return v.(string), err
}

func orKeep(v, old string) string {
	if v != "" {
		return v
	}
	return old
}

// all lists inserts then updates.
func (p batchPlan) all() []*plannedContact {
	return append(append([]*plannedContact(nil), p.inserts...), p.updates...)
}
