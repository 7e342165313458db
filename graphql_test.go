package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/testdb"
)

func TestGraphQLClients(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{})

		var created struct {
			CreateClient struct {
				ID, Phone, OperatorCode, Tag, Timezone string
			}
		}
		b.mustGQL(t, `mutation { createClient(input: {phone: "79001234567", tag: "vip", timezone: "Europe/Moscow"}) { id phone operatorCode tag timezone } }`, nil, &created)
		c := created.CreateClient
		require.Equal(t, "79001234567", c.Phone)
		require.Equal(t, "900", c.OperatorCode, "derived from the phone")
		require.Equal(t, "vip", c.Tag)
		require.Equal(t, "Europe/Moscow", c.Timezone)

		t.Run("update keeps the operator code when the phone changes", func(t *testing.T) {
			var out struct {
				UpdateClient struct{ Phone, OperatorCode, Tag string }
			}
			b.mustGQL(t, `mutation($id: ID!) { updateClient(id: $id, input: {phone: "79111234567", tag: ""}) { phone operatorCode tag } }`, map[string]any{"id": c.ID}, &out)
			require.Equal(t, "79111234567", out.UpdateClient.Phone)
			require.Equal(t, "900", out.UpdateClient.OperatorCode)
			require.Equal(t, "", out.UpdateClient.Tag)
		})

		t.Run("bulk import is all or nothing", func(t *testing.T) {
			resp := b.gql(t, `mutation { createClients(input: [{phone: "79000000001"}, {phone: "bad"}, {phone: "79000000003"}]) { id } }`, nil)
			requireBadInput(t, resp, "1.phone")
			var count struct{ Clients struct{ TotalCount int } }
			b.mustGQL(t, `{ clients { totalCount } }`, nil, &count)
			require.Equal(t, 1, count.Clients.TotalCount, "nothing of the failed import is stored")

			var out struct{ CreateClients []struct{ ID string } }
			b.mustGQL(t, `mutation { createClients(input: [{phone: "79000000001", tag: "b"}, {phone: "79000000002", tag: "b"}]) { id } }`, nil, &out)
			require.Len(t, out.CreateClients, 2)
		})

		t.Run("list, filter and paginate", func(t *testing.T) {
			var out struct {
				Clients struct {
					TotalCount int
					Edges      []struct{ Node struct{ Phone string } }
					PageInfo   struct {
						HasNextPage bool
						EndCursor   string
					}
				}
			}
			b.mustGQL(t, `{ clients(first: 1, where: {tag: "b"}) { totalCount edges { node { phone } } pageInfo { hasNextPage endCursor } } }`, nil, &out)
			require.Equal(t, 2, out.Clients.TotalCount)
			require.Equal(t, "79000000001", out.Clients.Edges[0].Node.Phone)
			require.True(t, out.Clients.PageInfo.HasNextPage)
			b.mustGQL(t, `query($after: Cursor) { clients(first: 1, after: $after, where: {tag: "b"}) { totalCount edges { node { phone } } pageInfo { hasNextPage endCursor } } }`,
				map[string]any{"after": out.Clients.PageInfo.EndCursor}, &out)
			require.Equal(t, "79000000002", out.Clients.Edges[0].Node.Phone)
			require.False(t, out.Clients.PageInfo.HasNextPage)

			requireBadInput(t, b.gql(t, `{ clients(first: 1001) { totalCount } }`, nil), "first")
			requireBadInput(t, b.gql(t, `{ clients(last: -1) { totalCount } }`, nil), "last")
		})

		t.Run("a taken phone is a bad phone", func(t *testing.T) {
			requireBadInput(t, b.gql(t, `mutation { createClient(input: {phone: "79000000001"}) { id } }`, nil), "phone")
			requireBadInput(t, b.gql(t, `mutation($id: ID!) { updateClient(id: $id, input: {phone: "79000000001"}) { id } }`, map[string]any{"id": c.ID}), "phone")
		})

		t.Run("unknown ids", func(t *testing.T) {
			requireNoNode(t, b, "client", "999999")
			requireCode(t, b.gql(t, `mutation { updateClient(id: 999999, input: {tag: "x"}) { id } }`, nil), "NOT_FOUND")
			requireCode(t, b.gql(t, `mutation { deleteClient(id: 999999) }`, nil), "NOT_FOUND")
			requireBadInput(t, b.gql(t, `{ client(id: "abc") { id } }`, nil), "id")
		})

		t.Run("delete", func(t *testing.T) {
			b.mustGQL(t, `mutation($id: ID!) { deleteClient(id: $id) }`, map[string]any{"id": c.ID}, nil)
			requireNoNode(t, b, "client", c.ID)
		})
	})
}

// requireNoNode asserts that the query field (client, mailing) finds nothing with id:
// the answer has the field, null, and no error.
func requireNoNode(t *testing.T, b *testBundle, field, id string) {
	t.Helper()
	var out map[string]*struct{ ID string }
	b.mustGQL(t, `query($id: ID!) { `+field+`(id: $id) { id } }`, map[string]any{"id": id}, &out)
	require.Contains(t, out, field)
	require.Nil(t, out[field])
}

func TestGraphQLClientValidation(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{})
		for _, tt := range []struct{ input, field string }{
			{`{phone: "7900123456"}`, "phone"},
			{`{phone: "89001234567"}`, "phone"},
			{`{phone: "79001234567", operatorCode: "9a0"}`, "operatorCode"},
			{`{phone: "79001234567", timezone: "Local"}`, "timezone"},
			{`{phone: "79001234567", timezone: "Europe/Atlantis"}`, "timezone"},
			{fmt.Sprintf(`{phone: "79001234567", tag: %q}`, strings.Repeat("t", 65)), "tag"},
		} {
			requireBadInput(t, b.gql(t, `mutation { createClient(input: `+tt.input+`) { id } }`, nil), tt.field)
		}
		var count struct{ Clients struct{ TotalCount int } }
		b.mustGQL(t, `{ clients { totalCount } }`, nil, &count)
		require.Zero(t, count.Clients.TotalCount, "no invalid client is stored")
	})
}

func TestGraphQLMailings(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{})
		now := time.Now().UTC()
		ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }

		var created struct {
			CreateMailing struct {
				ID, Status, StartAt, EndAt string
				Filter                     struct{ OperatorCodes, Tags []string }
				SendWindow                 *struct{ From, To string }
			}
		}
		b.mustGQL(t, `mutation($s: Time!, $e: Time!) { createMailing(input: {startAt: $s, endAt: $e, text: "later", filter: {operatorCodes: ["900", "900"], tags: ["vip"]}, sendWindow: {from: "22:00", to: "06:00"}}) {
			id status startAt endAt filter { operatorCodes tags } sendWindow { from to } } }`,
			map[string]any{"s": now.Add(time.Hour).In(time.FixedZone("MSK", 3*3600)).Format(time.RFC3339), "e": ts(2 * time.Hour)}, &created)
		m := created.CreateMailing
		require.Equal(t, "SCHEDULED", m.Status)
		require.True(t, strings.HasSuffix(m.StartAt, "Z"), "times are written in UTC: %s", m.StartAt)
		require.Equal(t, []string{"900"}, m.Filter.OperatorCodes, "duplicates dropped")
		require.Equal(t, []string{"vip"}, m.Filter.Tags)
		require.Equal(t, &struct{ From, To string }{"22:00", "06:00"}, m.SendWindow)

		t.Run("a mailing inside its period is running at once", func(t *testing.T) {
			var out struct{ CreateMailing struct{ Status string } }
			b.mustGQL(t, `mutation($s: Time!, $e: Time!) { createMailing(input: {startAt: $s, endAt: $e, text: "now"}) { status } }`,
				map[string]any{"s": ts(-time.Minute), "e": ts(time.Hour)}, &out)
			require.Equal(t, "RUNNING", out.CreateMailing.Status)
		})

		t.Run("update: omitted stays, null clears, same value is no change", func(t *testing.T) {
			var out struct {
				UpdateMailing struct {
					Text       string
					Filter     struct{ OperatorCodes, Tags []string }
					SendWindow *struct{ From, To string }
				}
			}
			b.mustGQL(t, `mutation($id: ID!) { updateMailing(id: $id, input: {text: "changed", sendWindow: null}) { text filter { operatorCodes tags } sendWindow { from to } } }`,
				map[string]any{"id": m.ID}, &out)
			require.Equal(t, "changed", out.UpdateMailing.Text)
			require.Equal(t, []string{"900"}, out.UpdateMailing.Filter.OperatorCodes, "omitted filter unchanged")
			require.Nil(t, out.UpdateMailing.SendWindow, "null clears the window")
			b.mustGQL(t, `mutation($id: ID!) { updateMailing(id: $id, input: {filter: null}) { text filter { operatorCodes tags } sendWindow { from to } } }`,
				map[string]any{"id": m.ID}, &out)
			require.Empty(t, out.UpdateMailing.Filter.OperatorCodes)
			require.Empty(t, out.UpdateMailing.Filter.Tags)
			requireBadInput(t, b.gql(t, `mutation($id: ID!) { updateMailing(id: $id, input: {text: null}) { id } }`, map[string]any{"id": m.ID}), "text")
		})

		t.Run("validation names the field", func(t *testing.T) {
			for _, tt := range []struct {
				input string
				field string
			}{
				{fmt.Sprintf(`{startAt: %q, endAt: %q, text: "x"}`, ts(time.Hour), ts(time.Minute)), "endAt"},
				{fmt.Sprintf(`{startAt: %q, endAt: %q, text: "x"}`, ts(-2*time.Hour), ts(-time.Hour)), "endAt"},
				{fmt.Sprintf(`{startAt: %q, endAt: %q, text: ""}`, ts(0), ts(time.Hour)), "text"},
				{fmt.Sprintf(`{startAt: %q, endAt: %q, text: %q}`, ts(0), ts(time.Hour), strings.Repeat("x", 4097)), "text"},
				{fmt.Sprintf(`{startAt: %q, endAt: %q, text: "x", sendWindow: {from: "9:00", to: "18:00"}}`, ts(0), ts(time.Hour)), "sendWindow.from"},
				{fmt.Sprintf(`{startAt: %q, endAt: %q, text: "x", sendWindow: {from: "09:00", to: "09:00"}}`, ts(0), ts(time.Hour)), "sendWindow.to"},
				{fmt.Sprintf(`{startAt: %q, endAt: %q, text: "x", filter: {operatorCodes: ["1234"]}}`, ts(0), ts(time.Hour)), "filter.operatorCodes"},
				{fmt.Sprintf(`{startAt: "2026-01-01T10:00:00", endAt: %q, text: "x"}`, ts(time.Hour)), "startAt"},
				{fmt.Sprintf(`{startAt: "", endAt: %q, text: "x"}`, ts(time.Hour)), "startAt"},
			} {
				requireBadInput(t, b.gql(t, `mutation { createMailing(input: `+tt.input+`) { id } }`, nil), tt.field)
			}
		})

		t.Run("unknown ids", func(t *testing.T) {
			requireNoNode(t, b, "mailing", "987654")
			requireCode(t, b.gql(t, `mutation { updateMailing(id: 987654, input: {text: "x"}) { id } }`, nil), "NOT_FOUND")
			requireCode(t, b.gql(t, `mutation { deleteMailing(id: 987654) }`, nil), "NOT_FOUND")
		})

		t.Run("delete", func(t *testing.T) {
			b.mustGQL(t, `mutation($id: ID!) { deleteMailing(id: $id) }`, map[string]any{"id": m.ID}, nil)
			requireNoNode(t, b, "mailing", m.ID)
		})
	})
}

func TestGraphQLLimits(t *testing.T) {
	t.Parallel()
	b := setup(t, testdb.SQLite(t), setupOpts{})

	resp := b.gql(t, `{ mailings(first: 1000) { edges { node { messages(first: 1000) { edges { node { id phone } } } } } } }`, nil)
	requireCode(t, resp, "COMPLEXITY_LIMIT_EXCEEDED")

	deep := `{ mailings { edges { node { messages { edges { node { mailing { messages { edges { node { mailing { messages { edges { node { id } } } } } } } } } } } } } } }`
	requireCode(t, b.gql(t, deep, nil), "DEPTH_LIMIT_EXCEEDED")

	var intro struct {
		Schema struct{ QueryType struct{ Name string } } `json:"__schema"`
	}
	b.mustGQL(t, `{ __schema { queryType { name } } }`, nil, &intro)
	require.Equal(t, "Query", intro.Schema.QueryType.Name)

	closed := setup(t, testdb.SQLite(t), setupOpts{env: map[string]string{"GRAPHQL_INTROSPECTION": "false"}})
	require.NotEmpty(t, closed.gql(t, `{ __schema { queryType { name } } }`, nil).Errors, "introspection can be turned off")
}

// requireCode asserts that resp failed with one error of code.
func requireCode(t *testing.T, resp gqlResponse, code string) {
	t.Helper()
	require.NotEmpty(t, resp.Errors, "expected a %s error, data: %s", code, resp.Data)
	require.Equal(t, code, resp.Errors[0].Extensions["code"], "error: %+v", resp.Errors[0])
}

// requireBadInput asserts that resp failed with BAD_USER_INPUT naming field.
func requireBadInput(t *testing.T, resp gqlResponse, field string) {
	t.Helper()
	requireCode(t, resp, "BAD_USER_INPUT")
	require.Equal(t, field, resp.Errors[0].Extensions["field"], "error: %+v", resp.Errors[0])
}
