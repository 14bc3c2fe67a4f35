// Package providertest is the contract every channel.Provider passes: the
// sandbox's and the Cloud API's tests both run Run. A send answers a
// wamid, a submission a template id and state, and every failure is a
// *channel.Error of the right class (Retry, Config or permanent).
package providertest

import (
	"context"
	"strings"
	"testing"

	"github.com/optline/optline/channel"
)

// Class is a failure class of the contract.
type Class int

// The classes.
const (
	Retry     Class = iota + 1 // try again later, with a RetryAfter hint
	Config                     // administrators must fix something
	Permanent                  // neither: this message or template fails
)

func (c Class) String() string {
	return map[Class]string{Retry: "retry", Config: "config", Permanent: "permanent"}[c]
}

// Harness is one provider under test.
type Harness struct {
	Provider channel.Provider
	// Sender is a complete sender the provider accepts.
	Sender channel.Sender
	// Fail arranges that the next call of op ("send" or "submit") fails
	// with an error of class c, as the platform would answer it.
	Fail func(op string, c Class)
}

// Message is the contract's template message.
func Message(id int64) channel.Message {
	return channel.Message{ID: id, To: "+4915123456789", Template: "offer_v1", Language: "de",
		Header: []string{"Sommer"}, Body: []string{"Alex", "20 %"}, URLParams: map[int]string{0: "summer?c=42"}}
}

// Template is the contract's template.
func Template() channel.Template {
	return channel.Template{Name: "offer_v1", Language: "de", Category: channel.CategoryMarketing,
		Header: "Angebot {{1}}", HeaderSample: "Sommer", Body: "Hallo {{1}}, heute {{2}} auf alles.", BodySamples: []string{"Alex", "20 %"},
		Footer: "Antworte STOP zum Abbestellen",
		Buttons: []channel.Button{{Type: channel.ButtonURL, Text: "Zum Angebot", URL: "https://shop.example/{{1}}", URLSample: "summer"},
			{Type: channel.ButtonQuickReply, Text: "Stop promotions"}}}
}

// Run runs the contract; newHarness makes a fresh provider for each part.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	ctx := context.Background()
	t.Run("name", func(t *testing.T) {
		h := newHarness(t)
		if n := h.Provider.Name(); n != "sandbox" && n != "cloudapi" {
			t.Fatalf("Name() = %q", n)
		}
	})
	t.Run("send answers a wamid", func(t *testing.T) {
		h := newHarness(t)
		seen := map[string]bool{}
		for i := int64(1); i <= 3; i++ {
			sent, err := h.Provider.Send(ctx, h.Sender, Message(i))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(sent.WAMID, "wamid.") || seen[sent.WAMID] {
				t.Fatalf("WAMID %q (seen before: %v)", sent.WAMID, seen[sent.WAMID])
			}
			seen[sent.WAMID] = true
			if sent.Status != "accepted" && sent.Status != "held_for_quality_assessment" {
				t.Fatalf("Status %q", sent.Status)
			}
		}
	})
	t.Run("submit answers an id and a state", func(t *testing.T) {
		h := newHarness(t)
		sub, err := h.Provider.SubmitTemplate(ctx, h.Sender, Template())
		if err != nil {
			t.Fatal(err)
		}
		if sub.ExternalID == "" {
			t.Fatal("no template id")
		}
		switch sub.Status {
		case "PENDING", "APPROVED", "REJECTED":
		default:
			t.Fatalf("Status %q", sub.Status)
		}
	})
	t.Run("a sender without ids is a config error", func(t *testing.T) {
		h := newHarness(t)
		_, err := h.Provider.Send(ctx, channel.Sender{}, Message(1))
		check(t, err, Config)
		_, err = h.Provider.SubmitTemplate(ctx, channel.Sender{}, Template())
		check(t, err, Config)
	})
	for _, op := range []string{"send", "submit"} {
		for _, c := range []Class{Retry, Config, Permanent} {
			t.Run(op+" fails as "+c.String(), func(t *testing.T) {
				h := newHarness(t)
				h.Fail(op, c)
				var err error
				if op == "send" {
					_, err = h.Provider.Send(ctx, h.Sender, Message(9))
				} else {
					_, err = h.Provider.SubmitTemplate(ctx, h.Sender, Template())
				}
				check(t, err, c)
				// The failure was the one call's: the next succeeds.
				if op == "send" {
					_, err = h.Provider.Send(ctx, h.Sender, Message(10))
				} else {
					_, err = h.Provider.SubmitTemplate(ctx, h.Sender, Template())
				}
				if err != nil {
					t.Fatalf("the call after the failure: %v", err)
				}
			})
		}
	}
}

func check(t *testing.T, err error, c Class) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", c)
	}
	e, ok := channel.AsError(err)
	if !ok {
		t.Fatalf("%T %v is not a *channel.Error", err, err)
	}
	switch c {
	case Retry:
		if !e.Retry || e.Config || e.RetryAfter <= 0 {
			t.Fatalf("%v: Retry %v Config %v RetryAfter %v, want retry with a hint", e, e.Retry, e.Config, e.RetryAfter)
		}
	case Config:
		if !e.Config || e.Retry {
			t.Fatalf("%v: Retry %v Config %v, want config", e, e.Retry, e.Config)
		}
	case Permanent:
		if e.Config || e.Retry {
			t.Fatalf("%v: Retry %v Config %v, want permanent", e, e.Retry, e.Config)
		}
	}
	if e.Error() == "" {
		t.Fatal("empty message")
	}
}
