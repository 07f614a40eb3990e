package cache

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a redis-server process owned by one test, on a loopback port that survives restarts.
type redisServer struct {
	tb    testing.TB
	port  int
	extra []string
	cmd   *exec.Cmd
}

// requireRedisServer skips tests that start and kill their own Redis where redis-server is not installed.
func requireRedisServer(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Skip("redis-server is not on PATH: skipping the test that starts, stops and kills its own Redis")
	}
}

// startRedisServer starts redis-server on a free loopback port and stops it when the test ends.
func startRedisServer(tb testing.TB, extra ...string) *redisServer {
	tb.Helper()
	requireRedisServer(tb)
	s := &redisServer{tb: tb, port: freePort(tb), extra: extra}
	s.start()
	tb.Cleanup(s.kill)
	return s
}

func (s *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// start runs redis-server (again) on the same port and waits until it answers PING.
func (s *redisServer) start() {
	s.tb.Helper()
	args := append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.tb.TempDir()}, s.extra...)
	s.cmd = exec.Command("redis-server", args...)
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatalf("start redis-server: %v", err)
	}
	waitForPing(s.tb, s.addr())
}

// kill stops the server abruptly, as a crash would.
func (s *redisServer) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// pause and resume freeze the process, as a hung server or a network partition would.
func (s *redisServer) pause()  { s.signal(syscall.SIGSTOP) }
func (s *redisServer) resume() { s.signal(syscall.SIGCONT) }

func (s *redisServer) signal(sig syscall.Signal) {
	s.tb.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.tb.Fatalf("signal %v to redis-server: %v", sig, err)
	}
}

func waitForPing(tb testing.TB, addr string) {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("redis-server at %s does not answer PING: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePort returns a loopback port nobody listens on, from a range clear of the kernel's ephemeral ports, such that
// port+10000 (a cluster node's bus port) is free too.
func freePort(tb testing.TB) int {
	tb.Helper()
	for range 100 {
		p := 20000 + rand.IntN(10000)
		if portFree(p) && portFree(p+10000) {
			return p
		}
	}
	tb.Fatal("no free loopback port found")
	return 0
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// eventually fails the test unless cond becomes true within d. Call it from the test's goroutine.
func eventually(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	if !waitUntil(d, cond) {
		tb.Fatalf("%s: not true after %v", what, d)
	}
}

// waitUntil polls cond until it is true or d has passed; it is safe in any goroutine.
func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}
