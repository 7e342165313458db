package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/auth"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/lockedbuf"
	"github.com/notifyhq/notify/internal/testdb"
)

// lockToken is the API token of the lock-down tests.
const lockToken = "lockdown-token-8c1f5e2a"

// outcome is what a transport made of one operation: the HTTP status (0
// for a WebSocket), the WebSocket close code when the socket was closed
// instead, the first error's extensions.code, and the data.
type outcome struct {
	status    int
	closeCode websocket.StatusCode
	code      string
	data      json.RawMessage
}

func (o outcome) String() string {
	return fmt.Sprintf("status=%d close=%d code=%q data=%s", o.status, o.closeCode, o.code, o.data)
}

// refused reports whether the outcome is a refusal for want of credentials.
func (o outcome) refused() bool {
	return o.status == http.StatusUnauthorized || o.closeCode == auth.CloseCodeForbidden || o.code == "UNAUTHENTICATED"
}

// ok reports whether the operation ran and answered data.
func (o outcome) ok() bool {
	return o.code == "" && len(o.data) > 0 && string(o.data) != "null" && o.status < 300 && o.closeCode == 0
}

// firstResponse decodes a GraphQL response into an outcome.
func firstResponse(status int, body []byte) outcome {
	o := outcome{status: status}
	var r gqlResponse
	if json.Unmarshal(body, &r) != nil {
		o.code = "NOT_JSON"
		return o
	}
	o.data = r.Data
	if len(r.Errors) > 0 {
		o.code, _ = r.Errors[0].Extensions["code"].(string)
		if o.code == "" {
			o.code = "ERROR: " + r.Errors[0].Message
		}
	}
	return o
}

// lockTransport runs one operation over one transport with an
// Authorization value ("" for none).
type lockTransport func(t *testing.T, baseURL, authorization, query string) outcome

func lockPOST(t *testing.T, baseURL, authorization, query string) outcome {
	body, _ := json.Marshal(map[string]any{"query": query})
	req, err := http.NewRequest(http.MethodPost, baseURL+"/query", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, respBody := opsDo(t, req)
	return firstResponse(resp.StatusCode, respBody)
}

func lockGET(t *testing.T, baseURL, authorization, query string) outcome {
	req, err := http.NewRequest(http.MethodGet, baseURL+"/query?query="+url.QueryEscape(query), nil)
	require.NoError(t, err)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, respBody := opsDo(t, req)
	return firstResponse(resp.StatusCode, respBody)
}

// lockSSE posts the operation asking for an event stream; extra headers
// (the Upgrade of the original exploit) are added. It returns the first
// event's response.
func lockSSE(extra http.Header) lockTransport {
	return func(t *testing.T, baseURL, authorization, query string) outcome {
		body, _ := json.Marshal(map[string]any{"query": query})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/query", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		for k, v := range extra {
			req.Header[k] = v
		}
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			return firstResponse(resp.StatusCode, b)
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				return firstResponse(resp.StatusCode, []byte(data))
			}
		}
		t.Fatalf("SSE stream ended without an event: %v", sc.Err())
		return outcome{}
	}
}

// lockWS opens a WebSocket of subprotocol proto with the Authorization in
// connection_init, runs the operation and returns its first response, or
// the close code when the socket was refused.
func lockWS(proto string) lockTransport {
	return func(t *testing.T, baseURL, authorization, query string) outcome {
		var payload map[string]any
		if authorization != "" {
			payload = map[string]any{"authorization": authorization}
		}
		conn, err := opsWSDial(baseURL, proto, payload, nil)
		if err != nil {
			code := websocket.CloseStatus(err)
			require.NotEqual(t, websocket.StatusCode(-1), code, "not a close: %v", err)
			return outcome{closeCode: code}
		}
		defer conn.CloseNow()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start, next := "subscribe", "next"
		if proto == "graphql-ws" {
			start, next = "start", "data"
		}
		payloadJSON, _ := json.Marshal(map[string]any{"query": query})
		require.NoError(t, wsjson.Write(ctx, conn, opsWSMessage{ID: "1", Type: start, Payload: payloadJSON}))
		for {
			var m opsWSMessage
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				return outcome{closeCode: websocket.CloseStatus(err)}
			}
			switch m.Type {
			case next:
				return firstResponse(0, m.Payload)
			case "error":
				var errs []struct {
					Extensions map[string]any `json:"extensions"`
				}
				if json.Unmarshal(m.Payload, &errs) != nil {
					var one struct {
						Extensions map[string]any `json:"extensions"`
					}
					require.NoError(t, json.Unmarshal(m.Payload, &one), "%s", m.Payload)
					errs = append(errs, one)
				}
				o := outcome{code: "ERROR"}
				if len(errs) > 0 {
					if c, ok := errs[0].Extensions["code"].(string); ok {
						o.code = c
					}
				}
				return o
			case "ka", "ping", "pong":
			default:
				t.Fatalf("unexpected %s message %s", m.Type, m.Payload)
			}
		}
	}
}

// TestLockdownEveryTransport: with API_TOKENS set, no transport runs an
// operation without a valid token — POST, GET, SSE (whatever headers it
// carries), graphql-transport-ws and legacy graphql-ws — for queries,
// mutations and subscriptions alike; with one, each runs what its
// transport can run. REST and River's UI follow the same rule. The same
// table runs against the GraphQL handler without the HTTP guard in front:
// the check where operations are created refuses them by itself.
func TestLockdownEveryTransport(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{env: map[string]string{"API_TOKENS": lockToken}})
		right := "Bearer " + lockToken

		// A mailing whose progress the subscriptions watch.
		var created struct{ CreateMailing struct{ ID string } }
		require.Equal(t, "", lockPOST(t, b.server.URL, right, "{ generalStatistics { mailings } }").code)
		body, _ := json.Marshal(map[string]any{"query": `mutation { createMailing(input: {startAt: "2030-01-01T00:00:00Z", endAt: "2030-01-02T00:00:00Z", text: "hi", filter: {tags: ["lock"]}}) { id } }`})
		req, _ := http.NewRequest(http.MethodPost, b.server.URL+"/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", right)
		_, respBody := opsDo(t, req)
		var r gqlResponse
		require.NoError(t, json.Unmarshal(respBody, &r), "%s", respBody)
		require.Empty(t, r.Errors)
		require.NoError(t, json.Unmarshal(r.Data, &created))

		var phone atomic.Int64
		phone.Store(79000000000)
		ops := map[string]func() string{
			"query": func() string { return "{ generalStatistics { mailings } }" },
			"mutation": func() string {
				return fmt.Sprintf(`mutation { createClient(input: {phone: "%d", tag: "lock", timezone: "UTC"}) { id } }`, phone.Add(1))
			},
			"subscription": func() string {
				return fmt.Sprintf(`subscription { mailingProgress(mailingID: "%s") { total } }`, created.CreateMailing.ID)
			},
		}
		transports := map[string]lockTransport{
			"POST":                 lockPOST,
			"GET":                  lockGET,
			"SSE":                  lockSSE(nil),
			"SSE+Upgrade":          lockSSE(http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}}),
			"graphql-transport-ws": lockWS("graphql-transport-ws"),
			"graphql-ws":           lockWS("graphql-ws"),
		}
		// What each transport runs with a valid token; the others answer
		// an error that is not about credentials.
		runs := map[string]map[string]bool{
			"POST":                 {"query": true, "mutation": true, "subscription": true}, // its first response
			"GET":                  {"query": true},
			"SSE":                  {"query": true, "mutation": true, "subscription": true},
			"SSE+Upgrade":          {}, // no transport takes a POST that says Upgrade: 400
			"graphql-transport-ws": {"query": true, "mutation": true, "subscription": true},
			"graphql-ws":           {"query": true, "mutation": true, "subscription": true},
		}
		clientsCreated := 0
		check := func(t *testing.T, baseURL string, guarded bool) {
			for tname, tr := range transports {
				for oname, op := range ops {
					for cname, authorization := range map[string]string{"no token": "", "wrong token": "Bearer not-" + lockToken, "right token": right} {
						t.Run(tname+"/"+oname+"/"+cname, func(t *testing.T) {
							got := tr(t, baseURL, authorization, op())
							require.Less(t, got.status, 500, "%s", got)
							if cname != "right token" {
								require.True(t, got.refused(), "%s", got)
								if guarded && got.closeCode == 0 {
									require.Equal(t, http.StatusUnauthorized, got.status, "the HTTP guard answers first: %s", got)
								}
								return
							}
							require.False(t, got.refused(), "%s", got)
							if runs[tname][oname] {
								require.True(t, got.ok(), "%s", got)
								if oname == "mutation" {
									clientsCreated++
								}
							} else {
								require.False(t, got.ok(), "%s runs no %s: %s", tname, oname, got)
							}
						})
					}
				}
			}
		}
		t.Run("guarded", func(t *testing.T) { check(t, b.server.URL, true) })

		// The GraphQL handler on its own, without the HTTP guard: what a
		// transport mounted elsewhere would get.
		var gql http.Handler
		for _, r := range b.app.routes {
			if r.pattern == "/query" {
				gql = r.handler
			}
		}
		require.NotNil(t, gql)
		bare := httptest.NewServer(gql)
		t.Cleanup(bare.Close)
		t.Run("unguarded handler", func(t *testing.T) {
			for tname, tr := range transports {
				for oname, op := range ops {
					for cname, authorization := range map[string]string{"no token": "", "wrong token": "Bearer not-" + lockToken} {
						t.Run(tname+"/"+oname+"/"+cname, func(t *testing.T) {
							got := tr(t, bare.URL, authorization, op())
							require.Less(t, got.status, 500, "%s", got)
							require.False(t, got.ok(), "%s", got)
							if len(runs[tname]) > 0 {
								require.True(t, got.refused(), "%s", got)
							}
						})
					}
				}
			}
		})

		// Only the mutations with the right token created clients.
		var count struct{ Clients struct{ TotalCount int } }
		body, _ = json.Marshal(map[string]any{"query": "{ clients { totalCount } }"})
		req, _ = http.NewRequest(http.MethodPost, b.server.URL+"/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", right)
		_, respBody = opsDo(t, req)
		require.NoError(t, json.Unmarshal(respBody, &r))
		require.NoError(t, json.Unmarshal(r.Data, &count))
		require.Equal(t, clientsCreated, count.Clients.TotalCount)
		require.Positive(t, clientsCreated)

		t.Run("REST and River's UI", func(t *testing.T) {
			for _, c := range []struct{ method, path, body string }{
				{http.MethodGet, "/clients/", ""},
				{http.MethodPost, "/clients/", `{"phone": "79001110000", "tag": "lock", "timezone": "UTC"}`},
				{http.MethodGet, "/mailings/general_statistics/", ""},
				{http.MethodGet, "/riverui/api/jobs?state=available", ""},
			} {
				for cname, authorization := range map[string]string{"no token": "", "wrong token": "Bearer not-" + lockToken, "right token": right} {
					t.Run(c.method+" "+c.path+"/"+cname, func(t *testing.T) {
						code, respBody := authRequest(t, b.server.URL, c.method, c.path, c.body, authorization)
						if cname == "right token" {
							require.Less(t, code, 300, "%s", respBody)
						} else {
							require.Equal(t, http.StatusUnauthorized, code, "%s", respBody)
						}
					})
				}
			}
		})
	})
}

// TestWebsocketSubscriptionIDs: a subscribe that reuses the id of a live
// subscription closes the socket with 4409 (as graphql-transport-ws says,
// and the same on the legacy protocol); a socket holds at most 100 live
// subscriptions, the next one is refused with an error for its id, and a
// completed one frees its place.
func TestWebsocketSubscriptionIDs(t *testing.T) {
	t.Parallel()
	b := setup(t, testdb.SQLite(t), setupOpts{})
	var created struct{ CreateMailing struct{ ID string } }
	b.mustGQL(t, `mutation { createMailing(input: {startAt: "2030-01-01T00:00:00Z", endAt: "2030-01-02T00:00:00Z", text: "hi", filter: {tags: ["ids"]}}) { id } }`, nil, &created)
	query, _ := json.Marshal(map[string]any{"query": fmt.Sprintf(`subscription { mailingProgress(mailingID: "%s") { total } }`, created.CreateMailing.ID)})

	for _, proto := range []string{"graphql-transport-ws", "graphql-ws"} {
		start, next, stop := "subscribe", "next", "complete"
		if proto == "graphql-ws" {
			start, next, stop = "start", "data", "stop"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// read returns the next message that is not a keep-alive.
		read := func(conn *websocket.Conn) (opsWSMessage, error) {
			for {
				var m opsWSMessage
				if err := wsjson.Read(ctx, conn, &m); err != nil {
					return m, err
				}
				if m.Type != "ka" && m.Type != "ping" && m.Type != "pong" {
					return m, nil
				}
			}
		}
		subscribe := func(conn *websocket.Conn, id string) {
			require.NoError(t, wsjson.Write(ctx, conn, opsWSMessage{ID: id, Type: start, Payload: query}))
		}

		t.Run(proto+"/reused id", func(t *testing.T) {
			conn, err := opsWSDial(b.server.URL, proto, nil, nil)
			require.NoError(t, err)
			defer conn.CloseNow()
			subscribe(conn, "a")
			m, err := read(conn)
			require.NoError(t, err)
			require.Equal(t, next, m.Type, "%s", m.Payload)
			subscribe(conn, "a")
			for err == nil {
				_, err = read(conn)
			}
			require.Equal(t, websocket.StatusCode(4409), websocket.CloseStatus(err), "%v", err)
		})

		t.Run(proto+"/at most 100", func(t *testing.T) {
			conn, err := opsWSDial(b.server.URL, proto, nil, nil)
			require.NoError(t, err)
			defer conn.CloseNow()
			for i := range 100 {
				subscribe(conn, fmt.Sprint("s", i))
			}
			seen := map[string]bool{}
			for len(seen) < 100 {
				m, err := read(conn)
				require.NoError(t, err)
				require.Equal(t, next, m.Type, "%s", m.Payload)
				seen[m.ID] = true
			}
			subscribe(conn, "s100")
			m, err := read(conn)
			require.NoError(t, err)
			for m.Type == next && m.ID != "s100" { // progress of the others may come first
				m, err = read(conn)
				require.NoError(t, err)
			}
			require.Equal(t, "error", m.Type)
			require.Equal(t, "s100", m.ID)
			require.Contains(t, string(m.Payload), "TOO_MANY_SUBSCRIPTIONS")

			require.NoError(t, wsjson.Write(ctx, conn, opsWSMessage{ID: "s0", Type: stop}))
			subscribe(conn, "s100")
			for {
				m, err = read(conn)
				require.NoError(t, err)
				if m.ID == "s100" {
					break
				}
			}
			require.Equal(t, next, m.Type, "a completed subscription frees its place: %s", m.Payload)
		})
	}
}

// TestHTTPServerTimeouts: a client trickling a request is cut at the read
// timeout, while a WebSocket (which takes the connection over) outlives it.
// The timeouts are the service's; the test shortens ReadTimeout to see it act.
func TestHTTPServerTimeouts(t *testing.T) {
	t.Parallel()
	b := setup(t, testdb.SQLite(t), setupOpts{})
	srv := newHTTPServer(b.app.handler)
	require.Equal(t, 60*time.Second, srv.ReadTimeout)
	require.Equal(t, 120*time.Second, srv.IdleTimeout)
	require.Zero(t, srv.WriteTimeout, "SSE streams have no write deadline")

	srv.ReadTimeout = 300 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	base := "http://" + ln.Addr().String()

	// A body announced and never finished: the server hangs up.
	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"query\":")
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = io.ReadAll(conn) // returns when the server closes the connection
	require.NoError(t, err, "the server closed the connection, the client did not time out")

	// A WebSocket stays open past the read timeout.
	ws, err := opsWSDial(base, "graphql-transport-ws", nil, nil)
	require.NoError(t, err)
	defer ws.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	timer := time.NewTimer(3 * srv.ReadTimeout)
	<-timer.C // outlive the read timeout: the waiting is the test
	require.NoError(t, wsjson.Write(ctx, ws, opsWSMessage{ID: "1", Type: "subscribe", Payload: json.RawMessage(`{"query": "{ __typename }"}`)}))
	var m opsWSMessage
	require.NoError(t, wsjson.Read(ctx, ws, &m), "the WebSocket outlives ReadTimeout")
	require.Equal(t, "next", m.Type, "%s", m.Payload)
}

// TestOperationDeadline: queries and mutations get OPERATION_TIMEOUT; past
// it they fail with TIMEOUT (on Postgres the API's pool also has the
// statement timeout). The engine's work is not cut: a mailing created
// through the engine's domain service is sent.
func TestOperationDeadline(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{env: map[string]string{"OPERATION_TIMEOUT": "1ns"}})
		body, _ := json.Marshal(map[string]any{"query": `{ clients { totalCount } }`})
		httpResp, err := http.Post(b.server.URL+"/query", "application/json", bytes.NewReader(body))
		require.NoError(t, err)
		raw, _ := io.ReadAll(httpResp.Body)
		httpResp.Body.Close()
		t.Logf("%d %s", httpResp.StatusCode, raw)
		var resp gqlResponse
		require.NoError(t, json.Unmarshal(raw, &resp))
		requireCode(t, resp, "TIMEOUT")

		ctx := context.Background()
		tag, utc := "deadline", "UTC"
		_, err = b.app.work.CreateClients(ctx, []campaign.ClientInput{{Phone: "79005550001", Tag: &tag, Timezone: &utc}, {Phone: "79005550002", Tag: &tag, Timezone: &utc}})
		require.NoError(t, err)
		now := time.Now()
		m, err := b.app.work.CreateMailing(ctx, campaign.MailingInput{StartAt: now.Add(-time.Minute), EndAt: now.Add(time.Hour), Text: "hi", Filter: campaign.Filter{Tags: []string{tag}}})
		require.NoError(t, err)
		waitFor(t, 30*time.Second, "the mailing to finish", func() bool {
			got, err := b.app.db.Ent.Mailing.Get(ctx, m.ID)
			return err == nil && string(got.Status) == "finished"
		})
	})
}

// TestWhatLeavesTheProcess: /readyz tells an anonymous caller only "not
// ready" (the cause goes to the log); a start-up error never prints the
// password of DATABASE_URL; SENDER_URL without SENDER_TOKEN warns.
func TestWhatLeavesTheProcess(t *testing.T) {
	t.Parallel()
	t.Run("readyz", func(t *testing.T) {
		t.Parallel()
		b := setup(t, testdb.SQLite(t), setupOpts{noRiver: true, env: map[string]string{"SENDER_TOKEN": ""}})
		resp, body := opsDo(t, opsRequest(t, b.server.URL, route{pattern: "GET /readyz"}))
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		require.NoError(t, b.app.db.SQL.Close()) // the database goes away
		resp, body = opsDo(t, opsRequest(t, b.server.URL, route{pattern: "GET /readyz"}))
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		require.Equal(t, "not ready\n", string(body))
		require.Contains(t, b.logs.String(), "database unreachable", "the cause is logged")
		require.Contains(t, b.logs.String(), "SENDER_URL is set without SENDER_TOKEN")
	})
	t.Run("database password", func(t *testing.T) {
		t.Parallel()
		var stderr lockedbuf.Buffer
		env := map[string]string{
			"DATABASE_URL": "postgres://notify:hunter2-secret@127.0.0.1:1/notify?sslmode=disable&connect_timeout=2",
			"LISTEN_ADDR":  "127.0.0.1:0",
		}
		err := run(context.Background(), nil, func(k string) string { return env[k] }, io.Discard, &stderr)
		require.Error(t, err)
		require.NotContains(t, err.Error(), "hunter2")
		require.NotContains(t, stderr.String(), "hunter2")

		env["DATABASE_URL"] = "postgres://notify:hunter2-secret@[::1/notify"
		err = run(context.Background(), nil, func(k string) string { return env[k] }, io.Discard, &stderr)
		require.ErrorContains(t, err, "DATABASE_URL")
		require.NotContains(t, err.Error(), "hunter2")
	})
}

// TestCrossSiteWritesRefused: in open mode a page of another site could
// post a form to a REST route (a form's POST needs no preflight); such a
// write is refused unless CORS_ORIGINS lets its origin in.
func TestCrossSiteWritesRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, testdb.SQLite(t), setupOpts{env: map[string]string{"CORS_ORIGINS": "https://app.example"}})
	post := func(headers map[string]string) int {
		req, err := http.NewRequest(http.MethodPost, b.server.URL+"/mailings/1/pause/", nil)
		require.NoError(t, err)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, _ := opsDo(t, req)
		return resp.StatusCode
	}
	require.Equal(t, http.StatusForbidden, post(map[string]string{"Origin": "https://evil.example"}))
	require.Equal(t, http.StatusForbidden, post(map[string]string{"Sec-Fetch-Site": "cross-site"}))
	require.Equal(t, http.StatusForbidden, post(map[string]string{"Origin": "null"}), "sandboxed pages and file: URLs")
	require.Equal(t, http.StatusNotFound, post(map[string]string{"Origin": b.server.URL}), "same origin: on to the API (no mailing 1)")
	require.Equal(t, http.StatusNotFound, post(map[string]string{"Origin": "https://notify.example", "Sec-Fetch-Site": "same-origin"}),
		"behind a proxy that rewrites Host, the browser's Sec-Fetch-Site decides")
	require.Equal(t, http.StatusNotFound, post(map[string]string{"Origin": "https://notify.example", "X-Forwarded-Host": "notify.example"}))
	require.Equal(t, http.StatusForbidden, post(map[string]string{"Origin": b.server.URL, "Sec-Fetch-Site": "same-site"}), "another origin of the site")
	require.Equal(t, http.StatusNotFound, post(map[string]string{"Origin": "https://app.example", "Sec-Fetch-Site": "cross-site"}), "an origin of CORS_ORIGINS")
	require.Equal(t, http.StatusNotFound, post(nil), "not a browser")
}
