package live

// Write coalescing: what a WebSocket connection writes within a short delay
// goes out in one write (one syscall, one TCP segment where it fits) instead
// of one per message. A live-status subscriber gets thousands of small
// WebSocket frames a second; written one by one, the syscalls cost the
// server (and the client reading them) more than making the frames.

import (
	"net"
	"sync"
	"time"
)

// coalesceFlushAt is the buffered size that is written at once, without waiting for
// the delay; a writer that finds this much pending waits for the write, so a
// peer that does not read holds back its writers instead of growing the
// buffer.
const coalesceFlushAt = 64 << 10

// coalescingConn is a net.Conn whose writes are buffered for at most delay. A write
// error is returned by a later Write (or Close). Reads and deadlines pass
// through.
type coalescingConn struct {
	net.Conn
	delay time.Duration

	wmu sync.Mutex // serializes writes to the connection

	mu      sync.Mutex // guards the fields below
	pending []byte
	spare   []byte
	timer   *time.Timer
	err     error
}

// newCoalescingConn returns c with writes coalesced over delay.
func newCoalescingConn(c net.Conn, delay time.Duration) *coalescingConn {
	return &coalescingConn{Conn: c, delay: delay}
}

// Write buffers p; it is written within the delay, or now when the buffer is
// full.
func (c *coalescingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return 0, err
	}
	c.pending = append(c.pending, p...)
	full := len(c.pending) >= coalesceFlushAt
	if !full && c.timer == nil {
		c.timer = time.AfterFunc(c.delay, func() { _ = c.Flush() })
	}
	c.mu.Unlock()
	if full {
		if err := c.Flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes what is buffered now. The two buffers take turns: writers
// fill one while the other is on the wire, and the spare is never handed out
// while it is being written.
func (c *coalescingConn) Flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if c.err != nil || len(c.pending) == 0 {
		err := c.err
		c.mu.Unlock()
		return err
	}
	buf := c.pending
	c.pending, c.spare = c.spare[:0], nil
	c.mu.Unlock()
	_, err := c.Conn.Write(buf)
	c.mu.Lock()
	c.spare = buf[:0]
	if err != nil && c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	return err
}

// coalesceCloseTimeout bounds how long Close waits to write what is buffered (also
// behind a write stuck on a peer that stopped reading).
const coalesceCloseTimeout = time.Second

// Close writes what is buffered, waiting at most coalesceCloseTimeout, then closes
// the connection.
func (c *coalescingConn) Close() error {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(coalesceCloseTimeout))
	_ = c.Flush()
	return c.Conn.Close()
}
