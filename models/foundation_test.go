package models_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/dbtest"
)

func TestTenantRefusesZeroBusiness(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	if _, err := db.Tenant(0); !errors.Is(err, models.ErrNoTenant) {
		t.Fatalf("Tenant(0) = %v", err)
	}
	var zero models.Tenant
	var n int64
	err := zero.ScopedTx(db.WithContext(context.Background())).Table("memberships").Count(&n).Error
	if !errors.Is(err, models.ErrNoTenant) {
		t.Fatalf("zero Tenant query ran unscoped: err=%v", err)
	}
}

func TestMigrateIsIdempotentAndKeepsRows(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	ctx := context.Background()
	if _, _, err := db.SignUp(ctx, models.SignUpInput{BusinessName: "Keep", NewUserInput: models.NewUserInput{Name: "K", Email: "k@example.com", Password: "long enough pw"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, dbtest.Quiet); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil || v != models.LatestVersion() {
		t.Fatalf("version %d (%v), latest %d", v, err, models.LatestVersion())
	}
	if _, err := db.UserByEmail(ctx, "k@example.com"); err != nil {
		t.Fatalf("row lost after re-migrate: %v", err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	ctx := context.Background()
	if err := db.WithContext(ctx).Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', ?)`, models.LatestVersion()+1, time.Now()).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, dbtest.Quiet); !errors.Is(err, models.ErrSchemaTooNew) {
		t.Fatalf("Migrate on newer schema = %v", err)
	}
}

func TestSignUpValidation(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	ctx := context.Background()
	_, _, err := db.SignUp(ctx, models.SignUpInput{BusinessName: "", NewUserInput: models.NewUserInput{Name: "x\u202ey", Email: "not-an-email", Password: "short"}})
	v, ok := models.AsValidation(err)
	if !ok {
		t.Fatalf("want validation error, got %v", err)
	}
	want := map[string]string{"business_name": "field.required", "name": "field.control_chars", "email": "email.invalid", "password": "password.too_short"}
	for _, p := range v.Problems {
		if want[p.Field] != p.Key {
			t.Errorf("%s: got %s, want %s", p.Field, p.Key, want[p.Field])
		}
		delete(want, p.Field)
	}
	if len(want) != 0 {
		t.Errorf("missing problems: %v", want)
	}
	in := models.SignUpInput{BusinessName: "Dup", NewUserInput: models.NewUserInput{Name: "D", Email: "Dup@Example.com", Password: "long enough pw"}}
	if _, _, err := db.SignUp(ctx, in); err != nil {
		t.Fatal(err)
	}
	in.Email = "dup@example.com "
	_, _, err = db.SignUp(ctx, in)
	if v, ok := models.AsValidation(err); !ok || v.Problems[0].Key != "email.taken" {
		t.Fatalf("duplicate email: %v", err)
	}
}

func TestConcurrentInvitationAcceptanceWorksOnce(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	ctx := context.Background()
	u, b, err := db.SignUp(ctx, models.SignUpInput{BusinessName: "Race", NewUserInput: models.NewUserInput{Name: "R", Email: "r@example.com", Password: "long enough pw"}})
	if err != nil {
		t.Fatal(err)
	}
	tn, _ := db.Tenant(b.ID)
	_, token, err := tn.Invite(ctx, u, "invitee@example.com", models.RoleStaff, "")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := db.AcceptInvitation(ctx, token, models.NewUserInput{Name: "I", Password: "long enough pw"}); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("invitation accepted %d times", ok)
	}
	members, _ := tn.Members(ctx)
	if len(members) != 2 {
		t.Fatalf("members %d", len(members))
	}
}

func TestAuditFilterWithUnderscore(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	ctx := context.Background()
	for _, a := range []string{"member.role_changed", "member.removed", "memberXrole_changed"} {
		if err := db.Audit(ctx, models.AuditEntry{ActorEmail: "x", Action: a}); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := db.AuditLog(ctx, models.AuditFilter{Action: "member.role_"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Action != "member.role_changed" {
		t.Fatalf("filter by member.role_ = %+v", evs)
	}
}

// A tenant from Tenant.Tx sees and writes inside the transaction, and
// everything it did is gone when fn fails.
func TestTenantTxBindsQueriesToTheTransaction(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	ctx := context.Background()
	_, biz, err := db.SignUp(ctx, models.SignUpInput{BusinessName: "Tx", NewUserInput: models.NewUserInput{Name: "T", Email: "tx@example.com", Password: "long enough pw"}})
	if err != nil {
		t.Fatal(err)
	}
	tn, _ := db.Tenant(biz.ID)
	boom := errors.New("boom")
	err = tn.Tx(ctx, func(tx models.Tenant) error {
		if err := tx.Gorm(ctx).Table("businesses").Where("id = ?", biz.ID).Update("name", "Renamed").Error; err != nil {
			return err
		}
		var name string
		if err := tx.Gorm(ctx).Table("businesses").Where("id = ?", biz.ID).Select("name").Scan(&name).Error; err != nil || name != "Renamed" {
			t.Errorf("inside the transaction the tenant reads %q (%v)", name, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v", err)
	}
	b, err := tn.Business(ctx)
	if err != nil || b.Name != "Tx" {
		t.Fatalf("after rollback the business is %+v (%v)", b, err)
	}
}

// A wrapped error names its operation and still is the domain error.
func TestWrapNamesTheOperationAndKeepsTheError(t *testing.T) {
	t.Parallel()
	if models.Wrap("profiles.Save", nil) != nil {
		t.Fatal("Wrap made an error out of nil")
	}
	err := models.Wrap("profiles.Save", models.Wrap("lockProfile", models.ErrNotFound))
	if !errors.Is(err, models.ErrNotFound) || err.Error() != "profiles.Save: lockProfile: not found" {
		t.Fatalf("wrapped: %v", err)
	}
}
