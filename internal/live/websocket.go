package live

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// coderWebsocket is gqlgen's coder/websocket adapter
// (transport.CoderWebsocketImplementation) with two changes, both for a
// status subscriber, which gets thousands of messages a second during a
// fan-out:
//   - A shared subscription's data messages are written by its member
//     (writeData, with the response the hub encoded once for the group),
//     not by gqlgen, which would encode the response again per member.
//   - Messages are written as whole frames, each in one write to the
//     connection, instead of through coder/websocket's writer (see
//     writeText).
//
// It also keeps the graphql-transport-ws rules on subscription ids that
// gqlgen does not: a subscribe reusing the id of a live subscription closes
// the socket with 4409, and a socket holds at most MaxSubscriptions live
// subscriptions (a subscribe beyond them gets an error message for its id).
type coderWebsocket struct {
	AcceptOptions    websocket.AcceptOptions
	MaxSubscriptions int // 0: no limit
	// refused answers a handshake coder/websocket refused
	// (WebsocketConfig.Refused); nil: coder/websocket's own answer.
	refused func(w http.ResponseWriter, status int, reason string)
	// writeDelay coalesces each connection's writes (0: written at once).
	writeDelay time.Duration
	// stopping, once closed, turns the normal closure gqlgen sends on a
	// cancelled connection into 1001 "server shutting down".
	stopping <-chan struct{}
}

var _ transport.WebsocketImplementation = coderWebsocket{}

func (u coderWebsocket) Accept(w http.ResponseWriter, r *http.Request, options transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	for key, values := range options.ResponseHeader {
		for _, value := range values {
			w.Header().Add(key, value)
		}
	}
	opts := u.AcceptOptions
	opts.Subprotocols = slices.Clone(opts.Subprotocols)
	for _, p := range options.Subprotocols {
		if !slices.Contains(opts.Subprotocols, p) {
			opts.Subprotocols = append(opts.Subprotocols, p)
		}
	}
	h, ok := w.(*handshake) // directWebsocket's, through gqlgen
	if !ok {
		h = &handshake{ResponseWriter: w}
	}
	h.answer, h.writeDelay = u.refused, u.writeDelay
	conn, err := websocket.Accept(h, r, &opts)
	if err != nil {
		// coder/websocket refused the handshake (403, 400, 426): answer
		// it as JSON, and nothing after it.
		h.refuse()
		return nil, err
	}
	h.conn = &coderConn{conn: conn, raw: h.raw, closeWait: closeWriteTimeout, stopping: u.stopping, maxLive: u.MaxSubscriptions, live: map[string]bool{},
		ids: map[*graphql.OperationContext]string{}}
	return h.conn, nil
}

type coderConn struct {
	conn *websocket.Conn
	raw  net.Conn // the connection conn took over, written by writeText

	writeMu sync.Mutex
	buf     []byte      // the message writeData writes, reused
	frame   []byte      // the frame writeText writes, reused
	closing atomic.Bool // WriteClose was called: no more messages
	// closeWait bounds how long WriteClose lets a message being written
	// hold the close frame back (closeWriteTimeout).
	closeWait time.Duration
	stopping  <-chan struct{} // coderWebsocket.stopping

	// subscribing is the id of the last subscribe (or start) message read,
	// and ids the id of each operation it created: both belong to gqlgen's
	// read loop, which reads a message, then creates its operation.
	subscribing string
	ids         map[*graphql.OperationContext]string // guarded by mu

	// live holds the ids of the subscriptions started and not yet ended
	// (by the client's complete or stop, or the server's complete or
	// error); maxLive bounds it. Guarded by mu.
	live    map[string]bool
	maxLive int

	mu            sync.Mutex
	readDeadline  *time.Timer
	closeStarted  bool
	closeFinished chan struct{}
}

var (
	_ transport.WebsocketConn          = (*coderConn)(nil)
	_ transport.WebsocketReadLimiter   = (*coderConn)(nil)
	_ transport.WebsocketReadDeadliner = (*coderConn)(nil)
)

func (c *coderConn) NextReader() (int, io.Reader, error) {
	for {
		typ, data, err := c.conn.Read(context.Background())
		if err != nil {
			switch websocket.CloseStatus(err) {
			case websocket.StatusNormalClosure, websocket.StatusNoStatusRcvd:
				return int(typ), nil, transport.ErrWebsocketClosed
			}
			return int(typ), nil, err
		}
		if typ == websocket.MessageText {
			var msg struct{ ID, Type string }
			if json.Unmarshal(data, &msg) == nil {
				switch msg.Type {
				case "subscribe", "start":
					switch c.startLive(msg.ID) {
					case refused:
						continue
					case reused:
						return int(typ), nil, transport.ErrWebsocketClosed
					}
					c.subscribing = msg.ID
				case "complete", "stop":
					c.endLive(msg.ID)
				}
			}
		}
		return int(typ), bytes.NewReader(data), nil
	}
}

// What startLive made of a subscribe.
const (
	started = iota // a new live subscription: gqlgen runs it
	refused        // one too many: answered with an error, gqlgen never sees it
	reused         // the id of a live one: the connection closes
)

// startLive notes that the client starts subscription id. A reused id
// closes the connection (4409, as graphql-transport-ws says); one more
// subscription than maxLive is refused with an error message for its id.
func (c *coderConn) startLive(id string) int {
	c.mu.Lock()
	isLive, full := c.live[id], c.maxLive > 0 && len(c.live) >= c.maxLive
	if !isLive && !full {
		c.live[id] = true
	}
	c.mu.Unlock()
	switch {
	case isLive:
		_ = c.WriteClose(closeSubscriberExists, "Subscriber for "+id+" already exists")
		return reused
	case full:
		err := codedError(CodeTooManyStreams, fmt.Sprintf("this connection has %d live subscriptions, the most it may have", c.maxLive))
		var v any = err // legacy graphql-ws: one error
		if c.conn.Subprotocol() == "graphql-transport-ws" {
			v = gqlerror.List{err} // an array of errors
		}
		payload, _ := json.Marshal(v)
		_ = c.WriteJSON(&wsMessage{ID: id, Type: "error", Payload: payload})
		return refused
	}
	return started
}

// endLive notes that subscription id ended.
func (c *coderConn) endLive(id string) {
	c.mu.Lock()
	delete(c.live, id)
	c.mu.Unlock()
}

// wsMessage is a protocol message written by the adapter itself.
type wsMessage struct {
	Payload json.RawMessage `json:"payload,omitempty"`
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
}

// WriteJSON writes one of gqlgen's protocol messages (acks, pings, errors,
// complete; the data messages of subscriptions the hub does not share).
// The data messages of shared subscriptions, nearly all a socket writes,
// go through writeData instead.
func (c *coderConn) WriteJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var msg struct{ ID, Type string }
	if json.Unmarshal(data, &msg) == nil && (msg.Type == "complete" || msg.Type == "error") {
		c.endLive(msg.ID) // the server ended subscription id
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.writeText(data)
}

// writeData writes the data message of subscription id carrying payload, as
// gqlgen would write it (see appendMessage).
func (c *coderConn) writeData(id string, payload []byte) error {
	typ := "data" // legacy graphql-ws, gqlgen's default
	if c.conn.Subprotocol() == "graphql-transport-ws" {
		typ = "next"
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.buf = appendMessage(c.buf[:0], payload, id, typ)
	return c.writeText(c.buf)
}

// writeText writes msg as one text frame, in one Write to the connection;
// c.writeMu is held. coder/websocket's Write takes three locks and copies
// the message through its buffered writer, which cost a fan-out's status
// subscriber more than making its message. Frames from both cannot
// interleave: every message goes through here, and coder/websocket writes
// only control frames (pong, close), each flushed in one Write too, as its
// buffered writer holds any control frame whole. After WriteClose no message
// follows the close frame.
func (c *coderConn) writeText(msg []byte) error {
	if c.closing.Load() {
		return net.ErrClosed
	}
	c.frame = appendTextFrame(c.frame[:0], msg)
	_, err := c.raw.Write(c.frame)
	if cap(c.frame) > maxKeptBuffer {
		// A rare large message: its buffers are not kept for the
		// connection's life (hundreds of subscribers each have one).
		c.frame, c.buf = nil, nil
	}
	return err
}

// maxKeptBuffer is the largest message buffer a connection keeps for reuse.
const maxKeptBuffer = 64 << 10

// appendTextFrame appends msg as a server's WebSocket frame (RFC 6455 §5.2):
// final, text, not masked.
func appendTextFrame(dst, msg []byte) []byte {
	const finText = 0x81
	switch n := len(msg); {
	case n <= 125:
		dst = append(dst, finText, byte(n))
	case n <= 0xffff:
		dst = append(dst, finText, 126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, finText, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, msg...)
}

// handshake is the response of a WebSocket upgrade, which gqlgen's
// transport hands from directWebsocket.Do to Accept. It notes the
// connection the upgrade takes over (with its writes coalesced over
// writeDelay), holds back the plain-text answer coder/websocket gives a
// handshake it refuses, so that it goes out as JSON like every answer of
// /query (refuse), and then drops what gqlgen writes after it ("unable to
// upgrade"), which would be glued to that answer.
type handshake struct {
	http.ResponseWriter
	answer     func(w http.ResponseWriter, status int, reason string) // nil: coder's text
	writeDelay time.Duration

	raw     net.Conn   // what the upgrade took over
	conn    *coderConn // the accepted connection
	refusal int        // the status of a refusal held back, 0 if none
	reason  bytes.Buffer
	refused bool // the refusal was answered: nothing more is written
}

func (h *handshake) WriteHeader(code int) {
	switch {
	case h.refused:
	case code != http.StatusSwitchingProtocols && h.answer != nil:
		h.refusal = code
	default:
		h.ResponseWriter.WriteHeader(code)
	}
}

func (h *handshake) Write(p []byte) (int, error) {
	switch {
	case h.refused:
		return len(p), nil
	case h.refusal != 0:
		return h.reason.Write(p)
	}
	return h.ResponseWriter.Write(p)
}

// refuse answers the refusal held back, in the API's words.
func (h *handshake) refuse() {
	if h.refusal != 0 {
		h.answer(h.ResponseWriter, h.refusal, strings.TrimSpace(h.reason.String()))
	}
	h.refused = true
}

// Hijack hands over the connection, with writes coalesced over writeDelay:
// the buffered writer returned writes through it too.
func (h *handshake) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err == nil && h.writeDelay > 0 {
		if err = brw.Writer.Flush(); err != nil {
			conn.Close()
			return nil, nil, err
		}
		conn = newCoalescingConn(conn, h.writeDelay)
		brw.Writer.Reset(conn)
	}
	h.raw = conn
	return conn, brw, err
}

// Unwrap returns the wrapped writer (for http.ResponseController).
func (h *handshake) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// WriteClose starts the close handshake in the background: coder/websocket
// waits up to 5 s for the peer's close frame, and gqlgen's teardown should
// not. The close frame follows any message being written, and no message
// follows it. Once the server is stopping, a normal closure goes out as
// 1001 (going away).
func (c *coderConn) WriteClose(code int, msg string) error {
	select {
	case <-c.stopping:
		if code == transport.WebsocketCloseNormalClosure {
			code, msg = closeGoingAway, "server shutting down"
		}
	default:
	}
	c.mu.Lock()
	c.stopReadDeadlineLocked()
	if c.closeStarted {
		c.mu.Unlock()
		return nil
	}
	c.closeStarted = true
	c.closeFinished = make(chan struct{})
	c.mu.Unlock()
	c.closing.Store(true) // writers that take writeMu from now on write nothing
	// A message being written to a peer that stopped reading would hold the
	// close frame back for good: its write fails after closeWait.
	_ = c.raw.SetWriteDeadline(time.Now().Add(c.closeWait))
	go func() {
		defer close(c.closeFinished)
		// Wait for the message being written, if any: the close frame
		// goes after it.
		c.writeMu.Lock()
		//lint:ignore SA2001 taking the lock is the waiting
		c.writeMu.Unlock()
		_ = c.conn.Close(websocket.StatusCode(code), msg)
	}()
	return nil
}

// closeWriteTimeout is how long a close waits for a message being written,
// as long as coder/websocket waits for the peer's close frame.
const closeWriteTimeout = 5 * time.Second

func (c *coderConn) Close() error {
	c.mu.Lock()
	c.stopReadDeadlineLocked()
	closing := c.closeStarted
	c.mu.Unlock()
	if closing {
		return nil // the close handshake owns the connection
	}
	return c.conn.CloseNow()
}

func (c *coderConn) Subprotocol() string { return c.conn.Subprotocol() }

func (c *coderConn) SetReadLimit(n int64) { c.conn.SetReadLimit(n) }

// SetReadDeadline closes the connection at t unless called again before:
// coder/websocket reads take a context, not a deadline.
func (c *coderConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopReadDeadlineLocked()
	if t.IsZero() {
		return nil
	}
	d := time.Until(t)
	if d <= 0 {
		return c.conn.CloseNow()
	}
	c.readDeadline = time.AfterFunc(d, func() { _ = c.conn.CloseNow() })
	return nil
}

func (c *coderConn) stopReadDeadlineLocked() {
	if c.readDeadline != nil {
		c.readDeadline.Stop()
		c.readDeadline = nil
	}
}

// appendMessage appends a protocol message as encoding/json encodes gqlgen's
// message types; payload is JSON encoding/json made, and id and typ are
// plain.
func appendMessage(dst, payload []byte, id, typ string) []byte {
	dst = append(dst, '{')
	if len(payload) > 0 {
		dst = append(dst, `"payload":`...)
		dst = append(dst, payload...)
		dst = append(dst, ',')
	}
	if id != "" {
		dst = append(dst, `"id":"`...)
		dst = append(dst, id...)
		dst = append(dst, `",`...)
	}
	dst = append(dst, `"type":"`...)
	dst = append(dst, typ...)
	return append(dst, `"}`...)
}

// plain reports whether encoding/json writes s between quotes unchanged.
func plain(s string) bool {
	for i := range len(s) {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// directWebsocket is gqlgen's WebSocket transport, with each shared
// subscription given a writer for its data messages (see dataWriterOf): the
// hub encodes a response once for all the members of a
// group, and each member's writer puts the same bytes in its message, where
// gqlgen would encode the response again per member.
type directWebsocket struct{ transport.Websocket }

// Supports takes WebSocket handshakes only (gqlgen's takes any request
// with an Upgrade header, and then fails to accept a POST): a POST that
// says "Upgrade" is left to the POST transport.
func (t directWebsocket) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && t.Websocket.Supports(r)
}

func (t directWebsocket) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	h := &handshake{ResponseWriter: w}
	t.Websocket.Do(h, r, subscriptionIDs{exec, h})
	if c := h.conn; c != nil {
		// gqlgen returns without closing the socket when connection_init
		// is not what it expects (a payload that is not an object): the
		// client would wait for ever. Closed already, this does nothing.
		_ = c.WriteClose(closeInvalidMessage, "invalid connection_init")
	}
}

// graphql-transport-ws's close codes.
const (
	// closeInvalidMessage: a message the server cannot process.
	closeInvalidMessage = 4400
	// closeSubscriberExists: "Subscriber for <id> already exists".
	closeSubscriberExists = 4409
)

// subscriptionIDs passes on gqlgen's executor, noting the subscription id
// of each operation created on the connection, and handing it, as a
// dataWriter, to the dispatch of that operation.
type subscriptionIDs struct {
	graphql.GraphExecutor
	h *handshake // its conn, once accepted
}

func (e subscriptionIDs) CreateOperationContext(ctx context.Context, params *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	rc, errs := e.GraphExecutor.CreateOperationContext(ctx, params)
	if c := e.h.conn; c != nil && rc != nil && errs == nil && plain(c.subscribing) {
		c.mu.Lock() // DispatchOperation runs on a goroutine of its own
		c.ids[rc] = c.subscribing
		c.mu.Unlock()
	}
	return rc, errs
}

func (e subscriptionIDs) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	if c := e.h.conn; c != nil {
		c.mu.Lock()
		id, ok := c.ids[rc]
		delete(c.ids, rc)
		c.mu.Unlock()
		if ok {
			ctx = context.WithValue(ctx, dataWriter{}, &dataWriter{conn: c, id: id})
		}
	}
	return e.GraphExecutor.DispatchOperation(ctx, rc)
}

// dataWriter writes the data messages of one subscription on a connection.
type dataWriter struct {
	conn *coderConn
	id   string
}

func (w *dataWriter) WriteResponse(payload []byte) error { return w.conn.writeData(w.id, payload) }

// dataWriterOf returns the writer of the subscription dispatched with ctx,
// or nil when its transport is not directWebsocket.
func dataWriterOf(ctx context.Context) Writer {
	if w, ok := ctx.Value(dataWriter{}).(*dataWriter); ok {
		return w
	}
	return nil
}

// WebsocketConfig is what the WebSocket transport needs.
type WebsocketConfig struct {
	// OriginPatterns are the origins allowed to open a WebSocket (host
	// patterns, as coder/websocket takes them); same-origin always is.
	OriginPatterns []string
	// MaxSubscriptions bounds the live subscriptions of one socket (0: no
	// limit): one more is refused with TOO_MANY_SUBSCRIPTIONS.
	MaxSubscriptions int
	// InitFunc checks connection_init (auth); may be nil.
	InitFunc transport.WebsocketInitFunc
	// Stopping, once cancelled, closes every WebSocket with 1001 (going
	// away) and refuses new ones: graceful shutdown. May be nil.
	Stopping context.Context
	// Refused answers a handshake coder/websocket refused (400, 403, 426)
	// in the API's error vocabulary; reason is coder/websocket's text.
	Refused func(w http.ResponseWriter, status int, reason string)
}

// Websocket returns the WebSocket transport (graphql-transport-ws and
// legacy graphql-ws): gqlgen's, over the adapter (coderWebsocket), with
// writes coalesced over wsWriteDelay. Wrapped by Hub.Transport, its shared
// subscriptions write their data messages themselves.
func Websocket(cfg WebsocketConfig) graphql.Transport {
	ws := coderWebsocket{
		AcceptOptions:    websocket.AcceptOptions{OriginPatterns: cfg.OriginPatterns},
		MaxSubscriptions: cfg.MaxSubscriptions,
		refused:          cfg.Refused,
		writeDelay:       wsWriteDelay,
	}
	initFunc := cfg.InitFunc
	if cfg.Stopping != nil {
		ws.stopping, initFunc = cfg.Stopping.Done(), endOnStop(cfg.Stopping, initFunc)
	}
	return directWebsocket{transport.Websocket{
		KeepAlivePingInterval: 10 * time.Second,
		PingPongInterval:      10 * time.Second,
		InitTimeout:           10 * time.Second,
		InitFunc:              initFunc,
		Implementation:        ws,
	}}
}

// closeGoingAway is the WebSocket close code of a server going away
// (RFC 6455 §7.4.1): clients reconnect, to another instance or later.
const closeGoingAway = 1001

// endOnStop makes each WebSocket's context end when stopping is cancelled:
// gqlgen then closes the socket, which WriteClose turns into 1001. A
// connection initialised after that is refused with 1001 at once. next may
// be nil.
func endOnStop(stopping context.Context, next transport.WebsocketInitFunc) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		if stopping.Err() != nil {
			ctx = transport.WithWebsocketCloseCode(ctx, closeGoingAway)
			return transport.AppendCloseReason(ctx, "server shutting down"), nil, errors.New("server shutting down")
		}
		var ack *transport.InitPayload
		if next != nil {
			var err error
			if ctx, ack, err = next(ctx, p); err != nil {
				return ctx, ack, err
			}
		}
		// No goroutine per connection waits for either: the connection's
		// context ends with its request (the server cancels it when the
		// handler returns), and then stops watching stopping.
		ctx, cancel := context.WithCancel(ctx)
		stop := context.AfterFunc(stopping, cancel)
		context.AfterFunc(ctx, func() { stop() })
		return ctx, ack, nil
	}
}

// wsWriteDelay is how long a WebSocket connection buffers what it writes:
// a status subscriber's events (thousands a second during a fan-out) go out
// many per write instead of one syscall each, and the client wakes once for
// them. With events back to back, 10 ms took 11 % less CPU per delivered
// event than 2 ms (service and clients, BenchmarkStatusDelivery before it
// was paced; paced, in bursts of 250, the two are within noise), and it is
// not a delay a person watching a progress bar sees.
const wsWriteDelay = 10 * time.Millisecond
