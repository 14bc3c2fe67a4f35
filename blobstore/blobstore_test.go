package blobstore_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/optline/optline/blobstore"
)

func TestLocalPutOpenDelete(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var st blobstore.Store = blobstore.NewLocal(filepath.Join(dir, "files"))
	key := blobstore.NewKey("photos/7", ".png")
	n, err := st.Put(ctx, key, strings.NewReader("hello"))
	if err != nil || n != 5 {
		t.Fatalf("Put = %d, %v", n, err)
	}
	f, err := st.Open(ctx, key)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if f.Size() != 5 {
		t.Errorf("Size = %d", f.Size())
	}
	if _, err := f.Seek(1, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "ello" {
		t.Errorf("read after seek = %q", b)
	}
	if _, err := st.Put(ctx, key, strings.NewReader("again")); err == nil {
		t.Error("Put over an existing key succeeded")
	}
	if err := st.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := st.Open(ctx, key); !errors.Is(err, blobstore.ErrNotFound) {
		t.Errorf("Open after Delete = %v, want ErrNotFound", err)
	}
	if err := st.Delete(ctx, key); err != nil {
		t.Errorf("Delete of a missing key = %v", err)
	}
	assertNoTemp(t, dir)
}

func TestLocalRejectsBadKeys(t *testing.T) {
	ctx := context.Background()
	st := blobstore.NewLocal(t.TempDir())
	for _, k := range []string{"", "../x", "/etc/passwd", "a/../../b", "A/B", "a//b", "a\\b", "a/b.", "a b", strings.Repeat("a", 201)} {
		if _, err := st.Put(ctx, k, strings.NewReader("x")); !errors.Is(err, blobstore.ErrBadKey) {
			t.Errorf("Put(%q) = %v, want ErrBadKey", k, err)
		}
		if _, err := st.Open(ctx, k); !errors.Is(err, blobstore.ErrBadKey) {
			t.Errorf("Open(%q) = %v, want ErrBadKey", k, err)
		}
	}
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		return 0, errors.New("disk on fire")
	}
	r.n++
	return copy(p, "partial"), nil
}

func TestLocalFailedPutLeavesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := blobstore.NewLocal(dir)
	key := blobstore.NewKey("docs/1", ".pdf")
	if _, err := st.Put(ctx, key, &failingReader{}); err == nil {
		t.Fatal("Put with a failing reader succeeded")
	}
	if _, err := st.Open(ctx, key); !errors.Is(err, blobstore.ErrNotFound) {
		t.Errorf("Open after failed Put = %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.Put(cctx, key, strings.NewReader("x")); err == nil {
		t.Error("Put with a cancelled context succeeded")
	}
	assertNoTemp(t, dir)
}

func TestNewKeyIsUniqueAndValid(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		k := blobstore.NewKey("photos/12/", ".JPG")
		if !blobstore.ValidKey(k) || seen[k] || !strings.HasPrefix(k, "photos/12/") || !strings.HasSuffix(k, ".jpg") {
			t.Fatalf("NewKey = %q", k)
		}
		seen[k] = true
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasPrefix(info.Name(), ".upload-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}
