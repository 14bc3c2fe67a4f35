package web

import (
	"encoding/json"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/optline/optline/views"
)

const keyDirty = "_dirty"

func markDirty(s *sessions.Session) { s.Values[keyDirty] = true }

func sessionDirty(s *sessions.Session) bool {
	d, _ := s.Values[keyDirty].(bool)
	return d
}

func stringValue(s *sessions.Session, key string) string {
	if s == nil {
		return ""
	}
	v, _ := s.Values[key].(string)
	return v
}

// Session returns the request's session.
func Session(c echo.Context) *sessions.Session { return sessionFrom(c.Request().Context()) }

// SetSessionValue stores a string in the session.
func SetSessionValue(c echo.Context, key, value string) {
	s := Session(c)
	s.Values[key] = value
	markDirty(s)
}

// Flash queues a message for the next page the user sees. The text is
// already translated.
func Flash(c echo.Context, kind, text string) {
	s := Session(c)
	var list []views.Flash
	_ = json.Unmarshal([]byte(stringValue(s, keyFlash)), &list)
	list = append(list, views.Flash{Kind: kind, Text: text})
	b, _ := json.Marshal(list)
	s.Values[keyFlash] = string(b)
	markDirty(s)
}

// takeFlashes returns and clears the queued messages.
func takeFlashes(c echo.Context) []views.Flash {
	s := Session(c)
	raw := stringValue(s, keyFlash)
	if raw == "" {
		return nil
	}
	var list []views.Flash
	_ = json.Unmarshal([]byte(raw), &list)
	delete(s.Values, keyFlash)
	markDirty(s)
	return list
}

// CSRFToken returns the session's token, creating one when needed.
func CSRFToken(c echo.Context) string {
	s := Session(c)
	if s == nil {
		return ""
	}
	t := stringValue(s, keyCSRF)
	if t == "" {
		t = newCSRF()
		s.Values[keyCSRF] = t
		markDirty(s)
	}
	return t
}
