package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// A websocket at shutdown ends the way an SSE stream does (sseExecutor):
// each open subscription gets a `next` carrying the SHUTTING_DOWN error,
// then `complete`, and only then does the socket close, with 1001 (going
// away) and a reason. gqlgen's transport would close it with 1000 and no
// word to the subscriptions, which a client cannot tell from the server
// ending them for good. The client subscribes again (on another instance)
// and gets the current state first.

// closeGoingAwayReason is the close reason at shutdown (at most 123 bytes).
const closeGoingAwayReason = "the gateway is shutting down: reconnect"

// goingAway accepts websockets through inner and wraps each connection so
// that closing it once streams has ended (Server.EndStreams) ends its
// subscriptions first.
type goingAway struct {
	inner   transport.WebsocketImplementation
	streams context.Context
}

func (g goingAway) Accept(w http.ResponseWriter, r *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := g.inner.Accept(w, r, o)
	if err != nil {
		return nil, err
	}
	return &goingAwayConn{WebsocketConn: c, streams: g.streams, active: map[string]bool{}}, nil
}

// goingAwayConn follows which subscriptions are open from the messages
// that pass: a client's subscribe (start) opens one; its complete (stop),
// or the gateway's complete or error, ends it.
type goingAwayConn struct {
	transport.WebsocketConn
	streams context.Context

	mu     sync.Mutex
	active map[string]bool
	// ended: the shutdown frames are out; later writes are dropped, so no
	// update follows a subscription's complete.
	ended bool
}

var (
	_ transport.WebsocketReadLimiter   = (*goingAwayConn)(nil)
	_ transport.WebsocketReadDeadliner = (*goingAwayConn)(nil)
)

// wsFrame is the envelope of both protocols' messages.
type wsFrame struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func (c *goingAwayConn) legacy() bool { return c.Subprotocol() != "graphql-transport-ws" }

func (c *goingAwayConn) NextReader() (int, io.Reader, error) {
	t, r, err := c.WebsocketConn.NextReader()
	if err != nil {
		return t, r, err
	}
	// Client messages are few and small (subscribe, complete, ping, pong);
	// the transport bounds their size (PayloadReadLimit) before this.
	data, err := io.ReadAll(r)
	if err != nil {
		return t, nil, err
	}
	var f wsFrame
	if json.Unmarshal(data, &f) == nil && f.ID != "" {
		c.mu.Lock()
		switch f.Type {
		case "subscribe", "start":
			c.active[f.ID] = true
		case "complete", "stop":
			delete(c.active, f.ID)
		}
		c.mu.Unlock()
	}
	return t, bytes.NewReader(data), nil
}

func (c *goingAwayConn) WriteJSON(v any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return nil
	}
	if typ, id := frameOf(v); typ == "complete" || typ == "error" {
		delete(c.active, id)
	}
	return c.WebsocketConn.WriteJSON(v)
}

// frameOf reads the type and id of a message the transport writes (its
// own struct, with exported Type and ID fields).
func frameOf(v any) (typ, id string) {
	rv := reflect.Indirect(reflect.ValueOf(v))
	if rv.Kind() != reflect.Struct {
		return "", ""
	}
	if f := rv.FieldByName("Type"); f.IsValid() && f.Kind() == reflect.String {
		typ = f.String()
	}
	if f := rv.FieldByName("ID"); f.IsValid() && f.Kind() == reflect.String {
		id = f.String()
	}
	return typ, id
}

// WriteClose is how the transport closes the socket; once streams has
// ended (shutdown) every open subscription is ended first and the code is
// 1001 going away.
func (c *goingAwayConn) WriteClose(code int, reason string) error {
	if c.streams.Err() != nil {
		c.endSubscriptions()
		code, reason = int(coderws.StatusGoingAway), closeGoingAwayReason
	}
	return c.WebsocketConn.WriteClose(code, reason)
}

// endSubscriptions sends each open subscription, in id order, a next with
// the SHUTTING_DOWN error and then complete.
func (c *goingAwayConn) endSubscriptions() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	c.ended = true
	next := "next"
	if c.legacy() {
		next = "data"
	}
	payload, _ := json.Marshal(graphql.Response{Errors: gqlerror.List{errShuttingDown}})
	ids := make([]string, 0, len(c.active))
	for id := range c.active {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if c.WebsocketConn.WriteJSON(wsFrame{ID: id, Type: next, Payload: payload}) != nil ||
			c.WebsocketConn.WriteJSON(wsFrame{ID: id, Type: "complete"}) != nil {
			break // the peer is gone: nothing more to tell it
		}
	}
	clear(c.active)
}

func (c *goingAwayConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

func (c *goingAwayConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}
