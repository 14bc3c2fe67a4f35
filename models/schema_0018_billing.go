package models

import (
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// Schema 18: billing.
//
// usage_records is one row per judged message (message_id is the primary
// key: never twice; no id of its own, one index less to write), billable or not, with the price snapshot of the card in force
// at delivery, the rule that decided, the platform's pricing.type and
// whether it disagreed; day is the delivery day in the business's time
// zone, period the invoice month the record belongs to (the delivery
// month, or the next month without an invoice when that one was already
// invoiced). A record belongs to the invoice of its business and period.
// usage_periods lists each business and period with billable usage
// (written with the records), so the month-end finds what to invoice
// without reading the records.
//
// invoices are invoices and credit notes: number NULL until issued, taken
// from invoice_series (one row per kind and year; the row lock makes the
// numbering gapless); customer snapshot at build, issuer snapshot (JSON)
// at issue. One invoice per business and month while not cancelled.
// invoice_lines and invoice_documents (the PDF and the XRechnung XML as
// stored at issue) belong to an invoice. billing_settings is the one row
// of issuer details.
//
// The database itself refuses to change or delete an issued invoice, its
// lines or its documents (triggers, added by billingTriggers): only
// issued → paid (setting paid_at) and issued → cancelled (setting
// cancelled_at) may happen, and nothing else.
const schema0018 = `
CREATE TABLE usage_records (
	message_id {{bigint}} NOT NULL PRIMARY KEY,
	business_id {{bigint}} NOT NULL REFERENCES businesses(id),
	category VARCHAR(20) NOT NULL,
	price_category VARCHAR(20) NOT NULL,
	country VARCHAR(2) NOT NULL DEFAULT '',
	price_country VARCHAR(2) NOT NULL DEFAULT '',
	unit_price {{decimal}} NOT NULL,
	cost {{decimal}},
	currency VARCHAR(3) NOT NULL,
	card_id {{bigint}},
	rule TEXT NOT NULL,
	platform_type TEXT NOT NULL DEFAULT '',
	disagrees {{bool}} NOT NULL DEFAULT FALSE,
	billable {{bool}} NOT NULL,
	billed_at {{ts}} NOT NULL,
	day VARCHAR(10) NOT NULL,
	period VARCHAR(7) NOT NULL,
	created_at {{ts}} NOT NULL
);
CREATE INDEX usage_records_period_idx ON usage_records (business_id, period, billable);
CREATE INDEX usage_records_day_idx ON usage_records (business_id, day);
CREATE INDEX usage_records_disagree_idx ON usage_records (billed_at) WHERE disagrees;
CREATE TABLE usage_periods (
	business_id {{bigint}} NOT NULL REFERENCES businesses(id),
	period VARCHAR(7) NOT NULL,
	PRIMARY KEY (business_id, period)
);

CREATE TABLE invoices (
	id {{id}},
	business_id {{bigint}} NOT NULL REFERENCES businesses(id),
	kind VARCHAR(20) NOT NULL,
	state VARCHAR(20) NOT NULL,
	number TEXT,
	series TEXT NOT NULL DEFAULT '',
	year INTEGER NOT NULL DEFAULT 0,
	seq {{bigint}},
	period VARCHAR(7) NOT NULL,
	period_start {{ts}} NOT NULL,
	period_end {{ts}} NOT NULL,
	time_zone TEXT NOT NULL DEFAULT 'UTC',
	currency VARCHAR(3) NOT NULL,
	customer_name TEXT NOT NULL DEFAULT '',
	customer_address TEXT NOT NULL DEFAULT '',
	customer_country VARCHAR(2) NOT NULL DEFAULT '',
	customer_vat_id TEXT NOT NULL DEFAULT '',
	customer_email TEXT NOT NULL DEFAULT '',
	language VARCHAR(5) NOT NULL DEFAULT 'en',
	issuer TEXT NOT NULL DEFAULT '',
	vat_treatment VARCHAR(20) NOT NULL,
	vat_rate {{decimal}} NOT NULL,
	net {{decimal}} NOT NULL,
	tax {{decimal}} NOT NULL,
	gross {{decimal}} NOT NULL,
	note TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT '',
	corrects_id {{bigint}} REFERENCES invoices(id),
	issued_at {{ts}},
	due_at {{ts}},
	paid_at {{ts}},
	cancelled_at {{ts}},
	created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX invoices_number_key ON invoices (number) WHERE number IS NOT NULL;
CREATE UNIQUE INDEX invoices_month_key ON invoices (business_id, period) WHERE kind = 'invoice' AND state <> 'cancelled';
CREATE UNIQUE INDEX invoices_corrects_key ON invoices (corrects_id) WHERE kind = 'credit_note';
CREATE INDEX invoices_business_idx ON invoices (business_id, id);
CREATE INDEX invoices_period_idx ON invoices (period, id);

CREATE TABLE invoice_lines (
	id {{id}},
	invoice_id {{bigint}} NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	category VARCHAR(20) NOT NULL,
	country VARCHAR(2) NOT NULL DEFAULT '',
	description TEXT NOT NULL,
	quantity {{bigint}} NOT NULL,
	unit_price {{decimal}} NOT NULL,
	amount {{decimal}} NOT NULL
);
CREATE INDEX invoice_lines_invoice_idx ON invoice_lines (invoice_id, position);

CREATE TABLE invoice_documents (
	id {{id}},
	invoice_id {{bigint}} NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
	kind VARCHAR(10) NOT NULL,
	body {{blob}} NOT NULL,
	sha256 VARCHAR(64) NOT NULL,
	created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX invoice_documents_key ON invoice_documents (invoice_id, kind);

CREATE TABLE invoice_series (
	kind VARCHAR(20) NOT NULL,
	year INTEGER NOT NULL,
	last_number {{bigint}} NOT NULL DEFAULT 0,
	PRIMARY KEY (kind, year)
);

CREATE TABLE billing_settings (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL DEFAULT '',
	street TEXT NOT NULL DEFAULT '',
	postcode TEXT NOT NULL DEFAULT '',
	city TEXT NOT NULL DEFAULT '',
	country VARCHAR(2) NOT NULL DEFAULT 'DE',
	vat_id TEXT NOT NULL DEFAULT '',
	tax_number TEXT NOT NULL DEFAULT '',
	registration TEXT NOT NULL DEFAULT '',
	contact_name TEXT NOT NULL DEFAULT '',
	contact_phone TEXT NOT NULL DEFAULT '',
	contact_email TEXT NOT NULL DEFAULT '',
	bank_account_name TEXT NOT NULL DEFAULT '',
	iban TEXT NOT NULL DEFAULT '',
	bic TEXT NOT NULL DEFAULT '',
	bank_name TEXT NOT NULL DEFAULT '',
	payment_terms_days INTEGER NOT NULL DEFAULT 14,
	buyer_reference TEXT NOT NULL DEFAULT '',
	updated_by_id {{bigint}} REFERENCES users(id) ON DELETE SET NULL,
	updated_at {{ts}}
);
INSERT INTO billing_settings (id) VALUES (1);

CREATE TABLE billing_charge_state (
	id INTEGER PRIMARY KEY,
	low_id {{bigint}} NOT NULL DEFAULT 0
);
INSERT INTO billing_charge_state (id, low_id) VALUES (1, 0);
`

// invoiceContent are the invoice columns that never change once issued.
var invoiceContent = []string{"business_id", "kind", "number", "series", "year", "seq", "period", "period_start", "period_end",
	"time_zone", "currency", "customer_name", "customer_address", "customer_country", "customer_vat_id", "customer_email",
	"language", "issuer", "vat_treatment", "vat_rate", "net", "tax", "gross", "note", "reason", "corrects_id",
	"issued_at", "due_at", "created_at", "id"}

// billingTriggers makes issued invoices immutable in the database itself.
// Trigger bodies hold semicolons, so they are run one statement at a time
// here rather than through the migration's SQL splitter.
func billingTriggers(tx *gorm.DB, d Dialect) error {
	var stmts []string
	if d == Postgres {
		stmts = []string{
			`CREATE FUNCTION invoices_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		IF OLD.state <> 'draft' THEN
			RAISE EXCEPTION 'invoice % is % and cannot be deleted', OLD.id, OLD.state USING ERRCODE = 'integrity_constraint_violation';
		END IF;
		RETURN OLD;
	END IF;
	IF OLD.state = 'draft' THEN
		RETURN NEW;
	END IF;
	IF (to_jsonb(NEW) - 'state' - 'paid_at' - 'cancelled_at') IS DISTINCT FROM (to_jsonb(OLD) - 'state' - 'paid_at' - 'cancelled_at')
		OR NOT (OLD.state = 'issued' AND ((NEW.state = 'paid' AND NEW.paid_at IS NOT NULL AND NEW.cancelled_at IS NULL)
			OR (NEW.state = 'cancelled' AND NEW.cancelled_at IS NOT NULL AND NEW.paid_at IS NULL))) THEN
		RAISE EXCEPTION 'invoice % is % and cannot be changed', OLD.id, OLD.state USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	RETURN NEW;
END $$`,
			`CREATE TRIGGER invoices_immutable BEFORE UPDATE OR DELETE ON invoices FOR EACH ROW EXECUTE FUNCTION invoices_immutable()`,
			`CREATE FUNCTION invoice_parts_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	st TEXT;
	inv {{bigint}};
BEGIN
	IF TG_OP = 'INSERT' THEN inv := NEW.invoice_id; ELSE inv := OLD.invoice_id; END IF;
	SELECT state INTO st FROM invoices WHERE id = inv;
	IF st IS NOT NULL AND st <> 'draft' AND NOT (TG_OP = 'INSERT' AND TG_TABLE_NAME = 'invoice_documents') THEN
		RAISE EXCEPTION '% of invoice % (%) cannot be changed', TG_TABLE_NAME, inv, st USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'invoice_documents' THEN
		RAISE EXCEPTION 'a stored invoice document cannot be changed' USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
	RETURN NEW;
END $$`,
			`CREATE TRIGGER invoice_lines_immutable BEFORE INSERT OR UPDATE OR DELETE ON invoice_lines FOR EACH ROW EXECUTE FUNCTION invoice_parts_immutable()`,
			`CREATE TRIGGER invoice_documents_immutable BEFORE INSERT OR UPDATE OR DELETE ON invoice_documents FOR EACH ROW EXECUTE FUNCTION invoice_parts_immutable()`,
		}
	} else {
		same := make([]string, len(invoiceContent))
		for i, c := range invoiceContent {
			same[i] = fmt.Sprintf("NEW.%s IS OLD.%s", c, c)
		}
		stmts = []string{
			`CREATE TRIGGER invoices_no_delete BEFORE DELETE ON invoices WHEN OLD.state <> 'draft'
BEGIN SELECT RAISE(ABORT, 'an issued invoice cannot be deleted'); END`,
			`CREATE TRIGGER invoices_no_update BEFORE UPDATE ON invoices WHEN OLD.state <> 'draft' AND NOT (
	OLD.state = 'issued' AND ((NEW.state = 'paid' AND NEW.paid_at IS NOT NULL AND NEW.cancelled_at IS NULL)
		OR (NEW.state = 'cancelled' AND NEW.cancelled_at IS NOT NULL AND NEW.paid_at IS NULL))
	AND ` + strings.Join(same, " AND ") + `)
BEGIN SELECT RAISE(ABORT, 'an issued invoice cannot be changed'); END`,
			`CREATE TRIGGER invoice_lines_no_insert BEFORE INSERT ON invoice_lines
WHEN (SELECT state FROM invoices WHERE id = NEW.invoice_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'lines of an issued invoice cannot be changed'); END`,
			`CREATE TRIGGER invoice_lines_no_update BEFORE UPDATE ON invoice_lines
WHEN (SELECT state FROM invoices WHERE id = OLD.invoice_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'lines of an issued invoice cannot be changed'); END`,
			`CREATE TRIGGER invoice_lines_no_delete BEFORE DELETE ON invoice_lines
WHEN (SELECT state FROM invoices WHERE id = OLD.invoice_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'lines of an issued invoice cannot be changed'); END`,
			`CREATE TRIGGER invoice_documents_no_update BEFORE UPDATE ON invoice_documents
BEGIN SELECT RAISE(ABORT, 'a stored invoice document cannot be changed'); END`,
			`CREATE TRIGGER invoice_documents_no_delete BEFORE DELETE ON invoice_documents
WHEN (SELECT state FROM invoices WHERE id = OLD.invoice_id) <> 'draft'
BEGIN SELECT RAISE(ABORT, 'a stored invoice document cannot be deleted'); END`,
		}
	}
	for _, s := range stmts {
		if err := tx.Exec(expandDDL(s, d)).Error; err != nil {
			return fmt.Errorf("%s: %w", firstWords(s, 4), err)
		}
	}
	return nil
}
