package models

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Domain errors. The web layer maps them to status codes and messages;
// models never speak HTTP.
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrForbidden    = errors.New("forbidden")
	ErrNoTenant     = errors.New("models: business-scoped query without a business")
	ErrInvalidLogin = errors.New("invalid email or password")
	ErrThrottled    = errors.New("too many attempts")
	ErrSuspended    = errors.New("account suspended")
)

// Problem is one message about one form field, as a catalogue key with its
// arguments, so that views can show it in the user's language.
type Problem struct {
	Field string
	Key   string
	Args  []any
}

// ValidationError collects every problem of one form at once, so a user
// fixes all fields in one round.
type ValidationError struct {
	Problems []Problem
}

func (v *ValidationError) Error() string {
	parts := make([]string, 0, len(v.Problems))
	for _, p := range v.Problems {
		parts = append(parts, p.Field+": "+p.Key)
	}
	sort.Strings(parts)
	return "invalid input: " + strings.Join(parts, "; ")
}

// Add records a problem for field.
func (v *ValidationError) Add(field, key string, args ...any) {
	v.Problems = append(v.Problems, Problem{Field: field, Key: key, Args: args})
}

// Merge adds the problems of err, the result of another check (nil adds
// nothing). An error that is not a ValidationError cannot be shown at a
// field; it becomes a form-level problem rather than a panic.
func (v *ValidationError) Merge(err error) {
	if err == nil {
		return
	}
	if o, ok := AsValidation(err); ok {
		v.Problems = append(v.Problems, o.Problems...)
		return
	}
	v.Add("", "error.internal.text")
}

// Has reports whether field already has a problem.
func (v *ValidationError) Has(field string) bool {
	for _, p := range v.Problems {
		if p.Field == field {
			return true
		}
	}
	return false
}

// Err returns v when it holds problems, else nil.
func (v *ValidationError) Err() error {
	if v == nil || len(v.Problems) == 0 {
		return nil
	}
	return v
}

// Invalid builds a one-problem ValidationError.
func Invalid(field, key string, args ...any) error {
	v := &ValidationError{}
	v.Add(field, key, args...)
	return v
}

// AsValidation unwraps a ValidationError.
func AsValidation(err error) (*ValidationError, bool) {
	var v *ValidationError
	if errors.As(err, &v) {
		return v, true
	}
	return nil, false
}

// ThrottleError says how long to wait before trying again.
type ThrottleError struct{ RetryAfterSeconds int }

func (e *ThrottleError) Error() string {
	return fmt.Sprintf("too many attempts; retry in %d s", e.RetryAfterSeconds)
}
func (e *ThrottleError) Unwrap() error { return ErrThrottled }

// Wrap names the operation that failed, so a log line says what: nil
// stays nil, anything else becomes "op: err" and still matches errors.Is
// and errors.As. Exported operations wrap what they return with it.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}
