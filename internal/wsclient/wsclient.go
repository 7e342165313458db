// Package wsclient is the WebSocket client of the live-status benchmarks
// (make bench's subscribers, graph's BenchmarkStatusDelivery). It shares the
// machine with the service it measures, so it takes as little CPU as it can:
// it reads each message in place, in the connection's read buffer.
package wsclient

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// Dial opens a graphql-transport-ws connection to url (ws://…/query) and
// returns it with a reader of its messages.
func Dial(ctx context.Context, url string) (net.Conn, *Frames, error) {
	conn, br, _, err := ws.Dialer{Protocols: []string{"graphql-transport-ws"}}.Dial(ctx, url)
	if err != nil {
		return nil, nil, err
	}
	var r io.Reader = conn
	if br != nil { // bytes the server sent right after the handshake
		r = io.MultiReader(br, conn)
	}
	return conn, NewFrames(r), nil
}

// Frames reads the messages of a server's frames from a connection, in
// place (see ReadMessage), and notes when each arrived.
type Frames struct {
	r    *bufio.Reader
	src  *stampedReader
	used int // bytes of the message Next returned last
}

// NewFrames returns a reader of the messages in r, with a 64 KiB buffer.
func NewFrames(r io.Reader) *Frames {
	src := &stampedReader{r: r}
	return &Frames{r: bufio.NewReaderSize(src, 64<<10), src: src}
}

// Next returns the next data message, valid until the next call, and when
// it arrived: when the read that brought its last bytes returned. Messages
// that came in one read share that time, read once instead of once per
// message.
func (f *Frames) Next() ([]byte, time.Time, error) {
	_, _ = f.r.Discard(f.used) // the message before is done with
	msg, n, err := ReadMessage(f.r)
	f.used = n
	return msg, f.src.at, err
}

// Read reads the connection's bytes as they come, for a client that reads
// every frame itself (pongs and closes too) instead of calling Next.
func (f *Frames) Read(p []byte) (int, error) { return f.r.Read(p) }

// stampedReader notes when a read last brought bytes. The buffered reader
// reads only for a message not wholly in its buffer, so the last read is
// the one that completed the message it returns.
type stampedReader struct {
	r  io.Reader
	at time.Time
}

func (s *stampedReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.at = time.Now()
	}
	return n, err
}

// Subscribe initialises a graphql-transport-ws connection and subscribes
// to query, as subscription "1".
func Subscribe(conn net.Conn, query string) error {
	for _, msg := range []map[string]any{
		{"type": "connection_init"},
		{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query}},
	} {
		data, err := json.Marshal(msg)
		if err != nil {
			return err
		}
		if err := wsutil.WriteClientText(conn, data); err != nil {
			return err
		}
	}
	return nil
}

// ReadMessage returns the next data message, skipping control frames,
// without copying it: it is in r's buffer, the n bytes to discard once done
// with it. A server writes every message of gqlgen's protocols as one
// unmasked frame; the subscribers' messages are far smaller than r's buffer.
func ReadMessage(r *bufio.Reader) (msg []byte, n int, err error) {
	for {
		hdr, err := r.Peek(2)
		if err != nil {
			return nil, 0, err
		}
		fin, op, masked := hdr[0]&0x80 != 0, ws.OpCode(hdr[0]&0x0f), hdr[1]&0x80 != 0
		size, length := 2, int(hdr[1]&0x7f)
		switch length {
		case 126:
			size += 2
		case 127:
			size += 8
		}
		if hdr, err = r.Peek(size); err != nil {
			return nil, 0, err
		}
		switch length {
		case 126:
			length = int(binary.BigEndian.Uint16(hdr[2:]))
		case 127:
			length = int(min(binary.BigEndian.Uint64(hdr[2:]), 1<<30))
		}
		switch {
		case masked || !fin:
			return nil, 0, errors.New("a masked or fragmented frame from the server")
		case size+length > r.Size():
			return nil, 0, fmt.Errorf("a frame of %d bytes", length)
		}
		frame, err := r.Peek(size + length)
		if err != nil {
			return nil, 0, err
		}
		switch {
		case op == ws.OpClose:
			return nil, 0, io.EOF
		case op.IsControl():
			_, _ = r.Discard(size + length)
		default:
			return frame[size:], size + length, nil
		}
	}
}
