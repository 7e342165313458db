package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/message"
	"github.com/notifyhq/notify/internal/delivery"
	"github.com/notifyhq/notify/internal/fakesender"
	"github.com/notifyhq/notify/internal/status"
	"github.com/notifyhq/notify/internal/testdb"
)

// createClients imports n clients with phones 7900000000 + i (i from first).
func (b *testBundle) createClients(t *testing.T, first, n int, zone string) {
	t.Helper()
	for start := 0; start < n; start += 5000 {
		var parts []string
		for i := start; i < min(n, start+5000); i++ {
			parts = append(parts, fmt.Sprintf(`{phone: "7%010d", timezone: %q}`, 9000000000+first+i, zone))
		}
		b.mustGQL(t, `mutation { createClients(input: [`+strings.Join(parts, ",")+`]) { id } }`, nil, nil)
	}
}

// createMailing creates a mailing over [start, end) and returns its id.
func (b *testBundle) createMailing(t *testing.T, start, end time.Time, extra string) string {
	t.Helper()
	var out struct{ CreateMailing struct{ ID string } }
	b.mustGQL(t, fmt.Sprintf(`mutation { createMailing(input: {startAt: %q, endAt: %q, text: "Hello, world" %s}) { id } }`,
		start.UTC().Format(time.RFC3339Nano), end.UTC().Format(time.RFC3339Nano), extra), nil, &out)
	return out.CreateMailing.ID
}

// startMailing creates a mailing that started a minute ago and ends in an
// hour, and returns its id.
func (b *testBundle) startMailing(t *testing.T, extra string) string {
	t.Helper()
	now := time.Now()
	return b.createMailing(t, now.Add(-time.Minute), now.Add(time.Hour), extra)
}

// mailingAction runs a mutation that answers with the mailing
// (pauseMailing, resumeMailing, cancelMailing) on mailing id and returns
// the mailing's new status.
func (b *testBundle) mailingAction(t *testing.T, mutation, id string) string {
	t.Helper()
	var out map[string]struct{ Status string }
	b.mustGQL(t, `mutation($id: ID!) { `+mutation+`(id: $id) { status } }`, map[string]any{"id": id}, &out)
	return out[mutation].Status
}

// waitAccepted waits up to a minute for fake to have accepted n messages.
func waitAccepted(t *testing.T, fake *fakesender.Fake, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, fake.WaitForAccepted(ctx, n))
}

// statisticsAnswer is a mailing's statistics as statisticsQuery answers
// them (total and counts by status).
type statisticsAnswer struct {
	MailingStatistics struct {
		Total    int
		ByStatus []struct {
			Status string
			Count  int
		}
	}
}

// counts returns the answer's counts by status.
func (a statisticsAnswer) counts() map[string]int {
	out := map[string]int{}
	for _, c := range a.MailingStatistics.ByStatus {
		out[c.Status] = c.Count
	}
	return out
}

// mailingStatus returns the GraphQL status of a mailing.
func (b *testBundle) mailingStatus(t *testing.T, id string) string {
	t.Helper()
	var out struct{ Mailing struct{ Status string } }
	b.mustGQL(t, `query($id: ID!) { mailing(id: $id) { status } }`, map[string]any{"id": id}, &out)
	return out.Mailing.Status
}

// waitMailing waits until the mailing has the GraphQL status want.
func (b *testBundle) waitMailing(t *testing.T, id, want string, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, "mailing "+id+" "+want, func() bool { return b.mailingStatus(t, id) == want })
}

// messages loads every message of the test database.
func (b *testBundle) messages(t *testing.T) []*ent.Message {
	t.Helper()
	msgs, err := b.app.db.Ent.Message.Query().Order(ent.Asc(message.FieldID)).All(context.Background())
	require.NoError(t, err)
	return msgs
}

func countByStatus(msgs []*ent.Message) map[status.Message]int {
	out := map[status.Message]int{}
	for _, m := range msgs {
		out[m.Status]++
	}
	return out
}

// requireEachSentOnce asserts every message is sent and its msgId was
// accepted exactly once by the fake.
func requireEachSentOnce(t *testing.T, b *testBundle, n int) {
	t.Helper()
	msgs := b.messages(t)
	require.Len(t, msgs, n)
	for _, m := range msgs {
		require.Equal(t, status.Sent, m.Status, "message %d", m.ID)
		require.Equal(t, 1, b.fake.Accepted(int64(m.ID)), "message %d accepted once", m.ID)
		require.NotNil(t, m.SentAt)
		require.NotNil(t, m.Text)
	}
	require.Empty(t, b.fake.Duplicates())
}

func TestSendThousandClients(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{})
		b.createClients(t, 0, 1000, "UTC")
		id := b.startMailing(t, "")
		b.waitMailing(t, id, "FINISHED", 2*time.Minute)
		requireEachSentOnce(t, b, 1000)
		for _, m := range b.messages(t) {
			require.Equal(t, 1, m.Attempts)
		}
		require.Equal(t, 1000, b.fake.Stats().Requests, "one request per message")
	})
}

func TestSendThroughFaults(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{
			faults: fakesender.Faults{ErrorRate: 0.30, HangRate: 0.10, MalformedRate: 0.05, TooManyRate: 0.05, RetryAfter: time.Second},
			env:    map[string]string{"SENDER_TIMEOUT": "300ms"},
			// Half the faults are transient in a row now and then; keep the
			// breaker from pausing the whole test for its backoff.
			options: appOptions{engine: delivery.Config{MaxSnooze: 200 * time.Millisecond}},
		})
		b.createClients(t, 0, 200, "UTC")
		now := time.Now()
		end := now.Add(3 * time.Minute)
		id := b.createMailing(t, now.Add(-time.Minute), end, "")

		// The API answers while the sender misbehaves.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, b.fake.WaitForRequests(ctx, 50))
		start := time.Now()
		var stats struct{ GeneralStatistics struct{ Messages int } }
		b.mustGQL(t, `{ generalStatistics { messages } }`, nil, &stats)
		require.Equal(t, 200, stats.GeneralStatistics.Messages)
		require.Less(t, time.Since(start), 2*time.Second, "statistics answer while sending")

		b.waitMailing(t, id, "FINISHED", 3*time.Minute)
		msgs := b.messages(t)
		retried := 0
		for _, m := range msgs {
			require.Equal(t, status.Sent, m.Status, "message %d: %v", m.ID, m.LastError)
			require.True(t, m.SentAt.Before(end))
			require.Equal(t, b.fake.Requests(int64(m.ID)), m.Attempts, "attempts recorded for message %d", m.ID)
			if m.Attempts > 1 {
				retried++
				require.NotNil(t, m.LastError, "a retried message keeps its last error")
			}
		}
		require.Greater(t, retried, 50, "about half the first attempts fail")
		require.Empty(t, b.fake.Duplicates())
		requireCountsMatch(t, b)
	})
}

func TestSenderDownUntilEnd(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{faults: fakesender.Faults{Outage: true}})
		b.createClients(t, 0, 50, "UTC")
		now := time.Now()
		end := now.Add(4 * time.Second)
		id := b.createMailing(t, now.Add(-time.Minute), end, "")
		b.waitMailing(t, id, "FINISHED", time.Minute)
		for _, m := range b.messages(t) {
			require.Equal(t, status.Expired, m.Status, "message %d", m.ID)
			require.NotNil(t, m.LastError, "expired messages keep their last error")
		}
		require.Positive(t, b.fake.Stats().Requests, "it tried while the mailing ran")
		require.Zero(t, b.fake.RequestsSince(end), "no request started at or after end_at")
		requireCountsMatch(t, b)
	})
}

// setupAtSixThirty starts an app whose clock stands at 06:30 UTC today (or
// yesterday, before then): 09:30 in Moscow and 11:30 in Yekaterinburg,
// inside a 09:00–21:00 window, and the middle of the night in New York.
func setupAtSixThirty(t *testing.T, dbURL string) (*testBundle, *testdb.Clock, time.Time) {
	t.Helper()
	real := time.Now().UTC()
	base := time.Date(real.Year(), real.Month(), real.Day(), 6, 30, 0, 0, time.UTC)
	if base.After(real) {
		base = base.AddDate(0, 0, -1)
	}
	clock := testdb.NewClock(base)
	return setup(t, dbURL, setupOpts{options: appOptions{now: clock.Now, engine: delivery.Config{MaxSnooze: 100 * time.Millisecond}}}), clock, base
}

func TestSendWindowPerClientZone(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b, clock, base := setupAtSixThirty(t, dbURL)
		b.createClients(t, 0, 10, "Europe/Moscow")
		b.createClients(t, 10, 10, "Asia/Yekaterinburg")
		b.createClients(t, 20, 10, "America/New_York")
		id := b.createMailing(t, base.Add(-time.Minute), base.Add(48*time.Hour), `, sendWindow: {from: "09:00", to: "21:00"}`)

		waitAccepted(t, b.fake, 20)
		ny, err := time.LoadLocation("America/New_York")
		require.NoError(t, err)
		local := base.In(ny)
		opening := time.Date(local.Year(), local.Month(), local.Day(), 9, 0, 0, 0, ny)
		waitFor(t, 30*time.Second, "Moscow and Yekaterinburg sent, New York deferred to its window", func() bool {
			deferred, sent := 0, 0
			for _, m := range b.messages(t) {
				if m.Timezone == "America/New_York" && m.Status == status.Queued && m.NextAttemptAt != nil && m.NextAttemptAt.Equal(opening) {
					deferred++
				}
				if m.Status == status.Sent {
					sent++
				}
			}
			return deferred == 10 && sent == 20
		})
		for _, m := range b.messages(t) {
			if m.Timezone == "America/New_York" {
				require.Zero(t, b.fake.Requests(int64(m.ID)), "nothing sent outside the window")
				require.Zero(t, m.Attempts)
			} else {
				require.Equal(t, status.Sent, m.Status)
			}
		}

		clock.Set(opening.Add(time.Second))
		b.waitMailing(t, id, "FINISHED", time.Minute)
		requireEachSentOnce(t, b, 30)
	})
}

func TestPermanentRejection(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{faults: fakesender.Faults{RejectRate: 0.3}})
		b.createClients(t, 0, 60, "UTC")
		id := b.startMailing(t, "")
		b.waitMailing(t, id, "FINISHED", time.Minute)
		byStatus := countByStatus(b.messages(t))
		require.Positive(t, byStatus[status.Failed])
		require.Equal(t, 60, byStatus[status.Failed]+byStatus[status.Sent])
		for _, m := range b.messages(t) {
			require.Equal(t, 1, m.Attempts, "no retry of a permanent failure")
			switch m.Status {
			case status.Failed:
				require.Contains(t, *m.LastError, "400")
				require.Zero(t, b.fake.Accepted(int64(m.ID)))
			case status.Sent:
				require.Equal(t, 1, b.fake.Accepted(int64(m.ID)))
			}
		}
		requireCountsMatch(t, b)
	})
}

func TestCancelAndDeleteStopSending(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{
			faults: fakesender.Faults{LatencyMin: 50 * time.Millisecond, LatencyMax: 100 * time.Millisecond},
			env:    map[string]string{"SENDER_CONCURRENCY": "8"},
		})
		b.createClients(t, 0, 400, "UTC")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, action := range []string{"cancel", "delete"} {
			b.fake.Reset()
			id := b.startMailing(t, "")
			require.NoError(t, b.fake.WaitForAccepted(ctx, 20))
			if action == "cancel" {
				require.Equal(t, "CANCELLED", b.mailingAction(t, "cancelMailing", id))
			} else {
				b.mustGQL(t, `mutation($id: ID!) { deleteMailing(id: $id) }`, map[string]any{"id": id}, nil)
			}
			returned := time.Now()
			// Requests in flight finish within the fake's latency; give
			// the batches time to try again, then look.
			time.Sleep(time.Second)
			require.Zero(t, b.fake.RequestsSince(returned), "%s: no request started after the call returned", action)
			if action == "cancel" {
				byStatus := countByStatus(b.messages(t))
				require.Positive(t, byStatus[status.MessageCanceled])
				require.Zero(t, byStatus[status.Queued]+byStatus[status.Retrying])
			} else {
				n, err := b.app.db.Ent.Message.Query().Where(message.MailingID(mustAtoi(t, id))).Count(context.Background())
				require.NoError(t, err)
				require.Zero(t, n, "deleted with its messages")
			}
			requireCountsMatch(t, b)
		}
	})
}

func TestScheduledStartAndPause(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{
			faults:  fakesender.Faults{LatencyMin: 20 * time.Millisecond, LatencyMax: 40 * time.Millisecond},
			env:     map[string]string{"SENDER_CONCURRENCY": "4"},
			options: appOptions{engine: delivery.Config{PausedRecheck: 200 * time.Millisecond}},
		})
		b.createClients(t, 0, 200, "UTC")

		t.Run("a future start fires by itself", func(t *testing.T) {
			start := time.Now().Add(2 * time.Second)
			id := b.createMailing(t, start, start.Add(time.Hour), `, filter: {operatorCodes: ["900"]}`)
			require.Equal(t, "SCHEDULED", b.mailingStatus(t, id))
			b.waitMailing(t, id, "FINISHED", time.Minute)
			require.False(t, b.fake.Stats().FirstRequestAt.Before(start), "nothing sent before start_at")
			requireEachSentOnce(t, b, 200)
		})

		t.Run("a paused mailing sends nothing until resumed", func(t *testing.T) {
			b.fake.Reset()
			id := b.startMailing(t, "")
			waitAccepted(t, b.fake, 10)
			require.Equal(t, "PAUSED", b.mailingAction(t, "pauseMailing", id))
			paused := time.Now()
			time.Sleep(time.Second) // several PausedRecheck rounds
			require.Zero(t, b.fake.RequestsSince(paused))
			require.Less(t, b.fake.Stats().AcceptedMessages, 200)

			b.mailingAction(t, "resumeMailing", id)
			b.waitMailing(t, id, "FINISHED", time.Minute)
			msgs := b.messages(t)
			for _, m := range msgs[200:] {
				require.Equal(t, status.Sent, m.Status)
			}
		})
	})
}

func TestRestartMidMailing(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		fake, fakeURL := startFake(t, fakesender.Faults{LatencyMin: 10 * time.Millisecond, LatencyMax: 20 * time.Millisecond})
		env := map[string]string{"SENDER_URL": fakeURL, "SENDER_CONCURRENCY": "8"}

		first := setup(t, dbURL, setupOpts{env: env})
		first.createClients(t, 0, 500, "UTC")
		id := first.startMailing(t, "")
		waitAccepted(t, fake, 100)
		stopCtx, stopCancel := context.WithTimeout(context.Background(), 10*time.Second)
		first.app.stopWork(stopCtx)
		stopCancel()
		first.app.close()
		require.Less(t, fake.Stats().AcceptedMessages, 500, "stopped mid-mailing")

		second := setup(t, dbURL, setupOpts{env: env})
		second.waitMailing(t, id, "FINISHED", 2*time.Minute)
		msgs := second.messages(t)
		require.Len(t, msgs, 500)
		for _, m := range msgs {
			require.Equal(t, status.Sent, m.Status)
			require.GreaterOrEqual(t, fake.Accepted(int64(m.ID)), 1)
		}
		require.LessOrEqual(t, len(fake.Duplicates()), 8, "at most the requests in flight are repeated")
		requireCountsMatch(t, second)
	})
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// requireCountsMatch asserts that the counters statistics read (kept by
// triggers) equal a fresh count of the messages.
func requireCountsMatch(t *testing.T, b *testBundle) {
	t.Helper()
	require.Equal(t,
		countsByKey(t, b, `SELECT mailing_id, status, count(*) FROM messages GROUP BY mailing_id, status`),
		countsByKey(t, b, `SELECT mailing_id, status, count FROM message_counts`),
		"message_counts agree with the messages")
}

// countsByKey reads the rows of a query of two key columns and a count:
// the counts that are not 0, by their keys joined with "/".
func countsByKey(t *testing.T, b *testBundle, query string) map[string]int {
	t.Helper()
	rows, err := b.app.db.SQL.Query(query)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k1, k2 string
		var n int
		require.NoError(t, rows.Scan(&k1, &k2, &n))
		if n != 0 {
			out[k1+"/"+k2] = n
		}
	}
	require.NoError(t, rows.Err())
	return out
}

// TestDeleteClientMidMailing deletes two clients of a running mailing: the
// one still waiting for its window gets its message cancelled, the one
// already sent to keeps its message (with the phone it went to) in the
// statistics; both messages lose their client.
func TestDeleteClientMidMailing(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b, _, base := setupAtSixThirty(t, dbURL)
		b.createClients(t, 0, 1, "Europe/Moscow")    // 09:30 there: inside the window
		b.createClients(t, 1, 1, "America/New_York") // the middle of the night
		id := b.createMailing(t, base.Add(-time.Minute), base.Add(48*time.Hour), `, sendWindow: {from: "09:00", to: "21:00"}`)
		waitFor(t, 30*time.Second, "Moscow sent, New York deferred", func() bool {
			byStatus := countByStatus(b.messages(t))
			return byStatus[status.Sent] == 1 && byStatus[status.Queued] == 1
		})

		for _, m := range b.messages(t) {
			b.mustGQL(t, `mutation($id: ID!) { deleteClient(id: $id) }`, map[string]any{"id": *m.CustomerID}, nil)
		}
		msgs := b.messages(t)
		require.Len(t, msgs, 2, "messages outlive their clients")
		for _, m := range msgs {
			require.Nil(t, m.CustomerID)
			if m.Timezone == "Europe/Moscow" {
				require.Equal(t, status.Sent, m.Status)
				require.Equal(t, "79000000000", m.Phone)
			} else {
				require.Equal(t, status.MessageCanceled, m.Status)
			}
		}
		var stats statisticsAnswer
		b.mustGQL(t, statisticsQuery, map[string]any{"id": id}, &stats)
		require.Equal(t, 2, stats.MailingStatistics.Total)
		require.Equal(t, map[string]int{"QUEUED": 0, "RETRYING": 0, "SENT": 1, "FAILED": 0, "EXPIRED": 0, "CANCELLED": 1}, stats.counts())
		b.waitMailing(t, id, "FINISHED", 30*time.Second)
		requireCountsMatch(t, b)
	})
}

// TestSelectionInChunks selects recipients a few clients at a time, so that
// chunks and batches straddle each other: every client gets one message, sent
// once, and the counters agree.
func TestSelectionInChunks(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{options: appOptions{engine: delivery.Config{SelectChunk: 70, BatchSize: 50}}})
		b.createClients(t, 0, 1000, "UTC")
		id := b.startMailing(t, "")
		b.waitMailing(t, id, "FINISHED", 2*time.Minute)
		requireEachSentOnce(t, b, 1000)
		requireCountsMatch(t, b)
		lines := parseLogs(t, b.logs.String())
		require.True(t, slices.ContainsFunc(lines, func(l logLine) bool {
			return l.msg() == "recipients selected" && l.int("mailing_id") == mustAtoi(t, id) && l.int("recipients") == 1000
		}), "one line tells the selection is done")
	})
}

// TestSelectionResumes starts a mailing whose selection stopped part way (as
// after a crash): the start job resumes it up to the clients that existed
// when the mailing started, and clients added since are not recipients.
func TestSelectionResumes(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{noRiver: true, options: appOptions{engine: delivery.Config{SelectChunk: 70, BatchSize: 50}}})
		b.createClients(t, 0, 300, "UTC")
		now := time.Now()
		id := mustAtoi(t, b.createMailing(t, now.Add(-time.Minute), now.Add(time.Hour), ""))

		// The state a crash after the first chunks leaves: the mailing
		// running with its bound fixed, 140 recipients selected.
		db := b.app.db.SQL
		q := func(query string) string { return rebindTest(b, query) }
		_, err := db.Exec(q(`UPDATE mailings SET status = 'running', recipients_through = (SELECT max(id) FROM clients) WHERE id = $1`), id)
		require.NoError(t, err)
		_, err = db.Exec(q(`INSERT INTO messages (mailing_id, customer_id, phone, timezone, status, attempts, created_at, updated_at)
			SELECT $1, id, phone, timezone, 'queued', 0, $2, $2 FROM clients ORDER BY id LIMIT 140`), id, now.UTC())
		require.NoError(t, err)
		b.createClients(t, 300, 50, "UTC") // after the start: not recipients

		require.NoError(t, b.app.river.Start(context.Background()))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			_ = b.app.river.Stop(ctx)
		})
		b.waitMailing(t, strconv.Itoa(id), "FINISHED", 2*time.Minute)
		requireEachSentOnce(t, b, 300)
		requireCountsMatch(t, b)
	})
}

// rebindTest spells $N parameters as ?N on SQLite.
func rebindTest(b *testBundle, query string) string {
	if b.app.db.Dialect == "sqlite3" {
		return regexp.MustCompile(`\$(\d)`).ReplaceAllString(query, "?$1")
	}
	return query
}

// TestCancelMidSelection cancels a mailing while its recipients are still
// being selected: the selection stops, every message it made is settled,
// and nothing reaches the sender after the cancel returns.
func TestCancelMidSelection(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{
			faults:  fakesender.Faults{LatencyMin: 20 * time.Millisecond, LatencyMax: 40 * time.Millisecond},
			env:     map[string]string{"SENDER_CONCURRENCY": "4"},
			options: appOptions{engine: delivery.Config{SelectChunk: 40, BatchSize: 20}},
		})
		b.createClients(t, 0, 1000, "UTC")
		id := b.startMailing(t, "")
		waitAccepted(t, b.fake, 20)

		require.Equal(t, "CANCELLED", b.mailingAction(t, "cancelMailing", id))
		returned := time.Now()

		// The start job sees the cancel at its next chunk and ends.
		waitFor(t, time.Minute, "the start job to end", func() bool {
			var state string
			err := b.app.db.SQL.QueryRow(`SELECT state FROM river_job WHERE kind = 'start_mailing'`).Scan(&state)
			require.NoError(t, err)
			return state == "completed"
		})
		msgs := b.messages(t)
		require.Less(t, len(msgs), 1000, "the selection stopped part way")
		byStatus := countByStatus(msgs)
		require.Positive(t, byStatus[status.MessageCanceled])
		require.Zero(t, byStatus[status.Queued]+byStatus[status.Retrying], "every message made is settled")
		require.Zero(t, b.fake.RequestsSince(returned), "no request started after the cancel returned")
		requireCountsMatch(t, b)
	})
}
