package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/auditentry"
	"github.com/notifyhq/notify/internal/auth"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/testdb"
)

// auditRow is an audit entry as both APIs show it (REST's snake_case is
// decoded into the same fields).
type auditRow struct {
	ID         int
	Actor      string
	Action     string
	TargetType string
	TargetID   int
	Changes    map[string][2]any
	RequestID  string
}

// auditHTTP sends a request with a token and a request id and returns the
// status and body.
func auditHTTP(t *testing.T, b *testBundle, method, path, token, requestID string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.server.URL+path, rd)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if requestID != "" {
		req.Header.Set("X-Request-Id", requestID)
	}
	resp, out := opsDo(t, req)
	return resp.StatusCode, out
}

// auditGQL runs a GraphQL operation with a token and a request id.
func auditGQL(t *testing.T, b *testBundle, token, requestID, query string) gqlResponse {
	t.Helper()
	_, body := auditHTTP(t, b, http.MethodPost, "/query", token, requestID, map[string]any{"query": query})
	var out gqlResponse
	require.NoError(t, json.Unmarshal(body, &out), "%s", body)
	return out
}

// gqlID decodes the id at path of a GraphQL response's data.
func gqlID(t *testing.T, r gqlResponse, field string) int {
	t.Helper()
	require.Empty(t, r.Errors)
	var data map[string]struct {
		ID json.RawMessage `json:"id"`
	}
	require.NoError(t, json.Unmarshal(r.Data, &data))
	s := strings.Trim(string(data[field].ID), `"`)
	id, err := strconv.Atoi(s)
	require.NoError(t, err, "%s", r.Data)
	return id
}

// auditLogGQL lists the audit log through GraphQL as an admin.
func auditLogGQL(t *testing.T, b *testBundle, where string) []auditRow {
	t.Helper()
	q := `{ auditLog(first: 1000` + where + `) { totalCount edges { node { id actor action targetType targetID changes requestID } } } }`
	r := auditGQL(t, b, roleTokens[auth.Admin], "", q)
	require.Empty(t, r.Errors, "%s", q)
	var data struct {
		AuditLog struct {
			TotalCount int
			Edges      []struct {
				Node struct {
					ID         json.RawMessage
					Actor      string
					Action     string
					TargetType string
					TargetID   int
					Changes    string
					RequestID  string
				}
			}
		}
	}
	require.NoError(t, json.Unmarshal(r.Data, &data))
	rows := make([]auditRow, len(data.AuditLog.Edges))
	for i, e := range data.AuditLog.Edges {
		n := e.Node
		id, err := strconv.Atoi(strings.Trim(string(n.ID), `"`))
		require.NoError(t, err)
		rows[i] = auditRow{ID: id, Actor: n.Actor, Action: n.Action, TargetType: n.TargetType, TargetID: n.TargetID, RequestID: n.RequestID}
		require.NoError(t, json.Unmarshal([]byte(n.Changes), &rows[i].Changes))
	}
	require.Equal(t, data.AuditLog.TotalCount, len(rows))
	return rows
}

// auditLogREST lists the audit log through REST as an admin.
func auditLogREST(t *testing.T, b *testBundle, query string) []auditRow {
	t.Helper()
	status, body := auditHTTP(t, b, http.MethodGet, "/audit/?page_size=1000&"+query, roleTokens[auth.Admin], "", nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	var page struct {
		Count   int
		Results []struct {
			ID         int               `json:"id"`
			Actor      string            `json:"actor"`
			Action     string            `json:"action"`
			TargetType string            `json:"target_type"`
			TargetID   int               `json:"target_id"`
			Changes    map[string][2]any `json:"changes"`
			RequestID  string            `json:"request_id"`
		}
	}
	require.NoError(t, json.Unmarshal(body, &page))
	require.Equal(t, page.Count, len(page.Results))
	rows := make([]auditRow, len(page.Results))
	for i, e := range page.Results {
		rows[i] = auditRow(e)
	}
	return rows
}

// TestAuditLog: every write through GraphQL and REST leaves one entry with
// its actor, action, target, changed fields and request id; a refused write
// leaves none; entries outlive their targets; the filters work; only admins
// read the log (README, "Security", "Audit log").
func TestAuditLog(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		// River stays stopped: a running mailing stays running for the
		// lifecycle writes.
		b := setup(t, dbURL, setupOpts{env: map[string]string{"API_TOKENS": roleTokensEnv()}, noRiver: true})
		otto, ada := roleTokens[auth.Operator], roleTokens[auth.Admin]
		count := func() int { return len(auditLogREST(t, b, "")) }
		// last returns the newest entry and checks that n entries were added.
		seen := 0
		added := func(n int) []auditRow {
			t.Helper()
			rows := auditLogGQL(t, b, "")
			require.Len(t, rows, seen+n, "entries added")
			seen += n
			return rows[:n]
		}
		one := func(actor, action, target string, id int, reqID string, changes map[string][2]any) {
			t.Helper()
			e := added(1)[0]
			require.Equal(t, auditRow{ID: e.ID, Actor: actor, Action: action, TargetType: target, TargetID: id, Changes: changes, RequestID: reqID}, e)
		}

		// Clients.
		r := auditGQL(t, b, otto, "req-gql-create", `mutation { createClient(input: {phone: "79000000001", tag: "a"}) { id } }`)
		c1 := gqlID(t, r, "createClient")
		one("otto", "client.create", "client", c1, "req-gql-create", map[string][2]any{
			"phone": {nil, "79000000001"}, "operator_code": {nil, "900"}, "tag": {nil, "a"}, "timezone": {nil, "UTC"}})

		status, body := auditHTTP(t, b, http.MethodPost, "/clients/", otto, "req-rest-create", map[string]any{"phone": "79000000002"})
		require.Equal(t, http.StatusCreated, status, "%s", body)
		var c2 struct{ ID int }
		require.NoError(t, json.Unmarshal(body, &c2))
		one("otto", "client.create", "client", c2.ID, "req-rest-create", map[string][2]any{
			"phone": {nil, "79000000002"}, "operator_code": {nil, "900"}, "tag": {nil, ""}, "timezone": {nil, "UTC"}})

		// A bulk import: one entry per client, all of the request.
		status, body = auditHTTP(t, b, http.MethodPost, "/clients/bulk/", otto, "req-bulk", []map[string]any{{"phone": "79000000003"}, {"phone": "79000000004"}})
		require.Equal(t, http.StatusCreated, status, "%s", body)
		for _, e := range added(2) {
			require.Equal(t, "client.create", e.Action)
			require.Equal(t, "req-bulk", e.RequestID)
		}

		r = auditGQL(t, b, otto, "req-gql-update", fmt.Sprintf(`mutation { updateClient(id: %d, input: {tag: "b", timezone: "UTC"}) { id } }`, c1))
		require.Empty(t, r.Errors)
		one("otto", "client.update", "client", c1, "req-gql-update", map[string][2]any{"tag": {"a", "b"}})

		status, body = auditHTTP(t, b, http.MethodPatch, fmt.Sprintf("/clients/%d/", c2.ID), otto, "req-rest-update", map[string]any{"timezone": "Europe/Moscow"})
		require.Equal(t, http.StatusOK, status, "%s", body)
		one("otto", "client.update", "client", c2.ID, "req-rest-update", map[string][2]any{"timezone": {"UTC", "Europe/Moscow"}})

		// Refused writes leave nothing: bad input, a taken phone, a
		// change to nothing, a missing target.
		require.NotEmpty(t, auditGQL(t, b, otto, "", `mutation { createClient(input: {phone: "123"}) { id } }`).Errors)
		require.NotEmpty(t, auditGQL(t, b, otto, "", `mutation { createClient(input: {phone: "79000000001"}) { id } }`).Errors)
		status, _ = auditHTTP(t, b, http.MethodPost, "/clients/bulk/", otto, "", []map[string]any{{"phone": "79000000005"}, {"phone": "79000000002"}})
		require.Equal(t, http.StatusBadRequest, status)
		status, _ = auditHTTP(t, b, http.MethodPatch, fmt.Sprintf("/clients/%d/", c2.ID), otto, "", map[string]any{"phone": "79000000001"})
		require.Equal(t, http.StatusBadRequest, status)
		require.NotEmpty(t, auditGQL(t, b, otto, "", `mutation { updateClient(id: 999999, input: {tag: "x"}) { id } }`).Errors)
		require.Empty(t, auditGQL(t, b, otto, "", fmt.Sprintf(`mutation { updateClient(id: %d, input: {tag: "b"}) { id } }`, c1)).Errors)
		added(0)

		// Mailings: created running (its start is past; River is stopped),
		// updated, paused, resumed, cancelled; a conflict leaves nothing.
		r = auditGQL(t, b, otto, "req-m-create", `mutation { createMailing(input: {startAt: "2026-01-01T00:00:00Z", endAt: "2099-01-01T00:00:00Z", text: "hi", filter: {tags: ["a"]}}) { id } }`)
		m1 := gqlID(t, r, "createMailing")
		e := added(1)[0]
		require.Equal(t, "mailing.create", e.Action)
		require.Equal(t, m1, e.TargetID)
		require.Equal(t, [2]any{nil, "hi"}, e.Changes["text"])
		require.Equal(t, [2]any{nil, "running"}, e.Changes["status"])
		require.Equal(t, [2]any{nil, []any{"a"}}, e.Changes["filter_tags"])

		r = auditGQL(t, b, otto, "req-m-update", fmt.Sprintf(`mutation { updateMailing(id: %d, input: {text: "hello"}) { id } }`, m1))
		require.Empty(t, r.Errors)
		one("otto", "mailing.update", "mailing", m1, "req-m-update", map[string][2]any{"text": {"hi", "hello"}})

		status, body = auditHTTP(t, b, http.MethodPost, fmt.Sprintf("/mailings/%d/pause/", m1), otto, "req-m-pause", nil)
		require.Equal(t, http.StatusOK, status, "%s", body)
		one("otto", "mailing.pause", "mailing", m1, "req-m-pause", map[string][2]any{"status": {"running", "paused"}})
		r = auditGQL(t, b, otto, "req-m-resume", fmt.Sprintf(`mutation { resumeMailing(id: %d) { id } }`, m1))
		require.Empty(t, r.Errors)
		one("otto", "mailing.resume", "mailing", m1, "req-m-resume", map[string][2]any{"status": {"paused", "running"}})
		r = auditGQL(t, b, otto, "req-m-cancel", fmt.Sprintf(`mutation { cancelMailing(id: %d) { id } }`, m1))
		require.Empty(t, r.Errors)
		one("otto", "mailing.cancel", "mailing", m1, "req-m-cancel", map[string][2]any{"status": {"running", "cancelled"}})

		r = auditGQL(t, b, otto, "", fmt.Sprintf(`mutation { pauseMailing(id: %d) { id } }`, m1))
		require.Equal(t, "CONFLICT", r.Errors[0].Extensions["code"])
		status, _ = auditHTTP(t, b, http.MethodPatch, fmt.Sprintf("/mailings/%d/", m1), otto, "", map[string]any{"text": "again"})
		require.Equal(t, http.StatusConflict, status)
		require.NotEmpty(t, auditGQL(t, b, otto, "", `mutation { createMailing(input: {startAt: "2030-01-02T00:00:00Z", endAt: "2030-01-01T00:00:00Z", text: "x"}) { id } }`).Errors)
		added(0)

		status, body = auditHTTP(t, b, http.MethodPost, "/mailings/", otto, "req-m-rest", map[string]any{
			"start_at": "2098-01-01T00:00:00Z", "end_at": "2099-01-01T00:00:00Z", "text": "later"})
		require.Equal(t, http.StatusCreated, status, "%s", body)
		var m2 struct{ ID int }
		require.NoError(t, json.Unmarshal(body, &m2))
		e = added(1)[0]
		require.Equal(t, "mailing.create", e.Action)
		require.Equal(t, "req-m-rest", e.RequestID)
		require.Equal(t, [2]any{nil, "scheduled"}, e.Changes["status"])

		// Deletes keep the entries of their targets.
		r = auditGQL(t, b, ada, "req-del-client", fmt.Sprintf(`mutation { deleteClient(id: %d) }`, c1))
		require.Empty(t, r.Errors)
		one("ada", "client.delete", "client", c1, "req-del-client", map[string][2]any{
			"phone": {"79000000001", nil}, "operator_code": {"900", nil}, "tag": {"b", nil}, "timezone": {"UTC", nil}})
		status, body = auditHTTP(t, b, http.MethodDelete, fmt.Sprintf("/mailings/%d/", m2.ID), ada, "req-del-mailing", nil)
		require.Equal(t, http.StatusNoContent, status, "%s", body)
		e = added(1)[0]
		require.Equal(t, "mailing.delete", e.Action)
		require.Equal(t, [2]any{"later", nil}, e.Changes["text"])
		require.Len(t, auditLogGQL(t, b, fmt.Sprintf(`, where: {targetType: "client", targetID: %d}`, c1)), 3)
		require.Len(t, auditLogREST(t, b, fmt.Sprintf("target_type=mailing&target_id=%d", m2.ID)), 2)

		// Filters, newest first.
		all := auditLogREST(t, b, "")
		require.Equal(t, seen, len(all))
		for i := 1; i < len(all); i++ {
			require.Greater(t, all[i-1].ID, all[i].ID, "newest first")
		}
		require.Len(t, auditLogGQL(t, b, `, where: {actor: "ada"}`), 2)
		require.Len(t, auditLogREST(t, b, "actor=ada"), 2)
		require.Len(t, auditLogGQL(t, b, `, where: {action: "client.create", actor: "otto"}`), 4)
		require.Len(t, auditLogREST(t, b, "action=client.create"), 4)
		require.Len(t, auditLogREST(t, b, "target_type=mailing"), 7)
		require.Len(t, auditLogGQL(t, b, `, where: {from: "2000-01-01T00:00:00Z", to: "2999-01-01T00:00:00Z"}`), seen)
		require.Empty(t, auditLogGQL(t, b, `, where: {to: "2000-01-01T00:00:00Z"}`))
		require.Empty(t, auditLogREST(t, b, "from=2999-01-01T00:00:00Z"))
		status, _ = auditHTTP(t, b, http.MethodGet, "/audit/?from=yesterday", ada, "", nil)
		require.Equal(t, http.StatusBadRequest, status)
		status, body = auditHTTP(t, b, http.MethodGet, "/audit/?actor=a%00b", ada, "", nil)
		require.Equal(t, http.StatusBadRequest, status, "%s", body)
		require.JSONEq(t, `{"actor": ["Must be UTF-8 text without NUL bytes."]}`, string(body))
		r = auditGQL(t, b, ada, "", `{ auditLog(where: {action: "a\u0000b"}) { totalCount } }`)
		require.NotEmpty(t, r.Errors)
		require.Equal(t, "BAD_USER_INPUT", r.Errors[0].Extensions["code"])
		require.Equal(t, "where.action", r.Errors[0].Extensions["field"])
		require.Equal(t, seen, count())

		// Only admins read it.
		for _, role := range []auth.Role{auth.Viewer, auth.Operator} {
			r := auditGQL(t, b, roleTokens[role], "", `{ auditLog(first: 10) { totalCount } }`)
			require.NotEmpty(t, r.Errors, "%s", role)
			require.Equal(t, "FORBIDDEN", r.Errors[0].Extensions["code"], "%s", role)
			status, body := auditHTTP(t, b, http.MethodGet, "/audit/", roleTokens[role], "", nil)
			require.Equal(t, http.StatusForbidden, status, "%s", role)
			require.JSONEq(t, `{"detail": "You do not have permission to perform this action."}`, string(body))
		}
		status, _ = auditHTTP(t, b, http.MethodGet, "/audit/", "", "", nil)
		require.Equal(t, http.StatusUnauthorized, status)

		// No credential is ever written.
		var dump bytes.Buffer
		for _, e := range all {
			require.NoError(t, json.NewEncoder(&dump).Encode(e))
		}
		for _, tok := range roleTokens {
			require.NotContains(t, dump.String(), tok)
		}
	})
}

// failingScheduler fails every scheduling, after the write and its audit
// entry are in the transaction.
type failingScheduler struct{}

var errScheduling = errors.New("scheduling failed")

func (failingScheduler) ScheduleMailing(context.Context, *database.Tx, *ent.Mailing) error {
	return errScheduling
}

func (failingScheduler) ResumeMailing(context.Context, *database.Tx, *ent.Mailing) error {
	return errScheduling
}

// TestAuditRolledBack: a write whose transaction rolls back after its audit
// entry was written leaves no entry.
func TestAuditRolledBack(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{noRiver: true})
		ctx := context.Background()
		svc := campaign.New(campaign.Config{DB: b.app.db, Scheduler: failingScheduler{},
			Actor: func(context.Context) (string, string) { return "rollback", "req-rollback" }})
		entries := func() int {
			n, err := b.app.db.Ent.AuditEntry.Query().Count(ctx)
			require.NoError(t, err)
			return n
		}

		_, err := svc.CreateMailing(ctx, campaign.MailingInput{StartAt: time.Now().Add(time.Hour), EndAt: time.Now().Add(2 * time.Hour), Text: "x"})
		require.ErrorIs(t, err, errScheduling)
		require.Zero(t, entries())
		n, err := b.app.db.Ent.Mailing.Query().Count(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "the mailing rolled back too")

		// An update of the end: its entry is written, then scheduling fails.
		m, err := b.app.service.CreateMailing(ctx, campaign.MailingInput{StartAt: time.Now().Add(time.Hour), EndAt: time.Now().Add(2 * time.Hour), Text: "x"})
		require.NoError(t, err)
		require.Equal(t, 1, entries())
		_, err = svc.UpdateMailing(ctx, m.ID, campaign.MailingPatch{EndAt: new(time.Now().Add(3 * time.Hour))})
		require.ErrorIs(t, err, errScheduling)
		require.Equal(t, 1, entries())
		require.Zero(t, b.app.db.Ent.AuditEntry.Query().Where(auditentry.Actor("rollback")).CountX(ctx))
		cur, err := b.app.service.Mailing(ctx, m.ID)
		require.NoError(t, err)
		require.True(t, cur.EndAt.Equal(m.EndAt), "the update rolled back")
	})
}

// TestAuditRetention: with AUDIT_RETENTION the periodic job deletes the
// entries older than it (by the domain clock) and keeps the others.
func TestAuditRetention(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		clock := &testdb.Clock{}
		now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
		clock.Set(now)
		b := setup(t, dbURL, setupOpts{env: map[string]string{"AUDIT_RETENTION": "720h"}, options: appOptions{now: clock.Now}, noRiver: true})
		ctx := context.Background()
		for i, age := range []time.Duration{time.Hour, 719 * time.Hour, 721 * time.Hour, 5000 * time.Hour} {
			_, err := b.app.db.Ent.AuditEntry.Create().SetAt(now.Add(-age)).SetActor("ada").SetAction("client.create").
				SetTargetType("client").SetTargetID(i + 1).Save(ctx)
			require.NoError(t, err)
		}
		// The periodic job runs at start.
		require.NoError(t, b.app.river.Start(ctx))
		t.Cleanup(func() {
			stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			_ = b.app.river.Stop(stopCtx)
		})
		waitFor(t, 15*time.Second, "the audit log pruned", func() bool {
			return b.app.db.Ent.AuditEntry.Query().CountX(ctx) == 2
		})
		ids := b.app.db.Ent.AuditEntry.Query().Order(ent.Asc(auditentry.FieldTargetID)).Select(auditentry.FieldTargetID).IntsX(ctx)
		require.Equal(t, []int{1, 2}, ids)
	})
}

// TestAuditMailingStory: a mailing's create → pause → resume → cancel →
// delete by two actors reads back from auditLog and GET /audit/, newest
// first, with the right actors and diffs.
func TestAuditMailingStory(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{env: map[string]string{"API_TOKENS": roleTokensEnv()}, noRiver: true})
		otto, ada := roleTokens[auth.Operator], roleTokens[auth.Admin]
		r := auditGQL(t, b, otto, "story-1", `mutation { createMailing(input: {startAt: "2026-01-01T00:00:00Z", endAt: "2099-01-01T00:00:00Z", text: "story"}) { id } }`)
		id := gqlID(t, r, "createMailing")
		status, body := auditHTTP(t, b, http.MethodPost, fmt.Sprintf("/mailings/%d/pause/", id), otto, "story-2", nil)
		require.Equal(t, http.StatusOK, status, "%s", body)
		require.Empty(t, auditGQL(t, b, ada, "story-3", fmt.Sprintf(`mutation { resumeMailing(id: %d) { id } }`, id)).Errors)
		require.Empty(t, auditGQL(t, b, otto, "story-4", fmt.Sprintf(`mutation { cancelMailing(id: %d) { id } }`, id)).Errors)
		status, body = auditHTTP(t, b, http.MethodDelete, fmt.Sprintf("/mailings/%d/", id), ada, "story-5", nil)
		require.Equal(t, http.StatusNoContent, status, "%s", body)

		want := []struct {
			actor, action, requestID string
			status                   [2]any
		}{
			{"ada", "mailing.delete", "story-5", [2]any{"cancelled", nil}},
			{"otto", "mailing.cancel", "story-4", [2]any{"running", "cancelled"}},
			{"ada", "mailing.resume", "story-3", [2]any{"paused", "running"}},
			{"otto", "mailing.pause", "story-2", [2]any{"running", "paused"}},
			{"otto", "mailing.create", "story-1", [2]any{nil, "running"}},
		}
		for name, rows := range map[string][]auditRow{
			"auditLog":    auditLogGQL(t, b, fmt.Sprintf(`, where: {targetType: "mailing", targetID: %d}`, id)),
			"GET /audit/": auditLogREST(t, b, fmt.Sprintf("target_type=mailing&target_id=%d", id)),
		} {
			require.Len(t, rows, len(want), name)
			for i, w := range want {
				got := rows[i]
				require.Equal(t, w.actor, got.Actor, "%s %d", name, i)
				require.Equal(t, w.action, got.Action, "%s %d", name, i)
				require.Equal(t, w.requestID, got.RequestID, "%s %d", name, i)
				require.Equal(t, id, got.TargetID, "%s %d", name, i)
				require.Equal(t, w.status, got.Changes["status"], "%s %d: %v", name, i, got.Changes)
			}
		}
	})
}
