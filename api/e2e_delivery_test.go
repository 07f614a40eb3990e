package api_test

import (
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/connectors/demo"
)

const placeWithAddress = `mutation($in: PlaceGroceryOrderInput!) { placeGroceryOrder(input: $in) {
	id total { amount } deliveryFee { amount currency } estimatedDelivery slot { end }
	deliveryAddress { label line city } } }`

type placedWithAddress struct {
	PlaceGroceryOrder struct {
		ID          string `json:"id"`
		DeliveryFee *struct {
			Amount   int    `json:"amount"`
			Currency string `json:"currency"`
		} `json:"deliveryFee"`
		EstimatedDelivery *string `json:"estimatedDelivery"`
		Slot              struct {
			End string `json:"end"`
		} `json:"slot"`
		DeliveryAddress *struct {
			Label *string `json:"label"`
			Line  string  `json:"line"`
			City  string  `json:"city"`
		} `json:"deliveryAddress"`
	} `json:"placeGroceryOrder"`
}

// TestOrderDelivery: placeGroceryOrder takes a saved or a typed address and
// answers with it, the store's delivery fee and the estimate (the slot's
// end); bad addresses are refused naming the field.
func TestOrderDelivery(t *testing.T) {
	p := startPersonal(t, time.Minute)
	u := demo.UserID(4)
	st := groceryStores(t, p.Gateway, "Hangzhou")[0]
	input := func(extra map[string]any) map[string]any {
		in := map[string]any{"storeId": st.ID, "slotId": st.DeliverySlots[0].ID,
			"items": []map[string]any{{"productId": st.Products.Edges[0].Node.ID, "quantity": 1}}}
		for k, v := range extra {
			in[k] = v
		}
		return map[string]any{"in": in}
	}
	type savedAddr struct {
		SaveAddress struct {
			ID string `json:"id"`
		} `json:"saveAddress"`
	}
	saved, _ := mustData[savedAddr](t, p.Gateway, apitest.Request{User: u, Query: `mutation { saveAddress(input: {label: "Home", line: "1 Wensan Rd", city: "Hangzhou"}) { id } }`})

	for _, tc := range []struct {
		name, line string
		extra      map[string]any
	}{
		{"a saved address", "1 Wensan Rd", map[string]any{"deliveryAddressId": saved.SaveAddress.ID}},
		{"a typed address", "8 Hubin Rd", map[string]any{"deliveryAddress": map[string]any{"line": "8 Hubin Rd", "city": "Hangzhou"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, _ := mustData[placedWithAddress](t, p.Gateway, apitest.Request{User: u, Query: placeWithAddress, Variables: input(tc.extra)})
			got := o.PlaceGroceryOrder
			if got.DeliveryAddress == nil || got.DeliveryAddress.Line != tc.line || got.DeliveryAddress.City != "Hangzhou" {
				t.Fatalf("address %+v", got.DeliveryAddress)
			}
			if got.DeliveryFee == nil || got.DeliveryFee.Currency == "" {
				t.Fatalf("delivery fee %+v", got.DeliveryFee)
			}
			if got.EstimatedDelivery == nil || *got.EstimatedDelivery != got.Slot.End {
				t.Fatalf("estimate %v, slot end %s", got.EstimatedDelivery, got.Slot.End)
			}
		})
	}
	for _, tc := range []struct {
		name        string
		extra       map[string]any
		code, field string
		msg         string
	}{
		{"both a saved and a typed address", map[string]any{"deliveryAddressId": saved.SaveAddress.ID, "deliveryAddress": map[string]any{"line": "x", "city": "y"}},
			"BAD_USER_INPUT", "input.deliveryAddress", "not both"},
		{"an unknown saved address", map[string]any{"deliveryAddressId": "a99"}, "NOT_FOUND", "input.deliveryAddressId", "no saved address"},
		{"a blank typed line", map[string]any{"deliveryAddress": map[string]any{"line": " ", "city": "Hangzhou"}}, "BAD_USER_INPUT", "input.deliveryAddress.line", "must not be blank"},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			r := mustFail(t, p.Gateway, apitest.Request{User: u, Query: placeWithAddress, Variables: input(tc.extra)}, tc.code, tc.msg)
			if r.Errors[0].Extensions["field"] != tc.field {
				t.Fatalf("field %v, want %s", r.Errors[0].Extensions["field"], tc.field)
			}
		})
	}
}
