package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
)

// coderWebsocket is gqlgen's coder/websocket adapter
// (transport.CoderWebsocketImplementation) with one change: WriteJSON does
// not encode gqlgen's protocol messages again. gqlgen encodes every response
// with encoding/json, then hands WriteJSON a message holding those bytes;
// encoding it again re-compacts the payload byte by byte, and a status
// subscriber gets thousands of messages a second during a fan-out. Those
// messages are written as they are; anything else goes through
// encoding/json.
type coderWebsocket struct {
	AcceptOptions websocket.AcceptOptions
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
	conn, err := websocket.Accept(w, r, &opts)
	if err != nil {
		return nil, err
	}
	return &coderConn{conn: conn}, nil
}

type coderConn struct {
	conn *websocket.Conn

	writeMu sync.Mutex
	buf     []byte // what WriteJSON writes, reused

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
	typ, data, err := c.conn.Read(context.Background())
	if err != nil {
		switch websocket.CloseStatus(err) {
		case websocket.StatusNormalClosure, websocket.StatusNoStatusRcvd:
			return int(typ), nil, transport.ErrWebsocketClosed
		}
		return int(typ), nil, err
	}
	return int(typ), bytes.NewReader(data), nil
}

func (c *coderConn) WriteJSON(v any) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	data, ok := appendProtocolMessage(c.buf[:0], v)
	if ok {
		c.buf = data
	} else {
		var err error
		if data, err = json.Marshal(v); err != nil {
			return err
		}
	}
	return c.conn.Write(context.Background(), websocket.MessageText, data)
}

// WriteClose starts the close handshake in the background: coder/websocket
// waits up to 5 s for the peer's close frame, and gqlgen's teardown should
// not.
func (c *coderConn) WriteClose(code int, msg string) error {
	c.mu.Lock()
	c.stopReadDeadlineLocked()
	if c.closeStarted {
		c.mu.Unlock()
		return nil
	}
	c.closeStarted = true
	c.closeFinished = make(chan struct{})
	c.mu.Unlock()
	go func() {
		defer close(c.closeFinished)
		_ = c.conn.Close(websocket.StatusCode(code), msg)
	}()
	return nil
}

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

// protocolMessage is where the fields of one of gqlgen's protocol message
// types are: a struct of Payload (json.RawMessage, omitted when empty), ID
// (a string, omitted when empty) and Type (a string), tagged so.
type protocolMessage struct {
	payload, id, typ int
}

var protocolMessages sync.Map // reflect.Type → *protocolMessage, nil when not one

func protocolMessageOf(t reflect.Type) *protocolMessage {
	if pm, ok := protocolMessages.Load(t); ok {
		return pm.(*protocolMessage)
	}
	var pm *protocolMessage
	if t.Kind() == reflect.Struct {
		found := protocolMessage{payload: -1, id: -1, typ: -1}
		ok := true
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			switch {
			case f.Name == "Payload" && f.Type == reflect.TypeFor[json.RawMessage]() && f.Tag.Get("json") == "payload,omitempty":
				found.payload = i
			case f.Name == "ID" && f.Type.Kind() == reflect.String && f.Tag.Get("json") == "id,omitempty":
				found.id = i
			case f.Name == "Type" && f.Type.Kind() == reflect.String && f.Tag.Get("json") == "type":
				found.typ = i
			default:
				ok = false
			}
		}
		if ok && found.payload >= 0 && found.id >= 0 && found.typ >= 0 {
			pm = &found
		}
	}
	protocolMessages.Store(t, pm)
	return pm
}

// appendProtocolMessage appends the JSON encoding/json would make of v if v
// is a pointer to one of gqlgen's protocol messages, without re-compacting
// its payload (encoded by encoding/json already); ok is false otherwise, or
// when the ID or type would need escaping.
func appendProtocolMessage(dst []byte, v any) (_ []byte, ok bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return dst, false
	}
	rv = rv.Elem()
	pm := protocolMessageOf(rv.Type())
	if pm == nil {
		return dst, false
	}
	payload, id, typ := rv.Field(pm.payload).Bytes(), rv.Field(pm.id).String(), rv.Field(pm.typ).String()
	if !plain(id) || !plain(typ) {
		return dst, false
	}
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
	dst = append(dst, `"}`...)
	return dst, true
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
