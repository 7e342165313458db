package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/customer"
	"github.com/notifyhq/notify/ent/message"
	"github.com/notifyhq/notify/internal/auth"
	"github.com/notifyhq/notify/internal/fakesender"
	"github.com/notifyhq/notify/internal/status"
	"github.com/notifyhq/notify/internal/testdb"
)

// phoneOf is the phone createClients gives client i.
func phoneOf(i int) string { return fmt.Sprintf("7%010d", 9000000000+i) }

// optOut opts phone out through GraphQL.
func (b *testBundle) optOut(t *testing.T, phone, reason string) {
	t.Helper()
	b.mustGQL(t, `mutation($p: String!, $r: String) { optOut(phone: $p, reason: $r) { id phone } }`,
		map[string]any{"p": phone, "r": reason}, nil)
}

// recipientPhones returns the phones of the messages of mailing id.
func (b *testBundle) recipientPhones(t *testing.T, id string) []string {
	t.Helper()
	var phones []string
	err := b.app.db.Ent.Message.Query().Where(message.MailingID(mustAtoi(t, id))).
		Order(message.ByPhone()).Select(message.FieldPhone).Scan(context.Background(), &phones)
	require.NoError(t, err)
	return phones
}

// TestOptOutNeverARecipient: an opted-out phone gets no message from a
// mailing started after its opt-out, and one opted back in does again.
func TestOptOutNeverARecipient(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{})
		b.createClients(t, 0, 4, "UTC")
		b.optOut(t, phoneOf(1), "STOP")
		b.optOut(t, phoneOf(3), "")
		b.optOut(t, phoneOf(3), "again") // already out: nothing changes

		id := b.startMailing(t, "")
		b.waitMailing(t, id, "FINISHED", 30*time.Second)
		require.Equal(t, []string{phoneOf(0), phoneOf(2)}, b.recipientPhones(t, id))

		var out struct{ OptOuts struct{ TotalCount int } }
		b.mustGQL(t, `{ optOuts { totalCount } }`, nil, &out)
		require.Equal(t, 2, out.OptOuts.TotalCount)

		var in struct{ OptIn bool }
		b.mustGQL(t, `mutation { optIn(phone: "`+phoneOf(1)+`") }`, nil, &in)
		require.True(t, in.OptIn)
		b.mustGQL(t, `mutation { optIn(phone: "`+phoneOf(1)+`") }`, nil, &in)
		require.False(t, in.OptIn, "not opted out any more")

		id = b.startMailing(t, "")
		b.waitMailing(t, id, "FINISHED", 30*time.Second)
		require.Equal(t, []string{phoneOf(0), phoneOf(1), phoneOf(2)}, b.recipientPhones(t, id))
		requireCountsMatch(t, b)
	})
}

// TestOptOutCancelsUnsentBeforeNextAttempt: while the sending API is down,
// a running mailing's messages wait for their next attempt; opting one
// phone out cancels its message at once with the reason, and it is never
// tried again when the API is back, while the others are sent.
func TestOptOutCancelsUnsentBeforeNextAttempt(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b, id := waitingMailing(t, dbURL)
		b.optOut(t, phoneOf(1), "replied STOP")

		var target int64
		for _, m := range b.messages(t) {
			if m.Phone == phoneOf(1) {
				require.Equal(t, status.MessageCanceled, m.Status)
				require.NotNil(t, m.LastError)
				require.Equal(t, "opted out: replied STOP", *m.LastError)
				require.Nil(t, m.NextAttemptAt)
				target = int64(m.ID)
			} else {
				require.Equal(t, status.Retrying, m.Status)
			}
		}
		tried := b.fake.Requests(target)
		require.GreaterOrEqual(t, tried, 1)

		b.fake.SetOutage(false)
		b.waitMailing(t, id, "FINISHED", 60*time.Second)
		require.Equal(t, tried, b.fake.Requests(target), "no attempt after the opt-out")
		require.Zero(t, b.fake.Accepted(target))
		byStatus := countByStatus(b.messages(t))
		require.Equal(t, 2, byStatus[status.Sent])
		require.Equal(t, 1, byStatus[status.MessageCanceled])

		var stats statisticsAnswer
		b.mustGQL(t, statisticsQuery, map[string]any{"id": id}, &stats)
		require.Equal(t, 3, stats.MailingStatistics.Total)
		require.Equal(t, 1, stats.counts()["CANCELLED"])
		requireCountsMatch(t, b)
	})
}

// TestOptOutByTheMessagesPhone: a message goes to the phone its client had
// when the mailing selected it. After the client's phone changed, opting
// out its new phone leaves that message alone, and opting out the old one,
// where it is going, cancels it: it is never tried again, while the others
// are sent.
func TestOptOutByTheMessagesPhone(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b, id := waitingMailing(t, dbURL)
		moved, err := b.app.db.Ent.Customer.Query().Where(customer.Phone(phoneOf(1))).OnlyID(context.Background())
		require.NoError(t, err)
		b.mustGQL(t, `mutation($id: ID!, $p: String!) { updateClient(id: $id, input: {phone: $p}) { id } }`,
			map[string]any{"id": moved, "p": phoneOf(100)}, nil)

		messageTo := func(phone string) *ent.Message {
			t.Helper()
			for _, m := range b.messages(t) {
				if m.Phone == phone {
					return m
				}
			}
			t.Fatalf("no message to %s", phone)
			return nil
		}
		b.optOut(t, phoneOf(100), "the client's new phone")
		target := messageTo(phoneOf(1))
		require.Equal(t, status.Retrying, target.Status, "the message goes to the old phone, which did not opt out")
		require.Equal(t, moved, *target.CustomerID)

		b.optOut(t, phoneOf(1), "the old phone")
		target = messageTo(phoneOf(1))
		require.Equal(t, status.MessageCanceled, target.Status)
		require.Equal(t, "opted out: the old phone", *target.LastError)
		require.Nil(t, target.NextAttemptAt)
		tried := b.fake.Requests(int64(target.ID))

		b.fake.SetOutage(false)
		b.waitMailing(t, id, "FINISHED", 60*time.Second)
		require.Equal(t, tried, b.fake.Requests(int64(target.ID)), "no attempt after the opt-out")
		require.Zero(t, b.fake.Accepted(int64(target.ID)))
		byStatus := countByStatus(b.messages(t))
		require.Equal(t, 2, byStatus[status.Sent])
		require.Equal(t, 1, byStatus[status.MessageCanceled])
		requireCountsMatch(t, b)
	})
}

// TestOptOutSurvivesClientRecreate: the opt-out is the phone's, not the
// client's: a client deleted and created again with the phone stays out.
func TestOptOutSurvivesClientRecreate(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{})
		b.createClients(t, 0, 2, "UTC")
		b.optOut(t, phoneOf(0), "complaint")
		for _, m := range b.clientIDs(t) {
			b.mustGQL(t, `mutation($id: ID!) { deleteClient(id: $id) }`, map[string]any{"id": m}, nil)
		}
		b.createClients(t, 0, 2, "UTC")

		id := b.startMailing(t, "")
		b.waitMailing(t, id, "FINISHED", 30*time.Second)
		require.Equal(t, []string{phoneOf(1)}, b.recipientPhones(t, id))
	})
}

// clientIDs lists every client's id.
func (b *testBundle) clientIDs(t *testing.T) []int {
	t.Helper()
	ids, err := b.app.db.Ent.Customer.Query().Order(customer.ByID()).IDs(context.Background())
	require.NoError(t, err)
	return ids
}

// TestOptOutREST: POST /opt-outs/ answers 201 with the opt-out, GET lists
// them a page at a time, DELETE /opt-outs/{phone}/ opts back in (204, then
// 404); bad input names the field; every answer matches the document.
func TestOptOutREST(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{})
		c := newRESTClient(t, b)

		res := c.do(t, http.MethodPost, "/opt-outs/", map[string]any{"phone": "79001234567", "reason": "STOP"})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		got := res.object(t)
		require.Equal(t, "79001234567", got["phone"])
		require.Equal(t, "STOP", got["reason"])
		require.Equal(t, "anonymous", got["created_by"])
		require.NotEmpty(t, got["created_at"])

		// A phone as a JSON number, as for clients; without a reason.
		res = c.do(t, http.MethodPost, "/opt-outs", map[string]any{"phone": 79001234568})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)

		var pg restPage[map[string]any]
		c.do(t, http.MethodGet, "/opt-outs/?page_size=1", nil).decode(t, &pg)
		require.Equal(t, 2, pg.Count)
		require.Len(t, pg.Results, 1)
		require.NotNil(t, pg.Next)
		c.do(t, http.MethodGet, "/opt-outs/?phone=79001234568", nil).decode(t, &pg)
		require.Equal(t, 1, pg.Count)
		require.Equal(t, "79001234568", pg.Results[0]["phone"])

		c.do(t, http.MethodPost, "/opt-outs/", map[string]any{"phone": "123"}, invalidRequest).
			requireJSON(t, http.StatusBadRequest, `{"phone": ["Must be 7 followed by 10 digits, e.g. 79001234567."]}`)
		c.do(t, http.MethodPost, "/opt-outs/", map[string]any{"reason": "x"}, invalidRequest).
			requireJSON(t, http.StatusBadRequest, `{"phone": ["This field is required."]}`)

		res = c.do(t, http.MethodDelete, "/opt-outs/79001234567/", nil)
		require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
		c.do(t, http.MethodDelete, "/opt-outs/79001234567/", nil).requireJSON(t, http.StatusNotFound, `{"detail": "Not found."}`)

		r := b.gql(t, `mutation { optOut(phone: "7900", reason: "x") { id } }`, nil)
		requireBadInput(t, r, "phone")
	})
}

// TestOptOutRoles: viewers list opt-outs; operators opt out and back in
// (REST DELETE included); viewers may not write.
func TestOptOutRoles(t *testing.T) {
	t.Parallel()
	b := setup(t, testdb.SQLite(t), setupOpts{env: map[string]string{"API_TOKENS": roleTokensEnv()}})
	viewer, operator := roleTokens[auth.Viewer], roleTokens[auth.Operator]

	code, body := auditHTTP(t, b, http.MethodPost, "/opt-outs/", viewer, "", map[string]any{"phone": "79001234567"})
	require.Equal(t, http.StatusForbidden, code, "%s", body)
	code, body = auditHTTP(t, b, http.MethodPost, "/opt-outs/", operator, "", map[string]any{"phone": "79001234567"})
	require.Equal(t, http.StatusCreated, code, "%s", body)
	code, body = auditHTTP(t, b, http.MethodGet, "/opt-outs/", viewer, "", nil)
	require.Equal(t, http.StatusOK, code, "%s", body)
	code, body = auditHTTP(t, b, http.MethodDelete, "/opt-outs/79001234567/", viewer, "", nil)
	require.Equal(t, http.StatusForbidden, code, "%s", body)
	code, body = auditHTTP(t, b, http.MethodDelete, "/opt-outs/79001234567/", operator, "", nil)
	require.Equal(t, http.StatusNoContent, code, "%s", body)

	r := auditGQL(t, b, viewer, "", `mutation { optOut(phone: "79001234567") { id } }`)
	requireCode(t, r, "FORBIDDEN")
	r = auditGQL(t, b, operator, "", `mutation { optOut(phone: "79001234567", reason: "STOP") { id createdBy } }`)
	require.Empty(t, r.Errors)
	r = auditGQL(t, b, viewer, "", `{ optOuts(where: {phone: "79001234567"}) { edges { node { phone reason createdBy } } } }`)
	require.Empty(t, r.Errors)
	require.JSONEq(t, `{"optOuts": {"edges": [{"node": {"phone": "79001234567", "reason": "STOP", "createdBy": "otto"}}]}}`, string(r.Data))

	entries := auditLogGQL(t, b, `, where: {targetType: "opt_out"}`)
	require.Len(t, entries, 3, "two opt-outs and an opt-in")
	require.Equal(t, "opt_out.create", entries[0].Action)
	require.Equal(t, "otto", entries[0].Actor)
	require.Equal(t, "opt_out.delete", entries[1].Action)
}

// TestOptOutStopsALoadedBatch: a batch has loaded its due messages and
// sends them one at a time (one request at once, each taking a while); an
// opt-out committed meanwhile cancels a message the batch has loaded but
// not started, and the batch passes over it instead of sending it.
func TestOptOutStopsALoadedBatch(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{
			faults: fakesender.Faults{LatencyMin: 300 * time.Millisecond},
			env:    map[string]string{"SENDER_CONCURRENCY": "1"},
		})
		b.createClients(t, 0, 5, "UTC")
		id := b.startMailing(t, "")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, b.fake.WaitForRequests(ctx, 1))
		b.optOut(t, phoneOf(4), "STOP")

		b.waitMailing(t, id, "FINISHED", 60*time.Second)
		for _, m := range b.messages(t) {
			if m.Phone == phoneOf(4) {
				require.Equal(t, status.MessageCanceled, m.Status)
				require.Zero(t, b.fake.Requests(int64(m.ID)), "the loaded message was not sent")
			} else {
				require.Equal(t, status.Sent, m.Status)
			}
		}
		requireCountsMatch(t, b)
	})
}

// waitingMailing starts a mailing to three clients while the sending API is
// down and returns once each message was tried once and waits for its next
// attempt.
func waitingMailing(t *testing.T, dbURL string) (*testBundle, string) {
	t.Helper()
	b := setup(t, dbURL, setupOpts{})
	b.createClients(t, 0, 3, "UTC")
	b.fake.SetOutage(true)
	id := b.startMailing(t, "")
	waitFor(t, 30*time.Second, "every message tried once", func() bool {
		ms := b.messages(t)
		for _, m := range ms {
			if m.Attempts == 0 {
				return false
			}
		}
		return len(ms) == 3
	})
	return b, id
}
