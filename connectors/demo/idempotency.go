package demo

import (
	"encoding/json"
	"fmt"

	"github.com/plaza-gateway/plaza/connectors"
)

// maxIdempotencyKeys bounds the remembered keys per provider and mutation;
// the oldest are forgotten first. Retries arrive within seconds, so a few
// thousand keys cover them.
const maxIdempotencyKeys = 10000

// idempotency remembers the first result of each (user, key). The caller
// holds the provider's write lock around lookup, the mutation and remember,
// so two concurrent requests with one key cannot both create.
type idempotency[T any] struct {
	clone   func(*T) T
	entries map[string]idemEntry[T]
	order   []string
}

type idemEntry[T any] struct {
	request string
	result  T
}

func newIdempotency[T any](clone func(*T) T) *idempotency[T] {
	return &idempotency[T]{clone: clone, entries: map[string]idemEntry[T]{}}
}

// lookup returns the remembered result for (userID, key) when in is the same
// request, KindInvalid when the key was used for a different one, and
// ok=false when the key is new or empty.
func (s *idempotency[T]) lookup(userID, key string, in any) (result T, ok bool, err error) {
	var zero T
	if key == "" {
		return zero, false, nil
	}
	e, found := s.entries[userID+"\x00"+key]
	if !found {
		return zero, false, nil
	}
	if e.request != fingerprint(in) {
		return zero, false, connectors.Errorf(connectors.KindInvalid, "idempotency key %q reused with a different request", key)
	}
	return s.clone(&e.result), true, nil
}

// remember stores result under (userID, key); an empty key is not stored.
func (s *idempotency[T]) remember(userID, key string, in any, result T) {
	if key == "" {
		return
	}
	k := userID + "\x00" + key
	if _, found := s.entries[k]; !found {
		if len(s.order) >= maxIdempotencyKeys {
			delete(s.entries, s.order[0])
			s.order = s.order[1:]
		}
		s.order = append(s.order, k)
	}
	s.entries[k] = idemEntry[T]{request: fingerprint(in), result: s.clone(&result)}
}

// fingerprint identifies a request by its JSON form; the inputs' key fields
// are tagged `json:"-"`, so the key itself is not part of it.
func fingerprint(in any) string {
	b, err := json.Marshal(in)
	if err != nil {
		// Inputs are plain structs of strings, ints and slices; this is unreachable.
		return fmt.Sprintf("%#v", in)
	}
	return string(b)
}
