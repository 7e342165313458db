package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/internal/auth"
	"github.com/notifyhq/notify/internal/config"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/delivery"
	"github.com/notifyhq/notify/internal/fakesender"
	"github.com/notifyhq/notify/internal/lockedbuf"
	"github.com/notifyhq/notify/internal/status"
	"github.com/notifyhq/notify/internal/testdb"
	"github.com/notifyhq/notify/internal/webui"
)

// opsToken is the API token of the ops tests; opsToken2 the second of the list.
const (
	opsToken  = "ops-token-5f3c9a"
	opsToken2 = "ops-token-second-71d2"
)

// opsRequest is the request a test makes to check a route: the route's
// method and path, with a concrete path and body where the pattern needs one.
func opsRequest(t *testing.T, baseURL string, r route) *http.Request {
	t.Helper()
	method, path, ok := strings.Cut(r.pattern, " ")
	if !ok {
		method, path = http.MethodGet, r.pattern
	}
	path = strings.ReplaceAll(path, "{$}", "")
	var body io.Reader
	switch path {
	case "/query":
		method, body = http.MethodPost, strings.NewReader(`{"query":"{ generalStatistics { mailings } }"}`)
	case "/mailings/preview/", "/mailings/preview":
		body = strings.NewReader(`{}`)
	case "/reports/":
		path = "/reports/daily/"
	case "/webhooks/", "/webhooks":
		path = "/webhooks/deliveries/"
	case "/assets/":
		path = "/assets/graphiql/graphiql.min.css"
	case "/docs/":
		path = "/docs/index.html"
	}
	require.NotContains(t, path, "{", "route %s needs a sample path in opsRequest", r.pattern)
	req, err := http.NewRequest(method, baseURL+path, body)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func opsDo(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

// authRequest makes one request with a JSON body (none when "") and an
// Authorization header (none when "") and returns its status and body.
func authRequest(t *testing.T, baseURL, method, path, body, authorization string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, baseURL+path, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, respBody := opsDo(t, req)
	return resp.StatusCode, respBody
}

// TestOpsAuthRoutes walks every route the server mounts: the API routes
// refuse a request without a token or with a wrong one (401 in their API's
// shape) and serve it with a valid one; the open ones serve it without.
// The WebSocket refuses a bad connection_init with 4403.
func TestOpsAuthRoutes(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{env: map[string]string{"API_TOKENS": opsToken + ", " + opsToken2}})

		var patterns []string
		for _, r := range b.app.routes {
			patterns = append(patterns, r.pattern)
		}
		// The mounts the README names are all in the table.
		for _, want := range []string{"/query", "GET /{$}", "GET /docs/", "GET /docs/openapi.json", "/clients/", "/mailings/",
			"/reports/", "/riverui/", "GET /metrics", "GET /healthz", "GET /readyz"} {
			require.Contains(t, patterns, want)
		}

		for _, r := range b.app.routes {
			t.Run(r.pattern, func(t *testing.T) {
				guarded := r.access == auth.API || r.access == auth.GraphQL || r.access == auth.AdminUI || r.access == auth.OperatorAPI || r.access == auth.ReadAPI || r.access == auth.OperatorReadAPI
				resp, body := opsDo(t, opsRequest(t, b.server.URL, r))
				if !guarded {
					require.Less(t, resp.StatusCode, 300, "open route without a token: %s", body)
					return
				}
				requireUnauthorized(t, r.access, resp, body)

				req := opsRequest(t, b.server.URL, r)
				req.Header.Set("Authorization", "Bearer not-"+opsToken)
				resp, body = opsDo(t, req)
				requireUnauthorized(t, r.access, resp, body)

				for _, tok := range []string{opsToken, opsToken2} {
					req = opsRequest(t, b.server.URL, r)
					req.Header.Set("Authorization", "Bearer "+tok)
					resp, body = opsDo(t, req)
					require.Less(t, resp.StatusCode, 300, "with a token: %s", body)
				}
				if r.access == auth.AdminUI {
					require.Equal(t, webui.RiverUICSP, resp.Header.Get("Content-Security-Policy"), "River's UI is a page: it gets the pages' headers")
					require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
				}
				if r.access == auth.AdminUI {
					// River's UI takes no Basic credentials: browsers replay
					// them to any site that asks.
					req = opsRequest(t, b.server.URL, r)
					req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("ops:"+opsToken)))
					resp, body = opsDo(t, req)
					requireUnauthorized(t, r.access, resp, body)
					require.NotContains(t, strings.Join(resp.Header.Values("WWW-Authenticate"), " "), "Basic")
				}
			})
		}

		t.Run("riverui API", func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, b.server.URL+"/riverui/api/jobs?state=available", nil)
			require.NoError(t, err)
			resp, _ := opsDo(t, req)
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			req.Header.Set("Authorization", "Bearer "+opsToken)
			resp, body := opsDo(t, req)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		})

		t.Run("websocket", func(t *testing.T) {
			for _, proto := range []string{"graphql-transport-ws", "graphql-ws"} {
				for name, payload := range map[string]map[string]any{
					"no token":    nil,
					"wrong token": {"authorization": "Bearer wrong"},
				} {
					code, err := opsWSInit(b.server.URL, proto, payload, nil)
					require.Error(t, err, "%s %s", proto, name)
					require.Equal(t, websocket.StatusCode(auth.CloseCodeForbidden), code, "%s %s: %v", proto, name, err)
				}
				_, err := opsWSInit(b.server.URL, proto, map[string]any{"authorization": "Bearer " + opsToken}, nil)
				require.NoError(t, err, proto)
				// A valid Authorization header on the upgrade serves too
				// (clients that can set headers).
				_, err = opsWSInit(b.server.URL, proto, nil, http.Header{"Authorization": {"Bearer " + opsToken2}})
				require.NoError(t, err, proto)
			}
		})

		t.Run("request id", func(t *testing.T) {
			req := opsRequest(t, b.server.URL, route{pattern: "GET /healthz"})
			req.Header.Set("X-Request-Id", "ops-req-42")
			resp, _ := opsDo(t, req)
			require.Equal(t, "ops-req-42", resp.Header.Get("X-Request-Id"))
			req = opsRequest(t, b.server.URL, route{pattern: "GET /healthz"})
			req.Header.Set("X-Request-Id", "bad id\twith junk")
			resp, _ = opsDo(t, req)
			require.NotEmpty(t, resp.Header.Get("X-Request-Id"))
			require.NotEqual(t, "bad id\twith junk", resp.Header.Get("X-Request-Id"))
		})

		// Tokens never reach the logs, not even the wrong ones.
		logs := b.logs.String()
		require.NotContains(t, logs, opsToken)
		require.NotContains(t, logs, opsToken2)
		require.NotContains(t, logs, "not-"+opsToken)
	})
}

// requireUnauthorized checks a 401 in the shape of the route's API.
func requireUnauthorized(t *testing.T, a auth.Access, resp *http.Response, body []byte) {
	t.Helper()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s", body)
	require.Contains(t, resp.Header.Values("WWW-Authenticate"), `Bearer realm="notify"`)
	switch a {
	case auth.GraphQL:
		var out gqlResponse
		require.NoError(t, json.Unmarshal(body, &out), "%s", body)
		require.Len(t, out.Errors, 1)
		require.Equal(t, "UNAUTHENTICATED", out.Errors[0].Extensions["code"])
	default:
		var out map[string]any
		require.NoError(t, json.Unmarshal(body, &out), "%s", body)
		require.NotEmpty(t, out["detail"])
	}
}

// opsWSMessage is a message of either GraphQL WebSocket protocol.
type opsWSMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// opsWSInit opens a GraphQL WebSocket with subprotocol proto and sends
// connection_init with payload. It returns nil once acknowledged, else the
// close code and the error that ended the connection.
func opsWSInit(serverURL, proto string, payload map[string]any, header http.Header) (websocket.StatusCode, error) {
	conn, err := opsWSDial(serverURL, proto, payload, header)
	if conn != nil {
		conn.Close(websocket.StatusNormalClosure, "")
	}
	return websocket.CloseStatus(err), err
}

func opsWSDial(serverURL, proto string, payload map[string]any, header http.Header) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(serverURL, "http")+"/query", &websocket.DialOptions{
		Subprotocols: []string{proto},
		HTTPHeader:   header,
	})
	if err != nil {
		return nil, err
	}
	init := opsWSMessage{Type: "connection_init"}
	if payload != nil {
		init.Payload, _ = json.Marshal(payload)
	}
	if err := wsjson.Write(ctx, conn, init); err != nil {
		conn.CloseNow()
		return nil, err
	}
	for {
		var m opsWSMessage
		if err := wsjson.Read(ctx, conn, &m); err != nil {
			conn.CloseNow()
			return nil, err
		}
		switch m.Type {
		case "connection_ack":
			return conn, nil
		case "connection_error", "ka":
			// The legacy protocol says why before closing; read on to the close.
		default:
			conn.CloseNow()
			return nil, fmt.Errorf("unexpected %q before connection_ack", m.Type)
		}
	}
}

// logLine is one JSON log line, decoded.
type logLine map[string]any

func (l logLine) msg() string { s, _ := l["msg"].(string); return s }
func (l logLine) int(key string) int {
	f, _ := l[key].(float64)
	return int(f)
}

// parseLogs decodes captured JSON log lines.
func parseLogs(t *testing.T, logs string) []logLine {
	t.Helper()
	var out []logLine
	for line := range strings.Lines(logs) {
		var l logLine
		require.NoError(t, json.Unmarshal([]byte(line), &l), "log line %q", line)
		out = append(out, l)
	}
	return out
}

// TestOpsLogStory runs a mailing through a flaky sender and greps the logs
// for one message that needed retries: its lines tell its whole story —
// created, each attempt with the API's answer, its final status — and every
// line about it names it, its mailing and its client. A request's lines
// carry the request id.
func TestOpsLogStory(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{
			faults:  fakesender.Faults{ErrorRate: 0.5},
			options: appOptions{engine: delivery.Config{MaxSnooze: 200 * time.Millisecond}},
		})
		b.createClients(t, 0, 20, "UTC")

		now := time.Now()
		body, err := json.Marshal(map[string]any{
			"query":     `mutation($s: Time!, $e: Time!) { createMailing(input: {startAt: $s, endAt: $e, text: "story"}) { id } }`,
			"variables": map[string]any{"s": now.Add(-time.Minute).Format(time.RFC3339), "e": now.Add(time.Hour).Format(time.RFC3339)},
		})
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodPost, b.server.URL+"/query", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Request-Id", "ops-story-1")
		resp, out := opsDo(t, req)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", out)
		var created struct {
			Data   struct{ CreateMailing struct{ ID string } }
			Errors []any
		}
		require.NoError(t, json.Unmarshal(out, &created))
		require.Empty(t, created.Errors, "%s", out)
		mailingID := mustAtoi(t, created.Data.CreateMailing.ID)
		b.waitMailing(t, created.Data.CreateMailing.ID, "FINISHED", 2*time.Minute)

		msgs := b.messages(t)
		require.Len(t, msgs, 20)
		idx := slices.IndexFunc(msgs, func(m *ent.Message) bool { return m.Attempts >= 2 && m.Status == status.Sent })
		require.GreaterOrEqual(t, idx, 0, "a message needed a retry (error rate 0.5)")
		m := msgs[idx]

		lines := parseLogs(t, b.logs.String())
		// The mutation's line carries its request id.
		require.True(t, slices.ContainsFunc(lines, func(l logLine) bool {
			return l.msg() == "mailing created" && l.int("mailing_id") == mailingID && l["request_id"] == "ops-story-1"
		}), "the mailing created line carries the request id")
		// The selection's line gives the id range of the messages it created.
		start := slices.IndexFunc(lines, func(l logLine) bool {
			return l.msg() == "recipients selected" && l.int("mailing_id") == mailingID
		})
		require.GreaterOrEqual(t, start, 0)
		require.LessOrEqual(t, lines[start].int("first_message_id"), m.ID)
		require.GreaterOrEqual(t, lines[start].int("last_message_id"), m.ID)

		// One grep of the message id.
		var story []logLine
		for _, l := range lines {
			if id, ok := l["message_id"].(float64); ok && int(id) == m.ID {
				story = append(story, l)
			}
		}
		require.NotEmpty(t, story)
		for _, l := range story {
			require.Equal(t, mailingID, l.int("mailing_id"), "line %v", l)
			require.Equal(t, *m.CustomerID, l.int("client_id"), "line %v", l)
		}
		require.Equal(t, "message created", story[0].msg(), "the story starts with the creation: %v", story)
		attempts := story[1:]
		require.Len(t, attempts, m.Attempts, "one line per attempt: %v", story)
		for i, l := range attempts {
			require.Equal(t, "message attempt", l.msg())
			require.Equal(t, i+1, l.int("attempts"))
			require.NotZero(t, l.int("http_status"), "the API's answer is logged")
			if i < len(attempts)-1 {
				require.Equal(t, "transient", l["outcome"])
				require.Equal(t, "retrying", l["status"])
				require.GreaterOrEqual(t, l.int("http_status"), 500)
				require.NotEmpty(t, l["error"])
			}
		}
		last := attempts[len(attempts)-1]
		require.Equal(t, "sent", last["status"], "the story ends with the final status")
		require.Equal(t, http.StatusOK, last.int("http_status"))
	})
}

// TestOpsShutdownUnderLoad stops the program (run, as main runs it) in the
// middle of a mailing: a live subscription is closed with 1001, the
// requests in flight finish and are recorded, nothing is lost, and the
// mailing finishes after a restart with no message sent twice.
func TestOpsShutdownUnderLoad(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		fake, fakeURL := startFake(t, fakesender.Faults{LatencyMin: 50 * time.Millisecond, LatencyMax: 150 * time.Millisecond})
		env := map[string]string{
			"DATABASE_URL":       dbURL,
			"LISTEN_ADDR":        "127.0.0.1:0",
			"SENDER_URL":         fakeURL,
			"SENDER_TOKEN":       testToken,
			"SENDER_CONCURRENCY": "8",
			"API_TOKENS":         opsToken,
			"SHUTDOWN_TIMEOUT":   "20s",
		}
		const n = 300

		first := startRun(t, env)
		var parts []string
		for i := range n {
			parts = append(parts, fmt.Sprintf(`{phone: "7%010d"}`, 9100000000+i))
		}
		first.mustGQL(t, `mutation { createClients(input: [`+strings.Join(parts, ",")+`]) { id } }`, nil, nil)
		now := time.Now()
		var created struct{ CreateMailing struct{ ID string } }
		first.mustGQL(t, `mutation($s: Time!, $e: Time!) { createMailing(input: {startAt: $s, endAt: $e, text: "hi"}) { id } }`,
			map[string]any{"s": now.Add(-time.Minute).Format(time.RFC3339), "e": now.Add(time.Hour).Format(time.RFC3339)}, &created)
		id := created.CreateMailing.ID

		conn, err := opsWSDial(first.url, "graphql-transport-ws", map[string]any{"authorization": "Bearer " + opsToken}, nil)
		require.NoError(t, err)
		defer conn.CloseNow()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		sub, _ := json.Marshal(map[string]any{"query": `subscription($id: ID!) { mailingProgress(mailingID: $id) { total } }`, "variables": map[string]any{"id": id}})
		require.NoError(t, wsjson.Write(ctx, conn, opsWSMessage{ID: "1", Type: "subscribe", Payload: sub}))
		var next opsWSMessage
		require.NoError(t, wsjson.Read(ctx, conn, &next))
		require.Equal(t, "next", next.Type, "%s", next.Payload)

		require.NoError(t, fake.WaitForAccepted(ctx, 50))
		first.stop(t)
		require.Less(t, fake.Stats().AcceptedMessages, n, "stopped mid-mailing")
		require.Contains(t, first.logs.String(), "shutting down")

		// The subscription ended with a proper close code.
		var closeErr error
		for closeErr == nil {
			var m opsWSMessage
			closeErr = wsjson.Read(ctx, conn, &m)
		}
		require.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(closeErr), "%v", closeErr)

		// Every request made was recorded: nothing lost in flight.
		db, err := database.Open(ctx, dbURL)
		require.NoError(t, err)
		stopped, err := db.Ent.Message.Query().All(ctx)
		db.Close()
		require.NoError(t, err)
		require.Len(t, stopped, n)
		sentBefore := 0
		for _, m := range stopped {
			require.Equal(t, fake.Requests(int64(m.ID)), m.Attempts, "message %d: every request made is recorded", m.ID)
			if fake.Accepted(int64(m.ID)) > 0 {
				require.Equal(t, status.Sent, m.Status, "message %d accepted before the stop is recorded sent", m.ID)
				sentBefore++
			}
		}
		require.Positive(t, sentBefore)

		// It resumes on restart and finishes, nothing sent twice.
		second := startRun(t, env)
		waitFor(t, 2*time.Minute, "mailing finished after restart", func() bool {
			var out struct{ Mailing struct{ Status string } }
			second.mustGQL(t, `query($id: ID!) { mailing(id: $id) { status } }`, map[string]any{"id": id}, &out)
			return out.Mailing.Status == "FINISHED"
		})
		var stats statisticsAnswer
		second.mustGQL(t, statisticsQuery, map[string]any{"id": id}, &stats)
		require.Equal(t, n, stats.MailingStatistics.Total)
		require.Equal(t, n, stats.counts()["SENT"])
		require.Equal(t, n, fake.Stats().AcceptedMessages)
		require.Empty(t, fake.Duplicates(), "the requests in flight at the stop finished and were recorded")
		second.stop(t)
	})
}

// runningInstance is the program started by run, as main starts it.
type runningInstance struct {
	url    string
	cancel context.CancelFunc
	done   chan struct{} // closed when run has returned, with err
	err    error
	logs   *lockedbuf.Buffer
}

// startRun starts run on env and waits until it is ready.
func startRun(t *testing.T, env map[string]string) *runningInstance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	in := &runningInstance{cancel: cancel, done: make(chan struct{}), logs: &lockedbuf.Buffer{}}
	go func() {
		in.err = run(ctx, nil, func(k string) string { return env[k] }, outW, in.logs)
		outW.Close()
		close(in.done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-in.done:
		case <-time.After(30 * time.Second):
		}
		if t.Failed() {
			t.Logf("logs of %s:\n%s", in.url, in.logs.String())
		}
	})
	in.url = listeningURL(t, outR, in.logs)
	waitReady(t, in.url, 30*time.Second)
	return in
}

// listeningURL reads the program's output until it prints where it
// listens, and returns that URL (the program's logs shown when it never
// does); the rest of the output is read and discarded.
func listeningURL(t *testing.T, out io.Reader, logs *lockedbuf.Buffer) string {
	t.Helper()
	url := ""
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if _, after, ok := strings.Cut(lines.Text(), "notify listening on "); ok {
			url = strings.Fields(after)[0]
			break
		}
	}
	require.NotEmpty(t, url, "the program prints where it listens; logs:\n%s", logs.String())
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return url
}

// waitReady waits until url's /readyz answers 200.
func waitReady(t *testing.T, url string, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, "ready", func() bool {
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// mustGQL posts an operation with the ops token; it must succeed.
func (in *runningInstance) mustGQL(t *testing.T, query string, vars map[string]any, dst any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, in.url+"/query", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+opsToken)
	resp, raw := opsDo(t, req)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	var out gqlResponse
	require.NoError(t, json.Unmarshal(raw, &out))
	require.Empty(t, out.Errors, "%s", raw)
	if dst != nil {
		require.NoError(t, json.Unmarshal(out.Data, dst))
	}
}

// stop cancels run's context (what SIGTERM does in main) and waits for a
// clean return.
func (in *runningInstance) stop(t *testing.T) {
	t.Helper()
	in.cancel()
	select {
	case <-in.done:
		require.NoError(t, in.err, "a cancelled run shuts down cleanly")
	case <-time.After(40 * time.Second):
		t.Fatal("run did not return after its context was cancelled")
	}
}

// configVars returns the environment variables config.Load reads.
func configVars(t *testing.T) map[string]bool {
	t.Helper()
	vars := map[string]bool{}
	_, err := config.Load(func(k string) string { vars[k] = true; return "" })
	require.NoError(t, err)
	require.True(t, vars["DATABASE_URL"] && vars["API_TOKENS"], "config.Load reads through getenv")
	return vars
}

// composeVar matches ${NAME}, ${NAME:-default} and ${NAME-default}.
var composeVar = regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*)(?::?-([^}]*))?\}`)

// TestOpsDeployment checks the deployment files with what this machine
// has (no Docker engine): the Dockerfile's exact go build line builds a
// binary that migrates, serves and stops cleanly on SIGTERM; compose.yaml
// and the Kubernetes manifests parse, every variable they set is one the
// binary reads and their sets load as a valid configuration, every command
// and flag exists, and the probes hit open routes of the server.
func TestOpsDeployment(t *testing.T) {
	t.Parallel()
	vars := configVars(t)
	b := setup(t, testdb.SQLite(t), setupOpts{noRiver: true})

	// isOpenRoute reports whether path is served by an open route.
	isOpenRoute := func(path string) bool {
		mux := http.NewServeMux()
		access := map[string]auth.Access{}
		for _, r := range b.app.routes {
			mux.Handle(r.pattern, http.NotFoundHandler())
			access[r.pattern] = r.access
		}
		_, pattern := mux.Handler(httptestRequest(path))
		a, ok := access[pattern]
		return ok && a == auth.Open
	}
	requireEnvLoads := func(t *testing.T, env map[string]string) {
		t.Helper()
		for k := range env {
			require.True(t, vars[k], "%s is not a variable the binary reads", k)
		}
		_, err := config.Load(func(k string) string { return env[k] })
		require.NoError(t, err, "the configuration loads")
	}

	var bin string
	t.Run("Dockerfile", func(t *testing.T) {
		raw, err := os.ReadFile("Dockerfile")
		require.NoError(t, err)
		text := strings.ReplaceAll(string(raw), "\\\n", " ")
		var froms []string
		var buildLine, user string
		for line := range strings.Lines(text) {
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			switch f[0] {
			case "FROM":
				froms = append(froms, f[1])
			case "USER":
				user = f[1]
			case "RUN":
				if strings.Contains(line, " go build ") {
					buildLine = line
				}
			}
		}
		require.GreaterOrEqual(t, len(froms), 2, "multi-stage")
		final := froms[len(froms)-1]
		require.True(t, strings.HasPrefix(final, "gcr.io/distroless/static") || final == "scratch", "final stage %s", final)
		require.NotEmpty(t, user)
		require.NotContains(t, []string{"root", "0", "0:0"}, user, "non-root")

		// The exact build line, with the output moved to a temp dir.
		words := shellWords(t, buildLine)
		var envs []string
		i := 1 // after RUN
		for ; i < len(words) && strings.HasPrefix(words[i], "--"); i++ {
		}
		for ; i < len(words) && strings.Contains(words[i], "="); i++ {
			envs = append(envs, words[i])
		}
		require.Contains(t, envs, "CGO_ENABLED=0", "a static binary")
		args := words[i:]
		require.Equal(t, []string{"go", "build"}, args[:2])
		o := slices.Index(args, "-o")
		require.Positive(t, o)
		bin = filepath.Join(t.TempDir(), "notify")
		args[o+1] = bin
		if testing.Short() {
			t.Skip("building the image's binary: not in -short")
		}
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), envs...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s: %s", strings.Join(args, " "), out)

		// It migrates, serves, and stops on SIGTERM.
		db := "sqlite:" + filepath.Join(t.TempDir(), "notify.db")
		cmd = exec.Command(bin, "migrate")
		cmd.Env = []string{"DATABASE_URL=" + db, "LOG_FORMAT=text"}
		out, err = cmd.CombinedOutput()
		require.NoError(t, err, "migrate: %s", out)

		cmd = exec.Command(bin, "serve")
		cmd.Env = []string{"DATABASE_URL=" + db, "LISTEN_ADDR=127.0.0.1:0", "MIGRATE_ON_START=false", "SHUTDOWN_TIMEOUT=10s"}
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr lockedbuf.Buffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		url := listeningURL(t, stdout, &stderr)
		waitReady(t, url, 20*time.Second)
		resp, err := http.Get(url + "/metrics")
		require.NoError(t, err)
		metrics, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Contains(t, string(metrics), "notify_messages{status=\"queued\"} 0")

		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		require.NoError(t, cmd.Wait(), "exit status after SIGTERM; stderr: %s", stderr.String())
		require.Contains(t, stderr.String(), "shutting down")
	})

	// checkCommand checks a container command: a command of the binary,
	// and for the fake sender flags the real binary accepts.
	checkCommand := func(t *testing.T, args []string) {
		t.Helper()
		require.NotEmpty(t, args)
		require.Contains(t, []string{"serve", "migrate", "fakesender"}, args[0])
		if args[0] == "fakesender" {
			var stderr bytes.Buffer
			err := run(context.Background(), append(slices.Clone(args), "-h"), os.Getenv, io.Discard, &stderr)
			require.NoError(t, err, "fakesender flags %v: %s", args[1:], stderr.String())
		}
	}

	t.Run("compose", func(t *testing.T) {
		raw, err := os.ReadFile("compose.yaml")
		require.NoError(t, err)
		var doc struct {
			Services map[string]struct {
				Image       string            `yaml:"image"`
				Command     []string          `yaml:"command"`
				Environment map[string]string `yaml:"environment"`
				DependsOn   map[string]any    `yaml:"depends_on"`
			} `yaml:"services"`
		}
		require.NoError(t, yaml.Unmarshal(raw, &doc))
		svc := doc.Services
		require.Contains(t, svc, "postgres")
		require.Contains(t, svc["mailpit"].Image, "mailpit", "a mail catcher")
		for _, name := range []string{"migrate", "fakesender", "notify"} {
			require.Equal(t, "notify:local", svc[name].Image, "%s runs the image built from the Dockerfile", name)
		}
		var fakePort string
		for name, s := range svc {
			if s.Image != "notify:local" {
				continue
			}
			checkCommand(t, s.Command)
			if s.Command[0] == "fakesender" {
				for _, a := range s.Command {
					if v, ok := strings.CutPrefix(a, "-addr="); ok {
						_, fakePort, _ = strings.Cut(v, ":")
					}
				}
				continue
			}
			env := map[string]string{}
			for k, v := range s.Environment {
				env[k] = composeVar.ReplaceAllString(v, "$2")
			}
			t.Run(name, func(t *testing.T) { requireEnvLoads(t, env) })
		}
		notify := svc["notify"]
		require.Equal(t, []string{"serve"}, notify.Command)
		require.Equal(t, "false", notify.Environment["MIGRATE_ON_START"])
		require.Contains(t, notify.DependsOn, "migrate")
		require.Equal(t, "http://fakesender:"+fakePort, notify.Environment["SENDER_URL"])
		require.True(t, strings.HasPrefix(notify.Environment["SMTP_URL"], "smtp://mailpit:"))
	})

	t.Run("kubernetes", func(t *testing.T) {
		type envVar struct {
			Name  string `yaml:"name"`
			Value string `yaml:"value"`
		}
		type probe struct {
			HTTPGet struct {
				Path string `yaml:"path"`
				Port any    `yaml:"port"`
			} `yaml:"httpGet"`
		}
		type container struct {
			Image   string   `yaml:"image"`
			Command []string `yaml:"command"`
			Args    []string `yaml:"args"`
			Env     []envVar `yaml:"env"`
			EnvFrom []struct {
				ConfigMapRef *struct{ Name string } `yaml:"configMapRef"`
				SecretRef    *struct{ Name string } `yaml:"secretRef"`
			} `yaml:"envFrom"`
			Ports []struct {
				Name          string `yaml:"name"`
				ContainerPort int    `yaml:"containerPort"`
			} `yaml:"ports"`
			StartupProbe   *probe `yaml:"startupProbe"`
			LivenessProbe  *probe `yaml:"livenessProbe"`
			ReadinessProbe *probe `yaml:"readinessProbe"`
		}
		type podSpec struct {
			SecurityContext struct {
				RunAsNonRoot bool `yaml:"runAsNonRoot"`
			} `yaml:"securityContext"`
			Containers []container `yaml:"containers"`
		}
		type object struct {
			Kind     string `yaml:"kind"`
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
			Data            map[string]string `yaml:"data"`
			StringData      map[string]string `yaml:"stringData"`
			Resources       []string          `yaml:"resources"`
			SecretGenerator []struct {
				Name string   `yaml:"name"`
				Envs []string `yaml:"envs"`
			} `yaml:"secretGenerator"`
			Images []struct {
				Name   string `yaml:"name"`
				NewTag string `yaml:"newTag"`
				Digest string `yaml:"digest"`
			} `yaml:"images"`
			Spec struct {
				Replicas int `yaml:"replicas"`
				Template struct {
					Spec podSpec `yaml:"spec"`
				} `yaml:"template"`
				Ports []struct {
					TargetPort any `yaml:"targetPort"`
				} `yaml:"ports"`
			} `yaml:"spec"`
		}

		files, err := filepath.Glob("deploy/*.yaml")
		require.NoError(t, err)
		objects := map[string]object{} // kind/name
		var kustomization object
		for _, f := range files {
			raw, err := os.ReadFile(f)
			require.NoError(t, err)
			dec := yaml.NewDecoder(bytes.NewReader(raw))
			for {
				var o object
				err := dec.Decode(&o)
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(t, err, f)
				require.NotEmpty(t, o.Kind, f)
				if o.Kind == "Kustomization" {
					kustomization = o
					continue
				}
				objects[o.Kind+"/"+o.Metadata.Name] = o
			}
		}
		// Every manifest is in the kustomization, and every resource exists.
		for _, f := range files {
			if filepath.Base(f) != "kustomization.yaml" {
				require.Contains(t, kustomization.Resources, filepath.Base(f))
			}
		}
		for _, r := range kustomization.Resources {
			require.FileExists(t, filepath.Join("deploy", r))
		}

		cm, ok := objects["ConfigMap/notify-config"]
		require.True(t, ok)
		require.Equal(t, "true", cm.Data["AUTH_REQUIRED"], "the deployment fails closed")

		// No Secret is committed: kustomize generates it from a file git
		// and Docker ignore, whose keys the committed example lists.
		for key := range objects {
			require.False(t, strings.HasPrefix(key, "Secret/"), "a committed Secret: %s", key)
		}
		require.Len(t, kustomization.SecretGenerator, 1)
		gen := kustomization.SecretGenerator[0]
		require.Equal(t, "notify-secrets", gen.Name)
		require.Equal(t, []string{"secrets.env"}, gen.Envs)
		require.NoError(t, exec.Command("git", "check-ignore", "-q", "deploy/secrets.env").Run(), "git ignores deploy/secrets.env")
		require.NoError(t, exec.Command("git", "check-ignore", "-q", ".env").Run(), "git ignores .env")
		dockerignore, err := os.ReadFile(".dockerignore")
		require.NoError(t, err)
		require.Contains(t, strings.Fields(string(dockerignore)), ".env")
		require.Contains(t, strings.Fields(string(dockerignore)), "*.env")
		example, err := os.ReadFile("deploy/secrets.env.example")
		require.NoError(t, err)
		secret := object{StringData: map[string]string{}}
		// Values a test fills in for the example's keys.
		sample := map[string]string{
			"DATABASE_URL":   "postgres://notify:pw@db:5432/notify?sslmode=require",
			"API_TOKENS":     opsToken,
			"SMTP_URL":       "smtp://notify:pw@smtp.example.com:587",
			"SENDER_TOKEN":   "sender-token",
			"WEBHOOK_SECRET": testWebhookSecret,
		}
		for _, line := range strings.Split(string(example), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
				require.Empty(t, v, "the example holds no value for %s", k)
				require.Contains(t, sample, k)
				secret.StringData[k] = sample[k]
			}
		}
		require.Len(t, secret.StringData, len(sample))

		// Images are pinned by version or digest.
		require.Len(t, kustomization.Images, 1)
		require.True(t, kustomization.Images[0].Digest != "" || regexp.MustCompile(`^v?\d+\.\d+\.\d+$`).MatchString(kustomization.Images[0].NewTag), "%+v", kustomization.Images[0])
		envOf := func(t *testing.T, c container) map[string]string {
			env := map[string]string{}
			for _, from := range c.EnvFrom {
				switch {
				case from.ConfigMapRef != nil:
					require.Equal(t, "notify-config", from.ConfigMapRef.Name)
					for k, v := range cm.Data {
						env[k] = v
					}
				case from.SecretRef != nil:
					require.Equal(t, "notify-secrets", from.SecretRef.Name)
					for k, v := range secret.StringData {
						env[k] = v
					}
				}
			}
			for _, e := range c.Env {
				env[e.Name] = e.Value
			}
			return env
		}

		dep, ok := objects["Deployment/notify"]
		require.True(t, ok)
		require.GreaterOrEqual(t, dep.Spec.Replicas, 2, "several replicas")
		require.True(t, dep.Spec.Template.Spec.SecurityContext.RunAsNonRoot)
		require.Len(t, dep.Spec.Template.Spec.Containers, 1)
		c := dep.Spec.Template.Spec.Containers[0]
		require.Empty(t, c.Command, "the image's entrypoint is the binary")
		checkCommand(t, c.Args)
		require.Equal(t, "serve", c.Args[0])
		env := envOf(t, c)
		requireEnvLoads(t, env)
		require.Equal(t, "false", env["MIGRATE_ON_START"], "the Job migrates")
		require.Len(t, c.Ports, 1)
		_, port, _ := strings.Cut(env["LISTEN_ADDR"], ":")
		require.Equal(t, strconv.Itoa(c.Ports[0].ContainerPort), port, "LISTEN_ADDR matches the container port")
		for name, p := range map[string]*probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
			require.NotNil(t, p, name)
			require.True(t, isOpenRoute(p.HTTPGet.Path), "%s probe %s is an open route", name, p.HTTPGet.Path)
			require.Equal(t, c.Ports[0].Name, p.HTTPGet.Port, "%s probe port", name)
		}
		require.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)

		svc, ok := objects["Service/notify"]
		require.True(t, ok)
		require.Equal(t, c.Ports[0].Name, svc.Spec.Ports[0].TargetPort)

		job, ok := objects["Job/notify-migrate"]
		require.True(t, ok, "a migration Job")
		jc := job.Spec.Template.Spec.Containers[0]
		require.Equal(t, c.Image, jc.Image)
		require.NotContains(t, c.Image, ":latest")
		require.Equal(t, []string{"migrate"}, jc.Args)
		requireEnvLoads(t, envOf(t, jc))
	})
}

// httptestRequest is a GET of path, for ServeMux.Handler.
func httptestRequest(path string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://notify"+path, nil)
	return r
}

// shellWords splits a RUN line as sh would for the simple quoting a
// Dockerfile build line uses (double quotes, no escapes inside).
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var (
		words  []string
		cur    strings.Builder
		quoted bool
		inWord bool
	)
	for _, r := range line {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case (r == ' ' || r == '\t' || r == '\n') && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	require.False(t, quoted, "unbalanced quotes in %q", line)
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// TestMetricsEndpoint scrapes /metrics (behind the token with METRICS_AUTH)
// after a mailing with retries: every metric the README documents is there,
// with the figures of the run.
func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{
			env:     map[string]string{"API_TOKENS": opsToken, "METRICS_AUTH": "true"},
			faults:  fakesender.Faults{ErrorRate: 0.3},
			options: appOptions{engine: delivery.Config{MaxSnooze: 200 * time.Millisecond}},
		})
		gql := func(query string, vars map[string]any, dst any) {
			t.Helper()
			body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
			require.NoError(t, err)
			req, err := http.NewRequest(http.MethodPost, b.server.URL+"/query", bytes.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+opsToken)
			_, raw := opsDo(t, req)
			var out gqlResponse
			require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
			require.Empty(t, out.Errors, "%s", raw)
			if dst != nil {
				require.NoError(t, json.Unmarshal(out.Data, dst))
			}
		}
		var parts []string
		for i := range 30 {
			parts = append(parts, fmt.Sprintf(`{phone: "7%010d"}`, 9200000000+i))
		}
		gql(`mutation { createClients(input: [`+strings.Join(parts, ",")+`]) { id } }`, nil, nil)

		// A live subscription shows in the gauge.
		conn, err := opsWSDial(b.server.URL, "graphql-transport-ws", map[string]any{"authorization": "Bearer " + opsToken}, nil)
		require.NoError(t, err)
		defer conn.CloseNow()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		sub, _ := json.Marshal(map[string]any{"query": `subscription { messageStatusChanged { messageID } }`})
		require.NoError(t, wsjson.Write(ctx, conn, opsWSMessage{ID: "1", Type: "subscribe", Payload: sub}))
		waitFor(t, 10*time.Second, "subscriber", func() bool { return b.app.events.Stats().MessageSubscribers == 1 })

		now := time.Now()
		var created struct{ CreateMailing struct{ ID string } }
		gql(`mutation($s: Time!, $e: Time!) { createMailing(input: {startAt: $s, endAt: $e, text: "m"}) { id } }`,
			map[string]any{"s": now.Add(-time.Minute).Format(time.RFC3339), "e": now.Add(time.Hour).Format(time.RFC3339)}, &created)
		waitFor(t, 2*time.Minute, "mailing finished", func() bool {
			var out struct{ Mailing struct{ Status string } }
			gql(`query($id: ID!) { mailing(id: $id) { status } }`, map[string]any{"id": created.CreateMailing.ID}, &out)
			return out.Mailing.Status == "FINISHED"
		})

		req, err := http.NewRequest(http.MethodGet, b.server.URL+"/metrics", nil)
		require.NoError(t, err)
		resp, body := opsDo(t, req)
		requireUnauthorized(t, auth.API, resp, body)
		req.Header.Set("Authorization", "Bearer "+opsToken)
		resp, body = opsDo(t, req)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		text := string(body)

		retried := 0
		for _, m := range b.messages(t) {
			retried += m.Attempts - 1
		}
		require.Positive(t, retried, "error rate 0.3: some retries")
		for _, want := range []string{
			`notify_messages{status="sent"} 30`,
			`notify_messages{status="queued"} 0`,
			`notify_sender_requests_total{code="200",outcome="sent"} 30`,
			`notify_sender_request_duration_seconds_count{outcome="sent"} 30`,
			`notify_sender_request_duration_seconds_bucket{outcome="transient",le="+Inf"}`,
			`notify_sender_circuit_state 0`,
			`notify_message_status_changes_total{status="sent"} 30`,
			fmt.Sprintf("notify_message_retries_total %d", retried),
			`notify_river_jobs{queue="send",state="available"}`,
			`notify_river_jobs{queue="default",state="scheduled"}`,
			`notify_graphql_subscriptions{kind="message_status"} 1`,
			`notify_graphql_subscriptions{kind="mailing_progress"} 0`,
			`notify_http_request_duration_seconds_count{code="200",method="POST",route="/query"}`,
			`notify_http_request_duration_seconds_count{code="401",method="GET",route="GET /metrics"} 1`,
			`notify_graphql_operation_duration_seconds_count{field="createMailing",operation="mutation",result="ok"} 1`,
			`go_goroutines `,
			`process_resident_memory_bytes `,
		} {
			require.Contains(t, text, want)
		}
	})
}
