package live

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/notifyhq/notify/graph/generated"
	"github.com/notifyhq/notify/graph/scalar"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/event"
	"github.com/notifyhq/notify/internal/status"
)

// A shared messageStatusChanged execution whose selection is the event's
// scalar fields (ids, status, attempts, times: what a progress view asks
// for) runs without gqlgen's executor. It reads the event bus itself and
// renders each event with a plan made once from the selection. gqlgen's
// executor spends some 4–6 µs and 60 allocations on every event (a field
// context and closures per field, the response middleware), the largest
// part of what a fan-out's status subscribers cost the service; the plan
// renders an event in a fraction of that. Anything else (the message
// field, a directive) is left to gqlgen. FuzzStatusFeed checks that both
// give the same responses, byte for byte.

// statusFeeds returns the hub's Execute (hubConfig): the feed of a
// plain messageStatusChanged operation, or nil for gqlgen to run it. Without
// a bus there is no feed: gqlgen runs everything.
func statusFeeds(events *event.Bus) func(context.Context, *graphql.OperationContext) graphql.ResponseHandler {
	if events == nil {
		return nil
	}
	return func(ctx context.Context, rc *graphql.OperationContext) graphql.ResponseHandler {
		plan, ok := planStatus(rc)
		if !ok {
			return nil
		}
		sub, err := events.SubscribeMessages(ctx, plan.mailingID)
		if err != nil {
			return nil // gqlgen's execution reports it
		}
		f := &statusFeed{plan: plan, sub: sub}
		return f.next
	}
}

// statusPlan is how one messageStatusChanged selection renders an event.
type statusPlan struct {
	mailingID *int   // the argument
	open      []byte // {"alias":{
	fields    []plannedField
	alias     string
}

type plannedField struct {
	key   []byte // "alias": (after a comma but for the first)
	value eventField
}

// eventField is a scalar field of MessageStatusEvent.
type eventField int

const (
	fieldTypename eventField = iota
	fieldMessageID
	fieldMailingID
	fieldClientID
	fieldStatus
	fieldAttempts
	fieldAt
	fieldCommittedAt
)

// renderers are the scalar fields of MessageStatusEvent the feed knows how
// to render, each with its type as the schema declares it.
var renderers = map[string]struct {
	typ   string
	field eventField
}{
	"messageID":   {"ID!", fieldMessageID},
	"mailingID":   {"ID!", fieldMailingID},
	"clientID":    {"ID", fieldClientID},
	"status":      {"MessageStatus!", fieldStatus},
	"attempts":    {"Int!", fieldAttempts},
	"at":          {"Time!", fieldAt},
	"committedAt": {"Time", fieldCommittedAt},
}

// eventFields are the fields of MessageStatusEvent the feed renders: those
// of renderers that the schema (graph's, parsed by gqlgen's generated code,
// read once at start-up) declares with the same type. An operation
// selecting any other field runs in gqlgen. TestStatusFeedFieldsAreTheSchemas
// fails when the schema has a scalar field the feed does not render.
var eventFields = sync.OnceValue(func() map[string]eventField {
	return fieldsOf(generated.NewExecutableSchema(generated.Config{}).Schema())
})

// fieldsOf returns the fields of MessageStatusEvent in schema that the feed
// renders.
func fieldsOf(schema *ast.Schema) map[string]eventField {
	fields := map[string]eventField{"__typename": fieldTypename}
	if def := schema.Types["MessageStatusEvent"]; def != nil {
		for _, f := range def.Fields {
			if r, ok := renderers[f.Name]; ok && f.Type.String() == r.typ {
				fields[f.Name] = r.field
			}
		}
	}
	return fields
}

// planStatus returns the plan of rc when it is a messageStatusChanged
// subscription selecting only scalar fields of the event, without
// directives; false otherwise.
func planStatus(rc *graphql.OperationContext) (*statusPlan, bool) {
	if rc == nil || rc.Operation == nil || rc.Operation.Operation != ast.Subscription || len(rc.Operation.SelectionSet) != 1 {
		return nil, false
	}
	// A directive (@include, @skip, @defer) is gqlgen's to apply: a
	// document with an @ anywhere, even in a string or a comment, runs there.
	root, ok := rc.Operation.SelectionSet[0].(*ast.Field)
	if !ok || root.Name != "messageStatusChanged" || strings.Contains(rc.RawQuery, "@") {
		return nil, false
	}
	p := &statusPlan{alias: root.Alias}
	// As gqlgen's argument of the resolver (unmarshalOID2ᚖint): an invalid
	// one is gqlgen's to report.
	if v := root.ArgumentMap(rc.Variables)["mailingID"]; v != nil {
		id, err := graphql.UnmarshalIntID(v)
		if err != nil {
			return nil, false
		}
		p.mailingID = &id
	}
	// The fields as gqlgen collects them: fragments flattened, fields of
	// one alias merged, in order.
	for i, f := range graphql.CollectFields(rc, root.SelectionSet, []string{"MessageStatusEvent"}) {
		value, ok := eventFields()[f.Name]
		if !ok {
			return nil, false
		}
		var key []byte
		if i > 0 {
			key = append(key, ',')
		}
		key = appendName(key, f.Alias)
		p.fields = append(p.fields, plannedField{key: append(key, ':'), value: value})
	}
	p.open = append(appendName([]byte("{"), root.Alias), ":{"...)
	return p, true
}

// appendName appends a GraphQL name as a JSON string: names are
// [_A-Za-z][_0-9A-Za-z]*, which need no escaping.
func appendName(b []byte, name string) []byte {
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"')
}

// render appends the data of c's event.
func (p *statusPlan) render(b []byte, c *campaign.StatusChange) []byte {
	b = append(b, p.open...)
	for _, f := range p.fields {
		b = append(b, f.key...)
		switch f.value {
		case fieldTypename:
			b = append(b, `"MessageStatusEvent"`...)
		case fieldMessageID:
			b = appendID(b, c.MessageID)
		case fieldMailingID:
			b = appendID(b, c.MailingID)
		case fieldClientID:
			if c.ClientID == nil {
				b = append(b, "null"...)
			} else {
				b = appendID(b, *c.ClientID)
			}
		case fieldStatus:
			b = appendStatus(b, c.Status)
		case fieldAttempts:
			b = strconv.AppendInt(b, int64(c.Attempts), 10)
		case fieldAt:
			b = scalar.AppendTime(b, c.At)
		case fieldCommittedAt:
			if c.CommittedAt.IsZero() {
				b = append(b, "null"...)
			} else {
				b = scalar.AppendTime(b, c.CommittedAt)
			}
		}
	}
	return append(b, '}', '}')
}

// appendID appends an ID as graphql.MarshalIntID writes it: a string of
// digits, which need no escaping.
func appendID(b []byte, id int) []byte {
	b = append(b, '"')
	b = strconv.AppendInt(b, int64(id), 10)
	return append(b, '"')
}

// statusValues are the message statuses as the enum marshals them.
var statusValues = func() map[status.Message][]byte {
	m := make(map[status.Message][]byte, len(status.Messages))
	for _, s := range status.Messages {
		var b bytes.Buffer
		s.MarshalGQL(&b)
		m[s] = b.Bytes()
	}
	return m
}()

func appendStatus(b []byte, s status.Message) []byte {
	if v, ok := statusValues[s]; ok {
		return append(b, v...)
	}
	var buf bytes.Buffer
	s.MarshalGQL(&buf)
	return append(b, buf.Bytes()...)
}

// statusFeed is the execution of a planned operation: one response per
// event of its bus subscription.
type statusFeed struct {
	plan  *statusPlan
	sub   *event.MessageSubscription
	data  []byte // the last response's data, reused (as gqlgen's buffer is)
	ended bool
}

// next is the feed's graphql.ResponseHandler: the next event, a notice
// (noticeResponse, as gqlgen answers graph's forwardStatusEvents), or nil at
// the end.
func (f *statusFeed) next(ctx context.Context) *graphql.Response {
	if f.ended {
		return nil
	}
	var (
		ev *event.MessageEvent
		ok bool
	)
	select {
	case ev, ok = <-f.sub.C:
	case <-ctx.Done():
		return nil
	}
	switch {
	case !ok:
		f.ended = true
		if err := f.sub.Err(); errors.Is(err, event.ErrTooSlow) {
			return noticeResponse(f.plan.alias, err)
		}
		return nil
	case ev.Err != nil:
		return noticeResponse(f.plan.alias, ev.Err)
	}
	f.data = f.plan.render(f.data[:0], ev.Change)
	return &graphql.Response{Data: f.data}
}
