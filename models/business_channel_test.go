package models_test

import (
	"context"
	"sync"
	"testing"

	"github.com/optline/optline/models"
	"github.com/optline/optline/models/dbtest"
)

// A business without a sender gets its synthetic sandbox sender once, and
// incoming events find it by that id; a business with a sender keeps it;
// an administrator can replace the synthetic id with real ones.
func TestClaimSandboxSender(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t)
	ctx := context.Background()
	_, b, err := db.SignUp(ctx, models.SignUpInput{BusinessName: "Sandy", NewUserInput: models.NewUserInput{Name: "S", Email: "s@example.com", Password: "long enough pw"}})
	if err != nil {
		t.Fatal(err)
	}
	want := models.SandboxSenderID(b.ID)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, w, err := db.ClaimSandboxSender(ctx, b.ID)
			if err != nil || p != want || w != want {
				t.Errorf("claim = %q %q %v, want %q", p, w, err, want)
			}
		}()
	}
	wg.Wait()
	got, err := db.BusinessOfNumber(ctx, want)
	if err != nil || got.ID != b.ID {
		t.Fatalf("BusinessOfNumber(%q) = %v, %v", want, got, err)
	}
	if !models.IsSandboxSender(got.PhoneNumberID) {
		t.Fatalf("IsSandboxSender(%q) = false", got.PhoneNumberID)
	}

	admin, err := db.CreateAdmin(ctx, models.NewUserInput{Name: "A", Email: "a@example.com", Password: "long enough pw"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetSender(ctx, admin, b.ID, want, want, ""); err == nil {
		t.Fatal("SetSender accepted a synthetic id")
	}
	if err := db.SetSender(ctx, admin, b.ID, "1234567890", "9876543210", ""); err != nil {
		t.Fatal(err)
	}
	p, w, err := db.ClaimSandboxSender(ctx, b.ID)
	if err != nil || p != "1234567890" || w != "9876543210" {
		t.Fatalf("claim over a real sender = %q %q %v", p, w, err)
	}
	if _, _, err := db.ClaimSandboxSender(ctx, b.ID+1000); err != models.ErrNotFound {
		t.Fatalf("claim for a missing business = %v", err)
	}
}
