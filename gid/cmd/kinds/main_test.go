package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDeclaredKinds(t *testing.T) {
	const head = "package gateway\n\nvar (\n"
	tests := []struct {
		name    string
		decls   string
		want    []string
		wantErr string
	}{
		{"every declaration's kind, in order",
			"A = declare(Entity[connectors.Grocery, connectors.Store]{Kind: gid.Store, Parent: gid.Doctor})\n" +
				"B = declare(Entity[connectors.Grocery, []connectors.DeliverySlot]{Op: \"x\", Kind: gid.DeliverySlot})\n",
			[]string{"Store", "DeliverySlot"}, ""},
		{"a declaration without a kind fails",
			"A = declare(Entity[connectors.Grocery, connectors.Store]{Op: \"Stores\"})\n",
			nil, "without `Kind: gid.<Kind>`"},
		{"a kind spelled as a string fails: its constant would not be generated",
			"A = declare(Entity[connectors.Grocery, connectors.Store]{Kind: \"Store\"})\n",
			nil, "without `Kind: gid.<Kind>`"},
		{"a kind declared twice fails",
			"A = declare(Entity[connectors.Grocery, connectors.Store]{Kind: gid.Store})\n" +
				"B = declare(Entity[connectors.Grocery, connectors.Store]{Kind: gid.Store})\n",
			[]string{"Store"}, "Store is declared twice"},
		{"a file without declarations fails",
			"A = 1\n", nil, "declares no Entity"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := declaredKinds("kinds.go", []byte(head+tc.decls+")\n"))
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("kinds %v, want %v", got, tc.want)
			}
		})
	}
}

// TestGeneratedKindsAreFresh fails when gid/kinds_gen.go is not what the
// declarations in gateway/kinds.go generate: run `go generate ./...`.
func TestGeneratedKindsAreFresh(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	want, err := generate(root)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, output))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run `go generate ./...`\n--- committed\n%s\n--- generated\n%s", output, got, want)
	}
}
