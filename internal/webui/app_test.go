package webui_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/webui"
)

func appFS() fstest.MapFS {
	return fstest.MapFS{
		"index.html":            {Data: []byte(`<meta name="csp-nonce" content="__CSP_NONCE__"><script src="/ui/assets/index-abc.js"></script>`)},
		"favicon.svg":           {Data: []byte(`<svg/>`)},
		"assets/index-abc.js":   {Data: []byte(`console.log(1)`)},
		"assets/index-abc.css":  {Data: []byte(`body{}`)},
		"assets/nested/dir.txt": {Data: []byte(`x`)},
	}
}

func serve(h http.Handler, method, path string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestApp(t *testing.T) {
	h := webui.App(appFS(), webui.AppConfig{Auth: "token", OIDC: &webui.AppOIDC{Issuer: "https://id.example.com/realms/x", ClientID: "notify-ui"}})

	t.Run("every screen path answers the page, with a fresh nonce in the page and its policy", func(t *testing.T) {
		var nonces []string
		for _, p := range []string{"/ui/", "/ui/mailings", "/ui/mailings/42", "/ui/clients?page=3", "/ui/signin"} {
			rec := serve(h, http.MethodGet, p)
			require.Equal(t, http.StatusOK, rec.Code, p)
			require.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
			require.Equal(t, "no-cache", rec.Header().Get("Cache-Control"))
			csp := rec.Header().Get("Content-Security-Policy")
			body := rec.Body.String()
			require.NotContains(t, body, "__CSP_NONCE__")
			start := strings.Index(body, `content="`) + len(`content="`)
			nonce := body[start : start+strings.Index(body[start:], `"`)]
			require.NotEmpty(t, nonce)
			require.Contains(t, csp, "style-src 'self' 'nonce-"+nonce+"'")
			require.Contains(t, csp, "script-src 'self';")
			require.Contains(t, csp, "frame-ancestors 'none'")
			require.Contains(t, csp, "connect-src 'self' https://id.example.com;", "the UI talks to the OIDC provider")
			require.NotContains(t, csp, "unsafe")
			require.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"))
			require.Equal(t, "no-referrer", rec.Header().Get("Referrer-Policy"))
			nonces = append(nonces, nonce)
		}
		require.NotEqual(t, nonces[0], nonces[1])
	})

	t.Run("config", func(t *testing.T) {
		rec := serve(h, http.MethodGet, "/ui/config.json")
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
		require.JSONEq(t, `{"auth":"token","oidc":{"issuer":"https://id.example.com/realms/x","clientId":"notify-ui"}}`, rec.Body.String())
		open := serve(webui.App(appFS(), webui.AppConfig{Auth: "open"}), http.MethodGet, "/ui/config.json")
		require.JSONEq(t, `{"auth":"open","oidc":null}`, open.Body.String())
	})

	t.Run("assets are immutable; unknown ones and directories are 404", func(t *testing.T) {
		rec := serve(h, http.MethodGet, "/ui/assets/index-abc.js")
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "text/javascript; charset=utf-8", rec.Header().Get("Content-Type"))
		require.Equal(t, "public, max-age=31536000, immutable", rec.Header().Get("Cache-Control"))
		require.Equal(t, "console.log(1)", rec.Body.String())
		require.Equal(t, "text/css; charset=utf-8", serve(h, http.MethodGet, "/ui/assets/index-abc.css").Header().Get("Content-Type"))
		for _, p := range []string{"/ui/assets/missing.js", "/ui/assets/", "/ui/assets/nested", "/ui/assets/../index.html", "/ui/missing.png"} {
			require.Equal(t, http.StatusNotFound, serve(h, http.MethodGet, p).Code, p)
		}
		fav := serve(h, http.MethodGet, "/ui/favicon.svg")
		require.Equal(t, http.StatusOK, fav.Code)
		require.Equal(t, "no-cache", fav.Header().Get("Cache-Control"))
	})

	t.Run("only GET and HEAD", func(t *testing.T) {
		rec := serve(h, http.MethodPost, "/ui/")
		require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
		require.Equal(t, http.StatusOK, serve(h, http.MethodHead, "/ui/mailings").Code)
	})
}

func TestLanding(t *testing.T) {
	h := webui.Landing()
	rec := serve(h, http.MethodGet, "/", "Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	require.Equal(t, http.StatusFound, rec.Code)
	require.Equal(t, "/ui/", rec.Header().Get("Location"))
	rec = serve(h, http.MethodGet, "/", "Accept", "*/*")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "/ui/")
	require.Contains(t, rec.Body.String(), "/graphiql/")
}
