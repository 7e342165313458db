// Package requestlog gives every HTTP request an id (X-Request-Id, taken
// from the client when it sends a sane one, else made up), carries it in
// the request's context, and adds it as request_id to every log line
// written with that context (README, "Operating notes"). It also writes one access line per
// request: method, route pattern, path, status and duration — never
// headers or the query string, so tokens stay out of the logs.
package requestlog

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/felixge/httpsnoop"
)

// Header is the request and response header carrying the request id.
const Header = "X-Request-Id"

// maxIDLen bounds an id taken from a client.
const maxIDLen = 64

type idKey struct{}

// WithID returns ctx carrying the request id id.
func WithID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, idKey{}, id)
}

// ID returns the request id carried by ctx, or "".
func ID(ctx context.Context) string {
	id, _ := ctx.Value(idKey{}).(string)
	return id
}

// validID reports whether a client's id is safe to echo and log: 1 to 64
// characters of letters, digits, '-', '_', '.' and ':'.
func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// actorKey holds the slot where the auth guard names the caller.
type actorKey struct{}

// SetActor names the caller of the request of ctx (a token's name, never
// the token) for its access log line.
func SetActor(ctx context.Context, name string) {
	if slot, ok := ctx.Value(actorKey{}).(*atomic.Pointer[string]); ok {
		slot.Store(&name)
	}
}

// actorName returns the name in slot, or "" (no credentials, or auth off).
func actorName(slot *atomic.Pointer[string]) string {
	if p := slot.Load(); p != nil {
		return *p
	}
	return ""
}

// Middleware assigns the request id, sets it on the response, and logs
// one line per request when it ends: at debug level for the probes and
// /metrics (scraped every few seconds), at info otherwise.
func Middleware(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(Header)
		if !validID(id) {
			id = rand.Text()
		}
		w.Header().Set(Header, id)
		var actor atomic.Pointer[string] // a WebSocket's is set by another goroutine
		r = r.WithContext(context.WithValue(WithID(r.Context(), id), actorKey{}, &actor))
		// httpsnoop keeps the writer's optional interfaces (Flush for SSE,
		// Hijack for WebSockets, Unwrap); a WebSocket's 101 is written
		// before its hijack, so it is the status logged.
		m := httpsnoop.CaptureMetrics(next, w, r)

		level := slog.LevelInfo
		switch r.URL.Path {
		case "/healthz", "/readyz", "/metrics":
			level = slog.LevelDebug
		}
		logger.Log(r.Context(), level, "http request",
			"method", r.Method, "route", r.Pattern, "path", r.URL.Path,
			"status", m.Code, "bytes", m.Written,
			"duration_ms", m.Duration.Milliseconds(), "actor", actorName(&actor))
	})
}

// Handler adds the request id of a record's context to the record, as
// request_id. Wrap the service's handler with NewHandler once; every logger
// derived from it then tags lines logged with a request's context.
type Handler struct{ next slog.Handler }

// NewHandler returns next wrapped so that records carry request_id.
func NewHandler(next slog.Handler) *Handler {
	if h, ok := next.(*Handler); ok {
		return h
	}
	return &Handler{next: next}
}

// Enabled reports whether the wrapped handler handles level l.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle adds request_id when ctx has one, then hands the record on.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if id := ID(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs returns the handler with attrs added.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(attrs)}
}

// WithGroup returns the handler with a group opened.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name)}
}
