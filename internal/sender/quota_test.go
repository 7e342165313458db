package sender

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// quotaFunc is a Quota from a function.
type quotaFunc func(ctx context.Context) error

func (f quotaFunc) Wait(ctx context.Context) error { return f(ctx) }

// Every request asks the cluster quota first; a refusal sends nothing and
// spends no attempt.
func TestQuota(t *testing.T) {
	t.Parallel()
	var requests, waits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		io.WriteString(w, okBody)
	}))
	defer srv.Close()
	refuse := errors.New("error claiming the cluster quota: connection refused")
	var fail atomic.Bool
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Quota = quotaFunc(func(ctx context.Context) error {
			waits.Add(1)
			if fail.Load() {
				return refuse
			}
			return nil
		})
	})

	res := c.Send(bounded(t), testRequest(1), nil)
	require.Equal(t, Sent, res.Outcome)
	require.Equal(t, int32(1), waits.Load())
	require.Equal(t, int32(1), requests.Load())

	fail.Store(true)
	var written atomic.Int32
	res = c.Send(bounded(t), testRequest(2), func() { written.Add(1) })
	require.Equal(t, Transient, res.Outcome)
	require.ErrorIs(t, res.Err, refuse)
	require.False(t, res.Attempted)
	require.Equal(t, int32(1), written.Load(), "onWritten is called all the same")
	require.Equal(t, int32(1), requests.Load(), "nothing sent")
}

// A quota wait cut by the request's deadline, or by the caller, is reported
// as such and sends nothing.
func TestQuotaWaitCut(t *testing.T) {
	t.Parallel()
	block := quotaFunc(func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	})
	c := newTestClient(t, "http://127.0.0.1:9", func(cfg *Config) { cfg.Quota = block })
	res := c.Send(bounded(t), Request{ID: 1, Phone: "79001234567", Deadline: time.Now().Add(50 * time.Millisecond)}, nil)
	require.Equal(t, Transient, res.Outcome)
	require.ErrorIs(t, res.Err, context.DeadlineExceeded)
	require.ErrorContains(t, res.Err, "cluster quota")
	require.False(t, res.Attempted)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res = c.Send(ctx, testRequest(2), nil)
	require.Equal(t, Transient, res.Outcome)
	require.ErrorIs(t, res.Err, context.Canceled)
	require.False(t, res.Attempted)
}

// A request's deadline is its whole Timeout from when it starts, after any
// wait for the limiter or the quota, capped at the mailing's end.
func TestRequestDeadline(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, "http://127.0.0.1:9", func(cfg *Config) { cfg.Timeout = 10 * time.Second })
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	d, byEnd, ok := c.deadline(now, time.Time{})
	require.True(t, ok)
	require.False(t, byEnd)
	require.Equal(t, now.Add(10*time.Second), d)
	d, byEnd, ok = c.deadline(now, now.Add(time.Minute))
	require.True(t, ok && !byEnd)
	require.Equal(t, now.Add(10*time.Second), d)
	d, byEnd, ok = c.deadline(now, now.Add(3*time.Second))
	require.True(t, ok && byEnd)
	require.Equal(t, now.Add(3*time.Second), d)
	_, _, ok = c.deadline(now, now)
	require.False(t, ok, "no request at or after the end")
}
