package resolvers

import (
	"context"
	"regexp"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/plaza-gateway/plaza/connectors"
)

// inputEnums are the enums whose unknown values are bad input rather than a
// broken document: a provider's developer types a vertical into a
// registration form, and deserves BAD_USER_INPUT naming the field, as every
// other mistake in that form gets. Other enums keep the validator's
// GRAPHQL_VALIDATION_FAILED (an app sending one has a bug, not bad input).
var inputEnums = map[string]bool{"Vertical": true}

// The two messages gqlparser writes for an unknown enum value: in the
// document (rule ValuesOfCorrectType) and in the variables (coercion).
var (
	literalEnumMsg  = regexp.MustCompile(`^Value "([^"]*)" does not exist in "\[*([A-Za-z_][A-Za-z0-9_]*)[!\]]*" enum\.`)
	variableEnumMsg = regexp.MustCompile(` is not a valid ([A-Za-z_][A-Za-z0-9_]*)$`)
)

// enumInputError rewrites a validation error about an unknown value of one
// of inputEnums into BAD_USER_INPUT with `extensions.field` naming the
// argument path as the client wrote it (`input.vertical`, `vertical`).
// Both forms are mapped: a literal by the position the validator reports,
// found again in the document; a variable by the path coercion reports
// (variable.<name>.<fields>), joined to where the document uses the
// variable. ok is false for any other error.
func enumInputError(ctx context.Context, ge *gqlerror.Error) (*gqlerror.Error, bool) {
	if ge.Extensions["code"] != errcode.ValidationFailed || !graphql.HasOperationContext(ctx) {
		return nil, false
	}
	raw := graphql.GetOperationContext(ctx).RawQuery
	var field, value, enum string
	if m := literalEnumMsg.FindStringSubmatch(ge.Message); m != nil && len(ge.Locations) == 1 {
		value, enum = m[1], m[2]
		if !inputEnums[enum] {
			return nil, false
		}
		doc, err := parser.ParseQuery(&ast.Source{Input: raw})
		if err != nil {
			return nil, false
		}
		field = literalPath(doc, ge.Locations[0].Line, ge.Locations[0].Column)
	} else if m := variableEnumMsg.FindStringSubmatch(ge.Message); m != nil && len(ge.Path) >= 2 {
		enum = m[1]
		if !inputEnums[enum] || ge.Path[0] != ast.PathName("variable") {
			return nil, false
		}
		name, ok := ge.Path[1].(ast.PathName)
		if !ok {
			return nil, false
		}
		value = strings.TrimSuffix(ge.Message, m[0])
		doc, err := parser.ParseQuery(&ast.Source{Input: raw})
		if err != nil {
			return nil, false
		}
		field = variablePath(doc, string(name), ge.Path[2:])
	} else {
		return nil, false
	}
	if field == "" {
		return nil, false
	}
	out := *ge
	out.Message = "unknown " + strings.ToLower(enum) + " " + quote(value) + " (want " + strings.Join(enumValues(enum), ", ") + ")"
	out.Extensions = map[string]any{"code": string(connectors.KindInvalid), "field": field}
	return &out, true
}

func quote(s string) string { return `"` + truncate(s, 64) + `"` }

// enumValues lists the values a client may send.
func enumValues(enum string) []string {
	switch enum {
	case "Vertical":
		return []string{string(connectors.VerticalGrocery), string(connectors.VerticalMedical), string(connectors.VerticalLegal),
			string(connectors.VerticalPublicService)}
	}
	return nil
}

// literalPath finds the argument value at line:column and returns its path
// (argument, then object fields), or "".
func literalPath(doc *ast.QueryDocument, line, column int) string {
	var found string
	visitArguments(doc, func(path string, v *ast.Value) bool {
		if v.Position != nil && v.Position.Line == line && v.Position.Column == column && v.Kind == ast.EnumValue {
			found = path
			return false
		}
		return true
	})
	return found
}

// variablePath returns where the document first uses $name, followed by
// the fields of rest (the path inside the variable's value), or "".
func variablePath(doc *ast.QueryDocument, name string, rest ast.Path) string {
	var found string
	visitArguments(doc, func(path string, v *ast.Value) bool {
		if v.Kind == ast.Variable && v.Raw == name {
			found = path
			return false
		}
		return true
	})
	if found == "" {
		return ""
	}
	for _, el := range rest {
		switch el := el.(type) {
		case ast.PathName:
			found += "." + string(el)
		case ast.PathIndex:
			// A list position is not a field: the field is the list.
		}
	}
	return found
}

// visitArguments calls visit with the path of every argument value of every
// field of doc, and of every value nested in them, until visit returns false.
func visitArguments(doc *ast.QueryDocument, visit func(path string, v *ast.Value) bool) {
	var walkValue func(path string, v *ast.Value) bool
	walkValue = func(path string, v *ast.Value) bool {
		if v == nil {
			return true
		}
		if !visit(path, v) {
			return false
		}
		for _, c := range v.Children {
			p := path
			if v.Kind == ast.ObjectValue {
				p = path + "." + c.Name
			}
			if !walkValue(p, c.Value) {
				return false
			}
		}
		return true
	}
	var walkSet func(ast.SelectionSet) bool
	walkSet = func(set ast.SelectionSet) bool {
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				for _, a := range s.Arguments {
					if !walkValue(a.Name, a.Value) {
						return false
					}
				}
				if !walkSet(s.SelectionSet) {
					return false
				}
			case *ast.InlineFragment:
				if !walkSet(s.SelectionSet) {
					return false
				}
			}
		}
		return true
	}
	for _, op := range doc.Operations {
		if !walkSet(op.SelectionSet) {
			return
		}
	}
	for _, f := range doc.Fragments {
		if !walkSet(f.SelectionSet) {
			return
		}
	}
}
