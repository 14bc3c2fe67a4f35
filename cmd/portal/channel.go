package main

import (
	"errors"
	"log/slog"

	"github.com/optline/optline/channel"
	"github.com/optline/optline/channel/cloudapi"
	"github.com/optline/optline/channel/sandbox"
	"github.com/optline/optline/models"
	"github.com/optline/optline/web"
)

// newProvider builds the deployment's messaging provider (PORTAL_CHANNEL).
// The sandbox emits its webhook bodies into events, the webhook intake;
// close stops its pending emissions (call it before the database closes).
func newProvider(c web.ChannelConfig, db *models.DB, events channel.Events, log *slog.Logger) (p channel.Provider, close func(), err error) {
	switch c.Provider {
	case web.ChannelCloudAPI:
		cp, err := cloudapi.New(cloudapi.Config{BaseURL: c.APIBaseURL, Version: c.APIVersion, AccessToken: c.AccessToken})
		if err != nil {
			return nil, nil, err
		}
		return cp, func() {}, nil
	case web.ChannelSandbox, "":
		// A share of 0 is "never" here; Options reads 0 as its default.
		share := func(f float64) float64 {
			if f == 0 {
				return -1
			}
			return f
		}
		sp := sandbox.New(events, sandbox.Options{FailShare: share(c.SandboxFailed), HeldShare: share(c.SandboxHeld),
			StopShare: share(c.SandboxStop), Senders: db, Log: log})
		return sp, sp.Close, nil
	}
	return nil, nil, errors.New("PORTAL_CHANNEL " + c.Provider + ": want sandbox or cloudapi")
}
