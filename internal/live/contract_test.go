package live

// Contract tests: behaviour of coder/websocket and gqlgen that the adapter
// relies on and that neither library documents. Each pins one behaviour
// with the library's real code and fails on an upgrade that changes it.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket/wsjson"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/graph/generated"
)

// writeRecorder records every Write to the connection a WebSocket upgrade
// takes over, as handshake.Hijack routes them: through the connection
// Hijack returns and the buffered writer coder/websocket is handed.
type writeRecorder struct {
	http.ResponseWriter
	mu     sync.Mutex
	writes [][]byte
}

type recordedConn struct {
	net.Conn
	r *writeRecorder
}

func (c recordedConn) Write(p []byte) (int, error) {
	c.r.mu.Lock()
	c.r.writes = append(c.r.writes, bytes.Clone(p))
	c.r.mu.Unlock()
	return c.Conn.Write(p)
}

func (w *writeRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		return nil, nil, err
	}
	rc := recordedConn{Conn: conn, r: w}
	brw.Writer.Reset(rc)
	return rc, brw, nil
}

// TestContractCoderWritesEachControlFrameInOneWrite pins what lets the
// adapter write its own frames beside coder/websocket's: coder writes each
// control frame (pong, close) whole, in one Write to the connection, never
// split over two nor glued to part of another. Pings of every payload size
// are answered while the client keeps sending; every Write on the
// connection must then hold whole frames only.
func TestContractCoderWritesEachControlFrameInOneWrite(t *testing.T) {
	const pings = 500
	rec := make(chan *writeRecorder, 1)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wr := &writeRecorder{ResponseWriter: w}
		conn, err := coderWebsocket{}.Accept(wr, r, transport.WebsocketAcceptOptions{})
		if err != nil {
			close(rec)
			return
		}
		rec <- wr
		c := conn.(*coderConn)
		for { // coder answers pings while it reads
			if _, _, err := c.NextReader(); err != nil {
				break
			}
		}
		<-done
	}))
	defer srv.Close()

	conn, br, _, err := ws.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"))
	require.NoError(t, err)
	defer conn.Close()
	require.Nil(t, br, "nothing written after the handshake yet")
	wr := <-rec
	require.NotNil(t, wr, "the handshake was refused")
	for i := range pings {
		payload := bytes.Repeat([]byte{byte(i)}, i%126) // 0 to 125 bytes
		require.NoError(t, wsutil.WriteClientMessage(conn, ws.OpPing, payload))
	}
	require.NoError(t, wsutil.WriteClientMessage(conn, ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye")))
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	pongs := 0
	for {
		f := readFrame(t, conn)
		if f.Header.OpCode == ws.OpClose {
			break
		}
		require.Equal(t, ws.OpPong, f.Header.OpCode)
		require.Len(t, f.Payload, pongs%126, "pong %d", pongs)
		pongs++
	}
	close(done)
	require.Equal(t, pings, pongs)

	wr.mu.Lock()
	defer wr.mu.Unlock()
	frames := 0
	for i, w := range wr.writes {
		r := bytes.NewReader(w)
		for r.Len() > 0 {
			h, err := ws.ReadHeader(r)
			require.NoError(t, err, "write %d does not start with a whole frame header", i)
			require.LessOrEqual(t, h.Length, int64(r.Len()), "write %d holds part of a frame (%d of %d bytes)", i, r.Len(), h.Length)
			_, _ = r.Seek(h.Length, 1)
			frames++
		}
	}
	require.Equal(t, pings+1, frames, "the pongs and the close frame")
}

// recordingExecutor is gqlgen's executor (graph's schema, no resolvers)
// that notes, for every operation dispatched, the marker its query carries
// and the id of the data writer the adapter handed its dispatch.
type recordingExecutor struct {
	*executor.Executor
	mu  sync.Mutex
	ids map[string]string // marker → id
}

func (e *recordingExecutor) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	marker := rc.RawQuery[strings.LastIndex(rc.RawQuery, "#")+1:]
	id := "none"
	if w, ok := dataWriterOf(ctx).(*dataWriter); ok {
		id = w.id
	}
	e.mu.Lock()
	e.ids[marker] = id
	e.mu.Unlock()
	return func(context.Context) *graphql.Response { return nil }, ctx // ends at once: complete
}

// TestContractGqlgenCreatesAnOperationBeforeReadingTheNext pins what ties an
// operation to the id of its subscribe message: gqlgen's WebSocket
// transport reads a message and creates its operation
// (CreateOperationContext) before it reads the next message, so the id the
// adapter noted last (coderConn.subscribing) is that operation's. The
// client sends many subscribe messages at once; each operation's dispatch
// must get the data writer of its own id.
func TestContractGqlgenCreatesAnOperationBeforeReadingTheNext(t *testing.T) {
	const subscriptions = 50
	exec := &recordingExecutor{Executor: executor.New(generated.NewExecutableSchema(generated.Config{})), ids: map[string]string{}}
	tr := directWebsocket{transport.Websocket{Implementation: coderWebsocket{}, KeepAlivePingInterval: time.Hour}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.Do(w, r.WithContext(graphql.StartOperationTrace(r.Context())), exec)
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn := dialInitialised(ctx, t, srv.URL, "graphql-transport-ws")
	for i := range subscriptions {
		id := fmt.Sprint("s", i)
		require.NoError(t, wsjson.Write(ctx, conn, map[string]any{"id": id, "type": "subscribe",
			"payload": map[string]any{"query": "subscription { messageStatusChanged { messageID } } #" + id}}))
	}
	for completed := 0; completed < subscriptions; {
		var m json.RawMessage
		require.NoError(t, wsjson.Read(ctx, conn, &m))
		if strings.Contains(string(m), `"type":"complete"`) {
			completed++
		}
	}

	exec.mu.Lock()
	defer exec.mu.Unlock()
	require.Len(t, exec.ids, subscriptions)
	for marker, id := range exec.ids {
		require.Equal(t, marker, id, "the operation of subscribe %s got the writer of %s", marker, id)
	}
}
