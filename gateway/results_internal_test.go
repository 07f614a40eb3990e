package gateway

import (
	"errors"
	"reflect"
	"testing"

	"github.com/plaza-gateway/plaza/connectors"
)

// asResults reads a connector's results as the loader's: the two structs
// must hold the same members at the same offsets, for every value type.
func TestResultLayout(t *testing.T) {
	for _, pair := range []struct{ conn, loader reflect.Type }{
		{reflect.TypeFor[connectors.Result[connectors.Product]](), reflect.TypeFor[result[connectors.Product]]()},
		{reflect.TypeFor[connectors.Result[connectors.Store]](), reflect.TypeFor[result[connectors.Store]]()},
		{reflect.TypeFor[connectors.Result[int8]](), reflect.TypeFor[result[int8]]()},
	} {
		c, l := pair.conn, pair.loader
		if c.Size() != l.Size() || c.Align() != l.Align() || c.NumField() != l.NumField() {
			t.Fatalf("%v and %v differ in size, alignment or members", c, l)
		}
		for i := range c.NumField() {
			cf, lf := c.Field(i), l.Field(i)
			if cf.Type != lf.Type || cf.Offset != lf.Offset {
				t.Errorf("%v.%s (%v at %d) is not %v.%s (%v at %d)", c, cf.Name, cf.Type, cf.Offset, l, lf.Name, lf.Type, lf.Offset)
			}
		}
	}
	errBad := errors.New("bad")
	rs := []connectors.Result[connectors.Product]{{Value: connectors.Product{ID: "p-1"}}, {Err: errBad}}
	out := asResults(rs)
	if len(out) != 2 || out[0].Data.ID != "p-1" || out[0].Error != nil || out[1].Error != errBad {
		t.Fatalf("asResults = %+v", out)
	}
}
