package httpprovider

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// orderJSON is an order as a provider sends it, with status.
func orderJSON(id, status string) string {
	return fmt.Sprintf(`{"id":%q,"userId":"u","storeId":"s","slotId":"ds","items":null,"total":{"amount":1,"currency":"CNY"},"status":%q,"createdAt":"2026-12-04T10:00:00+08:00"}`, id, status)
}

// TestStatusesAreClosedLists: contract 1.3 makes each record kind's status
// one of a list. A record with another value is refused on its own (a
// PROVIDER_ERROR for that record; its neighbours are answered); in a user's
// list or a mutation's answer it fails the call, since the gateway cannot
// show a record it has no status for.
func TestStatusesAreClosedLists(t *testing.T) {
	reply := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }
	}
	desc := connectors.Descriptor{ID: "shop", Vertical: connectors.VerticalGrocery}

	t.Run("a batch answers the known status and refuses the unknown one alone", func(t *testing.T) {
		c := mustClient(t, desc, mustServe(t, reply(`{"results":[{"value":`+orderJSON("a", "OUT_FOR_DELIVERY")+`},{"value":`+orderJSON("b", "SHIPPED")+`}]}`)).URL)
		res, err := c.Orders(ctxTimeout(t, 5*time.Second), []string{"a", "b"})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Err != nil || res[0].Value.Status != connectors.StatusOutForDelivery {
			t.Errorf("known status: %+v", res[0])
		}
		e := mustKind(t, res[1].Err, connectors.KindProvider, "shop")
		if strings.Contains(e.Message, "SHIPPED") {
			t.Errorf("the client-visible message quotes the provider's value: %q", e.Message)
		}
	})
	t.Run("a user's list with an unknown status fails", func(t *testing.T) {
		c := mustClient(t, desc, mustServe(t, reply(`{"items":[`+orderJSON("a", "PLACED")+`,`+orderJSON("b", "placed")+`]}`)).URL)
		_, err := c.UserOrders(ctxTimeout(t, 5*time.Second), "u")
		mustKind(t, err, connectors.KindProvider, "shop")
	})
	t.Run("a mutation answered with an unknown status fails", func(t *testing.T) {
		c := mustClient(t, desc, mustServe(t, reply(orderJSON("a", ""))).URL)
		_, err := c.CancelOrder(ctxTimeout(t, 5*time.Second), "u", "a")
		mustKind(t, err, connectors.KindProvider, "shop")
	})
}

// TestContract12RepliesStillDecode: a provider of contract 1.2 sends no
// display fields; its records decode with them empty.
func TestContract12RepliesStillDecode(t *testing.T) {
	product := `{"id":"a","storeId":"s","name":"Milk","description":"","category":"dairy","tags":null,"price":{"amount":990,"currency":"CNY"},"unit":"1 L","stock":3,"origin":"","rating":4.5,"city":"Hangzhou"}`
	c := mustClient(t, connectors.Descriptor{ID: "old", Vertical: connectors.VerticalGrocery},
		mustServe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"results":[{"value":` + product + `}]}`))
		})).URL)
	res, err := c.Products(ctxTimeout(t, 5*time.Second), []string{"a"})
	if err != nil || res[0].Err != nil {
		t.Fatalf("%v %v", err, res)
	}
	p := res[0].Value
	if p.Name != "Milk" || p.Images != nil || p.OriginalPrice != nil || p.ReviewCount != 0 {
		t.Errorf("decoded %+v", p)
	}
}

// onlyMedical hides every capability beyond connectors.Medical: a provider
// of contract 1.2.
type onlyMedical struct{ connectors.Medical }

// TestChangingBookingsOfAProviderWithout: a provider of 1.2 has no cancel
// or reschedule operation; the client says so as BAD_USER_INPUT "does not
// support", not as a NOT_FOUND of the appointment.
func TestChangingBookingsOfAProviderWithout(t *testing.T) {
	f := newFake("old-clinic", connectors.VerticalMedical)
	c := mustClient(t, f.desc, mustServe(t, NewHandler(onlyMedical{f}, testSecret)).URL)
	_, err := c.CancelAppointment(ctxTimeout(t, 5*time.Second), "u1", "a1")
	e := mustKind(t, err, connectors.KindInvalid, "old-clinic")
	if !strings.Contains(e.Message, "does not support cancelling appointments") {
		t.Fatalf("message %q", e.Message)
	}
	t.Run("while one with them answers", func(t *testing.T) {
		c := mustClient(t, f.desc, mustServe(t, NewHandler(f, testSecret)).URL)
		a, err := c.CancelAppointment(ctxTimeout(t, 5*time.Second), "u1", "a1")
		if err != nil || a.Status != connectors.StatusCancelled {
			t.Fatalf("%+v %v", a, err)
		}
	})
}
