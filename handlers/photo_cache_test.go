package handlers_test

import (
	"net/http"
	"testing"
)

// TestPhotoRevalidatesAndLogoutEndsIt: the photo is cached privately but
// revalidated on every use (304 while unchanged), and once logged out the
// revalidation is refused, so the photo is not kept for a day.
func TestPhotoRevalidatesAndLogoutEndsIt(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.signup("Bäckerei Kraus", "anna@kraus.example")
	c.primeCSRF("/profile")
	if p := c.upload("/profile/photo", "photo", "photo.png", pngImage(256, 256)); p.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d", p.Status)
	}
	src := c.get("/profile").Attr(`[data-testid="photo-current"]`, "src")
	if src == "" {
		t.Fatal("no photo on the profile")
	}
	cond := func(header, value string) *page {
		req, _ := http.NewRequest(http.MethodGet, c.url(src), nil)
		req.Header.Set(header, value)
		return c.do(req, false)
	}
	p := c.getRaw(src)
	etag, lm := p.Header.Get("ETag"), p.Header.Get("Last-Modified")
	if p.Status != http.StatusOK || p.Header.Get("Cache-Control") != "private, no-cache" || etag == "" || lm == "" {
		t.Fatalf("photo: %d Cache-Control %q ETag %q Last-Modified %q", p.Status, p.Header.Get("Cache-Control"), etag, lm)
	}
	if p := cond("If-None-Match", etag); p.Status != http.StatusNotModified || p.Body != "" {
		t.Errorf("If-None-Match unchanged: %d (%d bytes)", p.Status, len(p.Body))
	}
	if p := cond("If-Modified-Since", lm); p.Status != http.StatusNotModified {
		t.Errorf("If-Modified-Since unchanged: %d", p.Status)
	}
	// A new photo has a new ETag: the old one gets the new bytes.
	if p := c.upload("/profile/photo", "photo", "new.png", pngImage(300, 300)); p.Status != http.StatusSeeOther {
		t.Fatalf("replace: %d", p.Status)
	}
	if p := cond("If-None-Match", etag); p.Status != http.StatusOK || p.Header.Get("ETag") == etag {
		t.Errorf("after replacing: %d ETag %q (old %q)", p.Status, p.Header.Get("ETag"), etag)
	}
	etag = c.getRaw(src).Header.Get("ETag")
	// Logged out, the browser's revalidation is refused.
	c.primeCSRF("/profile")
	if p := c.post("/logout", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("logout: %d", p.Status)
	}
	if p := cond("If-None-Match", etag); p.Status == http.StatusNotModified || p.Status == http.StatusOK {
		t.Errorf("revalidation after logout: %d", p.Status)
	}
}
