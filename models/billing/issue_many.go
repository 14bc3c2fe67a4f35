package billing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/optline/optline/invoicedoc"
	"github.com/optline/optline/models"
)

// IssueMany issues the invoice drafts among ids in one transaction: it
// takes consecutive numbers for all of them at once under the series
// lock, renders their documents on every core, and stores everything
// before it commits. Either all of them are issued or none is (and no
// number is used); the month-end falls back to Issue one by one when a
// chunk fails. Credit notes and invoices no longer drafts are left out.
func IssueMany(ctx context.Context, db *models.DB, ids []int64, now time.Time) (issued int, err error) {
	if len(ids) == 0 {
		return 0, nil
	}
	s, err := Settings(ctx, db)
	if err != nil {
		return 0, models.Wrap("billing.IssueMany", err)
	}
	if !s.Complete() {
		return 0, ErrIssuerIncomplete
	}
	if Documents.PDF == nil || Documents.XML == nil {
		return 0, ErrNoRenderer
	}
	now = now.UTC()
	err = db.Tx(ctx, func(tx *gorm.DB) error {
		var invs []*Invoice
		for _, id := range ids {
			inv, err := lockedInvoice(tx, db.Dialect, id)
			if err != nil {
				return err
			}
			if inv.State == Draft && inv.Kind == KindInvoice {
				invs = append(invs, inv)
			}
		}
		if len(invs) == 0 {
			return nil
		}
		year := now.In(IssuerZone).Year()
		if err := tx.Exec(`INSERT INTO invoice_series (kind, year, last_number) VALUES (?, ?, 0) ON CONFLICT (kind, year) DO NOTHING`, KindInvoice, year).Error; err != nil {
			return err
		}
		var last int64
		if err := tx.Raw(`UPDATE invoice_series SET last_number = last_number + ? WHERE kind = ? AND year = ? RETURNING last_number`,
			len(invs), KindInvoice, year).Scan(&last).Error; err != nil {
			return err
		}
		snap, _ := json.Marshal(snapshotOf(s))
		due := now.AddDate(0, 0, s.PaymentTermsDays)
		first := last - int64(len(invs)) + 1
		docs := make([]invoicedoc.Document, len(invs))
		for i, inv := range invs {
			seq := first + int64(i)
			number := FormatNumber(inv.Kind, year, seq)
			inv.State, inv.Number, inv.Series, inv.Year, inv.Seq = Issued, &number, seriesOf(inv.Kind), year, &seq
			inv.Issuer, inv.IssuedAt, inv.DueAt = string(snap), &now, &due
			d, err := ToDocument(inv, nil)
			if err != nil {
				return err
			}
			docs[i] = d
		}
		pdfs, xmls, err := renderAll(docs)
		if err != nil {
			return err
		}
		for i, inv := range invs {
			res := tx.Table("invoices").Where("id = ? AND state = ?", inv.ID, Draft).Updates(map[string]any{
				"state": Issued, "number": *inv.Number, "series": inv.Series, "year": year, "seq": *inv.Seq, "issuer": inv.Issuer,
				"issued_at": now, "due_at": due})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected != 1 {
				return ErrWrongState
			}
			rows := make([]map[string]any, 0, 2)
			for _, d := range []struct {
				kind string
				body []byte
			}{{DocPDF, pdfs[i]}, {DocXML, xmls[i]}} {
				sum := sha256.Sum256(d.body)
				rows = append(rows, map[string]any{"invoice_id": inv.ID, "kind": d.kind, "body": d.body, "sha256": hex.EncodeToString(sum[:]), "created_at": now})
			}
			if err := tx.Table("invoice_documents").Create(rows).Error; err != nil {
				return err
			}
		}
		issued = len(invs)
		return nil
	})
	if err != nil {
		return 0, models.Wrap("billing.IssueMany", err)
	}
	return issued, nil
}

// renderAll renders the documents on every core.
func renderAll(docs []invoicedoc.Document) (pdfs, xmls [][]byte, err error) {
	pdfs, xmls = make([][]byte, len(docs)), make([][]byte, len(docs))
	errs := make([]error, len(docs))
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if pdfs[i], errs[i] = Documents.PDF(docs[i]); errs[i] != nil {
					errs[i] = fmt.Errorf("render PDF of %s: %w", docs[i].Number, errs[i])
					continue
				}
				if xmls[i], errs[i] = Documents.XML(docs[i]); errs[i] != nil {
					errs[i] = fmt.Errorf("render XRechnung of %s: %w", docs[i].Number, errs[i])
				}
			}
		}()
	}
	for i := range docs {
		work <- i
	}
	close(work)
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			return nil, nil, e
		}
	}
	return pdfs, xmls, nil
}
