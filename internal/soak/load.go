package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// client calls the service's API with a token.
type client struct {
	url, token string
	http       *http.Client
}

func newClient(url, token string) *client {
	return &client{url: url, token: token, http: &http.Client{Timeout: 30 * time.Second}}
}

// gql runs a GraphQL operation and decodes its data into dst.
func (c *client) gql(ctx context.Context, query string, dst any) error {
	body, _ := json.Marshal(map[string]any{"query": query})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/query", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return err
	}
	if len(out.Errors) > 0 {
		return fmt.Errorf("%s", out.Errors[0].Message)
	}
	if dst != nil {
		return json.Unmarshal(out.Data, dst)
	}
	return nil
}

// mailings runs mailings back to back: create, wait until finished, delete
// (so that the database, and what it costs, stays the same size).
type mailings struct {
	api      *client
	current  atomic.Value // string: the id of the running mailing
	finished atomic.Int64
}

func (m *mailings) run(ctx context.Context) {
	for ctx.Err() == nil {
		var created struct{ CreateMailing struct{ ID string } }
		now := time.Now().UTC()
		q := fmt.Sprintf(`mutation { createMailing(input: {startAt: %q, endAt: %q, text: "Soak", filter: {tags: ["soak"]}}) { id } }`,
			now.Add(-time.Minute).Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
		if err := m.api.gql(ctx, q, &created); err != nil {
			if ctx.Err() == nil {
				fmt.Println("soak: creating a mailing:", err)
				time.Sleep(time.Second) // the service is struggling: do not spin
			}
			continue
		}
		id := created.CreateMailing.ID
		m.current.Store(id)
		tick := time.NewTicker(250 * time.Millisecond)
		for ctx.Err() == nil {
			var got struct{ Mailing struct{ Status string } }
			if err := m.api.gql(ctx, fmt.Sprintf(`{ mailing(id: %q) { status } }`, id), &got); err == nil && got.Mailing.Status == "FINISHED" {
				m.finished.Add(1)
				break
			}
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
		tick.Stop()
		_ = m.api.gql(context.WithoutCancel(ctx), fmt.Sprintf(`mutation { deleteMailing(id: %q) }`, id), nil)
	}
}

func (m *mailings) id() string {
	id, _ := m.current.Load().(string)
	return id
}

var subscriptionsOpened, subscriptionsFailed atomic.Int64

// runSubscribers keeps n subscribers coming and going: each opens a
// WebSocket, watches the running mailing (progress, or status events for
// one in ten) for 5 to 15 s, and leaves.
func runSubscribers(ctx context.Context, api *client, m *mailings, n int) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				id := m.id()
				if id == "" {
					time.Sleep(100 * time.Millisecond) // no mailing yet
					continue
				}
				stay := 5*time.Second + rand.N(10*time.Second)
				if err := subscribe(ctx, api, id, i%10 == 0, stay); err != nil && ctx.Err() == nil {
					subscriptionsFailed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
}

// subscribe watches mailing id for stay over graphql-transport-ws.
func subscribe(ctx context.Context, api *client, id string, statusEvents bool, stay time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, stay)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(api.url, "http")+"/query", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return err
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	type msg struct {
		ID      string          `json:"id,omitempty"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload,omitempty"`
	}
	init, _ := json.Marshal(map[string]string{"authorization": "Bearer " + api.token})
	if err := wsjson.Write(ctx, conn, msg{Type: "connection_init", Payload: init}); err != nil {
		return err
	}
	query := fmt.Sprintf(`subscription { mailingProgress(mailingID: %q) { total byStatus { status count } } }`, id)
	if statusEvents {
		query = fmt.Sprintf(`subscription { messageStatusChanged(mailingID: %q) { messageID status } }`, id)
	}
	payload, _ := json.Marshal(map[string]string{"query": query})
	subscriptionsOpened.Add(1)
	for {
		var m msg
		if err := wsjson.Read(ctx, conn, &m); err != nil {
			if ctx.Err() != nil {
				conn.Close(websocket.StatusNormalClosure, "")
				return nil // stayed as long as it meant to
			}
			return err
		}
		switch m.Type {
		case "connection_ack":
			if err := wsjson.Write(ctx, conn, msg{ID: "1", Type: "subscribe", Payload: payload}); err != nil {
				return err
			}
		case "complete":
			return nil // the mailing finished
		case "error":
			return fmt.Errorf("subscription error: %s", m.Payload)
		}
	}
}

// attack sends rate API requests a second until ctx ends: GraphQL queries,
// REST reads and a client created now and then, in a fixed mix.
func attack(ctx context.Context, api *client, rate int, lat *latencies) {
	header := http.Header{"Authorization": {"Bearer " + api.token}, "Content-Type": {"application/json"}}
	gqlBody := func(q string) []byte { b, _ := json.Marshal(map[string]string{"query": q}); return b }
	fixed := []vegeta.Target{
		{Method: http.MethodPost, URL: api.url + "/query", Body: gqlBody(`{ generalStatistics { mailings messages byStatus { status count } } }`), Header: header},
		{Method: http.MethodPost, URL: api.url + "/query", Body: gqlBody(`{ clients(first: 20) { totalCount edges { node { id phone tag } } } }`), Header: header},
		{Method: http.MethodPost, URL: api.url + "/query", Body: gqlBody(`{ mailings(last: 5) { edges { node { id status stats { total byStatus { status count } } } } } }`), Header: header},
		{Method: http.MethodGet, URL: api.url + "/clients/?page_size=20", Header: header},
		{Method: http.MethodGet, URL: api.url + "/mailings/general_statistics/?limit=5", Header: header},
	}
	var n atomic.Int64
	targeter := func(t *vegeta.Target) error {
		i := n.Add(1)
		if i%6 == 0 { // a write: a new client
			*t = vegeta.Target{Method: http.MethodPost, URL: api.url + "/clients/", Header: header,
				Body: fmt.Appendf(nil, `{"phone": "795%08d", "tag": "soak-new"}`, i)}
			return nil
		}
		*t = fixed[int(i)%len(fixed)]
		return nil
	}
	// vegeta's own transport keeps idle connections forever; the service
	// closes one after IdleTimeout (120 s), and a POST that meets that close
	// fails with EOF (the transport retries only requests it may repeat).
	// Browsers and HTTP clients drop idle connections sooner; so does this.
	transport := &http.Transport{
		MaxIdleConnsPerHost: vegeta.DefaultConnections,
		IdleConnTimeout:     60 * time.Second,
	}
	attacker := vegeta.NewAttacker(vegeta.Client(&http.Client{Timeout: 30 * time.Second, Transport: transport}))
	results := attacker.Attack(targeter, vegeta.ConstantPacer{Freq: rate, Per: time.Second}, 0, "soak")
	for {
		select {
		case <-ctx.Done():
			attacker.Stop()
			for range results { // drain what is in flight
			}
			return
		case r, ok := <-results:
			if !ok {
				return
			}
			lat.add(r.Timestamp, r.Latency, r.Code, r.Error)
		}
	}
}

// latencies keeps the API's latencies by minute since the first.
type latencies struct {
	mu     sync.Mutex
	start  time.Time
	minute [][]time.Duration
	failed int
	count  int
	why    map[string]int // failures by status code or error
}

func newLatencies() *latencies { return &latencies{why: map[string]int{}} }

func (l *latencies) add(at time.Time, d time.Duration, code uint16, errText string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.start.IsZero() {
		l.start = at
	}
	m := int(at.Sub(l.start) / time.Minute)
	for len(l.minute) <= m {
		l.minute = append(l.minute, nil)
	}
	l.minute[m] = append(l.minute[m], d)
	l.count++
	if code < 200 || code >= 300 {
		l.failed++
		l.why[cmpOr(errText, fmt.Sprint("HTTP ", code))]++
	}
}

// failureCodes describes the failures by cause.
func (l *latencies) failureCodes() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var parts []string
	for why, n := range l.why {
		parts = append(parts, fmt.Sprintf("%d× %s", n, why))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func (l *latencies) total() int    { l.mu.Lock(); defer l.mu.Unlock(); return l.count }
func (l *latencies) failures() int { l.mu.Lock(); defer l.mu.Unlock(); return l.failed }

// perMinute returns p50 and p99 of each minute.
func (l *latencies) perMinute() (p50, p99 []time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ds := range l.minute {
		if len(ds) == 0 {
			p50, p99 = append(p50, 0), append(p99, 0)
			continue
		}
		s := append([]time.Duration(nil), ds...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		p50 = append(p50, s[len(s)/2])
		p99 = append(p99, s[min(len(s)-1, len(s)*99/100)])
	}
	return p50, p99
}
