package api_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/plaza-gateway/plaza/api"
	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/live"
	"github.com/plaza-gateway/plaza/supply"
)

// statusDoc follows one object and reads it afresh with each update.
const statusDoc = `subscription($id: ID!) { statusChanged(id: $id) { id status changedAt node { id ... on GroceryOrder { status } } } }`

// liveGateway is a gateway serving subscriptions from its own hub, fed by
// bus (an in-process one unless given).
type liveGateway struct {
	*apitest.Gateway
	hub *live.Hub
	bus live.Bus
}

type liveSetup struct {
	limits     live.Limits
	cfg        api.LiveConfig
	bus        live.Bus
	connectors []connectors.Connector
	seats      *live.RedisSeats // counts PerUser over the instances sharing it
}

// liveSecret is every provider's signing secret in these tests.
func liveSecret(p string) string { return "secret-" + p }

func startLive(tb testing.TB, s liveSetup) *liveGateway {
	tb.Helper()
	if s.bus == nil {
		s.bus = live.NewMemoryBus()
	}
	var hubOpts []live.HubOption
	if s.seats != nil {
		hubOpts = append(hubOpts, live.WithSeats(s.seats))
	}
	hub := live.NewHub(s.limits, hubOpts...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if s.seats != nil {
			go s.seats.Run(ctx)
		}
		_ = s.bus.Run(ctx, hub.Deliver)
	}()
	tb.Cleanup(func() { cancel(); <-done })
	if r, ok := s.bus.(*live.RedisBus); ok {
		select {
		case <-r.Ready():
		case <-time.After(10 * time.Second):
			tb.Fatal("the Redis status bus did not subscribe within 10s")
		}
	}
	cfg := api.DefaultConfig()
	cfg.Live = s.cfg
	var index supply.Index
	if s.connectors != nil {
		// The demo providers' catalogue is the same whatever their options:
		// read the index apitest feeds once per process for them, rather
		// than feed one per gateway (seconds under -race).
		index = apitest.Start(tb, apitest.Options{}).Index
	}
	g := apitest.Start(tb, apitest.Options{API: &cfg, Connectors: s.connectors, Index: index, APIOptions: []api.Option{
		api.WithLive(hub, s.bus),
		api.WithProviderSecrets(func(p string) (string, bool) { return liveSecret(p), true }),
	}})
	return &liveGateway{Gateway: g, hub: hub, bus: s.bus}
}

// openOrder returns the global ID and provider of one of user's orders
// still PLACED (the demo history keeps the newest one so).
func openOrder(tb testing.TB, g *apitest.Gateway, user string) (id, provider string) {
	tb.Helper()
	var out struct {
		Me struct {
			Orders struct {
				Edges []struct {
					Node struct{ ID, Status string }
				}
			}
		}
	}
	g.MustPost(apitest.Request{User: user, Query: `{ me { orders(first: 50) { edges { node { id status } } } } }`}).Decode(tb, &out)
	for _, e := range out.Me.Orders.Edges {
		if e.Node.Status == connectors.StatusPlaced {
			g, err := gid.Decode(e.Node.ID)
			if err != nil {
				tb.Fatal(err)
			}
			return e.Node.ID, g.Provider
		}
	}
	tb.Fatalf("%s has no PLACED order", user)
	return "", ""
}

// pushStatus sends the provider's signed status webhook and returns its reply.
func pushStatus(tb testing.TB, g *apitest.Gateway, provider, secret string, changes ...map[string]any) webhookReply {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"changes": changes})
	return webhookCall{method: http.MethodPost, path: "/providers/" + provider + "/status", body: body, secret: secret}.send(tb, g.URL)
}

func mustPushStatus(tb testing.TB, g *apitest.Gateway, provider, id, status string) {
	tb.Helper()
	if r := pushStatus(tb, g, provider, liveSecret(provider), map[string]any{"id": id, "status": status}); r.status != http.StatusNoContent {
		tb.Fatalf("status webhook: %d %s %s", r.status, r.code, r.message)
	}
}

// wsMessage is one graphql-transport-ws message.
type wsMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// update is the data of one statusChanged update.
type update struct {
	ID, Status string
	ChangedAt  time.Time
	Node       *struct{ ID, Status string }
}

type wsClient struct {
	tb testing.TB
	c  *websocket.Conn
	// pong answers the gateway's pings; a client that does not is idle.
	pong atomic.Bool
	// in holds what the reader got: messages, then the error that ended
	// the connection. (A read with a deadline would close a coder/websocket
	// connection when the deadline passes.)
	in chan wsRead
}

type wsRead struct {
	m   wsMessage
	err error
}

// readLoop reads every message, answering pings with pongs when w.pong.
func (w *wsClient) readLoop() {
	for {
		var m wsMessage
		err := wsjson.Read(context.Background(), w.c, &m)
		if err == nil && m.Type == "ping" {
			if w.pong.Load() {
				_ = wsjson.Write(context.Background(), w.c, wsMessage{Type: "pong"})
			}
			continue
		}
		w.in <- wsRead{m, err}
		if err != nil {
			return
		}
	}
}

// dialWS opens a graphql-transport-ws connection and sends connection_init
// with authorization (none when empty). It does not wait for the ack.
func dialWS(tb testing.TB, g *apitest.Gateway, authorization string) *wsClient {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(g.URL, "http")+"/query",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(1 << 20)
	tb.Cleanup(func() { _ = c.CloseNow() })
	w := &wsClient{tb: tb, c: c, in: make(chan wsRead, 64)}
	w.pong.Store(true)
	go w.readLoop()
	init := wsMessage{Type: "connection_init"}
	if authorization != "" {
		init.Payload, _ = json.Marshal(map[string]string{"authorization": authorization})
	}
	w.send(init)
	return w
}

// connect is dialWS as user, waiting for the ack.
func connect(tb testing.TB, g *apitest.Gateway, user string) *wsClient {
	tb.Helper()
	w := dialWS(tb, g, "Bearer "+g.Token(user))
	if m := w.next(); m.Type != "connection_ack" {
		tb.Fatalf("got %s %s, want connection_ack", m.Type, m.Payload)
	}
	return w
}

// following connects as user and subscribes (as "1") to objectID, past
// its first update.
func following(tb testing.TB, g *apitest.Gateway, user, objectID string) *wsClient {
	tb.Helper()
	w := connect(tb, g, user)
	w.subscribe("1", objectID)
	w.nextUpdate("1")
	return w
}

func (w *wsClient) send(m wsMessage) {
	w.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, w.c, m); err != nil {
		w.tb.Fatalf("send %s: %v", m.Type, err)
	}
}

func (w *wsClient) subscribe(id, objectID string) {
	w.tb.Helper()
	payload, _ := json.Marshal(map[string]any{"query": statusDoc, "variables": map[string]any{"id": objectID}})
	w.send(wsMessage{Type: "subscribe", ID: id, Payload: payload})
}

// read returns the next message other than a ping (answered with a pong
// when w.pong), or the error that ended the connection.
func (w *wsClient) read(timeout time.Duration) (wsMessage, error) {
	select {
	case r := <-w.in:
		if r.err != nil {
			w.in <- r // the connection stays ended for the next read
		}
		return r.m, r.err
	case <-time.After(timeout):
		return wsMessage{}, context.DeadlineExceeded
	}
}

func (w *wsClient) next() wsMessage {
	w.tb.Helper()
	m, err := w.read(10 * time.Second)
	if err != nil {
		w.tb.Fatalf("read: %v", err)
	}
	return m
}

// nextUpdate reads the next message, which must be an update of sub.
func (w *wsClient) nextUpdate(sub string) update {
	w.tb.Helper()
	m := w.next()
	var p struct {
		Data   struct{ StatusChanged update }
		Errors []apitest.Error
	}
	if m.Type != "next" || m.ID != sub || json.Unmarshal(m.Payload, &p) != nil || len(p.Errors) > 0 {
		w.tb.Fatalf("got %s %s %s, want an update of %s", m.Type, m.ID, m.Payload, sub)
	}
	return p.Data.StatusChanged
}

// nextError reads the next message, which must end sub with an error, and
// returns its code and message (an `error` message, or a `next` carrying
// only errors followed by `complete`).
func (w *wsClient) nextError(sub string) (code, message string) {
	w.tb.Helper()
	m := w.next()
	var errs []apitest.Error
	switch m.Type {
	case "error":
		_ = json.Unmarshal(m.Payload, &errs)
	case "next":
		var p struct{ Errors []apitest.Error }
		_ = json.Unmarshal(m.Payload, &p)
		errs = p.Errors
		if c := w.next(); c.Type != "complete" || c.ID != sub {
			w.tb.Fatalf("after the error got %s %s, want complete", c.Type, c.ID)
		}
	}
	if m.ID != sub || len(errs) != 1 {
		w.tb.Fatalf("got %s %s %s, want one error for %s", m.Type, m.ID, m.Payload, sub)
	}
	return errs[0].Code(), errs[0].Message
}

// closed waits for the gateway to close the connection and returns its
// close status and reason.
func (w *wsClient) closed(timeout time.Duration) (websocket.StatusCode, string) {
	w.tb.Helper()
	for {
		_, err := w.read(timeout)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Reason
		}
		if errors.Is(err, context.DeadlineExceeded) {
			w.tb.Fatalf("the connection was still open after %s", timeout)
		}
		return websocket.CloseStatus(err), err.Error()
	}
}

func TestStatusChangedOverWebsocket(t *testing.T) {
	g := startLive(t, liveSetup{})
	id, provider := openOrder(t, g.Gateway, "demo-1")
	w := connect(t, g.Gateway, "demo-1")
	w.subscribe("1", id)

	first := w.nextUpdate("1")
	if first.ID != id || first.Status != "PLACED" || first.Node == nil || first.Node.Status != "PLACED" || first.ChangedAt.IsZero() {
		t.Fatalf("first update %+v, want the order's current state", first)
	}
	for _, st := range []string{"PICKING", "OUT_FOR_DELIVERY", "DELIVERED"} {
		mustPushStatus(t, g.Gateway, provider, id, st)
		if u := w.nextUpdate("1"); u.Status != st || u.ID != id || u.Node == nil || u.Node.ID != id {
			t.Fatalf("update %+v, want %s with the order", u, st)
		}
	}
	if m := w.next(); m.Type != "complete" || m.ID != "1" {
		t.Fatalf("after DELIVERED got %s %s, want complete", m.Type, m.ID)
	}
	waitNoSubscriptions(t, g.hub)
}

// TestStatusChangedByHashOverWebsocket: the app sends its subscription as a
// persisted query (the hash in extensions, as over HTTP); the websocket
// transport decodes the version as a json.Number, which must read as 1.
func TestStatusChangedByHashOverWebsocket(t *testing.T) {
	g := startLive(t, liveSetup{})
	id, _ := openOrder(t, g.Gateway, "demo-1")
	w := connect(t, g.Gateway, "demo-1")
	sum := sha256.Sum256([]byte(statusDoc))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	for _, c := range []struct{ sub, query string }{
		{"with-document", statusDoc}, // registers the hash
		{"by-hash", ""},              // the hash alone
	} {
		payload, _ := json.Marshal(map[string]any{"query": c.query, "variables": map[string]any{"id": id}, "extensions": ext})
		w.send(wsMessage{Type: "subscribe", ID: c.sub, Payload: payload})
		if u := w.nextUpdate(c.sub); u.ID != id || u.Status != "PLACED" {
			t.Fatalf("%s: first update %+v, want the order PLACED", c.sub, u)
		}
	}
}

// sseEvent is one Server-Sent Event.
type sseEvent struct{ event, data string }

// subscribeSSE posts the subscription with Accept: text/event-stream and
// returns the events as they come (the channel closes with the stream).
func subscribeSSE(tb testing.TB, g *apitest.Gateway, user, objectID string) (*http.Response, <-chan sseEvent) {
	tb.Helper()
	token := ""
	if user != "" {
		token = g.Token(user)
	}
	return subscribeSSEWithToken(tb, g, token, objectID)
}

// subscribeSSEWithToken is subscribeSSE with a token of the test's own.
func subscribeSSEWithToken(tb testing.TB, g *apitest.Gateway, token, objectID string) (*http.Response, <-chan sseEvent) {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"query": statusDoc, "variables": map[string]any{"id": objectID}})
	req, _ := http.NewRequest(http.MethodPost, g.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = resp.Body.Close() })
	events := make(chan sseEvent, 64)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.event != "" {
					events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return resp, events
}

func nextEvent(tb testing.TB, events <-chan sseEvent) sseEvent {
	tb.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			tb.Fatal("the stream ended")
		}
		return ev
	case <-time.After(10 * time.Second):
		tb.Fatal("no event within 10s")
	}
	return sseEvent{}
}

func sseUpdate(tb testing.TB, ev sseEvent) (update, []apitest.Error) {
	tb.Helper()
	var p struct {
		Data   *struct{ StatusChanged update }
		Errors []apitest.Error
	}
	if ev.event != "next" || json.Unmarshal([]byte(ev.data), &p) != nil {
		tb.Fatalf("got event %q %s, want next", ev.event, ev.data)
	}
	if p.Data == nil {
		return update{}, p.Errors
	}
	return p.Data.StatusChanged, p.Errors
}

func TestStatusChangedOverSSE(t *testing.T) {
	g := startLive(t, liveSetup{})
	id, provider := openOrder(t, g.Gateway, "demo-1")
	resp, events := subscribeSSE(t, g.Gateway, "demo-1", id)
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, ct)
	}
	if u, errs := sseUpdate(t, nextEvent(t, events)); u.Status != "PLACED" || u.Node == nil || len(errs) > 0 {
		t.Fatalf("first update %+v %v, want the current state", u, errs)
	}
	for _, st := range []string{"PICKING", "OUT_FOR_DELIVERY", "DELIVERED"} {
		mustPushStatus(t, g.Gateway, provider, id, st)
		if u, errs := sseUpdate(t, nextEvent(t, events)); u.Status != st || len(errs) > 0 {
			t.Fatalf("update %+v %v, want %s", u, errs, st)
		}
	}
	if ev := nextEvent(t, events); ev.event != "complete" {
		t.Fatalf("after DELIVERED got %q, want complete", ev.event)
	}
}

// An SSE stream the gateway cuts partway ends as graphql-sse's distinct
// connections mode expects: a `next` carrying only the typed error, then
// `complete`.
func TestSSEStreamCutPartway(t *testing.T) {
	// lastEvents reads the stream to its end past the updates it had
	// buffered, and returns the error it ended with and its last event.
	lastEvents := func(t *testing.T, events <-chan sseEvent) (apitest.Error, string) {
		t.Helper()
		for {
			ev := nextEvent(t, events)
			if ev.event != "next" {
				t.Fatalf("got %q %s before an error, want next {errors}", ev.event, ev.data)
			}
			u, errs := sseUpdate(t, ev)
			if u.Status != "" && len(errs) == 0 {
				continue
			}
			if len(errs) != 1 || u.Status != "" {
				t.Fatalf("got %+v %+v, want one error and no data", u, errs)
			}
			last := nextEvent(t, events).event
			if ev, ok := <-events; ok {
				t.Fatalf("got %q after the end", ev.event)
			}
			return errs[0], last
		}
	}
	tests := []struct {
		name      string
		limits    live.Limits
		cut       func(t *testing.T, g *liveGateway, id string) <-chan sseEvent
		code, msg string
	}{
		{
			name:   "a subscriber too slow is dropped with RATE_LIMITED",
			limits: live.Limits{Buffer: 2},
			cut: func(t *testing.T, g *liveGateway, id string) <-chan sseEvent {
				_, events := subscribeSSE(t, g.Gateway, "demo-1", id)
				nextEvent(t, events)
				for i := range 200 {
					st := []string{"PICKING", "PLACED"}[i%2]
					if err := g.bus.Publish(context.Background(), live.Change{ID: id, Status: st, At: time.Now()}); err != nil {
						t.Fatal(err)
					}
				}
				return events
			},
			code: "RATE_LIMITED", msg: "fast enough",
		},
		{
			name: "a token that expires ends it with UNAUTHENTICATED",
			cut: func(t *testing.T, g *liveGateway, id string) <-chan sseEvent {
				tok, err := g.Verifier.Issue("demo-1", 1500*time.Millisecond)
				if err != nil {
					t.Fatal(err)
				}
				_, events := subscribeSSEWithToken(t, g.Gateway, tok, id)
				nextEvent(t, events)
				return events
			},
			code: "UNAUTHENTICATED", msg: "expired",
		},
		{
			name: "shutdown ends it with SHUTTING_DOWN",
			cut: func(t *testing.T, g *liveGateway, id string) <-chan sseEvent {
				_, events := subscribeSSE(t, g.Gateway, "demo-1", id)
				nextEvent(t, events)
				g.Server.Config.Handler.(*api.Server).EndStreams()
				return events
			},
			code: "SHUTTING_DOWN", msg: "subscribe again",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := startLive(t, liveSetup{limits: tt.limits})
			id, _ := openOrder(t, g.Gateway, "demo-1")
			e, last := lastEvents(t, tt.cut(t, g, id))
			if e.Code() != tt.code || !strings.Contains(e.Message, tt.msg) || last != "complete" {
				t.Fatalf("ended with %s %q then %q, want %s %q then complete", e.Code(), e.Message, last, tt.code, tt.msg)
			}
			waitNoSubscriptions(t, g.hub)
		})
	}
	t.Run("a stream that ends with a final status completes without an error", func(t *testing.T) {
		g := startLive(t, liveSetup{})
		id, provider := openOrder(t, g.Gateway, "demo-1")
		_, events := subscribeSSE(t, g.Gateway, "demo-1", id)
		nextEvent(t, events)
		mustPushStatus(t, g.Gateway, provider, id, "DELIVERED")
		if u, errs := sseUpdate(t, nextEvent(t, events)); u.Status != "DELIVERED" || len(errs) > 0 {
			t.Fatalf("got %+v %+v", u, errs)
		}
		if ev := nextEvent(t, events); ev.event != "complete" {
			t.Fatalf("got %q %s, want complete", ev.event, ev.data)
		}
	})
}

func TestStatusChangedAuth(t *testing.T) {
	g := startLive(t, liveSetup{})
	id, _ := openOrder(t, g.Gateway, "demo-1")
	t.Run("a websocket without a token is closed with 4403 and says how to sign in", func(t *testing.T) {
		code, reason := dialWS(t, g.Gateway, "").closed(10 * time.Second)
		if code != api.CloseForbidden || !strings.Contains(reason, "authorization") {
			t.Fatalf("closed with %d %q", code, reason)
		}
	})
	t.Run("a websocket with a bad token is closed with 4403 and the reason", func(t *testing.T) {
		code, reason := dialWS(t, g.Gateway, "Bearer not-a-token").closed(10 * time.Second)
		if code != api.CloseForbidden || !strings.Contains(reason, "invalid token") {
			t.Fatalf("closed with %d %q", code, reason)
		}
	})
	t.Run("SSE without a token answers UNAUTHENTICATED", func(t *testing.T) {
		_, events := subscribeSSE(t, g.Gateway, "", id)
		if _, errs := sseUpdate(t, nextEvent(t, events)); len(errs) != 1 || errs[0].Code() != "UNAUTHENTICATED" {
			t.Fatalf("errors %+v, want UNAUTHENTICATED", errs)
		}
	})
	t.Run("another user's order reads NOT_FOUND, over websocket and SSE", func(t *testing.T) {
		w := connect(t, g.Gateway, "demo-2")
		w.subscribe("x", id)
		if code, _ := w.nextError("x"); code != "NOT_FOUND" {
			t.Fatalf("code %s, want NOT_FOUND", code)
		}
		_, events := subscribeSSE(t, g.Gateway, "demo-2", id)
		if u, errs := sseUpdate(t, nextEvent(t, events)); len(errs) != 1 || errs[0].Code() != "NOT_FOUND" || u.Status != "" {
			t.Fatalf("update %+v errors %+v, want NOT_FOUND only", u, errs)
		}
	})
	t.Run("an ID that is not an order or booking is BAD_USER_INPUT", func(t *testing.T) {
		w := connect(t, g.Gateway, "demo-1")
		w.subscribe("p", productGID)
		if code, _ := w.nextError("p"); code != "BAD_USER_INPUT" {
			t.Fatalf("code %s, want BAD_USER_INPUT", code)
		}
	})
	t.Run("a subscription ends with UNAUTHENTICATED when its token expires", func(t *testing.T) {
		tok, err := g.Verifier.Issue("demo-1", 1500*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		w := dialWS(t, g.Gateway, "Bearer "+tok)
		if m := w.next(); m.Type != "connection_ack" {
			t.Fatalf("got %s", m.Type)
		}
		w.subscribe("e", id)
		w.nextUpdate("e")
		if code, msg := w.nextError("e"); code != "UNAUTHENTICATED" || !strings.Contains(msg, "expired") {
			t.Fatalf("got %s %q, want UNAUTHENTICATED token expired", code, msg)
		}
		w.subscribe("again", id)
		if code, _ := w.nextError("again"); code != "UNAUTHENTICATED" {
			t.Fatalf("a subscription after expiry: %s, want UNAUTHENTICATED", code)
		}
	})
}

func TestSubscriptionLimits(t *testing.T) {
	t.Run("a connection past its cap gets RATE_LIMITED for the extra subscription; the first goes on", func(t *testing.T) {
		g := startLive(t, liveSetup{limits: live.Limits{PerConnection: 1}})
		id, provider := openOrder(t, g.Gateway, "demo-1")
		w := following(t, g.Gateway, "demo-1", id)
		w.subscribe("2", id)
		if code, msg := w.nextError("2"); code != "RATE_LIMITED" || !strings.Contains(msg, "connection") {
			t.Fatalf("got %s %q", code, msg)
		}
		mustPushStatus(t, g.Gateway, provider, id, "PICKING")
		if u := w.nextUpdate("1"); u.Status != "PICKING" {
			t.Fatalf("first subscription got %+v", u)
		}
	})
	t.Run("a user past their cap gets RATE_LIMITED on any connection; another user does not", func(t *testing.T) {
		g := startLive(t, liveSetup{limits: live.Limits{PerUser: 1}})
		id, _ := openOrder(t, g.Gateway, "demo-1")
		other, _ := openOrder(t, g.Gateway, "demo-2")
		following(t, g.Gateway, "demo-1", id)
		b := connect(t, g.Gateway, "demo-1")
		b.subscribe("1", id)
		if code, msg := b.nextError("1"); code != "RATE_LIMITED" || !strings.Contains(msg, "user") {
			t.Fatalf("got %s %q", code, msg)
		}
		_, events := subscribeSSE(t, g.Gateway, "demo-1", id)
		if _, errs := sseUpdate(t, nextEvent(t, events)); len(errs) != 1 || errs[0].Code() != "RATE_LIMITED" {
			t.Fatalf("SSE past the cap: %+v", errs)
		}
		following(t, g.Gateway, "demo-2", other)
	})
	t.Run("a subscriber that does not read is dropped with RATE_LIMITED; the others get every change", func(t *testing.T) {
		g := startLive(t, liveSetup{limits: live.Limits{Buffer: 2}})
		id, _ := openOrder(t, g.Gateway, "demo-1")
		other, _ := openOrder(t, g.Gateway, "demo-2")
		slow := following(t, g.Gateway, "demo-1", id)
		fast := following(t, g.Gateway, "demo-2", other)
		// A burst no client drains as fast as it comes: the slow one's two
		// places fill up and it is dropped; Publish never waits for it.
		ctx := context.Background()
		for i := range 200 {
			st := []string{"PICKING", "PLACED"}[i%2]
			if err := g.bus.Publish(ctx, live.Change{ID: id, Status: st, At: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		if err := g.bus.Publish(ctx, live.Change{ID: other, Status: "PICKING", At: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if u := fast.nextUpdate("1"); u.Status != "PICKING" {
			t.Fatalf("the other subscriber got %+v", u)
		}
		for {
			m := slow.next()
			if m.Type == "next" {
				continue // what was buffered before the drop
			}
			var errs []apitest.Error
			_ = json.Unmarshal(m.Payload, &errs)
			if m.Type != "error" || len(errs) != 1 || errs[0].Code() != "RATE_LIMITED" || !strings.Contains(errs[0].Message, "fast enough") {
				t.Fatalf("slow subscriber got %s %s, want an error RATE_LIMITED", m.Type, m.Payload)
			}
			break
		}
		if st := g.hub.Stats(); st.Dropped < 1 {
			t.Fatalf("hub stats %+v, want a drop", st)
		}
	})
}

func TestSubscriptionKeepAlive(t *testing.T) {
	const idle = 800 * time.Millisecond
	g := startLive(t, liveSetup{cfg: api.LiveConfig{IdleTimeout: idle}})
	id, provider := openOrder(t, g.Gateway, "demo-1")
	t.Run("a connection that answers no ping is closed after the idle timeout", func(t *testing.T) {
		w := connect(t, g.Gateway, "demo-1")
		w.pong.Store(false)
		w.subscribe("1", id)
		start := time.Now()
		w.closed(10 * time.Second)
		if d := time.Since(start); d < idle/2 {
			t.Fatalf("closed after %s, before the idle timeout %s", d, idle)
		}
	})
	t.Run("a connection that answers the pings stays open past the idle timeout with its subscription", func(t *testing.T) {
		w := following(t, g.Gateway, "demo-1", id)
		if m, err := w.read(3 * idle); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %s %v while idle, want nothing", m.Type, err)
		}
		mustPushStatus(t, g.Gateway, provider, id, "PICKING")
		if u := w.nextUpdate("1"); u.Status != "PICKING" {
			t.Fatalf("got %+v", u)
		}
	})
	t.Run("the client's pings are answered with pongs", func(t *testing.T) {
		w := connect(t, g.Gateway, "demo-1")
		w.send(wsMessage{Type: "ping"})
		if m := w.next(); m.Type != "pong" {
			t.Fatalf("got %s, want pong", m.Type)
		}
	})
}

func TestStatusWebhook(t *testing.T) {
	g := startLive(t, liveSetup{})
	id, provider := openOrder(t, g.Gateway, "demo-1")
	w := following(t, g.Gateway, "demo-1", id)
	change := map[string]any{"id": id, "status": "PICKING"}
	tests := []struct {
		name     string
		provider string
		secret   string
		changes  []map[string]any
		status   int
		code     string
	}{
		{"refuses a forged signature with 401", provider, "wrong-secret", []map[string]any{change}, http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"refuses another provider's object with 403", "someoneelse", liveSecret("someoneelse"), []map[string]any{change}, http.StatusForbidden, "FORBIDDEN"},
		{"refuses an ID that is not an order or booking with 400", "freshcart", liveSecret("freshcart"), []map[string]any{{"id": productGID, "status": "PICKING"}}, http.StatusBadRequest, "BAD_USER_INPUT"},
		{"refuses a malformed status with 400", provider, liveSecret(provider), []map[string]any{{"id": id, "status": "picking; drop"}}, http.StatusBadRequest, "BAD_USER_INPUT"},
		{"refuses an empty list with 400", provider, liveSecret(provider), []map[string]any{}, http.StatusBadRequest, "BAD_USER_INPUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := pushStatus(t, g.Gateway, tt.provider, tt.secret, tt.changes...)
			if r.status != tt.status || r.code != tt.code {
				t.Fatalf("got %d %s %q, want %d %s", r.status, r.code, r.message, tt.status, tt.code)
			}
		})
	}
	// None of the refused calls reached the subscriber: the next update it
	// gets is the accepted one.
	mustPushStatus(t, g.Gateway, provider, id, "OUT_FOR_DELIVERY")
	if u := w.nextUpdate("1"); u.Status != "OUT_FOR_DELIVERY" {
		t.Fatalf("got %+v, want OUT_FOR_DELIVERY (and nothing from the refused calls)", u)
	}
}

func TestStatusChangedOverPlainPOST(t *testing.T) {
	g := startLive(t, liveSetup{})
	id, _ := openOrder(t, g.Gateway, "demo-1")
	var out struct{ StatusChanged update }
	g.MustPost(apitest.Request{User: "demo-1", Query: statusDoc, Variables: map[string]any{"id": id}}).Decode(t, &out)
	if out.StatusChanged.Status != "PLACED" || out.StatusChanged.Node == nil {
		t.Fatalf("got %+v, want the current state once", out.StatusChanged)
	}
	waitNoSubscriptions(t, g.hub)
}

// waitNoSubscriptions waits (generously) until hub holds none: streams end
// their subscriptions asynchronously.
func waitNoSubscriptions(tb testing.TB, hub *live.Hub) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for hub.Stats().Subscriptions != 0 {
		if time.Now().After(deadline) {
			tb.Fatalf("the hub still holds %d subscriptions", hub.Stats().Subscriptions)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDemoOrderReachesDelivered(t *testing.T) {
	// The demo providers publish through the gateway's own bus, as the
	// wiring root makes them, on a step a test can wait for.
	bus := live.NewMemoryBus()
	conns, err := demo.Default(demo.WithStatusUpdates(bus, 300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	g := startLive(t, liveSetup{bus: bus, connectors: conns})
	f := orderFixture(t, g.Gateway)
	d, _ := mustData[placedOrder](t, g.Gateway, apitest.Request{User: "demo-4", Query: placeOrderMutation,
		Variables: orderInput(f.store, f.slot, f.product, 1, "")})
	w := connect(t, g.Gateway, "demo-4")
	w.subscribe("1", d.PlaceGroceryOrder.ID)
	// The first update is wherever the order is by now; then each later
	// status in order, ending with DELIVERED and complete.
	path := []string{"PLACED", "PICKING", "OUT_FOR_DELIVERY", "DELIVERED"}
	at := slices.Index(path, w.nextUpdate("1").Status)
	if at < 0 {
		t.Fatal("the first update is not a status of the order's path")
	}
	for _, want := range path[at+1:] {
		if u := w.nextUpdate("1"); u.Status != want {
			t.Fatalf("got %s, want %s", u.Status, want)
		}
	}
	if m := w.next(); m.Type != "complete" {
		t.Fatalf("after DELIVERED got %s, want complete", m.Type)
	}
}

func TestStreamsServeSubscriptionsWithinLimits(t *testing.T) {
	cfg := api.DefaultConfig()
	cfg.Limits.MaxDepth = 6
	g := &liveGateway{Gateway: apitest.Start(t, apitest.Options{API: &cfg, APIOptions: []api.Option{api.WithLive(live.NewHub(live.Limits{}), live.NewMemoryBus())}})}
	id, _ := openOrder(t, g.Gateway, "demo-1")
	send := func(w *wsClient, sub, query string) {
		payload, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"id": id}})
		w.send(wsMessage{Type: "subscribe", ID: sub, Payload: payload})
	}
	tests := []struct {
		name, query, code string
	}{
		{"a query over a websocket is METHOD_NOT_ALLOWED", `query($id: ID!) { node(id: $id) { id } }`, "METHOD_NOT_ALLOWED"},
		{"a mutation over a websocket is METHOD_NOT_ALLOWED", `mutation($id: ID!) { cancelGroceryOrder(id: $id) { id } }`, "METHOD_NOT_ALLOWED"},
		{"a subscription past the depth limit is QUERY_TOO_DEEP", `subscription($id: ID!) { statusChanged(id: $id) { node { ... on GroceryOrder { items { product { store { provider { id } } } } } } } }`, "QUERY_TOO_DEEP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := connect(t, g.Gateway, "demo-1")
			send(w, "1", tt.query)
			if code, msg := w.nextError("1"); code != tt.code {
				t.Fatalf("got %s %q, want %s", code, msg, tt.code)
			}
		})
	}
	t.Run("a query over SSE is METHOD_NOT_ALLOWED", func(t *testing.T) {
		body, _ := json.Marshal(map[string]any{"query": `{ __typename }`})
		req, _ := http.NewRequest(http.MethodPost, g.URL+"/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(raw), "METHOD_NOT_ALLOWED") {
			t.Fatalf("got %s", raw)
		}
	})
}

func TestEndStreams(t *testing.T) {
	g := startLive(t, liveSetup{})
	id, _ := openOrder(t, g.Gateway, "demo-1")
	other, _ := openOrder(t, g.Gateway, "demo-1")
	w := following(t, g.Gateway, "demo-1", id)
	w.subscribe("2", other)
	w.nextUpdate("2")
	idle := connect(t, g.Gateway, "demo-1") // acknowledged, no subscription
	_, events := subscribeSSE(t, g.Gateway, "demo-1", id)
	nextEvent(t, events) // the current state
	g.Server.Config.Handler.(*api.Server).EndStreams()
	// Each open subscription of the websocket: next {SHUTTING_DOWN}, then
	// complete (nextError reads both); then the socket closes going away.
	for _, sub := range []string{"1", "2"} {
		if code, msg := w.nextError(sub); code != "SHUTTING_DOWN" || msg == "" {
			t.Fatalf("subscription %s ended with %s %q, want SHUTTING_DOWN", sub, code, msg)
		}
	}
	for _, c := range []*wsClient{w, idle} {
		if code, reason := c.closed(10 * time.Second); code != websocket.StatusGoingAway || !strings.Contains(reason, "shutting down") {
			t.Fatalf("the websocket closed with %d %q, want 1001 going away with a reason", code, reason)
		}
	}
	for ev := range events { // the stream ends (SHUTTING_DOWN, complete), or closes
		if ev.event == "complete" {
			continue
		}
		if _, errs := sseUpdate(t, ev); len(errs) != 1 || errs[0].Code() != "SHUTTING_DOWN" {
			t.Fatalf("got %q %s after EndStreams", ev.event, ev.data)
		}
	}
	waitNoSubscriptions(t, g.hub)
}

// downBus is a status bus whose Redis is down.
type downBus struct{ live.MemoryBus }

func (*downBus) Publish(context.Context, live.Change) error {
	return fmt.Errorf("%w: dial tcp: connection refused", live.ErrUnavailable)
}

func TestStatusWebhookWhenTheBusIsDown(t *testing.T) {
	g := startLive(t, liveSetup{bus: &downBus{}})
	id, provider := openOrder(t, g.Gateway, "demo-1")
	r := pushStatus(t, g.Gateway, provider, liveSecret(provider), map[string]any{"id": id, "status": "PICKING"})
	if r.status != http.StatusServiceUnavailable || r.retryAfter != "5" || r.code != "PROVIDER_UNAVAILABLE" {
		t.Fatalf("got %d Retry-After %q %s %q, want 503 with Retry-After 5: the provider retries", r.status, r.retryAfter, r.code, r.message)
	}
}
