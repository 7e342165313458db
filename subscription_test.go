package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/event"
	"github.com/notifyhq/notify/internal/live"
	"github.com/notifyhq/notify/internal/testdb"
)

const (
	statusSubscription = `subscription($id: ID) {
		messageStatusChanged(mailingID: $id) { messageID mailingID clientID status attempts at committedAt message { id status attempts } }
	}`
	// Without the message: no query per event.
	statusSubscriptionLean = `subscription($id: ID) {
		messageStatusChanged(mailingID: $id) { messageID mailingID clientID status attempts at }
	}`
	// The same with a fragment: the message is still loaded.
	statusSubscriptionFragment = `subscription($id: ID) {
		messageStatusChanged(mailingID: $id) { ...event }
	}
	fragment event on MessageStatusEvent { messageID mailingID clientID status attempts at ... on MessageStatusEvent { message { id status attempts } } }`
	progressSubscription = `subscription($id: ID!) {
		mailingProgress(mailingID: $id) { mailingID status total byStatus { status count } }
	}`
	statisticsQuery = `query($id: ID!) {
		mailingStatistics(id: $id) { mailingID status total byStatus { status count } }
	}`
)

// stream collects what one subscription receives, whatever the client; a
// test waits on it for a condition, woken by each arrival.
type stream struct {
	name    string
	mu      sync.Mutex
	data    []json.RawMessage // the data of each event without errors
	arrived []time.Time       // when each of data arrived
	errs    []streamError     // the errors of error events
	ended   bool              // completed, or the transport ended
	endErr  error             // why the transport ended, if it failed
	wake    chan struct{}     // capacity 1
	close   func()            // disconnects, where the client allows it
}

type streamError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

func newStream(name string) *stream { return &stream{name: name, wake: make(chan struct{}, 1)} }

func (s *stream) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// add records one response: data or errors.
func (s *stream) add(data json.RawMessage, errs json.RawMessage) {
	s.mu.Lock()
	if len(errs) > 0 && string(errs) != "null" {
		var list []streamError
		if err := json.Unmarshal(errs, &list); err != nil {
			list = []streamError{{Message: string(errs)}}
		}
		s.errs = append(s.errs, list...)
	} else {
		s.data = append(s.data, data)
		s.arrived = append(s.arrived, time.Now())
	}
	s.mu.Unlock()
	s.signal()
}

func (s *stream) end(err error) {
	s.mu.Lock()
	if !s.ended {
		s.ended, s.endErr = true, err
	}
	s.mu.Unlock()
	s.signal()
}

// wait waits until cond holds, at most timeout.
func (s *stream) wait(t *testing.T, timeout time.Duration, what string, cond func(s *stream) bool) {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		ok := cond(s)
		n, ended, endErr, errs := len(s.data), s.ended, s.endErr, s.errs
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-s.wake:
		case <-timer.C:
			t.Fatalf("%s: timed out after %s waiting for %s (%d events, ended=%v %v, errors %v)", s.name, timeout, what, n, ended, endErr, errs)
		}
	}
}

// statusEvent is a messageStatusChanged event.
type statusEvent struct {
	MessageID string  `json:"messageID"`
	MailingID string  `json:"mailingID"`
	ClientID  *string `json:"clientID"`
	Status    string  `json:"status"`
	Attempts  int     `json:"attempts"`
	At        string  `json:"at"`
	// CommittedAt is selected by statusSubscription only.
	CommittedAt *string `json:"committedAt"`
	Message     *struct {
		ID       string `json:"id"`
		Status   string `json:"status"`
		Attempts int    `json:"attempts"`
	} `json:"message"`
}

// streamData decodes each response of s with field, which takes the
// subscription's field out of the decoded data.
func streamData[D, T any](t *testing.T, s *stream, field func(D) T) []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]T, len(s.data))
	for i, d := range s.data {
		var v D
		require.NoError(t, json.Unmarshal(d, &v))
		out[i] = field(v)
	}
	return out
}

// statusEvents decodes the events of a messageStatusChanged stream.
func (s *stream) statusEvents(t *testing.T) []statusEvent {
	return streamData(t, s, func(v struct{ MessageStatusChanged statusEvent }) statusEvent { return v.MessageStatusChanged })
}

// sentCount counts the SENT events of a messageStatusChanged stream; s.mu held.
func (s *stream) sentCount() int {
	n := 0
	for _, d := range s.data {
		if bytes.Contains(d, []byte(`"status":"SENT"`)) {
			n++
		}
	}
	return n
}

// lastProgress returns the last snapshot of a mailingProgress stream, as JSON.
func (s *stream) lastProgress(t *testing.T) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	require.NotEmpty(t, s.data, s.name)
	var v struct{ MailingProgress json.RawMessage }
	require.NoError(t, json.Unmarshal(s.data[len(s.data)-1], &v))
	return string(v.MailingProgress)
}

func hasEvents(n int) func(*stream) bool { return func(s *stream) bool { return len(s.data) >= n } }
func hasSent(n int) func(*stream) bool   { return func(s *stream) bool { return s.sentCount() >= n } }
func isEnded(s *stream) bool             { return s.ended }

// subscribeGQLGen subscribes with gqlgen's test client: WebSocket with the
// legacy graphql-ws protocol (subscriptions-transport-ws). Closing s.close
// disconnects.
func subscribeGQLGen(t *testing.T, b *testBundle, name, query string, vars map[string]any) *stream {
	s := newStream(name)
	opts := []client.Option{client.Path("/query")}
	for k, v := range vars {
		opts = append(opts, client.Var(k, v))
	}
	sub := client.New(b.app.handler).Websocket(query, opts...)
	s.close = func() { _ = sub.Close() }
	t.Cleanup(s.close)
	go func() {
		for {
			var resp map[string]any
			err := sub.Next(&resp)
			var gqlErr client.RawJsonError
			switch {
			case errors.As(err, &gqlErr):
				s.add(nil, gqlErr.RawMessage)
			case err != nil && strings.Contains(err.Error(), `Type:"complete"`):
				s.end(nil)
				return
			case err != nil:
				s.end(err)
				return
			default:
				data, _ := json.Marshal(resp)
				s.add(data, nil)
			}
		}
	}()
	return s
}

// wsClient is a plain graphql-transport-ws client (the protocol of the
// graphql-ws npm package that Apollo uses) over coder/websocket.
type wsClient struct {
	conn    *websocket.Conn
	mu      sync.Mutex
	streams map[string]*stream
	done    chan struct{}
	paused  chan struct{} // while open, the reader does not read
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialWS opens a graphql-transport-ws connection to the test server and
// waits for connection_ack.
func dialWS(t *testing.T, serverURL string, header http.Header) (*wsClient, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(serverURL, "http")+"/query", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
		HTTPHeader:   header,
	})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: HTTP %d: %w", resp.StatusCode, err)
		}
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = conn.CloseNow() })
	if conn.Subprotocol() != "graphql-transport-ws" {
		return nil, fmt.Errorf("subprotocol %q", conn.Subprotocol())
	}
	if err := wsjson.Write(ctx, conn, wsMessage{Type: "connection_init"}); err != nil {
		return nil, err
	}
	var ack wsMessage
	if err := wsjson.Read(ctx, conn, &ack); err != nil {
		return nil, err
	}
	if ack.Type != "connection_ack" {
		return nil, fmt.Errorf("want connection_ack, got %+v", ack)
	}
	c := &wsClient{conn: conn, streams: map[string]*stream{}, done: make(chan struct{})}
	go c.read()
	return c, nil
}

// pause stops reading from the socket (before the first message), as a
// client that does not keep up; resume reads again.
func (c *wsClient) pause() {
	c.mu.Lock()
	c.paused = make(chan struct{})
	c.mu.Unlock()
}

func (c *wsClient) resume() {
	c.mu.Lock()
	close(c.paused)
	c.mu.Unlock()
}

// read dispatches what the server sends to the streams, answers pings, and
// ends every stream when the connection ends.
func (c *wsClient) read() {
	defer close(c.done)
	ctx := context.Background()
	for {
		c.mu.Lock()
		paused := c.paused
		c.mu.Unlock()
		if paused != nil {
			<-paused
		}
		var m wsMessage
		if err := wsjson.Read(ctx, c.conn, &m); err != nil {
			c.mu.Lock()
			for _, s := range c.streams {
				s.end(err)
			}
			c.mu.Unlock()
			return
		}
		c.mu.Lock()
		s := c.streams[m.ID]
		c.mu.Unlock()
		switch m.Type {
		case "ping":
			_ = wsjson.Write(ctx, c.conn, wsMessage{Type: "pong"})
		case "next":
			var resp struct {
				Data   json.RawMessage `json:"data"`
				Errors json.RawMessage `json:"errors"`
			}
			_ = json.Unmarshal(m.Payload, &resp)
			s.add(resp.Data, resp.Errors)
		case "error":
			s.add(nil, m.Payload)
			s.end(nil)
		case "complete":
			s.end(nil)
		}
	}
}

// subscribe starts an operation on the connection.
func (c *wsClient) subscribe(t *testing.T, id, query string, vars map[string]any) *stream {
	s := newStream("graphql-transport-ws " + id)
	c.mu.Lock()
	c.streams[id] = s
	c.mu.Unlock()
	payload, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, wsjson.Write(ctx, c.conn, wsMessage{ID: id, Type: "subscribe", Payload: payload}))
	return s
}

// close closes the connection normally and waits for its reader to end.
func (c *wsClient) close() {
	_ = c.conn.Close(websocket.StatusNormalClosure, "bye")
	<-c.done
}

// subscribeSSE subscribes over Server-Sent Events (graphql-sse's distinct
// connections mode) with a plain HTTP client; cancelling ctx disconnects.
func subscribeSSE(t *testing.T, ctx context.Context, b *testBundle, name, query string, vars map[string]any) *stream {
	s := newStream(name)
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.server.URL+"/query", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "event: complete":
				s.end(nil)
				return
			case strings.HasPrefix(line, "data: "):
				var r struct {
					Data   json.RawMessage `json:"data"`
					Errors json.RawMessage `json:"errors"`
				}
				_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &r)
				s.add(r.Data, r.Errors)
			}
		}
		s.end(cmpErr(sc.Err(), errors.New("stream ended without complete")))
	}()
	return s
}

func cmpErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// startMailing creates a scheduled mailing (nothing happens yet), so that
// subscribers can subscribe to its id first; start moves its start to now.
func (b *testBundle) scheduledMailing(t *testing.T) (id string, start func()) {
	t.Helper()
	now := time.Now()
	id = b.createMailing(t, now.Add(time.Hour), now.Add(2*time.Hour), "")
	return id, func() {
		var out struct{ UpdateMailing struct{ Status string } }
		b.mustGQL(t, `mutation($id: ID!, $at: Time!) { updateMailing(id: $id, input: {startAt: $at}) { status } }`,
			map[string]any{"id": id, "at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)}, &out)
	}
}

// waitSubscribers waits until the service holds the given subscriptions.
func (b *testBundle) waitSubscribers(t *testing.T, status, progress int) {
	t.Helper()
	waitFor(t, 10*time.Second, fmt.Sprintf("%d status and %d progress subscribers", status, progress), func() bool {
		bus := b.app.events.Stats()
		st, pr := b.app.shared.Stats(live.Events), b.app.shared.Stats(live.Latest)
		// Each shared execution is one subscription of the bus.
		return st.Subscribers == status && pr.Subscribers == progress &&
			bus.MessageSubscribers == st.Executions && bus.ProgressSubscribers == pr.Executions
	})
}

// statistics returns mailingStatistics(id) as JSON.
func (b *testBundle) statistics(t *testing.T, id string) string {
	t.Helper()
	var out struct{ MailingStatistics json.RawMessage }
	b.mustGQL(t, statisticsQuery, map[string]any{"id": id}, &out)
	return string(out.MailingStatistics)
}

// requireOneSentEach checks a fault-free run's status events: exactly one
// SENT event per message, n messages, all of mailing id.
func requireOneSentEach(t *testing.T, s *stream, id string, n int) []statusEvent {
	t.Helper()
	events := s.statusEvents(t)
	sent := map[string]int{}
	for _, ev := range events {
		require.Equal(t, id, ev.MailingID, s.name)
		require.Equal(t, "SENT", ev.Status, "%s: a fault-free run writes SENT only", s.name)
		require.Equal(t, 1, ev.Attempts, s.name)
		require.NotNil(t, ev.ClientID, s.name)
		if ev.CommittedAt != nil {
			at, err := time.Parse(time.RFC3339Nano, ev.At)
			require.NoError(t, err)
			committed, err := time.Parse(time.RFC3339Nano, *ev.CommittedAt)
			require.NoError(t, err)
			require.False(t, committed.Before(at), "%s: committed at %s, before the write at %s", s.name, committed, at)
		}
		sent[ev.MessageID]++
	}
	require.Len(t, sent, n, s.name)
	for msg, k := range sent {
		require.Equal(t, 1, k, "%s: SENT events of message %s", s.name, msg)
	}
	return events
}

// subscriptionGoroutines counts the goroutines serving subscriptions: the
// resolvers' forwarders, the progress groups and gqlgen's WebSocket and SSE
// connections.
func subscriptionGoroutines() int {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "graph.(*Resolver).forwardStatusEvents") ||
			strings.Contains(g, "live.(*group).pump") ||
			strings.Contains(g, "event.(*Bus).runGroup") ||
			strings.Contains(g, "transport.(*wsConnection)") ||
			strings.Contains(g, "transport.SSE.Do") {
			n++
		}
	}
	return n
}

// TestSubscriptions follows a 500-message mailing over every transport:
// gqlgen's client (legacy graphql-ws), a plain graphql-transport-ws client
// and SSE each see exactly one SENT event per message, and the final
// progress snapshot equals mailingStatistics; clients with the same
// operation share one execution and all see every event (the lean one's
// runs without gqlgen's executor); nothing is left running once the
// clients are gone.
func TestSubscriptions(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		const n = 500
		b := setup(t, databaseURL, setupOpts{})
		b.createClients(t, 0, n, "UTC")
		id, start := b.scheduledMailing(t)
		vars := map[string]any{"id": id}

		legacyStatus := subscribeGQLGen(t, b, "graphql-ws status", statusSubscription, vars)
		legacyProgress := subscribeGQLGen(t, b, "graphql-ws progress", progressSubscription, vars)
		ws, err := dialWS(t, b.server.URL, nil)
		require.NoError(t, err)
		wsStatus := ws.subscribe(t, "status", statusSubscriptionLean, vars)
		wsProgress := ws.subscribe(t, "progress", progressSubscription, vars)
		// The same operation from another client shares wsStatus's
		// execution.
		ws2, err := dialWS(t, b.server.URL, nil)
		require.NoError(t, err)
		wsStatus2 := ws2.subscribe(t, "status", statusSubscriptionLean, vars)
		sseCtx, sseCancel := context.WithCancel(t.Context())
		defer sseCancel()
		sseStatus := subscribeSSE(t, sseCtx, b, "sse status", statusSubscriptionFragment, vars)
		// The lean operation over SSE joins the WebSocket ones' execution.
		sseLean := subscribeSSE(t, sseCtx, b, "sse lean status", statusSubscriptionLean, vars)
		sseProgress := subscribeSSE(t, sseCtx, b, "sse progress", progressSubscription, vars)
		progress := []*stream{legacyProgress, wsProgress, sseProgress}
		statuses := []*stream{legacyStatus, wsStatus, wsStatus2, sseStatus, sseLean}

		for _, s := range progress {
			s.wait(t, 10*time.Second, "the first snapshot", hasEvents(1))
			require.Contains(t, s.lastProgress(t), `"status":"SCHEDULED"`)
		}
		b.waitSubscribers(t, 5, 3)
		require.Equal(t, 3, b.app.shared.Stats(live.Events).Executions, "one execution per distinct operation")
		require.Equal(t, 1, b.app.shared.Stats(live.Events).Direct, "the lean operation runs without gqlgen's executor")
		// WebSocket subscribers, of either protocol, write the responses
		// their group encoded; SSE ones leave it to gqlgen.
		require.Equal(t, 3, b.app.shared.Stats(live.Events).Writers)
		require.Equal(t, 2, b.app.shared.Stats(live.Latest).Writers)

		began := time.Now()
		start()
		for _, s := range progress {
			s.wait(t, 2*time.Minute, "the end of progress", isEnded)
		}
		elapsed := time.Since(began)
		for _, s := range statuses {
			s.wait(t, 30*time.Second, "a SENT event per message", hasSent(n))
		}

		want := b.statistics(t, id)
		require.Contains(t, want, `"status":"FINISHED"`)
		for _, s := range progress {
			require.NoError(t, s.endErr, s.name)
			require.Empty(t, s.errs, s.name)
			require.JSONEq(t, want, s.lastProgress(t), "%s: the final snapshot is the statistics", s.name)
			// A snapshot at once, then at most ~4 a second (throttled).
			require.LessOrEqual(t, len(s.data), 2+int(elapsed/(250*time.Millisecond))+1, s.name)
			t.Logf("%s: %d snapshots over %s", s.name, len(s.data), elapsed.Round(time.Millisecond))
		}
		for _, s := range statuses {
			logLatency(t, s)
			require.Empty(t, s.errs, s.name)
			events := requireOneSentEach(t, s, id, n)
			for _, ev := range events {
				if s == wsStatus || s == wsStatus2 || s == sseLean {
					require.Nil(t, ev.Message, "not selected")
					continue
				}
				require.NotNil(t, ev.Message, "the message is loaded when selected")
				require.Equal(t, ev.MessageID, ev.Message.ID)
			}
		}

		// The clients go away; so does what served them.
		legacyStatus.close()
		legacyProgress.close()
		ws.close()
		ws2.close()
		sseCancel()
		b.waitSubscribers(t, 0, 0)
	})
}

// TestSubscriptionsAcrossInstances runs two instances on one Postgres
// schema: the first sends (River running), the second only serves
// subscriptions, and its subscribers see every send of the first.
func TestSubscriptionsAcrossInstances(t *testing.T) {
	t.Parallel()
	const n = 100
	url := testdb.Postgres(t)
	worker := setup(t, url, setupOpts{})
	watcher := setup(t, url, setupOpts{noRiver: true})
	worker.createClients(t, 0, n, "UTC")
	id, start := worker.scheduledMailing(t)
	vars := map[string]any{"id": id}

	ws, err := dialWS(t, watcher.server.URL, nil)
	require.NoError(t, err)
	statusStream := ws.subscribe(t, "status", statusSubscription, vars)
	all := ws.subscribe(t, "all", statusSubscription, nil) // every mailing
	progress := ws.subscribe(t, "progress", progressSubscription, vars)
	progress.wait(t, 10*time.Second, "the first snapshot", hasEvents(1))
	watcher.waitSubscribers(t, 2, 1)

	start()
	progress.wait(t, time.Minute, "the end of progress", isEnded)
	statusStream.wait(t, 30*time.Second, "a SENT event per message", hasSent(n))
	all.wait(t, 30*time.Second, "a SENT event per message", hasSent(n))
	for _, s := range []*stream{statusStream, all} {
		for _, ev := range requireOneSentEach(t, s, id, n) {
			require.NotNil(t, ev.CommittedAt, "%s: the commit time crosses instances", s.name)
		}
	}
	require.JSONEq(t, worker.statistics(t, id), progress.lastProgress(t))
	require.Equal(t, n, worker.fake.Stats().AcceptedMessages, "the worker sent")
	require.Zero(t, watcher.fake.Stats().Requests, "the watcher did not")
}

// TestSubscriptionErrors covers the errors of the subscriptions: NOT_FOUND
// for the progress of an unknown mailing, on every transport.
func TestSubscriptionErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, testdb.SQLite(t), setupOpts{})
	vars := map[string]any{"id": "987654"}
	ws, err := dialWS(t, b.server.URL, nil)
	require.NoError(t, err)
	streams := []*stream{
		ws.subscribe(t, "missing", progressSubscription, vars),
		subscribeGQLGen(t, b, "graphql-ws", progressSubscription, vars),
		subscribeSSE(t, t.Context(), b, "sse", progressSubscription, vars),
	}
	for _, s := range streams {
		s.wait(t, 10*time.Second, "an error", func(s *stream) bool { return len(s.errs) > 0 })
		require.Equal(t, "NOT_FOUND", s.errs[0].Extensions["code"], s.name)
		require.Empty(t, s.data, s.name)
	}
}

// TestCORS checks the allowed origins of CORS_ORIGINS: CORS headers on the
// HTTP endpoint and the WebSocket origin check.
func TestCORS(t *testing.T) {
	t.Parallel()
	b := setup(t, testdb.SQLite(t), setupOpts{env: map[string]string{"CORS_ORIGINS": "http://app.example"}})

	// preflight asks for method (and the headers, when not "") on path.
	preflight := func(path, origin, method, headers string) *http.Response {
		req, err := http.NewRequest(http.MethodOptions, b.server.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", method)
		if headers != "" {
			req.Header.Set("Access-Control-Request-Headers", headers)
		}
		resp, _ := opsDo(t, req)
		return resp
	}
	resp := preflight("/query", "http://app.example", "POST", "content-type,authorization")
	require.Less(t, resp.StatusCode, 300)
	require.Equal(t, "http://app.example", resp.Header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "authorization")
	require.Empty(t, preflight("/query", "http://evil.example", "POST", "content-type,authorization").Header.Get("Access-Control-Allow-Origin"))

	req, err := http.NewRequest(http.MethodPost, b.server.URL+"/query", strings.NewReader(`{"query":"{ generalStatistics { mailings } }"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "http://app.example")
	post, _ := opsDo(t, req)
	require.Equal(t, http.StatusOK, post.StatusCode)
	require.Equal(t, "http://app.example", post.Header.Get("Access-Control-Allow-Origin"))

	// The REST layer answers browsers of the allowed origins too.
	restPreflight := preflight("/clients/1/", "http://app.example", "PATCH", "")
	require.Less(t, restPreflight.StatusCode, 300)
	require.Equal(t, "http://app.example", restPreflight.Header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, restPreflight.Header.Get("Access-Control-Allow-Methods"), "PATCH")

	_, err = dialWS(t, b.server.URL, http.Header{"Origin": {"http://evil.example"}})
	require.ErrorContains(t, err, "HTTP 403")
	ws, err := dialWS(t, b.server.URL, http.Header{"Origin": {"http://app.example"}})
	require.NoError(t, err)
	ws.close()
}

// TestSubscriptionBackpressureAndLeaks: a status subscriber that does not
// keep up is dropped with SUBSCRIBER_TOO_SLOW while sending and the other
// subscribers go on, and once the clients disconnect the goroutines that
// served them are gone. Not parallel: it counts goroutines.
func TestSubscriptionBackpressureAndLeaks(t *testing.T) {
	for _, kind := range testdb.Kinds {
		t.Run(kind.Name, func(t *testing.T) {
			const n = 500
			// A buffer of one event: a subscriber loading each event's
			// message cannot keep up with a batch of 250 delivered at once.
			b := setup(t, kind.URL(t), setupOpts{options: appOptions{eventBuffer: 1}})
			b.createClients(t, 0, n, "UTC")
			id, start := b.scheduledMailing(t)
			vars := map[string]any{"id": id}
			require.Zero(t, subscriptionGoroutines(), "baseline")

			// The stuck client reads nothing until the mailing is over.
			stuck, err := dialWS(t, b.server.URL, nil)
			require.NoError(t, err)
			stuck.pause()
			stuckStream := stuck.subscribe(t, "stuck", statusSubscription, vars)
			progress := subscribeGQLGen(t, b, "progress", progressSubscription, vars)
			sseCtx, sseCancel := context.WithCancel(t.Context())
			defer sseCancel()
			sseProgress := subscribeSSE(t, sseCtx, b, "sse progress", progressSubscription, vars)
			progress.wait(t, 10*time.Second, "the first snapshot", hasEvents(1))
			b.waitSubscribers(t, 1, 2)
			require.NotZero(t, subscriptionGoroutines())

			start()
			progress.wait(t, time.Minute, "the end of progress", isEnded)
			require.JSONEq(t, b.statistics(t, id), progress.lastProgress(t), "sending and progress went on")
			b.waitSubscribers(t, 0, 0) // the stuck one was dropped
			require.Contains(t, b.logs.String(), "too slow")

			stuck.resume()
			stuckStream.wait(t, 10*time.Second, "the drop notice", func(s *stream) bool { return len(s.errs) > 0 && s.ended })
			require.Equal(t, "subscriber too slow, events dropped", stuckStream.errs[0].Message)
			require.Equal(t, "SUBSCRIBER_TOO_SLOW", stuckStream.errs[0].Extensions["code"])
			require.Less(t, len(stuckStream.data), n)

			// Everyone leaves: what served them ends.
			stuck.close()
			progress.close()
			sseCancel()
			sseProgress.wait(t, 10*time.Second, "the SSE stream to end", isEnded)
			waitFor(t, 10*time.Second, "subscription goroutines to end", func() bool { return subscriptionGoroutines() == 0 })
		})
	}
}

// TestApolloClient runs test/apollo/subscribe.mjs: the real @apollo/client
// with graphql-ws subscribes, runs the mutation that starts a mailing and
// sees its events, as frontend users will. It needs node and
// `npm ci --prefix test/apollo` (.ci/run does it); without them it is
// skipped, except under CI=true where it fails.
func TestApolloClient(t *testing.T) {
	t.Parallel()
	node := nodeWith(t, "npm ci --prefix test/apollo", nil, "test/apollo/node_modules/@apollo/client")
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		const n = 30
		b := setup(t, databaseURL, setupOpts{})
		out, stderr, err := runNode(t, node, "test/apollo", "subscribe.mjs", 2*time.Minute,
			[]string{"NOTIFY_URL=" + b.server.URL, fmt.Sprintf("CLIENTS=%d", n)},
			func(line string, stdin io.Writer) {
				if strings.HasPrefix(line, "READY ") {
					// Subscribed: the service holds the subscriptions before
					// the script starts the mailing.
					b.waitSubscribers(t, 2, 1)
					require.Equal(t, 1, b.app.shared.Stats(live.Events).Direct, "the lean one, without gqlgen's executor")
					_, err := io.WriteString(stdin, "go\n")
					require.NoError(t, err)
				}
			})
		require.NoError(t, err, "node: %s", stderr)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		last := lines[len(lines)-1]

		var summary struct {
			MailingID             string
			UpdatedStatus         string
			SentMessages          int
			MaxSentPerMessage     int
			LeanSentMessages      int
			LeanMaxSentPerMessage int
			Final                 json.RawMessage
		}
		require.NoError(t, json.Unmarshal([]byte(last), &summary), "last line: %s; stderr: %s", last, stderr)
		require.Equal(t, n, summary.SentMessages)
		require.Equal(t, 1, summary.MaxSentPerMessage)
		require.Equal(t, n, summary.LeanSentMessages)
		require.Equal(t, 1, summary.LeanMaxSentPerMessage)
		var got, want map[string]any
		require.NoError(t, json.Unmarshal(summary.Final, &got))
		require.NoError(t, json.Unmarshal([]byte(b.statistics(t, summary.MailingID)), &want))
		stripTypename(got)
		require.Equal(t, want, got, "the final snapshot Apollo saw is the statistics")
	})
}

// stripTypename removes the __typename fields Apollo adds to selections.
func stripTypename(v any) {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "__typename")
		for _, x := range v {
			stripTypename(x)
		}
	case []any:
		for _, x := range v {
			stripTypename(x)
		}
	}
}

// logLatency logs how long status events took from the status write (at)
// to the client.
func logLatency(t *testing.T, s *stream) {
	events := s.statusEvents(t)
	lat := make([]time.Duration, len(events))
	for i, ev := range events {
		at, err := time.Parse(time.RFC3339Nano, ev.At)
		require.NoError(t, err)
		lat[i] = s.arrived[i].Sub(at)
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		t.Logf("%s: write-to-client latency p50 %s, p99 %s, max %s over %d events", s.name,
			lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*99/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), len(lat))
	}
}

// TestSubscriptionsAfterFeedInterruption cuts the service's LISTEN
// connection: a status subscriber gets an EVENTS_MISSED error event and
// goes on receiving, a progress subscriber gets a fresh snapshot.
func TestSubscriptionsAfterFeedInterruption(t *testing.T) {
	t.Parallel()
	b := setup(t, testdb.Postgres(t), setupOpts{})
	b.createClients(t, 0, 20, "UTC")
	id, start := b.scheduledMailing(t)
	ws, err := dialWS(t, b.server.URL, nil)
	require.NoError(t, err)
	statusStream := ws.subscribe(t, "status", statusSubscription, nil)
	lean := ws.subscribe(t, "lean status", statusSubscriptionLean, nil) // no gqlgen execution
	progress := ws.subscribe(t, "progress", progressSubscription, map[string]any{"id": id})
	progress.wait(t, 10*time.Second, "the first snapshot", hasEvents(1))
	b.waitSubscribers(t, 2, 1)

	var killed int
	require.NoError(t, b.app.db.SQL.QueryRowContext(t.Context(),
		`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`,
		event.ChannelName(b.app.db.Schema)).Scan(&killed))
	require.Equal(t, 1, killed, "the service's LISTEN connection")

	for _, s := range []*stream{statusStream, lean} {
		s.wait(t, 30*time.Second, "an error event", func(s *stream) bool { return len(s.errs) > 0 })
		require.Equal(t, "EVENTS_MISSED", s.errs[0].Extensions["code"], s.name)
		require.Contains(t, s.errs[0].Message, "events may have been missed", s.name)
		require.Equal(t, statusStream.errs[0], s.errs[0], "%s: the same error event", s.name)
	}
	progress.wait(t, 10*time.Second, "a fresh snapshot", hasEvents(2))
	require.False(t, statusStream.ended)
	require.False(t, lean.ended)

	start()
	progress.wait(t, time.Minute, "the end of progress", isEnded)
	for _, s := range []*stream{statusStream, lean} {
		s.wait(t, 30*time.Second, "the events after the interruption", hasSent(20))
		requireOneSentEach(t, s, id, 20)
	}
}
