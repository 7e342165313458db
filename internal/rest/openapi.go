package rest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// openAPIYAML is the OpenAPI 3 document of the API, written by hand. The
// REST suite of the service validates every request and response it makes
// against the served form of it, so it cannot drift from the handlers.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// document converts openAPIYAML to JSON once, on first use.
var document = sync.OnceValues(func() ([]byte, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openAPIYAML)
	if err != nil {
		return nil, fmt.Errorf("error loading the embedded OpenAPI document: %w", err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("error encoding the OpenAPI document as JSON: %w", err)
	}
	return b, nil
})

// Document returns the OpenAPI 3 document of the API as JSON.
func Document() ([]byte, error) { return document() }

// DocumentHandler serves the OpenAPI document as JSON. Mount it at
// "GET /docs/openapi.json", where Swagger UI (internal/webui) loads it.
func DocumentHandler(logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := Document()
		if err != nil {
			// Only a broken build gets here: TestDocument loads the same bytes.
			logger.ErrorContext(r.Context(), "openapi document unavailable", "error", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	})
}
