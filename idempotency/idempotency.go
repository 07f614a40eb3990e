// Package idempotency remembers the outcome of create mutations by
// idempotency key, so a client's retry — on any gateway instance — returns the
// first result instead of creating a second order or booking.
//
// A key is claimed before the provider is called (SET NX), so two concurrent
// requests with one key cannot both reach the provider; the loser waits for
// the winner's result. The stored record holds a fingerprint of the request:
// the same key with a different request is refused.
package idempotency

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Record is what a key holds.
type Record struct {
	// Fingerprint identifies the request that claimed the key.
	Fingerprint string `json:"fp"`
	// Done is false while the first request is still running.
	Done bool `json:"done"`
	// Result is the encoded result of the first request, once Done.
	Result []byte `json:"result,omitempty"`
	// Format names Result's encoding: FormatJSON, or "" for MessagePack
	// (records written before formats were named).
	Format string `json:"format,omitempty"`
}

// FormatJSON marks a Result encoded with encoding/json.
const FormatJSON = "json"

// Store keeps records. Implementations are safe for concurrent use.
type Store interface {
	// Claim stores a pending record for key unless the key exists. It returns
	// (zero, true) when this caller claimed it, else the existing record.
	Claim(ctx context.Context, key, fingerprint string, ttl time.Duration) (Record, bool, error)
	// Complete stores the first request's result.
	Complete(ctx context.Context, key string, rec Record, ttl time.Duration) error
	// Get returns the record for key, if any.
	Get(ctx context.Context, key string) (Record, bool, error)
	// Release drops a pending claim (the first request failed: a retry may run).
	Release(ctx context.Context, key string) error
}

// Memory is an in-process Store, for a single instance.
type Memory struct {
	mu   sync.Mutex
	now  func() time.Time
	recs map[string]memRecord
}

type memRecord struct {
	Record
	expires time.Time
}

// NewMemory returns an in-process store. now may be nil (time.Now).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, recs: map[string]memRecord{}}
}

func (m *Memory) get(key string) (memRecord, bool) {
	r, ok := m.recs[key]
	if ok && !m.now().Before(r.expires) {
		delete(m.recs, key)
		return memRecord{}, false
	}
	return r, ok
}

// Claim implements Store.
func (m *Memory) Claim(_ context.Context, key, fp string, ttl time.Duration) (Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.get(key); ok {
		return r.Record, false, nil
	}
	m.recs[key] = memRecord{Record: Record{Fingerprint: fp}, expires: m.now().Add(ttl)}
	return Record{}, true, nil
}

// Complete implements Store.
func (m *Memory) Complete(_ context.Context, key string, rec Record, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[key] = memRecord{Record: rec, expires: m.now().Add(ttl)}
	return nil
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, key string) (Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.get(key)
	return r.Record, ok, nil
}

// Release implements Store.
func (m *Memory) Release(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.get(key); ok && !r.Done {
		delete(m.recs, key)
	}
	return nil
}

// Redis is a Store shared by every instance. Keys are prefix + key.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

// NewRedis returns a Redis store; prefix should start with "plaza:".
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix}
}

// Claim implements Store with SET NX: exactly one caller claims a key.
func (r *Redis) Claim(ctx context.Context, key, fp string, ttl time.Duration) (Record, bool, error) {
	val, _ := json.Marshal(Record{Fingerprint: fp})
	ok, err := r.client.SetNX(ctx, r.prefix+key, val, ttl).Result()
	if err != nil {
		return Record{}, false, err
	}
	if ok {
		return Record{}, true, nil
	}
	rec, found, err := r.Get(ctx, key)
	if err != nil {
		return Record{}, false, err
	}
	if !found { // expired between SETNX and GET: try once more
		return r.Claim(ctx, key, fp, ttl)
	}
	return rec, false, nil
}

// Complete implements Store.
func (r *Redis) Complete(ctx context.Context, key string, rec Record, ttl time.Duration) error {
	val, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return r.client.Set(ctx, r.prefix+key, val, ttl).Err()
}

// Get implements Store.
func (r *Redis) Get(ctx context.Context, key string) (Record, bool, error) {
	b, err := r.client.Get(ctx, r.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, err
	}
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil {
		return Record{}, false, err
	}
	return rec, true, nil
}

// releaseScript deletes a key only while it is still pending, so a Release
// racing a Complete cannot delete the stored result.
var releaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.find(v, '"done":false', 1, true) then return redis.call('DEL', KEYS[1]) end
return 0`)

// Release implements Store.
func (r *Redis) Release(ctx context.Context, key string) error {
	return releaseScript.Run(ctx, r.client, []string{r.prefix + key}).Err()
}
