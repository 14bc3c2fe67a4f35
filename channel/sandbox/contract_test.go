package sandbox_test

import (
	"sync"
	"testing"
	"time"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/channel/providertest"
	"github.com/optline/optline/channel/sandbox"
)

// The sandbox's failures in the contract are its Fault hook answering what
// the platform answers for each class.
var faults = map[providertest.Class]channel.Error{
	providertest.Retry:     {Code: 130429, Title: "Rate limit hit", Retry: true, RetryAfter: time.Second},
	providertest.Config:    {Code: 190, Title: "Invalid OAuth access token", Config: true},
	providertest.Permanent: {Code: 132001, Title: "Template does not exist"},
}

func TestContract(t *testing.T) {
	t.Parallel()
	providertest.Run(t, func(t *testing.T) providertest.Harness {
		var mu sync.Mutex
		next := map[string]*channel.Error{}
		o := opts(5)
		o.Fault = func(op string, _ channel.Sender, _ *channel.Message, _ *channel.Template) *channel.Error {
			mu.Lock()
			defer mu.Unlock()
			e := next[op]
			delete(next, op)
			return e
		}
		p := sandbox.New(&sink{}, o)
		t.Cleanup(p.Close)
		return providertest.Harness{Provider: p, Sender: sender, Fail: func(op string, c providertest.Class) {
			mu.Lock()
			defer mu.Unlock()
			e := faults[c]
			next[op] = &e
		}}
	})
}
