package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/auth"
	"github.com/notifyhq/notify/internal/testdb"
)

// previewClients creates 30 clients: client i has operator code 900+i%3
// and tag "t"+i%4 ("" for i%4 == 3).
func previewClients(t *testing.T, b *testBundle) {
	t.Helper()
	var parts []string
	for i := range 30 {
		tag := fmt.Sprintf("t%d", i%4)
		if i%4 == 3 {
			tag = ""
		}
		parts = append(parts, fmt.Sprintf(`{phone: %q, operatorCode: "%d", tag: %q}`, phoneOf(i), 900+i%3, tag))
	}
	b.mustGQL(t, `mutation { createClients(input: [`+strings.Join(parts, ",")+`]) { id } }`, nil, nil)
}

// audience is a preview as GraphQL answers it.
type audience struct {
	Count          int
	ByOperatorCode []struct {
		Value string
		Count int
	}
	ByTag []struct {
		Value string
		Count int
	}
	Sample []struct{ Phone string }
}

func (b *testBundle) preview(t *testing.T, filter string) audience {
	t.Helper()
	var out struct{ AudiencePreview audience }
	b.mustGQL(t, `{ audiencePreview(filter: `+filter+`) { count byOperatorCode { value count } byTag { value count } sample { phone } } }`, nil, &out)
	return out.AudiencePreview
}

// TestAudiencePreviewMatchesRecipients: the preview's count is the number
// of recipients a mailing created with the same filter gets, opted-out
// phones left out, for several filters; the breakdowns add up to it and the
// sample is the first recipients by id.
func TestAudiencePreviewMatchesRecipients(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{})
		previewClients(t, b)
		b.optOut(t, phoneOf(0), "STOP") // 900, t0
		b.optOut(t, phoneOf(5), "STOP") // 902, t1
		b.optOut(t, "79999999999", "")  // no such client

		for _, tc := range []struct {
			name, gql, mailing string
		}{
			{"Everyone", `{}`, ``},
			{"OperatorCodes", `{operatorCodes: ["900", "902"]}`, `, filter: {operatorCodes: ["900", "902"]}`},
			{"Tags", `{tags: ["t0", ""]}`, `, filter: {tags: ["t0", ""]}`},
			{"Both", `{operatorCodes: ["901"], tags: ["t1", "t2"]}`, `, filter: {operatorCodes: ["901"], tags: ["t1", "t2"]}`},
			{"Nobody", `{operatorCodes: ["999"]}`, `, filter: {operatorCodes: ["999"]}`},
		} {
			p := b.preview(t, tc.gql)
			id := b.startMailing(t, tc.mailing)
			b.waitMailing(t, id, "FINISHED", 30*time.Second)
			phones := b.recipientPhones(t, id)
			require.Equal(t, len(phones), p.Count, tc.name)
			require.NotContains(t, phones, phoneOf(0), tc.name)
			require.NotContains(t, phones, phoneOf(5), tc.name)

			sumCodes, sumTags := 0, 0
			for _, c := range p.ByOperatorCode {
				sumCodes += c.Count
			}
			for _, c := range p.ByTag {
				sumTags += c.Count
			}
			require.Equal(t, p.Count, sumCodes, tc.name)
			require.Equal(t, p.Count, sumTags, tc.name)
			var sample []string
			for _, c := range p.Sample {
				sample = append(sample, c.Phone)
			}
			require.Equal(t, phones[:min(10, len(phones))], sample, tc.name)
		}

		// The counters follow updates and deletes: client 2 moves from 902/t2
		// to 901/t0, client 3 loses its tag, client 4 goes.
		ids := b.clientIDs(t)
		b.mustGQL(t, `mutation($id: ID!) { updateClient(id: $id, input: {operatorCode: "901", tag: "t0"}) { id } }`, map[string]any{"id": ids[2]}, nil)
		b.mustGQL(t, `mutation($id: ID!) { updateClient(id: $id, input: {tag: "t9"}) { id } }`, map[string]any{"id": ids[3]}, nil)
		b.mustGQL(t, `mutation($id: ID!) { deleteClient(id: $id) }`, map[string]any{"id": ids[4]}, nil)
		requireClientCountsMatch(t, b)
		for _, f := range []struct{ gql, mailing string }{
			{`{operatorCodes: ["901"], tags: ["t0"]}`, `, filter: {operatorCodes: ["901"], tags: ["t0"]}`},
			{`{tags: ["t9", ""]}`, `, filter: {tags: ["t9", ""]}`},
		} {
			p := b.preview(t, f.gql)
			id := b.startMailing(t, f.mailing)
			b.waitMailing(t, id, "FINISHED", 30*time.Second)
			require.Equal(t, len(b.recipientPhones(t, id)), p.Count, f.gql)
		}
		b.mustGQL(t, `mutation($id: ID!) { updateClient(id: $id, input: {operatorCode: "902", tag: "t2"}) { id } }`, map[string]any{"id": ids[2]}, nil)
		b.mustGQL(t, `mutation($id: ID!) { updateClient(id: $id, input: {tag: ""}) { id } }`, map[string]any{"id": ids[3]}, nil)
		b.mustGQL(t, `mutation { createClient(input: {phone: "`+phoneOf(4)+`", operatorCode: "901", tag: "t0"}) { id } }`, nil, nil)
		requireClientCountsMatch(t, b)

		// Everyone: 28 recipients; 900 lost one and 902 one.
		p := b.preview(t, `{}`)
		require.Equal(t, 28, p.Count)
		require.Equal(t, []struct {
			Value string
			Count int
		}{{"901", 10}, {"900", 9}, {"902", 9}}, p.ByOperatorCode, "largest first, then by value")
	})
}

// TestAudiencePreviewREST: POST /mailings/preview/ answers the same counts
// in a mailing's shapes, viewers may ask, and a bad filter names its field.
func TestAudiencePreviewREST(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{})
		previewClients(t, b)
		b.optOut(t, phoneOf(1), "")
		c := newRESTClient(t, b)

		var got struct {
			Count          int            `json:"count"`
			ByOperatorCode map[string]int `json:"by_operator_code"`
			ByTag          map[string]int `json:"by_tag"`
			Sample         []restClientJSON
		}
		res := c.do(t, http.MethodPost, "/mailings/preview/", map[string]any{"filter": map[string]any{"operator_codes": []string{"901"}}})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		res.decode(t, &got)
		// 901: clients 1, 4, …, 28 (10), client 1 opted out.
		require.Equal(t, 9, got.Count)
		require.Equal(t, map[string]int{"901": 9}, got.ByOperatorCode)
		require.Equal(t, map[string]int{"t0": 3, "t1": 2, "t2": 2, "": 2}, got.ByTag)
		require.Len(t, got.Sample, 9)
		require.Equal(t, phoneOf(4), got.Sample[0].Phone)

		res = c.do(t, http.MethodPost, "/mailings/preview", map[string]any{})
		res.decode(t, &got)
		require.Equal(t, 29, got.Count)
		require.Len(t, got.Sample, 10)

		c.do(t, http.MethodPost, "/mailings/preview/", map[string]any{"filter": map[string]any{"operator_codes": []string{"12"}}}, invalidRequest).
			requireJSON(t, http.StatusBadRequest, `{"filter": {"operator_codes": ["\"12\" is not 3 digits."]}}`)
		r := b.gql(t, `{ audiencePreview(filter: {operatorCodes: ["1"]}) { count } }`, nil)
		requireBadInput(t, r, "filter.operatorCodes")
	})
}

// TestAudiencePreviewViewer: a viewer previews over both APIs.
func TestAudiencePreviewViewer(t *testing.T) {
	t.Parallel()
	b := setup(t, testdb.SQLite(t), setupOpts{env: map[string]string{"API_TOKENS": roleTokensEnv()}})
	code, body := auditHTTP(t, b, http.MethodPost, "/mailings/preview/", roleTokens[auth.Viewer], "", map[string]any{"filter": nil})
	require.Equal(t, http.StatusOK, code, "%s", body)
	require.JSONEq(t, `{"count": 0, "by_operator_code": {}, "by_tag": {}, "sample": []}`, string(body))
	code, body = auditHTTP(t, b, http.MethodPost, "/mailings/preview/", "", "", map[string]any{})
	require.Equal(t, http.StatusUnauthorized, code, "%s", body)
	r := auditGQL(t, b, roleTokens[auth.Viewer], "", `{ audiencePreview(filter: {}) { count } }`)
	require.Empty(t, r.Errors)
	require.JSONEq(t, `{"audiencePreview": {"count": 0}}`, string(r.Data))
}

// requireClientCountsMatch asserts the counters the triggers keep agree
// with a fresh count of the clients.
func requireClientCountsMatch(t *testing.T, b *testBundle) {
	t.Helper()
	require.Equal(t,
		countsByKey(t, b, `SELECT operator_code, tag, count(*) FROM clients GROUP BY operator_code, tag`),
		countsByKey(t, b, `SELECT operator_code, tag, count FROM client_counts`),
		"client_counts agree with the clients")
}
