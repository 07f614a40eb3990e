// Package conformancetest runs the real cmd/demo-provider binary for tests
// that need a provider in its own process, as it runs in production.
package conformancetest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BuildDemoProvider builds cmd/demo-provider into a temporary directory and
// returns the binary's path. The test must run inside the Plaza module.
func BuildDemoProvider(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "demo-provider")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/plaza-gateway/plaza/cmd/demo-provider").CombinedOutput()
	if err != nil {
		tb.Fatalf("go build ./cmd/demo-provider: %v\n%s", err, out)
	}
	return bin
}

// StartDemoProvider runs bin with args on a free loopback port and returns
// its base URL once it listens. The process is interrupted (then killed)
// when the test ends.
func StartDemoProvider(tb testing.TB, bin string, args ...string) string {
	tb.Helper()
	cmd := exec.Command(bin, append(args, "--addr", "127.0.0.1:0")...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", bin, err)
	}
	done := make(chan struct{})
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		for sc.Scan() {
		}
		_ = cmd.Wait()
		close(done)
	}()
	select {
	case line, ok := <-lines:
		i := strings.Index(line, "listening on ")
		if !ok || i < 0 {
			tb.Fatalf("demo-provider %v did not report its address (got %q)", args, line)
		}
		return strings.TrimSpace(line[i+len("listening on "):])
	case <-time.After(20 * time.Second):
		tb.Fatalf("demo-provider %v did not start within 20s", args)
	}
	return ""
}
