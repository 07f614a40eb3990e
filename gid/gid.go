// Package gid encodes and decodes Plaza's global object IDs.
//
// A global ID names the kind of object, the provider that owns it and the
// provider's local ID, so `node(id:)` can route any ID back to its provider
// without a lookup table. IDs are opaque to clients: base64url (no padding) of
// "v1:<Kind>:<provider>:<local>". The version prefix lets the format change
// without misreading old IDs.
package gid

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
)

// Kind is the GraphQL type name of the object an ID names.
type Kind string

// The entity kinds (Store, Product, ...) are generated, in kinds_gen.go, from
// their declarations in gateway/kinds.go. These are the others: kinds with
// IDs that no entity loader loads.
const (
	// Provider IDs name a provider in both the provider and local slots.
	Provider Kind = "Provider"
	// OfficeSlot IDs are addressed through their office
	// (applyForGovService).
	OfficeSlot Kind = "OfficeSlot"
	// User IDs use the provider slot for the identity issuer ("plaza").
	User Kind = "User"
)

// kinds are the kinds Decode accepts.
var kinds = func() map[Kind]bool {
	m := map[Kind]bool{Provider: true, OfficeSlot: true, User: true}
	for _, k := range declared {
		m[k] = true
	}
	return m
}()

// Valid reports whether k is a kind Plaza knows.
func (k Kind) Valid() bool { return kinds[k] }

// Kinds returns every kind Plaza knows, sorted.
func Kinds() []Kind {
	out := make([]Kind, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// MaxLen bounds an encoded ID; anything longer is rejected before decoding.
const MaxLen = 512

const version = "v1"

// ID is a decoded global ID.
type ID struct {
	Kind     Kind
	Provider string
	Local    string
}

// ErrMalformed is returned for any string that is not a Plaza global ID.
var ErrMalformed = errors.New("malformed id")

// Encode returns the opaque global ID for (kind, provider, local).
func Encode(kind Kind, provider, local string) string {
	var buf [MaxLen]byte // on the stack when it fits: one allocation, the result
	raw := buf[:0]
	raw = append(raw, version...)
	raw = append(raw, ':')
	raw = append(raw, kind...)
	raw = append(raw, ':')
	raw = append(raw, provider...)
	raw = append(raw, ':')
	raw = append(raw, local...)
	var out [MaxLen]byte
	if n := base64.RawURLEncoding.EncodedLen(len(raw)); n <= len(out) {
		base64.RawURLEncoding.Encode(out[:n], raw)
		return string(out[:n])
	}
	return base64.RawURLEncoding.EncodeToString(raw)
}

// String encodes id.
func (id ID) String() string { return Encode(id.Kind, id.Provider, id.Local) }

// Decode parses an opaque global ID. It returns ErrMalformed for anything that
// Encode could not have produced: bad base64, wrong version, unknown kind,
// empty provider or local part.
func Decode(s string) (ID, error) {
	// Decoded on the stack and split without a slice: one allocation per
	// ID (the string the parts share).
	var buf [MaxLen]byte
	raw, err := decodeRaw(buf[:0], s)
	if err != nil {
		return ID{}, err
	}
	return split(string(raw))
}

// DecodeAll decodes every one of ids as Decode does, into out and errs
// (each as long as ids), with one allocation for the parts of all of them
// rather than one per ID: list resolvers decode one ID per item. The IDs
// share that allocation.
func DecodeAll(ids []string, out []ID, errs []error) {
	var buf [4096]byte
	raw := buf[:0]
	ends := make([]int, len(ids))
	for i, s := range ids {
		var err error
		if raw, err = decodeRaw(raw, s); err != nil {
			errs[i] = err
		}
		ends[i] = len(raw)
	}
	all, start := string(raw), 0
	for i, end := range ends {
		if errs[i] == nil {
			out[i], errs[i] = split(all[start:end])
		}
		start = end
	}
}

// decodeRaw appends the base64 decoding of s to dst.
func decodeRaw(dst []byte, s string) ([]byte, error) {
	if s == "" || len(s) > MaxLen {
		return dst, ErrMalformed
	}
	// The base64 decoder skips \r and \n even in strict mode: allow only
	// the URL-safe alphabet, so each object has exactly one ID string.
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return dst, ErrMalformed
		}
	}
	// Strict: the unused bits of the last character must be zero, so each
	// object has exactly one ID string (caches and dedupes key on it).
	n := len(dst)
	dst = slices.Grow(dst, strictEncoding.DecodedLen(len(s)))
	m, err := strictEncoding.Decode(dst[n:n+strictEncoding.DecodedLen(len(s))], []byte(s))
	if err != nil {
		return dst[:n], ErrMalformed
	}
	return dst[:n+m], nil
}

// split parses a decoded ID: "<version>:<kind>:<provider>:<local>".
func split(raw string) (ID, error) {
	ver, rest, ok1 := strings.Cut(raw, ":")
	kind, rest, ok2 := strings.Cut(rest, ":")
	provider, local, ok3 := strings.Cut(rest, ":")
	if !ok1 || !ok2 || !ok3 || ver != version {
		return ID{}, ErrMalformed
	}
	id := ID{Kind: Kind(kind), Provider: provider, Local: local}
	if !kinds[id.Kind] || id.Provider == "" || id.Local == "" || strings.ContainsRune(id.Provider, ':') {
		return ID{}, ErrMalformed
	}
	return id, nil
}

var strictEncoding = base64.RawURLEncoding.Strict()

// DecodeKind decodes s and checks it names an object of kind want.
func DecodeKind(s string, want Kind) (ID, error) {
	id, err := Decode(s)
	if err != nil {
		return ID{}, err
	}
	if id.Kind != want {
		return ID{}, ErrMalformed
	}
	return id, nil
}
