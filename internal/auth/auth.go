// Package auth guards the service's routes with the bearer tokens of
// API_TOKENS (README, "Security"): every API route needs one of them,
// compared in constant time, or a JWT of the OIDC provider at OIDC_ISSUER
// (oidc.go); the probes, the metrics (unless METRICS_AUTH) and the static
// pages stay open. Without tokens or OIDC everything is open.
//
// The rule is checked twice: in front of the router (Wrap), and again where
// gqlgen creates each GraphQL operation (Operations), whatever transport
// carried it, so that a transport added later cannot skip it.
//
// Tokens and JWTs are never logged: the package logs why it refused
// credentials (with a logger, see WithLogger), never the credentials, and
// what it returns to callers never quotes the token it was given.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Access says who may call a route.
type Access int

const (
	// Open routes need no token: /healthz, /readyz, the GraphQL IDE, the
	// docs and their assets.
	Open Access = iota
	// API routes (REST) need a token: a viewer's to read, an operator's to
	// write, an admin's to delete; a refusal is a REST error ({"detail": …}).
	API
	// GraphQL routes need a token; a refusal is a GraphQL error with
	// extensions.code UNAUTHENTICATED. WebSocket upgrades pass: their
	// token comes in connection_init (see Guard.WebsocketInit).
	GraphQL
	// Metrics is open unless METRICS_AUTH is on, then needs an admin token.
	Metrics
	// AdminUI routes (River's UI) need an admin's token, as a bearer token or as the
	// SameSite=Strict cookie its sign-in form sets (see signIn). HTTP Basic
	// credentials are not taken: browsers replay them to any site that
	// asks, which makes every cross-site request an authenticated one.
	AdminUI
	// AdminAPI routes (REST's /audit/) need an admin's bearer token for
	// every method; a refusal is a REST error ({"detail": …}).
	AdminAPI
	// OperatorAPI routes (REST's /opt-outs/) are API routes whose deletes
	// an operator may make: opting a phone back in is an operator's write.
	OperatorAPI
	// ReadAPI routes (REST's POST /mailings/preview/) need a viewer's token
	// whatever the method: a POST there writes nothing.
	ReadAPI
	// OperatorReadAPI routes (REST's /webhooks/) need an operator's token
	// whatever the method: webhook deliveries are read by those who set
	// mailings' receivers.
	OperatorReadAPI
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
	case AdminUI:
		return "admin-ui"
	case AdminAPI:
		return "admin-api"
	case OperatorAPI:
		return "operator-api"
	case ReadAPI:
		return "read-api"
	case OperatorReadAPI:
		return "operator-read-api"
	default:
		return "access(?)"
	}
}

// CloseCodeForbidden is the WebSocket close code sent when connection_init
// carries no valid token (README, "Security"; the code graphql-ws servers use for
// "Forbidden").
const CloseCodeForbidden = 4403

// Guard checks bearer tokens (and, with WithOIDC, JWTs). The zero value and
// a Guard with neither tokens nor OIDC let everything through.
type Guard struct {
	tokens      []entry
	metricsAuth bool
	oidc        *OIDC        // OIDC_ISSUER: bearer JWTs (WithOIDC); nil without
	logger      *slog.Logger // why presented credentials were refused (WithLogger); nil logs nothing
}

// entry is a token's digest and who it is.
type entry struct {
	digest    [sha256.Size]byte
	principal *Principal
}

// New returns a Guard accepting tokens (API_TOKENS, see ParseTokens);
// metricsAuth (METRICS_AUTH) puts /metrics behind an admin token too.
func New(tokens []Token, metricsAuth bool) *Guard {
	g := &Guard{metricsAuth: metricsAuth}
	for _, t := range tokens {
		if t.Secret != "" {
			g.tokens = append(g.tokens, entry{sha256.Sum256([]byte(t.Secret)), &Principal{Name: t.Name, Role: t.Role}})
		}
	}
	return g
}

// WithOIDC makes g accept the bearer JWTs o verifies too, after the API
// tokens; it returns g.
func (g *Guard) WithOIDC(o *OIDC) *Guard {
	g.oidc = o
	return g
}

// WithLogger makes g log why it refused presented credentials (at info,
// with the reason, never the credentials); it returns g.
func (g *Guard) WithLogger(l *slog.Logger) *Guard {
	g.logger = l
	return g
}

// Enabled reports whether credentials are required at all: API tokens or
// OIDC are configured.
func (g *Guard) Enabled() bool { return g != nil && (len(g.tokens) > 0 || g.oidc != nil) }

// Check returns who token belongs to, or nil. The comparison takes the same
// time whichever token matches, or none: digests of equal length are
// compared, all of them, without an early exit.
func (g *Guard) Check(token string) *Principal {
	if !g.Enabled() || token == "" {
		return nil
	}
	d := sha256.Sum256([]byte(token))
	var found *Principal
	for i := range g.tokens {
		if subtle.ConstantTimeCompare(d[:], g.tokens[i].digest[:]) == 1 {
			found = g.tokens[i].principal
		}
	}
	return found
}

// authenticate returns who the value of an Authorization header (or of
// connection_init's authorization) belongs to: an API token's principal
// (Check, constant time), else, with OIDC and a bearer shaped like a JWT,
// the JWT's. It returns nil when there are no credentials or they are
// refused, and logs why it refused them.
func (g *Guard) authenticate(ctx context.Context, header string) *Principal {
	token := BearerToken(header)
	if token == "" {
		if strings.TrimSpace(header) != "" {
			g.logRefusal(ctx, "malformed Authorization header (want \"Bearer <token>\")")
		}
		return nil
	}
	if p := g.Check(token); p != nil {
		return p
	}
	if g.oidc != nil && LooksLikeJWT(token) {
		p, err := g.oidc.Verify(ctx, token)
		if err != nil {
			g.logRefusal(ctx, "bearer JWT refused: "+err.Error())
			return nil
		}
		return p
	}
	g.logRefusal(ctx, "bearer token refused: not one of API_TOKENS")
	return nil
}

// logRefusal logs why credentials were refused; reason never holds them.
func (g *Guard) logRefusal(ctx context.Context, reason string) {
	if g.logger != nil {
		g.logger.InfoContext(ctx, "credentials refused", "reason", reason)
	}
}

// Valid reports whether token is one of the Guard's tokens.
func (g *Guard) Valid(token string) bool { return g.Check(token) != nil }

// BearerToken returns the token of an "Authorization: Bearer …" value, or "".
func BearerToken(header string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// need is the role a request to a route at level a needs: REST reads need
// a viewer, deletes an admin, other writes an operator; River's UI and
// /metrics an admin; GraphQL a viewer here (each operation's own role is
// checked where it is created, see Operations).
func need(a Access, r *http.Request) Role {
	switch a {
	case AdminUI, AdminAPI, Metrics:
		return Admin
	case OperatorReadAPI:
		return Operator
	case API:
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return Viewer
		case http.MethodDelete:
			return Admin
		}
		return Operator
	case OperatorAPI:
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return Viewer
		}
		return Operator
	}
	return Viewer
}

// Wrap returns h guarded at level a. With no tokens, or for Open routes
// (and Metrics without METRICS_AUTH), it returns h itself. Without valid
// credentials it answers 401; with a role below the route's, 403.
func (g *Guard) Wrap(a Access, h http.Handler) http.Handler {
	if !g.Enabled() || a == Open || (a == Metrics && !g.metricsAuth) {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		p := g.authenticate(r.Context(), header)
		if p == nil && a == AdminUI {
			p = g.Check(adminCookie(r))
		}
		switch {
		case p != nil && p.Can(need(a, r)):
			setActor(r.Context(), p)
			h.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		case p != nil:
			setActor(r.Context(), p)
			g.forbid(w, a)
		case a == GraphQL && IsWebsocketUpgrade(r):
			// Browsers cannot set headers on a WebSocket: connection_init
			// carries the token (WebsocketInit), and Operations checks it
			// again for every operation on the socket.
			h.ServeHTTP(w, r)
		case r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "":
			// CORS preflights carry no credentials.
			h.ServeHTTP(w, r)
		case a == AdminUI && g.signIn(w, r):
		default:
			g.refuse(w, a, header != "")
		}
	})
}

// Authenticated reports whether ctx belongs to a request that presented
// valid credentials (false when auth is off).
func Authenticated(ctx context.Context) bool { return PrincipalFrom(ctx) != nil }

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
	msgMissing   = "Authentication credentials were not provided."
	msgInvalid   = "Invalid token."
	msgForbidden = "You do not have permission to perform this action."
)

// forbid answers 403 in the shape of the route's API.
func (g *Guard) forbid(w http.ResponseWriter, a Access) {
	writeRefusal(w, a, http.StatusForbidden, msgForbidden, "FORBIDDEN")
}

// refuse answers 401 in the shape of the route's API.
func (g *Guard) refuse(w http.ResponseWriter, a Access, presented bool) {
	msg := msgMissing
	if presented {
		msg = msgInvalid
	}
	w.Header().Add("WWW-Authenticate", `Bearer realm="notify"`)
	writeRefusal(w, a, http.StatusUnauthorized, msg, "UNAUTHENTICATED")
}

// writeRefusal writes a refusal: a GraphQL error with extensions.code for
// GraphQL routes, {"detail": …} for the others.
func writeRefusal(w http.ResponseWriter, a Access, status int, msg, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	var body any = map[string]string{"detail": msg}
	if a == GraphQL {
		body = map[string]any{
			"errors": []any{map[string]any{
				"message":    msg,
				"extensions": map[string]any{"code": code},
			}},
			"data": nil,
		}
	}
	_ = json.NewEncoder(w).Encode(body)
}

// errForbidden is the connection_error of a refused WebSocket.
var errForbidden = errors.New("forbidden: connection_init needs {\"authorization\": \"Bearer <token>\"}")

// WebsocketInit returns the GraphQL WebSocket init hook: with tokens (or
// OIDC), the connection_init payload must carry {"authorization": "Bearer <token or JWT>"}
// (or the upgrade request a valid Authorization header), else the socket
// is closed with CloseCodeForbidden. next, when not nil, runs after a
// successful check.
func (g *Guard) WebsocketInit(next transport.WebsocketInitFunc) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		if g.Enabled() && !Authenticated(ctx) {
			who := g.authenticate(ctx, p.Authorization())
			if who == nil {
				ctx = transport.WithWebsocketCloseCode(ctx, CloseCodeForbidden)
				ctx = transport.AppendCloseReason(ctx, "Forbidden")
				return ctx, nil, errForbidden
			}
			setActor(ctx, who)
			ctx = WithPrincipal(ctx, who)
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

func (o operations) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if !o.g.Enabled() {
		return nil
	}
	p := PrincipalFrom(ctx)
	if p == nil {
		return &gqlerror.Error{Message: msgMissing, Extensions: map[string]any{"code": "UNAUTHENTICATED"}}
	}
	if rc.Operation == nil {
		return nil
	}
	// The root fields as the executor collects them (fragments, @skip and
	// @include), with its root type as the key of its cache, so that it
	// finds them collected.
	root := []string{rootType[rc.Operation.Operation]}
	for _, f := range graphql.CollectFields(rc, rc.Operation.SelectionSet, root) {
		if need := FieldRole(f.Definition, rc.Operation.Operation); !p.Can(need) {
			return &gqlerror.Error{
				Message:    fmt.Sprintf("%s needs the %s role; %q is %s", f.Name, need, p.Name, p.Role),
				Extensions: map[string]any{"code": "FORBIDDEN"},
			}
		}
	}
	return nil
}

// rootType names the root type of each kind of operation.
var rootType = map[ast.Operation]string{ast.Query: "Query", ast.Mutation: "Mutation", ast.Subscription: "Subscription"}

// RoleDirective is the schema directive that declares the role a field
// needs: `@hasRole(role: OPERATOR)`.
const RoleDirective = "hasRole"

// FieldRole returns the role field def needs in an operation of type op:
// the role its @hasRole declares; without one, a viewer for queries and
// subscriptions and an admin for mutations (a mutation added without a
// role is closed, not open).
func FieldRole(def *ast.FieldDefinition, op ast.Operation) Role {
	if def != nil {
		if d := def.Directives.ForName(RoleDirective); d != nil {
			if arg := d.Arguments.ForName("role"); arg != nil && arg.Value != nil {
				if r, err := ParseRole(arg.Value.Raw); err == nil {
					return r
				}
			}
			return Admin
		}
	}
	if op == ast.Mutation {
		return Admin
	}
	return Viewer
}
