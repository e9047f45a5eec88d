package config

import (
	"fmt"
	"log/slog"
)

// The methods below make every way Go prints or serialises a value show "***"
// (or "" for an unset secret, so that "not configured" stays visible). fmt needs
// Format on top of String because verbs such as %d or %x would otherwise print the
// underlying string.

// Format hides the value from every fmt verb.
func (s Secret) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), s.String())
}

// MarshalJSON hides the value from encoding/json (and slog's JSON handler).
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// MarshalText hides the value from encoders that use encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalYAML hides the value when a config is written back as YAML.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// LogValue hides the value from log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// authFields is Auth without its methods, so that Auth.Format can print the fields
// without calling itself.
type authFields Auth

// Format prints Auth with its secrets hidden. Without it, a *Auth nested in
// another struct and printed with a verb other than %v (say %s) makes fmt report a
// bad verb, and fmt prints bad-verb values without calling String or Format on
// their fields — which would reveal the secrets.
func (a Auth) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), authFields(a))
}
