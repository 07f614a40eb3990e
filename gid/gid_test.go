package gid_test

import (
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/plaza-gateway/plaza/gid"
)

// TestIDsDecodeAsIssued pins the encoding: IDs handed out before (stored by
// clients, in caches and in analytics) must keep decoding to the same
// object, whatever happens to how kinds are declared. The strings are
// literal, not computed with Encode, and the kinds are spelled out, not
// gid's constants, so neither a codec change nor a renamed constant can
// move them together with the test.
func TestIDsDecodeAsIssued(t *testing.T) {
	issued := []struct {
		id   string
		kind gid.Kind
	}{
		{"djE6QXBwb2ludG1lbnQ6ZnJlc2htYXJ0OngtMToy", "Appointment"},
		{"djE6QXBwb2ludG1lbnRTbG90OmZyZXNobWFydDp4LTE6Mg", "AppointmentSlot"},
		{"djE6Q29uc3VsdGF0aW9uOmZyZXNobWFydDp4LTE6Mg", "Consultation"},
		{"djE6RGVsaXZlcnlTbG90OmZyZXNobWFydDp4LTE6Mg", "DeliverySlot"},
		{"djE6RG9jdG9yOmZyZXNobWFydDp4LTE6Mg", "Doctor"},
		{"djE6R292U2VydmljZTpmcmVzaG1hcnQ6eC0xOjI", "GovService"},
		{"djE6R3JvY2VyeU9yZGVyOmZyZXNobWFydDp4LTE6Mg", "GroceryOrder"},
		{"djE6TGF3eWVyOmZyZXNobWFydDp4LTE6Mg", "Lawyer"},
		{"djE6TGVnYWxDb25zdWx0YXRpb246ZnJlc2htYXJ0OngtMToy", "LegalConsultation"},
		{"djE6T2ZmaWNlOmZyZXNobWFydDp4LTE6Mg", "Office"},
		{"djE6T2ZmaWNlU2xvdDpmcmVzaG1hcnQ6eC0xOjI", "OfficeSlot"},
		{"djE6UHJvZHVjdDpmcmVzaG1hcnQ6eC0xOjI", "Product"},
		{"djE6UHJvdmlkZXI6ZnJlc2htYXJ0OngtMToy", "Provider"},
		{"djE6U2VydmljZUFwcGxpY2F0aW9uOmZyZXNobWFydDp4LTE6Mg", "ServiceApplication"},
		{"djE6U3RvcmU6ZnJlc2htYXJ0OngtMToy", "Store"},
		{"djE6VXNlcjpmcmVzaG1hcnQ6eC0xOjI", "User"},
	}
	for _, tc := range issued {
		want := gid.ID{Kind: tc.kind, Provider: "freshmart", Local: "x-1:2"}
		if !tc.kind.Valid() {
			t.Errorf("%s IDs were issued, but gid no longer knows the kind", tc.kind)
		}
		got, err := gid.Decode(tc.id)
		if err != nil || got != want {
			t.Errorf("Decode(%q) = %+v, %v; want %+v", tc.id, got, err, want)
		}
		if s := want.String(); s != tc.id {
			t.Errorf("%+v encodes as %q, was issued as %q", want, s, tc.id)
		}
	}
	t.Run("an ID of a kind Plaza does not know is malformed", func(t *testing.T) {
		bogus := base64.RawURLEncoding.EncodeToString([]byte("v1:Bogus:freshmart:x-1"))
		if _, err := gid.Decode(bogus); err != gid.ErrMalformed {
			t.Errorf("Decode(%q) error %v, want ErrMalformed", bogus, err)
		}
	})
}

// TestDecodeAllAsDecode holds DecodeAll to Decode, ID by ID, over valid IDs
// of every kind mixed with malformed ones (each error stays with its own ID
// and does not shift the ones after it), and over more IDs than its stack
// buffer holds.
func TestDecodeAllAsDecode(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	ids := []string{
		gid.Encode(gid.Product, "freshmart", "p-1"),
		"",
		gid.Encode(gid.Store, "freshmart", "s-1"),
		enc("v1:Bogus:freshmart:x-1"),
		enc("v2:Product:freshmart:p-1"),
		enc("v1:Product::p-1"),
		"not base64!",
		gid.Encode(gid.Product, "greengrocer", "p-2"),
		enc("v1:Product:freshmart"),
		gid.Encode(gid.Provider, "freshmart", "freshmart"),
	}
	for i := range 300 {
		ids = append(ids, gid.Encode(gid.Product, "freshmart", fmt.Sprintf("product-with-a-long-local-id-%d", i)))
	}
	out, errs := make([]gid.ID, len(ids)), make([]error, len(ids))
	gid.DecodeAll(ids, out, errs)
	valid := 0
	for i, s := range ids {
		want, wantErr := gid.Decode(s)
		if out[i] != want || errs[i] != wantErr {
			t.Errorf("DecodeAll[%d] (%q) = %+v, %v; Decode = %+v, %v", i, s, out[i], errs[i], want, wantErr)
		}
		if wantErr == nil {
			valid++
		}
	}
	if valid != 304 {
		t.Fatalf("%d valid IDs, want 304: the cases are not what they say", valid)
	}
}
