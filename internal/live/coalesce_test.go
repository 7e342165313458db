package live

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// countingConn records each write that reaches the connection.
type countingConn struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
	wrote  chan struct{}
	err    error
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	c.writes = append(c.writes, bytes.Clone(p))
	select {
	case c.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (c *countingConn) Close() error                     { return nil }
func (c *countingConn) SetWriteDeadline(time.Time) error { return nil }

func (c *countingConn) got() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.writes...)
}

func TestWritesWithinTheDelayGoOutTogether(t *testing.T) {
	under := &countingConn{wrote: make(chan struct{}, 1)}
	c := newCoalescingConn(under, time.Hour) // only Flush or Close write
	for _, s := range []string{"one ", "two ", "three"} {
		n, err := c.Write([]byte(s))
		require.NoError(t, err)
		require.Equal(t, len(s), n)
	}
	require.Empty(t, under.got(), "nothing is written before the delay")
	require.NoError(t, c.Flush())
	require.Equal(t, [][]byte{[]byte("one two three")}, under.got())
	require.NoError(t, c.Flush())
	require.Len(t, under.got(), 1, "an empty flush writes nothing")
}

func TestTheDelayFlushes(t *testing.T) {
	under := &countingConn{wrote: make(chan struct{}, 1)}
	c := newCoalescingConn(under, time.Millisecond)
	_, err := c.Write([]byte("ping"))
	require.NoError(t, err)
	select {
	case <-under.wrote:
	case <-time.After(10 * time.Second):
		t.Fatal("the delay never flushed")
	}
	require.Equal(t, [][]byte{[]byte("ping")}, under.got())
}

func TestAFullBufferIsWrittenAtOnce(t *testing.T) {
	under := &countingConn{wrote: make(chan struct{}, 1)}
	c := newCoalescingConn(under, time.Hour)
	big := bytes.Repeat([]byte("x"), coalesceFlushAt)
	_, err := c.Write(big)
	require.NoError(t, err)
	require.Equal(t, [][]byte{big}, under.got())
}

func TestCloseFlushes(t *testing.T) {
	under := &countingConn{wrote: make(chan struct{}, 1)}
	c := newCoalescingConn(under, time.Hour)
	_, err := c.Write([]byte("bye"))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.Equal(t, [][]byte{[]byte("bye")}, under.got())
}

func TestAWriteErrorComesBack(t *testing.T) {
	broken := errors.New("connection reset")
	under := &countingConn{wrote: make(chan struct{}, 1), err: broken}
	c := newCoalescingConn(under, time.Hour)
	_, err := c.Write([]byte("lost"))
	require.NoError(t, err)
	require.ErrorIs(t, c.Flush(), broken)
	_, err = c.Write([]byte("more"))
	require.ErrorIs(t, err, broken, "later writes report it")
}

// A peer that stops reading holds back the writer once a buffer's worth is
// pending, instead of the buffer growing without bound.
func TestAPeerThatDoesNotReadHoldsBackTheWriter(t *testing.T) {
	server, client := net.Pipe() // synchronous: a write waits for the read
	defer client.Close()
	c := newCoalescingConn(server, time.Millisecond)
	wrote := make(chan int, 1)
	go func() {
		total := 0
		chunk := bytes.Repeat([]byte("y"), 1024)
		for range 4 * coalesceFlushAt / len(chunk) {
			if _, err := c.Write(chunk); err != nil {
				break
			}
			total += len(chunk)
		}
		wrote <- total
	}()
	select {
	case n := <-wrote:
		t.Fatalf("wrote %d bytes to a peer that reads nothing", n)
	case <-time.After(200 * time.Millisecond):
	}
	c.mu.Lock()
	pending := len(c.pending)
	c.mu.Unlock()
	require.LessOrEqual(t, pending, coalesceFlushAt+1024, "pending stays bounded")

	// Reading everything lets the writer finish, in order.
	var got bytes.Buffer
	done := make(chan struct{})
	go func() { _, _ = io.Copy(&got, client); close(done) }()
	n := <-wrote
	require.Equal(t, 4*coalesceFlushAt, n)
	require.NoError(t, c.Close())
	<-done
	require.Equal(t, 4*coalesceFlushAt, got.Len())
}

// The upgrade's Hijack hands over a connection whose writes, also through
// the returned buffered writer, are coalesced.
func TestHandshakeHijackCoalesces(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := &handshake{ResponseWriter: w, writeDelay: time.Millisecond}
		conn, brw, err := h.Hijack()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n")
		_ = brw.Flush()
		_, _ = conn.Write([]byte("hello"))
		require.IsType(t, &coalescingConn{}, h.raw)
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, "hello", string(body))
}

// Close does not hang behind a write stuck on a peer that stopped reading.
func TestCloseWithAStuckPeer(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	c := newCoalescingConn(server, time.Hour)
	go func() { _, _ = c.Write(bytes.Repeat([]byte("z"), coalesceFlushAt)) }() // stuck in the pipe
	_, _ = c.Write([]byte("more"))
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung")
	}
	_, err := c.Write([]byte("after"))
	require.Error(t, err)
}

// Writers, the delay's flushes and explicit (also empty) flushes running at
// once never mix up the bytes: the stream that arrives is the one written.
func TestConcurrentWritesAndFlushesKeepTheStream(t *testing.T) {
	server, client := net.Pipe()
	c := newCoalescingConn(server, 50*time.Microsecond)
	var want bytes.Buffer
	for i := range 20000 {
		fmt.Fprintf(&want, "record %06d|", i)
	}
	got := make(chan []byte, 1)
	go func() { b, _ := io.ReadAll(client); got <- b }()
	stop := make(chan struct{})
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		for {
			select {
			case <-stop:
				return
			default:
				_ = c.Flush()
			}
		}
	}()
	data := want.Bytes()
	for len(data) > 0 {
		n := min(len(data), 1+len(data)%977) // uneven pieces
		_, err := c.Write(data[:n])
		require.NoError(t, err)
		data = data[n:]
	}
	close(stop)
	<-flushed
	require.NoError(t, c.Close())
	require.Equal(t, want.String(), string(<-got))
}
