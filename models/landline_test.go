package models_test

import (
	"context"
	"testing"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/dbtest"
)

// TestHandAddedLandline: a contact added by hand gets the landline mark as
// an imported one does, it is kept through an edit, and the list reads it.
func TestHandAddedLandline(t *testing.T) {
	db := dbtest.Open(t)
	tn := ctTenant(t, db, "A")
	ctx := context.Background()
	fixed := mustContact(t, tn, models.ContactInput{Phone: "030 1234567", Region: "DE", Name: "Büro"})
	mobile := mustContact(t, tn, models.ContactInput{Phone: "+4915123456789", Name: "Handy"})
	if !fixed.Landline || mobile.Landline {
		t.Fatalf("landline: fixed %v, mobile %v", fixed.Landline, mobile.Landline)
	}
	if _, err := tn.UpdateContact(ctx, fixed.ID, models.ContactEdit{Name: "Büro Mitte"}); err != nil {
		t.Fatal(err)
	}
	got, err := tn.ContactByPhone(ctx, "+49301234567")
	if err != nil || !got.Landline {
		t.Fatalf("after the edit: %+v %v", got, err)
	}
	page, err := tn.ListContacts(ctx, models.ContactFilter{})
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
	fixed := mustContact(t, tn, models.ContactInput{Phone: "+49301234567"})
	mobile := mustContact(t, tn, models.ContactInput{Phone: "+4915123456789"})
	if err := db.Gorm.Exec(`UPDATE contacts SET landline = FALSE`).Error; err != nil { // as before schema 9
		t.Fatal(err)
	}
	if err := models.FlagStoredLandlines(db); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int64]bool{fixed.ID: true, mobile.ID: false} {
		var got bool
		if err := db.Gorm.Raw(`SELECT landline FROM contacts WHERE id = ?`, id).Scan(&got).Error; err != nil || got != want {
			t.Errorf("contact %d: landline %v (%v), want %v", id, got, err, want)
		}
	}
}
