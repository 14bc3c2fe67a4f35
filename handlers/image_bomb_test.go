package handlers_test

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/optline/optline/models/profiles"
)

// forgedPNG is a valid 1×1 PNG whose IHDR claims w × h pixels, with the
// chunk's CRC fixed so decoders believe it: a few dozen bytes that would
// need w*h*4 bytes of memory once decoded.
func forgedPNG(t *testing.T, w, h uint32) []byte {
	t.Helper()
	b := pngImage(1, 1)
	// 8-byte signature, then the IHDR chunk: length(4) "IHDR"(4) data(13) CRC(4).
	if string(b[12:16]) != "IHDR" {
		t.Fatalf("no IHDR at offset 12: %q", b[12:16])
	}
	binary.BigEndian.PutUint32(b[16:20], w)
	binary.BigEndian.PutUint32(b[20:24], h)
	binary.BigEndian.PutUint32(b[29:33], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestImageBombPhotoRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Bäckerei Kraus", "anna@kraus.example")
	c.primeCSRF("/profile")
	files := filepath.Join(a.srv.Config.DataDir, "files")
	for _, r := range []struct {
		name string
		w, h uint32
		want string
	}{
		{"30000 square", 30000, 30000, "The image is 30000 × 30000 pixels; the largest we accept is 4096 × 4096."},
		{"one side too long", 4097, 4097, "The image is 4097 × 4097 pixels; the largest we accept is 4096 × 4096."},
		{"wide strip", 100000, 200, "The image is 100000 × 200 pixels; the largest we accept is 4096 × 4096."},
	} {
		bomb := forgedPNG(t, r.w, r.h)
		p := c.upload("/profile/photo", "photo", "bomb.png", bomb)
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", r.name, p.Status)
		}
		if got := p.Text(`[data-testid="error-photo"]`); got != r.want {
			t.Errorf("%s: message %q, want %q", r.name, got, r.want)
		}
	}
	if n := countFiles(t, files); n != 0 {
		t.Errorf("%d files stored after the bombs", n)
	}
	_, tn := businessOf(t, a, "anna@kraus.example")
	if prof, _ := profiles.Get(context.Background(), tn); prof.HasPhoto() {
		t.Errorf("a bomb became the photo: %+v", prof)
	}
	// A normal photo, and one at the limit, still work.
	for _, px := range []int{256, 4096} {
		if p := c.upload("/profile/photo", "photo", "photo.png", pngImage(px, px)); p.Status != http.StatusSeeOther {
			t.Fatalf("%d px photo: %d %s", px, p.Status, p.Text(`[data-testid="error-photo"]`))
		}
	}
	if prof, _ := profiles.Get(context.Background(), tn); !prof.HasPhoto() || prof.PhotoPx != 4096 {
		t.Errorf("photo after a normal upload: %+v", prof)
	}
	if n := countFiles(t, files); n != 1 {
		t.Errorf("%d files stored", n)
	}
}
