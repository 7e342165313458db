package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/webhookdelivery"
	"github.com/notifyhq/notify/internal/auth"
	"github.com/notifyhq/notify/internal/config"
	"github.com/notifyhq/notify/internal/fakesender"
	"github.com/notifyhq/notify/internal/status"
	"github.com/notifyhq/notify/internal/testdb"
	"github.com/notifyhq/notify/internal/webhook"
)

// testWebhookSecret is the signing secret of the webhook tests.
var testWebhookSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("a test secret of 32 random bytes"))

// receivedEvent is one request a test receiver verified.
type receivedEvent struct {
	ID      string
	At      time.Time
	Payload webhook.Payload
}

// receiver is a webhook receiver over real HTTP that verifies every request
// with the Standard Webhooks library, then answers as answer says (nil
// answers 204). Attempts counts every request, verified or not.
type receiver struct {
	t      *testing.T
	server *httptest.Server
	wh     *standardwebhooks.Webhook

	mu       sync.Mutex
	attempts []time.Time
	events   []receivedEvent
	changed  chan struct{}
	answer   func(w http.ResponseWriter, r *http.Request, attempt int) bool // true: the request was taken
}

func newReceiver(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, attempt int) bool) *receiver {
	wh, err := standardwebhooks.NewWebhook(testWebhookSecret)
	require.NoError(t, err)
	rc := &receiver{t: t, wh: wh, answer: answer, changed: make(chan struct{})}
	rc.server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.server.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	rc.mu.Lock()
	rc.attempts = append(rc.attempts, time.Now())
	n := len(rc.attempts)
	rc.signal()
	rc.mu.Unlock()
	if err := rc.wh.Verify(body, r.Header); err != nil {
		rc.t.Errorf("webhook request not verified by the Standard Webhooks library: %v (headers %v)", err, r.Header)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if rc.answer != nil && !rc.answer(w, r, n) {
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		rc.t.Errorf("webhook body is not a payload: %v: %s", err, body)
	}
	rc.mu.Lock()
	rc.events = append(rc.events, receivedEvent{ID: r.Header.Get("webhook-id"), At: time.Now(), Payload: p})
	rc.signal()
	rc.mu.Unlock()
	if rc.answer == nil {
		w.WriteHeader(http.StatusNoContent)
	}
}

// signal wakes the waiters; rc.mu is held.
func (rc *receiver) signal() {
	close(rc.changed)
	rc.changed = make(chan struct{})
}

// waitEvents waits until cond holds over the events taken so far.
func (rc *receiver) waitEvents(t *testing.T, timeout time.Duration, what string, cond func([]receivedEvent) bool) []receivedEvent {
	t.Helper()
	deadline := time.After(timeout)
	for {
		rc.mu.Lock()
		events, changed := slices.Clone(rc.events), rc.changed
		rc.mu.Unlock()
		if cond(events) {
			return events
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("timed out after %s waiting for %s; events: %+v", timeout, what, events)
		}
	}
}

func (rc *receiver) taken() []receivedEvent {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.events)
}

func (rc *receiver) attemptTimes() []time.Time {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.attempts)
}

// eventTypes lists the event types of events about mailing id ("" for all).
func eventTypes(events []receivedEvent, mailingID string) []string {
	var out []string
	for _, e := range events {
		if id, ok := e.Payload.Data["mailing_id"]; mailingID == "" || (ok && jsonID(id) == mailingID) {
			out = append(out, e.Payload.Type)
		}
	}
	return out
}

func jsonID(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// webhookSetup starts the service with webhooks to rc: attempts time out
// after timeout, retries come backoff·2^(n-1) apart.
func webhookSetup(t *testing.T, dbURL string, rc *receiver, timeout, backoff time.Duration, o setupOpts) *testBundle {
	if o.env == nil {
		o.env = map[string]string{}
	}
	o.env["WEBHOOK_URL"] = rc.server.URL + "/hooks"
	o.env["WEBHOOK_SECRET"] = testWebhookSecret
	o.options.webhooks = webhook.Config{Timeout: timeout, Backoff: func(n int) time.Duration { return backoff << (n - 1) }}
	return setup(t, dbURL, o)
}

// deliveries loads the webhook deliveries, oldest first.
func (b *testBundle) deliveries(t *testing.T) []*ent.WebhookDelivery {
	t.Helper()
	ds, err := b.app.db.Ent.WebhookDelivery.Query().Order(ent.Asc(webhookdelivery.FieldID)).All(context.Background())
	require.NoError(t, err)
	return ds
}

// cancelledMailing creates a mailing due to start in an hour and cancels
// it, which announces mailing.cancelled and sends nothing, and returns its
// id.
func (b *testBundle) cancelledMailing(t *testing.T, extra string) string {
	t.Helper()
	start := time.Now().Add(time.Hour)
	id := b.createMailing(t, start, start.Add(time.Hour), extra)
	b.mustGQL(t, `mutation($id: ID!) { cancelMailing(id: $id) { id } }`, map[string]any{"id": id}, nil)
	return id
}

// TestWebhookLifecycleEvents: a mailing that goes out announces
// mailing.started then mailing.finished; a cancelled one mailing.cancelled;
// one whose messages cannot go out before its end mailing.expired. Every
// request is signed (verified with the Standard Webhooks library), carries
// the event's id, and each delivery's state reads back from GraphQL and
// REST.
func TestWebhookLifecycleEvents(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		rc := newReceiver(t, nil)
		b := webhookSetup(t, dbURL, rc, 2*time.Second, 50*time.Millisecond, setupOpts{})
		b.createClients(t, 0, 20, "UTC")
		now := time.Now()

		sent := b.createMailing(t, now.Add(-time.Minute), now.Add(time.Hour), "")
		b.waitMailing(t, sent, "FINISHED", time.Minute)
		events := rc.waitEvents(t, 30*time.Second, "started and finished", func(es []receivedEvent) bool { return len(eventTypes(es, sent)) == 2 })
		require.Equal(t, []string{"mailing.started", "mailing.finished"}, eventTypes(events, sent))
		started := events[0].Payload
		require.Equal(t, "running", started.Data["status"])
		require.Equal(t, "finished", events[1].Payload.Data["status"])
		require.NotEqual(t, events[0].ID, events[1].ID)
		require.True(t, strings.HasPrefix(events[0].ID, "msg_"))

		cancelled := b.cancelledMailing(t, "")
		events = rc.waitEvents(t, 30*time.Second, "cancelled", func(es []receivedEvent) bool { return len(eventTypes(es, cancelled)) == 1 })
		require.Equal(t, []string{"mailing.cancelled"}, eventTypes(events, cancelled))

		waitFor(t, 10*time.Second, "the deliveries recorded", func() bool {
			ds := b.deliveries(t)
			return len(ds) == 3 && !slices.ContainsFunc(ds, func(d *ent.WebhookDelivery) bool { return d.State != status.Delivered })
		})
		// GraphQL: newest first, the state of each.
		var out struct {
			WebhookDeliveries struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						Event       string
						MailingID   *int
						State       string
						Attempts    int
						LastStatus  *int
						DeliveredAt *time.Time
						Payload     string
						URL         string
					}
				}
			}
		}
		b.mustGQL(t, `{ webhookDeliveries(first: 10) { totalCount edges { node { event mailingID state attempts lastStatus deliveredAt payload url } } } }`, nil, &out)
		require.Equal(t, 3, out.WebhookDeliveries.TotalCount)
		first := out.WebhookDeliveries.Edges[0].Node
		require.Equal(t, "mailing.cancelled", first.Event)
		require.Equal(t, "DELIVERED", first.State)
		require.Equal(t, 1, first.Attempts)
		require.Equal(t, http.StatusNoContent, *first.LastStatus)
		require.NotNil(t, first.DeliveredAt)
		require.Equal(t, rc.server.URL+"/hooks", first.URL)
		b.mustGQL(t, `query($m: ID) { webhookDeliveries(first: 10, where: {mailingID: $m, state: DELIVERED}) { totalCount } }`, map[string]any{"m": sent}, &out)
		require.Equal(t, 2, out.WebhookDeliveries.TotalCount)

		// REST, each request and answer checked against the OpenAPI document.
		rest := newRESTClient(t, b)
		res := rest.do(t, "GET", "/webhooks/deliveries/?event=mailing.started", nil)
		require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
		var pg restPage[struct {
			Event   string
			State   string
			Payload webhook.Payload
		}]
		res.decode(t, &pg)
		require.Equal(t, 1, pg.Count)
		require.Equal(t, "delivered", pg.Results[0].State)
		require.Equal(t, "mailing.started", pg.Results[0].Payload.Type)
		res = rest.do(t, "GET", "/webhooks/deliveries/?state=sent", nil, invalidRequest)
		require.Equal(t, http.StatusBadRequest, res.Status, "body: %s", res.Body)
		created := rest.do(t, "POST", "/mailings/", map[string]any{
			"start_at": now.Add(time.Hour), "end_at": now.Add(2 * time.Hour), "text": "x", "webhook_url": "https://hooks.example/m",
		})
		require.Equal(t, http.StatusCreated, created.Status, "body: %s", created.Body)
		require.Equal(t, "https://hooks.example/m", created.object(t)["webhook_url"])
		bad := rest.do(t, "POST", "/mailings/", map[string]any{
			"start_at": now.Add(time.Hour), "end_at": now.Add(2 * time.Hour), "text": "x", "webhook_url": "not a url",
		}, invalidRequest)
		require.Equal(t, http.StatusBadRequest, bad.Status, "body: %s", bad.Body)
		require.Contains(t, bad.object(t), "webhook_url")
	})
}

// TestWebhookMailingExpired: a mailing whose messages are still failing at
// its end announces mailing.expired with the number of messages expired.
func TestWebhookMailingExpired(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		rc := newReceiver(t, nil)
		b := webhookSetup(t, dbURL, rc, 2*time.Second, 50*time.Millisecond, setupOpts{
			faults: fakesender.Faults{ErrorRate: 1},
			env:    map[string]string{"SENDER_TIMEOUT": "500ms"},
		})
		b.createClients(t, 0, 5, "UTC")
		now := time.Now()
		id := b.createMailing(t, now.Add(-time.Minute), now.Add(3*time.Second), "")
		b.waitMailing(t, id, "FINISHED", time.Minute)
		events := rc.waitEvents(t, 30*time.Second, "expired", func(es []receivedEvent) bool { return len(eventTypes(es, id)) == 2 })
		require.Equal(t, []string{"mailing.started", "mailing.expired"}, eventTypes(events, id))
		require.EqualValues(t, 5, events[1].Payload.Data["messages_expired"])
	})
}

// TestWebhookPerMailingURL: a mailing's webhookUrl receives its events
// instead of WEBHOOK_URL; a bad one is refused naming the field.
func TestWebhookPerMailingURL(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		global := newReceiver(t, nil)
		own := newReceiver(t, nil)
		// The receivers are on loopback, which a mailing's own URL may
		// reach only with WEBHOOK_ALLOW_PRIVATE (TestWebhookSSRF).
		b := webhookSetup(t, dbURL, global, 2*time.Second, 50*time.Millisecond, setupOpts{env: map[string]string{"WEBHOOK_ALLOW_PRIVATE": "true"}})
		start := time.Now().Add(time.Hour)
		id := b.createMailing(t, start, start.Add(time.Hour), `, webhookUrl: "`+own.server.URL+`/mine"`)
		var got struct{ Mailing struct{ WebhookURL *string } }
		b.mustGQL(t, `query($id: ID!) { mailing(id: $id) { webhookUrl } }`, map[string]any{"id": id}, &got)
		require.Equal(t, own.server.URL+"/mine", *got.Mailing.WebhookURL)
		b.mustGQL(t, `mutation($id: ID!) { cancelMailing(id: $id) { id } }`, map[string]any{"id": id}, nil)
		own.waitEvents(t, 30*time.Second, "the mailing's own receiver", func(es []receivedEvent) bool { return len(es) == 1 })
		require.Empty(t, global.attemptTimes())

		resp := b.gql(t, `mutation { createMailing(input: {startAt: "2030-01-01T00:00:00Z", endAt: "2030-01-02T00:00:00Z", text: "x", webhookUrl: "ftp://x"}) { id } }`, nil)
		require.Len(t, resp.Errors, 1)
		require.Equal(t, "BAD_USER_INPUT", resp.Errors[0].Extensions["code"])
		require.Equal(t, "webhookUrl", resp.Errors[0].Extensions["field"])

		// An explicit null clears it.
		other := b.createMailing(t, start, start.Add(time.Hour), `, webhookUrl: "https://x.example/h"`)
		b.mustGQL(t, `mutation($id: ID!) { updateMailing(id: $id, input: {webhookUrl: null}) { webhookUrl } }`, map[string]any{"id": other}, nil)
		b.mustGQL(t, `query($id: ID!) { mailing(id: $id) { webhookUrl } }`, map[string]any{"id": other}, &got)
		require.Nil(t, got.Mailing.WebhookURL)
	})
}

// TestWebhookSSRF: without WEBHOOK_ALLOW_PRIVATE a mailing's own
// webhookUrl reaches only public addresses: one on 127.0.0.1, one naming
// localhost and the cloud metadata address 169.254.169.254 are never
// connected to; each delivery fails at once, with the reason as its last
// error, and is not tried again. WEBHOOK_URL, set by the operator, still
// reaches its receiver on loopback. A webhookUrl that is not an http(s) URL
// with a host, or holds a user name or password, is refused on input,
// naming the field in GraphQL and REST.
func TestWebhookSSRF(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		global := newReceiver(t, nil)
		own := newReceiver(t, nil)
		b := webhookSetup(t, dbURL, global, 2*time.Second, 50*time.Millisecond, setupOpts{})
		_, port, err := net.SplitHostPort(own.server.Listener.Addr().String())
		require.NoError(t, err)
		start := time.Now().Add(time.Hour)
		want := map[string]string{
			own.server.URL + "/mine":                   "refused: 127.0.0.1 is a loopback address",
			"http://localhost:" + port + "/mine":       "refused: localhost resolves to",
			"http://169.254.169.254/latest/meta-data/": "refused: 169.254.169.254 is a link-local address",
		}
		for url := range want {
			b.cancelledMailing(t, `, webhookUrl: "`+url+`"`)
		}
		// The operator's WEBHOOK_URL, on loopback too, is trusted.
		id := b.cancelledMailing(t, "")
		global.waitEvents(t, 30*time.Second, "WEBHOOK_URL's event", func(es []receivedEvent) bool { return len(es) == 1 })

		waitFor(t, 30*time.Second, "the refused deliveries failed, WEBHOOK_URL's delivered", func() bool {
			n := map[status.Delivery]int{}
			for _, d := range b.deliveries(t) {
				n[d.State]++
			}
			return n[status.Undelivered] == len(want) && n[status.Delivered] == 1
		})
		for _, d := range b.deliveries(t) {
			if d.URL == global.server.URL+"/hooks" {
				require.Equal(t, status.Delivered, d.State)
				continue
			}
			require.Equal(t, status.Undelivered, d.State, d.URL)
			require.Equal(t, 1, d.Attempts, "not tried again: %s", d.URL)
			require.Nil(t, d.NextAttemptAt)
			require.NotNil(t, d.LastError, d.URL)
			require.Contains(t, *d.LastError, want[d.URL])
			require.Contains(t, *d.LastError, "WEBHOOK_ALLOW_PRIVATE=true")
		}
		require.Empty(t, own.attemptTimes(), "the mailings' own receiver was never reached")
		requireWebhookLogged(t, b, "refused: 127.0.0.1 is a loopback address")
		// Their jobs end, cancelled: none waits for a retry.
		waitFor(t, 10*time.Second, "the delivery jobs ended", func() bool {
			var active, cancelled int
			require.NoError(t, b.app.db.SQL.QueryRowContext(context.Background(),
				`SELECT COUNT(*) FILTER (WHERE state NOT IN ('completed', 'cancelled', 'discarded')), COUNT(*) FILTER (WHERE state = 'cancelled') FROM river_job WHERE kind = 'deliver_webhook'`).Scan(&active, &cancelled))
			return active == 0 && cancelled == len(want)
		})

		var out struct {
			WebhookDeliveries struct {
				Edges []struct {
					Node struct{ State, LastError string }
				}
			}
		}
		b.mustGQL(t, `{ webhookDeliveries(first: 10, where: {state: FAILED}) { edges { node { state lastError } } } }`, nil, &out)
		require.Len(t, out.WebhookDeliveries.Edges, len(want))
		for _, e := range out.WebhookDeliveries.Edges {
			require.Equal(t, "FAILED", e.Node.State)
			require.Contains(t, e.Node.LastError, "refused: ")
		}

		// Refused on input, naming the field.
		for _, bad := range []string{"https://user:pw@hooks.example/n", "https://user@hooks.example/n", "file:///etc/passwd", "gopher://hooks.example/", "http://:8080/", "http://hooks.example:99999/", "http:hooks.example"} {
			resp := b.gql(t, `mutation($u: String) { createMailing(input: {startAt: "2030-01-01T00:00:00Z", endAt: "2030-01-02T00:00:00Z", text: "x", webhookUrl: $u}) { id } }`, map[string]any{"u": bad})
			requireBadInput(t, resp, "webhookUrl")
			resp = b.gql(t, `mutation($id: ID!, $u: String) { updateMailing(id: $id, input: {webhookUrl: $u}) { id } }`, map[string]any{"id": id, "u": bad})
			requireBadInput(t, resp, "webhookUrl")
		}
		rest := newRESTClient(t, b)
		res := rest.do(t, "POST", "/mailings/", map[string]any{
			"start_at": start, "end_at": start.Add(time.Hour), "text": "x", "webhook_url": "https://user:pw@hooks.example/n",
		}, invalidRequest)
		require.Equal(t, http.StatusBadRequest, res.Status, "body: %s", res.Body)
		require.Contains(t, res.object(t), "webhook_url")
		require.NotContains(t, string(res.Body), "pw@", "the refusal does not repeat the URL")
	})
}

// TestWebhookURLHiddenFromViewers: a mailing's webhookUrl may carry its
// receiver's token, so viewers read it as null, in GraphQL (one mailing, a
// page of them) and REST (the mailing, the list, its detailed
// statistics); operators, who set it, and admins read it.
func TestWebhookURLHiddenFromViewers(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		rc := newReceiver(t, nil)
		b := webhookSetup(t, dbURL, rc, 2*time.Second, 50*time.Millisecond, setupOpts{env: map[string]string{"API_TOKENS": roleTokensEnv()}})
		const hook = "https://hooks.example/notify?token=s3cret-of-the-receiver"
		start := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		end := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
		r := auditGQL(t, b, roleTokens[auth.Operator], "", `mutation { createMailing(input: {startAt: "`+start+`", endAt: "`+end+`", text: "x", webhookUrl: "`+hook+`"}) { id webhookUrl } }`)
		id := gqlID(t, r, "createMailing")
		require.Contains(t, string(r.Data), hook)

		for role, want := range map[auth.Role]any{auth.Viewer: nil, auth.Operator: hook, auth.Admin: hook} {
			token := roleTokens[role]
			r := auditGQL(t, b, token, "", fmt.Sprintf(`{ mailing(id: %d) { webhookUrl } mailings(first: 10) { edges { node { id webhookUrl } } } }`, id))
			require.Empty(t, r.Errors, "%s: %+v", role, r.Errors)
			var data struct {
				Mailing  struct{ WebhookURL any }
				Mailings struct {
					Edges []struct{ Node struct{ WebhookURL any } }
				}
			}
			require.NoError(t, json.Unmarshal(r.Data, &data))
			require.Equal(t, want, data.Mailing.WebhookURL, role.String())
			require.Len(t, data.Mailings.Edges, 1)
			require.Equal(t, want, data.Mailings.Edges[0].Node.WebhookURL, role.String())

			for _, path := range []string{fmt.Sprintf("/mailings/%d/", id), "/mailings/"} {
				code, body := auditHTTP(t, b, http.MethodGet, path, token, "", nil)
				require.Equal(t, http.StatusOK, code, "%s", body)
				if want == nil {
					require.NotContains(t, string(body), "s3cret", "%s reads %s", role, path)
				} else {
					require.Contains(t, string(body), "s3cret", "%s reads %s", role, path)
				}
			}
			code, body := auditHTTP(t, b, http.MethodGet, fmt.Sprintf("/mailings/%d/detail_statistics/", id), token, "", nil)
			require.Equal(t, http.StatusOK, code, "%s", body)
			var detail struct {
				Mailing map[string]any `json:"mailing"`
			}
			require.NoError(t, json.Unmarshal(body, &detail))
			require.Contains(t, detail.Mailing, "webhook_url")
			require.Equal(t, want, detail.Mailing["webhook_url"], role.String())
		}
	})
}

// TestWebhookReceiverHangs: a receiver that does not answer costs one
// attempt its timeout, recorded as such; the delivery is tried again and
// delivered once the receiver answers.
func TestWebhookReceiverHangs(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		release := make(chan struct{})
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
			if n == 1 {
				select { // hang until the client gives up
				case <-r.Context().Done():
				case <-release:
				}
				return false
			}
			return true
		})
		t.Cleanup(func() { close(release) })
		b := webhookSetup(t, dbURL, rc, 300*time.Millisecond, 50*time.Millisecond, setupOpts{})
		b.cancelledMailing(t, "")
		rc.waitEvents(t, 30*time.Second, "the retried delivery", func(es []receivedEvent) bool { return len(es) == 1 })
		waitFor(t, 10*time.Second, "the delivery recorded", func() bool { return b.deliveries(t)[0].State == status.Delivered })
		d := b.deliveries(t)[0]
		require.Equal(t, 2, d.Attempts)
		require.Len(t, rc.attemptTimes(), 2)
		requireWebhookLogged(t, b, "no answer within 300ms")
	})
}

// TestWebhookReceiverAnswers500: a receiver that answers 500 is tried again
// with a growing backoff; the last status and error are visible meanwhile.
func TestWebhookReceiverAnswers500(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
			if n <= 3 {
				http.Error(w, "busy", http.StatusInternalServerError)
				return false
			}
			return true
		})
		const backoff = 200 * time.Millisecond
		b := webhookSetup(t, dbURL, rc, 2*time.Second, backoff, setupOpts{})
		b.cancelledMailing(t, "")

		waitFor(t, 20*time.Second, "a failed attempt recorded", func() bool { return b.deliveries(t)[0].Attempts >= 1 })
		d := b.deliveries(t)[0]
		if d.State == status.Pending { // not yet delivered: the failure shows
			require.Equal(t, http.StatusInternalServerError, *d.LastStatus)
			require.Contains(t, *d.LastError, "answered 500 busy")
			require.NotNil(t, d.NextAttemptAt)
		}
		rc.waitEvents(t, 30*time.Second, "the fourth attempt taken", func(es []receivedEvent) bool { return len(es) == 1 })
		waitFor(t, 10*time.Second, "the delivery recorded", func() bool { return b.deliveries(t)[0].State == status.Delivered })
		d = b.deliveries(t)[0]
		require.Equal(t, 4, d.Attempts)
		require.Nil(t, d.LastError)
		require.Nil(t, d.NextAttemptAt)
		// Each wait at least its backoff (200, 400, 800 ms), so the third
		// is longer than the first.
		at := rc.attemptTimes()
		require.Len(t, at, 4)
		for i, least := range []time.Duration{backoff, 2 * backoff, 4 * backoff} {
			require.GreaterOrEqual(t, at[i+1].Sub(at[i]), least, "wait before attempt %d", i+2)
		}
	})
}

// TestWebhookReceiverClosesConnection: a receiver that closes the
// connection without answering is tried again, with no status recorded.
func TestWebhookReceiverClosesConnection(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
			if n <= 2 {
				conn, _, err := http.NewResponseController(w).Hijack()
				require.NoError(t, err)
				conn.Close()
				return false
			}
			return true
		})
		b := webhookSetup(t, dbURL, rc, 2*time.Second, 50*time.Millisecond, setupOpts{})
		b.cancelledMailing(t, "")
		rc.waitEvents(t, 30*time.Second, "the third attempt taken", func(es []receivedEvent) bool { return len(es) == 1 })
		waitFor(t, 10*time.Second, "the delivery recorded", func() bool { return b.deliveries(t)[0].State == status.Delivered })
		require.Equal(t, 3, b.deliveries(t)[0].Attempts)
		requireWebhookLogged(t, b, "EOF")
	})
}

// TestWebhookReceiverHangingDoesNotBlockSending: while every webhook
// request hangs, mailings still go out and finish; their deliveries wait,
// tried again, on a queue of their own.
func TestWebhookReceiverHangingDoesNotBlockSending(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		release := make(chan struct{})
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
			select {
			case <-r.Context().Done():
				return false
			case <-release:
				return true
			}
		})
		b := webhookSetup(t, dbURL, rc, 5*time.Second, 50*time.Millisecond, setupOpts{})
		b.createClients(t, 0, 300, "UTC")
		now := time.Now()
		var ids []string
		for range 3 {
			ids = append(ids, b.createMailing(t, now.Add(-time.Minute), now.Add(time.Hour), ""))
		}
		for _, id := range ids {
			b.waitMailing(t, id, "FINISHED", time.Minute)
		}
		requireEachSentOnce(t, b, 900)
		require.Empty(t, rc.taken(), "nothing delivered while the receiver hangs")
		require.NotEmpty(t, rc.attemptTimes(), "the deliveries were being tried")
		close(release)
		rc.waitEvents(t, time.Minute, "every event once the receiver answers", func(es []receivedEvent) bool { return len(es) >= 6 })
	})
}

// TestWebhookConfig: WEBHOOK_URL without WEBHOOK_SECRET stops the start
// naming the variable; a malformed secret too; the secret is never in the
// error.
func TestWebhookConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"WEBHOOK_URL": "https://hooks.example/n"}, "WEBHOOK_SECRET: required with WEBHOOK_URL"},
		{map[string]string{"WEBHOOK_URL": "ftp://hooks.example/n", "WEBHOOK_SECRET": testWebhookSecret}, "WEBHOOK_URL: must be an http(s) URL"},
		{map[string]string{"WEBHOOK_SECRET": "whsec_not base64!"}, "WEBHOOK_SECRET: must be whsec_ followed by base64"},
		{map[string]string{"WEBHOOK_SECRET": "whsec_" + base64.StdEncoding.EncodeToString([]byte("short"))}, "WEBHOOK_SECRET: must hold at least 16 bytes"},
	} {
		_, err := config.Load(func(k string) string { return tc.env[k] })
		require.ErrorContains(t, err, tc.want)
	}
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"WEBHOOK_URL": "https://u:pw-of-hook@hooks.example/n", "WEBHOOK_SECRET": testWebhookSecret}[k]
	})
	require.NoError(t, err)
	redacted := config.Redact("url "+cfg.WebhookURL+" secret "+testWebhookSecret, cfg.Secrets())
	require.NotContains(t, redacted, "pw-of-hook")
	require.NotContains(t, redacted, strings.TrimPrefix(testWebhookSecret, "whsec_"))
}

// requireWebhookLogged asserts a webhook attempt was logged with text in
// its error.
func requireWebhookLogged(t *testing.T, b *testBundle, text string) {
	t.Helper()
	for line := range strings.SplitSeq(b.logs.String(), "\n") {
		if strings.Contains(line, `"msg":"webhook attempt"`) && strings.Contains(line, text) {
			return
		}
	}
	t.Fatalf("no webhook attempt logged with %q", text)
}

// TestWebhookImportFinished: a CSV import announces import.finished with
// its counts, whether it finished or was refused.
func TestWebhookImportFinished(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		rc := newReceiver(t, nil)
		b := webhookSetup(t, dbURL, rc, 2*time.Second, 50*time.Millisecond, setupOpts{})
		c := newRESTClient(t, b)
		res := c.do(t, "POST", "/clients/import/", typedBody{"text/csv", "phone,tag\n79000000001,a\n79000000002,b\n"})
		require.Equal(t, http.StatusCreated, res.Status, "body: %s", res.Body)
		res = c.do(t, "POST", "/clients/import/", typedBody{"text/csv", "phone\nbad\n"})
		require.Equal(t, http.StatusBadRequest, res.Status, "body: %s", res.Body)
		events := rc.waitEvents(t, 30*time.Second, "two imports", func(es []receivedEvent) bool { return len(es) == 2 })
		byState := map[string]map[string]any{}
		for _, e := range events {
			require.Equal(t, "import.finished", e.Payload.Type)
			byState[e.Payload.Data["state"].(string)] = e.Payload.Data
		}
		require.EqualValues(t, 2, byState["finished"]["imported"])
		require.EqualValues(t, 1, byState["failed"]["errors"])
	})
}
