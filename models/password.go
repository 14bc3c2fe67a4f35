package models

import (
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
)

// Password rules: at least 8 characters (not bytes), at most 128, so that a
// 64-character passphrase with umlauts passes and a megabyte never reaches
// the hash function.
const (
	PasswordMinChars = 8
	PasswordMaxChars = 128
)

// argonParams follow the argon2id RFC 9106 second recommended option,
// sized for a 2-core server: 64 MiB, 1 pass, 2 lanes.
var argonParams = &argon2id.Params{Memory: 64 * 1024, Iterations: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32}

// CheckPasswordRules validates a new password for field.
func CheckPasswordRules(field, pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return Invalid(field, "password.invalid_utf8")
	case n < PasswordMinChars:
		return Invalid(field, "password.too_short", PasswordMinChars)
	case n > PasswordMaxChars:
		return Invalid(field, "password.too_long", PasswordMaxChars)
	}
	return nil
}

// HashPassword returns the argon2id PHC string for pw.
func HashPassword(pw string) (string, error) {
	return argon2id.CreateHash(pw, argonParams)
}

// dummyHash is compared against when no user exists, so that a login for
// an unknown address takes as long as one with a wrong password.
var dummyHash, _ = argon2id.CreateHash("optline-timing-equaliser", argonParams)

func passwordMatches(pw, hash string) bool {
	if len(pw) > PasswordMaxChars*4 {
		return false
	}
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	return err == nil && ok
}
