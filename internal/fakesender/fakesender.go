// Package fakesender is a real HTTP fake of the external sending API (docs/product.md, "The sending API"): it
// checks the token and the body like the real one and can be slow, answer 5xx, 429,
// garbage or permanent rejections, hang, or be down, at configurable rates and
// reproducibly from a seed. It records what it received so tests and benchmarks can
// count requests, accepted answers and duplicates.
//
// Routes served by a Fake:
//
//	POST /v1/send/{msgId}  the sending API
//	GET  /admin/stats      statistics (?since=RFC3339Nano, ?messages=false)
//	POST /admin/reset      clear statistics
//	GET  /admin/faults     current faults
//	POST /admin/faults     partial update of the faults, e.g. {"outage": true}
//
// The admin routes need no token. Answers of the sending API are JSON objects
// {"code": N, "message": "..."} where code is 0 for success, 1 for a bad token (401),
// 2 for an invalid request (400), 3 for a permanent rejection (400), 4 for too many
// requests (429), 5 for an internal error (500) and 7 for the "200 with a non-zero
// code" fault. Other fault answers are deliberately not JSON.
//
// Faults apply only to valid, authorized requests, in this order: the bearer token is
// checked (401), then the path and body (400), then outages (503 or a dropped
// connection), then the dice for hang, 5xx, 429, malformed 200 and permanent 400; the
// latency is served before any answer except 401, 400 and outages.
package fakesender

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxBodyBytes bounds a send request body; an SMS text is at most a few kilobytes.
const maxBodyBytes = 1 << 20

// Response codes of the sending API.
const (
	codeOK           = 0
	codeUnauthorized = 1
	codeInvalid      = 2
	codeRejected     = 3
	codeTooMany      = 4
	codeInternal     = 5
	codeWrongBody    = 7
)

// okBody is the success answer, {"code": 0, "message": "OK"}, encoded as writeJSON
// would.
const okBody = `{"code":0,"message":"OK"}` + "\n"

// Phone numbers the API accepts: 11 digits starting with 7.
const (
	minPhone = 70_000_000_000
	maxPhone = 79_999_999_999
)

// Fake is an http.Handler serving the fake sending API and its admin endpoints.
// It is safe for concurrent use.
type Fake struct {
	token  string
	seed   uint64
	now    func() time.Time
	logger *slog.Logger
	mux    *http.ServeMux

	faults   atomic.Pointer[Faults] // an immutable snapshot, replaced as a whole
	faultsMu sync.Mutex             // serializes read-modify-write updates of faults

	rec recorder

	closed    chan struct{}
	closeOnce sync.Once
}

// New returns a Fake configured by cfg. It panics if cfg is invalid: call
// cfg.Validate first for untrusted input (Start and Main do).
func New(cfg Config) *Fake {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("fakesender: invalid config: %v", err))
	}
	f := &Fake{
		token:  cfg.Token,
		seed:   uint64(cfg.Seed),
		now:    cfg.NowFunc,
		logger: cfg.Logger,
		closed: make(chan struct{}),
	}
	if f.seed == 0 {
		f.seed = rand.Uint64()
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.logger == nil {
		f.logger = slog.New(slog.DiscardHandler)
	}
	faults := cfg.Faults.withDefaults()
	faults.Outages = append([]Outage(nil), faults.Outages...)
	f.faults.Store(&faults)
	f.rec.init()

	f.mux = http.NewServeMux()
	f.mux.HandleFunc("POST /v1/send/{msgId}", f.handleSend)
	f.mux.HandleFunc("GET /admin/stats", f.handleStats)
	f.mux.HandleFunc("POST /admin/reset", f.handleReset)
	f.mux.HandleFunc("GET /admin/faults", f.handleGetFaults)
	f.mux.HandleFunc("POST /admin/faults", f.handlePostFaults)
	return f
}

// ServeHTTP serves the sending API and the admin endpoints.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mux.ServeHTTP(w, r)
}

// Close releases every request the fake is holding (hangs and latencies) by
// dropping its connection. The handler keeps serving afterwards, without holding
// requests; Close exists so a server shutting down is not kept waiting. It is
// idempotent.
func (f *Fake) Close() {
	f.closeOnce.Do(func() { close(f.closed) })
}

// Seed returns the seed in use, which is random if Config.Seed was zero.
func (f *Fake) Seed() int64 {
	return int64(f.seed)
}

// Faults returns the current faults.
func (f *Fake) Faults() Faults {
	fl := *f.faults.Load()
	fl.Outages = append([]Outage(nil), fl.Outages...)
	return fl
}

// SetFaults replaces the faults; zero-valued MaxHang and RetryAfter get their
// defaults. Returns an error naming the field if faults is invalid, leaving the
// current faults in place.
func (f *Fake) SetFaults(faults Faults) error {
	return f.UpdateFaults(func(cur *Faults) { *cur = faults })
}

// UpdateFaults applies fn to a copy of the current faults and installs the result,
// atomically with respect to other updates. Returns an error naming the field if the
// result is invalid, leaving the current faults in place.
func (f *Fake) UpdateFaults(fn func(*Faults)) error {
	f.faultsMu.Lock()
	defer f.faultsMu.Unlock()
	next := f.Faults()
	fn(&next)
	if err := next.Validate(); err != nil {
		return fmt.Errorf("error updating faults: %w", err)
	}
	next = next.withDefaults()
	next.Outages = append([]Outage(nil), next.Outages...)
	f.faults.Store(&next)
	return nil
}

// SetOutage starts (true) or ends (false) an open-ended outage. Outage windows
// configured in Faults.Outages are not affected.
func (f *Fake) SetOutage(on bool) {
	// Cannot fail: toggling Outage keeps valid faults valid.
	_ = f.UpdateFaults(func(cur *Faults) { cur.Outage = on })
	f.logger.Info("fake sender outage toggled", slog.Bool("outage", on))
}

// sendResponse is the JSON answer of the sending API.
type sendResponse struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// handleSend serves POST /v1/send/{msgId}.
func (f *Fake) handleSend(w http.ResponseWriter, r *http.Request) {
	start := f.now()
	id, idErr := parseMsgID(r.PathValue("msgId"))
	nth := f.rec.start(id, idErr == nil, start)

	if !f.authorized(r.Header.Get("Authorization")) {
		f.rec.finish(id, outcomeUnauthorized)
		writeJSON(w, http.StatusUnauthorized, sendResponse{Code: codeUnauthorized, Message: "missing or invalid bearer token"})
		return
	}
	if idErr != nil {
		f.rec.finish(id, outcomeInvalid)
		writeJSON(w, http.StatusBadRequest, sendResponse{Code: codeInvalid, Message: idErr.Error()})
		return
	}
	if err := readSendBody(w, r, id); err != nil {
		f.rec.finish(id, outcomeInvalid)
		writeJSON(w, http.StatusBadRequest, sendResponse{Code: codeInvalid, Message: err.Error()})
		return
	}

	faults := f.faults.Load()
	if faults.inOutage(start) {
		if faults.OutageDrop {
			f.rec.finish(id, outcomeOutageDrop)
			dropConnection(w)
			return
		}
		f.rec.finish(id, outcomeOutage)
		writeText(w, http.StatusServiceUnavailable, "text/plain; charset=utf-8", "service unavailable\n")
		return
	}

	// The draws happen in a fixed order so a seed reproduces outcomes and latencies.
	rng := f.rng(id, nth)
	roll, pick := rng.Float64(), rng.Float64()
	latency := faults.latency(rng.Float64, rng.NormFloat64)
	outcome := pickOutcome(faults, roll)

	if outcome == outcomeHang {
		f.rec.finish(id, outcomeHang)
		f.hold(r.Context(), faults.MaxHang)
		dropConnection(w)
		return
	}
	if !f.hold(r.Context(), latency) {
		f.rec.finish(id, outcomeAborted)
		dropConnection(w)
		return
	}
	f.rec.finish(id, outcome)

	switch outcome {
	case outcomeOK:
		// Pre-encoded: the success answer is the hot path under load.
		writeText(w, http.StatusOK, "application/json", okBody)
	case outcomeServerError:
		writeServerError(w, pick)
	case outcomeTooMany:
		if faults.RetryAfter > 0 {
			secs := int64((faults.RetryAfter + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		}
		writeJSON(w, http.StatusTooManyRequests, sendResponse{Code: codeTooMany, Message: "too many requests"})
	case outcomeMalformed:
		writeMalformed(w, pick)
	case outcomeRejected:
		writeJSON(w, http.StatusBadRequest, sendResponse{Code: codeRejected, Message: "rejected: the recipient cannot receive messages"})
	}
}

// pickOutcome maps a roll in [0, 1) to the fault it falls in, in the order
// documented on Faults.
func pickOutcome(f *Faults, roll float64) outcome {
	for _, c := range []struct {
		rate float64
		o    outcome
	}{
		{f.HangRate, outcomeHang},
		{f.ErrorRate, outcomeServerError},
		{f.TooManyRate, outcomeTooMany},
		{f.MalformedRate, outcomeMalformed},
		{f.RejectRate, outcomeRejected},
	} {
		if roll < c.rate {
			return c.o
		}
		roll -= c.rate
	}
	return outcomeOK
}

// writeServerError answers 500, 502 or 503, each in the shape real
// infrastructure tends to produce.
func writeServerError(w http.ResponseWriter, pick float64) {
	switch {
	case pick < 1.0/3:
		writeJSON(w, http.StatusInternalServerError, sendResponse{Code: codeInternal, Message: "internal error"})
	case pick < 2.0/3:
		writeText(w, http.StatusBadGateway, "text/html; charset=utf-8",
			"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n")
	default:
		writeText(w, http.StatusServiceUnavailable, "text/plain; charset=utf-8", "upstream temporarily unavailable\n")
	}
}

// writeMalformed answers 200 with a body that is not a success: half the time
// garbage (plain text or truncated JSON), half the time a JSON non-zero code.
func writeMalformed(w http.ResponseWriter, pick float64) {
	switch {
	case pick < 0.25:
		writeText(w, http.StatusOK, "application/json", "OK")
	case pick < 0.5:
		writeText(w, http.StatusOK, "application/json", `{"code": 0, "mess`)
	default:
		writeJSON(w, http.StatusOK, sendResponse{Code: codeWrongBody, Message: "message queue is full"})
	}
}

// hold waits for d, the request's end or the fake's Close, whichever comes first,
// and reports whether the whole of d passed.
func (f *Fake) hold(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-f.closed:
		return false
	}
}

// dropConnection closes the connection without an answer: by hijacking it where
// the server allows (HTTP/1), otherwise by aborting the handler, which net/http
// turns into a closed connection or a reset stream without logging.
func dropConnection(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close() // Nothing to do about a failed close of a connection we are dropping.
		return
	}
	panic(http.ErrAbortHandler)
}

// authorized reports whether the Authorization header carries an acceptable
// bearer token.
func (f *Fake) authorized(header string) bool {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return false
	}
	if f.token == "" {
		return true
	}
	return subtle.ConstantTimeCompare([]byte(token), []byte(f.token)) == 1
}

// parseMsgID parses the msgId path segment: a positive decimal int64.
func parseMsgID(s string) (int64, error) {
	if s == "" || len(s) > 19 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("msgId in the path must be a positive integer, got %q", s)
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("msgId in the path must be a positive integer, got %q", s)
	}
	return id, nil
}

// readSendBody reads and checks the body of a send request for msgId id.
func readSendBody(w http.ResponseWriter, r *http.Request, id int64) error {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return fmt.Errorf("error reading body: %w", err)
	}
	if trimmed := bytes.TrimSpace(raw); len(trimmed) == 0 || trimmed[0] != '{' {
		return fmt.Errorf("body must be a JSON object")
	}
	var body struct {
		ID    json.RawMessage `json:"id"`
		Phone json.RawMessage `json:"phone"`
		Text  json.RawMessage `json:"text"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return fmt.Errorf("body is not valid JSON: %w", err)
	}
	bodyID, err := parseJSONInt(body.ID)
	if err != nil {
		return fmt.Errorf("id: %w", err)
	}
	if bodyID != id {
		return fmt.Errorf("id %d in the body does not match msgId %d in the path", bodyID, id)
	}
	phone, err := parseJSONInt(body.Phone)
	if err != nil {
		return fmt.Errorf("phone: %w", err)
	}
	if phone < minPhone || phone > maxPhone {
		return fmt.Errorf("phone must be 11 digits starting with 7 (7XXXXXXXXXX), got %d", phone)
	}
	if len(body.Text) == 0 {
		return fmt.Errorf("text is required")
	}
	var text *string
	if err := json.Unmarshal(body.Text, &text); err != nil || text == nil {
		return fmt.Errorf("text must be a string")
	}
	if strings.TrimSpace(*text) == "" {
		return fmt.Errorf("text must not be empty")
	}
	return nil
}

// parseJSONInt parses a JSON value that must be an integer literal: not a string,
// not a fraction or exponent.
func parseJSONInt(raw json.RawMessage) (int64, error) {
	if len(raw) == 0 {
		return 0, fmt.Errorf("is required")
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("must be a JSON integer, got %s", raw)
	}
	return n, nil
}

// rng returns the random source for the nth request of msgId id: derived from the
// seed, the id and n, so outcomes do not depend on the interleaving of requests and
// no lock is shared between requests.
func (f *Fake) rng(id int64, nth int) *rand.Rand {
	s1 := splitmix64(f.seed ^ splitmix64(uint64(id)))
	s2 := splitmix64(s1 ^ uint64(nth))
	return rand.New(rand.NewPCG(s1, s2))
}

// splitmix64 is the SplitMix64 finalizer, a cheap bijective mixer that spreads
// nearby inputs (consecutive ids) over unrelated seeds.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// writeJSON writes v as a JSON answer with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	buf = append(buf, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(buf)))
	w.WriteHeader(status)
	_, _ = w.Write(buf) // A failed write means the client left; nothing to do.
}

// writeText writes body with the given status and content type.
func writeText(w http.ResponseWriter, status int, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body) // A failed write means the client left; nothing to do.
}
