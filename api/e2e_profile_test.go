package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/events"
)

type profileData struct {
	Me struct {
		Name        *string `json:"name"`
		DefaultCity *string `json:"defaultCity"`
		Addresses   []struct {
			ID    string `json:"id"`
			Label string `json:"label"`
			Line  string `json:"line"`
			City  string `json:"city"`
		} `json:"addresses"`
	} `json:"me"`
}

const profileQuery = `{ me { name defaultCity addresses { id label line city } } }`

// TestUserProfile: me { name addresses defaultCity } reads what the
// mutations saved, in the store updateSettings uses, per user.
func TestUserProfile(t *testing.T) {
	p := startPersonal(t, time.Minute)
	u1, u2 := demo.UserID(1), demo.UserID(2)
	empty, _ := mustData[profileData](t, p.Gateway, apitest.Request{Query: profileQuery, User: u1})
	if empty.Me.Name != nil || empty.Me.DefaultCity != nil || len(empty.Me.Addresses) != 0 {
		t.Fatalf("a new user's profile %+v", empty.Me)
	}
	save := `mutation($in: SaveAddressInput!) { saveAddress(input: $in) { id label line city } }`
	type saved struct {
		SaveAddress struct {
			ID string `json:"id"`
		} `json:"saveAddress"`
	}
	home, _ := mustData[saved](t, p.Gateway, apitest.Request{Query: save, User: u1,
		Variables: map[string]any{"in": map[string]any{"label": "Home", "line": " 1 Wensan Rd ", "city": "Hangzhou"}}})
	if home.SaveAddress.ID == "" {
		t.Fatal("no id")
	}
	p.MustPost(apitest.Request{Query: save, User: u1,
		Variables: map[string]any{"in": map[string]any{"id": home.SaveAddress.ID, "label": "Home", "line": "2 Wensan Rd", "city": "Hangzhou"}}})
	p.MustPost(apitest.Request{Query: `mutation { setDefaultCity(city: "Hangzhou") { id } setName(name: "Li Na") { id } }`, User: u1})

	got, _ := mustData[profileData](t, p.Gateway, apitest.Request{Query: profileQuery, User: u1})
	if got.Me.Name == nil || *got.Me.Name != "Li Na" || got.Me.DefaultCity == nil || *got.Me.DefaultCity != "Hangzhou" ||
		len(got.Me.Addresses) != 1 || got.Me.Addresses[0].Line != "2 Wensan Rd" {
		t.Fatalf("profile %+v", got.Me)
	}
	if prof, err := p.settings.Profile(t.Context(), u1); err != nil || prof.DefaultCity != "Hangzhou" {
		t.Fatalf("settings store holds %+v, %v", prof, err)
	}
	other, _ := mustData[profileData](t, p.Gateway, apitest.Request{Query: profileQuery, User: u2})
	if len(other.Me.Addresses) != 0 || other.Me.Name != nil {
		t.Fatalf("another user sees %+v", other.Me)
	}
}

// TestUserProfileBadInput: blank, overlong, unknown and one-too-many inputs
// are refused naming the field; anonymous callers are UNAUTHENTICATED.
func TestUserProfileBadInput(t *testing.T) {
	p := startPersonal(t, time.Minute)
	u := demo.UserID(3)
	save := `mutation($in: SaveAddressInput!) { saveAddress(input: $in) { id } }`
	long := strings.Repeat("x", 201)
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		code, field string
		msg         string
	}{
		{"a blank line", save, map[string]any{"in": map[string]any{"line": "  ", "city": "Hangzhou"}}, "BAD_USER_INPUT", "input.line", "must not be blank"},
		{"an overlong city", save, map[string]any{"in": map[string]any{"line": "1 Rd", "city": long}}, "BAD_USER_INPUT", "input.city", "longer than 200"},
		{"an unknown address id", save, map[string]any{"in": map[string]any{"id": "a99", "line": "1 Rd", "city": "Hangzhou"}}, "NOT_FOUND", "input.id", "no saved address"},
		{"a blank default city", `mutation { setDefaultCity(city: "") { id } }`, nil, "BAD_USER_INPUT", "city", "must not be blank"},
		{"an overlong name", `mutation($n: String!) { setName(name: $n) { id } }`, map[string]any{"n": long}, "BAD_USER_INPUT", "name", "longer than 200"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustFail(t, p.Gateway, apitest.Request{Query: tc.query, Variables: tc.vars, User: u}, tc.code, tc.msg)
			if r.Errors[0].Extensions["field"] != tc.field {
				t.Fatalf("field %v, want %s", r.Errors[0].Extensions["field"], tc.field)
			}
		})
	}
	t.Run("past the address limit", func(t *testing.T) {
		for i := range events.MaxAddresses {
			p.MustPost(apitest.Request{Query: save, User: u, Variables: map[string]any{"in": map[string]any{"line": fmt.Sprint(i), "city": "Hangzhou"}}})
		}
		r := mustFail(t, p.Gateway, apitest.Request{Query: save, User: u, Variables: map[string]any{"in": map[string]any{"line": "one more", "city": "Hangzhou"}}},
			"BAD_USER_INPUT", "at most 20 saved addresses")
		if r.Errors[0].Extensions["field"] != "input" {
			t.Fatalf("field %v", r.Errors[0].Extensions["field"])
		}
	})
	t.Run("anonymous", func(t *testing.T) {
		mustFail(t, p.Gateway, apitest.Request{Query: `mutation { setName(name: "x") { id } }`}, "UNAUTHENTICATED", "")
	})
}
