package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// source is what a subscription executes against: the tests push events
// into it. It stands in for gqlgen's executor, so the tests can say exactly
// when an event happens and how many executions run.
type source struct {
	mu         sync.Mutex
	executions int
	running    int
	streams    []chan string
}

func (s *source) CreateOperationContext(context.Context, *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	panic("not used")
}

func (s *source) DispatchError(context.Context, gqlerror.List) *graphql.Response { panic("not used") }

// DispatchOperation renders each pushed event into one reused buffer, as
// gqlgen's generated code does, and ends when ctx ends or the stream closes.
func (s *source) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	ch := make(chan string, 1024)
	s.mu.Lock()
	s.executions++
	s.running++
	s.streams = append(s.streams, ch)
	s.mu.Unlock()
	var buf []byte
	ended := false
	return func(ctx context.Context) *graphql.Response {
		select {
		case ev, ok := <-ch:
			if ok {
				buf = append(buf[:0], fmt.Sprintf(`{"event":%q}`, ev)...)
				return &graphql.Response{Data: buf}
			}
		case <-ctx.Done():
		}
		if !ended {
			ended = true
			s.mu.Lock()
			s.running--
			s.mu.Unlock()
		}
		return nil
	}, ctx
}

// push sends an event to every running execution.
func (s *source) push(ev string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.streams {
		select {
		case ch <- ev:
		default:
		}
	}
}

// closeAll ends every execution's stream.
func (s *source) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.streams {
		close(ch)
	}
	s.streams = nil
}

func (s *source) counts() (executions, running int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.executions, s.running
}

func operation(query string, vars map[string]any) *graphql.OperationContext {
	return &graphql.OperationContext{
		RawQuery:  query,
		Variables: vars,
		Operation: &ast.OperationDefinition{Operation: ast.Subscription},
	}
}

func testHub(buffer int) *Hub {
	return newHub(hubConfig{
		Mode:   func(*graphql.OperationContext) Mode { return Events },
		Buffer: buffer,
		Dropped: func(*graphql.OperationContext) *graphql.Response {
			return &graphql.Response{Errors: gqlerror.List{{Message: "too slow"}}}
		},
	})
}

// subscriber is a member driven as a transport drives it: next, over and
// over, from one goroutine.
type subscriber struct {
	next   graphql.ResponseHandler
	ctx    context.Context
	cancel context.CancelFunc
}

func subscribe(t *testing.T, h *Hub, src *source, rc *graphql.OperationContext) *subscriber {
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	next, ctx := hubExecutor{src, h}.DispatchOperation(ctx, rc)
	return &subscriber{next: next, ctx: ctx, cancel: cancel}
}

// take returns the next n responses' data or errors.
func (s *subscriber) take(n int) []string {
	var out []string
	for range n {
		r := s.next(s.ctx)
		switch {
		case r == nil:
			return append(out, "<end>")
		case len(r.Errors) > 0:
			out = append(out, "error: "+r.Errors[0].Message)
		default:
			out = append(out, string(r.Data))
		}
	}
	return out
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestIdenticalOperationsShareOneExecution(t *testing.T) {
	h, src := testHub(16), &source{}
	a := subscribe(t, h, src, operation("subscription { s }", map[string]any{"id": "1"}))
	b := subscribe(t, h, src, operation("subscription { s }", map[string]any{"id": "1"}))
	other := subscribe(t, h, src, operation("subscription { s }", map[string]any{"id": "2"}))
	executions, _ := src.counts()
	require.Equal(t, 2, executions, "one per distinct operation")

	src.push("x")
	src.push("y")
	want := []string{`{"event":"x"}`, `{"event":"y"}`}
	require.Equal(t, want, a.take(2))
	require.Equal(t, want, b.take(2), "each member gets every response, intact")
	require.Equal(t, want, other.take(2))
	require.Equal(t, Stats{Subscribers: 3, Executions: 2}, h.Stats(Events))
}

func TestSlowMemberIsDroppedAlone(t *testing.T) {
	h, src := testHub(2), &source{}
	rc := operation("subscription { s }", nil)
	slow, fast := subscribe(t, h, src, rc), subscribe(t, h, src, rc)
	for i := range 5 {
		src.push(fmt.Sprint(i))
		require.Equal(t, []string{fmt.Sprintf(`{"event":"%d"}`, i)}, fast.take(1))
	}
	// The slow member read nothing: it gets what its buffer held, the
	// reason, and the end.
	require.Equal(t, []string{`{"event":"0"}`, `{"event":"1"}`, "error: too slow", "<end>"}, slow.take(4))
	require.Equal(t, Stats{Subscribers: 1, Executions: 1}, h.Stats(Events))

	src.push("5")
	require.Equal(t, []string{`{"event":"5"}`}, fast.take(1), "the others go on")
}

func TestLastMemberLeavingEndsTheExecution(t *testing.T) {
	h, src := testHub(16), &source{}
	rc := operation("subscription { s }", nil)
	a, b := subscribe(t, h, src, rc), subscribe(t, h, src, rc)
	a.take(0)
	b.take(0)

	a.cancel()
	require.Equal(t, []string{"<end>"}, a.take(1))
	src.push("x")
	require.Equal(t, []string{`{"event":"x"}`}, b.take(1), "the group outlives the member that started it")

	b.cancel()
	require.Equal(t, []string{"<end>"}, b.take(1))
	waitUntil(t, "the execution to end", func() bool { _, running := src.counts(); return running == 0 })
	require.Equal(t, Stats{}, h.Stats(Events))

	// A newcomer starts a new execution.
	c := subscribe(t, h, src, rc)
	src.push("y")
	require.Equal(t, []string{`{"event":"y"}`}, c.take(1))
	executions, running := src.counts()
	require.Equal(t, 2, executions)
	require.Equal(t, 1, running)
}

func TestStreamEndEndsMembers(t *testing.T) {
	h, src := testHub(16), &source{}
	rc := operation("subscription { s }", nil)
	a, b := subscribe(t, h, src, rc), subscribe(t, h, src, rc)
	src.push("x")
	src.closeAll()
	for _, s := range []*subscriber{a, b} {
		require.Equal(t, []string{`{"event":"x"}`, "<end>"}, s.take(2))
	}
	waitUntil(t, "the group to be forgotten", func() bool { return h.Stats(Events) == Stats{} })
}

func TestUnshareableGoesToTheExecutor(t *testing.T) {
	src := &source{}
	h := newHub(hubConfig{Mode: func(*graphql.OperationContext) Mode { return NotShared }, Buffer: 16})
	rc := operation("subscription { s }", nil)
	a, b := subscribe(t, h, src, rc), subscribe(t, h, src, rc)
	executions, _ := src.counts()
	require.Equal(t, 2, executions)
	src.push("x")
	require.Equal(t, []string{`{"event":"x"}`}, a.take(1))
	require.Equal(t, []string{`{"event":"x"}`}, b.take(1))
	require.Equal(t, Stats{}, h.Stats(Events))
}

func TestLatestJoinsWithTheLatestAndSkipsAhead(t *testing.T) {
	src := &source{}
	h := newHub(hubConfig{Mode: func(*graphql.OperationContext) Mode { return Latest }, Buffer: 16})
	rc := operation("subscription { progress }", nil)
	first := subscribe(t, h, src, rc)
	src.push("1")
	require.Equal(t, []string{`{"event":"1"}`}, first.take(1))

	// A newcomer gets the current state at once, from the running
	// execution.
	late := subscribe(t, h, src, rc)
	require.Equal(t, []string{`{"event":"1"}`}, late.take(1))
	executions, _ := src.counts()
	require.Equal(t, 1, executions)

	// A member that does not read skips to the latest, and is not dropped.
	for _, ev := range []string{"2", "3", "4"} {
		src.push(ev)
		require.Equal(t, []string{fmt.Sprintf(`{"event":%q}`, ev)}, first.take(1))
	}
	handedOut(t, h, `{"event":"4"}`)
	require.Equal(t, []string{`{"event":"4"}`}, late.take(1))

	src.push("5")
	src.closeAll()
	require.Equal(t, []string{`{"event":"5"}`, "<end>"}, first.take(2))
	require.Equal(t, []string{`{"event":"5"}`, "<end>"}, late.take(2))
}

// handedOut waits until the hub's one group has given every member data.
func handedOut(t *testing.T, h *Hub, data string) {
	waitUntil(t, "the broadcast of "+data, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, g := range h.groups {
			g.mu.Lock() // held for a whole broadcast
			latest := g.latest
			g.mu.Unlock()
			return latest != nil && string(latest.Data) == data
		}
		return false
	})
}

// chanWriter is a member's Writer: it says when it starts writing, hands
// each payload to the test, and fails once fail is closed.
type chanWriter struct {
	writing chan struct{}
	out     chan string
	fail    chan struct{}
}

func (w chanWriter) WriteResponse(payload []byte) error {
	select {
	case <-w.fail:
		return errors.New("connection gone")
	default:
	}
	w.writing <- struct{}{}
	w.out <- string(payload)
	return nil
}

type writerKey struct{}

func TestMembersWithAWriterWriteTheEncodedResponse(t *testing.T) {
	src := &source{}
	h := newHub(hubConfig{
		Mode:   func(*graphql.OperationContext) Mode { return Events },
		Buffer: 2,
		Dropped: func(*graphql.OperationContext) *graphql.Response {
			return &graphql.Response{Errors: gqlerror.List{{Message: "too slow"}}}
		},
		Writer: func(ctx context.Context) Writer {
			w, _ := ctx.Value(writerKey{}).(Writer)
			return w
		},
	})
	rc := operation("subscription { s }", nil)
	// Two members write themselves, one is written by its transport.
	direct := func() (chanWriter, chan *graphql.Response) {
		w := chanWriter{writing: make(chan struct{}, 16), out: make(chan string), fail: make(chan struct{})}
		ctx, cancel := context.WithCancel(context.WithValue(t.Context(), writerKey{}, Writer(w)))
		t.Cleanup(cancel)
		next, ctx := hubExecutor{src, h}.DispatchOperation(ctx, rc)
		returned := make(chan *graphql.Response, 4)
		go func() {
			for {
				r := next(ctx)
				returned <- r
				if r == nil {
					return
				}
			}
		}()
		return w, returned
	}
	a, aReturned := direct()
	b, bReturned := direct()
	plain := subscribe(t, h, src, rc)
	executions, _ := src.counts()
	require.Equal(t, 1, executions)
	waitUntil(t, "the members to join", func() bool { return h.Stats(Events).Writers == 2 })

	src.push("x")
	want, err := json.Marshal(&graphql.Response{Data: json.RawMessage(`{"event":"x"}`)})
	require.NoError(t, err)
	require.Equal(t, string(want), <-a.out, "encoded as gqlgen's transports encode it")
	require.Equal(t, string(want), <-b.out)
	require.Equal(t, []string{`{"event":"x"}`}, plain.take(1))
	require.Equal(t, Stats{Subscribers: 3, Writers: 2, Executions: 1}, h.Stats(Events))

	// a stops taking writes: it falls behind its buffer and is dropped
	// alone. It writes what it had, and hands its transport the reason.
	for _, ev := range []string{"1", "2", "3", "4"} {
		src.push(ev)
		if ev == "1" {
			<-a.writing // for "x"
			<-a.writing // a holds "1": two more fill its buffer
		}
		require.Equal(t, []string{fmt.Sprintf(`{"event":%q}`, ev)}, plain.take(1))
		require.Contains(t, <-b.out, ev)
	}
	for _, ev := range []string{"1", "2", "3"} { // one in hand, two buffered
		require.Contains(t, <-a.out, ev)
	}
	r := <-aReturned
	require.NotNil(t, r)
	require.Equal(t, "too slow", r.Errors[0].Message)
	require.Nil(t, <-aReturned)

	// A failed write ends the member; the others go on.
	close(b.fail)
	src.push("5")
	require.Nil(t, <-bReturned)
	require.Equal(t, []string{`{"event":"5"}`}, plain.take(1))
	waitUntil(t, "the members to leave", func() bool { return h.Stats(Events) == Stats{Subscribers: 1, Executions: 1} })
}

// FuzzEncode checks that a response is encoded as json.Marshal encodes it,
// whatever its data (JSON, as gqlgen's executor writes it) and errors.
func FuzzEncode(f *testing.F) {
	f.Add(`{"messageStatusChanged":{"messageID":"1","status":"SENT","at":"2026-11-27T03:33:25.123456Z"}}`, "")
	f.Add(`{"s":"<b>&amp;</b>"}`, "")
	f.Add(`{"s":"a b\u2028"}`, "")
	f.Add("{\"s\":\"\xe2\x80\xa8\"}", "")
	f.Add(`{ "a" : [1, 2] }`, "")
	f.Add(`null`, "boom")
	f.Fuzz(func(t *testing.T, data, errMsg string) {
		if !json.Valid([]byte(data)) {
			return
		}
		r := &graphql.Response{Data: json.RawMessage(data)}
		if errMsg != "" {
			r.Errors = gqlerror.List{{Message: errMsg}}
		}
		want, wantErr := json.Marshal(r)
		got, err := encode(r)
		require.Equal(t, wantErr == nil, err == nil)
		require.Equal(t, string(want), string(got))
	})
}

// TestExecuteRunsWhatItTakes: an operation hubConfig.Execute takes runs there,
// once for its group; one it leaves (nil) runs in gqlgen's executor.
func TestExecuteRunsWhatItTakes(t *testing.T) {
	h, src, direct := testHub(16), &source{}, &source{}
	h.cfg.Execute = func(ctx context.Context, rc *graphql.OperationContext) graphql.ResponseHandler {
		if rc.RawQuery != "subscription { direct }" {
			return nil
		}
		next, _ := direct.DispatchOperation(ctx, rc)
		return next
	}
	a := subscribe(t, h, src, operation("subscription { direct }", nil))
	b := subscribe(t, h, src, operation("subscription { direct }", nil))
	other := subscribe(t, h, src, operation("subscription { s }", nil))
	executions, _ := direct.counts()
	require.Equal(t, 1, executions, "the taken operation, once")
	executions, _ = src.counts()
	require.Equal(t, 1, executions, "the other, by gqlgen")

	direct.push("d")
	src.push("g")
	require.Equal(t, []string{`{"event":"d"}`}, a.take(1))
	require.Equal(t, []string{`{"event":"d"}`}, b.take(1))
	require.Equal(t, []string{`{"event":"g"}`}, other.take(1))
	require.Equal(t, Stats{Subscribers: 3, Executions: 2, Direct: 1}, h.Stats(Events))

	a.cancel()
	b.cancel()
	require.Equal(t, []string{"<end>"}, a.take(1))
	require.Equal(t, []string{"<end>"}, b.take(1))
	waitUntil(t, "the direct execution to end", func() bool {
		_, running := direct.counts()
		return running == 0 && h.Stats(Events).Direct == 0
	})
}
