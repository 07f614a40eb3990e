package api

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
)

// Example is a ready-made operation the playground offers, e.g. the
// analysts' saved queries.
type Example struct {
	// Name is the URL segment: /examples/<Name> opens it.
	Name string
	// Query is the GraphQL document.
	Query string
	// Variables, when set, is called per visit (e.g. "the last 24 hours").
	Variables func() map[string]any
	// Headers pre-fill the playground's headers editor (e.g. a development
	// API key).
	Headers map[string]string
}

// WithExamples makes the playground offer examples: GET /examples lists
// them, GET /examples/<name> opens the playground with the document,
// variables and headers filled in. gqlgen's GraphiQL page has no option for
// preset tabs, but it reads its state from the URL, which these links set.
func WithExamples(examples ...Example) Option {
	return func(o *options) { o.examples = append(o.examples, examples...) }
}

// examplesJSON serves the examples for the playground's tabs: name,
// query, variables (computed per request) and headers.
func examplesJSON(examples []Example) http.Handler {
	type tab struct {
		Name      string            `json:"name"`
		Query     string            `json:"query"`
		Variables map[string]any    `json:"variables,omitempty"`
		Headers   map[string]string `json:"headers,omitempty"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		tabs := make([]tab, 0, len(examples))
		for _, e := range examples {
			t := tab{Name: e.Name, Query: e.Query, Headers: e.Headers}
			if e.Variables != nil {
				t.Variables = e.Variables()
			}
			tabs = append(tabs, t)
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, tabs)
	})
}

// exampleHandlers serves the example index and one redirect per example.
func exampleHandlers(mux *http.ServeMux, examples []Example) {
	byName := map[string]Example{}
	var list strings.Builder
	list.WriteString("<!doctype html><title>Plaza examples</title><h1>Ready-made operations</h1><ul>")
	for _, e := range examples {
		byName[e.Name] = e
		fmt.Fprintf(&list, `<li><a href="/examples/%s">%s</a></li>`, url.PathEscape(e.Name), html.EscapeString(e.Name))
	}
	list.WriteString("</ul>")
	index := list.String()
	mux.HandleFunc("GET /examples", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(index))
	})
	mux.HandleFunc("GET /examples/{name}", func(w http.ResponseWriter, r *http.Request) {
		e, ok := byName[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		q := url.Values{"query": {e.Query}}
		if e.Variables != nil {
			if b, err := json.MarshalIndent(e.Variables(), "", "  "); err == nil {
				q.Set("variables", string(b))
			}
		}
		if len(e.Headers) > 0 {
			if b, err := json.MarshalIndent(e.Headers, "", "  "); err == nil {
				q.Set("headers", string(b))
			}
		}
		http.Redirect(w, r, "/?"+q.Encode(), http.StatusFound)
	})
}
