package metrics

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/felixge/httpsnoop"
	"github.com/vektah/gqlparser/v2/ast"
)

// HTTP wraps the service's ServeMux: it times each request and labels it
// with the pattern the mux matched (read back from Request.Pattern once the
// mux has served it), so that ids in paths do not multiply the series.
// WebSockets and server-sent event streams (subscriptions) are left out:
// their duration is the subscription's.
func (m *Metrics) HTTP(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			mux.ServeHTTP(w, r)
			return
		}
		res := httpsnoop.CaptureMetrics(mux, w, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.httpDuration.WithLabelValues(route, method(r.Method), strconv.Itoa(res.Code)).Observe(res.Duration.Seconds())
	})
}

// method bounds the method label to the standard methods.
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// GraphQL returns the gqlgen extension timing queries and mutations from
// the start of the operation (parsing included) to its response.
// Subscriptions are counted by the subscriptions gauge instead.
func (m *Metrics) GraphQL() graphql.HandlerExtension { return graphqlTimer{m: m} }

type graphqlTimer struct{ m *Metrics }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = graphqlTimer{}

func (graphqlTimer) ExtensionName() string                   { return "Metrics" }
func (graphqlTimer) Validate(graphql.ExecutableSchema) error { return nil }

func (t graphqlTimer) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if !graphql.HasOperationContext(ctx) {
		return resp
	}
	oc := graphql.GetOperationContext(ctx)
	op, field := "unknown", "unknown"
	if oc.Operation != nil {
		if oc.Operation.Operation == ast.Subscription {
			return resp
		}
		op = string(oc.Operation.Operation)
		// The root field is one the schema declares (validation ran), so
		// the label's values are bounded.
		if len(oc.Operation.SelectionSet) > 0 {
			if f, ok := oc.Operation.SelectionSet[0].(*ast.Field); ok {
				field = f.Name
			}
		}
	}
	result := "ok"
	if resp == nil || len(resp.Errors) > 0 {
		result = "error"
	}
	t.m.gqlDuration.WithLabelValues(op, field, result).Observe(time.Since(oc.Stats.OperationStart).Seconds())
	return resp
}
