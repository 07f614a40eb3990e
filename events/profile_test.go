package events_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/plaza-gateway/plaza/cache/cachetest"
	"github.com/plaza-gateway/plaza/events"
)

// TestProfiles: both settings stores keep a user's name, default city and
// saved addresses beside the personalisation choice, and bound the
// addresses.
func TestProfiles(t *testing.T) {
	ctx := context.Background()
	for name, s := range map[string]events.Settings{
		"memory": events.NewMemorySettings(),
		"redis":  events.NewRedisSettings(cachetest.Redis(t), cachetest.Prefix(t)),
	} {
		t.Run(name, func(t *testing.T) {
			if p, err := s.Profile(ctx, "u1"); err != nil || p.Name != "" || len(p.Addresses) != 0 {
				t.Fatalf("empty profile %+v, %v", p, err)
			}
			home, err := s.SaveAddress(ctx, "u1", events.Address{Label: "Home", Line: "1 Wensan Rd", City: "Hangzhou"})
			if err != nil || home.ID != "a1" {
				t.Fatalf("first address %+v, %v", home, err)
			}
			work, err := s.SaveAddress(ctx, "u1", events.Address{Label: "Work", Line: "9 Nanjing Rd", City: "Shanghai"})
			if err != nil || work.ID != "a2" {
				t.Fatalf("second address %+v, %v", work, err)
			}
			home.Line = "2 Wensan Rd"
			if _, err := s.SaveAddress(ctx, "u1", home); err != nil {
				t.Fatal(err)
			}
			if _, err := s.SaveAddress(ctx, "u1", events.Address{ID: "a9", Line: "x", City: "y"}); !errors.Is(err, events.ErrNoSuchAddress) {
				t.Fatalf("replacing a missing address: %v", err)
			}
			if err := s.SetDefaultCity(ctx, "u1", "Shanghai"); err != nil {
				t.Fatal(err)
			}
			if err := s.SetName(ctx, "u1", "Li Na"); err != nil {
				t.Fatal(err)
			}
			if err := s.SetPersonalization(ctx, "u1", false); err != nil {
				t.Fatal(err)
			}
			p, err := s.Profile(ctx, "u1")
			if err != nil || p.Name != "Li Na" || p.DefaultCity != "Shanghai" || len(p.Addresses) != 2 ||
				p.Addresses[0] != (events.Address{ID: "a1", Label: "Home", Line: "2 Wensan Rd", City: "Hangzhou"}) || p.Addresses[1].ID != "a2" {
				t.Fatalf("profile %+v, %v", p, err)
			}
			if on, _ := s.Personalization(ctx, "u1"); on {
				t.Fatal("the profile overwrote the personalisation choice")
			}
			if other, _ := s.Profile(ctx, "u2"); len(other.Addresses) != 0 || other.Name != "" {
				t.Fatalf("another user's profile %+v", other)
			}
			for i := len(p.Addresses); i < events.MaxAddresses; i++ {
				if _, err := s.SaveAddress(ctx, "u1", events.Address{Line: fmt.Sprint(i), City: "Hangzhou"}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.SaveAddress(ctx, "u1", events.Address{Line: "one too many", City: "Hangzhou"}); !errors.Is(err, events.ErrTooManyAddresses) {
				t.Fatalf("address %d: %v", events.MaxAddresses+1, err)
			}
		})
	}
}
