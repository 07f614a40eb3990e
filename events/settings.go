package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Settings stores each user's personalisation choice (on until a user
// turns it off) and profile.
type Settings interface {
	Consent
	SetPersonalization(ctx context.Context, user string, on bool) error
	Profiles
}

// MemorySettings is the in-process Settings.
type MemorySettings struct {
	mu  sync.RWMutex
	off map[string]bool
	*MemoryProfiles
}

var _ Settings = (*MemorySettings)(nil)

// NewMemorySettings returns settings where every user has personalisation on.
func NewMemorySettings() *MemorySettings {
	return &MemorySettings{off: map[string]bool{}, MemoryProfiles: NewMemoryProfiles()}
}

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

// The user's profile lives beside the personalisation choice, in the same
// store (the same Redis hash): a name, a default city and saved delivery
// addresses.

// Address is a saved delivery address. ID is assigned by the store
// ("a1", "a2", ... per user); saving with an existing ID replaces it.
type Address struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	Line  string `json:"line"`
	City  string `json:"city"`
}

// Profile is what a user told Plaza about themselves.
type Profile struct {
	Name        string
	DefaultCity string
	// Addresses in the order they were first saved.
	Addresses []Address
}

// MaxAddresses bounds a user's saved addresses, so one user cannot grow
// the store without bound.
const MaxAddresses = 20

// ErrTooManyAddresses refuses a new address past MaxAddresses.
var ErrTooManyAddresses = fmt.Errorf("at most %d saved addresses: replace or remove one", MaxAddresses)

// ErrNoSuchAddress is a save naming an address ID the user does not have.
var ErrNoSuchAddress = errors.New("no saved address with this id")

// Profiles stores users' profiles.
type Profiles interface {
	Profile(ctx context.Context, user string) (Profile, error)
	// SaveAddress adds a (its ID empty) or replaces the address with its
	// ID, and returns it with its ID.
	SaveAddress(ctx context.Context, user string, a Address) (Address, error)
	SetDefaultCity(ctx context.Context, user, city string) error
	SetName(ctx context.Context, user, name string) error
}

// MemoryProfiles is the in-process Profiles.
type MemoryProfiles struct {
	mu       sync.Mutex
	profiles map[string]*Profile
}

var _ Profiles = (*MemoryProfiles)(nil)

// NewMemoryProfiles returns an empty in-process profile store.
func NewMemoryProfiles() *MemoryProfiles { return &MemoryProfiles{profiles: map[string]*Profile{}} }

func (m *MemoryProfiles) get(user string) *Profile {
	p, ok := m.profiles[user]
	if !ok {
		p = &Profile{}
		m.profiles[user] = p
	}
	return p
}

// Profile implements Profiles.
func (m *MemoryProfiles) Profile(_ context.Context, user string) (Profile, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := *m.get(user)
	p.Addresses = slices.Clone(p.Addresses)
	return p, nil
}

// SaveAddress implements Profiles.
func (m *MemoryProfiles) SaveAddress(_ context.Context, user string, a Address) (Address, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.get(user)
	if a.ID != "" {
		i := slices.IndexFunc(p.Addresses, func(b Address) bool { return b.ID == a.ID })
		if i < 0 {
			return Address{}, ErrNoSuchAddress
		}
		p.Addresses[i] = a
		return a, nil
	}
	if len(p.Addresses) >= MaxAddresses {
		return Address{}, ErrTooManyAddresses
	}
	n := 1
	for _, b := range p.Addresses {
		n = max(n, addressSeq(b.ID)+1)
	}
	a.ID = "a" + strconv.Itoa(n)
	p.Addresses = append(p.Addresses, a)
	return a, nil
}

// SetDefaultCity implements Profiles.
func (m *MemoryProfiles) SetDefaultCity(_ context.Context, user, city string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.get(user).DefaultCity = city
	return nil
}

// SetName implements Profiles.
func (m *MemoryProfiles) SetName(_ context.Context, user, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.get(user).Name = name
	return nil
}

func addressSeq(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "a"))
	return n
}

// Redis fields of the profile, in the settings hash <prefix><user>.
const (
	fieldName        = "name"
	fieldDefaultCity = "defaultCity"
	fieldAddress     = "address:" // + ID, the address as JSON
)

var _ Profiles = (*RedisSettings)(nil)

// Profile implements Profiles: one HGETALL.
func (s *RedisSettings) Profile(ctx context.Context, user string) (Profile, error) {
	all, err := s.rdb.HGetAll(ctx, s.prefix+user).Result()
	if err != nil {
		return Profile{}, fmt.Errorf("settings: read profile: %w", err)
	}
	p := Profile{Name: all[fieldName], DefaultCity: all[fieldDefaultCity]}
	for k, v := range all {
		if !strings.HasPrefix(k, fieldAddress) {
			continue
		}
		var a Address
		if err := json.Unmarshal([]byte(v), &a); err != nil {
			return Profile{}, fmt.Errorf("settings: read address %s: %w", k, err)
		}
		p.Addresses = append(p.Addresses, a)
	}
	slices.SortFunc(p.Addresses, func(a, b Address) int { return addressSeq(a.ID) - addressSeq(b.ID) })
	return p, nil
}

// saveAddress adds or replaces one address field atomically: a new one
// takes the next sequence number unless the user already has
// MaxAddresses; a replacement must exist. Returns the ID, "" for too many,
// "-" for no such address.
var saveAddress = redis.NewScript(`
local id = ARGV[1]
if id == "" then
  local n = 0
  for _, k in ipairs(redis.call("HKEYS", KEYS[1])) do
    if string.sub(k, 1, 8) == "address:" then n = n + 1 end
  end
  if n >= tonumber(ARGV[3]) then return "" end
  id = "a" .. redis.call("HINCRBY", KEYS[1], "addressSeq", 1)
elseif redis.call("HEXISTS", KEYS[1], "address:" .. id) == 0 then
  return "-"
end
local a = cjson.decode(ARGV[2])
a["id"] = id
redis.call("HSET", KEYS[1], "address:" .. id, cjson.encode(a))
return id
`)

// SaveAddress implements Profiles.
func (s *RedisSettings) SaveAddress(ctx context.Context, user string, a Address) (Address, error) {
	body, err := json.Marshal(a)
	if err != nil {
		return Address{}, fmt.Errorf("settings: save address: %w", err)
	}
	id, err := saveAddress.Run(ctx, s.rdb, []string{s.prefix + user}, a.ID, body, MaxAddresses).Text()
	switch {
	case err != nil:
		return Address{}, fmt.Errorf("settings: save address: %w", err)
	case id == "":
		return Address{}, ErrTooManyAddresses
	case id == "-":
		return Address{}, ErrNoSuchAddress
	}
	a.ID = id
	return a, nil
}

// SetDefaultCity implements Profiles.
func (s *RedisSettings) SetDefaultCity(ctx context.Context, user, city string) error {
	return s.setField(ctx, user, fieldDefaultCity, city)
}

// SetName implements Profiles.
func (s *RedisSettings) SetName(ctx context.Context, user, name string) error {
	return s.setField(ctx, user, fieldName, name)
}

func (s *RedisSettings) setField(ctx context.Context, user, field, v string) error {
	if err := s.rdb.HSet(ctx, s.prefix+user, field, v).Err(); err != nil {
		return fmt.Errorf("settings: write %s: %w", field, err)
	}
	return nil
}
