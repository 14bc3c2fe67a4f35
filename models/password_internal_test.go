package models

import (
	"strings"
	"testing"

	"github.com/alexedwards/argon2id"
)

// The portal hashes with RFC 9106's second recommendation, whatever the
// test suites use for speed.
func TestProductionHashParameters(t *testing.T) {
	t.Parallel()
	h, err := argon2id.CreateHash("a password", &defaultArgonParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=1,p=2$") {
		t.Fatalf("production hash parameters changed: %s", h)
	}
	if argonParams == &defaultArgonParams {
		t.Fatal("the test binary hashes with production cost: dbtest.Main should have made it cheap")
	}
}
