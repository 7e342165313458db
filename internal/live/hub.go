package live

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/notifyhq/notify/internal/event"
)

// Mode is how a subscription operation is shared.
type Mode int

const (
	// NotShared operations run on their own.
	NotShared Mode = iota
	// Events streams start with the next event: members get every
	// response from their joining on, or are dropped.
	Events
	// Latest streams are snapshots: members get the latest response when
	// they join, and skip to the latest when behind.
	Latest
)

// hubConfig says which operations a Hub shares and how it treats members.
type hubConfig struct {
	// Mode says whether and how a subscription operation is shared.
	Mode func(*graphql.OperationContext) Mode
	// Buffer is how many responses a member of an Events group may fall
	// behind before it is dropped.
	Buffer int
	// Dropped is the last response a dropped member gets: the reason.
	Dropped func(*graphql.OperationContext) *graphql.Response
	// Writer, when set, returns the Writer of the subscription dispatched
	// with ctx, or nil when its transport writes its responses.
	Writer func(ctx context.Context) Writer
	// Execute, when set, may run a shared operation itself instead of
	// gqlgen's executor: it returns the operation's responses, which must
	// be those gqlgen's execution would give, or nil to leave the
	// operation to gqlgen. ctx ends with the group.
	Execute func(ctx context.Context, rc *graphql.OperationContext) graphql.ResponseHandler
	Logger  *slog.Logger
}

// A Writer sends a member's responses to its client, given each response
// encoded as gqlgen's transports encode it (encoding/json of the
// graphql.Response), the same bytes for every member.
type Writer interface {
	WriteResponse(payload []byte) error
}

// Hub runs identical subscriptions once: gqlgen executes a subscription's
// selection for every event and every subscriber, so subscribers whose
// operations are the same (query, operation name, variables) share one
// execution per group instead, each member getting the same responses. A
// member joining a running execution gets what a fresh one would (Mode);
// the execution never waits on a member, and a group ends when its last
// member leaves or its stream ends. Where the transport takes a response
// already encoded (a Writer), the hub encodes it once for the group.
type Hub struct {
	cfg hubConfig

	mu      sync.Mutex
	groups  map[string]*group
	members [Latest + 1]int // subscribers of the shared executions, by mode
	writers [Latest + 1]int // those with a Writer
}

// newHub returns a Hub.
func newHub(cfg hubConfig) *Hub {
	cfg.Buffer = max(cfg.Buffer, 1)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Hub{cfg: cfg, groups: map[string]*group{}}
}

// Stats counts what a Hub runs in one mode.
type Stats struct {
	Subscribers int // members of shared executions
	Writers     int // members writing their responses themselves
	Executions  int // shared executions running
	Direct      int // of those, run by hubConfig.Execute instead of gqlgen
}

// Stats returns what the hub runs now in mode.
func (h *Hub) Stats(mode Mode) Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := Stats{Subscribers: h.members[mode], Writers: h.writers[mode]}
	for _, g := range h.groups {
		if g.mode == mode {
			st.Executions++
			select {
			case <-g.ready: // direct is set
				if g.direct {
					st.Direct++
				}
			default:
			}
		}
	}
	return st
}

// Transport wraps a gqlgen transport so that the shareable subscriptions it
// serves go through the hub.
func (h *Hub) Transport(t graphql.Transport) graphql.Transport { return hubTransport{t, h} }

type hubTransport struct {
	graphql.Transport
	hub *Hub
}

func (t hubTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	t.Transport.Do(w, r, hubExecutor{exec, t.hub})
}

// hubExecutor dispatches shareable subscriptions to the hub, and everything
// else to gqlgen's executor.
type hubExecutor struct {
	graphql.GraphExecutor
	hub *Hub
}

func (e hubExecutor) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	if rc == nil || rc.Operation == nil || rc.Operation.Operation != ast.Subscription {
		return e.GraphExecutor.DispatchOperation(ctx, rc)
	}
	mode := e.hub.cfg.Mode(rc)
	if mode == NotShared {
		return e.GraphExecutor.DispatchOperation(ctx, rc)
	}
	key, err := operationKey(rc)
	if err != nil {
		return e.GraphExecutor.DispatchOperation(ctx, rc)
	}
	m := e.hub.join(ctx, key, mode, rc, e.GraphExecutor)
	if e.hub.cfg.Writer != nil {
		m.writer = e.hub.cfg.Writer(ctx)
	}
	return m.next, graphql.WithOperationContext(ctx, rc)
}

// operationKey identifies what an operation computes: operations with equal
// keys get equal responses.
func operationKey(rc *graphql.OperationContext) (string, error) {
	vars, err := json.Marshal(rc.Variables) // map keys sorted
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d:%s%d:%s%s", len(rc.RawQuery), rc.RawQuery, len(rc.OperationName), rc.OperationName, vars), nil
}

// join adds a member to the group of key, starting the group if there is
// none; it returns once the group's execution has subscribed.
func (h *Hub) join(ctx context.Context, key string, mode Mode, rc *graphql.OperationContext, exec graphql.GraphExecutor) *member {
	h.mu.Lock()
	g := h.groups[key]
	var m *member
	if g != nil {
		m = g.add(rc)
	}
	if m == nil { // no group, or one that is ending
		g = &group{hub: h, key: key, mode: mode, members: map[*member]struct{}{}, ready: make(chan struct{})}
		m = g.add(rc)
		h.groups[key] = g
		defer g.start(ctx, rc, exec)
	}
	h.mu.Unlock()
	return m
}

func (h *Hub) count(m *member, delta int) {
	h.mu.Lock()
	h.members[m.group.mode] += delta
	if m.writer != nil {
		h.writers[m.group.mode] += delta
	}
	h.mu.Unlock()
}

// group is one shared execution and its members.
type group struct {
	hub    *Hub
	key    string
	mode   Mode
	ready  chan struct{} // closed once the execution subscribed
	cancel context.CancelFunc
	direct bool // run by hubConfig.Execute; set before ready is closed

	mu      sync.Mutex
	members map[*member]struct{}
	ended   bool      // no member may join
	latest  *response // of a Latest group
}

// response is one response of a group's execution, for all its members.
type response struct {
	*graphql.Response
	once    sync.Once
	payload []byte // the encoded response, once a member asked
	err     error
}

// encoded returns r encoded as gqlgen's transports encode it.
func (r *response) encoded() ([]byte, error) {
	r.once.Do(func() { r.payload, r.err = encode(r.Response) })
	return r.payload, r.err
}

// encode returns what json.Marshal returns for r, whose data is JSON
// (gqlgen's executor and the status feed write it, compact). A response of
// data alone is most of them; when its data has nothing encoding/json would
// change (no whitespace, nor what it escapes for HTML), it is put between
// the braces as it is, instead of being compacted again: json.Marshal here
// cost BenchmarkStatusDelivery 5–8 % more CPU per event.
func encode(r *graphql.Response) ([]byte, error) {
	if len(r.Errors) > 0 || r.Label != "" || len(r.Path) > 0 || r.HasNext != nil || len(r.Extensions) > 0 ||
		len(r.Data) == 0 || !asIs(r.Data) {
		return json.Marshal(r)
	}
	b := make([]byte, 0, len(`{"data":}`)+len(r.Data))
	b = append(b, `{"data":`...)
	b = append(b, r.Data...)
	return append(b, '}'), nil
}

// asIs reports whether encoding/json compacts the JSON data to itself: it
// has no whitespace, and none of <, >, & and U+2028, U+2029 (0xE2 is their
// first byte), which encoding/json escapes.
func asIs(data []byte) bool {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\n', '\r', '<', '>', '&', 0xe2:
			return false
		}
	}
	return true
}

// add adds a member, or returns nil if the group is ending.
func (g *group) add(rc *graphql.OperationContext) *member {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ended {
		return nil
	}
	size := g.hub.cfg.Buffer
	if g.mode == Latest {
		size = 1
	}
	m := &member{group: g, rc: rc, ch: make(chan *response, size)}
	if g.latest != nil {
		m.ch <- g.latest
	}
	g.members[m] = struct{}{}
	return m
}

// start runs the operation for the group. Its context carries the values
// of the first member's (operation, connection) but not its cancellation:
// the group outlives the member that started it.
func (g *group) start(ctx context.Context, rc *graphql.OperationContext, exec graphql.GraphExecutor) {
	ctx, g.cancel = context.WithCancel(context.WithoutCancel(ctx))
	responses := g.hub.Direct(ctx, rc)
	g.direct = responses != nil
	if !g.direct {
		responses, ctx = exec.DispatchOperation(ctx, rc)
	}
	close(g.ready)
	go g.pump(ctx, responses)
}

// pump hands each response of the execution to every member, then ends the
// group.
func (g *group) pump(ctx context.Context, responses graphql.ResponseHandler) {
	defer g.end()
	defer func() {
		if p := recover(); p != nil {
			g.hub.cfg.Logger.Error("shared subscription panicked", "panic", fmt.Sprint(p))
			g.broadcast(&response{Response: &graphql.Response{Errors: gqlerror.List{{Message: "internal error"}}}})
		}
	}()
	for {
		r := responses(ctx)
		if r == nil {
			return
		}
		// gqlgen renders every event of a subscription into one buffer,
		// reused for the next: members get a copy of their own.
		shared := *r
		shared.Data = bytes.Clone(r.Data)
		g.broadcast(&response{Response: &shared})
	}
}

// broadcast gives r to every member. A member whose buffer is full skips to
// r in a Latest group, and is dropped in an Events group.
func (g *group) broadcast(r *response) {
	g.mu.Lock()
	if g.mode == Latest {
		g.latest = r
	}
	for m := range g.members {
		// The fan-out policy of live events (event.Offer); only the pump
		// sends.
		if event.Offer(m.ch, r, g.mode == Latest) {
			continue
		}
		delete(g.members, m)
		m.dropped = true
		close(m.ch)
		event.LogDropped(g.hub.cfg.Logger, "shared subscriber", cap(m.ch), "operation", m.rc.OperationName)
	}
	empty := len(g.members) == 0 && !g.ended
	if empty {
		g.ended = true
	}
	g.mu.Unlock()
	if empty {
		g.stop()
	}
}

// end ends every member once the execution is over.
func (g *group) end() {
	g.mu.Lock()
	g.ended = true
	for m := range g.members {
		close(m.ch)
	}
	clear(g.members)
	g.mu.Unlock()
	g.stop()
}

// stop forgets the group and cancels its execution; members left are ended
// by pump.
func (g *group) stop() {
	h := g.hub
	h.mu.Lock()
	if h.groups[g.key] == g { // a group of the same key may have followed it
		delete(h.groups, g.key)
	}
	h.mu.Unlock()
	g.cancel()
}

// leave removes m, and stops the group when m was its last member.
func (g *group) leave(m *member) {
	g.mu.Lock()
	_, in := g.members[m]
	delete(g.members, m)
	last := in && len(g.members) == 0 && !g.ended
	if last {
		g.ended = true
	}
	g.mu.Unlock()
	if last {
		g.stop()
	}
}

// member is one subscriber of a group. Its next is called by one goroutine
// (the transport's loop for the subscription).
type member struct {
	group  *group
	rc     *graphql.OperationContext
	writer Writer // nil when the transport writes the responses
	ch     chan *response
	// dropped is set before ch is closed, read after it is seen closed.
	dropped bool

	joined, left, reported bool
}

// next is the member's ResponseHandler: the group's next response, the
// reason of a drop, or nil at the end. A member with a Writer writes the
// group's responses itself, and returns only the reason of a drop (which its
// transport writes) or nil.
func (m *member) next(ctx context.Context) *graphql.Response {
	if !m.joined {
		m.joined = true
		<-m.group.ready
		m.group.hub.count(m, 1)
	}
	done := ctx.Done()
	for !m.left {
		r := m.receive(done)
		if r == nil { // ended, dropped, or gone
			m.leave()
			if m.dropped && !m.reported && ctx.Err() == nil {
				m.reported = true
				return m.group.hub.cfg.Dropped(m.rc)
			}
			return nil
		}
		if m.writer == nil {
			return r.Response
		}
		payload, err := r.encoded()
		if err != nil {
			return r.Response // the transport reports it
		}
		if err := m.writer.WriteResponse(payload); err != nil {
			m.leave() // the connection is gone
			return nil
		}
	}
	return nil
}

// receive returns the member's next response, or nil once done is closed
// or the channel is. A burst is taken without a full select per response
// (much dearer than receiving from one channel), done first.
func (m *member) receive(done <-chan struct{}) *response {
	select {
	case <-done:
		return nil
	default:
	}
	select {
	case r := <-m.ch:
		return r
	default:
	}
	select {
	case r := <-m.ch:
		return r
	case <-done:
		return nil
	}
}

func (m *member) leave() {
	if !m.left {
		m.left = true
		m.group.leave(m)
		m.group.hub.count(m, -1)
	}
}

// NewHub returns the hub that runs identical subscriptions once:
//   - a messageStatusChanged stream starts with the next event whoever
//     subscribes, so a subscriber joins a running one from its next event
//     (a messageStatusBatches one likewise, from its next batch);
//   - a mailingProgress stream is snapshots, each the whole current state,
//     so a subscriber joins a running one with its latest snapshot.
//
// A plain messageStatusChanged stream (scalar fields only) is read from
// events and rendered without gqlgen's executor (see statusfeed.go).
//
// buffer is how many events a status subscriber may fall behind before it
// is dropped with SUBSCRIBER_TOO_SLOW; event.DefaultBuffer when 0.
func NewHub(events *event.Bus, logger *slog.Logger, buffer int) *Hub {
	if buffer <= 0 {
		buffer = event.DefaultBuffer
	}
	return newHub(hubConfig{
		Mode:    sharing,
		Buffer:  buffer,
		Dropped: tooSlowResponse,
		Writer:  dataWriterOf,
		Execute: statusFeeds(events),
		Logger:  logger,
	})
}

// Direct returns the hub's own execution of rc (the direct status feed),
// or nil when gqlgen's executor runs rc: what a group of rc would run.
// ctx ends the execution.
func (h *Hub) Direct(ctx context.Context, rc *graphql.OperationContext) graphql.ResponseHandler {
	if h.cfg.Execute == nil {
		return nil
	}
	return h.cfg.Execute(ctx, rc)
}

// sharing says how an operation is shared, by its root field (a
// subscription has exactly one).
func sharing(rc *graphql.OperationContext) Mode {
	if set := rc.Operation.SelectionSet; len(set) == 1 {
		if f, ok := set[0].(*ast.Field); ok {
			switch f.Name {
			case "messageStatusChanged", "messageStatusBatches":
				return Events
			case "mailingProgress":
				return Latest
			}
		}
	}
	return NotShared
}
