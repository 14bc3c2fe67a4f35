package imports

import (
	"context"
	"errors"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"gorm.io/gorm"

	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
)

// Import statuses. An import moves uploaded -> (mapping) -> queued ->
// running -> done | failed; it can be cancelled until it has finished.
const (
	ImportUploaded  = "uploaded"  // file stored and checked; columns not yet confirmed
	ImportMapping   = "mapping"   // the user has started mapping (a draft is saved)
	ImportQueued    = "queued"    // confirmed; waiting for the job queue
	ImportRunning   = "running"   // the job is working through the file
	ImportDone      = "done"      // every row handled
	ImportFailed    = "failed"    // stopped by a problem with the file (see Error)
	ImportCancelled = "cancelled" // stopped by a user; rows already imported stay
)

// Consent modes of an import: where opt-in evidence comes from.
const (
	ConsentFromColumns     = "columns"     // opt-in date and source columns of each row
	ConsentFromDeclaration = "declaration" // one confirmed declaration for the whole file
	ConsentFromNone        = "none"        // no evidence: contacts are not messageable
)

// ImportConsentSources are the opt-in sources a whole-file declaration
// may name.
var ImportConsentSources = []string{"web_form", "checkout", "in_store", "chat", "phone", "paper"}

// Import is one uploaded contact file and its way through the import job.
type Import struct {
	ID            int64
	BusinessID    int64
	CreatedByID   *int64
	CreatedByName string
	FileName      string
	FileKey       string // blob store key of the uploaded file
	FileSize      int64
	FileSHA256    string           `gorm:"column:file_sha256"`
	Status        string           // one of the Import* statuses
	Format        importer.Format  `gorm:"serializer:json"`
	Headers       []string         `gorm:"serializer:json"`
	Mapping       importer.Mapping `gorm:"serializer:json"`
	Settings      ImportSettings   `gorm:"serializer:json"`
	Policy        contacts.DuplicatePolicy
	// The whole-file consent declaration (consent mode "declaration").
	ConsentSource        string
	ConsentAt            *time.Time
	ConsentConfirmedByID *int64
	ConsentConfirmedBy   string
	ConsentConfirmedAt   *time.Time
	// RowsTotal is the number of data rows counted when the file was
	// checked; RowsDone the checkpoint (rows handled through the last
	// committed batch). Every handled row is counted once in Imported,
	// Updated, Skipped, Suppressed, Failed, Duplicates or Blank.
	RowsTotal  int64
	RowsDone   int64
	Imported   int64
	Updated    int64
	Skipped    int64
	Suppressed int64
	Failed     int64
	Duplicates int64 // rows repeating a number seen earlier in the import, merged into that contact
	Blank      int64
	// Messageable is how many of the contacts the import wrote were opted
	// in when it finished (nil for imports finished before schema 7).
	Messageable *int64
	// Landlines is how many of the contacts the import wrote look like
	// landlines (Contact.Landline), counted with Messageable, which leaves
	// them out (nil for imports finished before schema 9).
	Landlines  *int64
	BytesDone  int64
	BytesTotal int64
	Error      string // why a failed import stopped, shown to the user
	CreatedAt  time.Time
	UpdatedAt  time.Time
	QueuedAt   *time.Time
	StartedAt  *time.Time
	ProgressAt *time.Time // when the checkpoint last moved
	FinishedAt *time.Time
	// LeaseToken names the job run working the import ("" when none);
	// HeartbeatAt is when that run last said it is alive (schema 8, see
	// Lease).
	LeaseToken  string
	HeartbeatAt *time.Time
}

// ImportSettings are an import's choices besides the column mapping.
type ImportSettings struct {
	Region      string `json:"region"`                 // default country of numbers without +
	ConsentMode string `json:"consent_mode,omitempty"` // one of the ConsentFrom* modes
	TimeZone    string `json:"time_zone,omitempty"`    // zone of dates without one (the business's)
	// BatchSize is fixed when the import is queued: resumed runs must cut
	// the file into the same batches for the batch ledger to recognise
	// a batch applied before a restart.
	BatchSize int `json:"batch_size,omitempty"`
}

// Counted is the number of rows the counters account for.
func (i *Import) Counted() int64 {
	return i.Imported + i.Updated + i.Skipped + i.Suppressed + i.Failed + i.Duplicates + i.Blank
}

// NeedsMapping reports whether the import waits for its column mapping.
func (i *Import) NeedsMapping() bool { return i.Status == ImportUploaded || i.Status == ImportMapping }

// Active reports whether the import is queued or running.
func (i *Import) Active() bool { return i.Status == ImportQueued || i.Status == ImportRunning }

// Finished reports whether the import has ended (done, failed or cancelled).
func (i *Import) Finished() bool {
	return i.Status == ImportDone || i.Status == ImportFailed || i.Status == ImportCancelled
}

// Location is the time zone for dates without one.
func (i *Import) Location() *time.Location {
	if i.Settings.TimeZone != "" {
		if loc, err := time.LoadLocation(i.Settings.TimeZone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// ImporterDefaults are the per-row defaults the importer applies: the
// default country, the time zone and, for a declared import, the
// whole-file consent.
func (i *Import) ImporterDefaults(now time.Time) importer.Defaults {
	d := importer.Defaults{Region: i.Settings.Region, Location: i.Location(), Now: now}
	if i.Settings.ConsentMode == ConsentFromDeclaration && i.ConsentAt != nil && i.ConsentSource != "" {
		d.Consent = &importer.Consent{Source: i.ConsentSource, At: *i.ConsentAt}
	}
	return d
}

// ValidImportRegion reports whether region is a country whose phone
// numbering the importer knows.
func ValidImportRegion(region string) bool {
	return models.ValidCountry(region) && phonenumbers.GetCountryCodeForRegion(region) != 0
}

// ImportOptions are the choices of the upload form, as typed.
type ImportOptions struct {
	Region    string // ISO country, e.g. "DE"
	Policy    string // update | skip
	Encoding  string // "" (detect), utf-8, windows-1252, utf-16
	Delimiter string // "" (detect), comma, semicolon, tab, pipe
}

var delimiters = map[string]rune{"comma": ',', "semicolon": ';', "tab": '\t', "pipe": '|'}

// DelimiterName is the form value of a delimiter ("" when unknown).
func DelimiterName(d rune) string {
	for k, v := range delimiters {
		if v == d {
			return k
		}
	}
	return ""
}

// Check validates the options (fields region, policy, encoding,
// delimiter) and returns the format override they ask for: zero parts
// mean "detect".
func (o ImportOptions) Check() (importer.Format, contacts.DuplicatePolicy, error) {
	v := &models.ValidationError{}
	var f importer.Format
	if !ValidImportRegion(o.Region) {
		v.Add("region", "imports.region_invalid")
	}
	p := contacts.DuplicatePolicy(o.Policy)
	if p != contacts.DuplicateUpdate && p != contacts.DuplicateSkip {
		v.Add("policy", "imports.policy_invalid")
	}
	switch e := importer.Encoding(o.Encoding); e {
	case "":
	case importer.UTF8, importer.Windows1252, importer.UTF16:
		f.Encoding = e
	default:
		v.Add("encoding", "imports.encoding_invalid")
	}
	if o.Delimiter != "" {
		d, ok := delimiters[o.Delimiter]
		if !ok {
			v.Add("delimiter", "imports.delimiter_invalid")
		}
		f.Delimiter = d
	}
	return f, p, v.Err()
}

// NewImport is a stored and checked upload, ready for mapping.
type NewImport struct {
	By        *models.User
	FileName  string
	FileKey   string
	FileSize  int64
	SHA256    string
	Format    importer.Format // as detected or chosen
	Headers   []string
	Mapping   importer.Mapping // proposed by importer.DetectMapping
	Region    string
	Policy    contacts.DuplicatePolicy
	TimeZone  string
	RowsTotal int64
}

// CleanFileName keeps the last path element of an uploaded file's name,
// without control characters, at most 200 characters.
func CleanFileName(name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	name = path.Base(strings.TrimSpace(name))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(name, ""))
	if name == "." || name == "/" || name == "" {
		name = "contacts.csv"
	}
	if utf8.RuneCountInString(name) > 200 {
		name = string([]rune(name)[:200])
	}
	return name
}

// Create records an uploaded file.
func Create(ctx context.Context, t models.Tenant, in NewImport) (*Import, error) {
	if err := t.Check(); err != nil {
		return nil, models.Wrap("imports.Create", err)
	}
	now := t.DB().Now()
	imp := &Import{BusinessID: t.BusinessID(), FileName: CleanFileName(in.FileName), FileKey: in.FileKey, FileSize: in.FileSize,
		FileSHA256: in.SHA256, Status: ImportUploaded, Format: in.Format, Headers: in.Headers, Mapping: in.Mapping,
		Settings: ImportSettings{Region: in.Region, TimeZone: in.TimeZone}, Policy: in.Policy,
		RowsTotal: in.RowsTotal, BytesTotal: in.FileSize, CreatedAt: now, UpdatedAt: now}
	if imp.Headers == nil {
		imp.Headers = []string{}
	}
	if in.By != nil {
		imp.CreatedByID, imp.CreatedByName = &in.By.ID, in.By.Name
	}
	if err := t.DB().WithContext(ctx).Create(imp).Error; err != nil {
		return nil, models.Wrap("imports.Create", err)
	}
	return imp, nil
}

// Get loads one import of this business (ErrNotFound for another
// business's import).
func Get(ctx context.Context, t models.Tenant, id int64) (*Import, error) {
	var imp Import
	if err := t.First(ctx, &imp, id); err != nil {
		return nil, models.Wrap("imports.Get", err)
	}
	return &imp, nil
}

// List lists the business's imports, newest first.
func List(ctx context.Context, t models.Tenant, limit int) ([]Import, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	var out []Import
	err := t.Scoped(ctx).Order("id DESC").Limit(limit).Find(&out).Error
	return out, models.Wrap("imports.List", err)
}

// Cancel stops an import that has not finished. Rows already
// imported stay; a running job notices within one batch. It returns the
// status the import had, or ErrConflict when it had already finished.
func Cancel(ctx context.Context, t models.Tenant, id int64, by *models.User) (string, error) {
	var before string
	err := t.DB().Tx(ctx, func(tx *gorm.DB) error {
		var imp Import
		if err := t.ScopedTx(tx).Select("id, status").First(&imp, "id = ?", id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return models.ErrNotFound
		} else if err != nil {
			return err
		}
		before = imp.Status
		if imp.Finished() {
			return models.ErrConflict
		}
		now := t.DB().Now()
		res := t.ScopedTx(tx.Session(&gorm.Session{NewDB: true})).Model(&Import{}).
			Where("id = ? AND status IN ?", id, []string{ImportUploaded, ImportMapping, ImportQueued, ImportRunning}).
			Updates(map[string]any{"status": ImportCancelled, "finished_at": now, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return models.ErrConflict
		}
		e := models.AuditEntry{ActorEmail: "system", BusinessID: t.BusinessID(), Action: "import.cancelled", TargetType: "import", TargetID: models.Itoa(id), Detail: "was " + before}
		if by != nil {
			e.ActorID, e.ActorEmail = by.ID, by.Email
		}
		return models.WriteAudit(tx, now, e)
	})
	return before, models.Wrap("imports.Cancel", err)
}
