package contactimport

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/imports"
)

// Start queues a checked import: it stores the plan and consent
// declaration, marks the import queued and enqueues its job, all in one
// transaction — the import is queued exactly when its job exists. A
// second confirmation (a double click) gets models.ErrConflict.
func (e *Engine) Start(ctx context.Context, tn models.Tenant, id int64, c imports.Checked, by *models.User) (*imports.Import, error) {
	var imp *imports.Import
	err := tn.Tx(ctx, func(tx models.Tenant) error {
		var err error
		if imp, err = imports.Queue(ctx, tx, id, c, by, e.BatchSizeFor()); err != nil {
			return err
		}
		g, _ := tx.InTx()
		_, err = e.Queue.InsertTx(ctx, g, ImportArgs{ImportID: id, BusinessID: tn.BusinessID()}, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("start import %d: %w", id, err)
	}
	return imp, nil
}

// DepsFor are the engine's collaborators on db: the database as its store
// and clock, files for the uploads, q for its jobs.
func DepsFor(db *models.DB, files blobstore.Store, q Queue, log *slog.Logger) Deps {
	return Deps{Store: dbStore{db}, Files: files, Queue: q, Log: log,
		Now:            func() time.Time { return db.Now() },
		ParallelWrites: db.Dialect == models.Postgres}
}

// dbStore is the engine's Store on the database: the imports and
// contacts domains' cross-business operations.
type dbStore struct{ db *models.DB }

func (s dbStore) Tenant(businessID int64) (models.Tenant, error) { return s.db.Tenant(businessID) }

func (s dbStore) StalledImportRuns(ctx context.Context, before time.Time, limit int) ([]models.StalledWork, error) {
	return imports.StalledRuns(ctx, s.db, before, limit)
}

func (s dbStore) StalledImports(ctx context.Context, before time.Time, limit int) ([]imports.Import, error) {
	return imports.Stuck(ctx, s.db, before, limit)
}

func (s dbStore) AbandonedUploads(ctx context.Context, before time.Time, limit int) ([]imports.Import, error) {
	return imports.AbandonedUploads(ctx, s.db, before, limit)
}

func (s dbStore) RefreshContactStats(ctx context.Context) error {
	return contacts.RefreshStats(ctx, s.db)
}
