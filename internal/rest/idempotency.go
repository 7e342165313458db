package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/notifyhq/notify/internal/campaign"
)

// Idempotency keys on REST POSTs (README, "Idempotency keys"): a POST with
// an Idempotency-Key header runs once; a repeat with the same key, path and
// body within 24 h gets the first answer again (status and body, with
// Idempotent-Replayed: true) and creates nothing; the key with another
// path or body is a 422, and a repeat while the first still runs a 409. An
// answer that is an error frees the key.
const (
	idempotencyHeader = "Idempotency-Key"
	replayedHeader    = "Idempotent-Replayed"
)

// idempotent serves r, a POST carrying an Idempotency-Key, with h once per
// key (the body already limited by handle).
func (a *API) idempotent(w http.ResponseWriter, r *http.Request, h handlerFunc) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			a.writeError(w, r, err)
		} else {
			a.writeError(w, r, badRequest("Error reading the request body."))
		}
		return
	}
	path := strings.TrimSuffix(r.URL.Path, "/")
	hash := campaign.RequestHash([]byte(r.Method), []byte(path), raw)
	a.once(w, r, hash, func() (int, any, error) {
		r.Body = io.NopCloser(bytes.NewReader(raw))
		return h(r)
	})
}

// once answers r, whose request hashes to hash, with run's answer the first
// time its Idempotency-Key comes, and with that stored answer after. An
// answer that is an error (an error, or a status of 400 or more) frees the
// key: it created nothing, and the caller may correct the request.
func (a *API) once(w http.ResponseWriter, r *http.Request, hash string, run func() (int, any, error)) {
	claim, stored, err := a.service.ClaimIdempotencyKey(r.Context(), r.Header.Get(idempotencyHeader), hash)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if stored != nil {
		w.Header().Set(replayedHeader, "true")
		if len(stored.Body) > 0 {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(stored.Status)
		_, _ = w.Write(stored.Body)
		return
	}
	release := func() {
		if rerr := claim.Release(r.Context()); rerr != nil {
			a.logger.ErrorContext(r.Context(), "error releasing an idempotency key", "error", rerr)
		}
	}
	status, body, err := run()
	if err != nil {
		release()
		a.writeError(w, r, err)
		return
	}
	var encoded []byte
	if body != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(body); err != nil {
			release()
			a.internalError(w, r, err)
			return
		}
		encoded = buf.Bytes()
	}
	if status >= http.StatusBadRequest {
		release()
	} else if err := claim.Complete(r.Context(), campaign.StoredResponse{Status: status, Body: encoded}); err != nil {
		// Done and answered; the key stays in progress (a repeat is a 409,
		// never a second object) until it is pruned.
		a.logger.ErrorContext(r.Context(), "error storing the answer of an idempotency key", "error", err)
	}
	if encoded != nil {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = w.Write(encoded)
}

// idempotencyStatus is the status of a refused key: 409 while the first
// request runs, 422 for a key used with another request.
func idempotencyStatus(e *campaign.IdempotencyError) int {
	if e.InProgress {
		return http.StatusConflict
	}
	return http.StatusUnprocessableEntity
}

// audienceRoutes are the routes of opt-outs and the audience preview
// (optout.go, preview.go).
func (a *API) audienceRoutes() {
	a.handle("GET /opt-outs/", maxBody, a.listOptOuts)
	a.handle("POST /opt-outs/", maxBody, a.createOptOut)
	a.handle("DELETE /opt-outs/{phone}/", maxBody, a.deleteOptOut)
	a.handle("POST /mailings/preview/", maxBody, a.previewAudience)
	for _, m := range methods {
		if m != http.MethodPost {
			a.mux.HandleFunc(m+" /mailings/preview/{$}", a.noRoute)
			a.mux.HandleFunc(m+" /mailings/preview", a.noRoute)
		}
	}
}
