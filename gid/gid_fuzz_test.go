package gid_test

import (
	"strings"
	"testing"

	"github.com/plaza-gateway/plaza/gid"
)

// FuzzDecode feeds arbitrary strings to Decode: it must never panic, it
// fails only with ErrMalformed, and whatever it accepts is the canonical
// encoding of its parts: one object, one ID string. (Seed 6a8a3405f67c612b,
// found by this fuzzer, is a non-canonical alias that Decode accepted before
// it decoded base64 strictly.)
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		gid.Encode(gid.GroceryOrder, "freshmart", "o-1"),
		gid.Encode(gid.User, "plaza", "demo-1"),
		gid.Encode(gid.Product, "p", "a:b:c"),
		"djE6UHJvZHVjdDp0Om\r0", // a line break the base64 decoder skips
		"", "djE6VXNlcjpwbGF6YQ", "!!!", "djE6", "djE6VXNlcjo6eA", strings.Repeat("A", gid.MaxLen+1),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := gid.Decode(s)
		if err != nil {
			if err != gid.ErrMalformed {
				t.Fatalf("Decode(%q) error %v, want ErrMalformed", s, err)
			}
			return
		}
		if id.Provider == "" || id.Local == "" || strings.ContainsRune(id.Provider, ':') {
			t.Fatalf("Decode(%q) accepted %+v", s, id)
		}
		if id.String() != s {
			t.Fatalf("Decode(%q) accepted a non-canonical ID of %+v (canonical %q)", s, id, id.String())
		}
		if _, err := gid.DecodeKind(s, id.Kind); err != nil {
			t.Fatalf("DecodeKind(%q, %s): %v", s, id.Kind, err)
		}
	})
}

// FuzzRoundTrip encodes arbitrary parts: every ID Encode makes from a valid
// kind, a non-empty provider without ':' and a non-empty local part must
// decode to the same parts (as long as it fits MaxLen).
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint8(0), "freshmart", "o-1")
	f.Add(uint8(4), "clinic-1", "a:b")
	f.Add(uint8(15), "plaza", "用户-1")
	f.Add(uint8(7), "p", "\x00\xff")
	kinds := []gid.Kind{gid.Provider, gid.Store, gid.Product, gid.DeliverySlot, gid.GroceryOrder, gid.Doctor,
		gid.AppointmentSlot, gid.Appointment, gid.Consultation, gid.Lawyer, gid.LegalConsultation, gid.GovService,
		gid.Office, gid.OfficeSlot, gid.ServiceApplication, gid.User}
	f.Fuzz(func(t *testing.T, k uint8, provider, local string) {
		kind := kinds[int(k)%len(kinds)]
		if provider == "" || local == "" || strings.ContainsRune(provider, ':') {
			t.Skip()
		}
		s := gid.Encode(kind, provider, local)
		id, err := gid.Decode(s)
		if len(s) > gid.MaxLen {
			if err == nil {
				t.Fatalf("an ID of %d characters was accepted", len(s))
			}
			return
		}
		if err != nil {
			t.Fatalf("Decode(Encode(%s, %q, %q)): %v", kind, provider, local, err)
		}
		if id != (gid.ID{Kind: kind, Provider: provider, Local: local}) {
			t.Fatalf("round trip gave %+v", id)
		}
	})
}
