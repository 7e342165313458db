package auth

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/stretchr/testify/require"
)

func TestAuthValid(t *testing.T) {
	t.Parallel()
	g := New(admins("alpha", "", "beta-longer-token"), false)
	require.True(t, g.Enabled())
	for tok, want := range map[string]bool{
		"alpha": true, "beta-longer-token": true,
		"": false, "alph": false, "alpha ": false, "ALPHA": false, "beta": false,
	} {
		require.Equal(t, want, g.Valid(tok), "%q", tok)
	}
	require.False(t, New(nil, true).Enabled())
	require.False(t, New(nil, true).Valid(""))
	var nilGuard *Guard
	require.False(t, nilGuard.Enabled())
}

func TestAuthBearerToken(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]string{
		"Bearer abc":    "abc",
		"bearer abc":    "abc",
		"  Bearer  abc": "abc",
		"Basic abc":     "",
		"Bearer":        "",
		"abc":           "",
	} {
		require.Equal(t, want, BearerToken(header), "%q", header)
	}
}

func TestAuthWrap(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	serve := func(g *Guard, a Access, mutate func(r *http.Request)) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/x", nil)
		if mutate != nil {
			mutate(r)
		}
		w := httptest.NewRecorder()
		g.Wrap(a, ok).ServeHTTP(w, r)
		return w
	}
	bearer := func(tok string) func(r *http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}

	open := New(nil, true)
	for _, a := range []Access{Open, API, GraphQL, Metrics, AdminUI} {
		require.Equal(t, http.StatusNoContent, serve(open, a, nil).Code, "no tokens: %s is open", a)
	}

	g := New(admins("tok"), false)
	require.Equal(t, http.StatusNoContent, serve(g, Open, nil).Code)
	require.Equal(t, http.StatusNoContent, serve(g, Metrics, nil).Code, "metrics open without METRICS_AUTH")
	require.Equal(t, http.StatusUnauthorized, serve(New(admins("tok"), true), Metrics, nil).Code)
	require.Equal(t, http.StatusNoContent, serve(New(admins("tok"), true), Metrics, bearer("tok")).Code)
	for _, a := range []Access{API, GraphQL, AdminUI} {
		require.Equal(t, http.StatusUnauthorized, serve(g, a, nil).Code, "%s", a)
		require.Equal(t, http.StatusUnauthorized, serve(g, a, bearer("nope")).Code, "%s", a)
		require.Equal(t, http.StatusNoContent, serve(g, a, bearer("tok")).Code, "%s", a)
	}
	w := serve(g, GraphQL, nil)
	require.JSONEq(t, `{"data":null,"errors":[{"message":"Authentication credentials were not provided.","extensions":{"code":"UNAUTHENTICATED"}}]}`, w.Body.String())
	require.Equal(t, []string{`Bearer realm="notify"`}, w.Header().Values("WWW-Authenticate"))
	w = serve(g, API, bearer("nope"))
	require.JSONEq(t, `{"detail":"Invalid token."}`, w.Body.String())

	basic := func(user, pass string) func(r *http.Request) {
		return func(r *http.Request) {
			r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
		}
	}
	// HTTP Basic is taken nowhere: browsers replay it to any site that asks.
	for _, a := range []Access{API, GraphQL, AdminUI} {
		require.Equal(t, http.StatusUnauthorized, serve(g, a, basic("me", "tok")).Code, "%s", a)
	}
	require.Equal(t, []string{`Bearer realm="notify"`}, serve(g, AdminUI, nil).Header().Values("WWW-Authenticate"), "no Basic prompt")

	// CORS preflights reach the handler; other OPTIONS do not.
	preflight := func(r *http.Request) {
		r.Method = http.MethodOptions
		r.Header.Set("Access-Control-Request-Method", "POST")
	}
	require.Equal(t, http.StatusNoContent, serve(g, API, preflight).Code)
	require.Equal(t, http.StatusUnauthorized, serve(g, API, func(r *http.Request) { r.Method = http.MethodOptions }).Code)
}

// TestAuthOnlyRealUpgradesPass: a request passes the GraphQL guard without a
// token only when it is a WebSocket opening handshake; headers saying
// "Upgrade" on anything else do not open a way in.
func TestAuthOnlyRealUpgradesPass(t *testing.T) {
	t.Parallel()
	g := New(admins("tok"), false)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	upgrade := func(mutate func(r *http.Request)) int {
		r := httptest.NewRequest(http.MethodGet, "/query", nil)
		r.Header.Set("Connection", "keep-alive, Upgrade")
		r.Header.Set("Upgrade", "websocket")
		r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		r.Header.Set("Sec-WebSocket-Version", "13")
		if mutate != nil {
			mutate(r)
		}
		w := httptest.NewRecorder()
		g.Wrap(GraphQL, ok).ServeHTTP(w, r)
		return w.Code
	}
	require.Equal(t, http.StatusNoContent, upgrade(nil), "a real handshake goes on to connection_init")
	for name, mutate := range map[string]func(r *http.Request){
		"POST":          func(r *http.Request) { r.Method = http.MethodPost },
		"no Connection": func(r *http.Request) { r.Header.Del("Connection") },
		"no Key":        func(r *http.Request) { r.Header.Del("Sec-WebSocket-Key") },
		"version 8":     func(r *http.Request) { r.Header.Set("Sec-WebSocket-Version", "8") },
		"Upgrade h2c":   func(r *http.Request) { r.Header.Set("Upgrade", "h2c") },
	} {
		require.Equal(t, http.StatusUnauthorized, upgrade(mutate), name)
	}
	// Other routes never let an upgrade through.
	r := httptest.NewRequest(http.MethodGet, "/clients/", nil)
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	r.Header.Set("Sec-WebSocket-Version", "13")
	w := httptest.NewRecorder()
	g.Wrap(API, ok).ServeHTTP(w, r)
	require.Equal(t, http.StatusUnauthorized, w.Code)
}

// TestAuthOperations: where an operation is created, the check refuses a
// context the guard did not mark, whatever the transport.
func TestAuthOperations(t *testing.T) {
	t.Parallel()
	ext := New(admins("tok"), false).Operations().(graphql.OperationContextMutator)
	err := ext.MutateOperationContext(context.Background(), &graphql.OperationContext{})
	require.NotNil(t, err)
	require.Equal(t, "UNAUTHENTICATED", err.Extensions["code"])
	require.Nil(t, ext.MutateOperationContext(WithPrincipal(context.Background(), &Principal{Name: "a", Role: Admin}), &graphql.OperationContext{}))
	open := New(nil, false).Operations().(graphql.OperationContextMutator)
	require.Nil(t, open.MutateOperationContext(context.Background(), &graphql.OperationContext{}), "no tokens: open")
}

// TestAuthAdminSignIn: River's UI signs a browser in with a form that sets
// an HttpOnly, SameSite=Strict cookie; the cookie then opens the admin
// routes, and nothing else.
func TestAuthAdminSignIn(t *testing.T) {
	t.Parallel()
	g := New(admins("tok-0123456789abcdef"), false)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	do := func(a Access, r *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		g.Wrap(a, ok).ServeHTTP(w, r)
		return w
	}
	page := httptest.NewRequest(http.MethodGet, "/riverui/", nil)
	page.Header.Set("Accept", "text/html")
	w := do(AdminUI, page)
	require.Equal(t, http.StatusUnauthorized, w.Code)
	require.Contains(t, w.Body.String(), `action="/riverui/sign-in"`)
	require.Contains(t, w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'")

	post := func(token, origin string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/riverui/sign-in", strings.NewReader("token="+token))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		return do(AdminUI, r)
	}
	require.Equal(t, http.StatusUnauthorized, post("wrong", "").Code)
	require.Empty(t, post("wrong", "").Result().Cookies())
	require.Equal(t, http.StatusUnauthorized, post("tok-0123456789abcdef", "https://evil.example").Code, "cross-site sign-in")

	w = post("tok-0123456789abcdef", "http://example.com")
	require.Equal(t, http.StatusSeeOther, w.Code)
	cookies := w.Result().Cookies()
	require.Len(t, cookies, 1)
	c := cookies[0]
	require.Equal(t, AdminCookie, c.Name)
	require.True(t, c.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, c.SameSite)
	require.Equal(t, "/riverui/", c.Path)

	withCookie := func(path string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.AddCookie(c)
		return r
	}
	require.Equal(t, http.StatusNoContent, do(AdminUI, withCookie("/riverui/api/jobs")).Code)
	require.Equal(t, http.StatusUnauthorized, do(API, withCookie("/clients/")).Code, "the cookie opens River's UI only")
	require.Equal(t, http.StatusUnauthorized, do(GraphQL, withCookie("/query")).Code)
}

func TestAuthWebsocketInit(t *testing.T) {
	t.Parallel()
	g := New(admins("tok"), false)
	init := g.WebsocketInit(nil)
	_, _, err := init(context.Background(), transport.InitPayload{"authorization": "Bearer tok"})
	require.NoError(t, err)
	_, _, err = init(context.Background(), transport.InitPayload{"Authorization": "Bearer tok"})
	require.NoError(t, err)
	_, _, err = init(WithPrincipal(context.Background(), &Principal{Name: "a", Role: Admin}), nil)
	require.NoError(t, err, "the upgrade request's header was checked")
	for _, p := range []transport.InitPayload{nil, {"authorization": "Bearer nope"}, {"authorization": "tok"}} {
		_, _, err = init(context.Background(), p)
		require.Error(t, err, "%v", p)
	}
	_, _, err = New(nil, false).WebsocketInit(nil)(context.Background(), nil)
	require.NoError(t, err, "no tokens: open")
}

// admins returns admin tokens with the given secrets.
func admins(secrets ...string) []Token {
	var out []Token
	for i, s := range secrets {
		out = append(out, Token{Name: "t" + string(rune('0'+i)), Role: Admin, Secret: s})
	}
	return out
}

// TestParseTokens: name:role:token entries, bare tokens as admins, and
// errors that name the entry, never the token.
func TestParseTokens(t *testing.T) {
	t.Parallel()
	got, err := ParseTokens([]string{"vera:viewer:viewer-token-0123456789", "bare-admin-token-0123456789", "ops:OPERATOR:op:token:with:colons"})
	require.NoError(t, err)
	require.Equal(t, []Token{
		{Name: "vera", Role: Viewer, Secret: "viewer-token-0123456789"},
		{Name: "token-2", Role: Admin, Secret: "bare-admin-token-0123456789"},
		{Name: "ops", Role: Operator, Secret: "op:token:with:colons"},
	}, got)
	for entry, want := range map[string]string{
		"short-token":                  `entry 1 ("token-1"): the token is shorter than 16 characters`,
		"vera:viewer:short":            `entry 1 ("vera"): the token is shorter than 16 characters`,
		"vera:owner:long-enough-token": `entry 1 ("vera"): unknown role "owner"`,
		":admin:long-enough-token-1":   "entry 1: the name is empty",
		"a:b":                          "entry 1: want name:role:token or a bare token",
	} {
		_, err := ParseTokens([]string{entry})
		require.ErrorContains(t, err, want, entry)
		require.NotContains(t, err.Error(), "short\"", "the token is never quoted")
		require.NotContains(t, err.Error(), "long-enough")
	}
	_, err = ParseTokens([]string{"a:admin:long-enough-token-1", "a:viewer:long-enough-token-2"})
	require.ErrorContains(t, err, `entry 2: the name "a" is used twice`)
}
