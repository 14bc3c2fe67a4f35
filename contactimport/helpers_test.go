package contactimport_test

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/optline/optline/blobstore"
	"github.com/optline/optline/contactimport"
	"github.com/optline/optline/importer"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/contacts"
	"github.com/optline/optline/models/dbtest"
	"github.com/optline/optline/models/imports"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// fx is one database with a file store and an import engine.
type fx struct {
	t     *testing.T
	db    *models.DB
	files blobstore.Store
	eng   *contactimport.Engine
	clock *dbtest.Clock
}

var userSeq atomic.Int64

func newFx(t *testing.T) *fx {
	t.Helper()
	db := dbtest.Open(t)
	clock := dbtest.NewClock()
	db.Now = clock.Now
	files := blobstore.NewLocal(t.TempDir())
	eng := contactimport.New(contactimport.DepsFor(db, files, nil, dbtest.Quiet), contactimport.Options{Workers: 2})
	return &fx{t: t, db: db, files: files, eng: eng, clock: clock}
}

// sub is the fixture for a subtest: same database, own engine.
func (f *fx) sub(t *testing.T) *fx {
	eng := contactimport.New(contactimport.DepsFor(f.db, f.files, nil, dbtest.Quiet), contactimport.Options{Workers: 2})
	return &fx{t: t, db: f.db, files: f.files, eng: eng, clock: f.clock}
}

// business signs up a business and returns its scope and owner.
func (f *fx) business(name string) (models.Tenant, *models.User) {
	f.t.Helper()
	n := userSeq.Add(1)
	u, b, err := f.db.SignUp(context.Background(), models.SignUpInput{BusinessName: name,
		NewUserInput: models.NewUserInput{Name: "Owner " + name, Email: fmt.Sprintf("owner%d@example.com", n), Password: "correct horse battery"}})
	if err != nil {
		f.t.Fatalf("sign up: %v", err)
	}
	tn, err := f.db.Tenant(b.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return tn, u
}

// upload stores content and records it as an uploaded import, as the
// upload handler does.
func (f *fx) upload(tn models.Tenant, u *models.User, name string, content []byte, format importer.Format) *imports.Import {
	f.t.Helper()
	ctx := context.Background()
	key := blobstore.NewKey(fmt.Sprintf("imports/%d", tn.BusinessID()), ".csv")
	if _, err := f.files.Put(ctx, key, bytes.NewReader(content)); err != nil {
		f.t.Fatal(err)
	}
	a, err := contactimport.Analyze(ctx, bytes.NewReader(content), format, importer.Limits{})
	if err != nil {
		f.t.Fatalf("analyze %s: %v", name, err)
	}
	imp, err := imports.Create(ctx, tn, imports.NewImport{By: u, FileName: name, FileKey: key, FileSize: int64(len(content)),
		Format: a.Format, Headers: a.Header, Mapping: a.Mapping, Region: "DE", Policy: contacts.DuplicateUpdate, TimeZone: "Europe/Berlin", RowsTotal: int64(a.Rows)})

	if err != nil {
		f.t.Fatal(err)
	}
	return imp
}

// plan is the detected mapping with the given settings.
func plan(imp *imports.Import, policy contacts.DuplicatePolicy, mode string) imports.ImportPlan {
	p := imports.ImportPlan{Region: "DE", Policy: string(policy), ConsentMode: mode}
	for _, c := range imp.Mapping.Columns {
		p.Fields = append(p.Fields, c.Field)
		p.AttrKeys = append(p.AttrKeys, c.AttrKey)
	}
	return p
}

// queue confirms the plan as the mapping page does.
func (f *fx) queue(tn models.Tenant, u *models.User, imp *imports.Import, p imports.ImportPlan) *imports.Import {
	f.t.Helper()
	chk, err := p.Check(imp.Headers, f.db.Now(), imp.Location())
	if err != nil {
		f.t.Fatalf("plan: %v", err)
	}
	q, err := imports.Queue(context.Background(), tn, imp.ID, chk, u, f.eng.BatchSizeFor())
	if err != nil {
		f.t.Fatalf("queue: %v", err)
	}
	return q
}

// run works slices until the import ends and returns it.
func (f *fx) run(tn models.Tenant, id int64) *imports.Import {
	f.t.Helper()
	args := contactimport.ImportArgs{ImportID: id, BusinessID: tn.BusinessID()}
	for i := 0; ; i++ {
		out, err := f.eng.RunSlice(context.Background(), args)
		if err != nil {
			f.t.Fatalf("slice %d: %v", i, err)
		}
		if out == contactimport.Finished {
			break
		}
		if i > 10000 {
			f.t.Fatal("import does not end")
		}
	}
	return f.load(tn, id)
}

func (f *fx) load(tn models.Tenant, id int64) *imports.Import {
	f.t.Helper()
	imp, err := imports.Get(context.Background(), tn, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return imp
}

// importFile runs a whole import of content with the detected mapping.
func (f *fx) importFile(tn models.Tenant, u *models.User, content []byte, format importer.Format, policy contacts.DuplicatePolicy, mode string) *imports.Import {
	f.t.Helper()
	imp := f.upload(tn, u, "contacts.csv", content, format)
	f.queue(tn, u, imp, plan(imp, policy, mode))
	return f.run(tn, imp.ID)
}

// checkCounts asserts that every handled row is counted exactly once.
func checkCounts(t *testing.T, imp *imports.Import) {
	t.Helper()
	if imp.Counted() != imp.RowsDone {
		t.Errorf("counts %d (imported %d, updated %d, skipped %d, suppressed %d, failed %d, repeated %d, blank %d) != rows done %d",
			imp.Counted(), imp.Imported, imp.Updated, imp.Skipped, imp.Suppressed, imp.Failed, imp.Duplicates, imp.Blank, imp.RowsDone)
	}
	if imp.Status == imports.ImportDone && imp.RowsDone != imp.RowsTotal {
		t.Errorf("done with %d of %d rows", imp.RowsDone, imp.RowsTotal)
	}
}

// book is a business's contacts as comparable text, one line each.
func (f *fx) book(tn models.Tenant) []string {
	f.t.Helper()
	var rows []struct {
		ID           int64
		Phone        string
		Name         string
		Email        string
		ConsentState string
		OptedInAt    *time.Time
		OptInSource  string
		Attrs        string
	}
	if err := f.db.Gorm.Raw(`SELECT id, phone, name, email, consent_state, opted_in_at, opt_in_source, attrs FROM contacts WHERE business_id = ? ORDER BY phone`,
		tn.BusinessID()).Scan(&rows).Error; err != nil {
		f.t.Fatal(err)
	}
	var tags []struct {
		ContactID int64
		Tag       string
	}
	if err := f.db.Gorm.Raw(`SELECT contact_id, tag FROM contact_tags WHERE business_id = ? ORDER BY tag`, tn.BusinessID()).Scan(&tags).Error; err != nil {
		f.t.Fatal(err)
	}
	byContact := map[int64][]string{}
	for _, tg := range tags {
		byContact[tg.ContactID] = append(byContact[tg.ContactID], tg.Tag)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		in := ""
		if r.OptedInAt != nil {
			in = r.OptedInAt.UTC().Format(time.RFC3339)
		}
		attrs := strings.ReplaceAll(r.Attrs, " ", "")
		out[i] = strings.Join([]string{r.Phone, r.Name, r.Email, r.ConsentState, in, r.OptInSource, attrs, strings.Join(byContact[r.ID], "|")}, "\t")
	}
	sort.Strings(out)
	return out
}

func (f *fx) contact(tn models.Tenant, phone string) *contacts.Contact {
	f.t.Helper()
	c, err := contacts.ByPhone(context.Background(), tn, phone)
	if err != nil {
		f.t.Fatalf("contact %s: %v", phone, err)
	}
	return c
}

// report returns an import's error report.
func (f *fx) report(tn models.Tenant, imp *imports.Import) string {
	f.t.Helper()
	var b bytes.Buffer
	if err := contactimport.WriteReport(context.Background(), &b, tn, imp); err != nil {
		f.t.Fatal(err)
	}
	return b.String()
}
