package handlers

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/imports"
	"github.com/optline/optline/views"
	"github.com/optline/optline/web"
)

// stalledLong is how long after its run stopped a stalled import is
// past the resume loop's promise (models.WorkStale + jobs.ResumeEvery and
// a fetch): the page then stops promising seconds.
const stalledLong = models.WorkStale + time.Minute

// repeatsShown is how many repeated numbers the result lists.
const repeatsShown = 20

// showProgress is an import's live progress, and its result once ended.
func (ih *importsHandler) showProgress(c echo.Context) error {
	tn, imp, err := ih.load(c)
	if err != nil {
		return err
	}
	if imp.NeedsMapping() {
		return redirect(c, "/contacts/imports/"+strconv.FormatInt(imp.ID, 10)+"/mapping")
	}
	p := web.NewPage(c, "imports.progress.title", "contacts")
	vm := views.ImportProgressVM{Import: imp, Progress: ih.progressOf(c, imp), Consent: consentText(c, imp),
		Policy: t(c, views.ImportKey("policy", string(imp.Policy))), Size: sizeText(c, imp.FileSize), Region: regionLabel(c, imp.Settings.Region)}
	vm.ContactsURL = "/contacts"
	if imp.Imported+imp.Updated > 0 {
		vm.ContactsURL, vm.ContactsOfImport = "/contacts?import="+strconv.FormatInt(imp.ID, 10), true
	}
	if imp.Finished() && imp.Duplicates > 0 {
		var repeats []imports.RepeatedNumber
		if repeats, vm.RepeatsMore, err = imports.Repeats(c.Request().Context(), tn, imp, repeatsShown); err != nil {
			return err
		}
		for _, r := range repeats {
			vm.Repeats = append(vm.Repeats, views.RepeatRow{Phone: importer.DisplayPhone(r.Phone), Rows: r.Rows})
		}
	}
	return web.Render(c, http.StatusOK, views.ImportProgressPage(p, vm))
}

// progressJSON is what the progress page's script polls every second.
func (ih *importsHandler) progressJSON(c echo.Context) error {
	_, imp, err := ih.load(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ih.progressOf(c, imp))
}

// progressOf computes the shown progress: rows done of the total counted
// at upload (estimated from bytes if unknown), the counters, the rate
// since the start and the time left at that rate.
func (ih *importsHandler) progressOf(c echo.Context, imp *imports.Import) views.ImportProgress {
	l := web.LocaleFrom(c.Request().Context())
	now := ih.s.DB.Now()
	done, total := imp.RowsDone, imp.RowsTotal
	if total == 0 && imp.BytesDone > 0 {
		total = int64(float64(done) * float64(imp.BytesTotal) / float64(imp.BytesDone))
	}
	total = max(total, done)
	pct := 0
	if total > 0 {
		pct = int(done * 100 / total)
	}
	if imp.Status == imports.ImportDone {
		pct = 100
	}
	out := views.ImportProgress{Status: imp.Status, Finished: imp.Finished(), Percent: pct, Text: map[string]string{
		"status_text": t(c, views.ImportKey("status", imp.Status)),
		"rows_text":   t(c, "imports.progress.rows", l.Int(done), l.Int(total), pct),
		"rate":        "–",
		"eta":         "–",
		"note":        "",
	}}
	for name, n := range map[string]int64{"imported": imp.Imported, "updated": imp.Updated, "skipped": imp.Skipped,
		"suppressed": imp.Suppressed, "failed": imp.Failed, "duplicates": imp.Duplicates} {
		out.Text[name] = l.Int(n)
	}
	// A running import whose run shows no sign of life (its heartbeat
	// stopped: the portal restarted) has no time left to estimate; the
	// page says what happens instead.
	stalled, since := imp.Stalled(now)
	out.Stalled = stalled
	if imp.StartedAt != nil && imp.ProgressAt != nil && done > 0 {
		if secs := imp.ProgressAt.Sub(*imp.StartedAt).Seconds(); secs > 0 {
			rate := float64(done) / secs
			out.Text["rate"] = t(c, "imports.progress.rate", l.Int(int64(math.Round(rate))))
			if !out.Finished && !stalled && total > done {
				out.Text["eta"] = etaText(c, time.Duration(float64(total-done)/rate*float64(time.Second)))
			}
		}
	}
	switch {
	case stalled && since > stalledLong:
		out.Text["note"] = t(c, "imports.progress.stalled_long")
	case stalled:
		out.Text["note"] = t(c, "imports.progress.resuming")
	case imp.Status == imports.ImportQueued:
		out.Text["note"] = t(c, "imports.progress.queued_note")
	}
	return out
}

func etaText(c echo.Context, d time.Duration) string {
	switch {
	case d < time.Minute:
		return t(c, "imports.progress.eta_seconds")
	case d < time.Hour:
		return t(c, "imports.progress.eta_minutes", int(math.Ceil(d.Minutes())))
	}
	return t(c, "imports.progress.eta_hours", int(d.Hours()), int(d.Minutes())%60)
}

// consentText says where the import's opt-in evidence came from.
func consentText(c echo.Context, imp *imports.Import) string {
	l := web.LocaleFrom(c.Request().Context())
	switch imp.Settings.ConsentMode {
	case imports.ConsentFromColumns:
		return t(c, "imports.details.consent_columns")
	case imports.ConsentFromDeclaration:
		if imp.ConsentAt == nil || imp.ConsentConfirmedAt == nil {
			break
		}
		return t(c, "imports.details.consent_declared", t(c, views.ImportKey("source", imp.ConsentSource)), l.Date(*imp.ConsentAt, imp.Location()),
			imp.ConsentConfirmedBy, l.DateTime(*imp.ConsentConfirmedAt, nil))
	case imports.ConsentFromNone:
		return t(c, "imports.details.consent_none")
	}
	return "–"
}

func sizeText(c echo.Context, n int64) string {
	l := web.LocaleFrom(c.Request().Context())
	switch {
	case n < 1<<20:
		return t(c, "imports.details.kb", l.Int((n+1023)>>10))
	case n%(1<<20) == 0:
		return t(c, "imports.details.mb", l.Int(n>>20))
	}
	return t(c, "imports.details.mb", l.Decimal((n*10+(1<<19))>>20, 1))
}
