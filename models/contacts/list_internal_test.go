package contacts

import (
	"reflect"
	"testing"

	"github.com/optline/optline/models"
)

func TestDollarArgs(t *testing.T) {
	t.Parallel()
	q, args := models.DollarArgs("a = ? AND t IN ? AND u IN ? AND b = ? LIMIT ?", []any{int64(1), []string{"x", "y"}, []string{}, []byte("raw"), 5})
	if want := "a = $1 AND t IN ($2,$3) AND u IN (NULL) AND b = $4 LIMIT $5"; q != want {
		t.Errorf("sql = %q, want %q", q, want)
	}
	if want := []any{int64(1), "x", "y", []byte("raw"), 5}; !reflect.DeepEqual(args, want) {
		t.Errorf("args = %#v, want %#v", args, want)
	}
}
