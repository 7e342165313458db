package metrics_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/metrics"
	"github.com/notifyhq/notify/internal/status"
)

// scrape returns the text exposition of m's registry.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	return rec.Body.String()
}

// TestHTTPTimesByRoute: requests are timed under the pattern the mux
// matched and the status written (200 when none is); unmatched paths share
// one label.
func TestHTTPTimesByRoute(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Config{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /clients/{id}/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	mux.HandleFunc("GET /empty", func(http.ResponseWriter, *http.Request) {})
	srv := httptest.NewServer(m.HTTP(mux))
	t.Cleanup(srv.Close)
	for _, p := range []string{"/clients/1/", "/clients/2/", "/empty", "/nowhere"} {
		resp, err := http.Get(srv.URL + p)
		require.NoError(t, err)
		resp.Body.Close()
	}
	out := scrape(t, m)
	require.Contains(t, out, `notify_http_request_duration_seconds_count{code="418",method="GET",route="GET /clients/{id}/"} 2`)
	require.Contains(t, out, `notify_http_request_duration_seconds_count{code="200",method="GET",route="GET /empty"} 1`)
	require.Contains(t, out, `notify_http_request_duration_seconds_count{code="404",method="GET",route="unmatched"} 1`)
}

// TestHTTPKeepsStreamingInterfaces: the timed writer still flushes (SSE)
// and hijacks (WebSockets), and streams are not timed.
func TestHTTPKeepsStreamingInterfaces(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Config{})
	flushed, hijacked := make(chan bool, 1), make(chan bool, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /flush", func(w http.ResponseWriter, r *http.Request) {
		_, ok := w.(http.Flusher)
		flushed <- ok
		_, _ = io.WriteString(w, "x")
		_ = http.NewResponseController(w).Flush()
	})
	mux.HandleFunc("GET /hijack", func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		hijacked <- err == nil
		if err == nil {
			_, _ = brw.WriteString("HTTP/1.1 204 No Content\r\n\r\n")
			_ = brw.Flush()
			conn.Close()
		}
	})
	srv := httptest.NewServer(m.HTTP(mux))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/flush")
	require.NoError(t, err)
	resp.Body.Close()
	require.True(t, <-flushed)
	resp, err = http.Get(srv.URL + "/hijack")
	require.NoError(t, err)
	resp.Body.Close()
	require.True(t, <-hijacked)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)

	req, err := http.NewRequest(http.MethodGet, srv.URL+"/flush", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	<-flushed
	count := 0
	sc := bufio.NewScanner(strings.NewReader(scrape(t, m)))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), `notify_http_request_duration_seconds_count{code="200",method="GET",route="GET /flush"}`) {
			count++
			require.True(t, strings.HasSuffix(sc.Text(), " 1"), "the event stream is not timed: %s", sc.Text())
		}
	}
	require.Equal(t, 1, count)
}

// TestPublisherCountsStatusWrites: status writes are counted by status on
// their way to the feed, retries apart, and handed on.
func TestPublisherCountsStatusWrites(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Config{})
	next := &recordingPublisher{}
	p := m.Publisher(next)
	p.MessagesChanged(context.Background(), []campaign.StatusChange{
		{MessageID: 1, Status: status.Sent}, {MessageID: 2, Status: status.Retrying}, {MessageID: 3, Status: status.Retrying},
	})
	p.MailingChanged(context.Background(), 7)
	require.Equal(t, 3, next.messages)
	require.Equal(t, []int{7}, next.mailings)
	out := scrape(t, m)
	require.Contains(t, out, `notify_message_status_changes_total{status="sent"} 1`)
	require.Contains(t, out, `notify_message_status_changes_total{status="retrying"} 2`)
	require.Contains(t, out, "\nnotify_message_retries_total 2\n")
}

type recordingPublisher struct {
	messages int
	mailings []int
}

func (r *recordingPublisher) MessagesChanged(_ context.Context, cs []campaign.StatusChange) {
	r.messages += len(cs)
}
func (r *recordingPublisher) MailingChanged(_ context.Context, id int) {
	r.mailings = append(r.mailings, id)
}
