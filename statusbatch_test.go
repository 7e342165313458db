package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/live"
	"github.com/notifyhq/notify/internal/testdb"
)

const (
	batchSubscription = `subscription($id: ID!, $last: Int) {
		messageStatusBatches(mailingID: $id, last: $last) { count events { messageID mailingID status attempts at } }
	}`
	// With the default last and the messages.
	batchSubscriptionMessages = `subscription($id: ID!) {
		messageStatusBatches(mailingID: $id) { count events { messageID mailingID status attempts at message { id status } } }
	}`
)

// statusBatch is a messageStatusBatches batch.
type statusBatch struct {
	Count  int           `json:"count"`
	Events []statusEvent `json:"events"`
}

// statusBatches decodes the batches of a messageStatusBatches stream.
func (s *stream) statusBatches(t *testing.T) []statusBatch {
	return streamData(t, s, func(v struct{ MessageStatusBatches statusBatch }) statusBatch { return v.MessageStatusBatches })
}

// batchedCount is the sum of the counts of a messageStatusBatches stream;
// s.mu held.
func (s *stream) batchedCount() int {
	n := 0
	for _, d := range s.data {
		var v struct{ MessageStatusBatches struct{ Count int } }
		if json.Unmarshal(d, &v) == nil {
			n += v.MessageStatusBatches.Count
		}
	}
	return n
}

// TestStatusBatches follows a mailing with messageStatusChanged and with
// messageStatusBatches at two sizes: the batches' counts add up to every
// status change, and each batch carries the last `last` changes of its
// interval, oldest first, exactly those messageStatusChanged delivered at
// that place of the sequence (the bus gives every subscriber the same
// order); the messages are loaded when selected. A last outside 1–1000 is
// a BAD_USER_INPUT error naming the field last.
func TestStatusBatches(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		const n, last = 3000, 2
		b := setup(t, databaseURL, setupOpts{})
		for first := 0; first < n; first += 1000 { // 1000 a mutation: under the token limit
			b.createClients(t, first, 1000, "UTC")
		}
		id, start := b.scheduledMailing(t)

		ws, err := dialWS(t, b.server.URL, nil)
		require.NoError(t, err)
		for _, bad := range []int{0, 1001} {
			s := ws.subscribe(t, fmt.Sprint("last-", bad), batchSubscription, map[string]any{"id": id, "last": bad})
			s.wait(t, 10*time.Second, "an error", func(s *stream) bool { return len(s.errs) > 0 })
			require.Equal(t, "BAD_USER_INPUT", s.errs[0].Extensions["code"], "last: %d", bad)
			require.Equal(t, "last", s.errs[0].Extensions["field"], "last: %d", bad)
			require.Equal(t, "last: must be between 1 and 1000", s.errs[0].Message)
			require.Empty(t, s.data)
		}

		events := ws.subscribe(t, "events", statusSubscriptionLean, map[string]any{"id": id})
		small := ws.subscribe(t, "small", batchSubscription, map[string]any{"id": id, "last": last})
		withMessages := ws.subscribe(t, "messages", batchSubscriptionMessages, map[string]any{"id": id})
		progress := ws.subscribe(t, "progress", progressSubscription, map[string]any{"id": id})
		progress.wait(t, 10*time.Second, "the first snapshot", hasEvents(1))
		b.waitSubscribers(t, 3, 1)
		require.Equal(t, 3, b.app.shared.Stats(live.Events).Executions)

		start()
		progress.wait(t, 2*time.Minute, "the end of progress", isEnded)
		events.wait(t, 30*time.Second, "a SENT event per message", hasSent(n))
		all := requireOneSentEach(t, events, id, n)
		for _, s := range []*stream{small, withMessages} {
			s.wait(t, 30*time.Second, "batches counting every status change", func(s *stream) bool { return s.batchedCount() >= len(all) })
		}

		for _, s := range []*stream{small, withMessages} {
			require.Empty(t, s.errs, s.name)
			want := last
			if s == withMessages {
				want = 100
			}
			batches := s.statusBatches(t)
			rest, truncated := all, false
			for i, batch := range batches {
				require.Positive(t, batch.Count, "%s: batch %d: only intervals that had changes", s.name, i)
				require.LessOrEqual(t, batch.Count, len(rest), "%s: batch %d counts more than happened", s.name, i)
				kept := min(batch.Count, want)
				truncated = truncated || batch.Count > want
				require.Len(t, batch.Events, kept, "%s: batch %d of %d changes", s.name, i, batch.Count)
				latest := rest[batch.Count-kept : batch.Count]
				for j, ev := range batch.Events {
					require.Equal(t, latest[j].MessageID, ev.MessageID, "%s: batch %d event %d", s.name, i, j)
					require.Equal(t, latest[j].Status, ev.Status, "%s: batch %d event %d", s.name, i, j)
					require.Equal(t, latest[j].At, ev.At, "%s: batch %d event %d", s.name, i, j)
					require.Equal(t, id, ev.MailingID)
					if s == withMessages {
						require.NotNil(t, ev.Message, "%s: the message is loaded when selected", s.name)
						require.Equal(t, ev.MessageID, ev.Message.ID)
					} else {
						require.Nil(t, ev.Message)
					}
				}
				rest = rest[batch.Count:]
			}
			require.Empty(t, rest, "%s: the counts add up to every status change", s.name)
			if s == small {
				require.True(t, truncated, "%d changes in %d batches of at most %d events: some batch kept only the last", len(all), len(batches), last)
			}
			t.Logf("%s: %d changes in %d batches", s.name, len(all), len(batches))
		}

		ws.close()
		b.waitSubscribers(t, 0, 0)
	})
}
