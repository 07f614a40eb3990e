package listexec

import (
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// TestConstantSelections pins which selection sets CollectFields may keep
// across requests: those whose collection reads no variable.
func TestConstantSelections(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      bool
	}{
		{"plain fields and aliases", `{ a b: a c { d @include(if: $x) } }`, true},
		{"literal @include and @skip", `{ a @include(if: true) b @skip(if: false) }`, true},
		{"@include of a variable", `{ a @include(if: $x) }`, false},
		{"@skip of a variable in an inline fragment", `{ ... on Q { a @skip(if: $x) } }`, false},
		{"an inline fragment under a variable", `{ ... on Q @include(if: $x) { a } }`, false},
		{"@defer labelled by a variable", `{ ... @defer(label: $l) { a } }`, false},
		{"a variable in a spread fragment", `{ ...F } fragment F on Q { a @include(if: $x) }`, false},
		{"a variable two fragments down", `{ ...F } fragment F on Q { ...G } fragment G on Q { a @skip(if: $x) }`, false},
		{"a spread under a variable", `{ ...F @include(if: $x) } fragment F on Q { a }`, false},
		{"constant fragments", `{ ...F } fragment F on Q { ...G b } fragment G on Q { a }`, true},
		{"a variable in a list argument of a directive", `{ a @custom(in: [1, $x]) }`, false},
		{"a spread of a fragment the document lacks", `{ ...Missing }`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: tc.doc})
			if err != nil {
				t.Fatal(err)
			}
			if got := constant(doc, doc.Operations[0].SelectionSet, 0); got != tc.want {
				t.Fatalf("constant = %v, want %v", got, tc.want)
			}
		})
	}
}
