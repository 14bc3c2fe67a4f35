package sending

import (
	"sync"
	"sync/atomic"

	"github.com/optline/optline/models/billing"
)

// countries caches the recipient country (billing.CountryOf, what billing
// prices by) by the number's first seven digits and its length: parsing
// every number cost a tenth of the sender's CPU, and numbers that share a
// prefix of that length and their length lie in one country's plan (the
// longest prefixes that tell countries apart, such as Vatican City's
// +39 06 698 within Rome's, are shorter). The cache stops growing at
// maxCountries entries; numbers after that are parsed each time.
type countries struct {
	m sync.Map // key → country
	n atomic.Int64
}

const maxCountries = 200_000

func (c *countries) of(e164 string) string {
	if len(e164) < 10 {
		return billing.CountryOf(e164)
	}
	key := e164[:8] + string(rune('0'+len(e164)-8))
	if v, ok := c.m.Load(key); ok {
		return v.(string)
	}
	cc := billing.CountryOf(e164)
	if c.n.Load() < maxCountries {
		if _, loaded := c.m.LoadOrStore(key, cc); !loaded {
			c.n.Add(1)
		}
	}
	return cc
}
