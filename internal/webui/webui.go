// Package webui serves the service's browser pages: the operator's UI at /ui/ (App, the
// single-page application built in web/), the GraphiQL IDE at /graphiql/ and Swagger UI
// at /docs/; a browser opening / is sent to the UI (Landing). Every script and
// stylesheet they load is embedded in the binary, so all work with no internet access.
// All send a Content-Security-Policy that allows nothing else, and refuse to be framed;
// SecureHeaders does the same for other pages (River's UI, with RiverUICSP).
//
// Mount the handlers on the patterns their docs name (GraphiQL answers at "/" of what it
// is given: strip the prefix it is mounted under):
//
//	mux.Handle("GET /{$}", webui.Landing())
//	mux.Handle("GET /ui/", webui.App(web.Dist(), appConfig))
//	mux.Handle("GET /graphiql/{$}", http.StripPrefix("/graphiql", webui.GraphiQL("Notify", "/query")))
//	mux.Handle("GET /assets/", webui.Assets())
//	mux.Handle("GET /docs/", webui.Docs())
//	mux.Handle("GET /docs/openapi.json", openAPIHandler) // the REST package's document
//
// ServeMux picks the most specific pattern, so "GET /docs/openapi.json" wins over
// "GET /docs/" whichever is registered first; Docs answers 404 for that path if it ever
// reaches it.
package webui

import (
	"mime"
	"net/http"
	"path"
)

// contentTypes pins the types of the files this package serves. mime.TypeByExtension
// would read /etc/mime.types, which differs between machines (some map .js to
// application/javascript or text/plain).
var contentTypes = map[string]string{
	".css":  "text/css; charset=utf-8",
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".json": "application/json",
	".map":  "application/json",
	".png":  "image/png",
}

// setContentType sets the Content-Type of a static file from its extension before
// http.FileServer sees the response (it keeps a type that is already set).
func setContentType(h http.Header, name string) {
	ext := path.Ext(name)
	ct, ok := contentTypes[ext]
	if !ok {
		ct = mime.TypeByExtension(ext)
	}
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	h.Set("X-Content-Type-Options", "nosniff")
}

// onlyGetOrHead answers 405 for other methods and reports whether the request may go on.
// The mux patterns above already say GET (which also matches HEAD); this covers handlers
// mounted without a method.
func onlyGetOrHead(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	return false
}
