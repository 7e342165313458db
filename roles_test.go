package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/graph/generated"
	"github.com/notifyhq/notify/internal/auth"
	"github.com/notifyhq/notify/internal/testdb"
)

// The tokens of the role tests, one per role.
var roleTokens = map[auth.Role]string{
	auth.Viewer:   "viewer-token-5b0e17c3",
	auth.Operator: "operator-token-9d4a2f61",
	auth.Admin:    "admin-token-c7e3a0b8",
}

func roleTokensEnv() string {
	return fmt.Sprintf("vera:viewer:%s, otto:operator:%s, ada:admin:%s",
		roleTokens[auth.Viewer], roleTokens[auth.Operator], roleTokens[auth.Admin])
}

// TestEveryMutationDeclaresARole: a mutation added without @hasRole would
// need an admin (closed, not open); the schema declares one on each.
func TestEveryMutationDeclaresARole(t *testing.T) {
	t.Parallel()
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	require.NotEmpty(t, schema.Mutation.Fields)
	for _, f := range schema.Mutation.Fields {
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		require.NotNil(t, f.Directives.ForName(auth.RoleDirective), "Mutation.%s declares no role", f.Name)
	}
}

// TestRoles: every mutation, REST write and admin route against each role:
// a role below the one the schema (or the route) asks for gets FORBIDDEN
// (403 over HTTP), the others get on to the API. The access log names the
// caller, never the token.
func TestRoles(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{env: map[string]string{"API_TOKENS": roleTokensEnv(), "METRICS_AUTH": "true"}})
		var phone atomic.Int64
		phone.Store(79100000000)
		newPhone := func() int64 { return phone.Add(1) }

		// What each mutation needs; ids that do not exist keep the
		// allowed calls from changing anything they should not.
		mutations := []struct {
			query string
			need  auth.Role
		}{
			{fmt.Sprintf(`mutation { createClient(input: {phone: "%d"}) { id } }`, newPhone()), auth.Operator},
			{fmt.Sprintf(`mutation { createClients(input: [{phone: "%d"}]) { id } }`, newPhone()), auth.Operator},
			{`mutation { updateClient(id: 999999, input: {tag: "x"}) { id } }`, auth.Operator},
			{`mutation { deleteClient(id: 999999) }`, auth.Admin},
			{`mutation { createMailing(input: {startAt: "2030-01-01T00:00:00Z", endAt: "2030-01-02T00:00:00Z", text: "hi"}) { id } }`, auth.Operator},
			{`mutation { updateMailing(id: 999999, input: {text: "x"}) { id } }`, auth.Operator},
			{`mutation { deleteMailing(id: 999999) }`, auth.Admin},
			{`mutation { pauseMailing(id: 999999) { id } }`, auth.Operator},
			{`mutation { resumeMailing(id: 999999) { id } }`, auth.Operator},
			{`mutation { cancelMailing(id: 999999) { id } }`, auth.Operator},
			{`mutation { sendDailyReport { date } }`, auth.Admin},
			{`mutation { optOut(phone: "79100009999", reason: "x") { id } }`, auth.Operator},
			{`mutation { optIn(phone: "79100009998") }`, auth.Operator},
			// A literal is no upload: an allowed caller gets an input error.
			{`mutation { importClients(file: "not-a-file") { id } }`, auth.Operator},
		}
		schema := generated.NewExecutableSchema(generated.Config{}).Schema()
		covered := map[string]bool{}
		for _, m := range mutations {
			for _, f := range schema.Mutation.Fields {
				if strings.Contains(m.query, "{ "+f.Name+"(") || strings.Contains(m.query, "{ "+f.Name+" ") {
					covered[f.Name] = true
				}
			}
		}
		for _, f := range schema.Mutation.Fields {
			if !strings.HasPrefix(f.Name, "__") {
				require.True(t, covered[f.Name], "the table covers Mutation.%s", f.Name)
			}
		}

		for role, token := range roleTokens {
			for _, m := range mutations {
				t.Run(fmt.Sprintf("%s/%s", role, strings.Fields(m.query)[2]), func(t *testing.T) {
					got := lockPOST(t, b.server.URL, "Bearer "+token, m.query)
					if role >= m.need {
						require.NotEqual(t, "FORBIDDEN", got.code, "%s", got)
						require.NotEqual(t, "UNAUTHENTICATED", got.code, "%s", got)
					} else {
						require.Equal(t, "FORBIDDEN", got.code, "%s", got)
					}
				})
			}
			// Reads are every role's, over every transport.
			t.Run(fmt.Sprintf("%s/query", role), func(t *testing.T) {
				require.True(t, lockPOST(t, b.server.URL, "Bearer "+token, "{ generalStatistics { mailings } }").ok())
				require.True(t, lockWS("graphql-transport-ws")(t, b.server.URL, "Bearer "+token, "{ generalStatistics { mailings } }").ok())
			})
			// A mutation behind a fragment needs its role all the same.
			t.Run(fmt.Sprintf("%s/mutation in a fragment", role), func(t *testing.T) {
				got := lockPOST(t, b.server.URL, "Bearer "+token, `mutation { ...M } fragment M on Mutation { deleteMailing(id: 999999) }`)
				if role >= auth.Admin {
					require.Equal(t, "NOT_FOUND", got.code, "%s", got)
				} else {
					require.Equal(t, "FORBIDDEN", got.code, "%s", got)
				}
			})
			// A WebSocket checks each operation's role too.
			t.Run(fmt.Sprintf("%s/websocket mutation", role), func(t *testing.T) {
				got := lockWS("graphql-transport-ws")(t, b.server.URL, "Bearer "+token, `mutation { deleteMailing(id: 999999) }`)
				if role >= auth.Admin {
					require.Equal(t, "NOT_FOUND", got.code, "%s", got)
				} else {
					require.Equal(t, "FORBIDDEN", got.code, "%s", got)
				}
			})
		}

		// REST: reads for viewers, writes for operators, deletes and River's
		// UI and /metrics (METRICS_AUTH) for admins.
		routes := []struct {
			method, path, body string
			need               auth.Role
		}{
			{http.MethodGet, "/clients/", "", auth.Viewer},
			{http.MethodGet, "/reports/daily/", "", auth.Viewer},
			{http.MethodPost, "/clients/", `{"phone": "79200000001"}`, auth.Operator},
			{http.MethodPatch, "/clients/999999/", `{"tag": "x"}`, auth.Operator},
			{http.MethodPut, "/mailings/999999/", `{"text": "x"}`, auth.Operator},
			{http.MethodPost, "/mailings/999999/pause/", "", auth.Operator},
			{http.MethodDelete, "/clients/999999/", "", auth.Admin},
			{http.MethodDelete, "/mailings/999999/", "", auth.Admin},
			{http.MethodGet, "/riverui/api/jobs?state=available", "", auth.Admin},
			{http.MethodGet, "/metrics", "", auth.Admin},
		}
		for role, token := range roleTokens {
			for _, r := range routes {
				t.Run(fmt.Sprintf("%s/%s %s", role, r.method, r.path), func(t *testing.T) {
					code, respBody := authRequest(t, b.server.URL, r.method, r.path, r.body, "Bearer "+token)
					if role >= r.need {
						require.NotEqual(t, http.StatusForbidden, code, "%s", respBody)
						require.NotEqual(t, http.StatusUnauthorized, code, "%s", respBody)
					} else {
						require.Equal(t, http.StatusForbidden, code, "%s", respBody)
						var out map[string]string
						require.NoError(t, json.Unmarshal(respBody, &out), "%s", respBody)
						require.Equal(t, "You do not have permission to perform this action.", out["detail"])
					}
				})
			}
		}

		// The access log names who called, never the token.
		logs := b.logs.String()
		for _, name := range []string{"vera", "otto", "ada"} {
			require.Contains(t, logs, `"actor":"`+name+`"`)
		}
		for _, token := range roleTokens {
			require.NotContains(t, logs, token)
		}
	})
}

// TestRolesSignInToRiverUI: River's UI signs in admins only.
func TestRolesSignInToRiverUI(t *testing.T) {
	t.Parallel()
	b := setup(t, testdb.SQLite(t), setupOpts{env: map[string]string{"API_TOKENS": roleTokensEnv()}})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signIn := func(token string) *http.Response {
		req, err := http.NewRequest(http.MethodPost, b.server.URL+"/riverui/sign-in", bytes.NewReader([]byte("token="+token)))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	require.Equal(t, http.StatusForbidden, signIn(roleTokens[auth.Operator]).StatusCode)
	resp := signIn(roleTokens[auth.Admin])
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Len(t, resp.Cookies(), 1)
}
