package main

import (
	"context"
	"strings"
	"testing"

	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/config"
)

// TestPlaygroundExamples: the playground offers the analysts' and the
// providers' saved operations; in development each comes with a credential
// that works, in production with none.
func TestPlaygroundExamples(t *testing.T) {
	byName := func(cfg config.Config) map[string]map[string]string {
		out := map[string]map[string]string{}
		for _, e := range playgroundExamples(cfg) {
			out[e.Name] = e.Headers
			if e.Variables == nil || e.Variables() == nil {
				t.Errorf("%s has no variables", e.Name)
			}
		}
		return out
	}
	dev := byName(config.Config{DevAnalystKey: true, Auth: auth.Settings{Secret: auth.DevSecret}})
	for _, name := range []string{"analytics_growth_totals", "analytics_provider_exposure", "provider_growth", "provider_traffic", "provider_apply_for_loan"} {
		if dev[name] == nil {
			t.Fatalf("development examples %v lack %s with its credential", dev, name)
		}
	}
	if dev["analytics_growth_totals"][auth.APIKeyHeader] != auth.DevAnalystKey {
		t.Fatalf("analyst headers %v", dev["analytics_growth_totals"])
	}
	v, err := auth.NewVerifier(auth.Config{Secret: []byte(auth.DevSecret)})
	if err != nil {
		t.Fatal(err)
	}
	if p := v.Principal(context.Background(), dev["provider_traffic"]["Authorization"]); p.Provider != devProvider || !p.HasRole(auth.RoleProvider) {
		t.Fatalf("the provider examples' token: %+v", p)
	}
	prod := byName(config.Config{Auth: auth.Settings{Secret: strings.Repeat("s", auth.MinProductionSecret)}})
	if _, ok := prod["provider_growth"]; !ok || len(prod["provider_growth"]) > 0 || len(prod["analytics_growth_totals"]) > 0 {
		t.Fatalf("production examples carry credentials: %v", prod)
	}
}
