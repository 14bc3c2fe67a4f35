package contacts

import (
	"sync"
	"time"

	"github.com/optline/optline/models"
)

// tagListTTL bounds how long a business's tag list is served from memory.
// Writes through this process drop it at once; another portal process
// (several behind one load balancer) sees a new tag within this time.
const tagListTTL = 10 * time.Second

// tagLists remembers each business's tag list (the list page's tag filter
// asks for it on every load; walking the tag index cost about a third of
// the database time of a list page at a million contacts).
type tagLists struct {
	mu sync.Mutex
	m  map[int64]*tagListEntry
}

type tagListEntry struct {
	tags []string
	at   time.Time
	gen  uint64 // bumped by every write of the business's tags
}

// get returns the cached list and the generation to store a fresh one
// under.
func (c *tagLists) get(biz int64) (tags []string, ok bool, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[biz]
	if e == nil {
		return nil, false, 0
	}
	if e.tags != nil && time.Since(e.at) < tagListTTL {
		return e.tags, true, e.gen
	}
	return nil, false, e.gen
}

// put stores tags read under generation gen, unless the business's tags
// were written since.
func (c *tagLists) put(biz int64, gen uint64, tags []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(biz)
	if e.gen != gen {
		return
	}
	if tags == nil {
		tags = []string{}
	}
	e.tags, e.at = tags, time.Now()
}

// reset forgets every list.
func (c *tagLists) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.m {
		e.gen++
		e.tags = nil
	}
}

// tagCaches holds each database's tag lists (one per open database: the
// portal has one, tests many).
var tagCaches sync.Map // *models.DB → *tagLists

func tagsOfDB(db *models.DB) *tagLists {
	if c, ok := tagCaches.Load(db); ok {
		return c.(*tagLists)
	}
	c, _ := tagCaches.LoadOrStore(db, &tagLists{})
	return c.(*tagLists)
}

// tagsChanged drops the business's cached tag list: every write of
// contact_tags calls it once the write is committed.
func tagsChanged(t models.Tenant) { tagsOfDB(t.DB()).changed(t.BusinessID()) }

// changed drops the business's list; call it after its tags were written.
func (c *tagLists) changed(biz int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(biz)
	e.gen++
	e.tags = nil
}

// entry returns the business's entry, made if missing; c.mu is held.
func (c *tagLists) entry(biz int64) *tagListEntry {
	if c.m == nil {
		c.m = map[int64]*tagListEntry{}
	}
	e := c.m[biz]
	if e == nil {
		e = &tagListEntry{}
		c.m[biz] = e
	}
	return e
}

// ForgetTags drops every business's cached tag list (after rows were
// written outside the contact functions, as the demo loader does).
func ForgetTags(db *models.DB) { tagsOfDB(db).reset() }
