package models

import "gorm.io/gorm"

// Schema 19 (sending): on PostgreSQL, messages lose their two foreign
// keys, whose per-row checks were three quarters of the time of freezing a
// campaign's audience (an INSERT … SELECT of up to millions of rows: each
// row ran two RI trigger queries, 4.7 s instead of 1.3 s for 100,000 rows).
// What they did is kept by statement-level triggers on the referenced
// tables, which cost nothing on insert: deleting contacts sets their
// messages' contact_id to NULL, deleting a business deletes its messages
// (both through the indexes on contact_id and business_id). The sender
// only ever inserts messages for contacts it reads in the same statement.
// SQLite keeps its foreign keys (its inserts are one writer's anyway).
func relaxMessageKeys(tx *gorm.DB, d Dialect) error {
	if d != Postgres {
		return nil
	}
	for _, stmt := range []string{
		`ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_business_id_fkey`,
		`ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_contact_id_fkey`,
		`CREATE FUNCTION messages_contacts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE messages m SET contact_id = NULL FROM gone o WHERE m.contact_id = o.id;
	RETURN NULL;
END $$`,
		`CREATE TRIGGER messages_contacts_deleted AFTER DELETE ON contacts REFERENCING OLD TABLE AS gone
			FOR EACH STATEMENT EXECUTE FUNCTION messages_contacts_deleted()`,
		`CREATE FUNCTION messages_businesses_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM messages m USING gone o WHERE m.business_id = o.id;
	RETURN NULL;
END $$`,
		`CREATE TRIGGER messages_businesses_deleted AFTER DELETE ON businesses REFERENCING OLD TABLE AS gone
			FOR EACH STATEMENT EXECUTE FUNCTION messages_businesses_deleted()`,
	} {
		if err := tx.Exec(stmt).Error; err != nil {
			return err
		}
	}
	return nil
}
