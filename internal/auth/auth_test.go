package auth

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/stretchr/testify/require"
)

func TestAuthValid(t *testing.T) {
	t.Parallel()
	g := New([]string{"alpha", "", "beta-longer-token"}, false)
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
	for _, a := range []Access{Open, API, GraphQL, Metrics, Admin} {
		require.Equal(t, http.StatusNoContent, serve(open, a, nil).Code, "no tokens: %s is open", a)
	}

	g := New([]string{"tok"}, false)
	require.Equal(t, http.StatusNoContent, serve(g, Open, nil).Code)
	require.Equal(t, http.StatusNoContent, serve(g, Metrics, nil).Code, "metrics open without METRICS_AUTH")
	require.Equal(t, http.StatusUnauthorized, serve(New([]string{"tok"}, true), Metrics, nil).Code)
	require.Equal(t, http.StatusNoContent, serve(New([]string{"tok"}, true), Metrics, bearer("tok")).Code)
	for _, a := range []Access{API, GraphQL, Admin} {
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
	require.Equal(t, http.StatusNoContent, serve(g, Admin, basic("me", "tok")).Code)
	require.Equal(t, http.StatusUnauthorized, serve(g, Admin, basic("tok", "")).Code)
	require.Equal(t, http.StatusUnauthorized, serve(g, API, basic("me", "tok")).Code, "Basic only for the River UI")
	require.Len(t, serve(g, Admin, nil).Header().Values("WWW-Authenticate"), 2, "browsers prompt for Basic")

	// WebSocket upgrades and CORS preflights reach the handler.
	require.Equal(t, http.StatusNoContent, serve(g, GraphQL, func(r *http.Request) { r.Header.Set("Upgrade", "websocket") }).Code)
	require.Equal(t, http.StatusUnauthorized, serve(g, API, func(r *http.Request) { r.Header.Set("Upgrade", "websocket") }).Code)
	require.Equal(t, http.StatusNoContent, serve(g, API, func(r *http.Request) { r.Method = http.MethodOptions }).Code)
}

func TestAuthWebsocketInit(t *testing.T) {
	t.Parallel()
	g := New([]string{"tok"}, false)
	init := g.WebsocketInit(nil)
	_, _, err := init(context.Background(), transport.InitPayload{"authorization": "Bearer tok"})
	require.NoError(t, err)
	_, _, err = init(context.Background(), transport.InitPayload{"Authorization": "Bearer tok"})
	require.NoError(t, err)
	_, _, err = init(context.WithValue(context.Background(), authenticatedKey{}, true), nil)
	require.NoError(t, err, "the upgrade request's header was checked")
	for _, p := range []transport.InitPayload{nil, {"authorization": "Bearer nope"}, {"authorization": "tok"}} {
		_, _, err = init(context.Background(), p)
		require.Error(t, err, "%v", p)
	}
	_, _, err = New(nil, false).WebsocketInit(nil)(context.Background(), nil)
	require.NoError(t, err, "no tokens: open")
}
