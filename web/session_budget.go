package web

import (
	"sync"
	"time"
)

// New anonymous sessions per client address: a visitor without a session
// gets a database row as soon as a page needs a CSRF token (every form),
// so without a budget anyone could fill the sessions table by fetching
// the log-in page without its cookie. Real browsers keep their cookie and
// use one session; a whole office behind one address starts a few.
const (
	anonSessionWindow = 10 * time.Minute
	anonSessionBudget = 120
	maxBudgetEntries  = 50000
)

// sessionBudget counts new anonymous sessions per address in fixed
// windows. It lives in the process: several portal processes each allow
// the budget.
type sessionBudget struct {
	mu sync.Mutex
	m  map[string]*budgetWindow
}

type budgetWindow struct {
	start time.Time
	n     int
}

// exhausted reports whether addr has used its budget in the current
// window.
func (b *sessionBudget) exhausted(addr string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := b.m[addr]
	return w != nil && now.Sub(w.start) < anonSessionWindow && w.n >= anonSessionBudget
}

// spend counts one new session of addr.
func (b *sessionBudget) spend(addr string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]*budgetWindow{}
	}
	if len(b.m) >= maxBudgetEntries { // forget ended windows, then everything if need be
		for k, w := range b.m {
			if now.Sub(w.start) >= anonSessionWindow {
				delete(b.m, k)
			}
		}
		if len(b.m) >= maxBudgetEntries {
			b.m = map[string]*budgetWindow{}
		}
	}
	w := b.m[addr]
	if w == nil || now.Sub(w.start) >= anonSessionWindow {
		w = &budgetWindow{start: now}
		b.m[addr] = w
	}
	w.n++
}
