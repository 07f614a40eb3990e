package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/plaza-gateway/plaza/connectors/conformance"
	"github.com/plaza-gateway/plaza/connectors/conformance/conformancetest"
)

func TestCertifiesADemoProviderProcess(t *testing.T) {
	bin := conformancetest.BuildDemoProvider(t)
	const secret = "s3cret"

	t.Run("a demo provider passes every check and the report has one line per check", func(t *testing.T) {
		url := conformancetest.StartDemoProvider(t, bin, "--vertical", "grocery", "--provider", "freshcart", "--secret", secret, "--payment-window", "15m")
		var out strings.Builder
		if err := run(context.Background(), []string{"--url", url, "--vertical", "grocery", "--secret", secret}, &out, os.Getenv); err != nil {
			t.Fatalf("run: %v\n%s", err, out.String())
		}
		report := out.String()
		t.Logf("\n%s", report)
		// Grocery orders have no slot to move to: the kit skips its
		// reschedule check for them, saying why; every other check passes.
		skips := map[string]string{"reschedule": "cannot reschedule bookings of products"}
		for _, c := range conformance.Checks() {
			status, why := "PASS", ""
			if w, ok := skips[c.Name]; ok {
				status, why = "SKIP", w
			}
			if !slices.ContainsFunc(strings.Split(report, "\n"), func(line string) bool {
				f := strings.Fields(line)
				return len(f) > 2 && f[0] == status && f[1] == c.Name && strings.Contains(line, why)
			}) {
				t.Errorf("no %s line for %s (%q)", status, c.Name, why)
			}
		}
		n := len(conformance.Checks())
		if !strings.Contains(report, fmt.Sprintf("%d checks: %d passed, 0 failed, %d skipped", n, n-len(skips), len(skips))) {
			t.Errorf("summary missing")
		}
	})

	t.Run("a provider that accepts unsigned requests fails the signature check", func(t *testing.T) {
		url := conformancetest.StartDemoProvider(t, bin, "--vertical", "medical", "--provider", "mediquick", "--secret", secret, "--insecure")
		var out strings.Builder
		err := run(context.Background(), []string{"--url", url, "--vertical", "medical", "--secret", secret}, &out, os.Getenv)
		if !errors.Is(err, errFailed) {
			t.Fatalf("run: %v, want errFailed\n%s", err, out.String())
		}
		if !strings.Contains(out.String(), "FAIL  signature ") || !strings.Contains(out.String(), "1 failed") {
			t.Fatalf("report:\n%s", out.String())
		}
	})

	t.Run("a provider of another vertical is refused before any check", func(t *testing.T) {
		url := conformancetest.StartDemoProvider(t, bin, "--vertical", "legal", "--provider", "lexassist", "--secret", secret)
		var out strings.Builder
		err := run(context.Background(), []string{"--url", url, "--vertical", "grocery", "--secret", secret}, &out, os.Getenv)
		if err == nil || errors.Is(err, errFailed) || !strings.Contains(err.Error(), "LEGAL, not GROCERY") {
			t.Fatalf("run: %v", err)
		}
	})

	t.Run("the secret can come from the environment", func(t *testing.T) {
		url := conformancetest.StartDemoProvider(t, bin, "--vertical", "public-service", "--provider", "govdesk", "--secret", secret)
		var out strings.Builder
		env := func(k string) string { return map[string]string{"PROVIDER_SECRET": secret}[k] }
		err := run(context.Background(), []string{"--url", url, "--vertical", "public-service", "--secret-env", "PROVIDER_SECRET", "--only", "signature,batch-order"}, &out, env)
		if err != nil || !strings.Contains(out.String(), "2 checks: 2 passed") {
			t.Fatalf("run: %v\n%s", err, out.String())
		}
	})
}
