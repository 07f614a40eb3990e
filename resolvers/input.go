package resolvers

import (
	"unicode/utf8"

	"github.com/plaza-gateway/plaza/connectors"
)

// MaxTextRunes bounds every free-text argument (a search's text and city,
// a click's query, a list's category): 256 characters hold any real query
// several times over. Longer input gets BAD_USER_INPUT naming the argument
// in extensions.field before anything is searched, cached or recorded:
// anonymous searches of long text once added 110 MB to Redis in 40
// requests. What is stored is shorter still (events.NormalizeText: at most
// 256 bytes).
const MaxTextRunes = 256

// textArg is one free-text argument: its name in the schema and its value.
type textArg struct {
	name  string
	value *string
}

// checkTexts returns a BAD_USER_INPUT ArgError for the first argument
// longer than MaxTextRunes.
func checkTexts(args ...textArg) error {
	for _, a := range args {
		if a.value == nil || len(*a.value) <= MaxTextRunes {
			continue // fewer bytes than the limit: fewer characters too
		}
		if n := utf8.RuneCountInString(*a.value); n > MaxTextRunes {
			return &ArgError{Arg: a.name, Err: connectors.Errorf(connectors.KindInvalid,
				"%s is too long: %d characters, at most %d", a.name, n, MaxTextRunes)}
		}
	}
	return nil
}

// ArgError is a client error about one argument. It unwraps to the
// *connectors.Error that gives its kind and message, and the error
// presenter names Arg in `extensions.field`, so a client can put the
// message next to the right input.
type ArgError struct {
	Arg string
	Err *connectors.Error
}

func (e *ArgError) Error() string { return e.Arg + ": " + e.Err.Error() }
func (e *ArgError) Unwrap() error { return e.Err }
