package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorsGolden parses each testdata/errors/<case>/config.yaml with the
// variables of its env file and compares Error() with want.txt.
// UPDATE_GOLDEN=1 rewrites want.txt; review the diff before committing.
func TestErrorsGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/errors/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 15 {
		t.Fatalf("want at least 15 golden cases, have %d", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			env := readEnvFile(t, filepath.Join(dir, "env"))
			_, err = Parse(data, "config.yaml", mapEnv(env))
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("want *config.Error, got %v", err)
			}
			got := cerr.Error() + "\n"
			wantFile := filepath.Join(dir, "want.txt")
			if os.Getenv("UPDATE_GOLDEN") == "1" {
				if err := os.WriteFile(wantFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("Error() mismatch\n--- got\n%s--- want\n%s", got, want)
			}
			for _, v := range env {
				if strings.Contains(v, "secret") && strings.Contains(got, v) {
					t.Errorf("error text leaks the value %q", v)
				}
			}
		})
	}
}

// readEnvFile reads KEY=VALUE lines; a missing file is no variables.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	env := map[string]string{}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return env
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not KEY=VALUE", path, line)
		}
		env[k] = v
	}
	return env
}

func mapEnv(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}
