package resolvers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/graph/model"
	"github.com/plaza-gateway/plaza/growth"
)

// ErrorPresenter turns every error into what the client may see: the kind
// becomes `extensions.code`, provider failures name the provider, and
// anything unclassified becomes "internal error" (provider errors can carry
// personal, medical or legal data, so raw causes are logged, never shown).
// An error about one argument (ArgError) names it in `extensions.field`.
// Logged causes are rate-limited per provider and error kind (LimitLogs;
// by default a LogLimiter of its own).
func ErrorPresenter(log *slog.Logger, opts ...PresenterOption) graphql.ErrorPresenterFunc {
	var o presenterOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.logs == nil {
		o.logs = NewLogLimiter(LogLimitConfig{})
	}
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var de *directory.Error
		if errors.As(err, &de) {
			return presentDirectoryError(ctx, log, gqlErr, de)
		}
		var ge *growth.Error
		if errors.As(err, &ge) {
			// Written for the client like the directory's, presented alike.
			return presentDirectoryError(ctx, log, gqlErr, &directory.Error{Code: directory.Code(ge.Code), Field: ge.Field, Message: ge.Message, Err: err})
		}
		var e *connectors.Error
		if !errors.As(err, &e) {
			var ge *gqlerror.Error
			if errors.As(err, &ge) && ge.Err == nil {
				if out, ok := enumInputError(ctx, ge); ok {
					return out
				}
			}
			if errors.As(err, &ge) && ge.Err == nil && ge.Extensions["code"] != nil {
				return gqlErr // parser and validation errors are already client-safe
			}
			if errors.As(err, &ge) && ge.Err == nil && ge.Rule != "" {
				return gqlErr
			}
			log.ErrorContext(ctx, "internal error", "err", err, "path", gqlErr.Path.String())
			gqlErr.Message = "internal error"
			gqlErr.Extensions = map[string]any{"code": string(connectors.KindInternal)}
			return gqlErr
		}
		gqlErr.Message = clientMessage(e)
		if e.Provider != "" {
			if safe := redactProviderDetail(gqlErr.Message); safe != gqlErr.Message {
				// Analysts find the provider's own words in the log (and the
				// trace, through the log's trace id); app users get them
				// without the provider's ids and URLs. Like the request error
				// line, one per provider and kind per interval.
				if ok, same, others := o.logs.Allow(e.Provider, "redacted "+string(e.Kind)); ok {
					log.InfoContext(ctx, "provider error message redacted for the client", "code", e.Kind,
						"provider", e.Provider, "message", gqlErr.Message, "path", gqlErr.Path.String(),
						"suppressed", same, "suppressed_other", others)
				}
				trace.SpanFromContext(ctx).AddEvent("provider error", trace.WithAttributes(
					attribute.String("plaza.provider", e.Provider), attribute.String("plaza.error.message", gqlErr.Message)))
				gqlErr.Message = safe
			}
		}
		gqlErr.Extensions = map[string]any{"code": string(e.Kind)}
		var arg *ArgError
		if errors.As(err, &arg) {
			gqlErr.Extensions["field"] = arg.Arg
		}
		if retryable(e) {
			// The same request may succeed later (with the same idempotency
			// key for a mutation): clients need not parse messages to know.
			gqlErr.Extensions["retryable"] = true
		}
		if e.Provider != "" {
			gqlErr.Extensions["provider"] = e.Provider
		}
		if e.Err != nil || e.Kind == connectors.KindInternal {
			// One failing provider fails every request under load: one line
			// per provider and kind per interval, with the count held back.
			if ok, same, others := o.logs.Allow(e.Provider, string(e.Kind)); ok {
				log.WarnContext(ctx, "request error", "code", e.Kind, "provider", e.Provider, "err", err, "path", gqlErr.Path.String(),
					"suppressed", same, "suppressed_other", others)
			}
		}
		return gqlErr
	}
}

// presentDirectoryError shows a provider directory error: its code, its
// message (written for the client) and the field it names; the cause of an
// UNAVAILABLE or INTERNAL one goes to the log only.
func presentDirectoryError(ctx context.Context, log *slog.Logger, gqlErr *gqlerror.Error, de *directory.Error) *gqlerror.Error {
	switch de.Code {
	case directory.Internal, "":
		log.ErrorContext(ctx, "internal error", "err", de, "path", gqlErr.Path.String())
		gqlErr.Message = "internal error"
		gqlErr.Extensions = map[string]any{"code": string(connectors.KindInternal)}
		return gqlErr
	case directory.Unavailable:
		log.WarnContext(ctx, "provider directory unavailable", "err", de, "path", gqlErr.Path.String())
	}
	gqlErr.Message = de.Message
	gqlErr.Extensions = map[string]any{"code": string(de.Code)}
	if de.Field != "" {
		gqlErr.Extensions["field"] = de.Field
	}
	if de.Code == directory.Unavailable {
		gqlErr.Extensions["retryable"] = true
	}
	return gqlErr
}

// PresenterOption configures ErrorPresenter.
type PresenterOption func(*presenterOptions)

type presenterOptions struct{ logs *LogLimiter }

// LimitLogs makes the presenter write its error lines through l (shared, so
// its Suppressed count can be exported as a metric). A nil l is ignored.
func LimitLogs(l *LogLimiter) PresenterOption { return func(o *presenterOptions) { o.logs = l } }

// retryable reports whether the client may retry the same request.
func retryable(e *connectors.Error) bool {
	switch e.Kind {
	case connectors.KindTimeout, connectors.KindUnavailable, connectors.KindRateLimited:
		return true
	}
	return e.Retryable
}

// clientMessage keeps client-input messages (which we wrote) and replaces
// provider-side ones with a generic sentence naming the provider.
func clientMessage(e *connectors.Error) string {
	switch e.Kind {
	case connectors.KindProvider:
		return fmt.Sprintf("provider %s failed", e.Provider)
	case connectors.KindTimeout:
		return fmt.Sprintf("provider %s timed out", e.Provider)
	case connectors.KindUnavailable:
		return fmt.Sprintf("provider %s is unavailable", e.Provider)
	case connectors.KindRateLimited:
		if e.Provider != "" {
			return fmt.Sprintf("provider %s is rate limiting; retry later", e.Provider)
		}
	case connectors.KindInternal:
		return "internal error"
	}
	return e.Message
}

var (
	// urlPattern matches absolute URLs and host:port addresses.
	urlPattern = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^\s)\]>"']*|\b(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?(?:/[^\s)\]>"']*)?|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?[^\s)\]>"']*`)
	// quotedPattern matches a quoted value: providers quote their ids.
	quotedPattern = regexp.MustCompile("\\s*(?:\"[^\"]*\"|'[^']*'|`[^`]*`)")
	// idPattern matches an unquoted id-shaped word: letters and digits mixed
	// (s-01, ord_9f8e, a UUID), which no sentence of ours needs.
	idPattern = regexp.MustCompile(`\s*\b[a-zA-Z0-9]*(?:[a-zA-Z][-_./:#]?[0-9]|[0-9][-_./:#]?[a-zA-Z])[a-zA-Z0-9\-_./:#]*`)
	spaces    = regexp.MustCompile(`\s{2,}`)
	// leftovers are the punctuation a removed value leaves behind.
	emptyParens   = regexp.MustCompile(`\(\s*[,;:]?\s*\)`)
	spaceBeforeMk = regexp.MustCompile(`\s+([),.;:])`)
)

// redactProviderDetail removes from a provider's message what only the
// provider can read: URLs and addresses, quoted values and id-shaped words
// (its own ids of slots, products and orders, which mean nothing to an app
// user and map the provider's internals). The sentence around them stays:
// `delivery slot "s-01-3" is full` becomes `delivery slot is full`.
func redactProviderDetail(msg string) string {
	out := urlPattern.ReplaceAllString(msg, "")
	out = quotedPattern.ReplaceAllString(out, "")
	out = idPattern.ReplaceAllString(out, "")
	out = emptyParens.ReplaceAllString(out, "")
	out = spaceBeforeMk.ReplaceAllString(out, "$1")
	out = strings.TrimSpace(spaces.ReplaceAllString(out, " "))
	out = strings.TrimRight(out, ":, ")
	if out == "" {
		return "the provider refused the request"
	}
	return out
}

// Recover turns a resolver panic into an INTERNAL error for that field; the
// process keeps serving. The stack goes to the log, not to the client.
func Recover(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "resolver panic", "panic", p, "stack", string(debug.Stack()))
		return connectors.Errorf(connectors.KindInternal, "internal error")
	}
}

// authDirective implements @auth(requires:). USER needs a signed-in user.
// ANALYST needs an analyst API key (auth.APIKeys): anonymous callers and bad
// keys get UNAUTHENTICATED, signed-in app users FORBIDDEN. PROVIDER needs a
// provider credential (auth.RoleProvider: a provider token or API key).
// OPERATOR needs a signed-in user whose token grants auth.RoleOperator.
func authDirective(ctx context.Context, _ any, next graphql.Resolver, requires *model.Role) (any, error) {
	role := model.RoleUser
	if requires != nil {
		role = *requires
	}
	p, _ := auth.From(ctx)
	switch role {
	case model.RoleUser:
		if p.UserID == "" {
			msg := "sign in required"
			if p.Problem != "" {
				msg = p.Problem
			}
			return nil, connectors.Errorf(connectors.KindUnauthenticated, "%s", msg)
		}
		return next(ctx)
	case model.RoleAnalyst:
		return granted(ctx, p, role, p.HasRole(auth.RoleAnalyst), "analyst API key required", next)
	case model.RoleProvider:
		return granted(ctx, p, role, p.HasRole(auth.RoleProvider) && p.Provider != "", "a provider's API key or token required", next)
	case model.RoleOperator:
		return granted(ctx, p, role, p.HasRole(auth.RoleOperator) && p.UserID != "", "an operator's token required", next)
	default:
		return nil, connectors.Errorf(connectors.KindForbidden, "requires role %s", role)
	}
}

// granted runs next when the caller holds role; otherwise a caller who is
// no signed-in user gets UNAUTHENTICATED (saying what is missing, or what
// was wrong with the credential presented) and a user FORBIDDEN.
func granted(ctx context.Context, p auth.Principal, role model.Role, held bool, missing string, next graphql.Resolver) (any, error) {
	switch {
	case held:
		return next(ctx)
	case p.UserID == "":
		if p.Problem != "" {
			missing = p.Problem
		}
		return nil, connectors.Errorf(connectors.KindUnauthenticated, "%s", missing)
	}
	return nil, connectors.Errorf(connectors.KindForbidden, "requires role %s", role)
}
