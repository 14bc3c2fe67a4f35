package views

import "sync"

// phoneMemo remembers formatted numbers: a list page shows fifty numbers
// and the first page of a book is by far the most viewed one, so most
// lookups hit. It holds at most max entries and simply starts over when
// full, so its memory stays bounded (~1 MB) whatever the books hold.
type phoneMemo struct {
	mu  sync.RWMutex
	m   map[string]string
	max int
}

var phoneTexts = &phoneMemo{max: 8192}

func (p *phoneMemo) get(e164 string, format func(string) string) string {
	p.mu.RLock()
	s, ok := p.m[e164]
	p.mu.RUnlock()
	if ok {
		return s
	}
	s = format(e164)
	p.mu.Lock()
	if p.m == nil || len(p.m) >= p.max {
		p.m = make(map[string]string, 256)
	}
	p.m[e164] = s
	p.mu.Unlock()
	return s
}
