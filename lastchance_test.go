package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/message"
	"github.com/notifyhq/notify/internal/delivery"
	"github.com/notifyhq/notify/internal/fakesender"
	"github.com/notifyhq/notify/internal/sender"
	"github.com/notifyhq/notify/internal/status"
	"github.com/notifyhq/notify/internal/testdb"
)

// lastChanceTimeout is SENDER_TIMEOUT in the last-chance tests.
const lastChanceTimeout = 10 * time.Second

// The last-chance tests run the engine on a controlled clock. end_at stays
// ahead of the real clock too: the sender caps each request at end_at by the
// real clock (the runtime enforces timeouts), and the close_mailing job waits
// for it by the real clock. The start is in the real past, so the start job
// runs at once.

// lastChanceMailing creates a client tagged tag and a mailing of it ending at
// end, with the clock at end − 5 min, and returns the mailing's id.
func lastChanceMailing(t *testing.T, b *testBundle, clock *testdb.Clock, tag string, phone int, end time.Time) int {
	t.Helper()
	clock.Set(end.Add(-5 * time.Minute))
	b.mustGQL(t, fmt.Sprintf(`mutation { createClient(input: {phone: "7%010d", tag: %q, timezone: "UTC"}) { id } }`, phone, tag), nil, nil)
	realStart := time.Now().Add(-time.Minute)
	return mustAtoi(t, b.createMailing(t, realStart, end, fmt.Sprintf(`, filter: {tags: [%q]}`, tag)))
}

// onlyMessage loads the one message of a mailing.
func (b *testBundle) onlyMessage(t *testing.T, mailingID int) *ent.Message {
	t.Helper()
	m, err := b.app.db.Ent.Message.Query().Where(message.MailingID(mailingID)).Only(context.Background())
	require.NoError(t, err)
	return m
}

// lastError is a message's last error, for failure messages.
func lastError(m *ent.Message) string {
	if m.LastError == nil {
		return "no error"
	}
	return *m.LastError
}

// waitAttempts waits until the message of a mailing has made n attempts (the
// outcome of the n-th is written with its count) and returns it.
func (b *testBundle) waitAttempts(t *testing.T, mailingID, n int) *ent.Message {
	t.Helper()
	var m *ent.Message
	waitFor(t, 30*time.Second, fmt.Sprintf("attempt %d of the message of mailing %d", n, mailingID), func() bool {
		got, err := b.app.db.Ent.Message.Query().Where(message.MailingID(mailingID)).Only(context.Background())
		if ent.IsNotFound(err) {
			return false // not selected yet
		}
		require.NoError(t, err)
		m = got
		return m.Attempts >= n
	})
	require.Equal(t, n, m.Attempts, "message %d: one attempt at a time", m.ID)
	require.Equal(t, n, b.fake.Requests(int64(m.ID)), "message %d: every request counted", m.ID)
	return m
}

// failSevenTimes drives the message of a mailing (the sender failing every
// request) through seven attempts: six a backoff apart from end − 5 min, the
// seventh 26 s before end. Its backoff is then at least 30 s — past end_at —
// and the message must be retrying, due for its last chance a whole timeout
// before end_at.
func failSevenTimes(t *testing.T, b *testBundle, clock *testdb.Clock, mailingID int, end time.Time) *ent.Message {
	t.Helper()
	m := b.waitAttempts(t, mailingID, 1)
	for n := 2; n <= 6; n++ {
		require.Equal(t, status.Retrying, m.Status, "message %d after attempt %d: %s", m.ID, n-1, lastError(m))
		require.NotNil(t, m.NextAttemptAt)
		require.True(t, m.NextAttemptAt.Before(end.Add(-time.Minute)), "backoff %d well before end_at", n-1)
		clock.Set(*m.NextAttemptAt)
		m = b.waitAttempts(t, mailingID, n)
	}
	require.Equal(t, status.Retrying, m.Status)
	clock.Set(end.Add(-26 * time.Second))
	m = b.waitAttempts(t, mailingID, 7)
	require.Greater(t, sender.Backoff(7, func() float64 { return 0 }, sender.DefaultBackoffBase, sender.DefaultBackoffMax), 26*time.Second,
		"the 7th backoff, at its shortest, falls past end_at")
	require.Equal(t, status.Retrying, m.Status, "message %d after its 7th attempt, 26 s before end_at: %s", m.ID, lastError(m))
	require.NotNil(t, m.NextAttemptAt)
	require.True(t, m.NextAttemptAt.Equal(end.Add(-lastChanceTimeout)),
		"last chance at end_at − SENDER_TIMEOUT, got end_at − %s", end.Sub(*m.NextAttemptAt))
	require.NotNil(t, m.LastError)
	return m
}

// TestLastAttemptBeforeEndAtEndToEnd: a message whose next backoff (or
// Retry-After) falls after end_at is tried once more a whole SENDER_TIMEOUT
// before end_at instead of expiring at once; that attempt counts like any
// other, and when it fails the message expires.
func TestLastAttemptBeforeEndAtEndToEnd(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		clock := testdb.NewClock(time.Now().UTC())
		b := setup(t, dbURL, setupOpts{
			faults:  fakesender.Faults{ErrorRate: 1},
			env:     map[string]string{"SENDER_TIMEOUT": lastChanceTimeout.String()},
			options: appOptions{now: clock.Now, engine: delivery.Config{MaxSnooze: 100 * time.Millisecond}},
		})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		base := time.Now().UTC().Truncate(time.Second).Add(time.Hour)

		t.Run("backoff past end_at: sent at its last chance", func(t *testing.T) {
			end := base
			id := lastChanceMailing(t, b, clock, "backoff", 9000000001, end)
			failSevenTimes(t, b, clock, id, end)

			require.NoError(t, b.fake.SetFaults(fakesender.Faults{}))
			clock.Set(end.Add(-lastChanceTimeout))
			require.NoError(t, b.fake.WaitForAccepted(ctx, 1))
			b.waitMailing(t, fmt.Sprint(id), "FINISHED", 30*time.Second)
			m := b.onlyMessage(t, id)
			require.Equal(t, status.Sent, m.Status)
			require.Equal(t, 8, m.Attempts, "the last chance is an ordinary, counted attempt")
			require.Equal(t, 8, b.fake.Requests(int64(m.ID)))
			require.Equal(t, 1, b.fake.Accepted(int64(m.ID)))
			require.NotNil(t, m.SentAt)
			require.True(t, m.SentAt.Equal(end.Add(-lastChanceTimeout)), "sent at end_at − %s", end.Sub(*m.SentAt))
		})

		t.Run("the last chance fails: expired, no further attempt", func(t *testing.T) {
			require.NoError(t, b.fake.SetFaults(fakesender.Faults{ErrorRate: 1}))
			end := base.Add(10 * time.Minute)
			id := lastChanceMailing(t, b, clock, "fails", 9000000002, end)
			failSevenTimes(t, b, clock, id, end)

			// A second after its time: a real clock moves during a request,
			// and a whole timeout no longer fits once it failed.
			clock.Set(end.Add(-lastChanceTimeout + time.Second))
			b.waitMailing(t, fmt.Sprint(id), "FINISHED", 30*time.Second)
			m := b.onlyMessage(t, id)
			require.Equal(t, status.Expired, m.Status)
			require.Equal(t, 8, m.Attempts, "the last chance was made and counted")
			require.Equal(t, 8, b.fake.Requests(int64(m.ID)), "and nothing after it")
			require.NotNil(t, m.LastError)
			require.Contains(t, *m.LastError, "http 5")
		})

		t.Run("Retry-After past end_at: sent at its last chance", func(t *testing.T) {
			require.NoError(t, b.fake.SetFaults(fakesender.Faults{TooManyRate: 1, RetryAfter: 10 * time.Minute}))
			end := base.Add(20 * time.Minute)
			id := lastChanceMailing(t, b, clock, "retryafter", 9000000003, end)
			m := b.waitAttempts(t, id, 1)
			require.Equal(t, status.Retrying, m.Status, "a 429 asking for 10 min, 5 min before end_at: %s", lastError(m))
			require.NotNil(t, m.NextAttemptAt)
			require.True(t, m.NextAttemptAt.Equal(end.Add(-lastChanceTimeout)),
				"last chance at end_at − SENDER_TIMEOUT, got end_at − %s", end.Sub(*m.NextAttemptAt))

			require.NoError(t, b.fake.SetFaults(fakesender.Faults{}))
			clock.Set(end.Add(-lastChanceTimeout))
			b.waitMailing(t, fmt.Sprint(id), "FINISHED", 30*time.Second)
			m = b.onlyMessage(t, id)
			require.Equal(t, status.Sent, m.Status)
			require.Equal(t, 2, m.Attempts)
			require.Equal(t, 1, b.fake.Accepted(int64(m.ID)))
		})
		require.Empty(t, b.fake.Duplicates())
		requireCountsMatch(t, b)
	})
}

// TestLastChanceAfterCircuitOpenEndToEnd: a message the open circuit breaker
// defers past end_at keeps its last chance a whole SENDER_TIMEOUT before
// end_at (spending no attempt), and is sent then by an instance whose
// breaker lets it through — here a second instance, after the first stopped.
func TestLastChanceAfterCircuitOpenEndToEnd(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		fake, fakeURL := startFake(t, fakesender.Faults{ErrorRate: 1})
		env := map[string]string{"SENDER_URL": fakeURL, "SENDER_TIMEOUT": lastChanceTimeout.String()}
		clock := testdb.NewClock(time.Now().UTC())
		engine := delivery.Config{MaxSnooze: 100 * time.Millisecond}

		// One failure opens the breaker for an hour: past end_at.
		first := setup(t, dbURL, setupOpts{env: env, options: appOptions{now: clock.Now, engine: engine,
			breaker: sender.BreakerConfig{FailureThreshold: 1, OpenFor: time.Hour}}})
		first.fake = fake
		end := time.Now().UTC().Truncate(time.Second).Add(time.Hour)
		id := lastChanceMailing(t, first, clock, "breaker", 9000000004, end)
		m := first.waitAttempts(t, id, 1)
		require.Equal(t, status.Retrying, m.Status, "%s", lastError(m))
		require.NotNil(t, m.NextAttemptAt)
		clock.Set(*m.NextAttemptAt)
		waitFor(t, 30*time.Second, "the open breaker to defer the message", func() bool {
			m = first.onlyMessage(t, id)
			return m.Status != status.Retrying || m.NextAttemptAt == nil || m.NextAttemptAt.After(clock.Now())
		})
		require.Equal(t, status.Retrying, m.Status, "deferred past end_at by the breaker: %s", lastError(m))
		require.True(t, m.NextAttemptAt.Equal(end.Add(-lastChanceTimeout)),
			"last chance at end_at − SENDER_TIMEOUT, got end_at − %s", end.Sub(*m.NextAttemptAt))
		require.Equal(t, 1, m.Attempts, "a deferral spends no attempt")
		require.Equal(t, 1, fake.Requests(int64(m.ID)))

		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		first.app.stopWork(stopCtx)
		cancel()
		first.app.close()

		require.NoError(t, fake.SetFaults(fakesender.Faults{}))
		second := setup(t, dbURL, setupOpts{env: env, options: appOptions{now: clock.Now, engine: engine}})
		second.fake = fake
		clock.Set(end.Add(-lastChanceTimeout))
		second.waitMailing(t, fmt.Sprint(id), "FINISHED", 30*time.Second)
		m = second.onlyMessage(t, id)
		require.Equal(t, status.Sent, m.Status)
		require.Equal(t, 2, m.Attempts)
		require.Equal(t, 2, fake.Requests(int64(m.ID)))
		require.Equal(t, 1, fake.Accepted(int64(m.ID)))
		require.True(t, m.SentAt.Equal(end.Add(-lastChanceTimeout)))
		requireCountsMatch(t, second)
	})
}
