package resilience

import (
	"context"
	"errors"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/plaza-gateway/plaza/connectors"
)

// breaker is a provider's circuit breaker. gobreaker judges outcomes by the
// error its request returns; the policy hands it one of these sentinels
// instead of the provider's error so that the judgement is made here, with
// the caller's context at hand.
type breaker = gobreaker.CircuitBreaker[struct{}]

var (
	errFailure  = errors.New("provider-side failure")
	errExcluded = errors.New("outcome not counted")
)

func newBreaker(id string, c ProviderConfig, onChange func(name string, from, to gobreaker.State)) *breaker {
	window := max(c.BreakerWindow, 10*time.Millisecond)
	return gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:          id,
		MaxRequests:   uint32(max(c.BreakerProbes, 1)),
		Interval:      window,
		BucketPeriod:  window / 10,
		Timeout:       c.BreakerCooldown,
		ReadyToTrip:   tripRule(c),
		OnStateChange: onChange,
		IsExcluded:    func(err error) bool { return err == errExcluded },
	})
}

// tripRule opens the breaker after BreakerConsecutiveFailures failures in a
// row, or when BreakerFailureRatio of at least BreakerMinRequests outcomes in
// the window failed. Excluded outcomes count on neither side.
func tripRule(c ProviderConfig) func(gobreaker.Counts) bool {
	consecutive := c.BreakerConsecutiveFailures
	ratio := c.BreakerFailureRatio
	minOutcomes := uint32(max(c.BreakerMinRequests, 1))
	return func(n gobreaker.Counts) bool {
		if consecutive > 0 && n.ConsecutiveFailures >= uint32(consecutive) {
			return true
		}
		outcomes := n.TotalSuccesses + n.TotalFailures
		return ratio > 0 && outcomes >= minOutcomes &&
			float64(n.TotalFailures) >= ratio*float64(outcomes)
	}
}

// judge tells the breaker what an attempt's outcome says about the provider.
// Failures are the provider's own: timeouts, unavailability, bad answers and
// untyped errors (which the gateway reports as PROVIDER_ERROR). An answer the
// client caused (NOT_FOUND, BAD_USER_INPUT, CONFLICT, UNAUTHENTICATED,
// FORBIDDEN) shows a healthy provider. Outcomes that say nothing about its
// health are excluded: the caller giving up (its context is done) and rate
// limiting, which is the provider working as designed.
func judge(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return errExcluded
	}
	switch connectors.KindOf(err) {
	case connectors.KindTimeout, connectors.KindUnavailable, connectors.KindProvider, connectors.KindInternal:
		return errFailure
	case connectors.KindRateLimited:
		return errExcluded
	default:
		return nil
	}
}

// retryable reports whether a read that failed with err may be tried again.
// Client-caused kinds never are, whatever the provider says; the transient
// kinds always are; anything else only when the provider marked it Retryable.
func retryable(err error) bool {
	e, ok := connectors.AsError(err)
	if !ok {
		return false
	}
	switch e.Kind {
	case connectors.KindInvalid, connectors.KindNotFound, connectors.KindConflict,
		connectors.KindUnauthenticated, connectors.KindForbidden:
		return false
	case connectors.KindTimeout, connectors.KindUnavailable, connectors.KindRateLimited:
		return true
	default:
		return e.Retryable
	}
}
