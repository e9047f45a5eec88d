package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const secretValue = "hunter2-very-secret"

func TestSecretNeverPrints(t *testing.T) {
	s := Secret(secretValue)
	a := Auth{Type: "bearer", Token: s}
	c := Client{Auth: &a}
	for _, verb := range []string{"%v", "%s", "%q", "%x", "%X", "%+v", "%#v", "%d", "%10s", "%-8q", "%T %v"} {
		for _, arg := range []any{s, &s, a, &a, c, []Secret{s}, map[string]Secret{"k": s}} {
			if out := fmt.Sprintf(verb, arg); strings.Contains(out, secretValue) || strings.Contains(out, fmt.Sprintf("%x", secretValue)) {
				t.Errorf("fmt %s of %T leaks: %s", verb, arg, out)
			}
		}
	}
	if got := fmt.Sprint(s); got != "***" {
		t.Errorf("Sprint = %q", got)
	}
	if got := fmt.Sprint(Secret("")); got != "" {
		t.Errorf("an empty secret should print empty, got %q", got)
	}
	if got := fmt.Sprintf("%q", s); got != `"***"` {
		t.Errorf("%%q = %s", got)
	}

	j, err := json.Marshal(map[string]any{"auth": a, "s": s})
	if err != nil || strings.Contains(string(j), secretValue) || !strings.Contains(string(j), `"Token":"***"`) {
		t.Errorf("json: %s %v", j, err)
	}
	y, err := yaml.Marshal(a)
	if err != nil || strings.Contains(string(y), secretValue) || !strings.Contains(string(y), "token: '***'") {
		t.Errorf("yaml: %s %v", y, err)
	}
	txt, _ := s.MarshalText()
	if string(txt) != "***" {
		t.Errorf("text: %s", txt)
	}

	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("x", "token", s, "auth", a, "client", c, slog.Any("ptr", &a))
	log.Info("y", slog.Group("g", "token", s))
	slog.New(slog.NewTextHandler(&buf, nil)).Info("z", "token", s, "auth", a)
	if strings.Contains(buf.String(), secretValue) {
		t.Errorf("slog leaks: %s", buf.String())
	}
	if !strings.Contains(buf.String(), `"token":"***"`) {
		t.Errorf("slog should show ***: %s", buf.String())
	}
	if s.Reveal() != secretValue {
		t.Error("Reveal must return the value")
	}
}

// TestSecretNotInErrors checks that neither a bad value next to a secret nor a
// secret that lands in a non-secret field shows up in Error().
func TestSecretNotInErrors(t *testing.T) {
	const y = `
pipeline: shop
source:
  type: rest
  client:
    base_url: "https://user:${TOKEN}@api.example.com:bad"
    auth: {type: bearer, token: "${TOKEN}", tokn: "${TOKEN}", password: "${TOKEN}"}
    timeout: ${TOKEN}
    retry: {max_attempts: "${TOKEN}"}
  resources:
    - name: r
      endpoint: {path: /r, params: {key: "${TOKEN}"}}
      primary_key: id
      max_nesting: ${TOKEN}
destination: {type: duckdb, path: "${TOKEN}"}
`
	_, err := Parse([]byte(y), "s.yaml", mapEnv(map[string]string{"TOKEN": secretValue}))
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), secretValue) {
		t.Errorf("error leaks the secret:\n%s", err)
	}
	if n := len(err.(*Error).Problems); n < 5 {
		t.Errorf("want at least 5 problems, got %d:\n%s", n, err)
	}
}
