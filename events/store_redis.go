package events

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisConfig configures a RedisStore.
type RedisConfig struct {
	// Prefix starts every key (default DefaultPrefix). It must start with
	// "plaza:".
	Prefix string
	// Retention is how long events and counters are kept (default
	// DefaultRetention).
	Retention time.Duration
	// LogCap is the approximate length of the raw log stream (default
	// 1,000,000; trimmed with MAXLEN ~). An entry is at most about 1.5 KB
	// (every text of an Event is bounded), so the log stays under about
	// 1.5 GB at worst and some 300 MB for typical events.
	LogCap int64
	// HistoryCap is how many events are kept per user (default 200).
	HistoryCap int64
	// Distinct is how many distinct fields each counter family keeps per
	// hour; later new ones are counted under "other" (default
	// DefaultDistinct).
	Distinct int
	// Now is the clock that decides expiry (default time.Now).
	Now func() time.Time
}

// RedisStore keeps events in Redis, shared by every gateway instance:
//
//	<prefix>log          stream, one entry per event (field "e": JSON), capped
//	                     with MAXLEN ~ LogCap and trimmed by MINID to retention
//	<prefix>u:<user>     list, the user's recent events, newest first, capped
//	                     with LTRIM at HistoryCap, expires after retention
//	<prefix>h:<hour>     hash, the counters of one hour (Unix seconds of its
//	                     start): field -> count; expires retention after the
//	                     hour ends. Each family keeps at most Distinct
//	                     distinct fields per hour (counted atomically by a
//	                     script, so across instances too); later new queries,
//	                     cities, items or providers are counted together
//	                     under "other"
//
// Everything is bounded by size as well as age: the stream by MAXLEN, a
// history by LTRIM, an hour's hash by Distinct per family, and every text
// in an event by MaxText.
//
// Stream entry IDs are assigned by Redis; the log is trimmed by MINID against
// the server's clock, and Log also filters by event time against the
// store's clock.
type RedisStore struct {
	rdb      redis.UniversalClient
	cfg      RedisConfig
	lastTrim atomic.Int64 // UnixNano of the last trim
}

var _ Store = (*RedisStore)(nil)

// NewRedisStore returns a store over rdb.
func NewRedisStore(rdb redis.UniversalClient, cfg RedisConfig) (*RedisStore, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if len(cfg.Prefix) < 6 || cfg.Prefix[:6] != "plaza:" {
		return nil, fmt.Errorf("events: redis prefix %q must start with \"plaza:\"", cfg.Prefix)
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.LogCap <= 0 {
		cfg.LogCap = 1_000_000
	}
	if cfg.HistoryCap <= 0 {
		cfg.HistoryCap = 200
	}
	if cfg.Distinct <= 0 {
		cfg.Distinct = DefaultDistinct
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &RedisStore{rdb: rdb, cfg: cfg}, nil
}

func (s *RedisStore) logKey() string             { return s.cfg.Prefix + "log" }
func (s *RedisStore) userKey(user string) string { return s.cfg.Prefix + "u:" + user }
func (s *RedisStore) hourKey(hour int64) string {
	return s.cfg.Prefix + "h:" + strconv.FormatInt(hour, 10)
}
func (s *RedisStore) cutoff() time.Time { return s.cfg.Now().Add(-s.cfg.Retention) }
func (s *RedisStore) bucketTTL(h int64) time.Duration {
	return time.Unix(h, 0).Add(Bucket + s.cfg.Retention).Sub(s.cfg.Now())
}

// Append implements Store: one pipeline for the whole batch, in which the
// raw log gets every event by one script run (appendScript) rather than one
// XADD each: a list of 50 viewed is 50 events, and the writer must keep up
// with them on the gateway's core. It yields the core every yieldEvery
// events it encodes: the writer runs beside the requests, and a batch of
// 2,048 events encoded in one go held a saturated core for milliseconds
// while every request waited (the cached list of 50's p99).
func (s *RedisStore) Append(ctx context.Context, evs []Event) error {
	return s.appendEvents(ctx, evs, true)
}

// appendBounded is Append of events the Recorder bounded when they were
// queued (boundedAppender).
func (s *RedisStore) appendBounded(ctx context.Context, evs []Event) error {
	return s.appendEvents(ctx, evs, false)
}

func (s *RedisStore) appendEvents(ctx context.Context, evs []Event, bound bool) error {
	cut := s.cutoff()
	bp := appendBuffers.Get().(*[]byte)
	defer appendBuffers.Put(bp)
	buf := (*bp)[:0]
	type pushed struct {
		user       string
		start, end int
	}
	var pushes []pushed
	var times timeText
	chunks := []int{0} // where each script run's events start in buf
	n := 0
	for _, ev := range evs {
		if ev.Time.Before(cut) {
			continue
		}
		start := len(buf)
		if n > 0 && n%appendChunk == 0 {
			chunks = append(chunks, start)
		}
		n++
		if n%yieldEvery == 0 {
			runtime.Gosched()
		}
		if bound {
			ev = ev.bounded()
		}
		var err error
		if buf, err = appendJSON(buf, &ev, &times); err != nil {
			*bp = buf
			return fmt.Errorf("events: encode: %w", err)
		}
		if ev.User != "" {
			pushes = append(pushes, pushed{ev.User, start, len(buf)})
		}
		buf = append(buf, '\n')
	}
	*bp = buf
	if n == 0 {
		return nil
	}
	logKey := s.logKey()
	pipe := s.rdb.Pipeline()
	chunks = append(chunks, len(buf))
	for i := 1; i < len(chunks); i++ {
		appendScript.Eval(ctx, pipe, []string{logKey}, s.cfg.LogCap, buf[chunks[i-1]:chunks[i]])
	}
	users := map[string]bool{}
	for _, p := range pushes {
		pipe.LPush(ctx, s.userKey(p.user), buf[p.start:p.end])
		users[p.user] = true
	}
	for u := range users {
		pipe.LTrim(ctx, s.userKey(u), 0, s.cfg.HistoryCap-1)
		pipe.Expire(ctx, s.userKey(u), s.cfg.Retention)
	}
	pipe.Expire(ctx, logKey, s.cfg.Retention)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("events: append: %w", err)
	}
	return s.trim(ctx)
}

// appendChunk is the most events one script run adds: Redis serves no other
// client while a script runs, so a big batch goes as several runs in one
// pipeline (one round trip still), each some 0.3 ms of Redis's time.
const appendChunk = 256

// appendBuffers recycles Append's encoding buffer (a batch of 256 events is
// some 50 KB of JSON).
var appendBuffers = sync.Pool{New: func() any { return new([]byte) }}

// yieldEvery is how many events the writer handles between two yields of
// the core (runtime.Gosched).
const yieldEvery = 256

// appendScript adds each line of ARGV[2] (one event's JSON per line: JSON
// text holds no raw newline) to the stream KEYS[1] as its own entry, field
// "e", capped with MAXLEN ~ ARGV[1]: the entries one XADD per event would
// add, for one command. It is sent with EVAL in the pipeline (EVALSHA
// cannot fall back to EVAL there); Redis caches the compiled script.
var appendScript = redis.NewScript(`
local key, cap = KEYS[1], ARGV[1]
for e in string.gmatch(ARGV[2], "[^\n]+") do
  redis.call("XADD", key, "MAXLEN", "~", cap, "*", "e", e)
end
return 0
`)

// trimEvery is how often the log is trimmed to retention: the cut is
// approximate anyway (MINID ~), and Log filters by event time.
const trimEvery = time.Minute

// trim drops stream entries older than retention, at most once per
// trimEvery. Entry IDs are the server's clock, so the cut is computed from
// the server's TIME, not from the store's clock.
func (s *RedisStore) trim(ctx context.Context) error {
	last := s.lastTrim.Load()
	if now := time.Now().UnixNano(); now-last < int64(trimEvery) || !s.lastTrim.CompareAndSwap(last, now) {
		return nil
	}
	server, err := s.rdb.Time(ctx).Result()
	if err != nil {
		return fmt.Errorf("events: trim: %w", err)
	}
	minID := strconv.FormatInt(server.Add(-s.cfg.Retention).UnixMilli(), 10)
	if err := s.rdb.XTrimMinIDApprox(ctx, s.logKey(), minID, 0).Err(); err != nil {
		return fmt.Errorf("events: trim: %w", err)
	}
	return nil
}

// addScript is Counts.addCapped in Redis, for one hour's hash: KEYS[1] is
// the hash, ARGV[1] the distinct fields per family, ARGV[2] the TTL in
// milliseconds, then (field, overflow field, distinct field, delta) per
// counter. Atomic, so instances sharing the hash share the cap.
var addScript = redis.NewScript(`
local key, limit = KEYS[1], tonumber(ARGV[1])
for i = 3, #ARGV, 4 do
  local f, other, distinct = ARGV[i], ARGV[i+1], ARGV[i+2]
  if distinct ~= "" and redis.call("HEXISTS", key, f) == 0 then
    if tonumber(redis.call("HGET", key, distinct) or "0") < limit then
      redis.call("HINCRBY", key, distinct, 1)
    else
      f = other
    end
  end
  redis.call("HINCRBY", key, f, ARGV[i+3])
end
redis.call("PEXPIRE", key, ARGV[2])
return 0
`)

// Add implements Store: one script run per hour in c. Buckets already past
// retention are not written.
func (s *RedisStore) Add(ctx context.Context, c Counts) error {
	for h, fields := range c {
		ttl := s.bucketTTL(h)
		if ttl <= 0 || len(fields) == 0 {
			continue
		}
		args := make([]any, 0, 2+4*len(fields))
		args = append(args, s.cfg.Distinct, ttl.Milliseconds())
		for f, v := range fields {
			other, distinct := overflow(f)
			args = append(args, f, other, distinct, v)
		}
		if err := addScript.Run(ctx, s.rdb, []string{s.hourKey(h)}, args...).Err(); err != nil && err != redis.Nil {
			return fmt.Errorf("events: counters: %w", err)
		}
	}
	return nil
}

// Counts implements Store: one HGETALL per hour in range, pipelined.
func (s *RedisStore) Counts(ctx context.Context, from, to time.Time) (Counts, error) {
	lo, hi := hourOf(maxTime(from, s.cutoff())), to.Unix()
	pipe := s.rdb.Pipeline()
	cmds := map[int64]*redis.MapStringStringCmd{}
	for h := lo; h < hi; h += int64(Bucket / time.Second) {
		cmds[h] = pipe.HGetAll(ctx, s.hourKey(h))
	}
	out := Counts{}
	if len(cmds) == 0 {
		return out, nil
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("events: read counters: %w", err)
	}
	for h, cmd := range cmds {
		m, err := cmd.Result()
		if err != nil || len(m) == 0 {
			continue
		}
		fields := make(map[string]int64, len(m))
		for f, v := range m {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				fields[f] = n
			}
		}
		out[h] = fields
	}
	return out, nil
}

// Log implements Store by scanning the stream in pages.
func (s *RedisStore) Log(ctx context.Context, from, to time.Time) ([]Event, error) {
	from = maxTime(from, s.cutoff())
	var out []Event
	start := "-"
	for {
		msgs, err := s.rdb.XRangeN(ctx, s.logKey(), start, "+", 1000).Result()
		if err != nil {
			return nil, fmt.Errorf("events: read log: %w", err)
		}
		for _, m := range msgs {
			ev, ok := decodeEvent(m.Values["e"])
			if ok && !ev.Time.Before(from) && ev.Time.Before(to) {
				out = append(out, ev)
			}
		}
		if len(msgs) < 1000 {
			break
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// History implements Store.
func (s *RedisStore) History(ctx context.Context, user string, n int) ([]Event, error) {
	raws, err := s.rdb.LRange(ctx, s.userKey(user), 0, int64(n)-1).Result()
	if err != nil && err != redis.Nil {
		return nil, fmt.Errorf("events: read history: %w", err)
	}
	cut := s.cutoff()
	var out []Event
	for _, raw := range raws {
		if ev, ok := decodeEvent(raw); ok && !ev.Time.Before(cut) {
			out = append(out, ev)
		}
	}
	return out, nil
}

// Forget implements Store.
func (s *RedisStore) Forget(ctx context.Context, user string) error {
	if err := s.rdb.Del(ctx, s.userKey(user)).Err(); err != nil {
		return fmt.Errorf("events: forget: %w", err)
	}
	return nil
}

func decodeEvent(v any) (Event, bool) {
	var ev Event
	str, ok := v.(string)
	if !ok || json.Unmarshal([]byte(str), &ev) != nil {
		return ev, false
	}
	return ev, true
}
