package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/plaza-gateway/plaza/config"
)

// TestAPIConfig checks what the environment turns on at the HTTP surface:
// the production rules, and the persisted-only switch in either mode.
func TestAPIConfig(t *testing.T) {
	secret, registry := strings.Repeat("s", 32), providersFile(t)
	for _, tc := range []struct {
		name                                  string
		env                                   map[string]string
		production, playground, persistedOnly bool
	}{
		{"development: playground on, any operation", map[string]string{}, false, true, false},
		{"production: playground for analysts only, any operation", map[string]string{"PLAZA_ENV": "production", "PLAZA_JWT_SECRET": secret, "PLAZA_CONFIG": registry}, true, false, false},
		{"production with PLAZA_PERSISTED_ONLY: the app's operations only",
			map[string]string{"PLAZA_ENV": "production", "PLAZA_JWT_SECRET": secret, "PLAZA_CONFIG": registry, "PLAZA_PERSISTED_ONLY": "true"}, true, false, true},
		{"development with PLAZA_PERSISTED_ONLY", map[string]string{"PLAZA_PERSISTED_ONLY": "1"}, false, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, cfg, err := config.Load(nil, func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			c := apiConfig(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if c.Production != tc.production || c.Playground != tc.playground || c.PersistedOnly != tc.persistedOnly {
				t.Fatalf("production %t playground %t persistedOnly %t", c.Production, c.Playground, c.PersistedOnly)
			}
		})
	}
	t.Run("a value that is not a boolean refuses to start", func(t *testing.T) {
		_, _, err := config.Load(nil, func(k string) string { return map[string]string{"PLAZA_PERSISTED_ONLY": "yes please"}[k] })
		if err == nil || !strings.Contains(err.Error(), "PLAZA_PERSISTED_ONLY") {
			t.Fatalf("err %v", err)
		}
	})
}
