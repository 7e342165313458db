package live

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/gobwas/ws"
	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/graph/generated"
)

// recordingWebsocket records what gqlgen hands WriteJSON.
type recordingWebsocket struct {
	coderWebsocket
	mu     *sync.Mutex
	values *[]any
}

func (r recordingWebsocket) Accept(w http.ResponseWriter, req *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := r.coderWebsocket.Accept(w, req, o)
	if err != nil {
		return nil, err
	}
	return recordingConn{c.(*coderConn), r}, nil
}

type recordingConn struct {
	*coderConn
	r recordingWebsocket
}

func (c recordingConn) WriteJSON(v any) error {
	c.r.mu.Lock()
	*c.r.values = append(*c.r.values, v)
	c.r.mu.Unlock()
	return c.coderConn.WriteJSON(v)
}

// TestDataMessagesWrittenAsGqlgenWould pins the layout of gqlgen's data
// messages in both protocols (what encoding/json makes of its message
// types): a member writes its data messages itself (writeData), and they
// must be the bytes gqlgen would write. An upgrade of gqlgen that changes
// its messages fails here.
func TestDataMessagesWrittenAsGqlgenWould(t *testing.T) {
	for _, protocol := range []string{"graphql-transport-ws", "graphql-ws"} {
		t.Run(protocol, func(t *testing.T) {
			var (
				mu     sync.Mutex
				values []any
			)
			srv := handler.New(generated.NewExecutableSchema(generated.Config{}))
			srv.AddTransport(transport.Websocket{
				Implementation:        recordingWebsocket{mu: &mu, values: &values},
				KeepAlivePingInterval: time.Hour,
			})
			ts := httptest.NewServer(srv)
			defer ts.Close()

			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http"), &websocket.DialOptions{Subprotocols: []string{protocol}})
			require.NoError(t, err)
			defer conn.CloseNow()
			require.NoError(t, wsjson.Write(ctx, conn, map[string]any{"type": "connection_init"}))
			var ack map[string]any
			require.NoError(t, wsjson.Read(ctx, conn, &ack))
			require.Equal(t, "connection_ack", ack["type"])
			// A query over the socket: a next (data) message with a
			// payload, and a complete.
			require.NoError(t, wsjson.Write(ctx, conn, map[string]any{
				"id": "q1", "type": map[string]string{"graphql-transport-ws": "subscribe", "graphql-ws": "start"}[protocol],
				"payload": map[string]any{"query": `{ __typename }`},
			}))
			for {
				var m map[string]any
				require.NoError(t, wsjson.Read(ctx, conn, &m))
				if m["type"] == "complete" {
					break
				}
			}

			mu.Lock()
			defer mu.Unlock()
			dataType := map[string]string{"graphql-transport-ws": "next", "graphql-ws": "data"}[protocol]
			seen := false
			for _, v := range values {
				want, err := json.Marshal(v)
				require.NoError(t, err)
				var m struct {
					Payload json.RawMessage
					ID      string
					Type    string
				}
				require.NoError(t, json.Unmarshal(want, &m))
				if m.Type != dataType {
					continue
				}
				seen = true
				require.Equal(t, string(want), string(appendMessage(nil, m.Payload, m.ID, dataType)))
			}
			require.True(t, seen, "no data message")
		})
	}
}

// testMessage has the layout of gqlgen's protocol messages.
type testMessage struct {
	Payload json.RawMessage `json:"payload,omitempty"`
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
}

// FuzzDataMessage: appendMessage writes what encoding/json writes of a
// message of gqlgen's layout, for any payload encoding/json made and any
// plain id (writeData is used only for those).
func FuzzDataMessage(f *testing.F) {
	f.Add(`{"data":{"messageStatusChanged":{"status":"SENT"}}}`, "1", "next")
	f.Add("", "", "ka")
	f.Add(`<&>`, `a"b`, "é")
	f.Fuzz(func(t *testing.T, value, id, typ string) {
		if !plain(id) || !plain(typ) {
			t.Skip("writeData takes plain ids only")
		}
		payload, err := json.Marshal(value) // the hub's payloads come from encoding/json
		require.NoError(t, err)
		if value == "" {
			payload = nil
		}
		want, err := json.Marshal(&testMessage{Payload: payload, ID: id, Type: typ})
		require.NoError(t, err)
		require.Equal(t, string(want), string(appendMessage(nil, payload, id, typ)))
	})
}

// FuzzTextFrame reads the frames appendTextFrame makes with gobwas/ws, a
// WebSocket implementation of its own: one final, unmasked text frame
// holding the message, and nothing after it.
func FuzzTextFrame(f *testing.F) {
	for _, n := range []int{0, 1, 125, 126, 127, 0xffff, 0x10000, 0x10001} {
		f.Add(bytes.Repeat([]byte{'x'}, n))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		frame := appendTextFrame([]byte("kept"), msg)
		require.Equal(t, "kept", string(frame[:4]))
		r := bytes.NewReader(frame[4:])
		h, err := ws.ReadHeader(r)
		require.NoError(t, err)
		require.True(t, h.Fin)
		require.Equal(t, ws.OpText, h.OpCode)
		require.False(t, h.Masked)
		require.Zero(t, h.Rsv)
		require.Equal(t, int64(len(msg)), h.Length)
		payload := make([]byte, h.Length)
		_, err = io.ReadFull(r, payload)
		require.NoError(t, err)
		require.Equal(t, string(msg), string(payload))
		require.Zero(t, r.Len(), "bytes after the frame")
	})
}
