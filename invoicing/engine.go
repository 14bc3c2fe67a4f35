// Package invoicing is the month-end: it charges delivered messages onto
// usage records, builds each business's invoice for a calendar month
// after it ends (in the business's time zone), issues it with the next
// gapless number and stores its documents (package invoicedoc).
package invoicing

import (
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/optline/optline/jobs"
	"github.com/optline/optline/models"
)

// Deps is what the month-end uses.
type Deps struct {
	DB    *models.DB
	Queue *jobs.Queue
	Log   *slog.Logger
	// Now is the clock (default the database's).
	Now func() time.Time
}

// Engine runs charging and invoicing.
type Engine struct{ d Deps }

// New is the month-end engine.
func New(d Deps) *Engine { return &Engine{d: d} }

// AddWorkers adds the engine's workers (jobs.Area).
func (e *Engine) AddWorkers(w *river.Workers) {}

// PeriodicJobs are the engine's scheduled jobs (jobs.Area).
func (e *Engine) PeriodicJobs() []*river.PeriodicJob { return nil }
