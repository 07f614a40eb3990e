package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMELayout keeps the README's layout table in step with the
// packages: every directory holding Go code is named there (as an entry of
// its own, or inside its parent's entry, as conformancetest/ is), and every
// entry names a directory that exists.
func TestREADMELayout(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := layoutBlock(t, string(readme))
	entries := map[string]string{} // entry path -> its text (continuation lines included)
	var last string
	for _, line := range strings.Split(block, "\n") {
		if m := regexp.MustCompile(`^([a-z][\w./-]*/)\s`).FindStringSubmatch(line); m != nil {
			last = strings.TrimSuffix(m[1], "/")
			entries[last] = line
			continue
		}
		if last != "" && strings.HasPrefix(line, " ") {
			entries[last] += "\n" + line
		}
	}
	for e := range entries {
		if st, err := os.Stat(e); err != nil || !st.IsDir() {
			t.Errorf("README layout names %s/, which is not a directory", e)
		}
	}
	for _, dir := range goDirs(t) {
		if !covered(dir, entries, block) {
			t.Errorf("package directory %s/ is not in the README's layout table", dir)
		}
	}
}

// covered: dir is an entry, or is named inside the entry of an ancestor
// (by its path below that ancestor) or anywhere in the block by its full path.
func covered(dir string, entries map[string]string, block string) bool {
	if _, ok := entries[dir]; ok || strings.Contains(block, dir) {
		return true
	}
	for a := filepath.Dir(dir); a != "."; a = filepath.Dir(a) {
		if text, ok := entries[a]; ok && strings.Contains(text, strings.TrimPrefix(dir, a+"/")) {
			return true
		}
	}
	return false
}

func layoutBlock(t *testing.T, readme string) string {
	t.Helper()
	_, after, ok := strings.Cut(readme, "\n## Layout\n")
	if !ok {
		t.Fatal(`README has no "## Layout" section`)
	}
	_, after, ok = strings.Cut(after, "```\n")
	if !ok {
		t.Fatal("README's layout section has no code block")
	}
	block, _, ok := strings.Cut(after, "```")
	if !ok {
		t.Fatal("README's layout code block is not closed")
	}
	return block
}

// goDirs lists the directories below the root holding non-test Go files.
func goDirs(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || path == "bench/work") {
				return filepath.SkipDir
			}
			return nil
		}
		dir := filepath.Dir(path)
		if dir == "." || seen[dir] || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		seen[dir] = true
		out = append(out, filepath.ToSlash(dir))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
