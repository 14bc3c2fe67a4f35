package handlers

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/optline/optline/views"
)

// Forms are structs: each field a string (or bool, for check boxes)
// tagged with its input's name, declared once:
//
//	type loginForm struct {
//		Email    string `form:"email"`
//		Password string `form:"password,raw"`
//	}
//
// bindForm fills one from the request — trimmed, except fields tagged
// raw (passwords keep their spaces) — and returns the views.Form the page
// renders back, with what was typed and, after validation, each field's
// message (web.FormErrors).
func bindForm(c echo.Context, dst any) *views.Form {
	f := views.NewForm()
	v := reflect.ValueOf(dst).Elem()
	for _, fd := range formFields(v.Type()) {
		raw := c.FormValue(fd.name)
		if !fd.raw {
			raw = strings.TrimSpace(raw)
		}
		fv := v.FieldByIndex(fd.index)
		switch fv.Kind() {
		case reflect.String:
			fv.SetString(raw)
		case reflect.Bool:
			fv.SetBool(raw == "1" || raw == "on" || raw == "true")
		}
		f.Values[fd.name] = raw
	}
	return f
}

// bindFields adds fields whose names are only known at run time (a
// contact's own attributes, an import's columns) to f, trimmed, and
// returns their values by name.
func bindFields(c echo.Context, f *views.Form, names ...string) map[string]string {
	out := make(map[string]string, len(names))
	for _, n := range names {
		v := strings.TrimSpace(c.FormValue(n))
		f.Values[n], out[n] = v, v
	}
	return out
}

// formView is the views.Form showing a form struct's values (a form the
// handler filled itself, e.g. from the stored row).
func formView(src any) *views.Form {
	f := views.NewForm()
	v := reflect.ValueOf(src)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	for _, fd := range formFields(v.Type()) {
		fv := v.FieldByIndex(fd.index)
		switch fv.Kind() {
		case reflect.String:
			f.Values[fd.name] = fv.String()
		case reflect.Bool:
			if fv.Bool() {
				f.Values[fd.name] = "1"
			}
		}
	}
	return f
}

type formField struct {
	name  string
	raw   bool
	index []int
}

// formFields reads a form struct's tags (embedded structs included).
func formFields(t reflect.Type) []formField {
	var out []formField
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			for _, inner := range formFields(sf.Type) {
				inner.index = append([]int{i}, inner.index...)
				out = append(out, inner)
			}
			continue
		}
		tag, ok := sf.Tag.Lookup("form")
		if !ok {
			continue
		}
		name, opt, _ := strings.Cut(tag, ",")
		if k := sf.Type.Kind(); k != reflect.String && k != reflect.Bool {
			panic(fmt.Sprintf("handlers: form field %s.%s is %s; forms hold strings and bools", t.Name(), sf.Name, k))
		}
		out = append(out, formField{name: name, raw: opt == "raw", index: []int{i}})
	}
	return out
}
