package resilience

import "time"

// ProviderConfig tunes the policy for one provider. In Config.Providers a zero
// field means "inherit Config.Defaults", and a zero field of Config.Defaults
// means "use DefaultProviderConfig", so a registry entry only names what it
// changes. Fields where zero would be a meaningful setting take a negative
// value to switch the feature off, as documented on each field.
type ProviderConfig struct {
	// Timeout bounds one attempt. It is applied inside the caller's deadline and
	// never extends it. Negative: no per-attempt timeout (the caller's deadline
	// still applies).
	Timeout time.Duration

	// MaxConcurrent caps the provider's calls in flight (the bulkhead).
	// Negative: unlimited.
	MaxConcurrent int
	// QueueTimeout is how long a call waits for a free slot when the bulkhead
	// is full before it fails with PROVIDER_UNAVAILABLE "provider at capacity".
	QueueTimeout time.Duration

	// MaxRetries is how many times a failed read may be tried again.
	// Mutations are never retried. Negative: no retries.
	MaxRetries int
	// RetryTimeouts lets a read whose attempt timed out be retried too.
	// Off by default: a timed-out attempt has already used the provider's
	// whole timeout, so a retry doubles what the client waits on a stalled
	// provider (the breaker handles those); fast failures (unavailable,
	// rate limited, marked retryable) are retried either way.
	RetryTimeouts bool
	// BaseBackoff is the ceiling of the first retry's jittered wait; the ceiling
	// doubles on each retry up to MaxBackoff.
	BaseBackoff time.Duration
	// MaxBackoff caps the backoff ceiling.
	MaxBackoff time.Duration
	// MaxRetryWait is the longest a read waits before one retry, a provider's
	// Retry-After included. A provider that asks for longer is not retried:
	// an interactive query is better served by a prompt RATE_LIMITED.
	MaxRetryWait time.Duration
	// RetryRatio is the share of calls that may be retries: every call deposits
	// RetryRatio tokens into the provider's retry budget, every retry spends one.
	RetryRatio float64
	// MinRetriesPerSecond is a floor on the retry budget that refills with time,
	// so a provider with little traffic can still retry once in a while.
	// Negative: no floor.
	MinRetriesPerSecond float64
	// RetryBurst caps the tokens that calls can save up, so a long healthy spell
	// does not buy a retry storm when the provider goes down.
	RetryBurst float64

	// BreakerConsecutiveFailures opens the breaker after this many consecutive
	// provider-side failures. Negative: this rule is off.
	BreakerConsecutiveFailures int
	// BreakerFailureRatio opens the breaker when at least this share of the
	// outcomes in BreakerWindow were provider-side failures, once there are
	// BreakerMinRequests outcomes. Negative: this rule is off.
	BreakerFailureRatio float64
	// BreakerMinRequests is the number of outcomes in the window the ratio rule
	// needs before it can trip.
	BreakerMinRequests int
	// BreakerWindow is the sliding window (ten buckets) over which the breaker
	// counts outcomes while closed. It is also the memory of Status: a provider
	// with failures in the window is DEGRADED.
	BreakerWindow time.Duration
	// BreakerCooldown is how long the breaker stays open before it lets probes
	// through (half-open).
	BreakerCooldown time.Duration
	// BreakerProbes is how many calls the half-open breaker lets through; it
	// closes once that many succeed in a row and reopens on any failure.
	BreakerProbes int
}

// Config is the policy's configuration.
type Config struct {
	// Defaults applies to every provider; zero fields use DefaultProviderConfig.
	Defaults ProviderConfig
	// Providers overrides Defaults per provider ID; zero fields inherit.
	Providers map[string]ProviderConfig
	// Lookup, when set, replaces Providers: it returns provider id's
	// overrides (zero fields inherit), read when the provider's state is
	// built. It is how a directory of a million providers hands over its
	// settings without a map of them (Policy.SetProviderLookup).
	Lookup func(id string) (ProviderConfig, bool)
	// MaxProviders bounds the providers whose state (breaker, bulkhead,
	// retry budget, about 1 KiB each) the policy holds; past it the least
	// recently called one not in a call is dropped. Default
	// DefaultMaxProviders.
	MaxProviders int
	// IdleAfter drops the state of a provider not called for this long
	// (default DefaultIdleAfter; negative: only MaxProviders drops state).
	IdleAfter time.Duration
}

// Bounds of the per-provider state. A provider's state is worth keeping
// while its breaker remembers something (BreakerWindow, BreakerCooldown:
// seconds), so dropping it after minutes of silence loses nothing: its
// next call starts with a closed breaker, as after a restart, and a dead
// provider trips it again within BreakerConsecutiveFailures calls. 10,000
// providers called within five minutes hold about 10 MiB (BenchmarkProviderState).
const (
	DefaultMaxProviders = 10_000
	DefaultIdleAfter    = 5 * time.Minute
)

// DefaultProviderConfig returns the built-in defaults. They are sized for an
// interactive GraphQL gateway whose requests have a few seconds in total:
//
//   - Timeout 3s matches gateway.DefaultConfig's ProviderTimeout.
//   - MaxConcurrent 64 with a 50ms queue: far above what one healthy provider
//     needs on a small node, low enough that a hung provider holds at most 64
//     goroutines; waiting longer than 50ms for a slot only piles up requests.
//   - Two retries with full jitter from 25ms up to 400ms: a blip is absorbed in
//     well under a second; MaxRetryWait 1s refuses Retry-After hints that would
//     eat most of a request's budget.
//   - Retry budget 10% of calls, a floor of 3 retries/s, bursts of at most 10:
//     the usual retry-budget numbers (Finagle, gRPC); under a full outage the
//     retries add at most ~10% load.
//   - Breaker: 5 consecutive failures, or 50% of at least 20 outcomes in 10s;
//     5s open, then 3 probes. Five in a row is rare for a healthy provider; the
//     ratio rule catches a provider that fails half the time without ever
//     failing five in a row. A 5s cool-down keeps a dead provider cheap while
//     letting a recovered one back quickly.
func DefaultProviderConfig() ProviderConfig {
	return ProviderConfig{
		Timeout:                    3 * time.Second,
		MaxConcurrent:              64,
		QueueTimeout:               50 * time.Millisecond,
		MaxRetries:                 2,
		BaseBackoff:                25 * time.Millisecond,
		MaxBackoff:                 400 * time.Millisecond,
		MaxRetryWait:               time.Second,
		RetryRatio:                 0.1,
		MinRetriesPerSecond:        3,
		RetryBurst:                 10,
		BreakerConsecutiveFailures: 5,
		BreakerFailureRatio:        0.5,
		BreakerMinRequests:         20,
		BreakerWindow:              10 * time.Second,
		BreakerCooldown:            5 * time.Second,
		BreakerProbes:              3,
	}
}

// DefaultConfig returns a Config whose Defaults are DefaultProviderConfig.
func DefaultConfig() Config { return Config{Defaults: DefaultProviderConfig()} }

// inherit returns c with its zero fields taken from base.
func (c ProviderConfig) inherit(base ProviderConfig) ProviderConfig {
	pick(&c.Timeout, base.Timeout)
	pick(&c.MaxConcurrent, base.MaxConcurrent)
	pick(&c.QueueTimeout, base.QueueTimeout)
	pick(&c.MaxRetries, base.MaxRetries)
	c.RetryTimeouts = c.RetryTimeouts || base.RetryTimeouts
	pick(&c.BaseBackoff, base.BaseBackoff)
	pick(&c.MaxBackoff, base.MaxBackoff)
	pick(&c.MaxRetryWait, base.MaxRetryWait)
	pick(&c.RetryRatio, base.RetryRatio)
	pick(&c.MinRetriesPerSecond, base.MinRetriesPerSecond)
	pick(&c.RetryBurst, base.RetryBurst)
	pick(&c.BreakerConsecutiveFailures, base.BreakerConsecutiveFailures)
	pick(&c.BreakerFailureRatio, base.BreakerFailureRatio)
	pick(&c.BreakerMinRequests, base.BreakerMinRequests)
	pick(&c.BreakerWindow, base.BreakerWindow)
	pick(&c.BreakerCooldown, base.BreakerCooldown)
	pick(&c.BreakerProbes, base.BreakerProbes)
	return c
}

func pick[T comparable](field *T, base T) {
	var zero T
	if *field == zero {
		*field = base
	}
}

// resolve returns the effective settings of provider id.
func (c Config) resolve(id string) ProviderConfig {
	var own ProviderConfig
	if c.Lookup != nil {
		own, _ = c.Lookup(id)
	} else {
		own = c.Providers[id]
	}
	return own.inherit(c.Defaults.inherit(DefaultProviderConfig()))
}
