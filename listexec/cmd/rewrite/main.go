// Command rewrite points gqlgen's generated executor at listexec. It works
// on the Go syntax tree, not on text, so gqlgen's layout does not matter,
// and it checks that every rule found exactly the calls and fields gqlgen
// generated for it: any mismatch fails `go generate` (see Rewrite).
//
// `go generate` runs it right after gqlgen (see server.go), so the committed
// graph/generated.go is what the two steps produce together.
//
//	go run ./listexec/cmd/rewrite [-rules lists,defer,fields] graph/generated.go
//
// -rules picks a subset, to measure what each rule is worth (see
// scripts/bench-rewrites.sh); `go generate` applies them all.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	rules := flag.String("rules", strings.Join(RuleNames(), ","), "comma-separated rules to apply")
	list := flag.Bool("list", false, "print the rules, comma-separated, and exit")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: rewrite [-rules lists,defer,fields] graph/generated.go")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *list {
		fmt.Println(strings.Join(RuleNames(), ","))
		return
	}
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), strings.Split(*rules, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "rewrite:", err)
		os.Exit(1)
	}
}

func run(path string, rules []string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, counts, err := Rewrite(src, rules)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if counts == nil {
		return nil // already rewritten
	}
	for _, r := range rules {
		fmt.Printf("rewrite: %s: %d rewritten\n", r, counts[r])
	}
	return os.WriteFile(path, out, 0o644)
}
