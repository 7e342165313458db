package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/requestlog"
)

// Error codes of the API, in extensions.code (README, the GraphQL bullet and "Security").
const (
	CodeBadUserInput = "BAD_USER_INPUT"
	CodeNotFound     = "NOT_FOUND"
	CodeConflict     = "CONFLICT"
	CodeInternal     = "INTERNAL"
	CodeTimeout      = "TIMEOUT"
	CodeCancelled    = "CANCELLED"
	// CodeBadRequest is a request gqlgen could not read: not a GraphQL
	// request (a body that is not JSON, or not a request object),
	// variables that are not an object, a persisted-query extension it
	// cannot use. The transport has chosen its status (400 mostly).
	CodeBadRequest = "BAD_REQUEST"
)

func init() {
	// User errors answer HTTP 200 like any GraphQL result; gqlgen's own
	// protocol codes keep their status.
	for _, c := range []string{CodeBadUserInput, CodeNotFound, CodeConflict, CodeInternal, CodeTimeout, CodeCancelled} {
		errcode.RegisterErrorType(c, errcode.KindUser)
	}
	errcode.RegisterErrorType(CodeBadRequest, errcode.KindProtocol)
}

// badInput is a BAD_USER_INPUT error naming an argument of the resolver.
func badInput(field, msg string) error {
	return &campaign.ValidationError{Fields: []campaign.FieldError{{Field: field, Message: msg}}}
}

// ErrorPresenter maps every error a resolver returns to the contract's codes,
// in one place: domain validation errors name their field, unknown errors are
// logged and shown as "internal error".
func ErrorPresenter(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		if gqlErr.Extensions != nil && gqlErr.Extensions["code"] != nil {
			return gqlErr // gqlgen's own codes (parse, validation, complexity) pass unchanged
		}
		var verr *campaign.ValidationError
		switch {
		case errors.As(err, &verr):
			f := verr.Fields[0]
			gqlErr.Message = f.Field + ": " + f.Message
			setCode(gqlErr, CodeBadUserInput)
			gqlErr.Extensions["field"] = f.Field
			if len(verr.Fields) > 1 {
				fields := make([]map[string]string, len(verr.Fields))
				for i, f := range verr.Fields {
					fields[i] = map[string]string{"field": f.Field, "message": f.Message}
				}
				gqlErr.Extensions["fields"] = fields
			}
		case errors.Is(err, campaign.ErrNotFound):
			setCode(gqlErr, CodeNotFound)
		case errors.Is(err, campaign.ErrConflict):
			setCode(gqlErr, CodeConflict)
			var about interface{ Field() string }
			if errors.As(err, &about) {
				gqlErr.Extensions["field"] = about.Field()
			}
		case errors.Is(err, context.Canceled):
			// The client went away (or the server is stopping): nobody
			// reads this answer, and it is no error of the service's.
			logger.DebugContext(ctx, "graphql operation cancelled", "path", gqlErr.Path.String())
			gqlErr.Message = "the request was cancelled"
			setCode(gqlErr, CodeCancelled)
		case errors.Is(err, context.DeadlineExceeded):
			logger.WarnContext(ctx, "graphql operation timed out", "path", gqlErr.Path.String())
			gqlErr.Message = timeoutError().Message
			setCode(gqlErr, CodeTimeout)
		case isArgumentError(err, gqlErr):
			field, msg := argumentField(gqlErr), gqlErr.Message
			if errors.As(err, new(*strconv.NumError)) {
				msg = "must be a decimal integer"
			}
			gqlErr.Message = field + ": " + msg
			setCode(gqlErr, CodeBadUserInput)
			gqlErr.Extensions["field"] = field
		case isRequestError(ctx, err, gqlErr):
			// The client's error, which gqlgen's message describes: not
			// an internal one, and nothing to log.
			setCode(gqlErr, CodeBadRequest)
		default:
			logger.ErrorContext(ctx, "graphql resolver failed", "path", gqlErr.Path.String(), "error", err)
			gqlErr.Message = "internal error"
			setCode(gqlErr, CodeInternal)
			addRequestID(ctx, gqlErr)
		}
		return gqlErr
	}
}

// recoverFunc turns a panic in an operation (a resolver, or a
// subscription's stream) into an internal error that names the request id,
// the cause and the stack going to the log only. It is returned as a
// *gqlerror.Error with its code set: gqlgen's WebSocket transport sends a
// subscription's panic without the error presenter.
func recoverFunc(logger *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "graphql operation panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		err := codedError(CodeInternal, "internal error")
		addRequestID(ctx, err)
		return err
	}
}

// isRequestError reports whether err is one of the errors gqlgen's
// transports and extensions make when they cannot read a request ("json
// request body could not be decoded", "could not read request body",
// "invalid APQ extension data", …): a *gqlerror.Error of their own, wrapping
// no other error, presented outside any field. A resolver's errors are
// presented inside their field.
func isRequestError(ctx context.Context, err error, e *gqlerror.Error) bool {
	ge, ok := errors.AsType[*gqlerror.Error](err)
	return ok && ge.Unwrap() == nil && len(e.Path) == 0 && graphql.GetFieldContext(ctx) == nil
}

// addRequestID puts the request id of ctx in err's extensions, for the
// caller to quote when asking what went wrong (the log lines carry it too).
func addRequestID(ctx context.Context, err *gqlerror.Error) {
	if id := requestlog.ID(ctx); id != "" {
		setExtension(err, "requestId", id)
	}
}

func setCode(e *gqlerror.Error, code string) { setExtension(e, "code", code) }

// setExtension sets e's extension key, making e's extensions if need be.
func setExtension(e *gqlerror.Error, key string, value any) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions[key] = value
}

// isArgumentError reports whether err is gqlgen failing to unmarshal an
// argument (a malformed ID, Time or Date): gqlgen returns those as a
// *gqlerror.Error whose path is the argument's path in the operation (e.g.
// ["createMailing", "input", "startAt"]) and, unlike resolver errors, with no
// source locations.
func isArgumentError(err error, e *gqlerror.Error) bool {
	return errors.As(err, new(*gqlerror.Error)) && len(e.Locations) == 0 && len(e.Path) >= 2 && e.Rule == ""
}

// argumentField names the argument of an argument error: the path below the
// field, without a leading "input", dotted ("startAt", "sendWindow.from").
func argumentField(e *gqlerror.Error) string {
	var parts []string
	for _, p := range e.Path[1:] {
		switch v := p.(type) {
		case ast.PathName:
			parts = append(parts, string(v))
		case ast.PathIndex:
			parts = append(parts, strconv.Itoa(int(v)))
		}
	}
	if len(parts) > 1 && parts[0] == "input" {
		parts = parts[1:]
	}
	return strings.Join(parts, ".")
}
