// Package blobstore keeps uploaded files (profile photos, verification
// documents) behind one small interface. The default implementation is a
// folder on local disk; another (S3, a database) only has to provide
// Put, Open, Delete and Walk.
package blobstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// ErrNotFound is returned by Open for an unknown key.
var ErrNotFound = errors.New("blobstore: not found")

// ErrBadKey is returned for keys outside the allowed shape.
var ErrBadKey = errors.New("blobstore: invalid key")

// Store keeps files under keys like "photos/12/3f9a….png".
type Store interface {
	// Put stores r under key, replacing nothing: keys are never reused.
	// A failed Put leaves no partial file behind.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open returns the file for reading; ErrNotFound when missing.
	Open(ctx context.Context, key string) (File, error)
	// Delete removes the file; a missing file is not an error.
	Delete(ctx context.Context, key string) error
	// Walk calls fn with the key and last change of every file under
	// folder (a key prefix such as "photos"), in no particular order.
	// Files being written (not yet in place) are not listed. fn's error
	// stops the walk and is returned.
	Walk(ctx context.Context, folder string, fn func(key string, modified time.Time) error) error
}

// File is an opened blob: seekable, so HTTP range requests work.
type File interface {
	io.ReadSeekCloser
	Size() int64
}

// keyRe allows lower-case folders and names of letters, digits, '-', '_'
// and one extension: no "..", no absolute paths, no surprises on any OS.
var keyRe = regexp.MustCompile(`^[a-z0-9_-]+(/[a-z0-9_-]+)*(\.[a-z0-9]{1,8})?$`)

// ValidKey reports whether key has the allowed shape.
func ValidKey(key string) bool { return len(key) <= 200 && keyRe.MatchString(key) }

// NewKey makes a fresh, unguessable key under folder with ext (".png").
func NewKey(folder, ext string) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return strings.Trim(folder, "/") + "/" + hex.EncodeToString(b) + strings.ToLower(ext)
}

// Local stores files in a folder on disk.
type Local struct {
	root string
}

// InDataDir is the portal's file store: <dataDir>/files, with photos,
// documents and imports in their own folders. cmd/portal builds it once.
func InDataDir(dataDir string) *Local { return NewLocal(filepath.Join(dataDir, "files")) }

// NewLocal returns a store rooted at dir; the folder is created on the
// first Put.
func NewLocal(dir string) *Local { return &Local{root: dir} }

func (l *Local) path(key string) (string, error) {
	if !ValidKey(key) {
		return "", ErrBadKey
	}
	return filepath.Join(l.root, filepath.FromSlash(key)), nil
}

// Put writes to a temporary file beside the target, syncs it, then
// renames it into place, so readers never see half a file.
func (l *Local) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	p, err := l.path(key)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return 0, fmt.Errorf("blobstore: create folder: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".upload-*")
	if err != nil {
		return 0, fmt.Errorf("blobstore: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, ctxReader{ctx, r})
	if err != nil {
		return n, fmt.Errorf("blobstore: write %s: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		return n, fmt.Errorf("blobstore: sync %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return n, fmt.Errorf("blobstore: close %s: %w", key, err)
	}
	if _, err := os.Stat(p); err == nil {
		os.Remove(tmp.Name())
		done = true
		return n, fmt.Errorf("blobstore: key %s exists", key)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return n, fmt.Errorf("blobstore: rename %s: %w", key, err)
	}
	done = true
	return n, nil
}

// Open opens a stored file.
func (l *Local) Open(_ context.Context, key string) (File, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blobstore: %w", err)
	}
	return localFile{f, st.Size()}, nil
}

// Delete removes a stored file.
func (l *Local) Delete(_ context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("blobstore: %w", err)
	}
	return nil
}

type localFile struct {
	*os.File
	size int64
}

func (f localFile) Size() int64 { return f.size }

// ctxReader stops a long copy when the request is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Walk lists the files under folder (see Store).
func (l *Local) Walk(ctx context.Context, folder string, fn func(key string, modified time.Time) error) error {
	if !ValidKey(folder) {
		return ErrBadKey
	}
	return l.walkFiles(ctx, filepath.Join(l.root, filepath.FromSlash(folder)), func(p, name string, modified time.Time) error {
		if strings.HasPrefix(name, ".") { // .upload-* files are still being written
			return nil
		}
		rel, err := filepath.Rel(l.root, p)
		if err != nil {
			return err
		}
		if key := filepath.ToSlash(rel); ValidKey(key) { // others are not ours
			return fn(key, modified)
		}
		return nil
	})
}

// RemoveStale deletes the temporary files of Puts that never finished (the
// process died while writing) last changed before cutoff, and returns how
// many. Put removes its own on any error it lives to see.
func (l *Local) RemoveStale(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	err := l.walkFiles(ctx, l.root, func(p, name string, modified time.Time) error {
		if !strings.HasPrefix(name, ".upload-") || !modified.Before(cutoff) {
			return nil
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		n++
		return nil
	})
	return n, err
}

// walkFiles calls fn with the path, name and last change of every file
// below dir; a missing dir, or a file removed during the walk, is skipped.
func (l *Local) walkFiles(ctx context.Context, dir string, fn func(path, name string, modified time.Time) error) error {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		return fn(p, d.Name(), info.ModTime())
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
