package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// appSection is the name -only matches to select the app's section.
const appSection = "app: /app interactive"

// appLoads is how many first loads of /app the section times (after one
// that warms the gateway).
const appLoads = 20

// appInteractiveTarget is issue 17's bound on the time until /app is
// usable on loopback.
const appInteractiveTarget = time.Second

// appResult is what web/e2e/interactive.mjs prints: times in ms from the
// navigation's start.
type appResult struct {
	Loads          int       `json:"loads"`
	Interactive    []float64 `json:"interactive"`
	Median         float64   `json:"median"`
	P90            float64   `json:"p90"`
	Max            float64   `json:"max"`
	RenderedMedian float64   `json:"renderedMedian"`
	DriverMedian   float64   `json:"driverMedian"`
	Cold           float64   `json:"cold"`
	KB             float64   `json:"kb"`
}

// appInteractive times the first loads of the app's home page in Debian's
// Chromium (CHROMIUM, default /usr/bin/chromium), driven by the e2e
// tests' playwright-core, against the shipped binary: nothing else of the
// run is running then. It installs web/'s npm packages when they are
// missing (`npm ci`, as make web does).
func (h *harness) appInteractive(ctx context.Context) (*appResult, error) {
	h.logf("app: /app interactive, %d first loads in Chromium", appLoads)
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		return nil, fmt.Errorf("no Chromium at %s (apt-get install -y chromium, or set CHROMIUM)", chromium)
	}
	web := filepath.Join(h.o.root, "web")
	if _, err := os.Stat(filepath.Join(web, "node_modules", "playwright-core")); errors.Is(err, os.ErrNotExist) {
		h.logf("  installing web/'s npm packages (npm ci)")
		if _, err := h.cmd(ctx, web, nil, "npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"); err != nil {
			return nil, err
		}
	}
	out, err := h.cmd(ctx, web, []string{"PLAZA_BIN=" + h.plazaBin, "CHROMIUM=" + chromium}, "node", "e2e/interactive.mjs", fmt.Sprint(appLoads))
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var r appResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return nil, fmt.Errorf("interactive.mjs printed no result: %w\n%s", err, out)
	}
	h.logf("  interactive: median %.0f ms, p90 %.0f ms (rendered %.0f ms, Playwright's checks %.0f ms), %.1f KB a load",
		r.Median, r.P90, r.RenderedMedian, r.DriverMedian, r.KB)
	return &r, nil
}

// appSectionText is the report's section of the app.
func appSectionText(r *appResult, err error) string {
	var b strings.Builder
	b.WriteString("\n## The app (issue 17)\n\n")
	if err != nil {
		fmt.Fprintf(&b, "Not measured: %s\n", strings.ReplaceAll(firstLine(err.Error()), "|", "/"))
		return b.String()
	}
	fmt.Fprintf(&b, "`web/e2e/interactive.mjs`: %d first loads of `/app/` (the home page, signed in as demo-1) in Debian's Chromium, "+
		"each in a fresh browser context (nothing cached in the browser), against the shipped binary (embedded demo providers, "+
		"no Redis) on loopback, after one uncounted load that warms the gateway (%.0f ms). Times from the start of the "+
		"navigation. Interactive: a click at the centre of the first section's first item lands on it (checked in the page, "+
		"each frame after the item appears). Chromium, the gateway and the driver share the machine's CPUs.\n\n", r.Loads, r.Cold)
	b.WriteString("| what | median ms | p90 ms | max ms |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| interactive (first item clickable) | %.0f | %.0f | %.0f |\n", r.Median, r.P90, r.Max)
	fmt.Fprintf(&b, "| sections rendered (first item in the page) | %.0f | | |\n", r.RenderedMedian)
	fmt.Fprintf(&b, "| Playwright's actionability checks passed (its round trips included) | %.0f | | |\n", r.DriverMedian)
	fmt.Fprintf(&b, "\nTransferred per load (HTTP bodies and headers, compressed): %.1f KB.\n", r.KB)
	return b.String()
}

// appTarget is the section's row of the targets table.
func appTarget(r *appResult) (name string, ok bool, measured string) {
	return fmt.Sprintf("/app interactive on loopback ≤ %d ms (median of %d first loads)", appInteractiveTarget.Milliseconds(), r.Loads),
		r.Median <= float64(appInteractiveTarget.Milliseconds()),
		fmt.Sprintf("%.0f ms (p90 %.0f ms)", r.Median, r.P90)
}
