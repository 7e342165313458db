package webui_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
// String }", as much as graphql-js's buildClientSchema needs.
const stubIntrospection = `{"data": {"__schema": {
  "queryType": {"name": "Query"},
  "mutationType": null,
  "subscriptionType": null,
  "types": [
    {"kind": "OBJECT", "name": "Query", "description": null,
     "fields": [{"name": "hello", "description": null, "args": [],
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
// of /query and of the REST package's routes.
func newBrowserTestServer(t *testing.T) *httptest.Server {
	t.Helper()

	mux := http.NewServeMux()
	mux.Handle("GET /{$}", webui.GraphiQL("Notify", "/query"))
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
// and that the page reported no errors (a Subresource Integrity mismatch is one).
func requireOffline(t *testing.T, b *browsertest.Browser, srv *httptest.Server) {
	t.Helper()

	for _, u := range b.Requests() {
		if strings.HasPrefix(u, "data:") || strings.HasPrefix(u, "blob:") {
			continue
		}
		require.True(t, strings.HasPrefix(u, srv.URL+"/"), "request outside the test server: %s", u)
	}
	require.Empty(t, b.Problems())
}

func TestBrowserDocs(t *testing.T) {
	t.Parallel()

	srv := newBrowserTestServer(t)

	t.Run("TryGet", func(t *testing.T) {
		t.Parallel()

		b := browsertest.New(t)
		res, err := browsertest.SwaggerTryGet(t.Context(), b, srv.URL, "/mailings/general_statistics/")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.Status)
		require.JSONEq(t, `{"mailings":1,"messages":2}`, res.Body)
		require.Equal(t, srv.URL+"/mailings/general_statistics/", res.RequestURL)
		b.Screenshot("general_statistics")
		requireOffline(t, b, srv)
	})

	t.Run("TryWithInputs", func(t *testing.T) {
		t.Parallel()

		b := browsertest.New(t)
		res, err := browsertest.SwaggerTry(t.Context(), b, srv.URL, browsertest.SwaggerOperation{
			Method: "POST",
			Path:   "/echo/{id}/",
			Params: map[string]string{"id": "42", "tag": "vip"},
			Body:   `{"text": "hi"}`,
		})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, res.Status)
		require.JSONEq(t, `{"id":"42","tag":"vip","body":{"text":"hi"}}`, res.Body)
		require.Equal(t, srv.URL+"/echo/42/?tag=vip", res.RequestURL)
		b.Screenshot("echo")
		requireOffline(t, b, srv)
	})

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
