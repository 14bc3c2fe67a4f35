package webhook

import (
	"testing"
	"time"
)

var zeroTime time.Time

func TestOptOutWords(t *testing.T) {
	t.Parallel()
	text := func(s string) Inbound {
		m := Inbound{Type: "text"}
		m.Text = &struct {
			Body string `json:"body"`
		}{s}
		return m
	}
	for s, want := range map[string]bool{"STOP": true, " stop ": true, "Stop promotions": true, "STOPP": true, "abmelden": true,
		"stop it please": false, "Hallo": false, "": false} {
		if got := text(s).IsOptOut(); got != want {
			t.Errorf("%q: %v, want %v", s, got, want)
		}
	}
	b := Inbound{Type: "button"}
	b.Button = &struct {
		Payload string `json:"payload"`
		Text    string `json:"text"`
	}{Payload: OptOutPayload, Text: "Keine Werbung mehr"}
	if !b.IsOptOut() {
		t.Error("opt-out button payload not taken")
	}
}

func TestSignature(t *testing.T) {
	t.Parallel()
	e := New(Config{AppSecret: "s3cret", VerifyToken: "tok"}, Deps{}, Options{})
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"x":"😀"}}]}]}`)
	h := SignatureHeader([]byte("s3cret"), body)
	if !e.Signed(body, h) {
		t.Fatal("good signature refused")
	}
	bad := append([]byte{}, body...)
	bad[10] ^= 1
	for name, c := range map[string]struct {
		b []byte
		h string
	}{"altered": {bad, h}, "missing": {body, ""}, "no prefix": {body, h[7:]}, "not hex": {body, "sha256=zz"}, "other secret": {body, SignatureHeader([]byte("x"), body)}} {
		if e.Signed(c.b, c.h) {
			t.Errorf("%s: accepted", name)
		}
	}
	if New(Config{}, Deps{}, Options{}).Signed(body, SignatureHeader(nil, body)) {
		t.Error("without an app secret a POST was accepted")
	}
	if _, ok := e.Handshake("subscribe", "tok", "c"); !ok {
		t.Error("handshake refused")
	}
	for _, c := range [][2]string{{"subscribe", "nope"}, {"unsubscribe", "tok"}, {"subscribe", ""}} {
		if _, ok := e.Handshake(c[0], c[1], "c"); ok {
			t.Errorf("handshake %v accepted", c)
		}
	}
}
