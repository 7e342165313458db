package sender

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/notifyhq/notify/internal/testdb"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newFakeClock returns a Config.Now that only moves when told to.
func newFakeClock() *testdb.Clock {
	return testdb.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

// recordingObserver records every hook call.
type recordingObserver struct {
	mu     sync.Mutex
	sends  []Outcome
	states []BreakerState
}

func (o *recordingObserver) ObserveSend(outcome Outcome, _ int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sends = append(o.sends, outcome)
}

func (o *recordingObserver) ObserveBreaker(state BreakerState) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.states = append(o.states, state)
}

func (o *recordingObserver) States() []BreakerState {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]BreakerState(nil), o.states...)
}

// newTestClient returns a Client for baseURL, closed when the test ends.
// Tests adjust cfg through mutate.
func newTestClient(t *testing.T, baseURL string, mutate func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: baseURL, Token: "s3cret-token", Timeout: 5 * time.Second}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// testRequest is a valid request for message id.
func testRequest(id int64) Request {
	return Request{ID: id, Phone: "79001234567", Text: "hello"}
}

// bounded returns a context that ends the test's waits after a generous
// bound instead of hanging forever.
func bounded(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
