package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/auth"
	"github.com/notifyhq/notify/internal/oidctest"
	"github.com/notifyhq/notify/internal/testdb"
)

// oidcAudience is the OIDC_AUDIENCE of the OIDC tests.
const oidcAudience = "notify-api"

// setupOIDC starts the service with API_TOKENS (the role tests' tokens) and
// OIDC_ISSUER pointing at a test provider (README, "Security", "OIDC").
func setupOIDC(t *testing.T) (*testBundle, *oidctest.Provider) {
	t.Helper()
	p := oidctest.New(t)
	b := setup(t, testdb.SQLite(t), setupOpts{noRiver: true, env: map[string]string{
		"API_TOKENS":    roleTokensEnv(),
		"METRICS_AUTH":  "true",
		"OIDC_ISSUER":   p.Issuer,
		"OIDC_AUDIENCE": oidcAudience,
		"AUTH_REQUIRED": "true",
	}})
	return b, p
}

// TestOIDCBearer: a JWT's roles claim gives the role TestRoles gives a
// token: each role is allowed what it may (a mutation, a REST write, a
// delete, River's UI, /metrics) and refused 403 above it; a JWT with no
// notify role is signed in and refused 403 everywhere, not 401. The highest
// role of the claim wins; API tokens keep working beside JWTs; the access
// log names "sub (name)".
func TestOIDCBearer(t *testing.T) {
	t.Parallel()
	b, p := setupOIDC(t)

	type call struct {
		name    string
		do      func(t *testing.T, authorization string) (status int, code string)
		need    auth.Role
		graphql bool
	}
	gql := func(query string) func(t *testing.T, authorization string) (int, string) {
		return func(t *testing.T, authorization string) (int, string) {
			got := lockPOST(t, b.server.URL, authorization, query)
			return got.status, got.code
		}
	}
	rest := func(method, path, body string) func(t *testing.T, authorization string) (int, string) {
		return func(t *testing.T, authorization string) (int, string) {
			status, _ := authRequest(t, b.server.URL, method, path, body, authorization)
			return status, ""
		}
	}
	phone := 79300000000
	calls := []call{
		{"query", gql("{ generalStatistics { mailings } }"), auth.Viewer, true},
		{"createClient", func(t *testing.T, a string) (int, string) {
			phone++
			return gql(fmt.Sprintf(`mutation { createClient(input: {phone: "%d"}) { id } }`, phone))(t, a)
		}, auth.Operator, true},
		{"pauseMailing", gql(`mutation { pauseMailing(id: 999999) { id } }`), auth.Operator, true},
		{"deleteMailing", gql(`mutation { deleteMailing(id: 999999) }`), auth.Admin, true},
		{"GET /clients/", rest(http.MethodGet, "/clients/", ""), auth.Viewer, false},
		{"POST /clients/", func(t *testing.T, a string) (int, string) {
			phone++
			return rest(http.MethodPost, "/clients/", fmt.Sprintf(`{"phone": "%d"}`, phone))(t, a)
		}, auth.Operator, false},
		{"PATCH /clients/999999/", rest(http.MethodPatch, "/clients/999999/", `{"tag": "x"}`), auth.Operator, false},
		{"DELETE /clients/999999/", rest(http.MethodDelete, "/clients/999999/", ""), auth.Admin, false},
		{"GET /riverui/api/jobs", rest(http.MethodGet, "/riverui/api/jobs?state=available", ""), auth.Admin, false},
		{"GET /metrics", rest(http.MethodGet, "/metrics", ""), auth.Admin, false},
	}
	users := []struct {
		sub, name string
		roles     any // the roles claim as the provider sends it
		role      auth.Role
	}{
		{"u-none", "Nora None", []string{"other:admin", "notify:superuser"}, 0},
		{"u-viewer", "Vera Viewer", []string{"notify:viewer"}, auth.Viewer},
		{"u-operator", "Otto Operator", []string{"notify:operator", "unrelated"}, auth.Operator},
		{"u-admin", "Ada Admin", []string{"notify:viewer", "notify:admin", "notify:operator"}, auth.Admin}, // the highest wins
		{"u-spaced", "", "notify:viewer notify:operator", auth.Operator},                                   // one string of values
	}
	for _, u := range users {
		extra := map[string]any{"roles": u.roles}
		if u.name != "" {
			extra["name"] = u.name
		}
		jwt := "Bearer " + p.Sign(t, p.Claims(u.sub, oidcAudience, extra))
		for _, c := range calls {
			t.Run(fmt.Sprintf("%s/%s", u.sub, c.name), func(t *testing.T) {
				status, code := c.do(t, jwt)
				if u.role >= c.need {
					require.NotEqual(t, http.StatusForbidden, status)
					require.NotEqual(t, http.StatusUnauthorized, status)
					require.NotEqual(t, "FORBIDDEN", code)
					require.NotEqual(t, "UNAUTHENTICATED", code)
				} else if c.graphql {
					// Refused where the operation is created (as in TestRoles):
					// FORBIDDEN, or 403 from the guard for a JWT without a role.
					require.Equal(t, "FORBIDDEN", code, "signed in, too low a role: FORBIDDEN, not UNAUTHENTICATED")
				} else {
					require.Equal(t, http.StatusForbidden, status, "signed in, too low a role: 403, not 401")
				}
			})
		}
	}
	// Without a name claim, preferred_username names the caller.
	jwt := p.Sign(t, p.Claims("u-pref", oidcAudience, map[string]any{"roles": []string{"notify:viewer"}, "preferred_username": "pat"}))
	require.True(t, lockPOST(t, b.server.URL, "Bearer "+jwt, "{ generalStatistics { mailings } }").ok())

	// API tokens work beside JWTs.
	require.True(t, lockPOST(t, b.server.URL, "Bearer "+roleTokens[auth.Viewer], "{ generalStatistics { mailings } }").ok())
	status, _ := authRequest(t, b.server.URL, http.MethodDelete, "/clients/999999/", "", "Bearer "+roleTokens[auth.Admin])
	require.Equal(t, http.StatusNotFound, status)

	logs := b.logs.String()
	for _, actor := range []string{"u-none (Nora None)", "u-viewer (Vera Viewer)", "u-operator (Otto Operator)", "u-admin (Ada Admin)", "u-spaced", "u-pref (pat)", "vera", "ada"} {
		require.Contains(t, logs, `"actor":"`+actor+`"`)
	}
	require.Contains(t, logs, "OIDC token without a notify role")
	require.NotContains(t, logs, jwt)
}

// TestOIDCBadTokens: an expired, not-yet-valid, wrongly signed,
// wrong-audience, wrong-issuer or unknown-key JWT, and a malformed
// Authorization header, are each refused 401 over HTTP (and 4403 on a
// WebSocket), the reason logged at info, the JWT never; the caller learns
// nothing but the refusal. Within the leeway (DefaultLeeway) a token is
// still valid.
func TestOIDCBadTokens(t *testing.T) {
	t.Parallel()
	b, p := setupOIDC(t)
	p.UnpublishedKey(t, "forger")
	now := time.Now()
	roles := []string{"notify:admin"}
	claims := func(extra map[string]any) map[string]any {
		extra["roles"] = roles
		return p.Claims("mallory", oidcAudience, extra)
	}
	cases := []struct {
		name, authorization, reason string
	}{
		{"expired", "Bearer " + p.Sign(t, claims(map[string]any{"iat": now.Add(-time.Hour).Unix(), "nbf": now.Add(-time.Hour).Unix(), "exp": now.Add(-2 * time.Minute).Unix()})), "bearer JWT refused: expired"},
		{"not yet valid", "Bearer " + p.Sign(t, claims(map[string]any{"nbf": now.Add(2 * time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()})), "bearer JWT refused: not yet valid"},
		{"no exp", "Bearer " + p.Sign(t, claims(map[string]any{"exp": nil})), "bearer JWT refused: no exp claim"},
		{"wrongly signed", "Bearer " + p.SignWith(t, "forger", "key-1", claims(map[string]any{})), `bearer JWT refused: signature not verified: unknown key or wrong signature (kid \"key-1\")`},
		{"wrong audience", "Bearer " + p.Sign(t, p.Claims("mallory", "another-api", map[string]any{"roles": roles})), "bearer JWT refused: wrong audience"},
		{"wrong issuer", "Bearer " + p.Sign(t, claims(map[string]any{"iss": "https://evil.example"})), "bearer JWT refused: wrong issuer"},
		{"unknown key", "Bearer " + p.SignWith(t, "forger", "forger", claims(map[string]any{})), `bearer JWT refused: signature not verified: unknown key or wrong signature (kid \"forger\")`},
		{"malformed JWT", "Bearer " + p.Sign(t, claims(map[string]any{}))[:40] + ".x.y", "bearer token refused: not one of API_TOKENS"},
		{"no scheme", p.Sign(t, claims(map[string]any{})), "malformed Authorization header"},
		{"Basic", "Basic " + p.Sign(t, claims(map[string]any{})), "malformed Authorization header"},
		{"Bearer alone", "Bearer", "malformed Authorization header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := lockPOST(t, b.server.URL, c.authorization, "{ generalStatistics { mailings } }")
			require.Equal(t, http.StatusUnauthorized, got.status, "%s", got)
			require.Equal(t, "UNAUTHENTICATED", got.code)
			status, body := authRequest(t, b.server.URL, http.MethodGet, "/clients/", "", c.authorization)
			require.Equal(t, http.StatusUnauthorized, status)
			var detail map[string]string
			require.NoError(t, json.Unmarshal(body, &detail))
			require.Contains(t, []string{"Invalid token.", "Authentication credentials were not provided."}, detail["detail"], "nothing beyond the refusal")
			if c.authorization != "Bearer" {
				require.Equal(t, auth.CloseCodeForbidden, int(lockWS("graphql-transport-ws")(t, b.server.URL, c.authorization, "{ generalStatistics { mailings } }").closeCode))
			}
			require.Contains(t, b.logs.String(), `"reason":"`+c.reason)
		})
	}

	// Within the leeway: still valid.
	late := p.Sign(t, claims(map[string]any{"exp": now.Add(-10 * time.Second).Unix()}))
	require.True(t, lockPOST(t, b.server.URL, "Bearer "+late, "{ generalStatistics { mailings } }").ok())
	early := p.Sign(t, claims(map[string]any{"nbf": now.Add(10 * time.Second).Unix()}))
	require.True(t, lockPOST(t, b.server.URL, "Bearer "+early, "{ generalStatistics { mailings } }").ok())

	// The refusals are logged at info; no JWT, nor any part of one.
	logs := b.logs.String()
	require.Contains(t, logs, `"level":"INFO","msg":"credentials refused"`)
	for _, c := range cases {
		for part := range strings.SplitSeq(strings.TrimPrefix(strings.TrimPrefix(c.authorization, "Bearer "), "Basic "), ".") {
			if len(part) > 8 && part != "Bearer" {
				require.NotContains(t, logs, part, "%s: a part of the JWT is logged", c.name)
			}
		}
	}
}

// TestOIDCKeyRotation: the provider adds a key and signs with it, then
// retires the first, while the service runs: tokens of both keys are
// accepted while both are published, tokens of the new key at once (the
// JWKS is fetched again for a key id the cache lacks), and tokens of the
// key removed from the JWKS are refused.
func TestOIDCKeyRotation(t *testing.T) {
	t.Parallel()
	b, p := setupOIDC(t)
	query := "{ generalStatistics { mailings } }"
	token := func() string {
		return "Bearer " + p.Sign(t, p.Claims("rita", oidcAudience, map[string]any{"roles": []string{"notify:viewer"}}))
	}
	old := token()
	require.True(t, lockPOST(t, b.server.URL, old, query).ok())
	fetches := p.JWKSFetches()
	require.True(t, lockPOST(t, b.server.URL, old, query).ok())
	require.Equal(t, fetches, p.JWKSFetches(), "the JWKS is cached")

	// Rotation, first step: key-2 published beside key-1, and signing.
	p.AddKey(t, "key-2")
	second := token()
	require.True(t, lockPOST(t, b.server.URL, second, query).ok(), "a new key id is fetched")
	require.Greater(t, p.JWKSFetches(), fetches)
	require.True(t, lockPOST(t, b.server.URL, old, query).ok(), "both keys are valid during the rotation")

	// Second step: key-3 signs, key-1 leaves the JWKS.
	p.AddKey(t, "key-3")
	p.RemoveKey("key-1")
	third := token()
	require.True(t, lockPOST(t, b.server.URL, third, query).ok())
	require.True(t, lockPOST(t, b.server.URL, second, query).ok())
	got := lockPOST(t, b.server.URL, old, query)
	require.Equal(t, http.StatusUnauthorized, got.status, "a removed key: %s", got)
	require.True(t, lockWS("graphql-transport-ws")(t, b.server.URL, third, query).ok())
	require.Equal(t, auth.CloseCodeForbidden, int(lockWS("graphql-transport-ws")(t, b.server.URL, old, query).closeCode))
	require.Contains(t, b.logs.String(), `kid \"key-1\"`)
}

// TestOIDCWebsocket: a subscription over a WebSocket whose connection_init
// carries a JWT (both protocols), and over SSE with the JWT in the
// Authorization header; a JWT without a role opens the socket but each
// operation is refused FORBIDDEN.
func TestOIDCWebsocket(t *testing.T) {
	t.Parallel()
	b, p := setupOIDC(t)
	operator := "Bearer " + p.Sign(t, p.Claims("olga", oidcAudience, map[string]any{"roles": []string{"notify:operator"}, "name": "Olga"}))

	body, _ := json.Marshal(map[string]any{"query": `mutation { createMailing(input: {startAt: "2030-01-01T00:00:00Z", endAt: "2030-01-02T00:00:00Z", text: "hi", filter: {tags: ["oidc"]}}) { id } }`})
	req, err := http.NewRequest(http.MethodPost, b.server.URL+"/query", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", operator)
	_, respBody := opsDo(t, req)
	var r gqlResponse
	require.NoError(t, json.Unmarshal(respBody, &r), "%s", respBody)
	require.Empty(t, r.Errors, "%s", respBody)
	var created struct{ CreateMailing struct{ ID string } }
	require.NoError(t, json.Unmarshal(r.Data, &created))
	sub := fmt.Sprintf(`subscription { mailingProgress(mailingID: "%s") { total } }`, created.CreateMailing.ID)

	for name, tr := range map[string]lockTransport{
		"graphql-transport-ws": lockWS("graphql-transport-ws"),
		"graphql-ws":           lockWS("graphql-ws"),
		"SSE":                  lockSSE(nil),
	} {
		t.Run(name, func(t *testing.T) {
			got := tr(t, b.server.URL, operator, sub)
			require.True(t, got.ok(), "%s", got)
			require.Contains(t, string(got.data), "mailingProgress")
			got = tr(t, b.server.URL, "Bearer "+p.Sign(t, p.Claims("olga", "another-api", map[string]any{"roles": []string{"notify:operator"}})), sub)
			require.True(t, got.refused(), "%s", got)
		})
	}
	noRole := "Bearer " + p.Sign(t, p.Claims("nobody", oidcAudience, nil))
	require.Equal(t, "FORBIDDEN", lockWS("graphql-transport-ws")(t, b.server.URL, noRole, sub).code)
	require.Contains(t, b.logs.String(), `"actor":"olga (Olga)"`)
}
