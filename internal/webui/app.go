package webui

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// AppConfig is what the operator's UI needs to know before it signs anyone in; App
// serves it, unauthenticated, at /ui/config.json.
type AppConfig struct {
	// Auth is "open" when the service has no credentials configured (no sign-in; every
	// action is offered), else "token": the UI asks for an API token, or signs in with
	// OIDC when OIDC is set.
	Auth string `json:"auth"`
	// OIDC is the provider the UI signs in with (Authorization Code + PKCE), when both
	// OIDC_ISSUER and OIDC_CLIENT_ID are set; nil otherwise.
	OIDC *AppOIDC `json:"oidc"`
}

// AppOIDC is the UI's OpenID Connect client: the issuer and the UI's public client id.
type AppOIDC struct {
	Issuer   string `json:"issuer"`
	ClientID string `json:"clientId"`
}

// noncePlaceholder is the text of web/index.html that App replaces with each
// response's nonce (the UI's component library gives it to the <style> elements it
// adds at run time).
const noncePlaceholder = "__CSP_NONCE__"

// App returns the handler of the operator's web UI, the single-page application built
// into dist (web/dist, embedded by package web). Mount it at "GET /ui/".
//
//   - /ui/assets/… are the built files, named by their content hash: served with a
//     one-year immutable Cache-Control; an unknown name is a 404.
//   - /ui/config.json is cfg as JSON (no-store).
//   - Other files at the root of dist (such as /ui/favicon.svg) are served as they are.
//   - Every other path under /ui/ (the screens: /ui/mailings/42, /ui/clients, …)
//     answers dist/index.html, so that a reload or a shared link opens the screen.
//
// Pages carry AppCSP with a fresh nonce, and the other headers of SecureHeaders.
func App(dist fs.FS, cfg AppConfig) http.Handler {
	index, err := fs.ReadFile(dist, "index.html")
	if err != nil {
		panic(fmt.Sprintf("webui: the UI's index.html is missing from its build (make ui): %v", err))
	}
	config, err := json.Marshal(cfg)
	if err != nil {
		panic(fmt.Sprintf("webui: error encoding the UI's configuration: %v", err))
	}
	connect := "'self'"
	if cfg.OIDC != nil {
		// The UI fetches the provider's discovery document and exchanges the code at
		// its token endpoint.
		if u, err := url.Parse(cfg.OIDC.Issuer); err == nil && u.Host != "" {
			connect += " " + u.Scheme + "://" + u.Host
		}
	}
	files := http.StripPrefix("/ui/", http.FileServerFS(dist))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !onlyGetOrHead(w, r) {
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, "/ui/")
		if !ok {
			http.Redirect(w, r, "/ui/", http.StatusMovedPermanently)
			return
		}
		switch {
		case name == "config.json":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write(config)
			return
		case strings.HasPrefix(name, "assets/") || (name != "" && !strings.Contains(name, "/") && path.Ext(name) != ""):
			if st, err := fs.Stat(dist, name); err != nil || st.IsDir() || !fs.ValidPath(name) {
				http.NotFound(w, r)
				return
			}
			setContentType(w.Header(), name)
			if strings.HasPrefix(name, "assets/") {
				w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			} else {
				w.Header().Set("Cache-Control", "no-cache")
			}
			files.ServeHTTP(w, r)
			return
		}
		nonce := rand.Text()
		h := w.Header()
		setSecurityHeaders(h, AppCSP(nonce, connect))
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		page := bytes.ReplaceAll(index, []byte(noncePlaceholder), []byte(nonce))
		http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(page))
	})
}

// AppCSP is the policy of the UI's page for one response: scripts and stylesheets are
// its own files; the <style> elements its component library adds carry the nonce;
// connections go to the service itself (HTTP and WebSocket), and with OIDC to the
// provider (connect, "'self'" and the provider's origin).
func AppCSP(nonce, connect string) string {
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self' 'nonce-" + nonce + "'",
		"img-src 'self' data:",
		"font-src 'self'",
		"connect-src " + connect,
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}

// Landing returns the handler of "GET /{$}": a browser (Accept: text/html) is sent to
// the UI at /ui/; other clients get a short text saying where things are.
func Landing() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept"), "text/html") {
			http.Redirect(w, r, "/ui/", http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = fmt.Fprint(w, "notify: the web UI is at /ui/, GraphiQL at /graphiql/, Swagger UI at /docs/, "+
			"the GraphQL API at /query, River's UI at /riverui/\n")
	})
}
