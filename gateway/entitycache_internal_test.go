package gateway

import (
	"context"
	"strings"
	"testing"

	"github.com/plaza-gateway/plaza/cache"
	"github.com/plaza-gateway/plaza/gid"
)

// keysOf cuts a batch's keys from one string: each must still be exactly
// Key's, whatever the lengths of their parts, with the epoch after it for
// the kinds invalidated per provider.
func TestKeysOfAreKeys(t *testing.T) {
	c := NewEntityCache(cache.NewMemory(100), DefaultCachePolicy(), nil)
	keys := []Key{
		{Provider: "freshcart", ID: "p-000001"},
		{Provider: "gb", ID: "p-1"},
		{Provider: "freshcart", ID: ""},
		{Provider: "a-much-longer-provider-name", ID: "p-000001:with:colons"},
		{Provider: "freshcart", ID: "p-000001"},
	}
	tests := []struct {
		name  string
		kind  gid.Kind
		epoch bool
	}{
		{"a kind invalidated by key", gid.Product, false},
		{"a kind invalidated per provider", gid.Office, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.keysOf(context.Background(), tt.kind, keys)
			if len(got) != len(keys) {
				t.Fatalf("%d keys for %d", len(got), len(keys))
			}
			for i, k := range keys {
				key, epoch, hasEpoch := strings.Cut(got[i], "#")
				if key != c.Key(tt.kind, k) || hasEpoch != tt.epoch || hasEpoch && epoch == "" {
					t.Errorf("key %d = %q, want %q with an epoch: %v", i, got[i], c.Key(tt.kind, k), tt.epoch)
				}
			}
		})
	}
}
