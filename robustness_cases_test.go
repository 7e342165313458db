package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
)

// Defects the suite found are fixed; a case that finds a new one whose fix
// must wait is wrapped in known(<the defect, described>, …), which skips it
// (ROBUSTNESS_KNOWN_DEFECTS=1 runs it). None is skipped today.

// robustnessCases is the table of TestRobustness: every case is named by
// where it goes (graphql/post, graphql/get, graphql/sse, ws/<protocol>,
// rest, routes, http) and what it sends.
func robustnessCases() []robustCase {
	var cases []robustCase
	cases = append(cases, graphQLBodyCases()...)
	cases = append(cases, graphQLDocumentCases()...)
	cases = append(cases, graphQLTransportCases()...)
	cases = append(cases, webSocketCases()...)
	cases = append(cases, restCases()...)
	cases = append(cases, audienceCases()...)
	cases = append(cases, routeCases()...)
	cases = append(cases, rawHTTPCases()...)
	return cases
}

// graphQLBodyCases are request bodies that are not GraphQL requests, or
// not well-formed ones, each posted as JSON and as an SSE request.
func graphQLBodyCases() []robustCase {
	deepArray := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	deepVars := `{"query":"query($id: ID!) { client(id: $id) { id } }","variables":{"id":` + strings.Repeat("[", 9000) + "1" + strings.Repeat("]", 9000) + "}}"
	deepObject := `{"query":"{ __typename }","variables":{"a":` + strings.Repeat(`{"a":`, 9000) + "1" + strings.Repeat("}", 9000) + "}}"
	hugeVar := string(gqlBody("query($id: ID!) { client(id: $id) { id } }", map[string]any{"id": strings.Repeat("9", 900<<10)}))
	hugeTag := string(gqlBody(`mutation($in: CreateClientInput!) { createClient(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"phone": "not a phone", "tag": strings.Repeat("t", 900<<10)}}))
	nestedList := string(gqlBody(`query($w: CustomerWhereInput) { clients(where: $w) { totalCount } }`,
		map[string]any{"w": map[string]any{"tagIn": []any{[]any{[]any{[]any{"x"}}}}}}))

	bodies := []struct {
		name, body string
		status     int    // with the token; 0: any below 500
		code       string // an error code the answer must carry
	}{
		{"empty", "", http.StatusBadRequest, ""},
		{"white-space", " \n\t\r ", http.StatusBadRequest, ""},
		{"open-brace", "{", http.StatusBadRequest, ""},
		{"close-brace", "}", http.StatusBadRequest, ""},
		{"unterminated-string", `{"query":"{ __typename }`, http.StatusBadRequest, ""},
		{"trailing-garbage", `{"query":"{ __typename }"} trailing`, 0, ""},
		{"two-objects", `{"query":"{ __typename }"}{"query":"{ __typename }"}`, 0, ""},
		{"single-quotes", `{'query':'{ __typename }'}`, http.StatusBadRequest, ""},
		{"trailing-comma", `{"query":"{ __typename }",}`, http.StatusBadRequest, ""},
		{"comment", `/* c */ {"query":"{ __typename }"}`, http.StatusBadRequest, ""},
		{"byte-order-mark", "\xef\xbb\xbf" + `{"query":"{ __typename }"}`, http.StatusBadRequest, ""},
		{"bad-escape", `{"query":"\q"}`, http.StatusBadRequest, ""},
		{"lone-surrogate", `{"query":"{ __typename } \ud800"}`, 0, ""},
		{"invalid-utf8-in-query", "{\"query\":\"{ __typename \xff\xfe }\"}", 0, ""},
		{"invalid-utf8-in-key", "{\"qu\xffery\":\"{ __typename }\"}", 0, ""},
		{"invalid-utf8-outside-strings", "{\"query\":\"{ __typename }\"\xff}", http.StatusBadRequest, ""},
		{"raw-nul-in-string", "{\"query\":\"{ __typename }\x00\"}", http.StatusBadRequest, ""},
		{"escaped-nul-in-query", `{"query":"{ __typename \u0000 }"}`, 0, "GRAPHQL_PARSE_FAILED"},
		{"nul-before-body", "\x00" + `{"query":"{ __typename }"}`, http.StatusBadRequest, ""},
		{"only-nuls", strings.Repeat("\x00", 4096), http.StatusBadRequest, ""},
		{"array-nested-100000-deep", deepArray, http.StatusBadRequest, ""},
		{"variable-nested-9000-deep", deepVars, 0, ""},
		{"unused-variable-object-9000-deep", deepObject, http.StatusOK, ""},
		{"variable-of-900KiB", hugeVar, 0, ""},
		{"input-field-of-900KiB", hugeTag, 0, "BAD_USER_INPUT"},
		{"variable-list-in-list", nestedList, 0, ""},
		{"null", "null", 0, ""},
		{"array", "[]", http.StatusBadRequest, ""},
		{"batch", `[{"query":"{ __typename }"},{"query":"{ __typename }"}]`, http.StatusBadRequest, ""},
		{"string", `"{ __typename }"`, http.StatusBadRequest, ""},
		{"number", "42", http.StatusBadRequest, ""},
		{"true", "true", http.StatusBadRequest, ""},
		{"empty-object", "{}", 0, ""},
		{"no-query", `{"variables":{}}`, 0, ""},
		{"query-number", `{"query":42}`, http.StatusBadRequest, ""},
		{"query-null", `{"query":null}`, 0, ""},
		{"query-object", `{"query":{"a":1}}`, http.StatusBadRequest, ""},
		{"query-array", `{"query":["{ __typename }"]}`, http.StatusBadRequest, ""},
		{"query-true", `{"query":true}`, http.StatusBadRequest, ""},
		{"variables-array", `{"query":"{ __typename }","variables":[]}`, http.StatusBadRequest, ""},
		{"variables-string", `{"query":"{ __typename }","variables":"x"}`, http.StatusBadRequest, ""},
		{"variables-number", `{"query":"{ __typename }","variables":1e400}`, http.StatusBadRequest, ""},
		{"variables-null", `{"query":"{ __typename }","variables":null}`, http.StatusOK, ""},
		{"variable-huge-number", `{"query":"query($n: Int) { clients(first: $n) { totalCount } }","variables":{"n":1e400}}`, 0, ""},
		{"variable-wrong-type", `{"query":"query($id: ID!) { client(id: $id) { id } }","variables":{"id":{"a":1}}}`, 0, ""},
		{"variable-with-nul", `{"query":"query($id: ID!) { client(id: $id) { id } }","variables":{"id":"1\u0000"}}`, 0, ""},
		{"operation-name-number", `{"query":"{ __typename }","operationName":5}`, http.StatusBadRequest, ""},
		{"operation-name-object", `{"query":"{ __typename }","operationName":{}}`, http.StatusBadRequest, ""},
		{"extensions-string", `{"query":"{ __typename }","extensions":"x"}`, http.StatusBadRequest, ""},
		{"persisted-query-number", `{"query":"{ __typename }","extensions":{"persistedQuery":5}}`, 0, "BAD_REQUEST"},
		{"persisted-query-unknown-hash", `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + strings.Repeat("ab", 32) + `"}}}`, 0, "PERSISTED_QUERY_NOT_FOUND"},
		{"persisted-query-wrong-hash", `{"query":"{ __typename }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"nope"}}}`, 0, "BAD_REQUEST"},
		{"persisted-query-version-2", `{"query":"{ __typename }","extensions":{"persistedQuery":{"version":2,"sha256Hash":"nope"}}}`, 0, "BAD_REQUEST"},
		{"duplicate-keys", `{"query":"{ nope }","query":"{ __typename }"}`, http.StatusOK, ""},
		{"unknown-members", `{"query":"{ __typename }","batch":true,"id":5}`, http.StatusOK, ""},
	}
	var cases []robustCase
	for _, b := range bodies {
		if b.status == http.StatusBadRequest {
			b.code = "BAD_REQUEST" // not a GraphQL request
		}
		w := hwant{status: b.status, code: b.code}
		sw := hwant{code: b.code} // SSE answers errors inside a 200 stream
		c := []robustCase{
			httpCase("graphql/post/"+b.name, gqlPOST([]byte(b.body)), w),
			httpCase("graphql/sse/"+b.name, gqlSSE([]byte(b.body)), sw),
		}
		cases = append(cases, c...)
	}
	return cases
}

// graphQLDocumentCases are GraphQL documents that are malformed, hostile or
// refused, each sent by POST and by GET.
func graphQLDocumentCases() []robustCase {
	repeat := func(n int, f func(i int) string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(f(i))
			b.WriteByte(' ')
		}
		return b.String()
	}
	long := strings.Repeat("a", 64<<10)
	docs := []struct {
		name, query, operationName string
		code                       string // an error code the answer must carry
		get                        bool   // also over GET (the document fits in a URL)
	}{
		{"unknown-field", "{ nope }", "", "GRAPHQL_VALIDATION_FAILED", true},
		{"unknown-mutation", "mutation { nope }", "", "GRAPHQL_VALIDATION_FAILED", true},
		{"unknown-subscription", "subscription { nope }", "", "GRAPHQL_VALIDATION_FAILED", true},
		{"unknown-type-condition", "{ ... on Nope { x } }", "", "GRAPHQL_VALIDATION_FAILED", true},
		{"fragment-on-scalar", "fragment F on Int { x } { ...F }", "", "GRAPHQL_VALIDATION_FAILED", true},
		{"unused-fragment", "fragment F on Query { __typename } { __typename }", "", "GRAPHQL_VALIDATION_FAILED", true},
		{"operation-name-mismatch", "query A { __typename }", "B", "", true},
		{"operation-name-for-anonymous", "{ __typename }", "A", "", true},
		{"two-operations-no-name", "query A { __typename } query B { __typename }", "", "", true},
		{"two-anonymous-operations", "{ __typename } { __typename }", "", "GRAPHQL_VALIDATION_FAILED", true},
		{"duplicate-operation-names", "query A { __typename } query A { __typename }", "A", "", true},
		{"syntax-open-brace", "{", "", "GRAPHQL_PARSE_FAILED", true},
		{"syntax-close-brace", "}", "", "GRAPHQL_PARSE_FAILED", true},
		{"syntax-empty", "", "", "", true},
		{"syntax-missing-argument-value", "{ client(id: ) { id } }", "", "GRAPHQL_PARSE_FAILED", true},
		{"syntax-string-as-field", `{ "str" }`, "", "GRAPHQL_PARSE_FAILED", true},
		{"syntax-nameless-variable", "query($: ID) { __typename }", "", "GRAPHQL_PARSE_FAILED", true},
		{"syntax-bare-spread", "{ ... }", "", "GRAPHQL_PARSE_FAILED", true},
		{"syntax-unterminated-string", `{ client(id: "1) { id } }`, "", "GRAPHQL_PARSE_FAILED", true},
		{"syntax-unterminated-block-string", `{ client(id: """1) { id } }`, "", "GRAPHQL_PARSE_FAILED", true},
		{"syntax-non-ascii", "{ __typename ☃ }", "", "GRAPHQL_PARSE_FAILED", true},
		{"syntax-extra-brace", "{ __typename } }", "", "GRAPHQL_PARSE_FAILED", true},
		{"syntax-keyword-soup", "query query query", "", "GRAPHQL_PARSE_FAILED", true},
		{"syntax-control-character", "{ __typename \x01 }", "", "GRAPHQL_PARSE_FAILED", true},
		{"syntax-invalid-utf8", "{ __typename \xc3\x28 }", "", "", true},
		{"schema-definition", "type Query { x: Int }", "", "", true},
		{"fragment-cycle", "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }", "", "GRAPHQL_VALIDATION_FAILED", true},
		{"fragment-self-cycle", "query { ...A } fragment A on Query { __typename ...A }", "", "GRAPHQL_VALIDATION_FAILED", true},
		{"fragment-cycle-through-inline", "query { ...A } fragment A on Query { ... on Query { ...A } }", "", "GRAPHQL_VALIDATION_FAILED", true},
		{"fragment-bomb-40", fragmentBomb(40), "", "COMPLEXITY_LIMIT_EXCEEDED", true},
		{"fragment-bomb-200", fragmentBomb(200), "", "COMPLEXITY_LIMIT_EXCEEDED", true},
		{"fragment-bomb-on-objects", "{ generalStatistics { ...S0 } } " + repeat(30, func(i int) string {
			return fmt.Sprintf("fragment S%d on GeneralStatistics { ...S%d ...S%d }", i, i+1, i+1)
		}) + "fragment S30 on GeneralStatistics { mailings }", "", "COMPLEXITY_LIMIT_EXCEEDED", true},
		{"alias-flood-2000", "{ " + repeat(2000, func(i int) string { return fmt.Sprintf("a%d: __typename", i) }) + "}", "", "", true},
		{"alias-flood-over-token-limit", "{ " + repeat(4000, func(i int) string { return fmt.Sprintf("a%d: __typename", i) }) + "}", "", "GRAPHQL_PARSE_FAILED", true},
		{"alias-flood-of-queries", "{ " + repeat(500, func(i int) string { return fmt.Sprintf("a%d: generalStatistics { mailings }", i) }) + "}", "", "", true},
		{"same-field-9000-times", "{ " + repeat(9000, func(int) string { return "__typename" }) + "}", "", "", false},
		{"same-alias-different-arguments", "{ " + repeat(800, func(i int) string { return fmt.Sprintf("c: client(id: %d) { id }", i) }) + "}", "", "GRAPHQL_VALIDATION_FAILED", false},
		{"same-field-with-selections-1900-times", "{ " + repeat(1900, func(int) string { return "generalStatistics { mailings }" }) + "}", "", "", false},
		{"directive-flood-repeated", "{ __typename " + repeat(1400, func(int) string { return "@include(if: true)" }) + "}", "", "GRAPHQL_VALIDATION_FAILED", true},
		{"directive-flood-unknown", "{ __typename " + repeat(1000, func(int) string { return "@x" }) + "}", "", "GRAPHQL_VALIDATION_FAILED", true},
		{"directive-on-operation", "query @skip(if: true) { __typename }", "", "GRAPHQL_VALIDATION_FAILED", true},
		{"directive-flood-on-fields", "{ " + repeat(2000, func(i int) string { return fmt.Sprintf("a%d: __typename @skip(if: false)", i) }) + "}", "", "GRAPHQL_PARSE_FAILED", false},
		{"long-field-name", "{ " + long + " }", "", "GRAPHQL_VALIDATION_FAILED", false},
		{"long-alias", "{ " + long + ": __typename }", "", "", false},
		{"long-operation-name", "query " + long + " { __typename }", long, "", false},
		{"long-variable-name", "query($" + long + ": ID) { __typename }", "", "GRAPHQL_VALIDATION_FAILED", false},
		{"long-fragment-name", "{ ..." + long + " } fragment " + long + " on Query { __typename }", "", "", false},
		{"long-argument-name", "{ client(" + long + ": 1) { id } }", "", "GRAPHQL_VALIDATION_FAILED", false},
		{"long-string-literal", `{ client(id: "` + long + `") { id } }`, "", "", false},
		{"long-number-literal", "{ clients(first: " + strings.Repeat("9", 100000) + ") { totalCount } }", "", "", false},
		{"long-enum-value", "{ mailings(orderBy: {field: " + long + "}) { totalCount } }", "", "GRAPHQL_VALIDATION_FAILED", false},
		{"selection-3000-deep", strings.Repeat("{ a ", 3000) + strings.Repeat("}", 3000), "", "", false},
		{"list-literal-4900-deep", "{ client(id: " + strings.Repeat("[", 4900) + "1" + strings.Repeat("]", 4900) + ") { id } }", "", "", false},
		{"object-literal-2400-deep", `mutation { createClient(input: {phone: "1", tag: ` + strings.Repeat("{a: ", 2400) + "1" + strings.Repeat("}", 2400) + `}) { id } }`, "", "", false},
		{"too-deep", "{ mailings { edges { node { messages { edges { node { mailing { messages { edges { node { mailing { messages { edges { node { id } } } } } } } } } } } } } } }", "", "DEPTH_LIMIT_EXCEEDED", true},
		{"too-complex", "{ mailings(first: 1000) { edges { node { messages(first: 1000) { edges { node { id phone } } } } } } }", "", "COMPLEXITY_LIMIT_EXCEEDED", true},
		{"introspection-nesting", "{ __schema { types { fields { type { fields { type { fields { type { fields { type { fields { type { fields { name } } } } } } } } } } } } } }", "", "", true},
		{"introspection-of-types-of-types", "{ __schema { types { " + strings.Repeat("ofType { ", 60) + "name" + strings.Repeat(" }", 60) + " } } }", "", "", true},
		{"page-size-overflow", "{ clients(first: 99999999999) { totalCount } }", "", "", true},
		{"page-size-negative", "{ clients(first: -5) { totalCount } }", "", "", true},
		{"page-size-huge-int32", "{ clients(first: 2147483647) { edges { node { id } } } }", "", "", true},
		{"bad-cursor", `{ clients(after: "!!!not-a-cursor") { totalCount } }`, "", "", true},
		{"id-not-a-number", `{ client(id: "abc") { id } }`, "", "", true},
		{"id-overflow", `{ client(id: "99999999999999999999") { id } }`, "", "", true},
		{"id-negative", `{ client(id: "-1") { id } }`, "", "", true},
		{"id-float", `{ client(id: 1.5) { id } }`, "", "GRAPHQL_VALIDATION_FAILED", true},
		{"bad-time", `mutation { createMailing(input: {startAt: "yesterday", endAt: "\u0000", text: "x"}) { id } }`, "", "", true},
		{"bad-date", `{ dailyReport(date: "2026-02-30") { date } }`, "", "", true},
		{"subscription-typename", "subscription { __typename }", "", "GRAPHQL_VALIDATION_FAILED", true},
		{"subscription-two-fields", "subscription { messageStatusChanged { status } mailingProgress(mailingID: 1) { total } }", "", "GRAPHQL_VALIDATION_FAILED", true},
		{"mutation-bad-input", `mutation { createClient(input: {phone: "x\u0000", timezone: "../../etc/passwd"}) { id } }`, "", "", false},
		{"mutation-bulk-wrong-items", `mutation { createClients(input: [{phone: 1}, null, "x"]) { id } }`, "", "GRAPHQL_VALIDATION_FAILED", false},
		{"update-unknown-client", `mutation { updateClient(id: "99999999999999999999", input: {tag: "x"}) { id } }`, "", "", false},
		{"delete-id-garbage", `mutation { deleteMailing(id: "1; DROP TABLE mailings") }`, "", "", false},
		// NUL bytes and invalid UTF-8 in values that reach the database
		// (Postgres refuses both in text).
		{"filter-nul", `{ clients(where: {tag: "a\u0000b"}) { totalCount } }`, "", "BAD_USER_INPUT", true},
		{"filter-invalid-utf8", "{ clients(where: {tagContains: \"\xff\xfe\"}) { totalCount } }", "", "", true},
		{"filter-text-nul", `{ mailings(where: {or: [{textContains: "x"}, {not: {textContains: "\u0000"}}]}) { totalCount } }`, "", "BAD_USER_INPUT", true},
		{"create-client-tag-nul", `mutation { createClient(input: {phone: "79990000011", tag: "a\u0000b"}) { id } }`, "", "", false},
		{"create-client-tag-invalid-utf8", "mutation { createClient(input: {phone: \"79990000012\", tag: \"\xc3\x28\"}) { id } }", "", "", false},
		{"create-mailing-text-nul", `mutation { createMailing(input: {startAt: "2035-01-01T00:00:00Z", endAt: "2036-01-01T00:00:00Z", text: "\u0000", filter: {tags: ["\u0000"]}}) { id } }`, "", "", false},
		{"report-date-nul", `{ dailyReport(date: "2026-01-01\u0000") { date } }`, "", "", true},
	}
	var cases []robustCase
	quadratic := map[string]bool{"same-field-9000-times": true, "same-field-with-selections-1900-times": true, "same-alias-different-arguments": true}
	for _, d := range docs {
		if quadratic[d.name] {
			cases = append(cases, known("", true, httpCase("graphql/post/"+d.name, gqlPOST(gqlBody(d.query, nil)), hwant{within: 2 * time.Second}))...)
			continue
		}
		var body []byte
		if d.operationName != "" {
			body = mustJSON(map[string]any{"query": d.query, "operationName": d.operationName})
		} else {
			body = gqlBody(d.query, nil)
		}
		cases = append(cases, httpCase("graphql/post/"+d.name, gqlPOST(body), hwant{code: d.code}))
		if d.get {
			more := ""
			if d.operationName != "" {
				more = "operationName=" + urlEscape(d.operationName)
			}
			// GET refuses mutations and subscriptions (406) before running
			// them; errors found earlier come with their own status.
			cases = append(cases, httpCase("graphql/get/"+d.name, gqlGET(d.query, more), hwant{code: d.code}))
		}
	}
	return cases
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// graphQLTransportCases are hostile uses of HTTP on /query: sizes, framing,
// content types, methods, GET's parameters, SSE with Upgrade.
func graphQLTransportCases() []robustCase {
	typename := gqlBody("{ __typename }", nil)
	withHeader := func(r hreq, h ...string) hreq {
		r.header = append(append([]string{}, r.header...), h...)
		return r
	}
	withType := func(ct string, body []byte) hreq {
		r := hreq{method: "POST", target: "/query", body: body}
		if ct != "" {
			r.header = []string{"Content-Type: " + ct}
		}
		return r
	}
	chunked := gqlPOST(typename)
	chunked.chunked = true
	bigChunked := gqlPOST(paddedQuery(1536 << 10))
	bigChunked.chunked = true
	badChunks := gqlPOST(nil)
	badChunks.bodyFn = func(w io.Writer) error { _, err := w.Write([]byte("zz\r\n{}\r\n0\r\n\r\n")); return err }
	shortChunk := gqlPOST(nil)
	shortChunk.bodyFn = func(w io.Writer) error {
		_, err := w.Write([]byte("ff\r\n{\"query\":\"{ __typename }\"}\r\n0\r\n\r\n"))
		return err
	}
	shortChunk.closeWrite = true // the rest of the chunk never comes
	trailers := gqlPOST(nil)
	trailers.bodyFn = func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%x\r\n%s\r\n0\r\nX-Trailer: t\r\n\r\n", len(typename), typename)
		return err
	}
	hugeTrailer := gqlPOST(nil)
	hugeTrailer.bodyFn = func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%x\r\n%s\r\n0\r\nX-Trailer: %s\r\n\r\n", len(typename), typename, strings.Repeat("t", 8192))
		return err
	}
	cutShort := gqlPOST(nil)
	cutShort.bodyFn = func(w io.Writer) error { _, err := fmt.Fprintf(w, "%x\r\n%s", 1000, typename); return err }
	cutShort.closeWrite = true
	lengthCutShort := withHeader(gqlPOST(typename), "Content-Length: 1000")
	lengthCutShort.closeWrite = true
	chunkExtensions := gqlPOST(nil)
	chunkExtensions.bodyFn = func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%x;%s\r\n%s\r\n0\r\n\r\n", len(typename), strings.Repeat("ext=1;", 1000), typename)
		return err
	}
	tooLarge := hwant{status: http.StatusRequestEntityTooLarge, code: "REQUEST_TOO_LARGE"}
	multipart := func(parts ...string) hreq {
		var b bytes.Buffer
		for i := 0; i+1 < len(parts); i += 2 {
			fmt.Fprintf(&b, "--XB\r\nContent-Disposition: form-data; name=%q; filename=\"f\"\r\n\r\n%s\r\n", parts[i], parts[i+1])
		}
		b.WriteString("--XB--\r\n")
		return withType("multipart/form-data; boundary=XB", b.Bytes())
	}
	sseUpgrade := gqlSSE(gqlBody(statusSubscriptionQuery, nil))
	sseUpgrade.header = append(sseUpgrade.header, "Upgrade: websocket", "Connection: Upgrade")
	sseUpgradeGET := hreq{method: "GET", target: "/query?query=" + urlEscape(statusSubscriptionQuery),
		header: []string{"Accept: text/event-stream", "Upgrade: websocket", "Connection: Upgrade"}}
	sseH2C := gqlSSE(gqlBody(statusSubscriptionQuery, nil))
	sseH2C.header = append(sseH2C.header, "Upgrade: h2c", "Connection: Upgrade, HTTP2-Settings", "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA")
	liveSSE := gqlSSE(gqlBody(statusSubscriptionQuery, nil))
	liveSSE.stream = true
	sseQueryAsGET := hreq{method: "GET", target: "/query?query=" + urlEscape(statusSubscriptionQuery), header: []string{"Accept: text/event-stream"}}
	sseMutation := gqlSSE(gqlBody(`mutation { deleteClient(id: "99999999999999999999") }`, nil))
	sseUnknownMailing := gqlSSE(gqlBody(`subscription { mailingProgress(mailingID: "99999999999999999999") { total } }`, nil))
	sseBadVars := gqlSSE([]byte(`{"query":"subscription($m: ID) { messageStatusChanged(mailingID: $m) { status } }","variables":{"m":{"x":1}}}`))
	sseNoContentType := gqlSSE(typename)
	sseNoContentType.header = []string{"Accept: text/event-stream"}

	var cases []robustCase
	add := func(cs ...robustCase) { cases = append(cases, cs...) }
	add(
		httpCase("graphql/post/body-1.5MiB", gqlPOST(paddedQuery(1536<<10)), tooLarge),
		httpCase("graphql/post/body-1.5MiB-chunked", bigChunked, tooLarge),
		httpCase("graphql/post/content-length-lies-big", withHeader(gqlPOST(nil), "Content-Length: 99999999999"), tooLarge),
		httpCase("graphql/post/content-length-negative", withHeader(gqlPOST(nil), "Content-Length: -1"), hwant{status: http.StatusBadRequest, raw: true, anon: http.StatusBadRequest}),
		httpCase("graphql/post/chunked", chunked, hwant{status: http.StatusOK}),
		httpCase("graphql/post/chunked-with-trailers", trailers, hwant{status: http.StatusOK}),
		httpCase("graphql/post/content-type-charset-latin1", withType("application/json; charset=latin1", typename), hwant{status: http.StatusOK}),
		httpCase("graphql/post/content-type-upper-case", withType("APPLICATION/JSON", typename), hwant{status: http.StatusOK}),
		httpCase("graphql/post/multipart-no-boundary", withType("multipart/form-data", []byte("--x\r\n\r\n")), hwant{}),
		httpCase("graphql/post/multipart-garbage", withType("multipart/form-data; boundary=XB", []byte("garbage")), hwant{}),
		httpCase("graphql/post/multipart-operations-not-json", multipart("operations", "{", "map", "{}"), hwant{}),
		httpCase("graphql/post/multipart-map-not-json", multipart("operations", string(typename), "map", "["), hwant{}),
		httpCase("graphql/post/multipart-map-to-missing-file", multipart("operations", string(typename), "map", `{"0":["variables.file"]}`), hwant{}),
		httpCase("graphql/post/multipart-map-to-bad-path", multipart("operations", string(typename), "map", `{"0":["variables.a.b.c.9999"]}`, "0", "x"), hwant{}),
		httpCase("graphql/post/multipart-map-wrong-shape", multipart("operations", string(typename), "map", `{"0":"variables.file"}`, "0", "x"), hwant{}),
		httpCase("graphql/post/multipart-batch-operations", multipart("operations", `[{"query":"{ __typename }"}]`, "map", `{}`), hwant{}),
		httpCase("graphql/post/multipart-many-parts", multipart(func() []string {
			var p []string
			for i := range 2000 {
				p = append(p, fmt.Sprint(i), "x")
			}
			return append([]string{"operations", string(typename), "map", "{}"}, p...)
		}()...), hwant{}),
		httpCase("graphql/post/expect-100-continue", withHeader(gqlPOST(typename), "Expect: 100-continue"), hwant{status: http.StatusOK}),
		httpCase("graphql/post/expect-100-continue-too-large", hreq{method: "POST", target: "/query", header: []string{"Content-Type: application/json", "Expect: 100-continue", "Content-Length: 2000000"}}, tooLarge),
		httpCase("graphql/post/expect-garbage", withHeader(gqlPOST(typename), "Expect: teapot"), hwant{status: http.StatusExpectationFailed, anon: http.StatusExpectationFailed, raw: true}),
		httpCase("graphql/post/accept-garbage", withHeader(gqlPOST(typename), "Accept: */*;q=x, application/graphql-response+json;q=nope"), hwant{status: http.StatusOK}),
		httpCase("graphql/post/accept-graphql-response", withHeader(gqlPOST(gqlBody("{", nil)), "Accept: application/graphql-response+json"), hwant{status: http.StatusBadRequest}),
		httpCase("graphql/head", hreq{method: "HEAD", target: "/query?query=%7B__typename%7D"}, hwant{}),
		httpCase("graphql/options", hreq{method: "OPTIONS", target: "/query"}, hwant{anon: anyStatus}),
		httpCase("graphql/options-preflight", hreq{method: "OPTIONS", target: "/query", header: []string{"Origin: http://evil.example", "Access-Control-Request-Method: POST"}}, hwant{anon: anyStatus}),
		httpCase("graphql/get/mutation", gqlGET(`mutation { deleteClient(id: "1") }`, ""), hwant{status: http.StatusNotAcceptable}),
		httpCase("graphql/get/mutation-named", gqlGET(`query Q { __typename } mutation M { deleteClient(id: "1") }`, "operationName=M"), hwant{status: http.StatusNotAcceptable}),
		httpCase("graphql/get/subscription", gqlGET(statusSubscriptionQuery, ""), hwant{status: http.StatusNotAcceptable}),
		httpCase("graphql/get/no-query", hreq{method: "GET", target: "/query"}, hwant{}),
		httpCase("graphql/get/empty-query", hreq{method: "GET", target: "/query?query="}, hwant{}),
		httpCase("graphql/get/repeated-query", hreq{method: "GET", target: "/query?query=%7B__typename%7D&query=%7Bnope%7D"}, hwant{status: http.StatusOK}),
		httpCase("graphql/get/variables-not-json", gqlGET("{ __typename }", "variables=%7B"), hwant{status: http.StatusBadRequest}),
		httpCase("graphql/get/variables-array", gqlGET("{ __typename }", "variables=%5B%5D"), hwant{status: http.StatusBadRequest}),
		httpCase("graphql/get/extensions-not-json", gqlGET("{ __typename }", "extensions=nope"), hwant{status: http.StatusBadRequest}),
		httpCase("graphql/get/persisted-query-unknown", hreq{method: "GET", target: "/query?extensions=" + urlEscape(`{"persistedQuery":{"version":1,"sha256Hash":"`+strings.Repeat("cd", 32)+`"}}`)}, hwant{code: "PERSISTED_QUERY_NOT_FOUND"}),
		// "+" is a space in a query string: a 500 KiB query in a 500 KiB URL.
		httpCase("graphql/get/query-of-500KiB", hreq{method: "GET", target: "/query?query=%7B__typename" + strings.Repeat("+", 500<<10) + "%7D"}, hwant{status: http.StatusOK}),
		httpCase("graphql/get/url-over-1MiB", hreq{method: "GET", target: "/query?query=%7B__typename" + strings.Repeat("+", 1100<<10) + "%7D"}, hwant{status: http.StatusRequestHeaderFieldsTooLarge, anon: http.StatusRequestHeaderFieldsTooLarge, raw: true}),
		httpCase("graphql/get/invalid-utf8-in-query", hreq{method: "GET", target: "/query?query=%7B__typename%FF%FE%7D"}, hwant{}),
		httpCase("graphql/get/nul-in-query", hreq{method: "GET", target: "/query?query=%7B__typename%00%7D"}, hwant{}),
		httpCase("graphql/get/with-body", hreq{method: "GET", target: "/query?query=%7B__typename%7D", body: []byte(`{"query":"mutation { deleteClient(id: \"1\") }"}`)}, hwant{status: http.StatusOK}),
		httpCase("graphql/sse/live-subscription-then-hang-up", liveSSE, hwant{status: http.StatusOK}),
		httpCase("graphql/sse/get", sseQueryAsGET, hwant{}),
		httpCase("graphql/sse/mutation", sseMutation, hwant{status: http.StatusOK}),
		httpCase("graphql/sse/unknown-mailing", sseUnknownMailing, hwant{status: http.StatusOK}),
		httpCase("graphql/sse/variables-wrong-type", sseBadVars, hwant{status: http.StatusOK}),
		httpCase("graphql/sse/fragment-bomb", gqlSSE(gqlBody(fragmentBomb(40), nil)), hwant{code: "COMPLEXITY_LIMIT_EXCEEDED"}),
		httpCase("graphql/sse/body-1.5MiB", gqlSSE(paddedQuery(1536<<10)), tooLarge),
	)
	// A JSON error labelled text/plain: requests no transport takes, and
	// query strings that do not parse.
	add(known("", true,
		httpCase("graphql/post/content-type-text-plain", withType("text/plain", typename), hwant{}),
		httpCase("graphql/post/content-type-form", withType("application/x-www-form-urlencoded", []byte("query=%7B+__typename+%7D")), hwant{}),
		httpCase("graphql/post/content-type-none", withType("", typename), hwant{}),
		httpCase("graphql/post/content-type-graphql", withType("application/graphql", []byte("{ __typename }")), hwant{}),
		httpCase("graphql/post/content-type-malformed", withType("application/json;;;=", typename), hwant{}),
		httpCase("graphql/post/upgrade-websocket", withHeader(gqlPOST(typename), "Upgrade: websocket", "Connection: Upgrade"), hwant{}),
		httpCase("graphql/put", hreq{method: "PUT", target: "/query", header: []string{"Content-Type: application/json"}, body: typename}, hwant{}),
		httpCase("graphql/delete", hreq{method: "DELETE", target: "/query"}, hwant{}),
		httpCase("graphql/patch", hreq{method: "PATCH", target: "/query", header: []string{"Content-Type: application/json"}, body: typename}, hwant{}),
		httpCase("graphql/trace", hreq{method: "TRACE", target: "/query"}, hwant{}),
		httpCase("graphql/unknown-method", hreq{method: "BREW", target: "/query"}, hwant{}),
		httpCase("graphql/get/bad-percent-encoding", hreq{method: "GET", target: "/query?query=%ZZ%7B"}, hwant{status: http.StatusBadRequest}),
		httpCase("graphql/get/semicolon-separator", hreq{method: "GET", target: "/query?query=%7B__typename%7D;x=1"}, hwant{status: http.StatusBadRequest}),
		httpCase("graphql/sse/upgrade-websocket", sseUpgrade, hwant{}),
		httpCase("graphql/sse/upgrade-h2c", sseH2C, hwant{}),
		httpCase("graphql/sse/no-content-type", sseNoContentType, hwant{}),
		httpCase("ws/handshake-post", hreq{method: "POST", target: "/query", header: []string{"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Content-Type: application/json"}, body: gqlBody("{ __typename }", nil)}, hwant{}),
	)...)
	// A chunked body that does not read: an empty 400.
	add(known("", true,
		httpCase("graphql/post/chunked-bad-size", badChunks, hwant{status: http.StatusBadRequest}),
		httpCase("graphql/post/chunked-short-chunk", shortChunk, hwant{status: http.StatusBadRequest}),
		httpCase("graphql/post/chunked-cut-short", cutShort, hwant{status: http.StatusBadRequest}),
		httpCase("graphql/post/chunked-with-extensions", chunkExtensions, hwant{status: http.StatusBadRequest}),
		httpCase("graphql/post/chunked-with-huge-trailer", hugeTrailer, hwant{status: http.StatusBadRequest}),
	)...)
	add(
		// An announced length never reached: the POST transport's read fails.
		httpCase("graphql/post/content-length-cut-short", lengthCutShort, hwant{code: "BAD_REQUEST"}),
		httpCase("graphql/post/content-type-json-body-xml", withType("application/json", []byte("<query>{ __typename }</query>")), hwant{status: http.StatusBadRequest, code: "BAD_REQUEST"}),
	)
	add(
		// The client goes away while its query runs: the operation is
		// cancelled, and nothing is logged as an error.
		robustCase{name: "graphql/post/hang-up-mid-query", run: func(t *testing.T, e *robustEnv) {
			var q strings.Builder
			q.WriteString("{ ")
			for i := range 300 {
				fmt.Fprintf(&q, "a%d: generalStatistics { mailings messages } ", i)
			}
			q.WriteString("}")
			id := "robust-" + rand.Text()
			r := gqlPOST(gqlBody(q.String(), nil))
			r.header = append(r.header, "X-Request-Id: "+id)
			mark := e.logs.Len()
			e.hangUp(t, r)
			logged := func() (lines []string) {
				for line := range strings.Lines(e.logs.Since(mark)) {
					if strings.Contains(line, `"request_id":"`+id+`"`) {
						lines = append(lines, line)
					}
				}
				return lines
			}
			waitFor(t, robustTimeout, "the request's access-log line", func() bool {
				return slices.ContainsFunc(logged(), func(l string) bool { return strings.Contains(l, `"msg":"http request"`) })
			})
			for _, l := range logged() {
				require.NotContains(t, l, `"level":"ERROR"`)
			}
		}},
		robustCase{name: "graphql/sse/many-streams-hung-up", run: func(t *testing.T, e *robustEnv) {
			for range 50 {
				checkHTTP(t, e, liveSSE, hwant{status: http.StatusOK}, e.send(t, liveSSE))
			}
		}},
	)
	// Distinct valid documents just under the body limit: the
	// parsed-query cache must not keep them all.
	add(known("", true, robustCase{name: "graphql/post/query-cache-of-big-documents", run: func(t *testing.T, e *robustEnv) {
		n := 150
		if !e.authed() {
			n = 3 // refused unread
		}
		before := liveHeap()
		for i := range n {
			query := fmt.Sprintf("{ __typename } # %d %s", i, strings.Repeat(" ", robustBodyLimit-2048))
			r := gqlPOST(gqlBody(query, nil))
			checkHTTP(t, e, r, hwant{status: http.StatusOK}, e.send(t, r))
		}
		grown := int64(liveHeap()) - int64(before)
		t.Logf("%d distinct documents of %d KiB: the live heap grew by %d MiB", n, (robustBodyLimit-2048)>>10, grown>>20)
		require.Less(t, grown, int64(robustHeapBound), "the documents stay in memory")
	}})...)
	// An SSE request with an Upgrade header, as a GET: gqlgen's WebSocket
	// transport takes it and coder/websocket refuses the handshake.
	add(known("", true, httpCase("graphql/sse/upgrade-websocket-get", sseUpgradeGET, hwant{}))...)
	return cases
}

// webSocketCases are hostile exchanges on both GraphQL WebSocket
// protocols, and handshakes that are not quite one.
func webSocketCases() []robustCase {
	var cases []robustCase
	add := func(name string, run func(t *testing.T, e *robustEnv, s *wsSession)) {
		cases = append(cases, wsCase(name, run)...)
	}
	// refused: the server closes the socket (any code but 1011).
	refused := func(t *testing.T, s *wsSession) { s.expectClose() }

	add("garbage-before-init", func(t *testing.T, e *robustEnv, s *wsSession) { s.sendText("not json at all"); refused(t, s) })
	add("garbage-after-init", func(t *testing.T, e *robustEnv, s *wsSession) {
		if s.init(t, e) {
			s.sendText("}{")
			refused(t, s)
		}
	})
	add("binary-garbage-before-init", func(t *testing.T, e *robustEnv, s *wsSession) {
		s.sendFrame(websocket.MessageBinary, []byte{0, 1, 2, 0xff, 0xfe})
		refused(t, s)
	})
	add("binary-garbage-after-init", func(t *testing.T, e *robustEnv, s *wsSession) {
		if s.init(t, e) {
			s.sendFrame(websocket.MessageBinary, []byte{0xde, 0xad, 0xbe, 0xef})
			refused(t, s)
		}
	})
	add("binary-connection-init", func(t *testing.T, e *robustEnv, s *wsSession) {
		s.sendFrame(websocket.MessageBinary, []byte(`{"type":"connection_init","payload":{"authorization":"Bearer `+e.token+`"}}`))
		if m, ok := s.read(robustTimeout); ok && m.Type == "connection_ack" {
			require.True(t, e.authed(), "acknowledged without a token")
		}
	})
	add("subscribe-before-init", func(t *testing.T, e *robustEnv, s *wsSession) {
		s.subscribe("1", "{ __typename }", nil)
		refused(t, s)
	})
	add("two-connection-inits", func(t *testing.T, e *robustEnv, s *wsSession) {
		if s.init(t, e) {
			s.send("connection_init", "", map[string]any{"authorization": "Bearer " + e.token})
			refused(t, s)
		}
	})
	for _, p := range []struct{ name, payload string }{
		{"string", `"Bearer x"`}, {"array", `["Bearer x"]`}, {"number", `42`}, {"true", `true`},
		{"deeply-nested", strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)},
	} {
		c := wsCase("init-payload-"+p.name, func(t *testing.T, e *robustEnv, s *wsSession) {
			s.sendText(`{"type":"connection_init","payload":` + p.payload + `}`)
			refused(t, s)
		})
		if p.name != "deeply-nested" {
			c = known("", false, c...)
		}
		cases = append(cases, c...)
	}
	for _, a := range []struct{ name, value string }{
		{"authorization-number", `42`}, {"authorization-wrong-token", `"Bearer not-the-token"`},
		{"authorization-no-scheme", `"` + robustToken + `"`}, {"authorization-huge", `"Bearer ` + strings.Repeat("x", 500<<10) + `"`},
		{"authorization-basic", `"Basic cm9idXN0OnJvYnVzdA=="`}, {"authorization-nul", `"Bearer \u0000` + robustToken + `"`},
	} {
		add("init-"+a.name, func(t *testing.T, e *robustEnv, s *wsSession) {
			s.sendText(`{"type":"connection_init","payload":{"authorization":` + a.value + `}}`)
			require.Equal(t, websocket.StatusCode(4403), s.expectClose())
		})
	}
	add("init-token-in-header-only", func(t *testing.T, e *robustEnv, s *wsSession) {
		// The dial carried no Authorization header: the token must come in
		// connection_init.
		s.send("connection_init", "", map[string]any{"Authorization": "Bearer "})
		require.Equal(t, websocket.StatusCode(4403), s.expectClose())
	})
	// Subscribes that are not well-formed: an error for their id, and the
	// socket goes on.
	for _, p := range []struct{ name, msg string }{
		{"payload-string", `{"type":"%s","id":"1","payload":"{ __typename }"}`},
		{"payload-null", `{"type":"%s","id":"1","payload":null}`},
		{"payload-missing", `{"type":"%s","id":"1"}`},
		{"payload-array", `{"type":"%s","id":"1","payload":[1,2]}`},
		{"query-number", `{"type":"%s","id":"1","payload":{"query":42}}`},
		{"query-syntax-error", `{"type":"%s","id":"1","payload":{"query":"subscription {"}}`},
		{"variables-not-object", `{"type":"%s","id":"1","payload":{"query":"{ __typename }","variables":"x"}}`},
		{"unknown-field", `{"type":"%s","id":"1","payload":{"query":"subscription { nope }"}}`},
		{"fragment-cycle", `{"type":"%s","id":"1","payload":{"query":"subscription { ...A } fragment A on Subscription { ...A }"}}`},
		{"operation-name-mismatch", `{"type":"%s","id":"1","payload":{"query":"subscription A { messageStatusChanged { status } }","operationName":"B"}}`},
		{"unknown-mailing", `{"type":"%s","id":"1","payload":{"query":"subscription { mailingProgress(mailingID: \"99999999999999999999\") { total } }"}}`},
		{"mutation-bad-input", `{"type":"%s","id":"1","payload":{"query":"mutation { createClient(input: {phone: \"x\"}) { id } }"}}`},
		{"too-deep", `{"type":"%s","id":"1","payload":{"query":"{ mailings { edges { node { messages { edges { node { mailing { messages { edges { node { mailing { messages { edges { node { id } } } } } } } } } } } } } } }"}}`},
		{"invalid-utf8", "{\"type\":\"%s\",\"id\":\"1\",\"payload\":{\"query\":\"{ __typename \xff }\"}}"},
		{"nul-bytes", `{"type":"%s","id":"1\u0000","payload":{"query":"{ __typename \u0000 }"}}`},
	} {
		add("subscribe-"+p.name, func(t *testing.T, e *robustEnv, s *wsSession) {
			if !s.init(t, e) {
				return
			}
			s.sendText(fmt.Sprintf(p.msg, s.proto.subscribe))
			m := s.until(t, "an answer to the subscribe", func(m wsMsg) bool {
				return m.Type == "error" || m.Type == s.proto.data || m.Type == "complete"
			})
			if m.Type == s.proto.data {
				require.Contains(t, string(m.Payload), `"errors"`, "a malformed subscribe was answered with data")
			}
			s.alive(t)
			s.close()
		})
	}
	add("subscribe-fragment-bomb", func(t *testing.T, e *robustEnv, s *wsSession) {
		if !s.init(t, e) {
			return
		}
		s.subscribe("bomb", fragmentBomb(40), nil)
		m := s.until(t, "the refusal", func(m wsMsg) bool { return m.ID == "bomb" && m.Type != "complete" })
		require.Contains(t, graphQLCodes(t, m.Payload), "COMPLEXITY_LIMIT_EXCEEDED", "%s", m.Payload)
		s.alive(t)
	})
	add("subscribe-id-not-a-string", func(t *testing.T, e *robustEnv, s *wsSession) {
		if s.init(t, e) {
			s.sendText(fmt.Sprintf(`{"type":%q,"id":5,"payload":{"query":"{ __typename }"}}`, s.proto.subscribe))
			refused(t, s)
		}
	})
	for _, id := range []struct{ name, id string }{
		{"empty", ""}, {"quotes-and-markup", "\"<a>&</a>\"\n\t☃"}, {"100KiB", strings.Repeat("i", 100<<10)},
	} {
		add("subscribe-id-"+id.name, func(t *testing.T, e *robustEnv, s *wsSession) {
			if !s.init(t, e) {
				return
			}
			s.subscribe(id.id, "{ __typename }", nil)
			m := s.until(t, "the answer", func(m wsMsg) bool { return m.Type == s.proto.data || m.Type == "error" })
			require.Equal(t, id.id, m.ID)
			s.alive(t)
		})
	}
	add("subscribe-reusing-a-live-id", func(t *testing.T, e *robustEnv, s *wsSession) {
		if !s.init(t, e) {
			return
		}
		s.subscribe("dup", statusSubscriptionQuery, nil)
		s.subscribe("other", "{ __typename }", nil) // answered after dup is live
		s.until(t, "the query's answer", func(m wsMsg) bool { return m.ID == "other" && m.Type == s.proto.data })
		s.subscribe("dup", statusSubscriptionQuery, nil)
		require.Equal(t, websocket.StatusCode(4409), s.expectClose())
	})
	add("101-subscriptions", func(t *testing.T, e *robustEnv, s *wsSession) {
		if !s.init(t, e) {
			return
		}
		for i := range 100 {
			s.subscribe(fmt.Sprint("s", i), statusSubscriptionQuery, nil)
		}
		s.subscribe("s100", statusSubscriptionQuery, nil)
		m := s.until(t, "the refusal of the 101st", func(m wsMsg) bool { return m.Type == "error" })
		require.Equal(t, "s100", m.ID, "%s", m.Payload)
		require.Contains(t, graphQLCodes(t, m.Payload), "TOO_MANY_SUBSCRIPTIONS", "%s", m.Payload)
		// One ends: there is room for one again.
		s.send(s.proto.stop, "s0", nil)
		s.subscribe("s100", statusSubscriptionQuery, nil)
		s.send(s.proto.stop, "s1", nil)
		s.alive(t)
		s.close()
	})
	add("subscribe-churn", func(t *testing.T, e *robustEnv, s *wsSession) {
		if !s.init(t, e) {
			return
		}
		for i := range 300 {
			id := fmt.Sprint("c", i)
			s.subscribe(id, statusSubscriptionQuery, nil)
			s.send(s.proto.stop, id, nil)
		}
		s.alive(t)
	})
	add("subscriptions-then-vanish", func(t *testing.T, e *robustEnv, s *wsSession) {
		if !s.init(t, e) {
			return
		}
		for i := range 20 {
			s.subscribe(fmt.Sprint("v", i), statusSubscriptionQuery, nil)
		}
		s.alive(t)
		s.c.CloseNow() // no close frame: the server finds out by reading
	})
	add("unknown-type-before-init", func(t *testing.T, e *robustEnv, s *wsSession) { s.send("bogus", "", nil); refused(t, s) })
	add("unknown-type-after-init", func(t *testing.T, e *robustEnv, s *wsSession) {
		if s.init(t, e) {
			s.send("bogus", "1", map[string]any{"x": 1})
			refused(t, s)
		}
	})
	add("no-type", func(t *testing.T, e *robustEnv, s *wsSession) {
		if s.init(t, e) {
			s.sendText(`{"id":"1","payload":{}}`)
			refused(t, s)
		}
	})
	add("server-message-types-from-client", func(t *testing.T, e *robustEnv, s *wsSession) {
		if s.init(t, e) {
			s.send("connection_ack", "", nil)
			refused(t, s)
		}
	})
	add("huge-message-before-init", func(t *testing.T, e *robustEnv, s *wsSession) {
		s.sendText(`{"type":"connection_init","payload":{"x":"` + strings.Repeat("x", 2<<20) + `"}}`)
		require.Equal(t, websocket.StatusMessageTooBig, s.expectClose())
	})
	add("huge-message-after-init", func(t *testing.T, e *robustEnv, s *wsSession) {
		if s.init(t, e) {
			s.subscribe("big", "{ __typename "+strings.Repeat(" ", 2<<20)+"}", nil)
			require.Equal(t, websocket.StatusMessageTooBig, s.expectClose())
		}
	})
	add("message-just-under-the-limit", func(t *testing.T, e *robustEnv, s *wsSession) {
		if s.init(t, e) {
			s.subscribe("big", "{ __typename "+strings.Repeat(" ", 1000<<10)+"}", nil)
			s.until(t, "the answer", func(m wsMsg) bool { return m.ID == "big" && m.Type == s.proto.data })
		}
	})
	add("stop-unknown-id", func(t *testing.T, e *robustEnv, s *wsSession) {
		if s.init(t, e) {
			s.send(s.proto.stop, "never-started", nil)
			s.send(s.proto.stop, "", nil)
			s.alive(t)
		}
	})
	add("trailing-garbage-after-message", func(t *testing.T, e *robustEnv, s *wsSession) {
		s.sendText(`{"type":"connection_init","payload":{"authorization":"Bearer ` + e.token + `"}} trailing`)
		if m, ok := s.read(robustTimeout); ok && m.Type == "connection_ack" {
			require.True(t, e.authed(), "acknowledged without a token")
		}
	})
	add("websocket-ping-flood", func(t *testing.T, e *robustEnv, s *wsSession) {
		if !s.init(t, e) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), robustTimeout)
		defer cancel()
		go func() { // pongs are read by a reader
			for {
				if _, _, err := s.c.Read(ctx); err != nil {
					return
				}
			}
		}()
		for range 50 {
			require.NoError(t, s.c.Ping(ctx))
		}
	})
	cases = append(cases, wsCase("graphql-transport-ws-ping-with-payload", func(t *testing.T, e *robustEnv, s *wsSession) {
		if s.proto.name != "graphql-transport-ws" || !s.init(t, e) {
			return
		}
		s.send("ping", "", map[string]any{"x": strings.Repeat("p", 10000)})
		s.until(t, "pong", func(m wsMsg) bool { return m.Type == "pong" })
		s.send("pong", "", "unsolicited")
		s.alive(t)
	})[0])
	cases = append(cases, wsCase("legacy-connection-terminate", func(t *testing.T, e *robustEnv, s *wsSession) {
		if s.proto.name != "graphql-ws" || !s.init(t, e) {
			return
		}
		s.send("connection_terminate", "", nil)
		refused(t, s)
	})[1])

	cases = append(cases,
		robustCase{name: "ws/no-subprotocol", run: func(t *testing.T, e *robustEnv) {
			s := e.wsDial(t, "", nil)
			if s.init(t, e) {
				s.alive(t)
			}
		}},
		robustCase{name: "ws/unknown-subprotocol", run: func(t *testing.T, e *robustEnv) {
			s := e.wsDial(t, "graphql-evil", nil)
			if s.init(t, e) {
				s.alive(t)
			}
		}},
		robustCase{name: "ws/sse-accept-header", run: func(t *testing.T, e *robustEnv) {
			// A WebSocket handshake passes the HTTP guard without a token;
			// asking for an event stream too must not get one.
			s := e.wsDial(t, "graphql-transport-ws", http.Header{"Accept": {"text/event-stream"}})
			if s.init(t, e) {
				s.alive(t)
			}
		}},
		httpCase("ws/handshake-huge-protocol-list", wsHandshake("Sec-WebSocket-Protocol: "+strings.Repeat("graphql-evil, ", 5000)+"graphql-ws"), hwant{status: http.StatusSwitchingProtocols, anon: http.StatusSwitchingProtocols}),
		httpCase("ws/handshake-extensions", wsHandshake("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=99; server_no_context_takeover=garbage"), hwant{anon: anyStatus}),
	)
	// Handshakes coder/websocket refuses: its answer and gqlgen's, glued.
	// The first two are handshakes in form, which the HTTP guard lets
	// through without a token.
	cases = append(cases, known("", false,
		httpCase("ws/handshake-foreign-origin", wsHandshake("Origin: http://evil.example"), hwant{status: http.StatusForbidden, anon: http.StatusForbidden}),
		httpCase("ws/handshake-bad-key", wsHandshake("Sec-WebSocket-Key: short"), hwant{status: http.StatusBadRequest, anon: http.StatusBadRequest}),
	)...)
	cases = append(cases, known("", true,
		httpCase("ws/handshake-no-key", hreq{method: "GET", target: "/query", header: []string{"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13"}}, hwant{status: http.StatusBadRequest}),
		httpCase("ws/handshake-version-8", hreq{method: "GET", target: "/query", header: []string{"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 8", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="}}, hwant{}),
		httpCase("ws/handshake-no-connection-upgrade", hreq{method: "GET", target: "/query", header: []string{"Upgrade: websocket", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="}}, hwant{}),
		httpCase("ws/handshake-upgrade-h2c", hreq{method: "GET", target: "/query?query=%7B__typename%7D", header: []string{"Upgrade: h2c", "Connection: Upgrade"}}, hwant{}),
	)...)

	// Frames no client library would write.
	overLimit := bytes.Repeat([]byte(" "), 1<<20+1)
	for _, p := range robustWSProtocols {
		for _, f := range []struct {
			name  string
			write func(w *rawWS)
		}{
			{"unmasked-frame", func(w *rawWS) { w.frame(true, 0, 0x1, []byte(`{"type":"ping"}`), false, -1) }},
			{"reserved-opcode", func(w *rawWS) { w.frame(true, 0, 0x3, []byte("x"), true, -1) }},
			{"rsv-bits", func(w *rawWS) { w.frame(true, 7, 0x1, []byte(`{"type":"ping"}`), true, -1) }},
			{"long-control-frame", func(w *rawWS) { w.frame(true, 0, 0x9, bytes.Repeat([]byte("p"), 126), true, -1) }},
			{"fragmented-control-frame", func(w *rawWS) { w.frame(false, 0, 0x9, []byte("p"), true, -1) }},
			{"continuation-without-start", func(w *rawWS) { w.frame(true, 0, 0x0, []byte("x"), true, -1) }},
			{"new-message-inside-fragmented-one", func(w *rawWS) {
				w.frame(false, 0, 0x1, []byte(`{"type":`), true, -1)
				w.frame(true, 0, 0x1, []byte(`"ping"}`), true, -1)
			}},
			// The payload follows, up to the limit and a byte past it.
			{"declared-length-2^63", func(w *rawWS) { w.frame(true, 0, 0x1, overLimit, true, 1<<63-1) }},
			{"declared-length-over-limit", func(w *rawWS) { w.frame(true, 0, 0x1, overLimit, true, 4<<20) }},
			{"fragments-over-limit", func(w *rawWS) {
				w.frame(false, 0, 0x1, bytes.Repeat([]byte(" "), 600<<10), true, -1)
				w.frame(true, 0, 0x0, bytes.Repeat([]byte(" "), 600<<10), true, -1)
			}},
			{"invalid-utf8-text", func(w *rawWS) { w.frame(true, 0, 0x1, []byte("{\"type\":\"\xff\xfe\"}"), true, -1) }},
			{"close-code-0", func(w *rawWS) { w.frame(true, 0, 0x8, []byte{0, 0}, true, -1) }},
			{"close-code-1004", func(w *rawWS) { w.frame(true, 0, 0x8, []byte{0x03, 0xec}, true, -1) }},
			{"close-one-byte", func(w *rawWS) { w.frame(true, 0, 0x8, []byte{3}, true, -1) }},
			{"close-invalid-utf8-reason", func(w *rawWS) { w.frame(true, 0, 0x8, []byte{0x03, 0xe8, 0xff, 0xfe}, true, -1) }},
			{"half-a-frame-header", func(w *rawWS) {
				_, _ = w.conn.Write([]byte{0x81})
				w.conn.(interface{ CloseWrite() error }).CloseWrite()
			}},
		} {
			for _, after := range []bool{false, true} {
				when := "before-init"
				if after {
					when = "after-init"
				}
				cases = append(cases, robustCase{name: "ws/" + p.name + "/frame-" + f.name + "-" + when, run: func(t *testing.T, e *robustEnv) {
					w := e.rawWSDial(t, p.name)
					if after {
						w.rawInit(t, e)
					}
					// Written while the server's answer is read: a server that
					// stops reading mid-frame must not hold the writer.
					done := make(chan struct{})
					go func() { defer close(done); f.write(w) }()
					w.expectEnd(t)
					w.conn.Close()
					<-done
				}})
			}
		}
	}
	return cases
}

// wsHandshake is a WebSocket handshake to /query with more header lines.
func wsHandshake(more ...string) hreq {
	h := map[string]string{
		"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
		"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": "graphql-transport-ws",
	}
	for _, m := range more {
		name, value, _ := strings.Cut(m, ": ")
		h[name] = value
	}
	r := hreq{method: "GET", target: "/query"}
	for _, name := range []string{"Upgrade", "Connection", "Sec-WebSocket-Version", "Sec-WebSocket-Key", "Sec-WebSocket-Protocol", "Origin", "Sec-WebSocket-Extensions"} {
		if v, ok := h[name]; ok {
			r.header = append(r.header, name+": "+v)
		}
	}
	return r
}

// restCases are hostile requests to the REST layer.
func restCases() []robustCase {
	var cases []robustCase
	notFound := hwant{status: http.StatusNotFound}
	// Ids that name nothing.
	badIDs := []struct{ name, id string }{
		{"letters", "abc"}, {"overflow", "99999999999999999999"}, {"negative", "-1"}, {"zero", "0"},
		{"float", "1.5"}, {"exponent", "1e3"}, {"hex", "0x1F"}, {"nul", "%00"}, {"space", "%201"},
		{"plus", "+1"}, {"arabic-digit", "%D9%A1"}, {"encoded-slash", "1%2F2"}, {"invalid-utf8", "%FF"},
		{"long", strings.Repeat("9", 10000)}, {"unknown", "99999999"},
	}
	for _, id := range badIDs {
		for _, path := range []string{"/clients/%s/", "/mailings/%s/", "/mailings/%s/detail_statistics/"} {
			name := strings.ReplaceAll(strings.Trim(fmt.Sprintf(path, "id"), "/"), "/", "-")
			cases = append(cases, httpCase("rest/"+name+"/"+id.name, hreq{method: "GET", target: fmt.Sprintf(path, id.id)}, notFound))
		}
	}
	for _, id := range badIDs[:6] {
		cases = append(cases,
			httpCase("rest/pause-mailing/"+id.name, hreq{method: "POST", target: "/mailings/" + id.id + "/pause/"}, notFound),
			httpCase("rest/delete-client/"+id.name, hreq{method: "DELETE", target: "/clients/" + id.id + "/"}, notFound),
			httpCase("rest/patch-client/"+id.name, hreq{method: "PATCH", target: "/clients/" + id.id + "/", header: []string{"Content-Type: application/json"}, body: []byte(`{"tag":"x"}`)}, hwant{}),
		)
	}

	// Query parameters of the wrong shape.
	for _, q := range []struct {
		name, target string
		status       int
	}{
		{"page-negative", "/clients/?page=-1", http.StatusNotFound},
		{"page-zero", "/clients/?page=0", http.StatusNotFound},
		{"page-letters", "/clients/?page=abc", http.StatusNotFound},
		{"page-overflow", "/clients/?page=99999999999999999999", http.StatusNotFound},
		{"page-huge", "/clients/?page=9223372036854775807", http.StatusNotFound},
		{"page-float", "/mailings/?page=1.5", http.StatusNotFound},
		{"page-size-huge", "/clients/?page_size=99999999999999999999", http.StatusOK},
		{"page-size-max-int", "/clients/?page_size=9223372036854775807&page=2", 0},
		{"page-size-negative", "/clients/?page_size=-5", http.StatusOK},
		{"page-size-letters", "/mailings/?page_size=lots", http.StatusOK},
		{"page-last-size-zero", "/clients/?page=last&page_size=0", http.StatusOK},
		{"page-repeated", "/clients/?page=1&page=abc", http.StatusOK},
		{"tag-100KiB", "/clients/?tag=" + strings.Repeat("t", 100<<10), http.StatusOK},
		{"tag-sql", "/clients/?tag=%27%20OR%201%3D1%20--", http.StatusOK},
		{"tag-array-syntax", "/clients/?tag[]=x&tag[$ne]=y", http.StatusOK},
		{"operator-code-letters", "/clients/?operator_code=abc", http.StatusOK},
		{"bad-percent-encoding", "/clients/?tag=%ZZ", 0},
		{"semicolons", "/clients/?tag=a;page=2", 0},
		{"status-bogus", "/mailings/?status=bogus", http.StatusBadRequest},
		{"status-nul", "/mailings/?status=%00", http.StatusBadRequest},
		{"status-lower-case", "/mailings/?status=running", 0},
		{"statistics-limit-negative", "/mailings/general_statistics/?limit=-1", 0},
		{"statistics-limit-letters", "/mailings/general_statistics/?limit=abc", 0},
		{"statistics-limit-overflow", "/mailings/general_statistics/?limit=99999999999999999999", 0},
		{"statistics-limit-huge", "/mailings/general_statistics/?limit=2147483647", 0},
		{"detail-statistics-status-bogus", "/mailings/{mailing}/detail_statistics/?status=nope", http.StatusBadRequest},
		{"detail-statistics-page-negative", "/mailings/{mailing}/detail_statistics/?page=-3", 0},
		{"report-date-garbage", "/reports/daily/?date=garbage", http.StatusBadRequest},
		{"report-date-impossible", "/reports/daily/?date=2026-02-30", http.StatusBadRequest},
		{"report-date-year-99999", "/reports/daily/?date=99999-01-01", http.StatusBadRequest},
		{"report-date-zero", "/reports/daily/?date=0000-00-00", http.StatusBadRequest},
		{"report-date-year-0", "/reports/daily/?date=0000-01-01", 0},
		{"report-date-year-9999", "/reports/daily/?date=9999-12-31", 0},
		{"report-date-nul", "/reports/daily/?date=2026-01-01%00", http.StatusBadRequest},
	} {
		cases = append(cases, httpCase("rest/query/"+q.name, hreq{method: "GET", target: q.target}, hwant{status: q.status}))
	}
	// Text no database can compare is a 400 on its field, on both (Postgres
	// would refuse it with an error).
	for _, q := range []struct{ name, target, field string }{
		{"tag-nul", "/clients/?tag=%00", "tag"}, {"tag-invalid-utf8", "/clients/?tag=%FF%FE", "tag"},
		{"operator-code-nul", "/clients/?operator_code=9%0000", "operator_code"}, {"operator-code-invalid-utf8", "/clients/?operator_code=%C3%28", "operator_code"},
	} {
		cases = append(cases, httpCase("rest/query/"+q.name, hreq{method: "GET", target: q.target}, hwant{status: http.StatusBadRequest, field: q.field}))
	}

	// Methods the paths do not take.
	for _, m := range []struct{ method, target string }{
		{"DELETE", "/clients/"}, {"PUT", "/clients/"}, {"PATCH", "/mailings/"}, {"POST", "/mailings/general_statistics/"},
		{"DELETE", "/reports/daily/"}, {"POST", "/clients/{client}/"}, {"GET", "/mailings/{mailing}/pause/"},
		{"PUT", "/mailings/{mailing}/cancel/"}, {"TRACE", "/clients/"}, {"BREW", "/mailings/"}, {"CONNECT", "/clients/"},
		{"GET", "/clients/bulk/"},
	} {
		cases = append(cases, httpCase(fmt.Sprintf("rest/method/%s-%s", m.method, strings.ReplaceAll(strings.Trim(m.target, "/"), "/", "-")),
			hreq{method: m.method, target: m.target}, hwant{status: http.StatusMethodNotAllowed}))
	}
	cases = append(cases, httpCase("rest/method/OPTIONS-clients", hreq{method: "OPTIONS", target: "/clients/"}, hwant{anon: anyStatus}))
	cases = append(cases, httpCase("rest/method/HEAD-clients", hreq{method: "HEAD", target: "/clients/"}, hwant{}))

	// Bodies that are not JSON: 415.
	for _, b := range []struct{ name, method, target, contentType, body string }{
		{"text-plain", "POST", "/clients/", "text/plain", `{"phone":"79001234567"}`},
		{"form", "POST", "/clients/", "application/x-www-form-urlencoded", "phone=79001234567"},
		{"multipart", "POST", "/mailings/", "multipart/form-data; boundary=x", "--x\r\n\r\n--x--"},
		{"no-content-type", "POST", "/clients/", "", `{"phone":"79001234567"}`},
		{"json-lookalike", "POST", "/clients/", "application/jsonx", `{"phone":"79001234567"}`},
		{"xml", "PATCH", "/mailings/{mailing}/", "application/xml", "<text>x</text>"},
		{"text-put", "PUT", "/clients/{client}/", "text/plain", "phone"},
		{"csv-bulk", "POST", "/clients/bulk/", "text/csv", "phone\n79001234567\n"},
		{"malformed-content-type", "POST", "/clients/", "application/json/../x;;=", `{}`},
	} {
		r := hreq{method: b.method, target: b.target, body: []byte(b.body)}
		if b.contentType != "" {
			r.header = []string{"Content-Type: " + b.contentType}
		}
		cases = append(cases, httpCase("rest/body/"+b.name, r, hwant{status: http.StatusUnsupportedMediaType}))
	}

	// JSON of the wrong types: 400 naming the field.
	jsonReq := func(method, target, body string) hreq {
		return hreq{method: method, target: target, header: []string{"Content-Type: application/json"}, body: []byte(body)}
	}
	for _, f := range []struct{ name, method, target, body, field string }{
		{"client-phone-bool", "POST", "/clients/", `{"phone":true}`, "phone"},
		{"client-phone-object", "POST", "/clients/", `{"phone":{"n":1}}`, "phone"},
		{"client-tag-number", "POST", "/clients/", `{"phone":"79001234567","tag":5}`, "tag"},
		{"client-timezone-array", "POST", "/clients/", `{"phone":"79001234567","timezone":[]}`, "timezone"},
		{"client-operator-code-object", "PUT", "/clients/{client}/", `{"phone":"79001234567","operator_code":{}}`, "operator_code"},
		{"client-tag-null", "PATCH", "/clients/{client}/", `{"tag":null}`, "tag"},
		{"client-unknown-field", "PATCH", "/clients/{client}/", `{"is_admin":true}`, "is_admin"},
		{"mailing-start-number", "POST", "/mailings/", `{"start_at":5,"end_at":"2030-01-01T00:00:00Z","text":"x"}`, "start_at"},
		{"mailing-end-bool", "PUT", "/mailings/{mailing}/", `{"start_at":"2030-01-01T00:00:00Z","end_at":false,"text":"x"}`, "end_at"},
		{"mailing-text-array", "POST", "/mailings/", `{"start_at":"2030-01-01T00:00:00Z","end_at":"2031-01-01T00:00:00Z","text":["x"]}`, "text"},
		{"mailing-filter-string", "PATCH", "/mailings/{mailing}/", `{"filter":"vip"}`, "filter"},
		{"mailing-filter-tags-string", "PATCH", "/mailings/{mailing}/", `{"filter":{"tags":"vip"}}`, "tags"},
		{"mailing-filter-codes-numbers", "PATCH", "/mailings/{mailing}/", `{"filter":{"operator_codes":[900, 901]}}`, "operator_codes"},
		{"mailing-window-number", "PATCH", "/mailings/{mailing}/", `{"send_window":9}`, "send_window"},
		{"mailing-window-from-number", "PATCH", "/mailings/{mailing}/", `{"send_window":{"from":9,"to":"21:00"}}`, "from"},
		{"bulk-item-number", "POST", "/clients/bulk/", `[5]`, "non_field_errors"},
		{"bulk-object", "POST", "/clients/bulk/", `{"phone":"79001234567"}`, "non_field_errors"},
		{"body-array", "POST", "/clients/", `[]`, "non_field_errors"},
		{"body-string", "PATCH", "/mailings/{mailing}/", `"x"`, "non_field_errors"},
		{"body-null", "POST", "/clients/", `null`, "non_field_errors"},
		{"body-number", "POST", "/mailings/", `42`, "non_field_errors"},
	} {
		cases = append(cases, httpCase("rest/json-type/"+f.name, jsonReq(f.method, f.target, f.body), hwant{field: f.field}))
	}

	// Bodies that are broken JSON, or hostile: 400.
	for _, b := range []struct{ name, body string }{
		{"open-brace", "{"}, {"trailing-garbage", `{"phone":"79001234567"} x`}, {"single-quotes", `{'phone':'1'}`},
		{"invalid-utf8", "{\"phone\":\"7900\xff\"}"}, {"raw-nul", "{\"phone\":\"7900\x00\"}"},
		{"nested-100000-deep", strings.Repeat("[", 100000) + strings.Repeat("]", 100000)},
		{"byte-order-mark", "\xef\xbb\xbf{}"}, {"huge-number", `{"phone":1e999999}`},
		{"duplicate-keys", `{"phone":"79001234567","phone":5}`},
	} {
		cases = append(cases, httpCase("rest/bad-json/"+b.name, jsonReq("POST", "/clients/", b.body), hwant{status: http.StatusBadRequest}))
	}
	bigBody := jsonReq("POST", "/clients/", `{"phone":"`+strings.Repeat("7", 1536<<10)+`"}`)
	bigChunked := bigBody
	bigChunked.chunked = true
	bigBulk := jsonReq("POST", "/clients/bulk/", "["+strings.Repeat(`{"phone":"79001234567","tag":"`+strings.Repeat("t", 100)+`"},`, 120000)+"{}]")
	chunkedOK := jsonReq("PATCH", "/clients/{client}/", `{"tag":"robust"}`)
	chunkedOK.chunked = true
	chunkedText := hreq{method: "POST", target: "/clients/", header: []string{"Content-Type: text/plain"}, body: []byte("x"), chunked: true}
	cases = append(cases,
		httpCase("rest/body-1.5MiB", bigBody, hwant{}),
		httpCase("rest/body-1.5MiB-chunked", bigChunked, hwant{}),
		httpCase("rest/bulk-body-over-10MiB", bigBulk, hwant{}),
		httpCase("rest/bulk-10001-clients", jsonReq("POST", "/clients/bulk/", "["+strings.Repeat(`{"phone":"x"},`, 10000)+`{"phone":"x"}]`), hwant{status: http.StatusBadRequest}),
		httpCase("rest/chunked-json", chunkedOK, hwant{status: http.StatusOK}),
		httpCase("rest/chunked-text-plain", chunkedText, hwant{status: http.StatusUnsupportedMediaType}),
		httpCase("rest/content-length-lies-big", hreq{method: "POST", target: "/clients/", header: []string{"Content-Type: application/json", "Content-Length: 99999999999"}}, hwant{}),
		httpCase("rest/mailing-text-huge", jsonReq("POST", "/mailings/", `{"start_at":"2030-01-01T00:00:00Z","end_at":"2031-01-01T00:00:00Z","text":"`+strings.Repeat("x", 900<<10)+`"}`), hwant{status: http.StatusBadRequest}),
		httpCase("rest/mailing-times-reversed", jsonReq("POST", "/mailings/", `{"start_at":"2031-01-01T00:00:00Z","end_at":"2030-01-01T00:00:00Z","text":"x"}`), hwant{status: http.StatusBadRequest}),
		httpCase("rest/mailing-year-0", jsonReq("POST", "/mailings/", `{"start_at":"0000-01-01T00:00:00Z","end_at":"9999-12-31T23:59:59+14:00","text":"x","filter":{"tags":["nobody"]}}`), hwant{}),
		httpCase("rest/mailing-window-garbage", jsonReq("PATCH", "/mailings/{mailing}/", `{"send_window":{"from":"25:99","to":"\u0000"}}`), hwant{status: http.StatusBadRequest}),
		httpCase("rest/client-timezone-traversal", jsonReq("POST", "/clients/", `{"phone":"79990000002","timezone":"../../../../etc/passwd"}`), hwant{status: http.StatusBadRequest}),
		httpCase("rest/client-timezone-local", jsonReq("POST", "/clients/", `{"phone":"79990000003","timezone":"Local"}`), hwant{}),
		httpCase("rest/client-phone-overflow", jsonReq("POST", "/clients/", `{"phone":79999999999999999999999999}`), hwant{status: http.StatusBadRequest}),
		httpCase("rest/client-phone-negative", jsonReq("POST", "/clients/", `{"phone":-79001234567}`), hwant{status: http.StatusBadRequest}),
		httpCase("rest/client-tag-nul", jsonReq("POST", "/clients/", `{"phone":"79990000013","tag":"a\u0000b"}`), hwant{}),
		httpCase("rest/mailing-text-nul", jsonReq("POST", "/mailings/", `{"start_at":"2035-01-01T00:00:00Z","end_at":"2036-01-01T00:00:00Z","text":"\u0000","filter":{"tags":["\u0000"]}}`), hwant{}),
		httpCase("rest/get-with-body", hreq{method: "GET", target: "/clients/", header: []string{"Content-Type: text/plain"}, body: []byte("garbage")}, hwant{status: http.StatusOK}),
		httpCase("rest/delete-with-body", hreq{method: "DELETE", target: "/clients/99999999/", header: []string{"Content-Type: text/plain"}, body: []byte("garbage")}, notFound),
	)
	return cases
}

// routeCases are hostile requests to the other routes: path traversal,
// long URLs, garbage headers on River's UI, /metrics and the probes.
func routeCases() []robustCase {
	var cases []robustCase
	secret := "module github.com/notifyhq/notify"
	for _, p := range []struct{ name, target string }{
		{"clients-dot-dot", "/clients/../../../../etc/passwd"},
		{"clients-encoded-slashes", "/clients/..%2f..%2f..%2fetc%2fpasswd"},
		{"clients-encoded-dots", "/clients/%2e%2e/%2e%2e/etc/passwd"},
		{"docs-dot-dot", "/docs/../../go.mod"},
		{"docs-encoded-slashes", "/docs/..%2f..%2fgo.mod"},
		{"docs-encoded-dots", "/docs/%2e%2e/%2e%2e/go.mod"},
		{"docs-double-dots", "/docs/....//....//go.mod"},
		{"docs-backslashes", "/docs/..%5c..%5cgo.mod"},
		{"assets-encoded-slashes", "/assets/..%2f..%2fgo.mod"},
		{"assets-encoded-dots", "/assets/%2e%2e%2f%2e%2e%2fgo.mod"},
		{"assets-overlong-utf8", "/assets/%c0%ae%c0%ae/%c0%ae%c0%ae/go.mod"},
		{"assets-nul", "/assets/graphiql/graphiql.min.css%00.go"},
		{"assets-absolute", "/assets//etc/passwd"},
		{"client-to-riverui", "/clients/1/..%2f..%2friverui%2f"},
		{"query-to-clients", "/query/../clients/"},
		{"riverui-to-clients", "/riverui/..%2f..%2fclients%2f"},
		{"double-slashes", "//clients//"},
		{"dot-segments", "/./clients/./"},
		{"encoded-dot-segment", "/clients/%2e/"},
		{"openapi-dot-dot", "/docs/openapi.json/../../go.mod"},
	} {
		cases = append(cases, httpCase("routes/traversal/"+p.name, hreq{method: "GET", target: p.target},
			hwant{absent: []string{secret, "root:x:0:0"}, anon: anyStatus}))
	}
	for _, u := range []struct {
		name, target string
		w            hwant
	}{
		{"path-8KiB", "/clients/" + strings.Repeat("a", 8<<10) + "/", hwant{status: http.StatusNotFound}},
		{"path-900KiB", "/clients/" + strings.Repeat("a", 900<<10) + "/", hwant{status: http.StatusNotFound}},
		{"path-over-1MiB", "/clients/" + strings.Repeat("a", 1100<<10) + "/", hwant{status: http.StatusRequestHeaderFieldsTooLarge, anon: http.StatusRequestHeaderFieldsTooLarge, raw: true}},
		{"query-900KiB", "/mailings/?status=" + strings.Repeat("a", 900<<10), hwant{status: http.StatusBadRequest}},
		{"many-parameters", "/clients/?" + strings.Repeat("a=1&", 100000), hwant{status: http.StatusOK}},
		{"docs-path-long", "/docs/" + strings.Repeat("d/", 100000), hwant{anon: anyStatus}},
		{"assets-path-long", "/assets/" + strings.Repeat("%2e", 30000), hwant{anon: anyStatus}},
		{"unknown-route-long", "/" + strings.Repeat("x", 500<<10), hwant{status: http.StatusNotFound, anon: http.StatusNotFound}},
	} {
		cases = append(cases, httpCase("routes/long-url/"+u.name, hreq{method: "GET", target: u.target}, u.w))
	}

	// Garbage headers on the admin, metrics and probe routes.
	headers := []struct{ name, header string }{
		{"bearer-huge", "Authorization: Bearer " + strings.Repeat("x", 200<<10)},
		{"bearer-empty", "Authorization: Bearer"},
		{"bearer-spaces", "Authorization: Bearer     "},
		{"bearer-control-chars", "Authorization: Bearer \x01\x02\x7f"}, // net/http: 400

		{"bearer-invalid-utf8", "Authorization: Bearer \xff\xfe" + robustToken},
		{"bearer-token-prefix", "Authorization: Bearer " + robustToken[:len(robustToken)-1]},
		{"bearer-token-twice", "Authorization: Bearer " + robustToken + " " + robustToken},
		{"basic-garbage", "Authorization: Basic !!!not-base64!!!"},
		{"basic-token", "Authorization: Basic " + basic("admin:"+robustToken)},
		{"unknown-scheme", "Authorization: Negotiate " + strings.Repeat("A", 4096)},
		{"cookie-garbage", "Cookie: ;;;===;notify_admin"},
		{"cookie-huge", "Cookie: notify_admin=" + strings.Repeat("c", 200<<10)},
		{"cookie-wrong-token", "Cookie: notify_admin=not-the-token"},
		{"cookie-many", "Cookie: " + strings.Repeat("a=b; ", 20000)},
		{"accept-garbage", "Accept: text/html;q=x;;, */*;level=\"\\"},
		{"accept-encoding-garbage", "Accept-Encoding: gzip;q=9, br;q=-1, *;q=nan"},
		{"request-id-huge", "X-Request-Id: " + strings.Repeat("r", 100<<10)},
		{"request-id-unicode", "X-Request-Id: ☃\xff\xfe"},
		{"range-garbage", "Range: bytes=999999999999-1, -0, x-y"},
		{"if-none-match-garbage", `If-None-Match: "` + strings.Repeat("e", 10000)},
		{"if-modified-since-garbage", "If-Modified-Since: yesterday at noon"},
		{"forwarded-garbage", "X-Forwarded-For: ../../, ::::, " + strings.Repeat("1.", 5000)},
		{"origin-null", "Origin: null"},
		{"content-length-on-get", "Content-Length: 5"},
		{"many-headers", strings.TrimSuffix(strings.Repeat("X-A: b\r\n", 5000), "\r\n")},
	}
	for _, target := range []struct{ name, target string }{
		{"riverui", "/riverui/"}, {"riverui-api", "/riverui/api/jobs?limit=-1&state=nope"}, {"metrics", "/metrics"}, {"readyz", "/readyz"}, {"healthz", "/healthz"},
	} {
		for _, h := range headers {
			r := hreq{method: "GET", target: target.target, header: []string{h.header}}
			w := hwant{}
			if kindOf(target.target) == routeOpen {
				w.status = http.StatusOK
			}
			if strings.HasPrefix(h.header, "Authorization:") || strings.HasPrefix(h.header, "Cookie:") {
				// The header replaces the token: the guarded routes refuse it.
				r.noAuth = true
				if kindOf(target.target) != routeOpen {
					w.status = http.StatusUnauthorized
				}
			}
			switch h.name {
			case "content-length-on-get":
				r.header, r.body = nil, []byte("12345")
			case "bearer-control-chars":
				// A control character in a header: net/http refuses the
				// request before any route.
				w = hwant{status: http.StatusBadRequest, anon: http.StatusBadRequest, raw: true}
			}
			cases = append(cases, httpCase("routes/headers/"+target.name+"/"+h.name, r, w))
		}
	}
	// River's UI: its sign-in form and API, with nonsense.
	signIn := func(body, origin string) hreq {
		r := hreq{method: "POST", target: "/riverui/sign-in", header: []string{"Content-Type: application/x-www-form-urlencoded"}, body: []byte(body), noAuth: true}
		if origin != "" {
			r.header = append(r.header, "Origin: "+origin)
		}
		return r
	}
	cases = append(cases,
		httpCase("routes/riverui/sign-in-no-token", signIn("", ""), hwant{status: http.StatusUnauthorized}),
		httpCase("routes/riverui/sign-in-two-tokens", signIn("token="+robustToken+"&token=x", ""), hwant{status: http.StatusUnauthorized}),
		httpCase("routes/riverui/sign-in-huge-token", signIn("token="+strings.Repeat("t", 500<<10), ""), hwant{status: http.StatusUnauthorized}),
		httpCase("routes/riverui/sign-in-bad-form", signIn("%ZZ=%%%&&&==", ""), hwant{status: http.StatusUnauthorized}),
		httpCase("routes/riverui/sign-in-foreign-origin", signIn("token="+robustToken, "http://evil.example"), hwant{status: http.StatusUnauthorized}),
		httpCase("routes/riverui/sign-in-page-as-html", hreq{method: "GET", target: "/riverui/", header: []string{"Accept: text/html"}, noAuth: true}, hwant{status: http.StatusUnauthorized}),
		httpCase("routes/riverui/api-job-letters", hreq{method: "GET", target: "/riverui/api/jobs/abc"}, hwant{}),
		httpCase("routes/riverui/api-job-overflow", hreq{method: "GET", target: "/riverui/api/jobs/99999999999999999999"}, hwant{}),
		httpCase("routes/riverui/api-job-unknown", hreq{method: "GET", target: "/riverui/api/jobs/999999"}, hwant{}),
		httpCase("routes/riverui/api-jobs-bad-params", hreq{method: "GET", target: "/riverui/api/jobs?limit=abc&state=%00&ids=x,y"}, hwant{}),
	)
	c := known("", true, httpCase("routes/riverui/api-queue-nul", hreq{method: "GET", target: "/riverui/api/queues/%00"}, hwant{}))
	c[0].postgresOnly = true
	cases = append(cases, c...)
	cases = append(cases,
		httpCase("routes/riverui/api-cancel-garbage", hreq{method: "POST", target: "/riverui/api/jobs/cancel", header: []string{"Content-Type: application/json"}, body: []byte(`{"job_ids":"all"}`)}, hwant{}),
		httpCase("routes/riverui/api-delete-garbage", hreq{method: "POST", target: "/riverui/api/jobs/delete", header: []string{"Content-Type: application/json"}, body: []byte(`{`)}, hwant{}),
		httpCase("routes/riverui/api-retry-huge-ids", hreq{method: "POST", target: "/riverui/api/jobs/retry", header: []string{"Content-Type: application/json"}, body: []byte(`{"job_ids":[` + strings.Repeat("99999999999999999999,", 1000) + `1]}`)}, hwant{}),
		httpCase("routes/riverui/api-pause-unknown-queue", hreq{method: "PUT", target: "/riverui/api/queues/" + strings.Repeat("q", 5000) + "/pause"}, hwant{}),
	)
	cases = append(cases, known("", true,
		httpCase("routes/riverui/api-workflow-invalid-utf8", hreq{method: "GET", target: "/riverui/api/workflows/%FF%FE"}, hwant{}),
	)...)
	cases = append(cases,
		httpCase("routes/riverui/api-workflow-letters", hreq{method: "GET", target: "/riverui/api/workflows/abc"}, hwant{}),
		httpCase("routes/metrics/post", hreq{method: "POST", target: "/metrics", header: []string{"Content-Type: text/plain"}, body: []byte("x")}, hwant{status: http.StatusMethodNotAllowed}),
		httpCase("routes/metrics/openmetrics-garbage", hreq{method: "GET", target: "/metrics", header: []string{"Accept: application/openmetrics-text; version=99.0; escaping=nonsense"}}, hwant{status: http.StatusOK}),
		httpCase("routes/readyz/post", hreq{method: "POST", target: "/readyz"}, hwant{status: http.StatusMethodNotAllowed}),
		httpCase("routes/readyz/head", hreq{method: "HEAD", target: "/readyz"}, hwant{status: http.StatusOK}),
		httpCase("routes/ide/query-string-garbage", hreq{method: "GET", target: "/?%ZZ=%00&query=" + strings.Repeat("q", 10000)}, hwant{status: http.StatusOK}),
		httpCase("routes/docs/openapi-post", hreq{method: "POST", target: "/docs/openapi.json"}, hwant{status: http.StatusMethodNotAllowed}),
	)
	return cases
}

// rawHTTPCases are requests the server must parse before any route: what
// net/http answers itself.
func rawHTTPCases() []robustCase {
	raw := hwant{raw: true, anon: anyStatus}
	version := hwant{raw: true, status: http.StatusHTTPVersionNotSupported, anon: http.StatusHTTPVersionNotSupported}
	coding := hwant{raw: true, status: http.StatusNotImplemented, anon: http.StatusNotImplemented}
	host := "Host: x"
	cases := []robustCase{}
	for _, h := range []struct {
		name, head, body string
		w                hwant
	}{
		{"garbage", "GARBAGE", "", raw},
		{"no-version", "GET /query", "", raw},
		// 505 is net/http's answer to another HTTP version, before any
		// handler: with 501 below, the only 5xx the suite takes, as HTTP
		// says.
		{"http-0.9", "GET /healthz HTTP/0.9\r\n" + host, "", version},
		{"http-2-request-line", "GET /healthz HTTP/2.0\r\n" + host, "", version},
		{"http-version-garbage", "GET /healthz HTTP/9.Z\r\n" + host, "", raw},
		{"header-without-colon", "GET /healthz HTTP/1.1\r\n" + host + "\r\nNoColonHere", "", raw},
		{"header-name-with-space", "GET /healthz HTTP/1.1\r\n" + host + "\r\nBad Name: x", "", raw},
		{"header-nul", "GET /healthz HTTP/1.1\r\n" + host + "\r\nX-A: a\x00b", "", raw},
		{"obs-fold", "GET /healthz HTTP/1.1\r\n" + host + "\r\nX-A: a\r\n  folded", "", raw},
		{"no-host", "GET /healthz HTTP/1.1", "", raw},
		{"two-hosts", "GET /healthz HTTP/1.1\r\n" + host + "\r\nHost: y", "", raw},
		{"host-garbage", "GET /healthz HTTP/1.1\r\nHost: a b@c:99999", "", raw},
		{"absolute-form", "GET http://evil.example/healthz HTTP/1.1\r\n" + host, "", raw},
		{"asterisk-form", "OPTIONS * HTTP/1.1\r\n" + host, "", raw},
		{"connect-form", "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443", "", raw},
		{"conflicting-content-lengths", "POST /query HTTP/1.1\r\n" + host + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3", "{}x", raw},
		{"content-length-and-chunked", "POST /query HTTP/1.1\r\n" + host + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked", "0\r\n\r\n", raw},
		// 501 is net/http's answer to a transfer coding it does not
		// implement (RFC 9112 §6.1), before any handler.
		{"transfer-encoding-gzip", "POST /query HTTP/1.1\r\n" + host + "\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked", "0\r\n\r\n", coding},
		{"transfer-encoding-garbage", "POST /clients/ HTTP/1.1\r\n" + host + "\r\nContent-Type: application/json\r\nTransfer-Encoding: x", "", coding},
		{"content-length-garbage", "POST /clients/ HTTP/1.1\r\n" + host + "\r\nContent-Type: application/json\r\nContent-Length: 1e3", "", raw},
		{"header-over-1MiB", "GET /healthz HTTP/1.1\r\n" + host + "\r\nX-A: " + strings.Repeat("a", 1100<<10), "", hwant{raw: true, status: http.StatusRequestHeaderFieldsTooLarge, anon: http.StatusRequestHeaderFieldsTooLarge}},
		{"smuggled-request", "POST /healthz HTTP/1.1\r\n" + host + "\r\nContent-Length: 0\r\nTransfer-Encoding: chunked", "0\r\n\r\nGET /riverui/ HTTP/1.1\r\nHost: x\r\n\r\n", raw},
		{"method-lowercase", "get /healthz HTTP/1.1\r\n" + host, "", raw},
		{"method-with-nul", "GE\x00T /healthz HTTP/1.1\r\n" + host, "", raw},
		{"target-with-space", "GET /he althz HTTP/1.1\r\n" + host, "", raw},
		{"target-fragment", "GET /healthz#frag HTTP/1.1\r\n" + host, "", raw},
		{"target-raw-invalid-utf8", "GET /clients/\xff\xfe/ HTTP/1.1\r\n" + host, "", raw},
	} {
		cases = append(cases, httpCase("http/"+h.name, hreq{head: h.head, body: []byte(h.body)}, h.w))
	}
	return cases
}

func basic(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// audienceCases are hostile requests to the routes of the audience and its
// data: the CSV import and exports, opt-outs, the audience preview, webhook
// deliveries and Idempotency-Key.
func audienceCases() []robustCase {
	var cases []robustCase
	csvReq := func(target, body string) hreq {
		return hreq{method: "POST", target: target, header: []string{"Content-Type: text/csv"}, body: []byte(body)}
	}
	jsonReq := func(method, target, body string) hreq {
		return hreq{method: method, target: target, header: []string{"Content-Type: application/json"}, body: []byte(body)}
	}
	bad := hwant{status: http.StatusBadRequest}
	chunkedCSV := csvReq("/clients/import/", "phone\n79990001001\n")
	chunkedCSV.chunked = true
	brokenCSV := hreq{method: "POST", target: "/clients/import/", header: []string{"Content-Type: text/csv", "Transfer-Encoding: chunked"},
		bodyFn: func(w io.Writer) error { _, err := io.WriteString(w, "5\r\nphone\r\nzz\r\n"); return err }}
	cases = append(cases,
		httpCase("audience/import/empty", csvReq("/clients/import/", ""), bad),
		httpCase("audience/import/header-only", csvReq("/clients/import/", "phone\n"), hwant{}),
		httpCase("audience/import/no-phone-column", csvReq("/clients/import/", "tag\nvip\n"), bad),
		httpCase("audience/import/unknown-column", csvReq("/clients/import/", "phone,is_admin\n79990001002,true\n"), bad),
		httpCase("audience/import/bad-phone", csvReq("/clients/import/", "phone\nnot-a-phone\n"), bad),
		httpCase("audience/import/invalid-utf8", csvReq("/clients/import/", "phone,tag\n79990001003,\xff\xfe\n"), bad),
		httpCase("audience/import/nul", csvReq("/clients/import/", "phone,tag\n79990001004,a\x00b\n"), bad),
		httpCase("audience/import/line-64KiB", csvReq("/clients/import/", "phone,tag\n79990001005,"+strings.Repeat("t", 64<<10)+"\n"), bad),
		httpCase("audience/import/unbalanced-quote", csvReq("/clients/import/", "phone,tag\n79990001006,\"vip\n"), bad),
		httpCase("audience/import/bom-crlf", csvReq("/clients/import/", "\xef\xbb\xbfphone,tag\r\n79990001007,\"a,b\"\r\n"), hwant{status: http.StatusCreated}),
		httpCase("audience/import/mode-bogus", csvReq("/clients/import/?mode=merge", "phone\n79990001008\n"), bad),
		httpCase("audience/import/skip-invalid-bogus", csvReq("/clients/import/?skip_invalid=maybe", "phone\n79990001009\n"), bad),
		httpCase("audience/import/json-body", jsonReq("POST", "/clients/import/", `{"phone":"79990001010"}`), hwant{status: http.StatusUnsupportedMediaType}),
		httpCase("audience/import/chunked", chunkedCSV, hwant{status: http.StatusCreated}),
		httpCase("audience/import/chunked-broken", brokenCSV, hwant{}),
		httpCase("audience/import/get-id-letters", hreq{method: "GET", target: "/clients/import/abc/"}, hwant{status: http.StatusNotFound}),
		httpCase("audience/import/get-id-unknown", hreq{method: "GET", target: "/clients/import/99999999/"}, hwant{status: http.StatusNotFound}),
		httpCase("audience/import/get-id-overflow", hreq{method: "GET", target: "/clients/import/99999999999999999999/"}, hwant{status: http.StatusNotFound}),
		httpCase("audience/import/method-PUT", hreq{method: "PUT", target: "/clients/import/"}, hwant{status: http.StatusMethodNotAllowed}),

		httpCase("audience/export/clients", hreq{method: "GET", target: "/clients/export.csv"}, hwant{status: http.StatusOK}),
		httpCase("audience/export/clients-tag-nul", hreq{method: "GET", target: "/clients/export.csv?tag=%00"}, hwant{field: "tag"}),
		httpCase("audience/export/clients-code-invalid-utf8", hreq{method: "GET", target: "/clients/export.csv?operator_code=%C3%28"}, hwant{field: "operator_code"}),
		httpCase("audience/export/clients-method-POST", hreq{method: "POST", target: "/clients/export.csv"}, hwant{status: http.StatusMethodNotAllowed}),
		httpCase("audience/export/messages", hreq{method: "GET", target: "/mailings/{mailing}/messages.csv"}, hwant{status: http.StatusOK}),
		httpCase("audience/export/messages-id-letters", hreq{method: "GET", target: "/mailings/abc/messages.csv"}, hwant{status: http.StatusNotFound}),
		httpCase("audience/export/messages-id-unknown", hreq{method: "GET", target: "/mailings/99999999/messages.csv"}, hwant{status: http.StatusNotFound}),

		httpCase("audience/opt-out/phone-bool", jsonReq("POST", "/opt-outs/", `{"phone":true}`), hwant{field: "phone"}),
		httpCase("audience/opt-out/phone-letters", jsonReq("POST", "/opt-outs/", `{"phone":"call me"}`), hwant{field: "phone"}),
		httpCase("audience/opt-out/phone-missing", jsonReq("POST", "/opt-outs/", `{"reason":"x"}`), hwant{field: "phone"}),
		httpCase("audience/opt-out/reason-number", jsonReq("POST", "/opt-outs/", `{"phone":"79990001011","reason":5}`), hwant{field: "reason"}),
		httpCase("audience/opt-out/reason-100KiB", jsonReq("POST", "/opt-outs/", `{"phone":"79990001012","reason":"`+strings.Repeat("r", 100<<10)+`"}`), hwant{field: "reason"}),
		httpCase("audience/opt-out/body-text", hreq{method: "POST", target: "/opt-outs/", header: []string{"Content-Type: text/plain"}, body: []byte("79990001013")}, hwant{status: http.StatusUnsupportedMediaType}),
		httpCase("audience/opt-out/broken-json", jsonReq("POST", "/opt-outs/", `{"phone":`), bad),
		httpCase("audience/opt-out/delete-unknown", hreq{method: "DELETE", target: "/opt-outs/79990009999/"}, hwant{status: http.StatusNotFound}),
		httpCase("audience/opt-out/delete-letters", hreq{method: "DELETE", target: "/opt-outs/abc/"}, hwant{}),
		httpCase("audience/opt-out/delete-encoded-slash", hreq{method: "DELETE", target: "/opt-outs/7999%2F0001/"}, hwant{}),
		httpCase("audience/opt-out/list-page-letters", hreq{method: "GET", target: "/opt-outs/?page=abc"}, hwant{status: http.StatusNotFound}),
		httpCase("audience/opt-out/list-page-size-huge", hreq{method: "GET", target: "/opt-outs/?page_size=99999999999999999999"}, hwant{status: http.StatusOK}),

		httpCase("audience/preview/filter-string", jsonReq("POST", "/mailings/preview/", `{"filter":"vip"}`), hwant{field: "filter"}),
		httpCase("audience/preview/tags-string", jsonReq("POST", "/mailings/preview/", `{"filter":{"tags":"vip"}}`), hwant{field: "tags"}),
		httpCase("audience/preview/codes-numbers", jsonReq("POST", "/mailings/preview/", `{"filter":{"operator_codes":[900]}}`), hwant{field: "operator_codes"}),
		httpCase("audience/preview/tag-nul", jsonReq("POST", "/mailings/preview/", `{"filter":{"tags":["\u0000"]}}`), hwant{}),
		httpCase("audience/preview/empty", jsonReq("POST", "/mailings/preview/", `{}`), hwant{status: http.StatusOK}),
		httpCase("audience/preview/body-text", hreq{method: "POST", target: "/mailings/preview/", header: []string{"Content-Type: text/plain"}, body: []byte("x")}, hwant{status: http.StatusUnsupportedMediaType}),

		httpCase("audience/webhooks/page-letters", hreq{method: "GET", target: "/webhooks/deliveries/?page=abc"}, hwant{}),
		httpCase("audience/webhooks/page-size-negative", hreq{method: "GET", target: "/webhooks/deliveries/?page_size=-5"}, hwant{}),

		httpCase("audience/idempotency/key-10KiB", hreq{method: "POST", target: "/clients/", header: []string{"Content-Type: application/json", "Idempotency-Key: " + strings.Repeat("k", 10<<10)},
			body: []byte(`{"phone":"79990001014"}`)}, hwant{status: http.StatusBadRequest}),
		httpCase("audience/idempotency/key-control-chars", hreq{method: "POST", target: "/clients/", header: []string{"Content-Type: application/json", "Idempotency-Key: a\x01b"},
			body: []byte(`{"phone":"79990001015"}`)}, hwant{raw: true}),
	)
	return cases
}
