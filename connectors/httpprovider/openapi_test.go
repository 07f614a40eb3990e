package httpprovider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
)

// mustContract loads openapi.yaml, validates it as a document and returns a
// router over it that matches any server.
func mustContract(tb testing.TB) (*openapi3.T, routers.Router) {
	tb.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile("openapi.yaml")
	if err != nil {
		tb.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		tb.Fatalf("openapi.yaml is invalid: %v", err)
	}
	doc.Servers = nil // match the test servers' random ports
	router, err := legacy.NewRouter(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return doc, router
}

// validating is a RoundTripper that checks every request and response
// against the contract and records the operations it saw.
type validating struct {
	tb     testing.TB
	router routers.Router
	next   http.RoundTripper

	mu   sync.Mutex
	seen map[string]int // "METHOD /path" -> count
	errs []string
}

func (v *validating) RoundTrip(req *http.Request) (*http.Response, error) {
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		v.fail("%s %s: no route: %v", req.Method, req.URL.Path, err)
		return v.next.RoundTrip(req)
	}
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: func(_ context.Context, a *openapi3filter.AuthenticationInput) error {
			if a.RequestValidationInput.Request.Header.Get(a.SecurityScheme.Name) == "" {
				return fmt.Errorf("missing %s", a.SecurityScheme.Name)
			}
			return nil
		}},
	}
	if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
		v.fail("%s %s: request: %v", req.Method, req.URL.Path, err)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := v.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body:    io.NopCloser(bytes.NewReader(data)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
		v.fail("%s %s: response %d %s: %v", req.Method, req.URL.Path, resp.StatusCode, data, err)
	}
	v.mu.Lock()
	v.seen[req.Method+" "+req.URL.Path]++
	v.mu.Unlock()
	return resp, nil
}

func (v *validating) fail(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.errs = append(v.errs, fmt.Sprintf(format, args...))
}

func TestContractListsEveryOperation(t *testing.T) {
	doc, _ := mustContract(t)
	var inDoc, inCode []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			// The stats endpoint is outside the signed API; the catalogue
			// push and the status webhook are served by the gateway, not
			// the provider.
			if path != PathStats && path != PathGatewayCatalog && path != PathGatewayStatus {
				inDoc = append(inDoc, method+" "+path)
			}
		}
	}
	for _, op := range Operations() {
		inCode = append(inCode, op.Method+" "+op.Path)
	}
	sort.Strings(inDoc)
	sort.Strings(inCode)
	if fmt.Sprint(inDoc) != fmt.Sprint(inCode) {
		t.Fatalf("openapi.yaml has\n%v\nthe code serves\n%v", inDoc, inCode)
	}
}

// TestContractStatusWebhookStatuses: the statuses the contract lets a
// provider report on the gateway's status webhook are exactly those the
// webhook accepts (connectors.KnownStatus).
func TestContractStatusWebhookStatuses(t *testing.T) {
	doc, _ := mustContract(t)
	var inDoc []string
	for _, v := range doc.Components.Schemas["StatusChange"].Value.Properties["status"].Value.Enum {
		s, _ := v.(string)
		if !connectors.KnownStatus(s) {
			t.Errorf("openapi.yaml lets a provider report %q, which the webhook refuses", s)
		}
		inDoc = append(inDoc, s)
	}
	for _, l := range [][]string{connectors.OrderStatuses, connectors.AppointmentStatuses, connectors.ConsultationStatuses,
		connectors.LegalConsultationStatuses, connectors.ApplicationStatuses} {
		for _, s := range l {
			if !slices.Contains(inDoc, s) {
				t.Errorf("openapi.yaml's StatusChange.status lacks %q, which the webhook accepts", s)
			}
		}
	}
}

// TestContractValidatesRealTraffic sends every operation through a Client
// whose transport validates each request and response against openapi.yaml:
// first against the fake (every operation, including error replies), then
// against the real demo providers.
func TestContractValidatesRealTraffic(t *testing.T) {
	_, router := mustContract(t)
	v := &validating{tb: t, router: router, next: http.DefaultTransport, seen: map[string]int{}}
	hc := &http.Client{Transport: v}
	clientFor := func(t *testing.T, conn connectors.Connector) *Client {
		url := mustServe(t, NewHandler(conn, testSecret)).URL
		c := mustClient(t, conn.Describe(), url)
		WithHTTPClient(hc)(c)
		return c
	}

	t.Run("the fake, every operation", func(t *testing.T) {
		for _, vt := range roundTrips {
			f := newFake("contract", vt.vertical)
			c := clientFor(t, f)
			for _, cl := range vt.calls {
				cl.run(ctxTimeout(t, 5*time.Second), c)
			}
			c.Health(ctxTimeout(t, time.Second))
			c.RemoteDescriptor(ctxTimeout(t, time.Second))
		}
		for _, op := range Operations() {
			if op.Path == PathCatalog {
				continue // the fake does not publish; the demo providers below do
			}
			if v.seen[op.Method+" "+op.Path] == 0 {
				t.Errorf("%s %s was not exercised", op.Method, op.Path)
			}
		}
	})

	t.Run("the demo providers", func(t *testing.T) {
		conns, err := demo.Default()
		if err != nil {
			t.Fatal(err)
		}
		for _, conn := range conns {
			t.Run(conn.Describe().ID, func(t *testing.T) {
				exerciseDemo(t, conn, clientFor(t, conn))
			})
		}
	})

	for _, e := range v.errs {
		t.Error(e)
	}
}

// exerciseDemo calls every read of conn's vertical through c with IDs the
// provider really has, compares the answers with calling conn directly, and
// sends each mutation once (its reply, success or error, is validated by the
// transport).
func exerciseDemo(t *testing.T, conn connectors.Connector, c *Client) {
	ctx := ctxTimeout(t, 10*time.Second)
	user := demo.UserID(1)
	same := func(name string, run func(connectors.Connector) (any, error)) {
		t.Helper()
		want, wantErr := run(conn)
		got, gotErr := run(c)
		wk, wm := errView(wantErr)
		gk, gm := errView(gotErr)
		// Compared as JSON: a time decoded from the wire has a fixed zone
		// where the provider's may have a named one, the same instant and offset.
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if wk != gk || wm != gm || !bytes.Equal(gj, wj) {
			t.Errorf("%s: over HTTP %+v %v, directly %+v %v", name, got, gotErr, want, wantErr)
		}
	}
	all := connectors.Query{First: 5}
	// Catalogue publishing (1.2): the first page, the page after its
	// cursor, and a cursor the provider never issued.
	var firstPage connectors.CatalogChanges
	same("CatalogChanges", func(x connectors.Connector) (any, error) {
		p, err := x.(connectors.Catalog).CatalogChanges(ctx, "", 3)
		firstPage = p
		return p, err
	})
	same("CatalogChanges since", func(x connectors.Connector) (any, error) {
		return x.(connectors.Catalog).CatalogChanges(ctx, firstPage.Cursor, 3)
	})
	same("CatalogChanges bad cursor", func(x connectors.Connector) (any, error) {
		return x.(connectors.Catalog).CatalogChanges(ctx, "not-a-cursor", 3)
	})
	switch d := conn.(type) {
	case connectors.Grocery:
		stores, _ := d.SearchStores(ctx, all)
		products, _ := d.SearchProducts(ctx, all)
		orders, _ := d.UserOrders(ctx, user)
		sids, pids, oids := idsOf(stores.Items, func(s connectors.Store) string { return s.ID }), idsOf(products.Items, func(p connectors.Product) string { return p.ID }), idsOf(orders, func(o connectors.GroceryOrder) string { return o.ID })
		same("SearchStores", func(x connectors.Connector) (any, error) { return x.(connectors.Grocery).SearchStores(ctx, all) })
		same("SearchProducts", func(x connectors.Connector) (any, error) { return x.(connectors.Grocery).SearchProducts(ctx, all) })
		same("Stores", func(x connectors.Connector) (any, error) {
			r, err := x.(connectors.Grocery).Stores(ctx, sids)
			return outcomes(r), err
		})
		same("Products", func(x connectors.Connector) (any, error) {
			r, err := x.(connectors.Grocery).Products(ctx, pids)
			return outcomes(r), err
		})
		same("Orders", func(x connectors.Connector) (any, error) {
			r, err := x.(connectors.Grocery).Orders(ctx, oids)
			return outcomes(r), err
		})
		same("DeliverySlots", func(x connectors.Connector) (any, error) {
			r, err := x.(connectors.Grocery).DeliverySlots(ctx, sids)
			return outcomes(r), err
		})
		same("UserOrders", func(x connectors.Connector) (any, error) { return x.(connectors.Grocery).UserOrders(ctx, user) })
		in := connectors.PlaceOrderInput{UserID: user, IdempotencyKey: "contract-1"}
		if len(products.Items) > 0 {
			p := products.Items[0]
			in.StoreID, in.Items = p.StoreID, []connectors.OrderLineItem{{ProductID: p.ID, Quantity: 1}}
			if slots, err := d.DeliverySlots(ctx, []string{p.StoreID}); err == nil && len(slots[0].Value) > 0 {
				in.SlotID = slots[0].Value[0].ID
			}
		}
		c.PlaceOrder(ctx, in)
		if len(oids) > 0 {
			c.PayOrder(ctx, connectors.PayOrderInput{UserID: user, OrderID: oids[0], PaymentToken: connectors.PaymentTokenApproved})
			c.CancelOrder(ctx, user, oids[0])
		}
	case connectors.Medical:
		docs, _ := d.SearchDoctors(ctx, all)
		appts, _ := d.UserAppointments(ctx, user)
		cons, _ := d.UserConsultations(ctx, user)
		dids := idsOf(docs.Items, func(x connectors.Doctor) string { return x.ID })
		aids := idsOf(appts, func(x connectors.Appointment) string { return x.ID })
		cids := idsOf(cons, func(x connectors.Consultation) string { return x.ID })
		same("SearchDoctors", func(x connectors.Connector) (any, error) { return x.(connectors.Medical).SearchDoctors(ctx, all) })
		same("Doctors", func(x connectors.Connector) (any, error) {
			r, err := x.(connectors.Medical).Doctors(ctx, dids)
			return outcomes(r), err
		})
		same("Appointments", func(x connectors.Connector) (any, error) {
			r, err := x.(connectors.Medical).Appointments(ctx, aids)
			return outcomes(r), err
		})
		same("Consultations", func(x connectors.Connector) (any, error) {
			r, err := x.(connectors.Medical).Consultations(ctx, cids)
			return outcomes(r), err
		})
		same("AppointmentSlots", func(x connectors.Connector) (any, error) {
			r, err := x.(connectors.Medical).AppointmentSlots(ctx, dids)
			return outcomes(r), err
		})
		same("UserAppointments", func(x connectors.Connector) (any, error) { return x.(connectors.Medical).UserAppointments(ctx, user) })
		same("UserConsultations", func(x connectors.Connector) (any, error) { return x.(connectors.Medical).UserConsultations(ctx, user) })
		in := connectors.BookAppointmentInput{UserID: user, Reason: "check-up", IdempotencyKey: "contract-2"}
		if len(dids) > 0 {
			in.DoctorID = dids[0]
			if slots, err := d.AppointmentSlots(ctx, dids[:1]); err == nil && len(slots[0].Value) > 0 {
				in.SlotID = slots[0].Value[len(slots[0].Value)-1].ID
			}
		}
		c.BookAppointment(ctx, in)
		c.AskDoctor(ctx, connectors.AskDoctorInput{UserID: user, Specialty: "dermatology", Question: "Is this rash serious?", IdempotencyKey: "contract-3"})
	case connectors.Legal:
		lawyers, _ := d.SearchLawyers(ctx, all)
		cons, _ := d.UserLegalConsultations(ctx, user)
		lids := idsOf(lawyers.Items, func(x connectors.Lawyer) string { return x.ID })
		cids := idsOf(cons, func(x connectors.LegalConsultation) string { return x.ID })
		same("SearchLawyers", func(x connectors.Connector) (any, error) { return x.(connectors.Legal).SearchLawyers(ctx, all) })
		same("Lawyers", func(x connectors.Connector) (any, error) {
			r, err := x.(connectors.Legal).Lawyers(ctx, lids)
			return outcomes(r), err
		})
		same("LegalConsultations", func(x connectors.Connector) (any, error) {
			r, err := x.(connectors.Legal).LegalConsultations(ctx, cids)
			return outcomes(r), err
		})
		same("UserLegalConsultations", func(x connectors.Connector) (any, error) {
			return x.(connectors.Legal).UserLegalConsultations(ctx, user)
		})
		in := connectors.LegalConsultationInput{UserID: user, Topic: "lease", Description: "My landlord keeps the deposit.", IdempotencyKey: "contract-4"}
		if len(lids) > 0 {
			in.LawyerID = lids[0]
		}
		c.RequestConsultation(ctx, in)
	case connectors.PublicService:
		svcs, _ := d.SearchServices(ctx, all)
		apps, _ := d.UserApplications(ctx, user)
		sids := idsOf(svcs.Items, func(x connectors.GovService) string { return x.ID })
		aids := idsOf(apps, func(x connectors.ServiceApplication) string { return x.ID })
		same("SearchServices", func(x connectors.Connector) (any, error) {
			return x.(connectors.PublicService).SearchServices(ctx, all)
		})
		same("Services", func(x connectors.Connector) (any, error) {
			r, err := x.(connectors.PublicService).Services(ctx, sids)
			return outcomes(r), err
		})
		same("Applications", func(x connectors.Connector) (any, error) {
			r, err := x.(connectors.PublicService).Applications(ctx, aids)
			return outcomes(r), err
		})
		same("Offices", func(x connectors.Connector) (any, error) {
			r, err := x.(connectors.PublicService).Offices(ctx, sids)
			return outcomes(r), err
		})
		same("UserApplications", func(x connectors.Connector) (any, error) {
			return x.(connectors.PublicService).UserApplications(ctx, user)
		})
		in := connectors.ApplicationInput{UserID: user, IdempotencyKey: "contract-5"}
		if len(svcs.Items) > 0 {
			s := svcs.Items[0]
			in.ServiceID, in.Documents = s.ID, s.RequiredDocuments
			if offices, err := d.Offices(ctx, []string{s.ID}); err == nil && len(offices[0].Value) > 0 {
				o := offices[0].Value[0]
				in.OfficeID = o.ID
				if len(o.Slots) > 0 {
					in.SlotID = o.Slots[len(o.Slots)-1].ID
				}
			}
		}
		if a, err := c.Apply(ctx, in); err == nil && len(aids) > 0 {
			c.RescheduleApplication(ctx, user, a.ID, in.SlotID) // the same slot: answered as it is
		}
	default:
		t.Fatalf("%T implements no vertical", conn)
	}
	if err := c.Health(ctx); err != nil {
		t.Errorf("health: %v", err)
	}
}

// idsOf returns the IDs of items plus one the provider does not have, so
// every batch also carries a per-item error.
func idsOf[T any](items []T, id func(T) string) []string {
	out := make([]string, 0, len(items)+1)
	for _, it := range items {
		out = append(out, id(it))
	}
	return append(out, "no-such-id")
}
