package idempotency_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/cache/cachetest"
	"github.com/plaza-gateway/plaza/idempotency"
)

func stores(t *testing.T) map[string]idempotency.Store {
	return map[string]idempotency.Store{
		"memory": idempotency.NewMemory(nil),
		"redis":  idempotency.NewRedis(cachetest.Redis(t), cachetest.Prefix(t)),
	}
}

func TestStoresBehaveAlike(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("the first claim wins and later claims see its record", func(t *testing.T) {
				_, claimed, err := s.Claim(ctx, "k1", "fp-a", time.Minute)
				if err != nil || !claimed {
					t.Fatalf("first claim: claimed=%v err=%v", claimed, err)
				}
				rec, claimed, err := s.Claim(ctx, "k1", "fp-b", time.Minute)
				if err != nil || claimed {
					t.Fatalf("second claim: claimed=%v err=%v", claimed, err)
				}
				if rec.Fingerprint != "fp-a" || rec.Done {
					t.Fatalf("record = %+v, want pending fp-a", rec)
				}
			})
			t.Run("a completed record carries the result", func(t *testing.T) {
				if _, _, err := s.Claim(ctx, "k2", "fp", time.Minute); err != nil {
					t.Fatal(err)
				}
				if err := s.Complete(ctx, "k2", idempotency.Record{Fingerprint: "fp", Done: true, Result: []byte("order-1")}, time.Minute); err != nil {
					t.Fatal(err)
				}
				rec, found, err := s.Get(ctx, "k2")
				if err != nil || !found || !rec.Done || string(rec.Result) != "order-1" {
					t.Fatalf("get = %+v found=%v err=%v", rec, found, err)
				}
			})
			t.Run("release frees a pending key but never a completed one", func(t *testing.T) {
				_, _, _ = s.Claim(ctx, "k3", "fp", time.Minute)
				if err := s.Release(ctx, "k3"); err != nil {
					t.Fatal(err)
				}
				if _, claimed, _ := s.Claim(ctx, "k3", "fp", time.Minute); !claimed {
					t.Fatal("released key could not be claimed again")
				}
				if err := s.Release(ctx, "k2"); err != nil {
					t.Fatal(err)
				}
				if rec, found, _ := s.Get(ctx, "k2"); !found || !rec.Done {
					t.Fatal("release deleted a completed record")
				}
			})
			t.Run("exactly one of many concurrent claims wins", func(t *testing.T) {
				var wins atomic.Int32
				var wg sync.WaitGroup
				for range 20 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if _, claimed, err := s.Claim(ctx, "race", "fp", time.Minute); err == nil && claimed {
							wins.Add(1)
						}
					}()
				}
				wg.Wait()
				if wins.Load() != 1 {
					t.Fatalf("%d claims won, want 1", wins.Load())
				}
			})
		})
	}
}

func TestMemoryExpires(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := idempotency.NewMemory(func() time.Time { return now })
	ctx := context.Background()
	_, _, _ = s.Claim(ctx, "k", "fp", time.Hour)
	now = now.Add(time.Hour)
	if _, found, _ := s.Get(ctx, "k"); found {
		t.Fatal("record outlived its TTL")
	}
}
