package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/lockedbuf"
	"github.com/notifyhq/notify/internal/testdb"
)

// TestRobustness sends the generated table of malformed and hostile requests
// (robustnessCases) to a real instance with API_TOKENS set, once with the
// right token and once without, on SQLite and on Postgres: GraphQL over POST,
// GET, SSE and both WebSocket protocols, the REST layer, River's UI, the
// probes and /metrics, and HTTP the server has to parse. Every case checks
// that the answer is not a 5xx (nor a WebSocket close 1011), that its body is
// well-formed (JSON where the route promises JSON, every SSE event and
// WebSocket message too), that no GraphQL error is INTERNAL, that an
// anonymous request to a guarded route is never served, that it was
// answered within a bound (no hang), and that the service logged no panic,
// nor an error about a request, while it ran. Cases that expect more say so
// (a status, an error code, a field named). Cases that find a defect not
// fixed yet are skipped, naming it (robustness_cases_test.go, the defect
// constants); ROBUSTNESS_KNOWN_DEFECTS=1 runs them.
//
// After the cases the service's goroutines must come back to their
// baseline, and its live heap must not have grown by more than
// robustHeapBound (see requireSettled).
func TestRobustness(t *testing.T) {
	t.Parallel()
	cases := robustnessCases()
	require.GreaterOrEqual(t, len(cases), 200, "the suite promises at least 200 cases")
	seen := map[string]bool{}
	skipped := 0
	for _, c := range cases {
		require.False(t, seen[c.name], "two cases are named %q", c.name)
		seen[c.name] = true
		if c.skip != "" {
			skipped++
		}
	}
	t.Logf("%d cases (%d skipped for known defects), each with and without the token", len(cases), skipped)

	testdb.Each(t, func(t *testing.T, dbURL string) {
		in := startRobustInstance(t, dbURL)
		in.warmUp(t)
		before := in.measure(t)
		for _, mode := range []struct{ name, token string }{{"token", robustToken}, {"anonymous", ""}} {
			t.Run(mode.name, func(t *testing.T) {
				e := in.env(mode.token)
				for _, c := range cases {
					t.Run(c.name, func(t *testing.T) {
						if c.skip != "" && (e.authed() || !c.tokenOnly) && (e.dialect == "postgres" || !c.postgresOnly) && !runKnownDefects {
							t.Skip("known defect: " + c.skip)
						}
						robustQuiet.RLock()
						defer robustQuiet.RUnlock()
						mark := in.logMark()
						start := time.Now()
						c.run(t, e)
						if d := time.Since(start); d > robustSlowCase {
							t.Logf("slow: %s", d)
						}
						in.requireQuietLogs(t, mark)
					})
				}
			})
		}
		in.requireSettled(t, before)
	})
}

// startQuietRobustInstance starts an instance on SQLite for a test of its own and
// returns it with the environment of robustToken; robustQuiet is held for reading until
// the test ends, its requests being in flight until then.
func startQuietRobustInstance(t *testing.T) (*robustInstance, *robustEnv) {
	t.Helper()
	in := startRobustInstance(t, testdb.SQLite(t))
	robustQuiet.RLock()
	t.Cleanup(robustQuiet.RUnlock)
	return in, in.env(robustToken)
}

// TestFragmentBombRefusedQuickly posts a document of 40 fragments, each
// spreading the next one twice (2^39 fields in 40 lines): it is refused
// with COMPLEXITY_LIMIT_EXCEEDED, without expanding it. The bound is only
// there to catch a walk of every spread, which would never end.
func TestFragmentBombRefusedQuickly(t *testing.T) {
	t.Parallel()
	in, e := startQuietRobustInstance(t)
	for _, transport := range []struct {
		name string
		req  hreq
	}{
		{"post", gqlPOST(gqlBody(fragmentBomb(40), nil))},
		{"get", gqlGET(fragmentBomb(40), "")},
	} {
		start := time.Now()
		resp := e.send(t, transport.req)
		took := time.Since(start)
		t.Logf("%s: a 40-level fragment bomb answered %d in %s", transport.name, resp.status, took)
		require.Less(t, took, 2*time.Second, "the bomb was walked, not refused")
		require.Equal(t, []string{"COMPLEXITY_LIMIT_EXCEEDED"}, graphQLCodes(t, resp.body), "%s", resp.body)
	}
	in.requireQuietLogs(t, [2]int{})
}

// TestBodyLimit: a body over the limit of /query (1 MiB) is answered 413
// with a GraphQL error REQUEST_TOO_LARGE, whether its length is announced
// (Content-Length: refused before reading) or not (chunked: refused after
// reading the limit and one byte). A 60 MB chunked body is refused after
// the server read no more than that, which the handler's body reads are
// counted to show; RSS before and after is logged.
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	in, e := startQuietRobustInstance(t)
	big := paddedQuery(1536 << 10) // 1.5 MiB

	for _, chunked := range []bool{false, true} {
		read := in.bodyRead.Load()
		r := gqlPOST(big)
		r.chunked = chunked
		resp := e.send(t, r)
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.status, "chunked=%v: %.300s", chunked, resp.body)
		require.Equal(t, []string{"REQUEST_TOO_LARGE"}, graphQLCodes(t, resp.body), "chunked=%v", chunked)
		readNow := in.bodyRead.Load() - read
		if chunked {
			require.LessOrEqual(t, readNow, int64(robustBodyLimit+1), "a chunked body is read up to the limit and one byte")
		} else {
			require.Zero(t, readNow, "an announced length over the limit is refused before reading")
		}
	}
	// Just under the limit is served: the limit is the one documented.
	resp := e.send(t, gqlPOST(paddedQuery(robustBodyLimit-1024)))
	require.Equal(t, http.StatusOK, resp.status, "%.300s", resp.body)
	require.Empty(t, graphQLCodes(t, resp.body))

	// 60 MB, chunked, written as fast as the server takes it.
	const total = 60 << 20
	runtime.GC()
	rssBefore := vmRSS(t)
	read := in.bodyRead.Load()
	var written atomic.Int64
	chunk := bytes.Repeat([]byte(" "), 64<<10)
	r := gqlPOST(nil)
	r.chunked = true
	r.bodyFn = func(w io.Writer) error {
		head := `{"query":"{ __typename }"`
		if _, err := fmt.Fprintf(w, "%x\r\n%s\r\n", len(head), head); err != nil {
			return err
		}
		for written.Load() < total {
			if _, err := fmt.Fprintf(w, "%x\r\n%s\r\n", len(chunk), chunk); err != nil {
				return err
			}
			written.Add(int64(len(chunk)))
		}
		_, err := io.WriteString(w, "0\r\n\r\n")
		return err
	}
	start := time.Now()
	resp = e.send(t, r)
	took := time.Since(start)
	serverRead := in.bodyRead.Load() - read
	runtime.GC()
	rssAfter := vmRSS(t)
	t.Logf("60 MB chunked body: %d in %s; the client wrote %.1f MiB before the server hung up, the handler read %d bytes; VmRSS %.1f → %.1f MiB (process-wide)",
		resp.status, took, float64(written.Load())/(1<<20), serverRead, float64(rssBefore)/(1<<20), float64(rssAfter)/(1<<20))
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.status, "%.300s", resp.body)
	require.Equal(t, []string{"REQUEST_TOO_LARGE"}, graphQLCodes(t, resp.body))
	require.LessOrEqual(t, serverRead, int64(robustBodyLimit+1), "the server read past the limit")
	require.Less(t, written.Load(), int64(total), "the server took the whole body")
	in.requireQuietLogs(t, [2]int{})
}

// runKnownDefects runs the cases skipped for a known defect
// (ROBUSTNESS_KNOWN_DEFECTS=1): to see one fail, or that its fix works.
var runKnownDefects = os.Getenv("ROBUSTNESS_KNOWN_DEFECTS") != ""

// robustToken is the API token of the robustness instances.
const robustToken = "robustness-token-6f1d2c8a9e"

// robustBodyLimit is the body limit of /query (MAX_BODY_BYTES' default).
const robustBodyLimit = 1 << 20

// robustTimeout bounds one request or WebSocket exchange: a case not
// answered by then found a hang.
const robustTimeout = 60 * time.Second

// robustSlowCase is the duration above which a case's time is logged.
const robustSlowCase = 500 * time.Millisecond

// robustHeapBound is how much the live heap may grow over the cases. A
// case retaining what it sent (a 1.5 MiB body, a 2 MiB WebSocket message)
// would grow it by that much each time it ran, hundreds of megabytes over
// the suite; the bound leaves room for caches that are bounded by count (the
// query cache, the persisted queries) and for the other instance running in
// parallel.
const robustHeapBound = 64 << 20

// robustLabel is the pprof label that marks the goroutines of one
// instance's HTTP server: the server is started inside pprof.Do, so its
// connections and everything they start carry it. Counting them gives the
// instance's goroutines, whatever else the test binary runs in parallel.
const robustLabel = "robustness-instance"

// robustInstance is a service (setup) served by an HTTP server of the
// suite's own: its error log captured (net/http reports a handler's panic
// there), its goroutines labelled, and the body bytes its handler read
// counted.
type robustInstance struct {
	b         *testBundle
	srv       *httptest.Server
	label     string
	serverLog *lockedbuf.Buffer
	bodyRead  atomic.Int64
	// Ids of a client and a mailing that exist (warmUp).
	clientID, mailingID string
}

func startRobustInstance(t *testing.T, dbURL string) *robustInstance {
	t.Helper()
	in := &robustInstance{
		b:         setup(t, dbURL, setupOpts{env: map[string]string{"API_TOKENS": robustToken}}),
		label:     rand.Text(),
		serverLog: &lockedbuf.Buffer{},
		clientID:  "1", mailingID: "1",
	}
	h := in.b.app.handler
	in.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &countingBody{ReadCloser: r.Body, n: &in.bodyRead}
		}
		h.ServeHTTP(w, r)
	}))
	in.srv.Config.ErrorLog = log.New(in.serverLog, "", 0)
	pprof.Do(context.Background(), pprof.Labels(robustLabel, in.label), func(context.Context) { in.srv.Start() })
	t.Cleanup(in.srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("HTTP server log:\n%s", in.serverLog.String())
		}
	})
	return in
}

// countingBody counts the bytes read from a request body.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// env is what a case runs against: the instance, with token on every
// request ("" for none).
func (in *robustInstance) env(token string) *robustEnv {
	u := strings.TrimPrefix(in.srv.URL, "http://")
	return &robustEnv{addr: u, token: token, clientID: in.clientID, mailingID: in.mailingID, dialect: in.b.app.db.Dialect, logs: in.b.logs}
}

// logMark is where the logs are now, for requireQuietLogs.
func (in *robustInstance) logMark() [2]int {
	return [2]int{in.b.logs.Len(), in.serverLog.Len()}
}

// requireQuietLogs fails when the service or its HTTP server logged a
// panic, or the service an error about a request (a line with a
// request_id: River's background work logs errors of its own when the
// machine is slow, which are no answer to a case), since mark.
func (in *robustInstance) requireQuietLogs(t *testing.T, mark [2]int) {
	t.Helper()
	svc := in.b.logs.Since(mark[0])
	srv := in.serverLog.Since(mark[1])
	for _, l := range []struct{ name, text string }{{"service", svc}, {"HTTP server", srv}} {
		require.NotContains(t, strings.ToLower(l.text), "panic", "the %s logged a panic:\n%s", l.name, l.text)
	}
	for line := range strings.Lines(svc) {
		if strings.Contains(line, `"request_id":`) {
			require.NotContains(t, line, `"level":"ERROR"`, "the service logged an error")
		}
	}
}

// warmUp makes one ordinary request of each kind (so that what is made
// once, on first use, exists before the baseline), and the client and
// mailing the cases use.
func (in *robustInstance) warmUp(t *testing.T) {
	t.Helper()
	e := in.env(robustToken)
	var created struct {
		C struct{ ID string } `json:"createClient"`
		M struct{ ID string } `json:"createMailing"`
	}
	resp := e.send(t, gqlPOST(gqlBody(`mutation {
		createClient(input: {phone: "79990000001", tag: "robust"}) { id }
		createMailing(input: {startAt: "2035-01-01T00:00:00Z", endAt: "2036-01-01T00:00:00Z", text: "robust", filter: {tags: ["nobody"]}}) { id }
	}`, nil)))
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	var out struct{ Data json.RawMessage }
	require.NoError(t, json.Unmarshal(resp.body, &out))
	require.NoError(t, json.Unmarshal(out.Data, &created), "%s", resp.body)
	in.clientID, in.mailingID = created.C.ID, created.M.ID
	e = in.env(robustToken)

	for _, r := range []hreq{
		gqlGET("{ __typename }", ""),
		gqlSSE(gqlBody("{ __typename }", nil)),
		{method: "GET", target: "/clients/"},
		{method: "GET", target: "/riverui/api/jobs"},
		{method: "GET", target: "/metrics"},
		{method: "GET", target: "/readyz"},
	} {
		resp := e.send(t, r)
		require.Less(t, resp.status, 300, "%s %s: %.300s", r.method, r.target, resp.body)
	}
	live := gqlSSE(gqlBody(statusSubscriptionQuery, nil))
	live.stream = true
	require.Equal(t, http.StatusOK, e.send(t, live).status)
	for _, proto := range robustWSProtocols {
		s := e.wsDial(t, proto.name, nil)
		require.True(t, s.init(t, e))
		s.subscribe("warm", statusSubscriptionQuery, nil)
		s.subscribe("query", "{ __typename }", nil)
		s.until(t, "the query's result", func(m wsMsg) bool { return m.ID == "query" && m.Type == proto.data })
		s.close()
	}
}

// robustMeasure is the instance's goroutines and the process's memory at
// one time.
type robustMeasure struct {
	goroutines, processGoroutines int
	heap, logs                    uint64
	rss                           int64
}

// measure waits for the instance's goroutines to stop changing (the
// warm-up's connections are ending), then takes the baseline.
func (in *robustInstance) measure(t *testing.T) robustMeasure {
	t.Helper()
	last, _ := labelledGoroutines(in.label)
	stable := 0
	deadline := time.Now().Add(10 * time.Second)
	for stable < 5 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		n, _ := labelledGoroutines(in.label)
		if n == last {
			stable++
		} else {
			last, stable = n, 0
		}
	}
	m := robustMeasure{goroutines: last, processGoroutines: runtime.NumGoroutine(), rss: vmRSS(t)}
	m.heap, m.logs = in.heap()
	return m
}

// heap returns the live heap after a collection, with no suite's request in
// flight, and the capacity of the test's own capture of the service's logs
// within it.
func (in *robustInstance) heap() (heap, logs uint64) {
	robustQuiet.Lock()
	defer robustQuiet.Unlock()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, uint64(in.b.logs.Cap())
}

// liveHeap is the process's live heap after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// requireSettled waits (bounded) for the instance's goroutines to come back
// within robustGoroutineMargin of the baseline, then checks the heap.
//
// Goroutines are the instance's (robustLabel), not runtime.NumGoroutine:
// the process runs the other database's instance and other tests in
// parallel, which come and go. NumGoroutine is logged beside them.
//
// Memory is the live heap (runtime.MemStats.HeapAlloc after runtime.GC),
// not VmRSS: RSS keeps pages the runtime has freed until the scavenger
// returns them, so it tells the peak of what was allocated rather than what
// is still held, and it is shared with everything the process runs. The
// test's capture of the service's logs grows with every request and is not
// the service's: its capacity is subtracted. VmRSS is logged.
func (in *robustInstance) requireSettled(t *testing.T, before robustMeasure) {
	t.Helper()
	// Connections end a little after their last answer (net/http lingers
	// 500 ms before closing one whose request body was not read).
	deadline := time.Now().Add(15 * time.Second)
	n, stacks := labelledGoroutines(in.label)
	for n > before.goroutines && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		n, stacks = labelledGoroutines(in.label)
	}
	heap, logs := in.heap()
	grown := int64(heap) - int64(before.heap) - (int64(logs) - int64(before.logs))
	t.Logf("instance goroutines %d → %d (margin %d); process goroutines %d → %d; live heap %+.1f MiB without the log capture (%+.1f MiB with it); VmRSS %.1f → %.1f MiB",
		before.goroutines, n, robustGoroutineMargin, before.processGoroutines, runtime.NumGoroutine(),
		float64(grown)/(1<<20), float64(int64(heap)-int64(before.heap))/(1<<20),
		float64(before.rss)/(1<<20), float64(vmRSS(t))/(1<<20))
	if n > before.goroutines {
		t.Logf("the instance's goroutines above the baseline:\n%s", stacks)
	}
	require.LessOrEqual(t, n, before.goroutines+robustGoroutineMargin, "the instance's goroutines did not come back to their baseline:\n%s", stacks)
	require.Less(t, grown, int64(robustHeapBound), "the live heap grew by %d MiB", grown>>20)
}

// robustQuiet is held for reading while a suite's requests are in flight
// (a case, TestBodyLimit, TestFragmentBombRefusedQuickly), and for writing
// while the heap is measured: the live heap is the process's, and another
// instance's request in flight (a 10 MiB bulk import) would count in it.
var robustQuiet sync.RWMutex

// robustGoroutineMargin is how many more goroutines than the baseline the
// instance may keep: a pool's connection opener or cleaner started again.
const robustGoroutineMargin = 3

// labelledGoroutines counts the goroutines labelled robustLabel=value, and
// returns their stacks.
func labelledGoroutines(value string) (int, string) {
	var buf bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
	want := fmt.Sprintf("%q:%q", robustLabel, value)
	n := 0
	var stacks strings.Builder
	for rec := range strings.SplitSeq(buf.String(), "\n\n") {
		if strings.HasPrefix(rec, "goroutine profile:") {
			_, rec, _ = strings.Cut(rec, "\n")
		}
		if !strings.Contains(rec, want) {
			continue
		}
		count, _, _ := strings.Cut(rec, " ")
		k, err := strconv.Atoi(count)
		if err != nil {
			continue
		}
		n += k
		stacks.WriteString(rec + "\n\n")
	}
	return n, stacks.String()
}

// vmRSS is the process's resident set (VmRSS of /proc/self/status), or 0
// where there is none.
func vmRSS(t *testing.T) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			require.NoError(t, err, "VmRSS line %q", line)
			return kb << 10
		}
	}
	return 0
}

// robustEnv is what a case runs against.
type robustEnv struct {
	addr  string // host:port of the instance
	token string // sent on every request unless the case sends its own; "" for none
	// Ids of a client and a mailing that exist, for {client} and
	// {mailing} in targets.
	clientID, mailingID string
	dialect             string            // the database's: "postgres" or "sqlite3"
	logs                *lockedbuf.Buffer // the service's log
}

func (e *robustEnv) authed() bool { return e.token != "" }

// robustCase is one malformed or hostile request (or exchange).
type robustCase struct {
	name string
	// skip names a defect the case finds that is not fixed yet (one of the
	// defect constants): the case stays in the table, skipped, until the
	// fix lands. With tokenOnly it is skipped with the token only: without
	// one the guard answers before the defect shows, and that runs.
	skip      string
	tokenOnly bool
	// postgresOnly: the defect shows on Postgres only (SQLite takes what
	// Postgres refuses: NUL bytes, invalid UTF-8).
	postgresOnly bool
	run          func(t *testing.T, e *robustEnv)
}

// known marks c as finding defect (see robustCase.skip).
func known(defect string, tokenOnly bool, cs ...robustCase) []robustCase {
	for i := range cs {
		cs[i].skip, cs[i].tokenOnly = defect, tokenOnly
	}
	return cs
}

// ---- HTTP, spoken by hand ----

// hreq is an HTTP/1.1 request, written as is on a connection of its own:
// targets, headers and bodies go out exactly as given, malformed ones too.
type hreq struct {
	method string
	// target is the request target as sent; {client} and {mailing} are
	// replaced by the ids of the env's client and mailing.
	target string
	// header lines ("Name: value"), sent as they are. Host, Connection:
	// close and the body's framing are added unless given; Authorization
	// with the env's token unless given or noAuth.
	header []string
	body   []byte
	// chunked sends the body with Transfer-Encoding: chunked, no
	// Content-Length; bodyFn, when set, writes the body (framing and all).
	chunked bool
	bodyFn  func(io.Writer) error
	noAuth  bool
	// head, when set, is the whole request head (request line and header
	// lines, without the final empty line): malformed HTTP. Nothing is added.
	head string
	// stream: the answer is a live SSE stream; its opening is read, then
	// the client hangs up.
	stream bool
	// closeWrite: the client half-closes the connection once the request
	// is written (a body cut short).
	closeWrite bool
}

// hresp is what came back.
type hresp struct {
	status int
	header http.Header
	body   []byte
}

func (r hresp) String() string {
	return fmt.Sprintf("%d %s: %.600q", r.status, r.header.Get("Content-Type"), r.body)
}

func (e *robustEnv) expand(s string) string {
	return strings.NewReplacer("{client}", e.clientID, "{mailing}", e.mailingID).Replace(s)
}

// send writes r on a new connection and reads the answer (the first
// non-1xx response), within robustTimeout.
func (e *robustEnv) send(t *testing.T, r hreq) hresp {
	t.Helper()
	resp, err := e.trySend(r)
	require.NoError(t, err, "%s %.200s", r.method, r.target)
	return resp
}

func (e *robustEnv) trySend(r hreq) (hresp, error) {
	conn, err := net.DialTimeout("tcp", e.addr, robustTimeout)
	if err != nil {
		return hresp{}, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(robustTimeout))

	written := make(chan error, 1)
	go func() {
		err := e.writeRequest(conn, r)
		if r.closeWrite {
			_ = conn.(*net.TCPConn).CloseWrite()
		}
		written <- err
	}()
	defer func() { conn.Close(); <-written }()

	br := bufio.NewReader(conn)
	method := r.method
	if r.head != "" {
		method, _, _ = strings.Cut(r.head, " ")
	}
	var resp *http.Response
	for {
		resp, err = http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return hresp{}, fmt.Errorf("no answer within %s (a hang): %w", robustTimeout, err)
			}
			return hresp{}, fmt.Errorf("no answer: %w", err)
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	out := hresp{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return out, nil
	}
	if r.stream && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		// A live stream: its opening comment, then hang up (closing the
		// body would read the stream to its end).
		body := bufio.NewReader(resp.Body)
		for !bytes.HasSuffix(out.body, []byte("\n\n")) {
			b, err := body.ReadByte()
			if err != nil {
				return out, fmt.Errorf("reading the stream's opening: %w", err)
			}
			out.body = append(out.body, b)
		}
		return out, nil
	}
	defer resp.Body.Close()
	const maxAnswer = 64 << 20
	out.body, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return out, fmt.Errorf("reading the body of a %d: %w", resp.StatusCode, err)
	}
	if len(out.body) > maxAnswer {
		rest, _ := io.Copy(io.Discard, resp.Body)
		return out, fmt.Errorf("an answer of %d MiB (%d)", (int64(len(out.body))+rest)>>20, resp.StatusCode)
	}
	return out, nil
}

// hangUp writes r and closes the connection at once.
func (e *robustEnv) hangUp(t *testing.T, r hreq) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", e.addr, robustTimeout)
	require.NoError(t, err)
	_ = conn.SetDeadline(time.Now().Add(robustTimeout))
	require.NoError(t, e.writeRequest(conn, r))
	require.NoError(t, conn.Close())
}

func (e *robustEnv) writeRequest(conn net.Conn, r hreq) error {
	bw := bufio.NewWriterSize(conn, 64<<10)
	if r.head != "" {
		bw.WriteString(r.head + "\r\n\r\n")
		bw.Write(r.body)
		return bw.Flush()
	}
	has := func(name string) bool {
		for _, h := range r.header {
			if n, _, ok := strings.Cut(h, ":"); ok && strings.EqualFold(strings.TrimSpace(n), name) {
				return true
			}
		}
		return false
	}
	fmt.Fprintf(bw, "%s %s HTTP/1.1\r\n", r.method, e.expand(r.target))
	if !has("Host") {
		fmt.Fprintf(bw, "Host: %s\r\n", e.addr)
	}
	if !has("Connection") {
		bw.WriteString("Connection: close\r\n")
	}
	if e.token != "" && !r.noAuth && !has("Authorization") {
		fmt.Fprintf(bw, "Authorization: Bearer %s\r\n", e.token)
	}
	for _, h := range r.header {
		bw.WriteString(e.expand(h) + "\r\n")
	}
	switch {
	case has("Content-Length") || has("Transfer-Encoding"):
	case r.chunked || r.bodyFn != nil:
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	case r.body != nil || r.method == "POST" || r.method == "PUT" || r.method == "PATCH":
		fmt.Fprintf(bw, "Content-Length: %d\r\n", len(r.body))
	}
	bw.WriteString("\r\n")
	switch {
	case r.bodyFn != nil:
		if err := r.bodyFn(bw); err != nil {
			return err
		}
	case r.chunked:
		for rest := r.body; len(rest) > 0; {
			n := min(len(rest), 32<<10)
			fmt.Fprintf(bw, "%x\r\n%s\r\n", n, rest[:n])
			rest = rest[n:]
		}
		bw.WriteString("0\r\n\r\n")
	default:
		bw.Write(r.body)
	}
	return bw.Flush()
}

// hwant is what a case expects beyond what every case checks.
type hwant struct {
	// status is the exact status with the token (0: any below 500).
	status int
	// anon is the exact status without it: 0 means 401 on the routes that
	// need a token (and status elsewhere); anyStatus means any below 500
	// that does not serve the request.
	anon int
	// code is an extensions.code the GraphQL errors must include (with the
	// token).
	code string
	// field is a field the REST error must name (with the token).
	field string
	// absent must not be in the body (files read by path traversal).
	absent []string
	// raw: net/http answers before any route (malformed HTTP); its
	// plain-text answers are fine.
	raw bool
	// within bounds the time to the answer (0: robustTimeout only).
	within time.Duration
}

// anyStatus (hwant.anon) accepts any status below 500.
const anyStatus = -1

// Route kinds, by what their answers must be.
type routeKind int

const (
	routeOpen    routeKind = iota // the IDE, docs, assets, probes, /metrics, unknown paths
	routeGraphQL                  // JSON (GraphQL responses), or an SSE stream
	routeREST                     // JSON
	routeAdmin                    // River's UI
)

func kindOf(target string) routeKind {
	p, _, _ := strings.Cut(target, "?")
	switch {
	case p == "/query":
		return routeGraphQL
	case p == "/clients" || p == "/mailings" || strings.HasPrefix(p, "/clients/") || strings.HasPrefix(p, "/mailings/") || strings.HasPrefix(p, "/reports/") ||
		strings.HasPrefix(p, "/opt-outs/") || strings.HasPrefix(p, "/webhooks/") || strings.HasPrefix(p, "/audit/"):
		return routeREST
	case strings.HasPrefix(p, "/riverui/"):
		return routeAdmin
	}
	return routeOpen
}

func httpCase(name string, r hreq, w hwant) robustCase {
	return robustCase{name: name, run: func(t *testing.T, e *robustEnv) {
		start := time.Now()
		resp := e.send(t, r)
		if took := time.Since(start); w.within > 0 {
			require.Less(t, took, w.within, "answered %d after %s", resp.status, took)
		}
		checkHTTP(t, e, r, w, resp)
	}}
}

// checkHTTP checks what every answer must be, and what w asks.
func checkHTTP(t *testing.T, e *robustEnv, r hreq, w hwant, resp hresp) {
	t.Helper()
	desc := fmt.Sprintf("%s %.200q → %s", r.method, r.target, resp)
	kind := kindOf(r.target)
	if r.head != "" {
		kind = routeOpen
	}
	if w.status < 500 {
		require.Less(t, resp.status, 500, "a 5xx: %s", desc)
	}
	guarded := kind != routeOpen && !w.raw
	want := w.status
	if !e.authed() {
		switch {
		case w.anon != 0:
			want = w.anon
		case guarded:
			want = http.StatusUnauthorized
		}
		preflight := r.method == http.MethodOptions
		if guarded && !preflight {
			require.False(t, resp.status/100 == 2, "served without a token: %s", desc)
		}
	}
	if want > 0 {
		require.Equal(t, want, resp.status, desc)
	}
	checkBody(t, kind, r, w, resp, desc)
	for _, a := range w.absent {
		require.NotContains(t, string(resp.body), a, "a file was served: %s", desc)
	}
	if !e.authed() {
		return
	}
	if w.code != "" {
		require.Contains(t, graphQLCodes(t, resp.body), w.code, desc)
	}
	if w.field != "" {
		require.Equal(t, http.StatusBadRequest, resp.status, desc)
		require.Contains(t, string(resp.body), strconv.Quote(w.field), "the error names the field: %s", desc)
	}
}

// checkBody checks that a body is well-formed: JSON when it says so, and
// always on the JSON routes (but for redirects, upgrades, empty answers and
// what net/http answers itself); every SSE event.
func checkBody(t *testing.T, kind routeKind, r hreq, w hwant, resp hresp, desc string) {
	t.Helper()
	if resp.status == http.StatusSwitchingProtocols || resp.status == http.StatusNoContent || resp.status == http.StatusNotModified || r.method == http.MethodHead ||
		r.method == http.MethodOptions && len(resp.body) == 0 {
		return
	}
	mt, _, _ := mime.ParseMediaType(resp.header.Get("Content-Type"))
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		require.True(t, json.Valid(resp.body), "a JSON answer that is not JSON: %s", desc)
		if kind == routeGraphQL {
			checkGraphQLResponse(t, resp.body, desc)
		}
	case mt == "text/event-stream":
		checkSSE(t, resp.body, desc)
	case mt == "text/csv" && resp.status == http.StatusOK:
		_, err := csv.NewReader(bytes.NewReader(resp.body)).ReadAll()
		require.NoError(t, err, "a CSV answer that is not CSV: %s", desc)
	case (kind == routeGraphQL || kind == routeREST) && !w.raw && resp.status/100 != 3:
		t.Fatalf("the route promises JSON: %s", desc)
	}
}

// graphQLError is an error of a GraphQL response.
type graphQLError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

// checkGraphQLResponse checks that body is a GraphQL response: an object
// with data or errors, every error with a message and none INTERNAL.
func checkGraphQLResponse(t *testing.T, body []byte, desc string) {
	t.Helper()
	var r map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &r), "not a GraphQL response: %s", desc)
	_, hasData := r["data"]
	_, hasErrors := r["errors"]
	require.True(t, hasData || hasErrors, "a GraphQL response without data or errors: %s", desc)
	if hasErrors {
		var errs []graphQLError
		require.NoError(t, json.Unmarshal(r["errors"], &errs), "errors that are not a list of errors: %s", desc)
		checkGraphQLErrors(t, errs, desc)
	}
}

func checkGraphQLErrors(t *testing.T, errs []graphQLError, desc string) {
	t.Helper()
	for _, e := range errs {
		require.NotEmpty(t, e.Message, "an error without a message: %s", desc)
		require.NotEqual(t, "INTERNAL", e.Extensions["code"], "an internal error: %s", desc)
	}
}

// graphQLCodes returns the extensions.code of each error of a GraphQL
// response body (or SSE stream, or WebSocket error payload).
func graphQLCodes(t *testing.T, body []byte) []string {
	t.Helper()
	var codes []string
	add := func(data []byte) {
		var r struct{ Errors []graphQLError }
		switch data = bytes.TrimSpace(data); {
		case bytes.HasPrefix(data, []byte("[")): // a graphql-transport-ws error payload
			_ = json.Unmarshal(data, &r.Errors)
		case bytes.Contains(data, []byte(`"errors"`)):
			_ = json.Unmarshal(data, &r)
		default: // a legacy graphql-ws error payload: one error
			var e graphQLError
			if json.Unmarshal(data, &e) == nil && e.Message != "" {
				r.Errors = append(r.Errors, e)
			}
		}
		for _, e := range r.Errors {
			code, _ := e.Extensions["code"].(string)
			codes = append(codes, code)
		}
	}
	if bytes.HasPrefix(bytes.TrimSpace(body), []byte(":")) || bytes.Contains(body, []byte("\ndata: ")) {
		for line := range strings.Lines(string(body)) {
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				add([]byte(d))
			}
		}
		return codes
	}
	add(body)
	return codes
}

// checkSSE checks every event of an SSE body: comments, event names and
// data that is a GraphQL response.
func checkSSE(t *testing.T, body []byte, desc string) {
	t.Helper()
	for line := range strings.Lines(string(body)) {
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" || strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event: "):
			require.Contains(t, []string{"next", "complete"}, strings.TrimPrefix(line, "event: "), desc)
		case strings.HasPrefix(line, "data: "):
			checkGraphQLResponse(t, []byte(strings.TrimPrefix(line, "data: ")), desc)
		default:
			t.Fatalf("not an SSE line %q: %s", line, desc)
		}
	}
}

// ---- GraphQL requests ----

// gqlBody is a GraphQL request body.
func gqlBody(query string, vars map[string]any) []byte {
	m := map[string]any{"query": query}
	if vars != nil {
		m["variables"] = vars
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func gqlPOST(body []byte) hreq {
	return hreq{method: "POST", target: "/query", header: []string{"Content-Type: application/json"}, body: body}
}

func gqlSSE(body []byte) hreq {
	return hreq{method: "POST", target: "/query", header: []string{"Content-Type: application/json", "Accept: text/event-stream"}, body: body}
}

// gqlGET is a GET of query, with more (already encoded) parameters.
func gqlGET(query, more string) hreq {
	target := "/query?query=" + urlEscape(query)
	if more != "" {
		target += "&" + more
	}
	return hreq{method: "GET", target: target}
}

// urlEscape escapes s for a query string.
func urlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// statusSubscriptionQuery is a live subscription that never ends by itself.
const statusSubscriptionQuery = "subscription { messageStatusChanged { messageID status } }"

// fragmentBomb is a document of n fragments, each spreading the next one
// twice: 2^(n-1) fields.
func fragmentBomb(n int) string {
	var b strings.Builder
	b.WriteString("query Bomb { ...F0 }\n")
	for i := range n - 1 {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { __typename }\n", n-1)
	return b.String()
}

// paddedQuery is a valid request body of size bytes: { __typename } and
// white space.
func paddedQuery(size int) []byte {
	head := `{"query":"{ __typename }"`
	return []byte(head + strings.Repeat(" ", size-len(head)-1) + "}")
}

// ---- WebSockets ----

// robustWSProtocols are the two GraphQL WebSocket protocols and their
// message names.
var robustWSProtocols = []wsProtocol{
	{name: "graphql-transport-ws", subscribe: "subscribe", stop: "complete", data: "next"},
	{name: "graphql-ws", subscribe: "start", stop: "stop", data: "data"},
}

type wsProtocol struct{ name, subscribe, stop, data string }

func protocolOf(name string) wsProtocol {
	for _, p := range robustWSProtocols {
		if p.name == name {
			return p
		}
	}
	return robustWSProtocols[1] // no subprotocol: gqlgen speaks graphql-ws
}

// wsSession is a client's WebSocket to /query.
type wsSession struct {
	t     *testing.T
	c     *websocket.Conn
	proto wsProtocol
	// closed is the close status once the connection ended (-1: without a
	// close frame).
	closed websocket.StatusCode
	ended  bool
}

// wsMsg is a protocol message.
type wsMsg struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// wsDial opens a WebSocket to /query offering proto ("" for none).
func (e *robustEnv) wsDial(t *testing.T, proto string, header http.Header) *wsSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), robustTimeout)
	defer cancel()
	var protos []string
	if proto != "" {
		protos = []string{proto}
	}
	c, resp, err := websocket.Dial(ctx, "ws://"+e.addr+"/query", &websocket.DialOptions{
		Subprotocols: protos,
		HTTPHeader:   header,
		HTTPClient:   &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	require.NoError(t, err)
	c.SetReadLimit(64 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return &wsSession{t: t, c: c, proto: protocolOf(c.Subprotocol())}
}

// sendText writes a text message as it is.
func (s *wsSession) sendText(msg string) { s.sendFrame(websocket.MessageText, []byte(msg)) }

func (s *wsSession) sendFrame(typ websocket.MessageType, data []byte) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), robustTimeout)
	defer cancel()
	if err := s.c.Write(ctx, typ, data); err != nil && !s.ended {
		// The server may have closed already: what it said is read next.
		s.t.Logf("write: %v", err)
	}
}

// send writes a protocol message.
func (s *wsSession) send(typ, id string, payload any) {
	s.t.Helper()
	m := map[string]any{"type": typ}
	if id != "" {
		m["id"] = id
	}
	if payload != nil {
		m["payload"] = payload
	}
	b, err := json.Marshal(m)
	require.NoError(s.t, err)
	s.sendText(string(b))
}

func (s *wsSession) subscribe(id, query string, vars map[string]any) {
	s.t.Helper()
	p := map[string]any{"query": query}
	if vars != nil {
		p["variables"] = vars
	}
	s.send(s.proto.subscribe, id, p)
}

// read reads the next message within timeout; ok is false once the
// connection ended (s.closed says how). Every message must be a protocol
// message, its errors none INTERNAL, and the close not 1011.
func (s *wsSession) read(timeout time.Duration) (m wsMsg, ok bool) {
	s.t.Helper()
	if s.ended {
		return m, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	typ, data, err := s.c.Read(ctx)
	if err != nil {
		require.NoError(s.t, ctx.Err(), "the server neither answered nor closed within %s (a hang)", timeout)
		s.ended, s.closed = true, websocket.CloseStatus(err)
		require.NotEqual(s.t, websocket.StatusInternalError, s.closed, "closed with an internal error: %v", err)
		return m, false
	}
	require.Equal(s.t, websocket.MessageText, typ, "the server wrote a binary message")
	require.NoError(s.t, json.Unmarshal(data, &m), "not a protocol message: %.300q", data)
	require.NotEmpty(s.t, m.Type, "a message without a type: %.300q", data)
	switch m.Type {
	case "error", "connection_error":
		if bytes.HasPrefix(m.Payload, []byte("[")) {
			var errs []graphQLError
			require.NoError(s.t, json.Unmarshal(m.Payload, &errs), "%.300q", data)
			checkGraphQLErrors(s.t, errs, string(data))
		} else {
			var e graphQLError
			require.NoError(s.t, json.Unmarshal(m.Payload, &e), "%.300q", data)
			checkGraphQLErrors(s.t, []graphQLError{e}, string(data))
		}
	case "next", "data":
		checkGraphQLResponse(s.t, m.Payload, string(data))
	}
	return m, true
}

// until reads until a message satisfies pred; the connection must not end
// first.
func (s *wsSession) until(t *testing.T, what string, pred func(wsMsg) bool) wsMsg {
	t.Helper()
	deadline := time.Now().Add(robustTimeout)
	for {
		m, ok := s.read(time.Until(deadline))
		require.True(t, ok, "the connection closed (%d) before %s", s.closed, what)
		if pred(m) {
			return m
		}
	}
}

// expectClose reads until the server closes the connection, and returns
// its close status.
func (s *wsSession) expectClose() websocket.StatusCode {
	s.t.Helper()
	deadline := time.Now().Add(robustTimeout)
	for {
		if _, ok := s.read(time.Until(deadline)); !ok {
			return s.closed
		}
	}
}

// init sends connection_init with the env's token, if any. With a token
// the server acknowledges it (true); without, it closes the socket with
// 4403 (false).
func (s *wsSession) init(t *testing.T, e *robustEnv) bool {
	t.Helper()
	var payload map[string]any
	if e.authed() {
		payload = map[string]any{"authorization": "Bearer " + e.token}
	}
	s.send("connection_init", "", payload)
	if !e.authed() {
		require.Equal(t, websocket.StatusCode(4403), s.expectClose(), "connection_init without a token")
		return false
	}
	s.until(t, "connection_ack", func(m wsMsg) bool { return m.Type == "connection_ack" })
	return true
}

// alive checks that the socket still runs operations.
func (s *wsSession) alive(t *testing.T) {
	t.Helper()
	id := "alive-" + rand.Text()[:6]
	s.subscribe(id, "{ __typename }", nil)
	s.until(t, "the answer to a query", func(m wsMsg) bool { return m.ID == id && m.Type == s.proto.data })
}

func (s *wsSession) close() {
	_ = s.c.Close(websocket.StatusNormalClosure, "")
}

// wsCase is a case run on each protocol, and on a socket without a
// subprotocol when noProto.
func wsCase(name string, run func(t *testing.T, e *robustEnv, s *wsSession)) []robustCase {
	var out []robustCase
	for _, p := range robustWSProtocols {
		out = append(out, robustCase{name: "ws/" + p.name + "/" + name, run: func(t *testing.T, e *robustEnv) {
			s := e.wsDial(t, p.name, nil)
			run(t, e, s)
		}})
	}
	return out
}

// ---- WebSocket frames, written by hand ----

// rawWS is a WebSocket opened by hand, to write frames coder/websocket
// would refuse to.
type rawWS struct {
	conn net.Conn
	br   *bufio.Reader
}

func (e *robustEnv) rawWSDial(t *testing.T, proto string) *rawWS {
	t.Helper()
	conn, err := net.DialTimeout("tcp", e.addr, robustTimeout)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(robustTimeout))
	key := base64.StdEncoding.EncodeToString([]byte(rand.Text()[:16]))
	fmt.Fprintf(conn, "GET /query HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n\r\n", e.addr, key, proto)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	return &rawWS{conn: conn, br: br}
}

// frame writes one frame: fin, rsv bits, opcode, masked unless unmasked,
// with length as the declared payload length (len(payload) when < 0).
func (w *rawWS) frame(fin bool, rsv, opcode byte, payload []byte, masked bool, length int64) {
	var b []byte
	first := opcode | rsv<<4
	if fin {
		first |= 0x80
	}
	b = append(b, first)
	if length < 0 {
		length = int64(len(payload))
	}
	maskBit := byte(0)
	if masked {
		maskBit = 0x80
	}
	switch {
	case length <= 125:
		b = append(b, maskBit|byte(length))
	case length <= 0xffff:
		b = append(b, maskBit|126)
		b = binary.BigEndian.AppendUint16(b, uint16(length))
	default:
		b = append(b, maskBit|127)
		b = binary.BigEndian.AppendUint64(b, uint64(length))
	}
	p := bytes.Clone(payload)
	if masked {
		key := []byte{0x12, 0x34, 0x56, 0x78}
		b = append(b, key...)
		for i := range p {
			p[i] ^= key[i%4]
		}
	}
	_, _ = w.conn.Write(append(b, p...))
}

func (w *rawWS) text(msg string) { w.frame(true, 0, 0x1, []byte(msg), true, -1) }

// expectEnd reads the server's frames until it closes, and returns the
// close code (0: the connection ended without a close frame).
func (w *rawWS) expectEnd(t *testing.T) int {
	t.Helper()
	for {
		var h [2]byte
		if _, err := io.ReadFull(w.br, h[:]); err != nil {
			require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "the server neither answered nor closed (a hang)")
			return 0
		}
		n := int64(h[1] & 0x7f)
		switch n {
		case 126:
			var l [2]byte
			if _, err := io.ReadFull(w.br, l[:]); err != nil {
				return 0
			}
			n = int64(binary.BigEndian.Uint16(l[:]))
		case 127:
			var l [8]byte
			if _, err := io.ReadFull(w.br, l[:]); err != nil {
				return 0
			}
			n = int64(binary.BigEndian.Uint64(l[:]))
		}
		require.Less(t, n, int64(64<<20), "a frame of %d bytes", n)
		payload := make([]byte, n)
		if _, err := io.ReadFull(w.br, payload); err != nil {
			return 0
		}
		switch h[0] & 0x0f {
		case 0x8:
			code := 1005
			if len(payload) >= 2 {
				code = int(binary.BigEndian.Uint16(payload))
			}
			require.NotEqual(t, 1011, code, "closed with an internal error: %q", payload)
			return code
		case 0x1:
			var m wsMsg
			require.NoError(t, json.Unmarshal(payload, &m), "not a protocol message: %.300q", payload)
		}
	}
}

// rawInit sends connection_init with the env's token; with one, it reads
// connection_ack.
func (w *rawWS) rawInit(t *testing.T, e *robustEnv) {
	t.Helper()
	if !e.authed() {
		w.text(`{"type":"connection_init"}`)
		return
	}
	w.text(`{"type":"connection_init","payload":{"authorization":"Bearer ` + e.token + `"}}`)
	line, err := w.br.Peek(2)
	require.NoError(t, err, "no connection_ack")
	require.Equal(t, byte(0x81), line[0], "the first frame after connection_init is a text frame")
}
