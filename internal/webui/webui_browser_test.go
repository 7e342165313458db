package webui_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/browsertest"
	"github.com/notifyhq/notify/internal/webui"
)

// stubOpenAPI is a minimal document for the pages to render: the statistics endpoint the
// real REST layer has, and an operation with a path parameter, a query parameter and a
// body to exercise browsertest.SwaggerTry's inputs.
const stubOpenAPI = `{
  "openapi": "3.0.3",
  "info": {"title": "Notify (test stub)", "version": "0.0.0"},
  "paths": {
    "/mailings/general_statistics/": {
      "get": {
        "summary": "General statistics",
        "responses": {
          "200": {
            "description": "Counts",
            "content": {"application/json": {"schema": {"type": "object"}}}
          }
        }
      }
    },
    "/echo/{id}/": {
      "post": {
        "summary": "Echo",
        "parameters": [
          {"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}},
          {"name": "tag", "in": "query", "schema": {"type": "string"}}
        ],
        "requestBody": {
          "required": true,
          "content": {"application/json": {"schema": {"type": "object"}, "example": {"text": "example"}}}
        },
        "responses": {
          "201": {
            "description": "What was sent",
            "content": {"application/json": {"schema": {"type": "object"}}}
          }
        }
      }
    }
  }
}`

// stubIntrospection is the introspection result of the schema "type Query { hello:
// String, authorization: String }", as much as graphql-js's buildClientSchema needs.
const stubIntrospection = `{"data": {"__schema": {
  "queryType": {"name": "Query"},
  "mutationType": null,
  "subscriptionType": null,
  "types": [
    {"kind": "OBJECT", "name": "Query", "description": null,
     "fields": [{"name": "hello", "description": null, "args": [],
                 "type": {"kind": "SCALAR", "name": "String", "ofType": null},
                 "isDeprecated": false, "deprecationReason": null},
                {"name": "authorization", "description": "The request's Authorization header.", "args": [],
                 "type": {"kind": "SCALAR", "name": "String", "ofType": null},
                 "isDeprecated": false, "deprecationReason": null}],
     "inputFields": null, "interfaces": [], "enumValues": null, "possibleTypes": null},
    {"kind": "SCALAR", "name": "String", "description": null, "fields": null,
     "inputFields": null, "interfaces": null, "enumValues": null, "possibleTypes": null},
    {"kind": "SCALAR", "name": "Boolean", "description": null, "fields": null,
     "inputFields": null, "interfaces": null, "enumValues": null, "possibleTypes": null}
  ],
  "directives": []
}}}`

// newBrowserTestServer serves the pages as the service mounts them, plus test-only stubs
// of /query (the query "{ authorization }" answers the request's Authorization header)
// and of the REST package's routes.
func newBrowserTestServer(t *testing.T) *httptest.Server {
	t.Helper()

	mux := http.NewServeMux()
	mux.Handle("GET /graphiql/{$}", http.StripPrefix("/graphiql", webui.GraphiQL("Notify", "/query"))) // as the service mounts it
	mux.Handle("GET /assets/", webui.Assets())
	mux.Handle("GET /docs/", webui.Docs())
	mux.HandleFunc("GET /docs/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, stubOpenAPI)
	})
	mux.HandleFunc("POST /query", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Query string `json:"query"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(req.Query, "__schema") {
			// GraphiQL's schema fetch on load. An invalid answer would put an error in the
			// result pane, so the test could not tell the query's result from it.
			_, _ = io.WriteString(w, stubIntrospection)
			return
		}
		if strings.Contains(req.Query, "authorization") {
			_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"authorization": r.Header.Get("Authorization")}})
			return
		}
		_, _ = io.WriteString(w, `{"data":{"hello":"world"}}`)
	})
	mux.HandleFunc("GET /mailings/general_statistics/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"mailings":1,"messages":2}`)
	})
	mux.HandleFunc("POST /echo/{id}/", func(w http.ResponseWriter, r *http.Request) {
		var body any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": r.PathValue("id"), "tag": r.URL.Query().Get("tag"), "body": body,
		})
	})

	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// requireOffline checks that the tab loaded nothing but srv's own URLs and inline data,
// that every page it opened came with the security headers, and that the pages reported
// no errors (a Subresource Integrity mismatch is one) and no Content-Security-Policy
// violation.
func requireOffline(t *testing.T, b *browsertest.Browser, srv *httptest.Server) {
	t.Helper()

	for _, u := range b.Requests() {
		if strings.HasPrefix(u, "data:") || strings.HasPrefix(u, "blob:") {
			continue
		}
		require.True(t, strings.HasPrefix(u, srv.URL+"/"), "request outside the test server: %s", u)
	}
	docs := b.Documents()
	require.NotEmpty(t, docs)
	for _, doc := range docs {
		requireSecurityHeaders(t, doc.Header, doc.URL)
	}
	require.Empty(t, b.CSPViolations())
	require.Empty(t, b.Problems())
}

func TestBrowserDocs(t *testing.T) {
	t.Parallel()

	srv := newBrowserTestServer(t)

	for _, tc := range []struct {
		name, screenshot string
		op               browsertest.SwaggerOperation
		status           int
		body, url        string
	}{
		{
			name: "TryGet", screenshot: "general_statistics",
			op:     browsertest.SwaggerOperation{Method: "GET", Path: "/mailings/general_statistics/"},
			status: http.StatusOK, body: `{"mailings":1,"messages":2}`, url: "/mailings/general_statistics/",
		},
		{
			name: "TryWithInputs", screenshot: "echo",
			op: browsertest.SwaggerOperation{
				Method: "POST",
				Path:   "/echo/{id}/",
				Params: map[string]string{"id": "42", "tag": "vip"},
				Body:   `{"text": "hi"}`,
			},
			status: http.StatusCreated, body: `{"id":"42","tag":"vip","body":{"text":"hi"}}`, url: "/echo/42/?tag=vip",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()

			b := browsertest.New(t)
			res, err := browsertest.SwaggerTry(t.Context(), b, srv.URL, tc.op)
			require.NoError(t, err)
			require.Equal(t, tc.status, res.Status)
			require.JSONEq(t, tc.body, res.Body)
			require.Equal(t, srv.URL+tc.url, res.RequestURL)
			b.Screenshot(tc.screenshot)
			requireOffline(t, b, srv)
		})
	}

	t.Run("UnknownOperation", func(t *testing.T) {
		t.Parallel()

		b := browsertest.New(t)
		_, err := browsertest.SwaggerTryGet(t.Context(), b, srv.URL, "/nope/")
		require.ErrorContains(t, err, "GET /mailings/general_statistics/")
	})
}

func TestBrowserGraphiQL(t *testing.T) {
	t.Parallel()

	srv := newBrowserTestServer(t)
	b := browsertest.New(t)

	result, err := browsertest.RunGraphiQLQuery(t.Context(), b, srv.URL, "{ hello }")
	require.NoError(t, err)
	require.JSONEq(t, `{"data":{"hello":"world"}}`, result)
	b.Screenshot("hello")
	requireOffline(t, b, srv)
}

// TestBrowserGraphiQLHeaders types a token into GraphiQL's headers editor and runs a
// query: the request carries it, and neither the page's URL nor its storage holds it.
func TestBrowserGraphiQLHeaders(t *testing.T) {
	t.Parallel()

	const token = "Bearer s3cret-t0ken"
	srv := newBrowserTestServer(t)
	b := browsertest.New(t)
	ctx := t.Context()

	require.NoError(t, browsertest.OpenGraphiQL(ctx, b, srv.URL, "{ authorization }"))
	require.NoError(t, browsertest.SetGraphiQLHeaders(ctx, b, `{"Authorization": "`+token+`"}`))
	// GraphiQL copies the editors into its tab state (which its history entries are
	// made from) 500 ms after the last change; a run sooner sends the headers but makes
	// a history entry without them. Wait, so that the entry is made with them.
	_, err := browsertest.Evaluate[chromedp.Void](ctx, b, `new Promise(resolve => setTimeout(resolve, 1000))`)
	require.NoError(t, err)
	result, err := browsertest.RunGraphiQL(ctx, b)
	require.NoError(t, err)
	require.JSONEq(t, `{"data":{"authorization":"`+token+`"}}`, result)
	_, err = browsertest.Poll[bool](ctx, b, `(localStorage.getItem('graphiql:queries') || '').includes('authorization')`)
	require.NoError(t, err, "GraphiQL wrote no history entry")
	requireHeadersNotKept(t, b, "s3cret")
	b.Screenshot("authorization")

	// A reload starts with an empty headers editor: nothing was kept.
	result, err = browsertest.RunGraphiQLQuery(ctx, b, srv.URL, "{ authorization }")
	require.NoError(t, err)
	require.JSONEq(t, `{"data":{"authorization":""}}`, result)

	// A link that carries headers (the page used to put them there) loses them at once,
	// and they are not sent.
	link := srv.URL + "/graphiql/?query=" + url.QueryEscape("{ authorization }") +
		"&headers=" + url.QueryEscape(`{"Authorization": "Bearer from-a-l1nk"}`)
	require.NoError(t, b.Navigate(ctx, link))
	require.NoError(t, b.WaitVisible(ctx, ".graphiql-execute-button"))
	result, err = browsertest.RunGraphiQL(ctx, b)
	require.NoError(t, err)
	require.JSONEq(t, `{"data":{"authorization":""}}`, result)
	requireHeadersNotKept(t, b, "from-a-l1nk")
	href, err := browsertest.Evaluate[string](ctx, b, `location.href`)
	require.NoError(t, err)
	require.Equal(t, srv.URL+"/graphiql/?query="+url.QueryEscape("{ authorization }"), strings.ReplaceAll(href, "%20", "+"))

	// What an older version of the page stored with headers (it persisted them) is
	// dropped on load, before GraphiQL reads it.
	_, err = browsertest.Evaluate[chromedp.Void](ctx, b, `(() => {
		const h = JSON.stringify({Authorization: 'Bearer 0ld-s3cret'});
		localStorage.setItem('graphiql:headers', h);
		localStorage.setItem('graphiql:shouldPersistHeaders', 'true');
		localStorage.setItem('graphiql:queries', JSON.stringify({queries: [{query: '{ hello }', headers: h}]}));
		localStorage.setItem('graphiql:favorites', JSON.stringify({favorites: [{query: '{ hello }', headers: h, favorite: true}]}));
		localStorage.setItem('graphiql:tabState', JSON.stringify({activeTabIndex: 0, tabs: [{id: 'x', hash: null,
			title: 'old', query: '{ authorization }', variables: null, headers: h, operationName: null, response: null}]}));
	})()`)
	require.NoError(t, err)
	result, err = browsertest.RunGraphiQLQuery(ctx, b, srv.URL, "{ authorization }")
	require.NoError(t, err)
	require.JSONEq(t, `{"data":{"authorization":""}}`, result)
	requireHeadersNotKept(t, b, "0ld-s3cret")
	history, err := browsertest.Evaluate[string](ctx, b, `localStorage.getItem('graphiql:favorites')`)
	require.NoError(t, err)
	require.JSONEq(t, `{"favorites": [{"query": "{ hello }", "favorite": true}]}`, history)

	requireOffline(t, b, srv)
}

// requireHeadersNotKept checks that secret is in neither the open page's URL (nor its
// history entry) nor its localStorage or sessionStorage.
func requireHeadersNotKept(t *testing.T, b *browsertest.Browser, secret string) {
	t.Helper()
	kept, err := browsertest.Evaluate[map[string]string](t.Context(), b, `(() => {
		const out = {href: location.href};
		for (const [name, s] of [['local', localStorage], ['session', sessionStorage]]) {
			for (let i = 0; i < s.length; i++) out[name + ':' + s.key(i)] = s.getItem(s.key(i));
		}
		return out;
	})()`)
	require.NoError(t, err)
	require.NotContains(t, kept["href"], "headers=")
	for where, v := range kept {
		require.NotContains(t, v, secret, where)
	}
}

// TestBrowserGraphiQLDocsExplorer opens the documentation explorer, which shows the
// schema GraphiQL fetched on load, and the settings dialog, which adds a <style> element
// at run time (with the policy's nonce): neither trips the page's policy.
func TestBrowserGraphiQLDocsExplorer(t *testing.T) {
	t.Parallel()

	srv := newBrowserTestServer(t)
	b := browsertest.New(t)
	ctx := t.Context()

	require.NoError(t, browsertest.OpenGraphiQL(ctx, b, srv.URL, ""))
	fields, err := browsertest.GraphiQLDocsFields(ctx, b, "Query")
	require.NoError(t, err)
	require.Equal(t, []string{"hello", "authorization"}, fields)
	b.Screenshot("docs")

	// The stub schema has no mutations.
	_, err = browsertest.GraphiQLDocsFields(ctx, b, "Mutation")
	require.ErrorContains(t, err, "error finding root type Mutation in the documentation explorer: it lists Query")
	fields, err = browsertest.GraphiQLDocsFields(ctx, b, "Query")
	require.NoError(t, err)
	require.Equal(t, []string{"hello", "authorization"}, fields)

	require.NoError(t, b.Click(ctx, `button[aria-label="Open settings dialog"]`))
	require.NoError(t, b.WaitVisible(ctx, `[role="dialog"]`))
	styles, err := browsertest.Evaluate[int](ctx, b, `document.querySelectorAll('style[nonce]').length`)
	require.NoError(t, err)
	require.Positive(t, styles, "the dialog's run-time styles")
	b.Screenshot("settings")
	requireOffline(t, b, srv)
}

// TestBrowserPagesEnforceCSP checks that the browser applies each page's policy, and
// that the violations it reports reach the test: an inline script added to the page does
// not run.
func TestBrowserPagesEnforceCSP(t *testing.T) {
	t.Parallel()

	srv := newBrowserTestServer(t)
	for path, ready := range map[string]string{"/graphiql/": ".graphiql-execute-button", "/docs/": ".opblock"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()

			b := browsertest.New(t)
			ctx := t.Context()
			require.NoError(t, b.Navigate(ctx, srv.URL+path))
			require.NoError(t, b.WaitVisible(ctx, ready))
			require.Empty(t, b.CSPViolations())

			ran, err := browsertest.Evaluate[bool](ctx, b, `(() => {
				const s = document.createElement('script');
				s.textContent = 'window.__inlineRan = true;';
				document.body.appendChild(s);
				return window.__inlineRan === true;
			})()`)
			require.NoError(t, err)
			require.False(t, ran, "an inline script ran")
			require.Eventually(t, func() bool { return len(b.CSPViolations()) > 0 }, browsertest.Timeout, 10*time.Millisecond)
			require.Contains(t, b.CSPViolations()[0], "script-src-elem blocked inline")
		})
	}
}

// TestBrowserGraphiQLDocsExplorerError serves an endpoint that refuses the introspection
// query (as a depth limit would): the helper's error says what the server answered.
func TestBrowserGraphiQLDocsExplorerError(t *testing.T) {
	t.Parallel()

	mux := http.NewServeMux()
	mux.Handle("GET /graphiql/{$}", http.StripPrefix("/graphiql", webui.GraphiQL("Notify", "/query"))) // as the service mounts it
	mux.Handle("GET /assets/", webui.Assets())
	mux.HandleFunc("POST /query", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"errors":[{"message":"operation is 13 levels deep, more than the limit of 10"}]}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	b := browsertest.New(t)

	require.NoError(t, browsertest.OpenGraphiQL(t.Context(), b, srv.URL, ""))
	_, err := browsertest.GraphiQLDocsFields(t.Context(), b, "Mutation")
	require.ErrorContains(t, err, "error in GraphiQL's documentation explorer")
	require.ErrorContains(t, err, "operation is 13 levels deep, more than the limit of 10")
}
