package events

import (
	"context"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Settings stores each user's personalisation choice. Personalisation is on
// until a user turns it off.
type Settings interface {
	Consent
	SetPersonalization(ctx context.Context, user string, on bool) error
}

// MemorySettings is the in-process Settings.
type MemorySettings struct {
	mu  sync.RWMutex
	off map[string]bool
}

var _ Settings = (*MemorySettings)(nil)

// NewMemorySettings returns settings where every user has personalisation on.
func NewMemorySettings() *MemorySettings { return &MemorySettings{off: map[string]bool{}} }

// Personalization implements Consent.
func (m *MemorySettings) Personalization(_ context.Context, user string) (bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return !m.off[user], nil
}

// SetPersonalization implements Settings.
func (m *MemorySettings) SetPersonalization(_ context.Context, user string, on bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if on {
		delete(m.off, user)
	} else {
		m.off[user] = true
	}
	return nil
}

// DefaultSettingsPrefix is the Redis key prefix of user settings.
const DefaultSettingsPrefix = "plaza:v1:settings:"

// RedisSettings keeps settings in Redis under <prefix><user> (a hash with
// field "personalization" = "0" or "1").
//
// Unlike every other Plaza key these have no TTL, on purpose: an opt-out
// that silently expired would start recording a user who said no.
type RedisSettings struct {
	rdb    redis.UniversalClient
	prefix string
}

var _ Settings = (*RedisSettings)(nil)

// NewRedisSettings returns settings over rdb; prefix defaults to
// DefaultSettingsPrefix.
func NewRedisSettings(rdb redis.UniversalClient, prefix string) *RedisSettings {
	if prefix == "" {
		prefix = DefaultSettingsPrefix
	}
	return &RedisSettings{rdb: rdb, prefix: prefix}
}

// Personalization implements Consent. A Redis failure is returned, and the
// Recorder treats it as no consent.
func (s *RedisSettings) Personalization(ctx context.Context, user string) (bool, error) {
	v, err := s.rdb.HGet(ctx, s.prefix+user, "personalization").Result()
	switch {
	case err == redis.Nil:
		return true, nil
	case err != nil:
		return false, fmt.Errorf("settings: read: %w", err)
	}
	return v != "0", nil
}

// SetPersonalization implements Settings.
func (s *RedisSettings) SetPersonalization(ctx context.Context, user string, on bool) error {
	v := "0"
	if on {
		v = "1"
	}
	if err := s.rdb.HSet(ctx, s.prefix+user, "personalization", v).Err(); err != nil {
		return fmt.Errorf("settings: write: %w", err)
	}
	return nil
}
