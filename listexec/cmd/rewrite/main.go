// Command rewrite points gqlgen's generated executor at listexec: it replaces
// every call of graphql.MarshalSliceConcurrently in the given file with
// listexec.MarshalSlice (same signature and contract), and of
// graphql.NewDeferredGroup with listexec.NewDeferredGroup, and adds the
// import.
// `go generate` runs it right after gqlgen (see server.go), so the committed
// graph/generated.go is what the two steps produce together.
//
//	go run ./listexec/cmd/rewrite graph/generated.go
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
)

// replacements are applied in order; the first must match (it is how a
// change in gqlgen's output is noticed).
var replacements = []struct{ from, to string }{
	{"graphql.MarshalSliceConcurrently(", "listexec.MarshalSlice("},
	{"graphql.NewDeferredGroup(ctx)", "listexec.NewDeferredGroup(ctx, ec.OperationContext)"},
}

const (
	importLine = "\t\"github.com/plaza-gateway/plaza/listexec\"\n"
	anchor     = "\t\"github.com/99designs/gqlgen/graphql\"\n"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: rewrite graph/generated.go")
		os.Exit(2)
	}
	if err := rewrite(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "rewrite:", err)
		os.Exit(1)
	}
}

func rewrite(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	first := replacements[0]
	if !bytes.Contains(src, []byte(first.from)) {
		if bytes.Contains(src, []byte(first.to)) {
			return nil // already rewritten
		}
		return fmt.Errorf("%s: no %s call: has gqlgen changed how it marshals lists?", path, first.from)
	}
	out := src
	for _, r := range replacements {
		out = bytes.ReplaceAll(out, []byte(r.from), []byte(r.to))
	}
	if !bytes.Contains(out, []byte(importLine)) {
		if !bytes.Contains(out, []byte(anchor)) {
			return fmt.Errorf("%s: no gqlgen graphql import to add listexec after", path)
		}
		out = bytes.Replace(out, []byte(anchor), []byte(anchor+importLine), 1)
	}
	if out, err = format.Source(out); err != nil {
		return fmt.Errorf("%s: rewritten source does not format: %w", path, err)
	}
	return os.WriteFile(path, out, 0o644)
}
