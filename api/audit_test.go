package api_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/auth"
)

// auditDir holds the Node script running the graphql-http audit suite, with
// its package.json and package-lock.json (node_modules is not committed).
const auditDir = "audit"

// TestGraphQLOverHTTPAudit runs the audit suite of graphql-http (npm; the
// reference implementation's conformance checks for the GraphQL-over-HTTP
// spec) against the real handler on a loopback port, in development and in
// production, and requires every audit to pass: the SHOULDs as well as the
// MUSTs. It installs the pinned suite with `npm ci` when it is missing. Without
// node and npm it fails in CI (CI=true) and is skipped, saying so, elsewhere.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	node, errNode := exec.LookPath("node")
	npm, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		msg := "the graphql-http audit needs node and npm on PATH (install Node.js 18 or later)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPED: " + msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := os.Stat(filepath.Join(auditDir, "node_modules", "graphql-http", "package.json")); err != nil {
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = auditDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in api/%s: %v\n%s", auditDir, err, out)
		}
	}
	for _, mode := range []struct {
		name    string
		opts    apitest.Options
		headers string // AUDIT_HEADERS
	}{
		{"development, anonymous", apitest.Options{}, ""},
		// Some audits introspect (__type), which production allows analysts only.
		{"production, as an analyst", apitest.Options{API: production(), APIOptions: []api.Option{api.WithAPIKeys(mustKeys(t))}},
			`{"` + auth.APIKeyHeader + `": "` + analystKey + `"}`},
	} {
		t.Run(mode.name, func(t *testing.T) {
			g := apitest.Start(t, mode.opts)
			cmd := exec.CommandContext(ctx, node, "audit.mjs", g.URL+"/query")
			cmd.Dir = auditDir
			cmd.Env = append(os.Environ(), "AUDIT_HEADERS="+mode.headers)
			out, err := cmd.CombinedOutput()
			for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
				t.Log(line)
			}
			if err != nil {
				t.Fatalf("graphql-http audit failed (%v): see the FAIL lines above", err)
			}
			if !strings.Contains(string(out), "audits passed") || strings.Contains(string(out), "FAIL ") {
				t.Fatalf("the audit did not report a full pass")
			}
		})
	}
}
