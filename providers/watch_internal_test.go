package providers

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors/demo"
)

// TestWatcherWaitsForAWholeFile checks that a change is loaded only once the
// content has stayed the same for a check: a file caught halfway through
// being written is neither loaded nor reported as broken.
func TestWatcherWaitsForAWholeFile(t *testing.T) {
	const before = "providers:\n  - id: freshcart\n    vertical: grocery\n    embedded: demo\n"
	const after = before + "  - id: extra-legal\n    vertical: legal\n    embedded: demo\n"
	path := filepath.Join(t.TempDir(), "plaza.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(before)
	sum, err := Sum(path)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	var applied []*Set
	w := NewWatcher(path, sum, time.Hour, Env{Getenv: func(string) string { return "" }, Embedded: demo.Embedded}, slog.New(slog.NewTextHandler(&logs, nil)),
		func(l *Set) { applied = append(applied, l) })

	w.check()                    // unchanged
	write(after[:len(after)-12]) // caught halfway through being written
	w.check()
	write(after)
	w.check()
	if len(applied) != 0 || strings.Contains(logs.String(), "reload failed") {
		t.Fatalf("%d reloads before the file stayed the same for a check; log:\n%s", len(applied), logs.String())
	}
	w.check()
	if len(applied) != 1 {
		t.Fatalf("%d reloads once the file stayed whole; log:\n%s", len(applied), logs.String())
	}
	if _, ok := applied[0].Registry.Get("extra-legal"); !ok {
		t.Fatal("the reloaded registry lacks extra-legal")
	}
	w.check()
	if len(applied) != 1 {
		t.Fatalf("an unchanged file was loaded again (%d reloads)", len(applied))
	}
}
