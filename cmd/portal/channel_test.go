package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/dbtest"
	"github.com/optline/optline/web"
)

func TestNewProvider(t *testing.T) {
	db := dbtest.Open(t)
	p, closeP, err := newProvider(web.ChannelConfig{Provider: web.ChannelSandbox}, db, dropEvents{}, dbtest.Quiet)
	if err != nil || p.Name() != "sandbox" {
		t.Fatalf("sandbox: %v %v", p, err)
	}
	_, b, err := db.SignUp(context.Background(), models.SignUpInput{BusinessName: "Wired", NewUserInput: models.NewUserInput{Name: "W", Email: "w@example.com", Password: "long enough pw"}})
	if err != nil {
		t.Fatal(err)
	}
	// An event the missing intake refuses is not a failed send.
	if _, err := p.Send(context.Background(), channel.Sender{BusinessID: b.ID}, channel.Message{ID: 1, To: "+4915123456789", Template: "t", Language: "de"}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Send(context.Background(), channel.Sender{BusinessID: b.ID + 99}, channel.Message{ID: 2, To: "+4915123456789", Template: "t", Language: "de"}); err == nil {
		t.Fatal("a send for a business that does not exist was accepted")
	} else if e, ok := channel.AsError(err); !ok || !e.Config {
		t.Fatalf("unknown business: %v", err)
	}
	closeP()
	p, closeP, err = newProvider(web.ChannelConfig{Provider: web.ChannelCloudAPI, AccessToken: "tok", APIBaseURL: "https://graph.facebook.com", APIVersion: "v24.0"}, db, dropEvents{}, dbtest.Quiet)
	if err != nil || p.Name() != "cloudapi" {
		t.Fatalf("cloudapi: %v %v", p, err)
	}
	closeP()
	if _, _, err := newProvider(web.ChannelConfig{Provider: web.ChannelCloudAPI}, db, dropEvents{}, dbtest.Quiet); err == nil {
		t.Fatal("cloudapi without a token built")
	}
}

// PORTAL_CHANNEL=cloudapi without its secrets does not start, and says why.
func TestCloudAPIWithoutSecretsIsRefused(t *testing.T) {
	err := run(context.Background(), nil, func(k string) string {
		switch k {
		case "PORTAL_CHANNEL":
			return "cloudapi"
		case "PORTAL_DATA_DIR":
			return t.TempDir()
		}
		return ""
	}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "PORTAL_CHANNEL=cloudapi needs WHATSAPP_ACCESS_TOKEN, WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN") {
		t.Fatalf("err = %v", err)
	}
}

// A portal on the Cloud API starts, names its provider and logs no secret.
func TestCloudAPIPortalLogsNoSecret(t *testing.T) {
	_, out, stop := start(t, t.TempDir(), "-channel", "cloudapi", "-whatsapp-access-token", "tok-SECRET-1",
		"-whatsapp-app-secret", "app-SECRET-2", "-whatsapp-verify-token", "verify-SECRET-3")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "channel=cloudapi") {
		t.Errorf("provider not named:\n%s", out.String())
	}
	if strings.Contains(out.String(), "SECRET") {
		t.Errorf("a secret was logged:\n%s", out.String())
	}
}

// dropEvents is a channel.Events that takes and forgets every event (the
// provider is only built here, not sending).
type dropEvents struct{}

func (dropEvents) Accept(context.Context, []byte) error { return nil }
