package main

import (
	"context"
	"testing"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/models"
	"github.com/optline/optline/models/dbtest"
	"github.com/optline/optline/web"
)

func TestNewProvider(t *testing.T) {
	db := dbtest.Open(t)
	p, closeP, err := newProvider(web.ChannelConfig{Provider: web.ChannelSandbox}, db, noIntake{}, dbtest.Quiet)
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
	p, closeP, err = newProvider(web.ChannelConfig{Provider: web.ChannelCloudAPI, AccessToken: "tok", APIBaseURL: "https://graph.facebook.com", APIVersion: "v24.0"}, db, noIntake{}, dbtest.Quiet)
	if err != nil || p.Name() != "cloudapi" {
		t.Fatalf("cloudapi: %v %v", p, err)
	}
	closeP()
	if _, _, err := newProvider(web.ChannelConfig{Provider: web.ChannelCloudAPI}, db, noIntake{}, dbtest.Quiet); err == nil {
		t.Fatal("cloudapi without a token built")
	}
}
