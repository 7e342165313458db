package webui_test

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/webui"
)

// newMux mounts the handlers the way the service does, with a stand-in for the REST
// package's OpenAPI document.
func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", webui.GraphiQL("Notify", "/query"))
	mux.Handle("GET /assets/", webui.Assets())
	mux.Handle("GET /docs/", webui.Docs())
	mux.HandleFunc("GET /docs/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"openapi":"3.0.3"}`)
	})
	return mux
}

// get serves one request through h and returns the response and its body.
func get(t *testing.T, h http.Handler, target string, header ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(body)
}

// externalURL matches any absolute http(s) URL, which an offline page must not load.
var externalURL = regexp.MustCompile(`https?://`)

func TestGraphiQL(t *testing.T) {
	t.Parallel()

	mux := newMux()

	t.Run("Page", func(t *testing.T) {
		t.Parallel()

		res, body := get(t, mux, "/")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, "text/html; charset=UTF-8", res.Header.Get("Content-Type"))
		require.Equal(t, "no-cache", res.Header.Get("Cache-Control"))
		require.Contains(t, body, "<title>Notify</title>")
		require.Empty(t, externalURL.FindAllString(body, -1), "the page must load nothing from the internet")

		for _, src := range []string{
			`src="/assets/graphiql/react.production.min.js?v=18.2.0"`,
			`src="/assets/graphiql/react-dom.production.min.js?v=18.2.0"`,
			`src="/assets/graphiql/graphiql.min.js?v=4.1.2"`,
			`href="/assets/graphiql/graphiql.min.css?v=4.1.2"`,
		} {
			require.Contains(t, body, src)
		}

		// Queries go to /query on the page's host, subscriptions to ws(s):// on the same
		// path.
		require.Contains(t, body, `const url = location.protocol + '//' + location.host + "/query";`)
		require.Contains(t, body, `const wsProto = location.protocol == 'https:' ? 'wss:' : 'ws:';`)
		require.Contains(t, body, `const subscriptionUrl = wsProto + '//' + location.host + "/query";`)
		require.Contains(t, body, `GraphiQL.createFetcher({ url, subscriptionUrl, headers: fetcherHeaders })`)
		// State in the URL, so /?query=… links work.
		require.Contains(t, body, `query: parameters.query,`)
	})

	t.Run("OnlyRoot", func(t *testing.T) {
		t.Parallel()

		res, _ := get(t, webui.GraphiQL("Notify", "/query"), "/other")
		require.Equal(t, http.StatusNotFound, res.StatusCode)
	})

	t.Run("OnlyGet", func(t *testing.T) {
		t.Parallel()

		rec := httptest.NewRecorder()
		webui.GraphiQL("Notify", "/query").ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
		require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
		require.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
	})
}

func TestAssets(t *testing.T) {
	t.Parallel()

	mux := newMux()
	_, page := get(t, mux, "/")

	// gqlgen v0.17.98's own SRI strings for the CDN copies of the same files: the
	// vendored files must hash to exactly these.
	wantSRI := map[string]string{
		"/assets/graphiql/graphiql.min.js":             "sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs=",
		"/assets/graphiql/graphiql.min.css":            "sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU=",
		"/assets/graphiql/react.production.min.js":     "sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY=",
		"/assets/graphiql/react-dom.production.min.js": "sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc=",
	}

	// Every asset tag on the page, with its integrity attribute.
	tags := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"\s+integrity="([^"]+)"`).FindAllStringSubmatch(page, -1)
	require.Len(t, tags, len(wantSRI))

	for _, tag := range tags {
		// html/template writes "+" as "&#43;" in attributes; browsers decode it.
		url, integrity := tag[1], html.UnescapeString(tag[2])
		path, _, _ := strings.Cut(url, "?")
		t.Run(path, func(t *testing.T) {
			t.Parallel()

			require.Equal(t, wantSRI[path], integrity, "integrity attribute on the page")

			res, body := get(t, mux, url)
			require.Equal(t, http.StatusOK, res.StatusCode)
			sum := sha256.Sum256([]byte(body))
			require.Equal(t, wantSRI[path], "sha256-"+base64.StdEncoding.EncodeToString(sum[:]), "sha256 of the served file")

			wantType := "text/javascript; charset=utf-8"
			if strings.HasSuffix(path, ".css") {
				wantType = "text/css; charset=utf-8"
			}
			require.Equal(t, wantType, res.Header.Get("Content-Type"))
			require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
			require.Equal(t, "public, max-age=31536000, immutable", res.Header.Get("Cache-Control"))

			etag := res.Header.Get("ETag")
			require.NotEmpty(t, etag)
			res, body = get(t, mux, url, "If-None-Match", etag)
			require.Equal(t, http.StatusNotModified, res.StatusCode)
			require.Empty(t, body)
		})
	}

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()

		for _, path := range []string{
			"/assets/",
			"/assets/graphiql/",
			"/assets/graphiql",
			"/assets/graphiql/README.md",
			"/assets/graphiql/nope.js",
			"/assets/../webui.go",
		} {
			res, _ := get(t, mux, path)
			if loc := res.Header.Get("Location"); loc != "" {
				// ServeMux cleans ".." and redirects; the cleaned path must be unknown.
				res, _ = get(t, mux, loc)
			}
			require.Equal(t, http.StatusNotFound, res.StatusCode, path)
		}
	})
}

func TestDocs(t *testing.T) {
	t.Parallel()

	mux := newMux()

	t.Run("Index", func(t *testing.T) {
		t.Parallel()

		res, body := get(t, mux, "/docs/")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
		require.Contains(t, body, `<div id="swagger-ui"></div>`)
		require.Contains(t, body, `src="./swagger-initializer.js"`)
		require.Empty(t, externalURL.FindAllString(body, -1))
	})

	t.Run("Initializer", func(t *testing.T) {
		t.Parallel()

		res, body := get(t, mux, "/docs/swagger-initializer.js")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, "text/javascript; charset=utf-8", res.Header.Get("Content-Type"))
		require.Equal(t, "no-cache", res.Header.Get("Cache-Control"))
		require.Contains(t, body, `url: "/docs/openapi.json",`)
		require.Contains(t, body, `validatorUrl: null,`)
		require.Contains(t, body, `persistAuthorization: true,`)
		require.Contains(t, body, `tryItOutEnabled: false,`)
		require.NotContains(t, body, "petstore")
		require.Empty(t, externalURL.FindAllString(body, -1))
	})

	t.Run("Bundle", func(t *testing.T) {
		t.Parallel()

		for path, wantType := range map[string]string{
			"/docs/swagger-ui-bundle.js":            "text/javascript; charset=utf-8",
			"/docs/swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
			"/docs/swagger-ui.css":                  "text/css; charset=utf-8",
			"/docs/index.css":                       "text/css; charset=utf-8",
			"/docs/favicon-32x32.png":               "image/png",
		} {
			res, body := get(t, mux, path)
			require.Equal(t, http.StatusOK, res.StatusCode, path)
			require.Equal(t, wantType, res.Header.Get("Content-Type"), path)
			require.Equal(t, "public, max-age=86400", res.Header.Get("Cache-Control"), path)
			require.NotEmpty(t, body, path)
		}
	})

	t.Run("OpenAPINotShadowed", func(t *testing.T) {
		t.Parallel()

		res, body := get(t, mux, "/docs/openapi.json")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.JSONEq(t, `{"openapi":"3.0.3"}`, body)

		// Without the REST handler, Docs itself has no such file.
		res, _ = get(t, webui.Docs(), "/docs/openapi.json")
		require.Equal(t, http.StatusNotFound, res.StatusCode)
	})

	t.Run("Redirect", func(t *testing.T) {
		t.Parallel()

		for name, h := range map[string]http.Handler{"Mux": mux, "Handler": webui.Docs()} {
			res, _ := get(t, h, "/docs")
			require.Contains(t, []int{http.StatusMovedPermanently, http.StatusTemporaryRedirect}, res.StatusCode, name)
			require.Equal(t, "/docs/", res.Header.Get("Location"), name)
		}

		// index.html has one canonical URL.
		res, _ := get(t, mux, "/docs/index.html")
		require.Equal(t, http.StatusMovedPermanently, res.StatusCode)
		require.Equal(t, "./", res.Header.Get("Location"))
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()

		res, _ := get(t, mux, "/docs/nope.js")
		require.Equal(t, http.StatusNotFound, res.StatusCode)
		require.Equal(t, "text/plain; charset=utf-8", res.Header.Get("Content-Type"))
	})
}
