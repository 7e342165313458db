package graph

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/lockedbuf"
	"github.com/notifyhq/notify/internal/requestlog"
)

// TestSubscriptionPanicIsAnInternalError: a subscription whose resolver
// panics (here: no event bus) reaches the client as "internal error" with
// the request id to quote, the panic itself only in the log.
func TestSubscriptionPanicIsAnInternalError(t *testing.T) {
	t.Parallel()
	logs := &lockedbuf.Buffer{}
	logger := slog.New(requestlog.NewHandler(slog.NewJSONHandler(logs, nil)))
	srv := httptest.NewServer(requestlog.Middleware(logger, NewHandler(HandlerConfig{Logger: logger})))
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/query", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
		HTTPHeader:   map[string][]string{"X-Request-Id": {"req-panic-1"}},
	})
	require.NoError(t, err)
	defer conn.CloseNow()
	type msg struct {
		ID      string          `json:"id,omitempty"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload,omitempty"`
	}
	require.NoError(t, wsjson.Write(ctx, conn, msg{Type: "connection_init"}))
	var m msg
	require.NoError(t, wsjson.Read(ctx, conn, &m))
	require.Equal(t, "connection_ack", m.Type)
	require.NoError(t, wsjson.Write(ctx, conn, msg{ID: "1", Type: "subscribe", Payload: json.RawMessage(`{"query": "subscription { mailingProgress(mailingID: 1) { total } }"}`)}))
	for m.Type != "next" && m.Type != "error" {
		require.NoError(t, wsjson.Read(ctx, conn, &m))
	}
	var errs []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	}
	if m.Type == "next" {
		var r struct {
			Errors json.RawMessage `json:"errors"`
		}
		require.NoError(t, json.Unmarshal(m.Payload, &r))
		m.Payload = r.Errors
	}
	require.NoError(t, json.Unmarshal(m.Payload, &errs), "%s", m.Payload)
	require.Len(t, errs, 1)
	require.Equal(t, "internal error", errs[0].Message)
	require.Equal(t, CodeInternal, errs[0].Extensions["code"])
	require.Equal(t, "req-panic-1", errs[0].Extensions["requestId"])
	require.NotContains(t, string(m.Payload), "nil pointer")
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "req-panic-1") }, 5*time.Second, 10*time.Millisecond)
}
