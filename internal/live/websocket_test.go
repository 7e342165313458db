package live

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
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
	"github.com/gobwas/ws/wsutil"
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
			conn := dialInitialised(ctx, t, ts.URL, protocol)
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

// dialInitialised opens a GraphQL WebSocket to the server at httpURL in
// protocol and initialises it (connection_init, connection_ack); it is
// closed when t ends.
func dialInitialised(ctx context.Context, t *testing.T, httpURL, protocol string) *websocket.Conn {
	t.Helper()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(httpURL, "http"), &websocket.DialOptions{Subprotocols: []string{protocol}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.CloseNow() })
	require.NoError(t, wsjson.Write(ctx, conn, map[string]any{"type": "connection_init"}))
	var ack map[string]any
	require.NoError(t, wsjson.Read(ctx, conn, &ack))
	require.Equal(t, "connection_ack", ack["type"])
	return conn
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

// TestNoMessageAfterClose checks that once WriteClose is called the adapter
// writes no more messages itself: nothing may follow the close frame.
func TestNoMessageAfterClose(t *testing.T) {
	afterClose := make(chan error, 1)
	url := adapterServer(t, afterClose, func(c *coderConn) {
		_ = c.writeData("1", []byte(`{"data":{"n":1}}`))
		_ = c.WriteClose(4000, "bye")
		afterClose <- c.writeData("1", []byte(`{"data":{"n":2}}`))
		<-c.closeFinished
	})

	conn, br, _, err := ws.Dial(context.Background(), url)
	require.NoError(t, err)
	defer conn.Close()
	var r io.Reader = conn
	if br != nil { // what the server wrote right after the handshake
		r = io.MultiReader(br, conn)
	}
	require.ErrorIs(t, <-afterClose, net.ErrClosed)
	var frames []ws.Frame
	for len(frames) < 2 {
		frames = append(frames, readFrame(t, r))
	}
	require.Equal(t, ws.OpText, frames[0].Header.OpCode)
	require.Equal(t, `{"payload":{"data":{"n":1}},"id":"1","type":"data"}`, string(frames[0].Payload))
	require.Equal(t, ws.OpClose, frames[1].Header.OpCode, "the close frame comes next")
	code, reason := ws.ParseCloseFrameData(frames[1].Payload)
	require.Equal(t, ws.StatusCode(4000), code)
	require.Equal(t, "bye", reason)
	// Answer the close: the handshake ends, and the server closes.
	require.NoError(t, wsutil.WriteClientMessage(conn, ws.OpClose, ws.NewCloseFrameBody(ws.StatusCode(4000), "")))
	rest, err := io.ReadAll(r)
	require.NoError(t, err)
	require.Empty(t, rest, "bytes after the close frame")
}

// adapterServer serves WebSockets through the adapter, each connection
// to serve; an error accepting one goes to errs. It returns the server's
// ws:// URL; the server is closed when t ends.
func adapterServer(t *testing.T, errs chan<- error, serve func(c *coderConn)) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := coderWebsocket{}.Accept(w, r, transport.WebsocketAcceptOptions{})
		if err != nil {
			errs <- err
			return
		}
		serve(conn.(*coderConn))
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// readFrame reads one whole, unmasked frame a server sent.
func readFrame(t *testing.T, r io.Reader) ws.Frame {
	t.Helper()
	h, err := ws.ReadHeader(r)
	require.NoError(t, err)
	require.True(t, h.Fin, "a fragment")
	require.False(t, h.Masked, "a masked frame from the server")
	require.LessOrEqual(t, h.Length, int64(1<<20), "a frame longer than any message sent")
	payload := make([]byte, h.Length)
	_, err = io.ReadFull(r, payload)
	require.NoError(t, err)
	return ws.Frame{Header: h, Payload: payload}
}

// TestWriteCloseWithAStuckPeer closes a connection whose peer stopped
// reading while a message is being written to it: the close must not wait
// for that write for good. (coder/websocket then waits up to 5 s for the
// peer's close frame, which never comes.)
func TestWriteCloseWithAStuckPeer(t *testing.T) {
	writerDone, closed := make(chan error, 1), make(chan struct{})
	url := adapterServer(t, writerDone, func(c *coderConn) {
		c.closeWait = 100 * time.Millisecond
		_ = c.raw.(*net.TCPConn).SetWriteBuffer(4096)
		writing := make(chan struct{})
		c.raw = &writeStarted{Conn: c.raw, started: writing}
		go func() {
			// Much more than the socket's buffers hold: the first write
			// blocks, or one soon after.
			payload := []byte(`{"data":"` + strings.Repeat("x", 1<<20) + `"}`)
			for {
				if err := c.writeData("1", payload); err != nil {
					writerDone <- err
					return
				}
			}
		}()
		<-writing
		_ = c.WriteClose(1001, "going away")
		<-c.closeFinished
		_ = c.Close()
		close(closed)
	})

	conn, _, _, err := ws.Dial(context.Background(), url)
	require.NoError(t, err)
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	// The client reads nothing.
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("the close waited on the stuck write")
	}
	require.Error(t, <-writerDone, "the stuck write ends")
}

// writeStarted closes started when its first Write begins.
type writeStarted struct {
	net.Conn
	started chan struct{}
	once    sync.Once
}

func (w *writeStarted) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.started) })
	return w.Conn.Write(p)
}
