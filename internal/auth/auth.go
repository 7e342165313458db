// Package auth guards the service's routes with the bearer tokens of
// API_TOKENS (README, "Security"): every API route needs one of them,
// compared in constant time; the probes, the metrics (unless METRICS_AUTH)
// and the static pages stay open. Without tokens everything is open.
//
// The rule is checked twice: in front of the router (Wrap), and again where
// gqlgen creates each GraphQL operation (Operations), whatever transport
// carried it, so that a transport added later cannot skip it.
//
// Tokens are never logged: the package logs nothing, and what it returns to
// callers never quotes the token it was given.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"
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
	// Admin routes (River's UI) need a token, as a bearer token or as the
	// SameSite=Strict cookie its sign-in form sets (see signIn). HTTP Basic
	// credentials are not taken: browsers replay them to any site that
	// asks, which makes every cross-site request an authenticated one.
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
// carries no valid token (README, "Security"; the code graphql-ws servers use for
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
			ok = g.Valid(adminCookie(r))
		}
		switch {
		case ok:
			h.ServeHTTP(w, r.WithContext(Authenticate(r.Context())))
		case a == GraphQL && IsWebsocketUpgrade(r):
			// Browsers cannot set headers on a WebSocket: connection_init
			// carries the token (WebsocketInit), and Operations checks it
			// again for every operation on the socket.
			h.ServeHTTP(w, r)
		case r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "":
			// CORS preflights carry no credentials.
			h.ServeHTTP(w, r)
		case a == Admin && g.signIn(w, r):
		default:
			g.refuse(w, a, header != "")
		}
	})
}

// authenticatedKey marks a request context whose token was checked.
type authenticatedKey struct{}

// Authenticate returns ctx marked as carrying valid credentials. Only the
// guard's own checks (Wrap, WebsocketInit) and tests call it.
func Authenticate(ctx context.Context) context.Context {
	return context.WithValue(ctx, authenticatedKey{}, true)
}

// Authenticated reports whether ctx belongs to a request that presented a
// valid token (false when auth is off).
func Authenticated(ctx context.Context) bool {
	ok, _ := ctx.Value(authenticatedKey{}).(bool)
	return ok
}

// IsWebsocketUpgrade reports whether r is a WebSocket opening handshake
// (RFC 6455 §4.2.1): a GET with "Connection: upgrade", "Upgrade: websocket",
// a Sec-WebSocket-Key and version 13. Saying "Upgrade" is not enough: only a
// request that is one passes the HTTP guard without a token.
func IsWebsocketUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet &&
		headerHasToken(r.Header, "Connection", "upgrade") &&
		headerHasToken(r.Header, "Upgrade", "websocket") &&
		r.Header.Get("Sec-WebSocket-Key") != "" &&
		r.Header.Get("Sec-WebSocket-Version") == "13"
}

// headerHasToken reports whether a comma-separated header of h holds token
// (case-insensitive).
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
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
		if g.Enabled() && !Authenticated(ctx) {
			if !g.Valid(BearerToken(p.Authorization())) {
				ctx = transport.WithWebsocketCloseCode(ctx, CloseCodeForbidden)
				ctx = transport.AppendCloseReason(ctx, "Forbidden")
				return ctx, nil, errForbidden
			}
			ctx = Authenticate(ctx)
		}
		if next != nil {
			return next(ctx, p)
		}
		return ctx, nil, nil
	}
}

// Operations returns the gqlgen extension that checks the caller where each
// operation is created, for every transport (POST, GET, SSE, both WebSocket
// protocols, and any added later): with tokens, an operation whose context
// was not marked by Wrap or WebsocketInit fails with UNAUTHENTICATED.
func (g *Guard) Operations() graphql.HandlerExtension { return operations{g} }

type operations struct{ g *Guard }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = operations{}

func (operations) ExtensionName() string                   { return "Auth" }
func (operations) Validate(graphql.ExecutableSchema) error { return nil }

func (o operations) MutateOperationContext(ctx context.Context, _ *graphql.OperationContext) *gqlerror.Error {
	if !o.g.Enabled() || Authenticated(ctx) {
		return nil
	}
	return &gqlerror.Error{Message: msgMissing, Extensions: map[string]any{"code": "UNAUTHENTICATED"}}
}
