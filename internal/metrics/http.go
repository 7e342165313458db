package metrics

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
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
		rec := &statusRecorder{ResponseWriter: w}
		start := time.Now()
		mux.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.httpDuration.WithLabelValues(route, method(r.Method), strconv.Itoa(rec.Status())).Observe(time.Since(start).Seconds())
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

// statusRecorder remembers the status of a response and keeps Flush
// (server-sent events) and Hijack.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

func (r *statusRecorder) Status() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := r.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("metrics: the response writer cannot be hijacked")
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

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
