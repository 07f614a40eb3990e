package cache

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startRedisCluster starts three cluster-enabled redis-server nodes, joins them with redis-cli --cluster create (no
// replicas), and waits until every node reports cluster_state:ok. The nodes and their files go away with the test.
func startRedisCluster(tb testing.TB) []string {
	tb.Helper()
	requireRedisServer(tb)
	if _, err := exec.LookPath("redis-cli"); err != nil {
		tb.Skip("redis-cli is not on PATH: skipping the Redis Cluster test")
	}
	var addrs []string
	for i := range 3 {
		conf := filepath.Join(tb.TempDir(), fmt.Sprintf("nodes-%d.conf", i))
		srv := startRedisServer(tb, "--cluster-enabled", "yes", "--cluster-config-file", conf,
			"--cluster-node-timeout", "5000")
		addrs = append(addrs, srv.addr())
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		tb.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, addr := range addrs {
		c := redis.NewClient(&redis.Options{Addr: addr})
		eventually(tb, 20*time.Second, addr+" reports cluster_state:ok", func() bool {
			info, err := c.ClusterInfo(context.Background()).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok")
		})
		_ = c.Close()
	}
	return addrs
}

func TestRedisCluster(t *testing.T) {
	addrs := startRedisCluster(t)
	ctx := context.Background()
	newClient := func() *redis.ClusterClient {
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	newCache := func() *Redis {
		r := NewRedis(newClient(), WithPrefix("plaza:test:cluster:"), WithTimeout(2*time.Second))
		t.Cleanup(r.Close)
		return r
	}

	t.Run("reads, writes and deletes batches that span hash slots on every node", func(t *testing.T) {
		client := newClient()
		r := NewRedis(client, WithPrefix("plaza:test:cluster:"), WithTimeout(2*time.Second))
		t.Cleanup(r.Close)
		keys := make([]string, 50)
		items := make([]Item, 50)
		want := make([]Entry, 50)
		nodes := map[string]bool{}
		for i := range keys {
			keys[i] = fmt.Sprintf("Product:p:%d", i)
			items[i] = item(keys[i], keys[i])
			want[i] = fresh(keys[i])
			master, err := client.MasterForKey(ctx, "plaza:test:cluster:"+keys[i])
			if err != nil {
				t.Fatal(err)
			}
			nodes[master.Options().Addr] = true
		}
		if len(nodes) != 3 {
			t.Fatalf("the batch lands on %d nodes, want all 3", len(nodes))
		}
		mustSet(t, r, items...)
		mustGet(t, r, append(keys, "missing"), append(want, Entry{})...)
		if err := r.DeleteMany(ctx, keys[:25]); err != nil {
			t.Fatal(err)
		}
		mustGet(t, r, keys, append(make([]Entry, 25), want[25:]...)...)
		if s := r.Stats(); s.Errors != 0 || !r.Healthy() {
			t.Errorf("Stats() = %+v, healthy %v; want no errors", s, r.Healthy())
		}
	})

	t.Run("drops a key deleted on another instance from its L1", func(t *testing.T) {
		a := newTestTiered(t, newCache(), WithL1TTL(time.Hour))
		b := newTestTiered(t, newCache(), WithL1TTL(time.Hour))
		mustSet(t, a, item("Store:p:1", "old"), item("Store:p:2", "kept"))
		mustGet(t, b, []string{"Store:p:1", "Store:p:2"}, fresh("old"), fresh("kept"))
		if err := a.DeleteMany(ctx, []string{"Store:p:1", "Store:p:2"}); err != nil {
			t.Fatal(err)
		}
		eventually(t, time.Second, "b's L1 forgets both keys", func() bool {
			return !inL1(b, "Store:p:1") && !inL1(b, "Store:p:2")
		})
		mustGet(t, b, []string{"Store:p:1", "Store:p:2"}, Entry{}, Entry{})
	})
}
