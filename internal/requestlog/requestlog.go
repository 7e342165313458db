// Package requestlog gives every HTTP request an id (X-Request-Id, taken
// from the client when it sends a sane one, else made up), carries it in
// the request's context, and adds it as request_id to every log line
// written with that context (README, "Operating notes"). It also writes one access line per
// request: method, route pattern, path, status and duration — never
// headers or the query string, so tokens stay out of the logs.
package requestlog

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
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
		rec := &recorder{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(rec, r)

		level := slog.LevelInfo
		switch r.URL.Path {
		case "/healthz", "/readyz", "/metrics":
			level = slog.LevelDebug
		}
		logger.Log(r.Context(), level, "http request",
			"method", r.Method, "route", r.Pattern, "path", r.URL.Path,
			"status", rec.Status(), "bytes", rec.bytes,
			"duration_ms", time.Since(start).Milliseconds(), "actor", actorName(&actor))
	})
}

// recorder remembers the status and size of a response. It keeps the
// optional interfaces that streaming and WebSockets need (Flush, Hijack,
// and Unwrap for http.ResponseController).
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

// Status returns the status written, 200 when none was (an empty answer),
// or 101 for a hijacked connection (a WebSocket).
func (r *recorder) Status() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("requestlog: the response writer cannot be hijacked")
	}
	if r.status == 0 {
		r.status = http.StatusSwitchingProtocols
	}
	return h.Hijack()
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

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
