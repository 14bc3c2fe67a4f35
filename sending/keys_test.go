package sending_test

import (
	"github.com/optline/optline/sending"
	"testing"
)

// Deleting a contact keeps its campaign messages (without the contact);
// deleting a business deletes its messages — by the foreign keys on
// SQLite, by the triggers of schema 19 on PostgreSQL.
func TestDeletingContactsAndBusinessesKeepsMessagesConsistent(t *testing.T) {
	f := newFx(t)
	ids := f.contacts(3, "")
	c := f.campaign(nil)
	e := f.engine(sending.Options{})
	f.start(e, c)
	if err := f.db.Gorm.Exec(`DELETE FROM contacts WHERE id = ?`, ids[0]).Error; err != nil {
		t.Fatal(err)
	}
	var n int64
	f.db.Gorm.Raw(`SELECT COUNT(*) FROM messages WHERE campaign_id = ? AND contact_id IS NULL`, c.ID).Scan(&n)
	if n != 1 {
		t.Fatalf("null contact: %d", n)
	}
	f.db.Gorm.Exec(`DELETE FROM campaigns WHERE business_id = ?`, f.tn.BusinessID())
	if err := f.db.Gorm.Exec(`DELETE FROM businesses WHERE id = ?`, f.tn.BusinessID()).Error; err != nil {
		t.Fatal(err)
	}
	f.db.Gorm.Raw(`SELECT COUNT(*) FROM messages WHERE campaign_id = ?`, c.ID).Scan(&n)
	if n != 0 {
		t.Fatalf("messages left: %d", n)
	}
}
