package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedCodeIsFresh regenerates the gqlgen output into a scratch copy
// of the inputs and fails when it differs from what is committed: a schema
// change without `go generate ./...` must not land.
func TestGeneratedCodeIsFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("regenerates code; skipped in -short mode")
	}
	generated := []string{"graph/generated.go", "graph/model/models_gen.go", "resolvers/schema.resolvers.go"}
	before := map[string][]byte{}
	for _, f := range generated {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
		before[f] = b
	}
	// Regenerate in place, then restore whatever was there so the working tree
	// is left as found even when the check fails.
	t.Cleanup(func() {
		for f, b := range before {
			_ = os.WriteFile(f, b, 0o644)
		}
	})
	// `go generate .` runs server.go's directives: gqlgen, then the
	// listexec rewrite of its list marshalling.
	cmd := exec.Command("go", "generate", ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go generate: %v\n%s", err, out)
	}
	for _, f := range generated {
		after, err := os.ReadFile(filepath.Clean(f))
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
		if !bytes.Equal(before[f], after) {
			t.Errorf("%s is stale: run `go generate ./...` and commit the result", f)
		}
	}
}
