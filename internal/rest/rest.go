// Package rest is the REST compat layer (docs/product.md, "The API"): the API of the service
// this one replaces, in the shapes Django REST framework clients expect
// (snake_case JSON, paths with a trailing slash, {"count", "next",
// "previous", "results"} pages, errors per field), over the same domain
// service GraphQL uses. Handlers decode, make one domain call and encode;
// errors become statuses in one place (errors.go).
//
// The OpenAPI 3 document describing every route is embedded
// (openapi.yaml) and served by DocumentHandler at /docs/openapi.json.
package rest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/internal/campaign"
)

// Request body limits. A client is under 200 bytes of JSON, so a bulk
// import of campaign.MaxBulkClients fits well within maxBulkBody.
const (
	maxBody     = 1 << 20
	maxBulkBody = 10 << 20
)

// Config holds the dependencies of an API.
type Config struct {
	Service *campaign.Service
	// Reports builds the daily report of GET /reports/daily/; without it
	// that path answers 404.
	Reports Reports
	Logger  *slog.Logger
}

// API is the REST compat layer, an http.Handler for the paths under
// /clients/, /mailings/, /reports/ and /audit/ (each also without its
// trailing slash). Mount it at those prefixes (/audit/ for admins only):
//
//	mux.Handle("/clients", api)
//	mux.Handle("/clients/", api)
//	mux.Handle("/mailings", api)
//	mux.Handle("/mailings/", api)
//	mux.Handle("/reports/", api)
//	mux.Handle("/audit/", api)
type API struct {
	service *campaign.Service
	reports Reports
	ent     *ent.Client
	logger  *slog.Logger
	mux     *http.ServeMux
	// patterns are the routes as the OpenAPI document names them
	// ("GET /clients/{id}/"), for the test that compares the two.
	patterns []string
	// served are the mux patterns of those routes, as registered.
	served map[string]bool
}

// New returns the REST API over cfg.Service.
func New(cfg Config) *API {
	a := &API{
		service: cfg.Service,
		reports: cfg.Reports,
		ent:     cfg.Service.DB().Ent,
		logger:  cmp.Or(cfg.Logger, slog.Default()),
		mux:     http.NewServeMux(),
	}
	a.routes()
	return a
}

// routes is every route of the REST layer, as the OpenAPI document names them.
func (a *API) routes() {
	a.handle("GET /clients/", maxBody, a.listClients)
	a.handle("POST /clients/", maxBody, a.createClient)
	a.handle("POST /clients/bulk/", maxBulkBody, a.createClients)
	// CSV import and export (import.go, export.go).
	a.handleStream("POST /clients/import/", a.importClients)
	a.handle("GET /clients/import/{id}/", maxBody, a.getImport)
	a.handleStream("GET /clients/export.csv", a.exportClients)
	a.handle("GET /clients/{id}/", maxBody, a.getClient)
	a.handle("PUT /clients/{id}/", maxBody, a.replaceClient)
	a.handle("PATCH /clients/{id}/", maxBody, a.updateClient)
	a.handle("DELETE /clients/{id}/", maxBody, a.deleteClient)

	a.handle("GET /mailings/", maxBody, a.listMailings)
	a.handle("POST /mailings/", maxBody, a.createMailing)
	a.handle("GET /mailings/general_statistics/", maxBody, a.generalStatistics)
	a.handle("GET /mailings/{id}/", maxBody, a.getMailing)
	a.handle("PUT /mailings/{id}/", maxBody, a.replaceMailing)
	a.handle("PATCH /mailings/{id}/", maxBody, a.updateMailing)
	a.handle("DELETE /mailings/{id}/", maxBody, a.deleteMailing)
	a.handle("GET /mailings/{id}/detail_statistics/", maxBody, a.detailStatistics)
	a.handle("POST /mailings/{id}/pause/", maxBody, a.pauseMailing)
	a.handle("POST /mailings/{id}/resume/", maxBody, a.resumeMailing)
	a.handle("POST /mailings/{id}/cancel/", maxBody, a.cancelMailing)
	a.handleStream("GET /mailings/{id}/messages.csv", a.exportMessages)

	a.handle("GET /reports/daily/", maxBody, a.dailyReport)

	a.handle("GET /audit/", maxBody, a.listAudit)

	a.handle("GET /webhooks/deliveries/", maxBody, a.listWebhookDeliveries)

	a.audienceRoutes()

	// Paths of their own beside an /{id}/ path, as Django REST framework's
	// router matches its list routes before its detail routes: another
	// method is a 405 there, not the 404 of an id that is not one.
	for path, method := range map[string]string{"/clients/bulk/": http.MethodPost, "/clients/import/": http.MethodPost, "/mailings/general_statistics/": http.MethodGet} {
		for _, m := range methods {
			if m != method {
				a.mux.HandleFunc(m+" "+path+"{$}", a.noRoute)
				a.mux.HandleFunc(m+" "+strings.TrimSuffix(path, "/"), a.noRoute)
			}
		}
	}

	for _, m := range methods {
		if m != http.MethodGet {
			a.mux.HandleFunc(m+" /clients/export.csv", a.noRoute)
		}
	}

	// Anything else under the mounted prefixes: 405 when the path exists
	// with another method, else 404, both as JSON.
	a.mux.HandleFunc("/", a.noRoute)
}

// handlerFunc is a REST handler: it returns the status and the value to
// encode as JSON (nil for no body), or an error that errors.go maps.
type handlerFunc func(r *http.Request) (status int, body any, err error)

// handle registers h for pattern, "METHOD /path/" with a trailing slash, and
// for the same path without the slash. A POST, PUT or PATCH body must be
// JSON (requireJSON), and the request body is limited to limit bytes: one
// declared longer is refused before it is read.
func (a *API) handle(pattern string, limit int64, h handlerFunc) {
	serve := func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if err := requireJSON(r); err != nil {
			a.writeError(w, r, err)
			return
		}
		if r.ContentLength > limit {
			// Refused unread: a client that declares more than it sends
			// would otherwise hold the handler until the read times out.
			a.writeError(w, r, &http.MaxBytesError{Limit: limit})
			return
		}
		if r.Method == http.MethodPost && r.Header.Get(idempotencyHeader) != "" {
			a.idempotent(w, r, h) // idempotency.go
			return
		}
		status, body, err := h(r)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		a.write(w, r, status, body)
	}
	a.patterns = append(a.patterns, pattern)
	if a.served == nil {
		a.served = map[string]bool{}
	}
	for _, p := range []string{pattern + "{$}", strings.TrimSuffix(pattern, "/")} {
		a.served[p] = true
		a.mux.HandleFunc(p, serve)
	}
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mux.ServeHTTP(w, r)
}

// write sends body as JSON with status; a nil body sends no content.
func (a *API) write(w http.ResponseWriter, r *http.Request, status int, body any) {
	if body == nil {
		w.WriteHeader(status)
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // texts are SMS, not HTML
	if err := enc.Encode(body); err != nil {
		a.internalError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // the client went away: nothing to do
}

// methods are the methods the API answers, for the Allow header of a 405.
var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// noRoute answers a request no route takes: 405 with Allow when the path
// exists with other methods, else 404.
func (a *API) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range methods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := a.mux.Handler(probe); a.served[pattern] {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		a.writeError(w, r, errNoRoute)
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	a.writeError(w, r, &methodError{method: r.Method})
}
