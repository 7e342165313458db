package graph

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/message"
	"github.com/notifyhq/notify/graph/model"
	"github.com/notifyhq/notify/internal/event"
	"github.com/notifyhq/notify/internal/live"
)

// forwardStatusEvents turns a status subscription into the resolver's
// stream: one MessageStatusEvent per status write, with the message loaded
// when loadMessage says so (the operation selects it); notices and the
// reason of a drop become error events (see addStreamError). The stream is
// closed when the subscription ends.
func (r *Resolver) forwardStatusEvents(ctx context.Context, sub *event.MessageSubscription, loadMessage bool) <-chan *model.MessageStatusEvent {
	// A burst goes to gqlgen at once: unbuffered, every event took two
	// goroutine switches (forwarder, execution). The bus's buffer still
	// bounds what a subscription may hold.
	out := make(chan *model.MessageStatusEvent, maxBurst)
	alias := graphql.GetFieldContext(ctx).Field.Alias
	send := func(ev *model.MessageStatusEvent) bool {
		select {
		case out <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}
	sendNotice := func(err error) bool {
		addStreamError(ctx, live.Notice(alias, err))
		return send(nil)
	}
	go func() {
		defer close(out)
		for ev := range sub.C {
			// Take what is already waiting too: one query loads the
			// messages of a burst (the engine publishes up to 250 at once).
			burst := []*event.MessageEvent{ev}
		more:
			for len(burst) < maxBurst {
				select {
				case ev, ok := <-sub.C:
					if !ok {
						break more
					}
					burst = append(burst, ev)
				default:
					break more
				}
			}
			var msgs map[int]*ent.Message
			if loadMessage {
				msgs = r.loadMessages(ctx, messageIDs(burst))
			}
			for _, ev := range burst {
				if ev.Err != nil {
					if !sendNotice(ev.Err) {
						return
					}
					continue
				}
				c := ev.Change
				var committed *time.Time
				if !c.CommittedAt.IsZero() {
					committed = &c.CommittedAt
				}
				if !send(&model.MessageStatusEvent{
					MessageID: c.MessageID, MailingID: c.MailingID, ClientID: c.ClientID,
					Status: c.Status, Attempts: c.Attempts, At: c.At, CommittedAt: committed,
					Message: msgs[c.MessageID],
				}) {
					return
				}
			}
		}
		if err := sub.Err(); errors.Is(err, event.ErrTooSlow) {
			sendNotice(err)
		}
	}()
	return out
}

// maxBurst bounds the events whose messages one query loads.
const maxBurst = 256

// messageIDs returns the messages of a burst's events (not its notices).
func messageIDs(burst []*event.MessageEvent) []int {
	ids := make([]int, 0, len(burst))
	for _, ev := range burst {
		if ev.Change != nil {
			ids = append(ids, ev.Change.MessageID)
		}
	}
	return ids
}

// loadMessages loads the current messages of status events by their ids; a
// deleted message is missing (its event's message is null).
func (r *Resolver) loadMessages(ctx context.Context, ids []int) map[int]*ent.Message {
	if len(ids) == 0 {
		return nil
	}
	msgs, err := r.Ent.Message.Query().Where(message.IDIn(ids...)).All(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.Logger.WarnContext(ctx, "error loading the messages of status events", "events", len(ids), "error", err)
		}
		return nil
	}
	out := make(map[int]*ent.Message, len(msgs))
	for _, m := range msgs {
		out[m.ID] = m
	}
	return out
}

// selects reports whether the subscription's selection, of type typ, asks
// for field; with more names, whether that field's selection, of the next
// type, asks for the next field, and so on: ("MessageStatusEvent",
// "message"), ("MessageStatusBatch", "events", "MessageStatusEvent",
// "message").
func selects(ctx context.Context, typ, field string, more ...string) bool {
	return selectsIn(graphql.GetOperationContext(ctx), graphql.GetFieldContext(ctx).Field.Selections, typ, field, more)
}

func selectsIn(oc *graphql.OperationContext, set ast.SelectionSet, typ, field string, more []string) bool {
	return slices.ContainsFunc(graphql.CollectFields(oc, set, []string{typ}), func(f graphql.CollectedField) bool {
		return f.Name == field && (len(more) < 2 || selectsIn(oc, f.Selections, more[0], more[1], more[2:]))
	})
}

// A subscription's stream carries values only, so an error in the middle of
// one travels beside it: the resolver records the error in the operation's
// mailbox and sends a nil value; gqlgen answers that event with null data
// (and a generic non-null error), which streamErrorResponses replaces with
// the recorded error. This works alike over WebSocket (both protocols) and
// SSE.

type streamErrorsKey struct{}

// streamErrors is the mailbox of one subscription operation.
type streamErrors struct {
	mu   sync.Mutex
	errs gqlerror.List
}

// withStreamErrors gives a subscription operation its mailbox.
func withStreamErrors(ctx context.Context) context.Context {
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return ctx
	}
	return context.WithValue(ctx, streamErrorsKey{}, &streamErrors{})
}

// addStreamError records err for the next event of the subscription.
func addStreamError(ctx context.Context, err *gqlerror.Error) {
	if box, ok := ctx.Value(streamErrorsKey{}).(*streamErrors); ok {
		box.mu.Lock()
		box.errs = append(box.errs, err)
		box.mu.Unlock()
	}
}

// streamErrorResponses puts the recorded errors into the event a resolver
// sent for them.
func streamErrorResponses(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	box, ok := ctx.Value(streamErrorsKey{}).(*streamErrors)
	// Only the nil value sent for the errors yields null data with an
	// error: an event that went out before them must not take them.
	if resp == nil || !ok || len(resp.Errors) == 0 || !bytes.HasSuffix(resp.Data, []byte(":null}")) {
		return resp
	}
	box.mu.Lock()
	errs := box.errs
	box.errs = nil
	box.mu.Unlock()
	if len(errs) > 0 {
		resp.Errors = errs
	}
	return resp
}
