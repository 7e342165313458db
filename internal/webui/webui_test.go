package webui_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
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

// getOK serves a GET of target through h and asserts it answers 200 with
// the Content-Type wantType; it returns the response and its body.
func getOK(t *testing.T, h http.Handler, target, wantType string) (*http.Response, string) {
	t.Helper()
	res, body := get(t, h, target)
	require.Equal(t, http.StatusOK, res.StatusCode, target)
	require.Equal(t, wantType, res.Header.Get("Content-Type"), target)
	return res, body
}

// externalURL matches any absolute http(s) URL, which an offline page must not load.
var externalURL = regexp.MustCompile(`https?://`)

func TestGraphiQL(t *testing.T) {
	t.Parallel()

	mux := newMux()

	t.Run("Page", func(t *testing.T) {
		t.Parallel()

		res, body := getOK(t, mux, "/", "text/html; charset=utf-8")
		require.Equal(t, "no-cache", res.Header.Get("Cache-Control"))
		require.Contains(t, body, "<title>Notify</title>")
		require.Empty(t, externalURL.FindAllString(body, -1), "the page must load nothing from the internet")

		for _, src := range []string{
			`src="/assets/graphiql/react.production.min.js?v=18.2.0"`,
			`src="/assets/graphiql/react-dom.production.min.js?v=18.2.0"`,
			`src="/assets/graphiql/graphiql.min.js?v=4.1.2"`,
			`href="/assets/graphiql/graphiql.min.css?v=4.1.2"`,
			`src="/assets/page/graphiql.js?v=`,
			`href="/assets/page/graphiql.css?v=`,
		} {
			require.Contains(t, body, src)
		}

		// No inline script or style: the only <script> without src is the JSON block of
		// settings, which the browser never runs.
		require.NotContains(t, body, "<style")
		require.NotContains(t, body, " style=")
		scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1)
		require.Len(t, scripts, 5)
		for _, tag := range scripts {
			if !strings.Contains(tag, " src=") {
				require.Equal(t, `<script id="graphiql-config" type="application/json">`, tag)
			}
		}
		// Queries go to /query on the page's host, subscriptions to ws(s):// on the same
		// path (assets/page/graphiql.js); the nonce is the policy's.
		config := graphiqlConfig(t, body)
		require.Equal(t, "/query", config["endpoint"])
		require.NotContains(t, config, "subscriptionEndpoint")
		require.Contains(t, res.Header.Get("Content-Security-Policy"), "'nonce-"+config["styleNonce"]+"'")
	})

	t.Run("Script", func(t *testing.T) {
		t.Parallel()

		_, page := get(t, mux, "/")
		src := regexp.MustCompile(`src="(/assets/page/graphiql\.js\?v=[0-9a-f]+)"`).FindStringSubmatch(page)
		require.NotNil(t, src)
		res, body := get(t, mux, src[1])
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, `const wsProto = location.protocol === 'https:' ? 'wss:' : 'ws:';`)
		require.Contains(t, body, `GraphiQL.createFetcher({ url, subscriptionUrl })`)
		// State in the URL, so /?query=… links work; never the headers, in the URL or in
		// localStorage.
		require.Contains(t, body, `query: parameters.query,`)
		require.Contains(t, body, `delete parameters.headers;`)
		require.NotContains(t, body, `onEditHeaders`)
		require.Contains(t, body, `shouldPersistHeaders: false,`)
		require.Contains(t, body, `storage: storage,`)
		require.Empty(t, externalURL.FindAllString(body, -1))
	})

	t.Run("NonceChanges", func(t *testing.T) {
		t.Parallel()

		a, _ := get(t, mux, "/")
		b, _ := get(t, mux, "/")
		require.NotEqual(t, a.Header.Get("Content-Security-Policy"), b.Header.Get("Content-Security-Policy"))
	})

	t.Run("AbsoluteEndpoint", func(t *testing.T) {
		t.Parallel()

		res, body := get(t, webui.GraphiQL("Notify", "https://api.example.com/query"), "/")
		require.Equal(t, http.StatusOK, res.StatusCode)
		config := graphiqlConfig(t, body)
		require.Equal(t, "https://api.example.com/query", config["endpoint"])
		require.Equal(t, "wss://api.example.com/query", config["subscriptionEndpoint"])
		require.Contains(t, res.Header.Get("Content-Security-Policy"),
			"; connect-src 'self' https://api.example.com wss://api.example.com;")
	})

	t.Run("EscapesTitle", func(t *testing.T) {
		t.Parallel()

		_, body := get(t, webui.GraphiQL(`</title><script>alert(1)</script>`, "/query"), "/")
		require.Contains(t, body, "<title>&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>")
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

// graphiqlConfig decodes the page's JSON block of settings.
func graphiqlConfig(t *testing.T, page string) map[string]string {
	t.Helper()
	m := regexp.MustCompile(`<script id="graphiql-config" type="application/json">([^<]*)</script>`).FindStringSubmatch(page)
	require.NotNil(t, m, "no settings block in the page")
	var config map[string]string
	require.NoError(t, json.Unmarshal([]byte(m[1]), &config))
	return config
}

// requireSecurityHeaders checks the headers SecureHeaders documents, and that the policy
// allows nothing from another origin, no inline or eval'd script, and no framing.
func requireSecurityHeaders(t *testing.T, h http.Header, what string) {
	t.Helper()
	require.Equal(t, "DENY", h.Get("X-Frame-Options"), what)
	require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), what)
	require.Equal(t, "no-referrer", h.Get("Referrer-Policy"), what)
	csp := h.Get("Content-Security-Policy")
	require.NotEmpty(t, csp, what)
	directives := map[string]string{}
	for _, d := range strings.Split(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		require.NotContains(t, directives, name, "%s: %s twice", what, name)
		directives[name] = value
	}
	require.Equal(t, "'self'", directives["default-src"], what)
	require.Equal(t, "'self'", directives["script-src"], what)
	require.Equal(t, "'none'", directives["frame-ancestors"], what)
	require.Equal(t, "'none'", directives["object-src"], what)
	require.Equal(t, "'none'", directives["base-uri"], what)
	require.NotContains(t, csp, "unsafe-eval", what)
	require.NotContains(t, csp, "*", what)
}

func TestPagesSendSecurityHeaders(t *testing.T) {
	t.Parallel()

	mux := newMux()
	for _, path := range []string{
		"/",
		"/docs/",
		"/docs/swagger-initializer.js",
		"/docs/swagger-ui-bundle.js",
		"/docs/nope.js",
	} {
		res, _ := get(t, mux, path)
		require.Less(t, res.StatusCode, 500, path)
		requireSecurityHeaders(t, res.Header, path)
	}
	// Docs's own redirect (ServeMux answers /docs itself above).
	res, _ := get(t, webui.Docs(), "/docs")
	require.Equal(t, http.StatusMovedPermanently, res.StatusCode)
	requireSecurityHeaders(t, res.Header, "/docs")

	res, body := get(t, mux, "/")
	csp := res.Header.Get("Content-Security-Policy")
	require.Regexp(t, `^default-src 'self'; script-src 'self'; style-src 'self' 'nonce-[A-Z2-7]{26}'; `+
		`img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; `+
		`base-uri 'none'; form-action 'none'; frame-ancestors 'none'$`, csp)
	require.NotContains(t, csp, "'unsafe-inline'")
	require.NotEmpty(t, body)

	res, _ = get(t, mux, "/docs/")
	require.Equal(t, webui.DocsCSP, res.Header.Get("Content-Security-Policy"))
	require.NotContains(t, webui.DocsCSP, "'unsafe-inline'")

	// River's UI, through SecureHeaders.
	river := webui.SecureHeaders(webui.RiverUICSP, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<!doctype html>")
	}))
	res, _ = getOK(t, river, "/riverui/", "text/html; charset=utf-8")
	requireSecurityHeaders(t, res.Header, "River's UI")
	require.Equal(t, webui.RiverUICSP, res.Header.Get("Content-Security-Policy"))
}

func TestSecureHeadersBeforeTheHandler(t *testing.T) {
	t.Parallel()

	// The headers are there when the handler writes, so its own setting wins.
	h := webui.SecureHeaders("default-src 'none'", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "DENY", w.Header().Get("X-Frame-Options"))
		w.Header().Set("Referrer-Policy", "same-origin")
		w.WriteHeader(http.StatusNoContent)
	}))
	res, _ := get(t, h, "/")
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	require.Equal(t, "default-src 'none'", res.Header.Get("Content-Security-Policy"))
	require.Equal(t, "same-origin", res.Header.Get("Referrer-Policy"))
}

func TestAssets(t *testing.T) {
	t.Parallel()

	mux := newMux()
	_, page := get(t, mux, "/")

	// gqlgen v0.17.98's own SRI strings for the CDN copies of the same files: the
	// vendored files must hash to exactly these. The page's own files (assets/page/)
	// are checked against their bytes below.
	wantSRI := map[string]string{
		"/assets/graphiql/graphiql.min.js":             "sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs=",
		"/assets/graphiql/graphiql.min.css":            "sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU=",
		"/assets/graphiql/react.production.min.js":     "sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY=",
		"/assets/graphiql/react-dom.production.min.js": "sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc=",
		"/assets/page/graphiql.js":                     "",
		"/assets/page/graphiql.css":                    "",
	}

	// Every asset tag on the page, with its integrity attribute.
	tags := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"\s+integrity="([^"]+)"`).FindAllStringSubmatch(page, -1)
	require.Len(t, tags, len(wantSRI))

	for _, tag := range tags {
		// html/template writes "+" as "&#43;" in attributes; browsers decode it.
		url, integrity := tag[1], html.UnescapeString(tag[2])
		path, query, _ := strings.Cut(url, "?")
		t.Run(path, func(t *testing.T) {
			t.Parallel()

			want, ok := wantSRI[path]
			require.True(t, ok, "unexpected asset %s", path)

			wantType := "text/javascript; charset=utf-8"
			if strings.HasSuffix(path, ".css") {
				wantType = "text/css; charset=utf-8"
			}
			res, body := getOK(t, mux, url, wantType)
			sum := sha256.Sum256([]byte(body))
			got := "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
			if want != "" {
				require.Equal(t, want, integrity, "integrity attribute on the page")
			} else {
				// The page's own files are versioned by their content.
				require.Equal(t, "v="+hex.EncodeToString(sum[:8]), query)
			}
			require.Equal(t, integrity, got, "sha256 of the served file")
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
			"/assets/page/",
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

		_, body := getOK(t, mux, "/docs/", "text/html; charset=utf-8")
		require.Contains(t, body, `<div id="swagger-ui"></div>`)
		require.Contains(t, body, `src="./swagger-initializer.js"`)
		require.Empty(t, externalURL.FindAllString(body, -1))
	})

	t.Run("Initializer", func(t *testing.T) {
		t.Parallel()

		res, body := getOK(t, mux, "/docs/swagger-initializer.js", "text/javascript; charset=utf-8")
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
			res, body := getOK(t, mux, path, wantType)
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
