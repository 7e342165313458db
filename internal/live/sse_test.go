package live

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/graph/generated"
)

// TestSSEStreamLimit: SSE never serves a request that says Upgrade, and
// serves at most its limit of streams at once.
func TestSSEStreamLimit(t *testing.T) {
	t.Parallel()
	exec := executor.New(generated.NewExecutableSchema(generated.Config{}))
	tr := SSE(2).(sseTransport)
	request := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(`{"query": "{ __typename }"}`))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Accept", "text/event-stream")
		return r.WithContext(graphql.StartOperationTrace(r.Context())) // as handler.Server does
	}
	require.True(t, tr.Supports(request()))
	r := request()
	r.Header.Set("Upgrade", "websocket")
	require.False(t, tr.Supports(r))

	// Below the limit a stream is served, and counted only while it runs.
	w := httptest.NewRecorder()
	tr.Do(w, request(), exec)
	require.Equal(t, http.StatusOK, w.Code)
	require.Contains(t, w.Body.String(), `"__typename":"Query"`)
	require.Zero(t, tr.open.Load())

	// At the limit, the next one is refused without running.
	tr.open.Store(2)
	w = httptest.NewRecorder()
	tr.Do(w, request(), exec)
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	require.Contains(t, w.Body.String(), CodeTooManyStreams)
	require.Equal(t, int64(2), tr.open.Load())
}
