package webui

import (
	"bytes"
	_ "embed"
	"net/http"
	"strings"
	"time"

	swaggerFiles "github.com/swaggo/files/v2"
)

// swaggerInitializer replaces the file of the same name in swaggerFiles.FS.
//
//go:embed swagger-initializer.js
var swaggerInitializer []byte

// Docs returns the handler of Swagger UI 5.18.2 (embedded by github.com/swaggo/files/v2)
// at /docs/, showing the OpenAPI document at /docs/openapi.json. Mount it at
// "GET /docs/" and register the document's handler at "GET /docs/openapi.json": the more
// specific pattern wins, and this handler answers 404 for that path if it ever gets it.
//
// A request for /docs (possible when the handler is mounted without a trailing-slash
// pattern) is redirected to /docs/.
//
// Responses carry DocsCSP and the other headers of SecureHeaders.
func Docs() http.Handler {
	files := http.StripPrefix("/docs/", http.FileServerFS(swaggerFiles.FS))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header(), DocsCSP)
		if !onlyGetOrHead(w, r) {
			return
		}
		switch p := r.URL.Path; {
		case p == "/docs":
			target := "/docs/"
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, target, http.StatusMovedPermanently)
		case p == "/docs/swagger-initializer.js":
			setContentType(w.Header(), p)
			w.Header().Set("Cache-Control", "no-cache")
			http.ServeContent(w, r, p, time.Time{}, bytes.NewReader(swaggerInitializer))
		case p == "/docs/openapi.json" || !strings.HasPrefix(p, "/docs/"):
			http.NotFound(w, r)
		default:
			name := strings.TrimPrefix(p, "/docs/")
			if name == "" || name == "index.html" {
				setContentType(w.Header(), "index.html")
				w.Header().Set("Cache-Control", "no-cache")
			} else {
				setContentType(w.Header(), name)
				// The embedded files change only with the module version; a day keeps
				// reloads cheap without pinning an old bundle for long.
				w.Header().Set("Cache-Control", "public, max-age=86400")
			}
			files.ServeHTTP(w, r)
		}
	})
}
