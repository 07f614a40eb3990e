package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/plaza-gateway/plaza/cache"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/idempotency"
)

// IdempotencyTTL is how long a create mutation's result is kept by key.
const IdempotencyTTL = 24 * time.Hour

// maxIdempotencyKey bounds a client's key.
const maxIdempotencyKey = 128

// WithIdempotency stores create mutations' results by idempotency key
// (Redis in production, so a retry on any instance finds the first result).
func WithIdempotency(s idempotency.Store) Option { return func(g *Gateway) { g.idem = s } }

// idempotent runs a create mutation at most once per (user, operation, key).
// A retry with the same key returns the first result; the same key with a
// different request is BAD_USER_INPUT; a retry while the first is still
// running waits for it. The key is also passed on to the provider, which
// dedupes on its side: if the store is unreachable the provider still
// protects against duplicates.
func idempotent[T any](ctx context.Context, g *Gateway, op, user, key string, input any, run func(context.Context) (T, error)) (T, error) {
	var zero T
	if key == "" || g.idem == nil {
		return run(ctx)
	}
	if len(key) > maxIdempotencyKey {
		return zero, connectors.Errorf(connectors.KindInvalid, "idempotencyKey must be at most %d characters", maxIdempotencyKey)
	}
	body, err := json.Marshal(input)
	if err != nil {
		return zero, connectors.Wrap(err, connectors.KindInternal, "internal error")
	}
	sum := sha256.Sum256(append([]byte(op+"\n"), body...))
	fp := hex.EncodeToString(sum[:])
	k := "idem:" + user + ":" + op + ":" + key
	rec, claimed, err := g.idem.Claim(ctx, k, fp, IdempotencyTTL)
	if err != nil {
		g.log.WarnContext(ctx, "idempotency store unavailable; relying on the provider's deduplication", "err", err)
		return run(ctx)
	}
	if !claimed {
		return replay[T](ctx, g, k, fp, rec)
	}
	out, err := run(ctx)
	if err != nil {
		// The first attempt failed: free the key so a retry can run. The
		// provider saw the key too, so if it did create the object before
		// failing to answer, the retry gets that object back from it.
		_ = g.idem.Release(context.WithoutCancel(ctx), k)
		return zero, err
	}
	// The first answer is the stored form decoded, exactly as every replay
	// will decode it (on this instance or another), so the client gets the
	// same bytes each time: see resultCodec.
	enc, err := resultCodec.Marshal(out)
	if err != nil {
		g.log.WarnContext(ctx, "idempotency result not stored", "err", err)
		return out, nil
	}
	var same T
	if err := resultCodec.Unmarshal(enc, &same); err != nil {
		g.log.WarnContext(ctx, "idempotency result not stored", "err", err)
		return out, nil
	}
	done := idempotency.Record{Fingerprint: fp, Done: true, Result: enc, Format: idempotency.FormatJSON}
	if err := g.idem.Complete(context.WithoutCancel(ctx), k, done, IdempotencyTTL); err != nil {
		g.log.WarnContext(ctx, "idempotency result not stored", "err", err)
	}
	return same, nil
}

// resultCodec encodes stored results. JSON, not the cache's MessagePack:
// MessagePack keeps a time's instant but not its offset, and decodes it in
// the decoding process's local zone, so a replay answered createdAt in
// another zone than the first answer (and in a third on an instance with
// another TZ). JSON keeps the offset the provider gave (RFC 3339), and the
// GraphQL Time scalar prints it back the same way. Records are written once
// per mutation, so the slower codec costs nothing that matters.
var resultCodec cache.Codec = cache.JSONCodec{}

// decodeResult decodes a stored result by the format it was written in.
// Records written before FormatJSON existed are MessagePack.
func decodeResult(rec idempotency.Record, out any) error {
	if rec.Format == idempotency.FormatJSON {
		return resultCodec.Unmarshal(rec.Result, out)
	}
	return cache.DefaultCodec.Unmarshal(rec.Result, out)
}

// replayWait is how long a retry waits for the first request with its key.
const replayWait = 5 * time.Second

// replay answers a request whose key was claimed before.
func replay[T any](ctx context.Context, g *Gateway, k, fp string, rec idempotency.Record) (T, error) {
	var zero T
	deadline := time.Now().Add(replayWait)
	for {
		if rec.Fingerprint != fp {
			return zero, connectors.Errorf(connectors.KindInvalid, "idempotencyKey was reused with a different request")
		}
		if rec.Done {
			var out T
			if err := decodeResult(rec, &out); err != nil {
				return zero, connectors.Wrap(err, connectors.KindInternal, "internal error")
			}
			return out, nil
		}
		if time.Now().After(deadline) {
			return zero, retryLater(connectors.Errorf(connectors.KindConflict, "a request with this idempotencyKey is still in progress; retry later"))
		}
		select {
		case <-ctx.Done():
			return zero, retryLater(connectors.Wrap(ctx.Err(), connectors.KindConflict, "a request with this idempotencyKey is still in progress; retry later"))
		case <-time.After(20 * time.Millisecond):
		}
		var found bool
		var err error
		rec, found, err = g.idem.Get(ctx, k)
		if err != nil || !found {
			// The first request failed and released the key (or the store
			// went away): the client should retry.
			return zero, retryLater(connectors.Errorf(connectors.KindConflict, "the first request with this idempotencyKey did not complete; retry"))
		}
	}
}

// retryLater marks an idempotency conflict as retryable (extensions.retryable),
// unlike a stock or slot CONFLICT, which retrying does not fix.
func retryLater(e *connectors.Error) *connectors.Error {
	e.Retryable = true
	return e
}
