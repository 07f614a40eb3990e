package conformance

import (
	"context"
	"fmt"

	"github.com/plaza-gateway/plaza/connectors"
)

// checkDisplay: the display fields of contract 1.3 (all optional) are
// valid where present on a sample of the catalogue (and of a grocery
// provider's stores): images with a URL and a size, an original price
// above the price in its currency, review counts not negative, opening
// hours of a known day in HH:MM. A provider of 1.2 sends none and passes.
func checkDisplay(ctx context.Context, e *env) (string, error) {
	ids, err := e.sampleIDs(ctx, 20)
	if err != nil {
		return "", err
	}
	res, err := e.batch(ctx, ids)
	if err != nil {
		return "", err
	}
	values := make([]any, 0, len(res)+5)
	for _, r := range res {
		if r.err == nil {
			values = append(values, r.value)
		}
	}
	if g, ok := e.conn.(connectors.Grocery); ok && e.desc.Vertical == connectors.VerticalGrocery {
		sctx, cancel := e.call(ctx)
		stores, err := g.SearchStores(sctx, connectors.Query{First: 5})
		cancel()
		if err != nil {
			return "", fmt.Errorf("search stores: %w", err)
		}
		for _, s := range stores.Items {
			values = append(values, s)
		}
	}
	shown := 0
	for _, v := range values {
		n, err := validateDisplay(v)
		if err != nil {
			return "", err
		}
		shown += n
	}
	return fmt.Sprintf("%d items checked, %d display fields present and valid", len(values), shown), nil
}

// validateDisplay checks v's display fields and counts those present.
func validateDisplay(v any) (int, error) {
	var (
		id      string
		imgs    []connectors.Image
		reviews int
		extra   = 0
	)
	switch x := v.(type) {
	case connectors.Product:
		id, imgs, reviews = "product "+x.ID, x.Images, x.ReviewCount
		if err := connectors.ValidateDiscount(x.Price, x.OriginalPrice); err != nil {
			return 0, fmt.Errorf("%s: %w", id, err)
		}
		if x.OriginalPrice != nil {
			extra++
		}
	case connectors.Store:
		id, reviews = "store "+x.ID, x.ReviewCount
		if x.Logo != nil {
			imgs = append(imgs, *x.Logo)
		}
		for _, h := range x.OpeningHours {
			if err := h.Validate(); err != nil {
				return 0, fmt.Errorf("%s: %w", id, err)
			}
		}
		for name, m := range map[string]*connectors.Money{"minimumOrder": x.MinimumOrder, "deliveryFee": x.DeliveryFee} {
			if m != nil && (m.Amount < 0 || m.Currency == "") {
				return 0, fmt.Errorf("%s: %s %+v needs a currency and no negative amount", id, name, *m)
			}
		}
		extra += len(x.OpeningHours)
	case connectors.Doctor:
		id, reviews = "doctor "+x.ID, x.ReviewCount
		if x.Portrait != nil {
			imgs = append(imgs, *x.Portrait)
		}
	case connectors.Lawyer:
		id, reviews = "lawyer "+x.ID, x.ReviewCount
		if x.Portrait != nil {
			imgs = append(imgs, *x.Portrait)
		}
	case connectors.GovService:
		id, reviews = "service "+x.ID, x.ReviewCount
	default:
		return 0, nil
	}
	if reviews < 0 {
		return 0, fmt.Errorf("%s: reviewCount %d is negative", id, reviews)
	}
	for _, img := range imgs {
		if err := img.Validate(); err != nil {
			return 0, fmt.Errorf("%s: %w", id, err)
		}
	}
	if reviews > 0 {
		extra++
	}
	return len(imgs) + extra, nil
}
