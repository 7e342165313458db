package graph

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/notifyhq/notify/graph/model"
)

// messageStatusBatches: a mailing's status changes gathered over an
// interval, for a live feed that shows the latest changes and how many
// there were. A client of messageStatusChanged takes one WebSocket message
// per change; at thousands a second that is the browser's largest cost
// (docs/design.md, the web UI's live feed).
const (
	// batchInterval is the time a batch gathers.
	batchInterval = 100 * time.Millisecond
	// defaultBatchLast and maxBatchLast bound the events a batch carries.
	defaultBatchLast = 100
	maxBatchLast     = 1000
)

// statusBatches is the resolver of messageStatusBatches: the events of the
// mailing's status subscription (forwardStatusEvents, notices included),
// the last `last` of them and their count sent every batchInterval that had
// any. The messages, when the operation selects them, are loaded when the
// batch goes out, for its events only. An explicit null last is the
// default.
func (r *Resolver) statusBatches(ctx context.Context, mailingID int, last *int) (<-chan *model.MessageStatusBatch, error) {
	n := defaultBatchLast
	if last != nil {
		n = *last
	}
	if n < 1 || n > maxBatchLast {
		return nil, badInput("last", fmt.Sprintf("must be between 1 and %d", maxBatchLast))
	}
	sub, err := r.Events.SubscribeMessages(ctx, &mailingID)
	if err != nil {
		return nil, fmt.Errorf("error subscribing to status changes: %w", err)
	}
	events := r.forwardStatusEvents(ctx, sub, false)
	loadMessage := selects(ctx, "MessageStatusBatch", "events", "MessageStatusEvent", "message")
	out := make(chan *model.MessageStatusBatch)
	go func() {
		defer close(out)
		ring := newStatusRing(n)
		take := func() *model.MessageStatusBatch {
			b := ring.take()
			if loadMessage {
				ids := make([]int, len(b.Events))
				for i, ev := range b.Events {
					ids[i] = ev.MessageID
				}
				msgs := r.loadMessages(ctx, ids)
				for _, ev := range b.Events {
					ev.Message = msgs[ev.MessageID]
				}
			}
			return b
		}
		send := func(b *model.MessageStatusBatch) bool {
			select {
			case out <- b:
				return true
			case <-ctx.Done():
				return false
			}
		}
		// ready is the batch waiting for the client; the events go on
		// into the ring meanwhile (a slow write does not hold the bus's
		// feed back), and the next tick after it went takes them.
		var ready *model.MessageStatusBatch
		// flush sends what is gathered, in order.
		flush := func() bool {
			if ready != nil && !send(ready) {
				return false
			}
			ready = nil
			return ring.count == 0 || send(take())
		}
		tick := time.NewTicker(batchInterval)
		defer tick.Stop()
		for {
			var outC chan<- *model.MessageStatusBatch
			if ready != nil {
				outC = out
			}
			select {
			case ev, ok := <-events:
				switch {
				case !ok:
					flush()
					return
				case ev == nil:
					// A notice, recorded for the next nil value: after
					// the events that came before it.
					if !flush() || !send(nil) {
						return
					}
				default:
					ring.add(ev)
				}
			case <-tick.C:
				if ready == nil && ring.count > 0 {
					ready = take()
				}
			case outC <- ready:
				ready = nil
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// statusRing keeps the last events of an interval and counts them all.
type statusRing struct {
	events []*model.MessageStatusEvent // at most cap(events)
	next   int                         // the oldest event once full
	count  int
}

func newStatusRing(n int) *statusRing {
	return &statusRing{events: make([]*model.MessageStatusEvent, 0, n)}
}

func (r *statusRing) add(ev *model.MessageStatusEvent) {
	if len(r.events) < cap(r.events) {
		r.events = append(r.events, ev)
	} else {
		r.events[r.next] = ev
		r.next = (r.next + 1) % len(r.events)
	}
	r.count++
}

// take returns the batch of the events since the last take, oldest first,
// and empties the ring.
func (r *statusRing) take() *model.MessageStatusBatch {
	b := &model.MessageStatusBatch{Events: slices.Concat(r.events[r.next:], r.events[:r.next]), Count: r.count}
	clear(r.events)
	r.events, r.next, r.count = r.events[:0], 0, 0
	return b
}
