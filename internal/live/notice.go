package live

import (
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/notifyhq/notify/internal/event"
)

// Codes of the errors a subscription reports while it runs, and of the
// limit on live streams.
const (
	// CodeSubscriberTooSlow ends a messageStatusChanged subscription whose
	// client did not keep up: events were dropped.
	CodeSubscriberTooSlow = "SUBSCRIBER_TOO_SLOW"
	// CodeEventsMissed is an error event of a messageStatusChanged
	// subscription that goes on: the feed was interrupted and events may
	// have been missed (refetch what matters).
	CodeEventsMissed = "EVENTS_MISSED"
	// CodeTooManyStreams refuses a subscription beyond a socket's or an
	// instance's limit.
	CodeTooManyStreams = "TOO_MANY_SUBSCRIPTIONS"
)

// codedError is an error carrying code in extensions.code.
func codedError(code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

// Notice is the error of the subscription field alias for err, a bus
// error that reaches a status subscriber: ErrTooSlow ends its stream
// (SUBSCRIBER_TOO_SLOW); ErrEventsMissed is a notice in a stream that goes
// on (EVENTS_MISSED). Every too-slow and events-missed notice, shared or
// not, direct or through gqlgen's executor, is made here.
func Notice(alias string, err error) *gqlerror.Error {
	code := CodeEventsMissed
	if errors.Is(err, event.ErrTooSlow) {
		code = CodeSubscriberTooSlow
	}
	return &gqlerror.Error{Message: err.Error(), Path: ast.Path{ast.PathName(alias)}, Extensions: map[string]any{"code": code}}
}

// noticeResponse is the response carrying the Notice of err: null data, as
// gqlgen answers the nil value graph's forwardStatusEvents sends with it.
// (alias is a GraphQL name: nothing to escape.)
func noticeResponse(alias string, err error) *graphql.Response {
	return &graphql.Response{Data: []byte(`{"` + alias + `":null}`), Errors: gqlerror.List{Notice(alias, err)}}
}

// tooSlowResponse is the last response of a shared status subscriber that
// fell behind the hub (hubConfig.Dropped).
func tooSlowResponse(rc *graphql.OperationContext) *graphql.Response {
	alias := "messageStatusChanged"
	if f, ok := rc.Operation.SelectionSet[0].(*ast.Field); ok {
		alias = f.Alias
	}
	return noticeResponse(alias, event.ErrTooSlow)
}
