package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

// routesOnly is the API's routes without a domain service: enough for
// requests refused before the domain is called (a body's media type, JSON
// or fields; an id that is not one).
func routesOnly() *API {
	a := &API{mux: http.NewServeMux(), logger: slog.New(slog.DiscardHandler)}
	a.routes()
	return a
}

// send serves one request; chunked sends the body without a length, as
// Transfer-Encoding: chunked arrives.
func send(a *API, method, path, contentType, body string, chunked bool) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if chunked {
		r.ContentLength = -1
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, r)
	return rec
}

const validMailing = `"start_at": "2030-01-01T09:00:00+03:00", "end_at": "2030-01-02T09:00:00+03:00", "text": "x"`

// TestRESTRefusesNonJSONBody checks that a POST, PUT or PATCH body that is
// not declared as JSON is refused with Django REST framework's 415, before
// anything reads it, and that requests without a body, or whose body is
// never read, pass whatever their Content-Type.
func TestRESTRefusesNonJSONBody(t *testing.T) {
	t.Parallel()
	a := routesOnly()

	mailing := `{` + validMailing + `}`
	for _, tt := range []struct {
		method, path, contentType, body string
		chunked                         bool
	}{
		// What an HTML form on any web page can post cross-site.
		{"POST", "/mailings/", "text/plain", mailing, false},
		{"POST", "/mailings", "text/plain;charset=UTF-8", mailing, false},
		{"POST", "/mailings/", "text/plain", mailing, true},
		{"POST", "/clients/", "application/x-www-form-urlencoded", "phone=79001234567", false},
		{"POST", "/clients/", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"phone\"\r\n\r\n79001234567\r\n--x--\r\n", false},
		{"POST", "/clients/bulk/", "text/plain", `[{"phone": "79001234567"}]`, false},
		{"PUT", "/clients/1/", "text/plain", `{"phone": "79001234567"}`, false},
		{"PATCH", "/clients/1", "application/xml", `<tag>x</tag>`, false},
		{"PUT", "/mailings/1/", "application/jsonp", mailing, false},
		{"PATCH", "/mailings/1/", "text/json", `{"text": "x"}`, false},
		// A lifecycle action ignores a JSON body but refuses a form.
		{"POST", "/mailings/1/cancel/", "text/plain", "x", false},
		{"POST", "/mailings/1/pause", "application/x-www-form-urlencoded", "a=b", true},
		// No Content-Type at all.
		{"POST", "/clients/", "", `{"phone": "79001234567"}`, false},
		{"PATCH", "/mailings/1/", "", `{"text": "x"}`, true},
		// White space is a body; so is one over the limit, refused unread.
		{"POST", "/clients/", "text/plain", " ", false},
		{"POST", "/clients/", "text/plain", strings.Repeat("x", maxBody+1), false},
	} {
		rec := send(a, tt.method, tt.path, tt.contentType, tt.body, tt.chunked)
		name := tt.method + " " + tt.path + " " + tt.contentType
		require.Equal(t, http.StatusUnsupportedMediaType, rec.Code, "%s: %s", name, rec.Body)
		require.Equal(t, "application/json", rec.Header().Get("Content-Type"), name)
		want, err := json.Marshal(detail{`Unsupported media type "` + tt.contentType + `" in request.`})
		require.NoError(t, err)
		require.JSONEq(t, string(want), rec.Body.String(), name)
	}
	require.JSONEq(t, `{"detail": "Unsupported media type \"text/plain\" in request."}`,
		send(a, "POST", "/mailings/", "text/plain", mailing, false).Body.String(), "Django REST framework's wording")

	// Not refused for the media type: the status and body show how far
	// the request got.
	phoneRequired := `{"phone": ["This field is required."]}`
	notFound := `{"detail": "Not found."}`
	for _, tt := range []struct {
		method, path, contentType, body string
		chunked                         bool
		status                          int
		want                            string
	}{
		{"POST", "/clients/", "application/json", `{"tag": "x"}`, false, http.StatusBadRequest, phoneRequired},
		{"POST", "/clients/", "application/json; charset=utf-8", `{"tag": "x"}`, true, http.StatusBadRequest, phoneRequired},
		{"POST", "/clients/", "Application/JSON ; Charset=UTF-8", `{"tag": "x"}`, false, http.StatusBadRequest, phoneRequired},
		// No body: nothing to refuse, whatever the Content-Type.
		{"POST", "/clients/", "text/plain", "", false, http.StatusBadRequest, phoneRequired},
		{"POST", "/clients/", "text/plain", "", true, http.StatusBadRequest, phoneRequired},
		{"POST", "/clients/", "", "", false, http.StatusBadRequest, phoneRequired},
		{"PATCH", "/mailings/abc/", "application/x-www-form-urlencoded", "", false, http.StatusNotFound, notFound},
		// GET and DELETE never read a body.
		{"GET", "/clients/abc/", "text/plain", "x", false, http.StatusNotFound, notFound},
		{"DELETE", "/clients/abc/", "text/plain", "x", false, http.StatusNotFound, notFound},
		{"DELETE", "/mailings/abc/", "", "x", true, http.StatusNotFound, notFound},
	} {
		rec := send(a, tt.method, tt.path, tt.contentType, tt.body, tt.chunked)
		name := tt.method + " " + tt.path + " " + tt.contentType
		require.Equal(t, tt.status, rec.Code, "%s: %s", name, rec.Body)
		require.JSONEq(t, tt.want, rec.Body.String(), name)
	}
}

// TestRESTWrongJSONTypeNamesField checks that a value of the wrong JSON
// type is a 400 naming its field with Django REST framework's message, at
// its place in nested objects and lists, while broken JSON stays a
// {"detail": "JSON parse error - …"}.
func TestRESTWrongJSONTypeNamesField(t *testing.T) {
	t.Parallel()
	a := routesOnly()

	for _, tt := range []struct {
		name, method, path, body, want string
	}{
		{"string", "POST", "/clients/", `{"phone": "79001234567", "tag": 5}`,
			`{"tag": ["Not a valid string."]}`},
		{"phone", "POST", "/clients/", `{"phone": true}`,
			`{"phone": ["Not a valid string."]}`},
		{"every field", "PUT", "/clients/1/", `{"phone": {"n": 1}, "operator_code": 1.5, "tag": false, "timezone": []}`,
			`{"phone": ["Not a valid string."], "operator_code": ["Not a valid string."], "tag": ["Not a valid string."], "timezone": ["Not a valid string."]}`},
		{"patch", "PATCH", "/clients/1/", `{"tag": ["vip"]}`,
			`{"tag": ["Not a valid string."]}`},
		{"with other problems", "POST", "/clients/", `{"tag": 5, "nickname": "x"}`,
			`{"phone": ["This field is required."], "tag": ["Not a valid string."], "nickname": ["Unknown field."]}`},
		{"body not an object", "POST", "/clients/", `"79001234567"`,
			`{"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}`},
		{"body null", "PATCH", "/clients/1/", `null`,
			`{"non_field_errors": ["No data provided"]}`},
		{"bulk not a list", "POST", "/clients/bulk/", `{"phone": "79001234567"}`,
			`{"non_field_errors": ["Expected a list of items but got type \"dict\"."]}`},
		{"bulk items", "POST", "/clients/bulk/", `["79001234567", {"phone": "79011234567", "tag": 1}, null, {"phone": "79021234567"}]`,
			`[{"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}, {"tag": ["Not a valid string."]}, {"non_field_errors": ["This field may not be null."]}, {}]`},
		{"time", "POST", "/mailings/", `{"start_at": 1700000000, "end_at": true, "text": 5}`,
			`{"start_at": ["Datetime has wrong format: use RFC 3339 with an offset, e.g. 2026-01-02T09:00:00+03:00."],
			  "end_at": ["Datetime has wrong format: use RFC 3339 with an offset, e.g. 2026-01-02T09:00:00+03:00."],
			  "text": ["Not a valid string."]}`},
		{"nested object", "POST", "/mailings/", `{` + validMailing + `, "filter": "vip", "send_window": ["09:00", "21:00"]}`,
			`{"filter": {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]},
			  "send_window": {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}}`},
		{"nested list", "PUT", "/mailings/1/", `{` + validMailing + `, "filter": {"tags": "vip", "operator_codes": [900, null, "901", 9.5]}}`,
			`{"filter": {"tags": ["Expected a list of items but got type \"str\"."],
			  "operator_codes": {"0": ["Not a valid string."], "1": ["This field may not be null."], "3": ["Not a valid string."]}}}`},
		{"nested list of a number", "PATCH", "/mailings/1/", `{"filter": {"tags": 1.5e3}}`,
			`{"filter": {"tags": ["Expected a list of items but got type \"float\"."]}}`},
		{"nested field", "PATCH", "/mailings/1/", `{"send_window": {"from": 9, "to": "21:00"}, "text": {}}`,
			`{"send_window": {"from": ["Not a valid string."]}, "text": ["Not a valid string."]}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := send(a, tt.method, tt.path, "application/json", tt.body, false)
			require.Equal(t, http.StatusBadRequest, rec.Code, "body: %s", rec.Body)
			require.JSONEq(t, tt.want, rec.Body.String())
		})
	}

	for _, body := range []string{`{"phone": `, `{"tag": 5,}`, `{"phone": "79001234567"} {}`, "{\"tag\": \"\xff\"}", `{"tag": 'x'}`} {
		rec := send(a, "POST", "/clients/", "application/json", body, false)
		require.Equal(t, http.StatusBadRequest, rec.Code, "body %q: %s", body, rec.Body)
		var d detail
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &d))
		require.True(t, strings.HasPrefix(d.Detail, "JSON parse error - "), "body %q: %s", body, d.Detail)
	}
}

// TestMailingTimesInRange checks that a mailing's times are refused
// unless JSON can show them in UTC, as every response shows them.
func TestMailingTimesInRange(t *testing.T) {
	t.Parallel()
	a := routesOnly()
	outOfRange := `["Datetime must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z."]`
	for body, want := range map[string]string{
		`{"start_at": "0000-12-31T23:59:59Z"}`:                                              `{"start_at": ` + outOfRange + `}`,
		`{"start_at": "0001-01-01T00:30:00+01:00"}`:                                         `{"start_at": ` + outOfRange + `}`,
		`{"end_at": "9999-12-31T23:00:00-01:00"}`:                                           `{"end_at": ` + outOfRange + `}`,
		`{"end_at": "9999-12-31T23:59:59Z", "start_at": "0001-01-01T00:00:00Z", "text": 1}`: `{"text": ["Not a valid string."]}`,
	} {
		rec := send(a, "PATCH", "/mailings/1/", "application/json", body, false)
		require.Equal(t, http.StatusBadRequest, rec.Code, "%s: %s", body, rec.Body)
		require.JSONEq(t, want, rec.Body.String(), body)
	}
}

// unreadBody fails the test when read.
type unreadBody struct{ t *testing.T }

func (b unreadBody) Read([]byte) (int, error) {
	b.t.Error("the body was read")
	return 0, io.EOF
}

// TestDeclaredLengthOverLimit checks that a body declared longer than the
// route's limit is refused without reading it: a client that declares more
// than it sends would otherwise hold the handler.
func TestDeclaredLengthOverLimit(t *testing.T) {
	t.Parallel()
	a := routesOnly()
	for path, limit := range map[string]int64{"/clients/": maxBody, "/clients/bulk/": maxBulkBody} {
		r := httptest.NewRequest(http.MethodPost, path, unreadBody{t})
		r.Header.Set("Content-Type", "application/json")
		r.ContentLength = limit + 1
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, r)
		require.Equal(t, http.StatusBadRequest, rec.Code, "%s: %s", path, rec.Body)
		require.JSONEq(t, fmt.Sprintf(`{"detail": "Request body too large: the limit is %d MiB."}`, limit>>20), rec.Body.String())
	}
}

func TestIsJSONMediaType(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		"application/json":                   true,
		"application/json; charset=utf-8":    true,
		"APPLICATION/JSON;charset=\"UTF-8\"": true,
		"application/json;":                  true,
		"":                                   false,
		"text/plain":                         false,
		"text/json":                          false,
		"application/jsonx":                  false,
		"application/json, text/plain":       false,
		"application/x-www-form-urlencoded":  false,
		"multipart/form-data; boundary=x":    false,
		"application/json/../x;;=":           false,
	} {
		require.Equal(t, want, isJSONMediaType(v), "%q", v)
	}
}

// decodeOnly is an API whose routes read their body as the real ones do,
// then answer 200 {"decoded": true} instead of calling the domain (which
// has fuzzers of its own in internal/campaign).
func decodeOnly() *API {
	a := &API{mux: http.NewServeMux(), logger: slog.New(slog.DiscardHandler)}
	decoded := func(err error) (int, any, error) {
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, map[string]bool{"decoded": true}, nil
	}
	client := func(full bool) handlerFunc {
		return func(r *http.Request) (int, any, error) {
			p, err := decodeClient(r, full)
			if err == nil && full {
				_ = newClient(p) // what the handler does next: must not panic
			}
			return decoded(err)
		}
	}
	// A mailing's times are answered as the real handlers answer them
	// (mailingOut): JSON must be able to show them.
	mailing := func(full bool) handlerFunc {
		return func(r *http.Request) (int, any, error) {
			p, err := decodeMailing(r, full)
			if err != nil {
				return 0, nil, err
			}
			out := map[string]any{"decoded": true}
			if full {
				m := newMailing(p)
				p.StartAt, p.EndAt = &m.StartAt, &m.EndAt
			}
			if p.StartAt != nil {
				out["start_at"] = p.StartAt.UTC()
			}
			if p.EndAt != nil {
				out["end_at"] = p.EndAt.UTC()
			}
			return http.StatusOK, out, nil
		}
	}
	ignore := func(*http.Request) (int, any, error) { return decoded(nil) }
	a.handle("POST /clients/", maxBody, client(true))
	a.handle("PUT /clients/{id}/", maxBody, client(true))
	a.handle("PATCH /clients/{id}/", maxBody, client(false))
	a.handle("POST /clients/bulk/", maxBulkBody, func(r *http.Request) (int, any, error) {
		_, err := decodeClients(r)
		return decoded(err)
	})
	a.handle("POST /mailings/", maxBody, mailing(true))
	a.handle("PUT /mailings/{id}/", maxBody, mailing(true))
	a.handle("PATCH /mailings/{id}/", maxBody, mailing(false))
	a.handle("POST /mailings/{id}/pause/", maxBody, ignore)
	a.handle("GET /clients/", maxBody, ignore)
	a.handle("DELETE /clients/{id}/", maxBody, ignore)
	return a
}

// fuzzRoutes are the routes of decodeOnly FuzzDecodeBody picks from.
var fuzzRoutes = []struct{ method, path string }{
	{"POST", "/clients/"},
	{"PUT", "/clients/1/"},
	{"PATCH", "/clients/1/"},
	{"POST", "/clients/bulk/"},
	{"POST", "/mailings/"},
	{"PUT", "/mailings/1/"},
	{"PATCH", "/mailings/1/"},
	{"POST", "/mailings/1/pause/"},
	{"GET", "/clients/"},
	{"DELETE", "/clients/1/"},
}

// FuzzDecodeBody sends any body with any Content-Type to the routes that
// read one, and checks that the answer is never a 500 or a panic: a 200
// (decoded), a 415 for a body not declared as JSON, or a 400 whose JSON is
// what the OpenAPI document says, naming fields, or a detail only when the
// body is not valid JSON.
func FuzzDecodeBody(f *testing.F) {
	for _, seed := range []struct {
		route       uint8
		contentType string
		body        string
		chunked     bool
	}{
		{0, "application/json", `{"phone": "79001234567", "tag": "vip", "timezone": "Europe/Moscow"}`, false},
		{0, "application/json", `{"phone": 7.9001234567e10, "id": 1, "status": null}`, false},
		{0, "application/json", `{"phone": 1e400, "tag": 5}`, false},
		{0, "text/plain", `{"phone": "79001234567"}`, false},
		{1, "", `{"phone": "79001234567"}`, true},
		{2, "application/json; charset=utf-8", `{"tag": null, "operator_code": [1]}`, false},
		{2, "application/json", `null`, false},
		{3, "application/json", `[{"phone": "79001234567"}, "x", null, {"tag": {}}]`, false},
		{3, "application/json", `{"phone": "79001234567"}`, false},
		{4, "application/json", `{` + validMailing + `, "filter": {"operator_codes": ["900"], "tags": [1, null]}, "send_window": {"from": "09:00", "to": "21:00"}}`, false},
		{4, "application/json", `{` + validMailing + `, "filter": null, "send_window": null}`, false},
		{5, "application/json", `{"start_at": 1, "end_at": [], "text": {}, "filter": "x", "send_window": 1}`, false},
		{5, "application/json", `{"start_at": "0001-01-01T00:00:00+01:00", "end_at": "9999-12-31T23:59:59-14:00", "text": "x"}`, false},
		{6, "application/json", `{"start_at": "0000-01-01T00:00:00Z", "end_at": "9999-12-31T23:59:59.999999999+14:00"}`, false},
		{6, "application/json", `{"send_window": {"from": 9}, "filter": {"non_field_errors": 1}}`, false},
		{6, "application/x-www-form-urlencoded", ``, false},
		{7, "text/plain", `x`, true},
		{7, "application/json", `{"ignored": true}`, false},
		{8, "text/plain", `x`, false},
		{9, "", `x`, false},
		{0, "application/json", `{"phone": `, false},
		{0, "application/json", "{\"tag\": \"\xff\"}", false},
		{0, "application/json", " \t\r\n", true},
	} {
		f.Add(seed.route, seed.contentType, []byte(seed.body), seed.chunked)
	}

	raw, err := Document()
	require.NoError(f, err)
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	require.NoError(f, err)
	schema := func(response string) *openapi3.Schema {
		return doc.Components.Responses[response].Value.Content.Get("application/json").Schema.Value
	}
	badRequest, bulkBadRequest, unsupported := schema("BadRequest"), schema("BulkBadRequest"), schema("UnsupportedMediaType")
	a := decodeOnly()

	f.Fuzz(func(t *testing.T, route uint8, contentType string, body []byte, chunked bool) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		rec := send(a, rt.method, rt.path, contentType, string(body), chunked)
		got := rec.Body.Bytes()
		require.Equal(t, "application/json", rec.Header().Get("Content-Type"), "%d %s", rec.Code, got)
		var v any
		require.NoError(t, json.Unmarshal(got, &v), "not JSON: %s", got)
		readsBody := slices.Contains(bodyMethods, rt.method) && !strings.HasSuffix(rt.path, "/pause/")
		formLike := !strings.Contains(strings.ToLower(contentType), "application/json")

		switch rec.Code {
		case http.StatusOK:
			require.Equal(t, true, v.(map[string]any)["decoded"], "%s", got)
			require.False(t, slices.Contains(bodyMethods, rt.method) && len(body) > 0 && formLike, "a body of type %q was read", contentType)
		case http.StatusUnsupportedMediaType:
			require.True(t, slices.Contains(bodyMethods, rt.method) && len(body) > 0, "refused a %s without a body", rt.method)
			require.NotEqual(t, "application/json", contentType)
			require.NoError(t, unsupported.VisitJSON(v), "%s", got)
			require.True(t, strings.HasPrefix(v.(map[string]any)["detail"].(string), "Unsupported media type \""))
		case http.StatusBadRequest:
			require.True(t, readsBody, "%s %s read its body", rt.method, rt.path)
			s := badRequest
			if strings.HasSuffix(rt.path, "/bulk/") {
				s = bulkBadRequest
			}
			require.NoError(t, s.VisitJSON(v), "%s", got)
			if m, ok := v.(map[string]any); ok && len(m) == 1 && m["detail"] != nil {
				if msg := m["detail"].(string); strings.HasPrefix(msg, "Request body too large") {
					require.Greater(t, len(body), maxBody, "%s", got)
				} else {
					require.True(t, strings.HasPrefix(msg, "JSON parse error - "), "%s", got)
					trimmed := bytes.Trim(body, jsonSpace)
					require.False(t, len(trimmed) == 0 || json.Valid(trimmed) && utf8.Valid(trimmed),
						"valid JSON %q answered %s", body, got)
				}
			} else {
				requireNamesFields(t, v, got)
			}
		default:
			t.Fatalf("%s %s (%q, %q) answered %d %s", rt.method, rt.path, contentType, body, rec.Code, got)
		}
	})
}

// requireNamesFields checks a field errors body: an object (or, for a bulk
// import, a list of objects) of names with non-empty messages at its
// leaves, naming at least one field.
func requireNamesFields(t *testing.T, v any, raw []byte) {
	t.Helper()
	var walk func(v any) int
	walk = func(v any) int {
		switch v := v.(type) {
		case map[string]any:
			n := 0
			for _, c := range v {
				n += walk(c) // a name may be "": {"": 1} has an unknown field ""
			}
			return n
		case []any:
			n := 0
			for _, msg := range v {
				switch msg := msg.(type) {
				case string:
					require.NotEmpty(t, msg, "%s", raw)
					n++
				default:
					n += walk(msg) // a bulk import's item
				}
			}
			return n
		default:
			t.Fatalf("unexpected %T in %s", v, raw)
			return 0
		}
	}
	require.Positive(t, walk(v), "no field named in %s", raw)
}
