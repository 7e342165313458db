package sender

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNew(t *testing.T) {
	t.Parallel()

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		c, err := New(Config{BaseURL: "http://127.0.0.1:9/api/"})
		require.NoError(t, err)
		defer c.Close()
		require.Equal(t, DefaultTimeout, c.cfg.Timeout)
		require.Equal(t, DefaultConcurrency, c.Concurrency())
		require.Equal(t, DefaultFailureThreshold, c.cfg.Breaker.FailureThreshold)
		require.Equal(t, DefaultOpenFor, c.cfg.Breaker.OpenFor)
		require.Equal(t, DefaultMaxOpenFor, c.cfg.Breaker.MaxOpenFor)
		require.Nil(t, c.limiter)
		require.Equal(t, "http://127.0.0.1:9/api/v1/send/", c.urlPrefix)
		require.Equal(t, DefaultConcurrency, c.transport.MaxConnsPerHost)
		require.Equal(t, DefaultConcurrency, c.transport.MaxIdleConnsPerHost)
		require.Equal(t, Closed, c.State())
	})

	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"Empty", Config{}, "BaseURL"},
		{"Relative", Config{BaseURL: "/v1"}, "absolute http(s) URL"},
		{"NoHost", Config{BaseURL: "http://"}, "absolute http(s) URL"},
		{"Scheme", Config{BaseURL: "ftp://example.com"}, "absolute http(s) URL"},
		{"Query", Config{BaseURL: "http://example.com/?a=b"}, "query"},
		{"Unparsable", Config{BaseURL: "http://[::1"}, "BaseURL"},
		{"Timeout", Config{BaseURL: "http://x", Timeout: -1}, "Timeout"},
		{"Concurrency", Config{BaseURL: "http://x", Concurrency: -1}, "Concurrency"},
		{"MaxRPS", Config{BaseURL: "http://x", MaxRPS: -1}, "MaxRPS"},
		{"Threshold", Config{BaseURL: "http://x", Breaker: BreakerConfig{FailureThreshold: -1}}, "FailureThreshold"},
		{"MaxOpenFor", Config{BaseURL: "http://x", Breaker: BreakerConfig{OpenFor: time.Minute, MaxOpenFor: time.Second}}, "MaxOpenFor"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}

	t.Run("TokenNotInErrors", func(t *testing.T) {
		t.Parallel()
		_, err := New(Config{BaseURL: "ftp://user:pw@example.com", Token: "tok"})
		require.Error(t, err)
		require.NotContains(t, err.Error(), "pw")
		require.NotContains(t, err.Error(), "tok")
	})
}

func TestSendWireFormat(t *testing.T) {
	t.Parallel()

	type captured struct {
		method, path, auth, contentType string
		body                            []byte
	}
	got := make(chan captured, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- captured{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), body}
		io.WriteString(w, okBody)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL+"/", nil)

	text := "He said \"hi\" \\ back\nПривет, мир 👋\t\r\x01\x1f end\u2028<&>"
	res := c.Send(bounded(t), Request{ID: 4200000000042, Phone: "79001234567", Text: text}, nil)
	require.Equal(t, Sent, res.Outcome, "%v", res.Err)
	require.NoError(t, res.Err)
	require.Equal(t, http.StatusOK, res.Status)
	require.True(t, res.Attempted)

	req := <-got
	require.Equal(t, http.MethodPost, req.method)
	require.Equal(t, "/v1/send/4200000000042", req.path)
	require.Equal(t, "Bearer s3cret-token", req.auth)
	require.Equal(t, "application/json", req.contentType)
	require.True(t, bytes.HasPrefix(req.body, []byte(`{"id":4200000000042,"phone":79001234567,"text":"`)), "%s", req.body)

	dec := json.NewDecoder(bytes.NewReader(req.body))
	dec.UseNumber()
	var body map[string]any
	require.NoError(t, dec.Decode(&body))
	require.Equal(t, map[string]any{
		"id":    json.Number("4200000000042"),
		"phone": json.Number("79001234567"), // a JSON integer, not a string
		"text":  text,
	}, body)
}

func TestSendNoToken(t *testing.T) {
	t.Parallel()
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Values("Authorization"))
		io.WriteString(w, okBody)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Token = "" })
	require.Equal(t, Sent, c.Send(bounded(t), testRequest(1), nil).Outcome)
	require.Empty(t, auth.Load())
}

// answerRow is one canned answer of the classification server.
type answerRow struct {
	name       string
	status     int
	body       string
	header     map[string]string
	want       Outcome
	wantErr    string // substring of Err; "" means Err is nil
	retryAfter time.Duration
}

func TestSendClassification(t *testing.T) {
	t.Parallel()

	clock := newFakeClock()
	rows := []answerRow{
		{name: "OK", status: 200, body: okBody, want: Sent},
		{name: "OKSpaced", status: 200, body: "{ \"code\": 0, \"message\": \"queued\" }\n", want: Sent},
		{name: "OKNoMessage", status: 200, body: `{"code":0}`, want: Sent},
		{name: "OKFloatZero", status: 200, body: `{"code":0.0,"message":"OK"}`, want: Sent},
		{name: "NonZeroCode", status: 200, body: `{"code":7,"message":"no balance"}`, want: Transient, wantErr: "code 7: no balance"},
		{name: "NegativeCode", status: 200, body: `{"code":-1}`, want: Transient, wantErr: "code -1"},
		{name: "Garbage", status: 200, body: "<html>oops</html>", want: Transient, wantErr: "malformed body"},
		{name: "Empty", status: 200, body: "", want: Transient, wantErr: "malformed body"},
		{name: "Array", status: 200, body: `[{"code":0}]`, want: Transient, wantErr: "malformed body"},
		{name: "Null", status: 200, body: `null`, want: Transient, wantErr: "malformed body"},
		{name: "NoCode", status: 200, body: `{"message":"OK"}`, want: Transient, wantErr: "malformed body: no code"},
		{name: "NullCode", status: 200, body: `{"code":null}`, want: Transient, wantErr: "malformed body: no code"},
		{name: "StringCode", status: 200, body: `{"code":"0"}`, want: Transient, wantErr: "malformed body: code is not a number"},
		{name: "Truncated", status: 200, body: `{"code":0,"mess`, want: Transient, wantErr: "malformed body"},
		{name: "500", status: 500, body: "boom", want: Transient, wantErr: "http 500"},
		{name: "502", status: 502, want: Transient, wantErr: "http 502"},
		{name: "500RetryAfterIgnored", status: 500, header: map[string]string{"Retry-After": "5"}, want: Transient, wantErr: "http 500"},
		{name: "503RetryAfterSeconds", status: 503, header: map[string]string{"Retry-After": "7"}, want: Transient, wantErr: "http 503", retryAfter: 7 * time.Second},
		{name: "503RetryAfterDate", status: 503, header: map[string]string{"Retry-After": clock.Now().Add(90 * time.Second).Format(http.TimeFormat)}, want: Transient, wantErr: "http 503", retryAfter: 90 * time.Second},
		{name: "429RetryAfter", status: 429, header: map[string]string{"Retry-After": "2"}, want: Transient, wantErr: "http 429", retryAfter: 2 * time.Second},
		{name: "429RetryAfterHuge", status: 429, header: map[string]string{"Retry-After": "999999999999"}, want: Transient, wantErr: "http 429", retryAfter: MaxRetryAfter},
		{name: "429NoRetryAfter", status: 429, want: Transient, wantErr: "http 429"},
		{name: "401", status: 401, body: `{"error":"bad token"}`, want: Transient, wantErr: "http 401"},
		{name: "403", status: 403, want: Transient, wantErr: "http 403"},
		{name: "408", status: 408, want: Transient, wantErr: "http 408"},
		{name: "400", status: 400, body: `{"error":"bad phone"}`, want: Permanent, wantErr: `http 400: {"error":"bad phone"}`},
		{name: "404", status: 404, want: Permanent, wantErr: "http 404"},
		{name: "422", status: 422, body: "text is empty\n", want: Permanent, wantErr: "http 422: text is empty"},
		{name: "400Long", status: 400, body: strings.Repeat("x", 100<<10), want: Permanent, wantErr: "http 400: " + strings.Repeat("x", maxSnippet)},
		{name: "201", status: 201, body: okBody, want: Transient, wantErr: "unexpected http 201"},
		{name: "302", status: 302, header: map[string]string{"Location": "/elsewhere"}, want: Transient, wantErr: "unexpected http 302"},
	}

	byID := make(map[string]answerRow, len(rows))
	for i, row := range rows {
		byID[strconv.Itoa(i+1)] = row
	}
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		row := byID[strings.TrimPrefix(r.URL.Path, sendPath)]
		for k, v := range row.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(row.status)
		io.WriteString(w, row.body)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Now = clock.Now
		cfg.Breaker.FailureThreshold = 1000
	})

	// Sequential on purpose: every answer, however odd, must leave the
	// connection reusable, so the whole table runs over one connection.
	for i, row := range rows {
		res := c.Send(bounded(t), testRequest(int64(i+1)), nil)
		require.Equal(t, row.want, res.Outcome, "%s: %v", row.name, res.Err)
		require.Equal(t, row.status, res.Status, row.name)
		require.Equal(t, row.retryAfter, res.RetryAfter, row.name)
		require.True(t, res.Attempted, row.name)
		if row.wantErr == "" {
			require.NoError(t, res.Err, row.name)
		} else {
			require.ErrorContains(t, res.Err, row.wantErr, row.name)
			require.LessOrEqual(t, len(res.Err.Error()), len("http 400: ")+maxSnippet, row.name)
		}
	}
	require.Equal(t, int32(1), conns.Load(), "connections were not reused")
}

func TestSendDroppedConnection(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)

	var written atomic.Int32
	res := c.Send(bounded(t), testRequest(1), func() { written.Add(1) })
	require.Equal(t, Transient, res.Outcome)
	require.Zero(t, res.Status)
	require.ErrorContains(t, res.Err, "network error")
	require.NotContains(t, res.Err.Error(), srv.URL, "the URL is noise in last_error")
	require.True(t, res.Attempted)
	require.Equal(t, int32(1), written.Load())
}

func TestSendConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c := newTestClient(t, "http://"+addr, nil)

	var written atomic.Int32
	res := c.Send(bounded(t), testRequest(1), func() { written.Add(1) })
	require.Equal(t, Transient, res.Outcome)
	require.Zero(t, res.Status)
	require.ErrorContains(t, res.Err, "network error")
	require.ErrorContains(t, res.Err, "refused")
	require.True(t, res.Attempted)
	require.Equal(t, int32(1), written.Load(), "onWritten must be called when the attempt fails before writing")
}

// blockingServer answers nothing until the client goes away; started
// receives each request as it arrives.
func blockingServer(t *testing.T) (srv *httptest.Server, started chan struct{}) {
	t.Helper()
	started = make(chan struct{}, 16)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		started <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv, started
}

func TestSendTimeout(t *testing.T) {
	t.Parallel()
	srv, _ := blockingServer(t)
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Timeout = 50 * time.Millisecond })

	var written atomic.Int32
	res := c.Send(bounded(t), testRequest(1), func() { written.Add(1) })
	require.Equal(t, Transient, res.Outcome)
	require.Zero(t, res.Status)
	require.EqualError(t, res.Err, "timeout after 50ms: context deadline exceeded")
	require.ErrorIs(t, res.Err, context.DeadlineExceeded)
	require.GreaterOrEqual(t, res.Duration, 40*time.Millisecond) // measured from just after the deadline was set
	require.True(t, res.Attempted)
	require.Equal(t, int32(1), written.Load())

	c.breaker.mu.Lock()
	defer c.breaker.mu.Unlock()
	require.Equal(t, 1, c.breaker.failures, "a timeout is a sender failure")
}

func TestSendDeadline(t *testing.T) {
	t.Parallel()

	t.Run("CapsTheRequest", func(t *testing.T) {
		t.Parallel()
		srv, _ := blockingServer(t)
		c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Timeout = time.Minute })

		res := c.Send(bounded(t), Request{ID: 1, Phone: "79001234567", Deadline: time.Now().Add(50 * time.Millisecond)}, nil)
		require.Equal(t, Transient, res.Outcome)
		require.ErrorContains(t, res.Err, "deadline reached after")
		require.ErrorIs(t, res.Err, context.DeadlineExceeded)
		require.Less(t, res.Duration, 30*time.Second, "capped at Deadline, not Timeout")
		require.True(t, res.Attempted)

		c.breaker.mu.Lock()
		defer c.breaker.mu.Unlock()
		require.Zero(t, c.breaker.failures, "the mailing's end says nothing about the sender")
	})

	t.Run("LaterThanTimeout", func(t *testing.T) {
		t.Parallel()
		srv, _ := blockingServer(t)
		c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Timeout = 50 * time.Millisecond })

		res := c.Send(bounded(t), Request{ID: 1, Phone: "79001234567", Deadline: time.Now().Add(time.Hour)}, nil)
		require.EqualError(t, res.Err, "timeout after 50ms: context deadline exceeded")
	})

	t.Run("AlreadyPassed", func(t *testing.T) {
		t.Parallel()
		var requests atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { requests.Add(1) }))
		defer srv.Close()
		c := newTestClient(t, srv.URL, nil)

		var written atomic.Int32
		for _, deadline := range []time.Time{time.Now().Add(-time.Second), time.Now()} {
			res := c.Send(bounded(t), Request{ID: 1, Phone: "79001234567", Deadline: deadline}, func() { written.Add(1) })
			require.Equal(t, Transient, res.Outcome)
			require.ErrorIs(t, res.Err, ErrDeadlinePassed)
			require.False(t, res.Attempted)
		}
		require.Equal(t, int32(2), written.Load())
		require.Zero(t, requests.Load())
	})
}

func TestSendCancelled(t *testing.T) {
	t.Parallel()

	t.Run("InFlight", func(t *testing.T) {
		t.Parallel()
		srv, started := blockingServer(t)
		c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Breaker.FailureThreshold = 1 })

		ctx, cancel := context.WithCancel(bounded(t))
		go func() {
			select {
			case <-started:
			case <-time.After(30 * time.Second):
			}
			cancel()
		}()
		res := c.Send(ctx, testRequest(1), nil)
		require.Equal(t, Transient, res.Outcome)
		require.ErrorContains(t, res.Err, "cancelled")
		require.ErrorIs(t, res.Err, context.Canceled)
		require.Equal(t, Closed, c.State(), "a caller's cancellation is not a sender failure")
	})

	t.Run("Before", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t, "http://127.0.0.1:9", nil)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		var written atomic.Int32
		res := c.Send(ctx, testRequest(1), func() { written.Add(1) })
		require.Equal(t, Transient, res.Outcome)
		require.ErrorIs(t, res.Err, context.Canceled)
		require.Equal(t, int32(1), written.Load())
	})
}

func TestSendInvalidPhone(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, "http://127.0.0.1:9", nil)
	for _, phone := range []string{"", "+79001234567", "7900 123", "07900123456", "7900123456712345678"} {
		var written atomic.Int32
		res := c.Send(bounded(t), Request{ID: 1, Phone: phone}, func() { written.Add(1) })
		require.Equal(t, Permanent, res.Outcome, phone)
		require.ErrorContains(t, res.Err, "invalid phone", phone)
		require.False(t, res.Attempted, phone)
		require.Equal(t, int32(1), written.Load(), phone)
	}
}

func TestSendOnWritten(t *testing.T) {
	t.Parallel()

	wrote := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		// The answer waits for onWritten: it fires on writing, not on the answer.
		select {
		case <-wrote:
			io.WriteString(w, okBody)
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)

	var calls atomic.Int32
	res := c.Send(bounded(t), testRequest(1), func() {
		if calls.Add(1) == 1 {
			close(wrote)
		}
	})
	require.Equal(t, Sent, res.Outcome, "%v", res.Err)
	require.Equal(t, int32(1), calls.Load())
}

func TestSendObserver(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, okBody)
	}))
	defer srv.Close()
	obs := &recordingObserver{}
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Observer = obs })

	require.Equal(t, Sent, c.Send(bounded(t), testRequest(1), nil).Outcome)
	require.Equal(t, Permanent, c.Send(bounded(t), Request{ID: 2, Phone: "x"}, nil).Outcome)
	obs.mu.Lock()
	defer obs.mu.Unlock()
	require.Equal(t, []Outcome{Sent}, obs.sends, "only attempted requests are observed")
}

func TestRateLimiter(t *testing.T) {
	t.Parallel()
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		io.WriteString(w, okBody)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxRPS = 50 })
	require.NotNil(t, c.limiter)
	require.Equal(t, 1, c.limiter.Burst())

	start := time.Now()
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			res := c.Send(bounded(t), testRequest(int64(i+1)), nil)
			require.Equal(t, Sent, res.Outcome)
		})
	}
	wg.Wait()
	require.Equal(t, int32(10), requests.Load())
	// Ten reservations against a burst of one: the limiter's bucket, seen from
	// the moment they started, is ten tokens short of full (minus the refill
	// while the goroutines were being scheduled).
	require.Less(t, c.limiter.TokensAt(start), -8.0)
}

func TestRateLimiterDeadline(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, "http://127.0.0.1:9", func(cfg *Config) { cfg.MaxRPS = 0.001 })
	c.limiter.Allow() // spend the burst; the next token is ~17 minutes away

	var written atomic.Int32
	res := c.Send(bounded(t), Request{ID: 1, Phone: "79001234567", Deadline: time.Now().Add(time.Minute)}, func() { written.Add(1) })
	require.Equal(t, Transient, res.Outcome)
	require.ErrorContains(t, res.Err, "rate limit")
	require.False(t, res.Attempted)
	require.Equal(t, int32(1), written.Load())
}

func TestSlots(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, "http://127.0.0.1:9", func(cfg *Config) { cfg.Concurrency = 3 })

	require.NoError(t, c.Acquire(bounded(t)))
	require.Equal(t, 2, c.TryAcquire(5))
	require.Equal(t, 0, c.TryAcquire(1))
	require.Equal(t, 0, c.TryAcquire(-1))
	require.Equal(t, 3, c.InFlight())

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, c.Acquire(ctx), context.Canceled)

	c.Release(2)
	require.Equal(t, 1, c.InFlight())
	require.Equal(t, 1, c.TryAcquire(1))
	c.Release(2)
	require.Zero(t, c.InFlight())
	require.Panics(t, func() { c.Release(1) })
}

func TestConcurrencyLimit(t *testing.T) {
	t.Parallel()
	const limit = 4

	var cur, peak atomic.Int32
	full := make(chan struct{})
	var fullOnce sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n := cur.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		if n == limit {
			fullOnce.Do(func() { close(full) })
		}
		// Hold the first requests until the limit is reached, so the test
		// proves both that it is reached and that it is never passed.
		select {
		case <-full:
		case <-time.After(30 * time.Second):
		}
		cur.Add(-1)
		io.WriteString(w, okBody)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Concurrency = limit })

	var wg sync.WaitGroup
	var sent atomic.Int32
	for i := range 40 {
		wg.Go(func() {
			ctx := bounded(t)
			if err := c.Acquire(ctx); err != nil {
				return
			}
			defer c.Release(1)
			if c.Send(ctx, testRequest(int64(i)), nil).Outcome == Sent {
				sent.Add(1)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int32(40), sent.Load())
	require.Equal(t, int32(limit), peak.Load())
}

func TestOutcomeString(t *testing.T) {
	t.Parallel()
	require.Equal(t, "sent", Sent.String())
	require.Equal(t, "transient", Transient.String())
	require.Equal(t, "permanent", Permanent.String())
	require.Equal(t, "outcome(9)", Outcome(9).String())
}

func ExampleClient_Send() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"code":0,"message":"OK"}`)
	}))
	defer api.Close()

	client, err := New(Config{BaseURL: api.URL, Token: "token", Concurrency: 8})
	if err != nil {
		panic(err)
	}
	defer client.Close()

	ctx := context.Background()
	if ok, retryAt := client.Allow(); !ok {
		fmt.Println("sender is down, defer until", retryAt)
		return
	}
	if err := client.Acquire(ctx); err != nil {
		panic(err)
	}
	n := 1 + client.TryAcquire(3) // up to 3 more without waiting
	defer client.Release(n)

	res := client.Send(ctx, Request{ID: 1, Phone: "79001234567", Text: "Hello"}, func() {
		// The request is on the wire: the admission lock can be released.
	})
	switch res.Outcome {
	case Sent:
		fmt.Println("sent, slots taken:", n)
	case Transient:
		fmt.Println("retry at", NextAttempt(time.Now(), 1, res, nil), "because", res.Err)
	case Permanent:
		fmt.Println("failed:", res.Err)
	}
	// Output: sent, slots taken: 4
}
