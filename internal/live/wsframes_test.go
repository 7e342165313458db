package live

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/stretchr/testify/require"
)

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
