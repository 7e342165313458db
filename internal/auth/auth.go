// Package auth guards the service's routes with the bearer tokens of
// API_TOKENS (SPEC §7): every API route needs one of them, compared in
// constant time; the probes, the metrics (unless METRICS_AUTH) and the
// static pages stay open. Without tokens everything is open.
//
// Tokens are never logged: the package logs nothing, and what it returns to
// callers never quotes the token it was given.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// Access says who may call a route.
type Access int

const (
	// Open routes need no token: /healthz, /readyz, the GraphQL IDE, the
	// docs and their assets.
	Open Access = iota
	// API routes (REST) need a token; a refusal is a REST error
	// ({"detail": …}).
	API
	// GraphQL routes need a token; a refusal is a GraphQL error with
	// extensions.code UNAUTHENTICATED. WebSocket upgrades pass: their
	// token comes in connection_init (see Guard.WebsocketInit).
	GraphQL
	// Metrics is open unless METRICS_AUTH is on, then like API.
	Metrics
	// Admin routes (River's UI) need a token, as a bearer token or, so
	// that a browser can prompt for it, as the password of HTTP Basic
	// authentication (any user name).
	Admin
)

// String returns the access level's name, as route tables print it.
func (a Access) String() string {
	switch a {
	case Open:
		return "open"
	case API:
		return "api"
	case GraphQL:
		return "graphql"
	case Metrics:
		return "metrics"
	case Admin:
		return "admin"
	default:
		return "access(?)"
	}
}

// CloseCodeForbidden is the WebSocket close code sent when connection_init
// carries no valid token (SPEC §5; the code graphql-ws servers use for
// "Forbidden").
const CloseCodeForbidden = 4403

// Guard checks bearer tokens. The zero value and a Guard with no token let
// everything through.
type Guard struct {
	digests     [][sha256.Size]byte
	metricsAuth bool
}

// New returns a Guard accepting any of tokens (API_TOKENS); metricsAuth
// (METRICS_AUTH) puts /metrics behind them too. Empty tokens are ignored.
func New(tokens []string, metricsAuth bool) *Guard {
	g := &Guard{metricsAuth: metricsAuth}
	for _, t := range tokens {
		if t != "" {
			g.digests = append(g.digests, sha256.Sum256([]byte(t)))
		}
	}
	return g
}

// Enabled reports whether tokens are required at all.
func (g *Guard) Enabled() bool { return g != nil && len(g.digests) > 0 }

// Valid reports whether token is one of the Guard's tokens. The comparison
// takes the same time whichever token matches, or none: digests of equal
// length are compared, all of them, without an early exit.
func (g *Guard) Valid(token string) bool {
	if !g.Enabled() || token == "" {
		return false
	}
	d := sha256.Sum256([]byte(token))
	match := 0
	for i := range g.digests {
		match |= subtle.ConstantTimeCompare(d[:], g.digests[i][:])
	}
	return match == 1
}

// BearerToken returns the token of an "Authorization: Bearer …" value, or "".
func BearerToken(header string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// basicPassword returns the password of an "Authorization: Basic …" value, or "".
func basicPassword(header string) string {
	scheme, enc, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return ""
	}
	_, pass, _ := strings.Cut(string(raw), ":")
	return pass
}

// Wrap returns h guarded at level a. With no tokens, or for Open routes
// (and Metrics without METRICS_AUTH), it returns h itself.
func (g *Guard) Wrap(a Access, h http.Handler) http.Handler {
	if !g.Enabled() || a == Open || (a == Metrics && !g.metricsAuth) {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		ok := g.Valid(BearerToken(header))
		if !ok && a == Admin {
			ok = g.Valid(basicPassword(header))
		}
		switch {
		case ok:
			h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), authenticatedKey{}, true)))
		case a == GraphQL && isUpgrade(r):
			// Browsers cannot set headers on a WebSocket: connection_init
			// carries the token (WebsocketInit).
			h.ServeHTTP(w, r)
		case r.Method == http.MethodOptions:
			// CORS preflights carry no credentials.
			h.ServeHTTP(w, r)
		default:
			g.refuse(w, a, header != "")
		}
	})
}

// authenticatedKey marks a request context whose token was checked.
type authenticatedKey struct{}

// Authenticated reports whether ctx belongs to a request that presented a
// valid token (false when auth is off).
func Authenticated(ctx context.Context) bool {
	ok, _ := ctx.Value(authenticatedKey{}).(bool)
	return ok
}

func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// Messages of the refusals, as Django REST framework words them.
const (
	msgMissing = "Authentication credentials were not provided."
	msgInvalid = "Invalid token."
)

// refuse answers 401 in the shape of the route's API.
func (g *Guard) refuse(w http.ResponseWriter, a Access, presented bool) {
	msg := msgMissing
	if presented {
		msg = msgInvalid
	}
	w.Header().Add("WWW-Authenticate", `Bearer realm="notify"`)
	if a == Admin {
		w.Header().Add("WWW-Authenticate", `Basic realm="notify River UI", charset="UTF-8"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusUnauthorized)
	var body any = map[string]string{"detail": msg}
	if a == GraphQL {
		body = map[string]any{
			"errors": []any{map[string]any{
				"message":    msg,
				"extensions": map[string]any{"code": "UNAUTHENTICATED"},
			}},
			"data": nil,
		}
	}
	_ = json.NewEncoder(w).Encode(body)
}

// errForbidden is the connection_error of a refused WebSocket.
var errForbidden = errors.New("forbidden: connection_init needs {\"authorization\": \"Bearer <token>\"}")

// WebsocketInit returns the GraphQL WebSocket init hook: with tokens, the
// connection_init payload must carry {"authorization": "Bearer <token>"}
// (or the upgrade request a valid Authorization header), else the socket
// is closed with CloseCodeForbidden. next, when not nil, runs after a
// successful check.
func (g *Guard) WebsocketInit(next transport.WebsocketInitFunc) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		if g.Enabled() && !Authenticated(ctx) && !g.Valid(BearerToken(p.Authorization())) {
			ctx = transport.WithWebsocketCloseCode(ctx, CloseCodeForbidden)
			ctx = transport.AppendCloseReason(ctx, "Forbidden")
			return ctx, nil, errForbidden
		}
		if next != nil {
			return next(ctx, p)
		}
		return ctx, nil, nil
	}
}
