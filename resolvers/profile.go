package resolvers

// The signed-in user's profile: name, default city and saved addresses,
// kept in the settings store updateSettings uses (Redis when configured).

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/events"
	"github.com/plaza-gateway/plaza/graph/model"
)

// maxProfileRunes bounds each profile field.
const maxProfileRunes = 200

// profileText checks a profile field: required ones not blank, none over
// maxProfileRunes; the error names arg.
func profileText(arg, v string, required bool) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case required && v == "":
		return "", &ArgError{Arg: arg, Err: connectors.Errorf(connectors.KindInvalid, "%s must not be blank", arg)}
	case utf8.RuneCountInString(v) > maxProfileRunes:
		return "", &ArgError{Arg: arg, Err: connectors.Errorf(connectors.KindInvalid, "%s is longer than %d characters", arg, maxProfileRunes)}
	}
	return v, nil
}

// addressText checks an address's fields (line and city required), each
// error naming prefix+field.
func addressText(prefix, line, city string, label *string) (l, c, lb string, err error) {
	if l, err = profileText(prefix+"line", line, true); err != nil {
		return
	}
	if c, err = profileText(prefix+"city", city, true); err != nil {
		return
	}
	lb, err = profileText(prefix+"label", deref(label), false)
	return
}

// myProfiles is the signed-in user and the store, or UNAVAILABLE on a
// gateway without settings.
func (r *Resolver) myProfiles(ctx context.Context) (string, events.Profiles, error) {
	me, err := user(ctx)
	if err != nil {
		return "", nil, err
	}
	if r.opt.settings == nil {
		return "", nil, connectors.Errorf(connectors.KindUnavailable, "profiles are not available on this gateway")
	}
	return me, r.opt.settings, nil
}

func (r *Resolver) profile(ctx context.Context) (events.Profile, error) {
	me, ps, err := r.myProfiles(ctx)
	if err != nil {
		return events.Profile{}, err
	}
	p, err := ps.Profile(ctx, me)
	if err != nil {
		return p, connectors.Errorf(connectors.KindUnavailable, "read profile: %v", err)
	}
	return p, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (r *Resolver) userName(ctx context.Context) (*string, error) {
	p, err := r.profile(ctx)
	return optional(p.Name), err
}

func (r *Resolver) userDefaultCity(ctx context.Context) (*string, error) {
	p, err := r.profile(ctx)
	return optional(p.DefaultCity), err
}

func (r *Resolver) userAddresses(ctx context.Context) ([]*model.Address, error) {
	p, err := r.profile(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*model.Address, len(p.Addresses))
	for i, a := range p.Addresses {
		out[i] = toAddress(a)
	}
	return out, nil
}

func toAddress(a events.Address) *model.Address {
	return &model.Address{ID: a.ID, Label: a.Label, Line: a.Line, City: a.City}
}

func (r *Resolver) saveAddress(ctx context.Context, in model.SaveAddressInput) (*model.Address, error) {
	me, ps, err := r.myProfiles(ctx)
	if err != nil {
		return nil, err
	}
	var a events.Address
	if a.Line, a.City, a.Label, err = addressText("input.", in.Line, in.City, in.Label); err != nil {
		return nil, err
	}
	if a.ID, err = profileText("input.id", deref(in.ID), false); err != nil {
		return nil, err
	}
	saved, err := ps.SaveAddress(ctx, me, a)
	switch {
	case errors.Is(err, events.ErrTooManyAddresses):
		return nil, &ArgError{Arg: "input", Err: connectors.Errorf(connectors.KindInvalid, "%v", err)}
	case errors.Is(err, events.ErrNoSuchAddress):
		return nil, &ArgError{Arg: "input.id", Err: connectors.Errorf(connectors.KindNotFound, "no saved address %q", a.ID)}
	case err != nil:
		return nil, connectors.Errorf(connectors.KindUnavailable, "save address: %v", err)
	}
	return toAddress(saved), nil
}

// setProfileField validates and stores one text field, returning the user.
func (r *Resolver) setProfileField(ctx context.Context, arg, v string, set func(events.Profiles, context.Context, string, string) error) (*model.User, error) {
	me, ps, err := r.myProfiles(ctx)
	if err != nil {
		return nil, err
	}
	if v, err = profileText(arg, v, true); err != nil {
		return nil, err
	}
	if err := set(ps, ctx, me, v); err != nil {
		return nil, connectors.Errorf(connectors.KindUnavailable, "save %s: %v", arg, err)
	}
	return r.queryMe(ctx)
}

// deliveryAddress resolves an order's address: a saved one by id or one
// typed in, not both; nil for neither.
func (r *Resolver) deliveryAddress(ctx context.Context, id *string, typed *model.DeliveryAddressInput) (*connectors.DeliveryAddress, error) {
	switch {
	case id != nil && typed != nil:
		return nil, &ArgError{Arg: "input.deliveryAddress", Err: connectors.Errorf(connectors.KindInvalid,
			"give deliveryAddressId or deliveryAddress, not both")}
	case typed != nil:
		var a connectors.DeliveryAddress
		var err error
		if a.Line, a.City, a.Label, err = addressText("input.deliveryAddress.", typed.Line, typed.City, typed.Label); err != nil {
			return nil, err
		}
		return &a, nil
	case id != nil:
		p, err := r.profile(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range p.Addresses {
			if a.ID == *id {
				return &connectors.DeliveryAddress{Label: a.Label, Line: a.Line, City: a.City}, nil
			}
		}
		return nil, &ArgError{Arg: "input.deliveryAddressId", Err: connectors.Errorf(connectors.KindNotFound, "no saved address %q", truncate(*id, 64))}
	}
	return nil, nil
}
