package contacts

import (
	"bytes"
	"context"
	"encoding/binary"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// copyRows builds the body of a binary COPY (PostgreSQL's "PGCOPY" format)
// for the import's own tables, whose columns are only bigint, text, jsonb
// and timestamptz. pgx's CopyFrom looks up an encode plan for every value
// of every row; at a million imported contacts that was a sixth of the
// importer's CPU, so the import writes the bytes itself.
type copyRows struct {
	buf  bytes.Buffer
	cols int
	rows int
}

var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

var copyPool = sync.Pool{New: func() any { return new(copyRows) }}

// newCopyRows takes a builder for rows of cols columns from the pool.
func newCopyRows(cols int) *copyRows {
	c := copyPool.Get().(*copyRows)
	c.buf.Reset()
	c.buf.Write(copyHeader)
	c.cols, c.rows = cols, 0
	return c
}

// release returns the builder to the pool.
func (c *copyRows) release() {
	if c.buf.Cap() <= 8<<20 {
		copyPool.Put(c)
	}
}

// row starts a row; the caller then appends exactly cols values.
func (c *copyRows) row() {
	c.rows++
	c.buf.Write(binary.BigEndian.AppendUint16(nil, uint16(c.cols)))
}

func (c *copyRows) fieldLen(n int) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(int32(n)))
	c.buf.Write(b[:])
}

func (c *copyRows) null() { c.fieldLen(-1) }

func (c *copyRows) int8(v int64) {
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], 8)
	binary.BigEndian.PutUint64(b[4:], uint64(v))
	c.buf.Write(b[:])
}

func (c *copyRows) int8Ptr(v *int64) {
	if v == nil {
		c.null()
		return
	}
	c.int8(*v)
}

func (c *copyRows) bool(v bool) {
	b := [5]byte{0, 0, 0, 1, 0}
	if v {
		b[4] = 1
	}
	c.buf.Write(b[:])
}

// text appends a text value; s must be valid UTF-8 without NUL bytes,
// which every write path checks before a value gets here.
func (c *copyRows) text(s string) {
	c.fieldLen(len(s))
	c.buf.WriteString(s)
}

// jsonb appends a JSON document (jsonb's binary form is a version byte and
// the text).
func (c *copyRows) jsonb(doc string) {
	c.fieldLen(len(doc) + 1)
	c.buf.WriteByte(1)
	c.buf.WriteString(doc)
}

// pgEpoch is timestamptz's zero, in Unix microseconds: the value counts
// microseconds from it.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

func (c *copyRows) ts(t time.Time) {
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], 8)
	binary.BigEndian.PutUint64(b[4:], uint64(t.UnixMicro()-pgEpoch))
	c.buf.Write(b[:])
}

func (c *copyRows) tsPtr(t *time.Time) {
	if t == nil {
		c.null()
		return
	}
	c.ts(*t)
}

// copyIn sends the rows to table (columns cols) inside tx and releases the
// builder.
func (c *copyRows) copyIn(ctx context.Context, tx pgx.Tx, table string, cols []string) error {
	defer c.release()
	if c.rows == 0 {
		return nil
	}
	c.buf.Write([]byte{0xff, 0xff})
	_, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(c.buf.Bytes()),
		"COPY "+pgx.Identifier{table}.Sanitize()+" ("+strings.Join(cols, ", ")+") FROM STDIN BINARY")
	return err
}
