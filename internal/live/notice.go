package live

import (
	"encoding/json"

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

// tooSlowResponse is the last event of a shared status subscriber that fell
// behind: the same as an unshared one gets (see graph's forwardStatusEvents).
func tooSlowResponse(rc *graphql.OperationContext) *graphql.Response {
	alias := "messageStatusChanged"
	if f, ok := rc.Operation.SelectionSet[0].(*ast.Field); ok {
		alias = f.Alias
	}
	data, _ := json.Marshal(map[string]any{alias: nil})
	return &graphql.Response{Data: data, Errors: gqlerror.List{StreamError(alias, event.ErrTooSlow, CodeSubscriberTooSlow)}}
}

// StreamError is an error event of the subscription field alias.
func StreamError(alias string, err error, code string) *gqlerror.Error {
	return &gqlerror.Error{Message: err.Error(), Path: ast.Path{ast.PathName(alias)}, Extensions: map[string]any{"code": code}}
}
