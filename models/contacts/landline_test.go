package contacts_test

import (
	"context"
	"testing"

	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/dbtest"
)

// TestHandAddedLandline: a contact added by hand gets the landline mark as
// an imported one does, it is kept through an edit, and the list reads it.
func TestHandAddedLandline(t *testing.T) {
	db := dbtest.Open(t)
	tn := ctTenant(t, db, "A")
	ctx := context.Background()
	fixed := mustContact(t, tn, contacts.ContactInput{Phone: "030 1234567", Region: "DE", Name: "Büro"})
	mobile := mustContact(t, tn, contacts.ContactInput{Phone: "+4915123456789", Name: "Handy"})
	if !fixed.Landline || mobile.Landline {
		t.Fatalf("landline: fixed %v, mobile %v", fixed.Landline, mobile.Landline)
	}
	if _, err := contacts.Update(ctx, tn, fixed.ID, contacts.ContactEdit{Name: "Büro Mitte"}); err != nil {
		t.Fatal(err)
	}
	got, err := contacts.ByPhone(ctx, tn, "+49301234567")
	if err != nil || !got.Landline {
		t.Fatalf("after the edit: %+v %v", got, err)
	}
	page, err := contacts.List(ctx, tn, contacts.ContactFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range page.Contacts {
		if c.Landline != (c.ID == fixed.ID) {
			t.Errorf("list: %s landline %v", c.Phone, c.Landline)
		}
	}
}

// TestSchema10FlagsStoredLandlines: the migration judges the contacts
// stored before it.
func TestSchema10FlagsStoredLandlines(t *testing.T) {
	db := dbtest.Open(t)
	tn := ctTenant(t, db, "A")
	fixed := mustContact(t, tn, contacts.ContactInput{Phone: "+49301234567"})
	mobile := mustContact(t, tn, contacts.ContactInput{Phone: "+4915123456789"})
	if err := db.Gorm.Exec(`UPDATE contacts SET landline = FALSE`).Error; err != nil { // as before schema 9
		t.Fatal(err)
	}
	rerunMigration(t, db, 9)
	for id, want := range map[int64]bool{fixed.ID: true, mobile.ID: false} {
		var got bool
		if err := db.Gorm.Raw(`SELECT landline FROM contacts WHERE id = ?`, id).Scan(&got).Error; err != nil || got != want {
			t.Errorf("contact %d: landline %v (%v), want %v", id, got, err, want)
		}
	}
}
