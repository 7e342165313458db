package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/customer"
	"github.com/notifyhq/notify/internal/auth"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/status"
	"github.com/notifyhq/notify/internal/testdb"
)

// CSV bodies are validated by the contract tests as strings.
func init() {
	openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.FileBodyDecoder)
}

// csvOf returns an import file of n clients from phone 79100000000 + first,
// tagged tag.
func csvOf(first, n int, tag string) string {
	var b strings.Builder
	b.WriteString("phone,tag,timezone\n")
	for i := range n {
		fmt.Fprintf(&b, "7%010d,%s,Europe/Moscow\n", 9100000000+first+i, tag)
	}
	return b.String()
}

// clientRows returns every client as [phone, tag, timezone, operator_code], by phone.
func clientRows(t *testing.T, b *testBundle) [][4]string {
	t.Helper()
	cs, err := b.app.db.Ent.Customer.Query().Order(ent.Asc(customer.FieldPhone)).All(context.Background())
	require.NoError(t, err)
	out := make([][4]string, len(cs))
	for i, c := range cs {
		out[i] = [4]string{c.Phone, c.Tag, c.Timezone, c.OperatorCode}
	}
	return out
}

// TestImportREST: POST /clients/import/ answers a small file at once (201,
// or 400 with the lines when nothing was imported), in the document's
// shapes, on both databases.
func TestImportREST(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{noRiver: true})
		c := newRESTClient(t, b)

		res := c.do(t, "POST", "/clients/import/", typedBody{"text/csv", "\xEF\xBB\xBFphone,tag\r\n79000000001,\"a, b\"\r\n79000000002,\"x\ny\"\r\n"})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		var ok struct {
			ImportID int `json:"import_id"`
			Imported int
			Skipped  int
			Errors   []campaign.ImportLineError
		}
		res.decode(t, &ok)
		require.Equal(t, 2, ok.Imported)
		require.Empty(t, ok.Errors)
		require.Equal(t, [][4]string{{"79000000001", "a, b", "UTC", "900"}, {"79000000002", "x\ny", "UTC", "900"}}, clientRows(t, b))

		// Nothing imported: 400 with the lines.
		res = c.do(t, "POST", "/clients/import/", typedBody{"text/csv", "phone\n79000000003\n79000000001\nbad\n"})
		require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
		var refused struct {
			ImportID   int `json:"import_id"`
			ErrorCount int `json:"error_count"`
			Errors     []campaign.ImportLineError
		}
		res.decode(t, &refused)
		require.Equal(t, []campaign.ImportLineError{
			{Line: 3, Field: "phone", Message: "a client with this phone already exists"},
			{Line: 4, Field: "phone", Message: "must be 7 followed by 10 digits, e.g. 79001234567"},
		}, refused.Errors)
		require.Len(t, clientRows(t, b), 2, "nothing half-imported")

		// The same with skip_invalid, in upsert mode.
		res = c.do(t, "POST", "/clients/import/?mode=upsert&skip_invalid=true", typedBody{"text/csv", "phone,tag\n79000000003,new\n79000000001,changed\nbad,x\n"})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		res.decode(t, &ok)
		require.Equal(t, 2, ok.Imported)
		require.Equal(t, 1, ok.Skipped)
		require.Equal(t, []campaign.ImportLineError{{Line: 4, Field: "phone", Message: "must be 7 followed by 10 digits, e.g. 79001234567"}}, ok.Errors)
		require.Equal(t, [][4]string{{"79000000001", "changed", "UTC", "900"}, {"79000000002", "x\ny", "UTC", "900"}, {"79000000003", "new", "UTC", "900"}}, clientRows(t, b))

		// The import can be read back.
		res = c.do(t, "GET", fmt.Sprintf("/clients/import/%d/", ok.ImportID), nil)
		require.Equal(t, http.StatusOK, res.Status)
		require.Equal(t, "finished", res.object(t)["state"])

		// Header and body errors name the header.
		res = c.do(t, "POST", "/clients/import/", typedBody{"text/csv", "phone,nickname\n79000000009,x\n"})
		require.Equal(t, http.StatusBadRequest, res.Status)
		require.Contains(t, string(res.Body), `"line":1,"field":"header","message":"unknown column \"nickname\"`)
		res = c.do(t, "POST", "/clients/import/", typedBody{"text/csv", ""}, invalidRequest)
		require.Equal(t, http.StatusBadRequest, res.Status)
		require.Contains(t, string(res.Body), `"field":"header","message":"the file is empty`)

		// Not CSV, a bad mode.
		res = c.do(t, "POST", "/clients/import/", typedBody{"application/json", `[{"phone":"79000000009"}]`}, invalidRequest)
		require.Equal(t, http.StatusUnsupportedMediaType, res.Status)
		res = c.do(t, "POST", "/clients/import/?mode=merge", typedBody{"text/csv", "phone\n"}, invalidRequest)
		require.Equal(t, http.StatusBadRequest, res.Status)
		require.Contains(t, string(res.Body), `"mode"`)
		res = c.do(t, "GET", "/clients/import/999999/", nil)
		require.Equal(t, http.StatusNotFound, res.Status)
	})
}

// TestImportRESTLargeRunsAsJob: above 10,000 lines the answer is 202 with
// the import's id, and a River job imports the file; GET
// /clients/import/{id}/ shows it finished (or failed, with nothing written).
func TestImportRESTLargeRunsAsJob(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{})
		c := newRESTClient(t, b)
		wait := func(id int) map[string]any {
			var last map[string]any
			waitFor(t, 60*time.Second, "import ended", func() bool {
				res := c.do(t, "GET", fmt.Sprintf("/clients/import/%d/", id), nil)
				last = res.object(t)
				return last["state"] == "finished" || last["state"] == "failed"
			})
			return last
		}
		n := campaign.SyncImportLines + 1
		res := c.do(t, "POST", "/clients/import/", typedBody{"text/csv", csvOf(0, n, "big")})
		require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
		var queued struct {
			ImportID int `json:"import_id"`
		}
		res.decode(t, &queued)
		require.NotZero(t, queued.ImportID)
		require.Equal(t, fmt.Sprintf("/clients/import/%d/", queued.ImportID), res.Header.Get("Location"))
		got := wait(queued.ImportID)
		require.Equal(t, "finished", got["state"], "%v", got)
		require.EqualValues(t, n, got["imported"])
		require.EqualValues(t, n, got["lines"])
		require.Len(t, clientRows(t, b), n)

		// A large file with one bad line: failed, nothing written.
		bad := csvOf(n, n, "big2") + "79123,big2,UTC\n"
		res = c.do(t, "POST", "/clients/import/", typedBody{"text/csv", bad})
		require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
		res.decode(t, &queued)
		got = wait(queued.ImportID)
		require.Equal(t, "failed", got["state"])
		require.Equal(t, []any{map[string]any{"line": float64(n + 2), "field": "phone", "message": "must be 7 followed by 10 digits, e.g. 79001234567"}}, got["errors"])
		require.Len(t, clientRows(t, b), n, "nothing half-imported")
	})
}

// uploadGQL sends importClients over the GraphQL multipart request spec.
func uploadGQL(t *testing.T, b *testBundle, token, file, args string) gqlResponse {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	ops, err := json.Marshal(map[string]any{
		"query":     `mutation($file: Upload!) { importClients(file: $file` + args + `) { id state mode lines imported skipped errorCount errors { line field message } } }`,
		"variables": map[string]any{"file": nil},
	})
	require.NoError(t, err)
	require.NoError(t, mw.WriteField("operations", string(ops)))
	require.NoError(t, mw.WriteField("map", `{"0": ["variables.file"]}`))
	fw, err := mw.CreateFormFile("0", "clients.csv")
	require.NoError(t, err)
	_, err = io.WriteString(fw, file)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, b.server.URL+"/query", &body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	_, raw := opsDo(t, req)
	var out gqlResponse
	require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
	return out
}

type gqlImport struct {
	ID         string
	State      string
	Mode       string
	Lines      int
	Imported   int
	Skipped    int
	ErrorCount int
	Errors     []campaign.ImportLineError
}

// TestImportGraphQL: importClients takes an upload bigger than
// MAX_BODY_BYTES; a small file is finished when it answers, a large one
// queued, followed by clientImportProgress to FINISHED, and read back by
// clientImport.
func TestImportGraphQL(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{env: map[string]string{"MAX_BODY_BYTES": "4096"}})
		var out struct{ ImportClients gqlImport }

		r := uploadGQL(t, b, "", csvOf(0, 500, "small"), "")
		require.Empty(t, r.Errors)
		require.NoError(t, json.Unmarshal(r.Data, &out))
		require.Equal(t, gqlImport{ID: out.ImportClients.ID, State: "FINISHED", Mode: "INSERT", Lines: 500, Imported: 500, Errors: []campaign.ImportLineError{}}, out.ImportClients)

		r = uploadGQL(t, b, "", "phone,tag\n79000000001,x\n79100000000,dup\n", ", mode: INSERT, skipInvalid: false")
		require.Empty(t, r.Errors)
		require.NoError(t, json.Unmarshal(r.Data, &out))
		require.Equal(t, "FAILED", out.ImportClients.State)
		require.Equal(t, []campaign.ImportLineError{{Line: 3, Field: "phone", Message: "a client with this phone already exists"}}, out.ImportClients.Errors)

		n := campaign.SyncImportLines + 500
		r = uploadGQL(t, b, "", csvOf(1000, n, "large"), ", mode: UPSERT")
		require.Empty(t, r.Errors)
		require.NoError(t, json.Unmarshal(r.Data, &out))
		require.Equal(t, "QUEUED", out.ImportClients.State)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := subscribeSSE(t, ctx, b, "import", `subscription($id: ID!) { clientImportProgress(id: $id) { state lines imported } }`, map[string]any{"id": out.ImportClients.ID})
		s.wait(t, 60*time.Second, "the import's progress to complete", func(s *stream) bool { return s.ended })
		require.NoError(t, s.endErr)
		require.NotEmpty(t, s.data)
		var last struct{ ClientImportProgress gqlImport }
		require.NoError(t, json.Unmarshal(s.data[len(s.data)-1], &last))
		require.Equal(t, gqlImport{State: "FINISHED", Lines: n, Imported: n}, last.ClientImportProgress)

		var read struct{ ClientImport *gqlImport }
		b.mustGQL(t, `query($id: ID!) { clientImport(id: $id) { id state mode imported } }`, map[string]any{"id": out.ImportClients.ID}, &read)
		require.Equal(t, &gqlImport{ID: out.ImportClients.ID, State: "FINISHED", Mode: "UPSERT", Imported: n}, read.ClientImport)
		b.mustGQL(t, `query { clientImport(id: 999999) { id } }`, nil, &read)
		require.Nil(t, read.ClientImport)
		require.Len(t, clientRows(t, b), 500+n)
	})
}

// TestImportRoles: importing and reading imports needs an operator;
// exporting a viewer.
func TestImportRoles(t *testing.T) {
	t.Parallel()
	b := setup(t, testdb.SQLite(t), setupOpts{env: map[string]string{"API_TOKENS": roleTokensEnv()}, noRiver: true})
	vera, otto := roleTokens[auth.Viewer], roleTokens[auth.Operator]
	post := func(token string) int {
		status, _ := auditHTTPRaw(t, b, http.MethodPost, "/clients/import/", token, "text/csv", "phone\n79000000001\n")
		return status
	}
	require.Equal(t, http.StatusForbidden, post(vera))
	require.Equal(t, http.StatusCreated, post(otto))
	imp, err := b.app.db.Ent.ClientImport.Query().Only(context.Background())
	require.NoError(t, err)
	status, _ := auditHTTPRaw(t, b, http.MethodGet, fmt.Sprintf("/clients/import/%d/", imp.ID), vera, "", "")
	require.Equal(t, http.StatusForbidden, status)
	status, _ = auditHTTPRaw(t, b, http.MethodGet, fmt.Sprintf("/clients/import/%d/", imp.ID), otto, "", "")
	require.Equal(t, http.StatusOK, status)
	status, body := auditHTTPRaw(t, b, http.MethodGet, "/clients/export.csv", vera, "", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "phone,tag,timezone,operator_code\n79000000001,,UTC,900\n", body)
	status, _ = auditHTTPRaw(t, b, http.MethodGet, "/clients/export.csv", "", "", "")
	require.Equal(t, http.StatusUnauthorized, status)

	r := uploadGQL(t, b, vera, "phone\n79000000002\n", "")
	require.Len(t, r.Errors, 1)
	require.Equal(t, "FORBIDDEN", r.Errors[0].Extensions["code"])
	r = auditGQL(t, b, vera, "", fmt.Sprintf(`{ clientImport(id: %d) { id } }`, imp.ID))
	require.Len(t, r.Errors, 1)
	require.Equal(t, "FORBIDDEN", r.Errors[0].Extensions["code"])
	r = uploadGQL(t, b, otto, "phone\n79000000002\n", "")
	require.Empty(t, r.Errors)

	// Following an import needs an operator too.
	sub, err := json.Marshal(map[string]any{"query": fmt.Sprintf(`subscription { clientImportProgress(id: %d) { state } }`, imp.ID)})
	require.NoError(t, err)
	for token, want := range map[string]string{vera: `"FORBIDDEN"`, otto: `"state":"FINISHED"`} {
		req, err := http.NewRequest(http.MethodPost, b.server.URL+"/query", bytes.NewReader(sub))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body) // the stream completes: the import has ended
		resp.Body.Close()
		require.NoError(t, err)
		require.Contains(t, string(body), want)
	}
}

// auditHTTPRaw sends a request with a token and a raw body of contentType.
func auditHTTPRaw(t *testing.T, b *testBundle, method, path, token, contentType, body string) (int, string) {
	t.Helper()
	resp, out := sendRaw(t, b, method, path, contentType, "", token, body)
	return resp.StatusCode, string(out)
}

// TestExportRoundTrip: GET /clients/export.csv streams the clients (with
// the list's filters) in the import's format; importing it into an empty
// database gives the same clients.
func TestExportRoundTrip(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{noRiver: true})
		c := newRESTClient(t, b)
		// More than a page of the export, awkward values included.
		var file strings.Builder
		file.WriteString("phone,tag,timezone,operator_code\n")
		for i := range 7000 {
			tag := []string{"vip", "a, \"quoted\" tag", "line\nbreak", "", "ünïcödé"}[i%5]
			fmt.Fprintf(&file, "7%010d,%s,%s,%03d\n", 9200000000+i, csvField(tag), []string{"UTC", "Asia/Tokyo"}[i%2], i%1000)
		}
		res := c.do(t, "POST", "/clients/import/", typedBody{"text/csv", file.String()})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		want := clientRows(t, b)
		require.Len(t, want, 7000)

		res = c.do(t, "GET", "/clients/export.csv", nil)
		require.Equal(t, http.StatusOK, res.Status)
		require.Equal(t, "text/csv; charset=utf-8", res.Header.Get("Content-Type"))
		exported := string(res.Body)

		other := setup(t, testdb.SQLite(t), setupOpts{noRiver: true})
		oc := newRESTClient(t, other)
		res = oc.do(t, "POST", "/clients/import/", typedBody{"text/csv", exported})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		require.Equal(t, want, clientRows(t, other))

		// The list's filters.
		res = c.do(t, "GET", "/clients/export.csv?tag=vip&operator_code=005", nil)
		require.Equal(t, http.StatusOK, res.Status)
		require.Equal(t, "phone,tag,timezone,operator_code\n79200000005,vip,Asia/Tokyo,005\n79200001005,vip,Asia/Tokyo,005\n79200002005,vip,Asia/Tokyo,005\n79200003005,vip,Asia/Tokyo,005\n79200004005,vip,Asia/Tokyo,005\n79200005005,vip,Asia/Tokyo,005\n79200006005,vip,Asia/Tokyo,005\n", string(res.Body))
		res = c.do(t, "GET", "/clients/export.csv?tag=%00", nil)
		require.Equal(t, http.StatusBadRequest, res.Status)
	})
}

func csvField(s string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write([]string{s})
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

// TestExportMessages: GET /mailings/{id}/messages.csv lists the mailing's
// messages with their status, attempts, last error and times.
func TestExportMessages(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{noRiver: true})
		c := newRESTClient(t, b)
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		id := b.createMailing(t, now.Add(time.Hour), now.Add(2*time.Hour), "")
		var mailingID int
		_, err := fmt.Sscan(id, &mailingID)
		require.NoError(t, err)
		cl, err := b.app.db.Ent.Customer.Create().SetPhone("79000000001").SetOperatorCode("900").Save(ctx)
		require.NoError(t, err)
		for i := range 6000 {
			m := b.app.db.Ent.Message.Create().SetMailingID(mailingID).SetPhone(fmt.Sprintf("7%010d", i)).SetCreatedAt(now).SetUpdatedAt(now)
			if i == 0 {
				m.SetCustomerID(cl.ID).SetStatus(status.Failed).SetAttempts(3).SetLastError("HTTP 500, \"down\"").SetSentAt(now)
			}
			_, err := m.Save(ctx)
			require.NoError(t, err)
		}
		res := c.do(t, "GET", "/mailings/"+id+"/messages.csv", nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		records, err := csv.NewReader(bytes.NewReader(res.Body)).ReadAll()
		require.NoError(t, err)
		require.Len(t, records, 6001)
		require.Equal(t, campaign.MessageExportHeader, records[0])
		ts := now.Format(time.RFC3339Nano)
		require.Equal(t, []string{records[1][0], fmt.Sprint(cl.ID), "70000000000", "failed", "3", "HTTP 500, \"down\"", ts, ts, ts}, records[1])
		require.Equal(t, []string{"", "70000000001", "queued", "0", "", ts, "", ts}, records[2][1:])
		ids := make([]int, 0, 6000)
		for _, r := range records[1:] {
			n, err := strconv.Atoi(r[0])
			require.NoError(t, err)
			ids = append(ids, n)
		}
		require.True(t, slices.IsSorted(ids), "by id")
		res = c.do(t, "GET", "/mailings/999999/messages.csv", nil)
		require.Equal(t, http.StatusNotFound, res.Status)
	})
}

// TestExportOutlivesOperationTimeout: an export runs for as long as its
// client reads, not within OPERATION_TIMEOUT (here 1 ms, which three pages
// of an export over HTTP cannot fit in). SQLite: on Postgres the API
// pool's statement_timeout would be 1 ms too.
func TestExportOutlivesOperationTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t, testdb.SQLite(t), setupOpts{env: map[string]string{"OPERATION_TIMEOUT": "1ms"}, noRiver: true})
	ctx := context.Background()
	const n = 12000
	for start := 0; start < n; start += 1000 {
		builders := make([]*ent.CustomerCreate, 0, 1000)
		for i := start; i < start+1000; i++ {
			builders = append(builders, b.app.db.Ent.Customer.Create().SetPhone(fmt.Sprintf("7%010d", i)).SetOperatorCode("000"))
		}
		require.NoError(t, b.app.db.Ent.Customer.CreateBulk(builders...).Exec(ctx))
	}
	status, body := auditHTTPRaw(t, b, http.MethodGet, "/clients/export.csv", "", "", "")
	require.Equal(t, http.StatusOK, status, body)
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, records, n+1)
	require.Equal(t, []string{"7" + fmt.Sprintf("%010d", n-1), "", "UTC", "000"}, records[n])
}

// rawImport writes an upload as raw HTTP (the request line, headers and
// as much of the body as given) to b's server, and returns the answer's
// status and body after requiring that no import was recorded.
func rawImport(t *testing.T, b *testBundle, headers, body string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(b.server.URL, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "POST /clients/import/ HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"+headers+"\r\n"+body)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	n, err := b.app.db.Ent.ClientImport.Query().Count(context.Background())
	require.NoError(t, err)
	require.Zero(t, n, "no import recorded")
	return resp.StatusCode, string(answer)
}

// TestImportRESTTooLarge: a file declared larger than 256 MiB is refused
// with 413 before it is read.
func TestImportRESTTooLarge(t *testing.T) {
	t.Parallel()
	b := setup(t, testdb.SQLite(t), setupOpts{noRiver: true})
	code, body := rawImport(t, b, fmt.Sprintf("Content-Length: %d\r\n", campaign.MaxImportBytes+1), "phone\n")
	require.Equal(t, http.StatusRequestEntityTooLarge, code)
	require.JSONEq(t, `{"detail": "an import file is at most 256 MiB."}`, body)
}

// TestImportRESTUnreadableBody: an upload that breaks off (a malformed
// chunked body) is a 400 naming the cause, not a 500, and no import is
// recorded.
func TestImportRESTUnreadableBody(t *testing.T) {
	t.Parallel()
	b := setup(t, testdb.SQLite(t), setupOpts{noRiver: true})
	code, body := rawImport(t, b, "Transfer-Encoding: chunked\r\n", "6\r\nphone\n\r\nzz\r\n")
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, `"detail":"the import file could not be read: `)
}
