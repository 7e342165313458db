package webui_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/notifyhq/notify/internal/webui"
)

// The service mounts the pages next to the REST package's OpenAPI document; the more
// specific "GET /docs/openapi.json" pattern wins over "GET /docs/".
func Example() {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", webui.GraphiQL("Notify", "/query"))
	mux.Handle("GET /assets/", webui.Assets())
	mux.Handle("GET /docs/", webui.Docs())
	mux.HandleFunc("GET /docs/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"openapi":"3.0.3"}`)
	})

	for _, path := range []string{
		"/",
		"/assets/graphiql/graphiql.min.js",
		"/docs/",
		"/docs/swagger-initializer.js",
		"/docs/openapi.json",
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Println(rec.Code, path, rec.Header().Get("Content-Type"))
	}
	// Output:
	// 200 / text/html; charset=utf-8
	// 200 /assets/graphiql/graphiql.min.js text/javascript; charset=utf-8
	// 200 /docs/ text/html; charset=utf-8
	// 200 /docs/swagger-initializer.js text/javascript; charset=utf-8
	// 200 /docs/openapi.json application/json
}
