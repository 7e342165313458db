package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/testdb"
)

// restClient calls the REST API of a test service and validates every
// request it sends and every response it gets against the OpenAPI document
// the service serves at /docs/openapi.json, so the document cannot drift
// from the handlers.
//
// A request the test makes invalid on purpose (a malformed body, an unknown
// field, a bad id) must be rejected by the document too: mark it with
// invalidRequest. A request the document has no operation for (a method a
// path lacks) must be unknown to its router: mark it with noRoute; its
// response is then checked against the document's Error schema.
type restClient struct {
	base   string
	doc    *openapi3.T
	router routers.Router
}

// newRESTClient loads and validates the served document.
func newRESTClient(t *testing.T, b *testBundle) *restClient {
	t.Helper()
	res, err := http.Get(b.server.URL + "/docs/openapi.json")
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "application/json", res.Header.Get("Content-Type"))
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)

	doc, err := openapi3.NewLoader().LoadFromData(raw)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(t.Context()))
	router, err := legacy.NewRouter(doc)
	require.NoError(t, err)
	return &restClient{base: b.server.URL, doc: doc, router: router}
}

// findRoute finds the operation of req. The legacy router matches
// "/clients/" to "/clients/{id}/" with an empty id; a path parameter is
// never empty, so that is no route.
func (c *restClient) findRoute(req *http.Request) (*routers.Route, map[string]string, error) {
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return nil, nil, err
	}
	for name, v := range params {
		if v == "" {
			return nil, nil, fmt.Errorf("empty path parameter %s: %w", name, routers.ErrPathNotFound)
		}
	}
	return route, params, nil
}

// rawBody is a request body sent as is, not encoded as JSON.
type rawBody string

// typedBody is a request body sent as is with its own Content-Type ("" for
// none) instead of application/json.
type typedBody struct {
	contentType, body string
}

// callOpt changes how a call is checked.
type callOpt int

const (
	// invalidRequest: the request is invalid on purpose and the document
	// must say so.
	invalidRequest callOpt = iota + 1
	// noRoute: the document has no operation for the request.
	noRoute
)

// restResponse is what a call got.
type restResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// decode decodes the JSON body into v.
func (r restResponse) decode(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// object decodes the body as a JSON object.
func (r restResponse) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	return m
}

// requireJSON checks the status and that the body equals want (JSON).
func (r restResponse) requireJSON(t *testing.T, status int, want string) {
	t.Helper()
	require.Equal(t, status, r.Status, "body: %s", r.Body)
	require.JSONEq(t, want, string(r.Body))
}

// do sends method path with body (nil for none, rawBody or typedBody as
// is, anything else as JSON) and validates the request and the response.
func (c *restClient) do(t *testing.T, method, path string, body any, opts ...callOpt) restResponse {
	t.Helper()
	var payload []byte
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case rawBody:
		payload = []byte(b)
	case typedBody:
		payload, contentType = []byte(b.body), b.contentType
	default:
		var err error
		payload, err = json.Marshal(b)
		require.NoError(t, err)
	}
	newRequest := func(u string) *http.Request {
		var rd io.Reader
		if payload != nil {
			rd = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(t.Context(), method, u, rd)
		require.NoError(t, err)
		if payload != nil && contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		return req
	}
	want := func(o callOpt) bool {
		for _, v := range opts {
			if v == o {
				return true
			}
		}
		return false
	}

	// The request as the document sees it: every path is documented with its
	// trailing slash, and the form without one answers the same.
	check := newRequest(c.base + path)
	route, params, err := c.findRoute(check)
	if err != nil && !strings.HasSuffix(check.URL.Path, "/") {
		check.URL.Path += "/"
		route, params, err = c.findRoute(check)
	}
	if want(noRoute) {
		require.Error(t, err, "the document has an operation for %s %s", method, path)
	} else {
		require.NoError(t, err, "the document has no operation for %s %s", method, path)
	}

	var input *openapi3filter.RequestValidationInput
	if route != nil {
		input = &openapi3filter.RequestValidationInput{
			Request:    check,
			PathParams: params,
			Route:      route,
			Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		}
		err := openapi3filter.ValidateRequest(t.Context(), input)
		if want(invalidRequest) {
			require.Error(t, err, "the document accepts the invalid request %s %s %s", method, path, payload)
		} else {
			require.NoError(t, err, "the document rejects the request %s %s %s", method, path, payload)
		}
	}

	res, got := opsDo(t, newRequest(c.base+path))
	out := restResponse{Status: res.StatusCode, Header: res.Header, Body: got}

	if input == nil {
		var v any
		require.NoError(t, json.Unmarshal(got, &v), "body: %s", got)
		schema := c.doc.Components.Schemas["Error"].Value
		require.NoError(t, schema.VisitJSON(v), "%s %s answered %d %s", method, path, res.StatusCode, got)
		return out
	}
	err = openapi3filter.ValidateResponse(t.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input,
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(got)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	})
	require.NoError(t, err, "%s %s answered %d %s", method, path, res.StatusCode, got)
	return out
}

// restClientJSON is a client as the tests decode it.
type restClientJSON struct {
	ID           int    `json:"id"`
	Phone        string `json:"phone"`
	OperatorCode string `json:"operator_code"`
	Tag          string `json:"tag"`
	Timezone     string `json:"timezone"`
}

// restMailingJSON is a mailing as the tests decode it.
type restMailingJSON struct {
	ID      int       `json:"id"`
	StartAt time.Time `json:"start_at"`
	EndAt   time.Time `json:"end_at"`
	Text    string    `json:"text"`
	Filter  struct {
		OperatorCodes []string `json:"operator_codes"`
		Tags          []string `json:"tags"`
	} `json:"filter"`
	SendWindow *struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"send_window"`
	Status string `json:"status"`
}

// restPage is a page of a list.
type restPage[T any] struct {
	Count    int     `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []T     `json:"results"`
}

// requireAnswer requires an answer with status and decodes its body into
// a T.
func requireAnswer[T any](t *testing.T, status int, res restResponse) T {
	t.Helper()
	require.Equal(t, status, res.Status, "body: %s", res.Body)
	var out T
	res.decode(t, &out)
	return out
}

func (c *restClient) createClient(t *testing.T, body any) restClientJSON {
	t.Helper()
	return requireAnswer[restClientJSON](t, http.StatusCreated, c.do(t, "POST", "/clients/", body))
}

func (c *restClient) createMailing(t *testing.T, body any) restMailingJSON {
	t.Helper()
	return requireAnswer[restMailingJSON](t, http.StatusCreated, c.do(t, "POST", "/mailings/", body))
}

// mailingBody returns the body of a valid mailing from start to end with text "x", with
// changes made to it: a field is set to a change's value, or deleted by a nil one.
func mailingBody(start, end time.Time, changes map[string]any) map[string]any {
	m := map[string]any{"start_at": start.Format(time.RFC3339), "end_at": end.Format(time.RFC3339), "text": "x"}
	for k, v := range changes {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

// queryOf returns the query of a page link.
func queryOf(t *testing.T, link *string) url.Values {
	t.Helper()
	require.NotNil(t, link)
	u, err := url.Parse(*link)
	require.NoError(t, err)
	require.True(t, u.IsAbs(), "link %s", *link)
	return u.Query()
}

func TestRESTClients(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		b := setup(t, databaseURL, setupOpts{})
		c := newRESTClient(t, b)

		t.Run("Create", func(t *testing.T) {
			got := c.createClient(t, map[string]any{"phone": "79001234567", "tag": "vip", "timezone": "Europe/Moscow"})
			require.Equal(t, restClientJSON{ID: got.ID, Phone: "79001234567", OperatorCode: "900", Tag: "vip", Timezone: "Europe/Moscow"}, got)

			// An integral JSON number in exponent notation is a phone too.
			require.Equal(t, "79001234568", c.createClient(t, rawBody(`{"phone": 7.9001234568e10}`)).Phone)

			// A JSON integer phone; output is a string. Defaults: tag "", UTC.
			res := c.do(t, "POST", "/clients", rawBody(`{"phone": 79011234567}`))
			require.Equal(t, http.StatusCreated, res.Status, "body: %s", res.Body)
			obj := res.object(t)
			require.Equal(t, "79011234567", obj["phone"])
			require.Equal(t, "901", obj["operator_code"])
			require.Equal(t, "", obj["tag"])
			require.Equal(t, "UTC", obj["timezone"])
			require.Contains(t, obj, "created_at")
			require.Contains(t, obj, "updated_at")

			// Read-only fields are ignored.
			ro := c.createClient(t, map[string]any{"phone": "79021234567", "id": 999999, "status": "x", "created_at": "2000-01-01T00:00:00Z", "updated_at": nil, "operator_code": "555"})
			require.NotEqual(t, 999999, ro.ID)
			require.Equal(t, "555", ro.OperatorCode)
		})

		t.Run("CreateInvalid", func(t *testing.T) {
			c.createClient(t, map[string]any{"phone": "79031234567"})
			for _, tt := range []struct {
				name string
				body any
				opts []callOpt
				want string
			}{
				{"taken phone", map[string]any{"phone": "79031234567"}, nil,
					`{"phone": ["A client with this phone already exists."]}`},
				{"taken phone as integer", rawBody(`{"phone": 79031234567}`), nil,
					`{"phone": ["A client with this phone already exists."]}`},
				{"bad phone", map[string]any{"phone": "89001234567"}, []callOpt{invalidRequest},
					`{"phone": ["Must be 7 followed by 10 digits, e.g. 79001234567."]}`},
				{"fractional phone", rawBody(`{"phone": 7900123456.7}`), []callOpt{invalidRequest},
					`{"phone": ["Must be 7 followed by 10 digits, e.g. 79001234567."]}`},
				{"bad zone", map[string]any{"phone": "79041234567", "timezone": "Local"}, nil,
					`{"timezone": ["Must be an IANA time zone name such as Europe/Moscow or UTC."]}`},
				{"several fields", map[string]any{"phone": "1", "operator_code": "12", "tag": strings.Repeat("ж", 65)}, []callOpt{invalidRequest},
					`{"phone": ["Must be 7 followed by 10 digits, e.g. 79001234567."], "operator_code": ["Must be exactly 3 digits."], "tag": ["Must be at most 64 characters, got 65."]}`},
				{"missing phone", map[string]any{"tag": "x"}, []callOpt{invalidRequest},
					`{"phone": ["This field is required."]}`},
				{"empty body", nil, []callOpt{invalidRequest},
					`{"phone": ["This field is required."]}`},
				{"null", map[string]any{"phone": "79041234567", "tag": nil}, []callOpt{invalidRequest},
					`{"tag": ["This field may not be null."]}`},
				{"unknown field", map[string]any{"phone": "79041234567", "nickname": "x"}, []callOpt{invalidRequest},
					`{"nickname": ["Unknown field."]}`},
				{"wrong type", map[string]any{"phone": "79041234567", "tag": 5}, []callOpt{invalidRequest},
					`{"tag": ["Not a valid string."]}`},
				{"phone wrong type", map[string]any{"phone": []int{7}}, []callOpt{invalidRequest},
					`{"phone": ["Not a valid string."]}`},
				{"not an object", rawBody(`"79041234567"`), []callOpt{invalidRequest},
					`{"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}`},
			} {
				t.Run(tt.name, func(t *testing.T) {
					c.do(t, "POST", "/clients/", tt.body, tt.opts...).requireJSON(t, http.StatusBadRequest, tt.want)
				})
			}

			t.Run("malformed JSON", func(t *testing.T) {
				for _, body := range []string{`{"phone": `, `{phone: 1}`, `{"phone": "79041234567",}`} {
					res := c.do(t, "POST", "/clients/", rawBody(body), invalidRequest)
					require.Equal(t, http.StatusBadRequest, res.Status)
					require.Contains(t, res.object(t)["detail"], "JSON parse error - ")
				}
				// kin-openapi reads only the first JSON value of a body, so the
				// document cannot be asked about trailing data.
				res := c.do(t, "POST", "/clients/", rawBody(`{"phone": "79041234567"} {}`))
				require.Equal(t, http.StatusBadRequest, res.Status)
				require.Contains(t, res.object(t)["detail"], "JSON parse error - ")
			})
			t.Run("oversize body", func(t *testing.T) {
				body := `{"phone": "79041234567", "tag": "` + strings.Repeat("x", 1<<20) + `"}`
				res := c.do(t, "POST", "/clients/", rawBody(body), invalidRequest)
				require.Equal(t, http.StatusBadRequest, res.Status)
				require.Contains(t, res.object(t)["detail"], "too large")
			})

			// Nothing was written by the failures.
			var pg restPage[restClientJSON]
			c.do(t, "GET", "/clients/?phone=ignored", nil).decode(t, &pg)
			for _, cl := range pg.Results {
				require.NotEqual(t, "79041234567", cl.Phone)
			}
		})

		t.Run("ReadUpdateDelete", func(t *testing.T) {
			cl := c.createClient(t, map[string]any{"phone": "79051234567", "tag": "a"})
			path := fmt.Sprintf("/clients/%d/", cl.ID)

			for _, p := range []string{path, strings.TrimSuffix(path, "/")} {
				var got restClientJSON
				res := c.do(t, "GET", p, nil)
				require.Equal(t, http.StatusOK, res.Status)
				res.decode(t, &got)
				require.Equal(t, cl, got)
			}

			// PATCH changes only what it sends; a new phone keeps the operator code.
			got := requireAnswer[restClientJSON](t, http.StatusOK, c.do(t, "PATCH", path, map[string]any{"phone": 79061234567, "timezone": "Asia/Yekaterinburg"}))
			require.Equal(t, restClientJSON{ID: cl.ID, Phone: "79061234567", OperatorCode: "905", Tag: "a", Timezone: "Asia/Yekaterinburg"}, got)

			got = requireAnswer[restClientJSON](t, http.StatusOK, c.do(t, "PATCH", strings.TrimSuffix(path, "/"), map[string]any{"tag": "b"}))
			require.Equal(t, "b", got.Tag)
			require.Equal(t, "Asia/Yekaterinburg", got.Timezone)

			c.do(t, "PATCH", path, map[string]any{"tag": nil}, invalidRequest).
				requireJSON(t, http.StatusBadRequest, `{"tag": ["This field may not be null."]}`)
			c.do(t, "PATCH", path, map[string]any{"operator_code": "9x9"}, invalidRequest).
				requireJSON(t, http.StatusBadRequest, `{"operator_code": ["Must be exactly 3 digits."]}`)
			c.do(t, "PATCH", path, map[string]any{"phone": "79001234567"}).
				requireJSON(t, http.StatusBadRequest, `{"phone": ["A client with this phone already exists."]}`)

			// PUT needs the phone; it sends back what GET returned, read-only fields included.
			c.do(t, "PUT", path, map[string]any{"tag": "c"}, invalidRequest).
				requireJSON(t, http.StatusBadRequest, `{"phone": ["This field is required."]}`)
			read := c.do(t, "GET", path, nil).object(t)
			read["tag"] = "c"
			read["operator_code"] = "777"
			got = requireAnswer[restClientJSON](t, http.StatusOK, c.do(t, "PUT", path, read))
			require.Equal(t, restClientJSON{ID: cl.ID, Phone: "79061234567", OperatorCode: "777", Tag: "c", Timezone: "Asia/Yekaterinburg"}, got)
			got = requireAnswer[restClientJSON](t, http.StatusOK, c.do(t, "PUT", strings.TrimSuffix(path, "/"), map[string]any{"phone": "79071234567"}))
			require.Equal(t, restClientJSON{ID: cl.ID, Phone: "79071234567", OperatorCode: "777", Tag: "c", Timezone: "Asia/Yekaterinburg"}, got, "omitted fields keep their values")

			res := c.do(t, "DELETE", path, nil)
			require.Equal(t, http.StatusNoContent, res.Status)
			require.Empty(t, res.Body)
			notFound := `{"detail": "Not found."}`
			c.do(t, "GET", path, nil).requireJSON(t, http.StatusNotFound, notFound)
			c.do(t, "DELETE", strings.TrimSuffix(path, "/"), nil).requireJSON(t, http.StatusNotFound, notFound)
			c.do(t, "PATCH", path, map[string]any{"tag": "x"}).requireJSON(t, http.StatusNotFound, notFound)
			c.do(t, "PUT", path, map[string]any{"phone": "79081234567"}).requireJSON(t, http.StatusNotFound, notFound)
			c.do(t, "GET", "/clients/abc/", nil, invalidRequest).requireJSON(t, http.StatusNotFound, notFound)
			c.do(t, "GET", "/clients/0/", nil, invalidRequest).requireJSON(t, http.StatusNotFound, notFound)
			c.do(t, "GET", "/clients/99999999999999999999/", nil, invalidRequest).requireJSON(t, http.StatusNotFound, notFound)
		})

		t.Run("ListAndFilter", func(t *testing.T) {
			for i := range 5 {
				code := "920"
				if i%2 == 1 {
					code = "921"
				}
				c.createClient(t, map[string]any{"phone": fmt.Sprintf("79%d1%07d", 2+i%2, i), "tag": "paged", "operator_code": code})
			}
			var pg restPage[restClientJSON]
			c.do(t, "GET", "/clients/?tag=paged&page_size=2", nil).decode(t, &pg)
			require.Equal(t, 5, pg.Count)
			require.Len(t, pg.Results, 2)
			require.Nil(t, pg.Previous)
			require.Equal(t, url.Values{"tag": {"paged"}, "page_size": {"2"}, "page": {"2"}}, queryOf(t, pg.Next))
			require.Less(t, pg.Results[0].ID, pg.Results[1].ID, "ordered by id")

			c.do(t, "GET", "/clients?tag=paged&page_size=2&page=3", nil).decode(t, &pg)
			require.Len(t, pg.Results, 1)
			require.Nil(t, pg.Next)
			require.Equal(t, url.Values{"tag": {"paged"}, "page_size": {"2"}, "page": {"2"}}, queryOf(t, pg.Previous))

			c.do(t, "GET", "/clients/?tag=paged&page_size=2&page=2", nil).decode(t, &pg)
			require.Equal(t, url.Values{"tag": {"paged"}, "page_size": {"2"}}, queryOf(t, pg.Previous), "page 1 has no page parameter")

			invalidPage := `{"detail": "Invalid page."}`
			c.do(t, "GET", "/clients/?tag=paged&page_size=2&page=4", nil).requireJSON(t, http.StatusNotFound, invalidPage)
			c.do(t, "GET", "/clients/?page=0", nil, invalidRequest).requireJSON(t, http.StatusNotFound, invalidPage)
			c.do(t, "GET", "/clients/?page=x", nil, invalidRequest).requireJSON(t, http.StatusNotFound, invalidPage)

			// page_size above the maximum is clamped; an empty list has page 1.
			c.do(t, "GET", "/clients/?tag=paged&page_size=5000", nil).decode(t, &pg)
			require.Len(t, pg.Results, 5)
			require.Nil(t, pg.Next)
			c.do(t, "GET", "/clients/?tag=nobody", nil).requireJSON(t, http.StatusOK, `{"count": 0, "next": null, "previous": null, "results": []}`)
			c.do(t, "GET", "/clients/?tag=nobody&page=2", nil).requireJSON(t, http.StatusNotFound, invalidPage)

			c.do(t, "GET", "/clients/?tag=paged&operator_code=921", nil).decode(t, &pg)
			require.Equal(t, 2, pg.Count)
			for _, cl := range pg.Results {
				require.Equal(t, "921", cl.OperatorCode)
			}
			c.do(t, "GET", "/clients/?operator_code=921&tag=", nil).decode(t, &pg)
			require.Equal(t, 2, pg.Count, "an empty filter is no filter")

			c.do(t, "GET", "/clients/", nil).decode(t, &pg)
			require.Greater(t, pg.Count, 5)
		})

		t.Run("Bulk", func(t *testing.T) {
			created := requireAnswer[[]restClientJSON](t, http.StatusCreated, c.do(t, "POST", "/clients/bulk/", []any{
				map[string]any{"phone": "79301234567", "tag": "bulk"},
				map[string]any{"phone": 79311234567, "tag": "bulk", "timezone": "Europe/Moscow"},
				map[string]any{"phone": "79321234567", "tag": "bulk", "id": 5},
			}))
			require.Len(t, created, 3)
			require.Equal(t, "79311234567", created[1].Phone)
			require.Equal(t, "931", created[1].OperatorCode)

			// All or nothing: one list entry per item.
			c.do(t, "POST", "/clients/bulk", []any{
				map[string]any{"phone": "79331234567", "tag": "bulk"},
				map[string]any{"phone": "79341234567", "timezone": "Mars/Olympus"},
				map[string]any{"phone": "79331234567"},
			}).requireJSON(t, http.StatusBadRequest, `[
				{},
				{"timezone": ["Must be an IANA time zone name such as Europe/Moscow or UTC."]},
				{"phone": ["Is the same phone as item 0."]}
			]`)
			c.do(t, "POST", "/clients/bulk", []any{
				map[string]any{"phone": "79331234567", "tag": "bulk"},
				map[string]any{"phone": "79301234567", "tag": "bulk"},
			}).requireJSON(t, http.StatusBadRequest, `[{}, {"phone": ["A client with this phone already exists."]}]`)
			c.do(t, "POST", "/clients/bulk/", []any{
				map[string]any{"phone": "79331234567"},
				map[string]any{"phone": "79341234567", "nickname": "x"},
				map[string]any{"tag": "x"},
			}, invalidRequest).requireJSON(t, http.StatusBadRequest, `[{}, {"nickname": ["Unknown field."]}, {"phone": ["This field is required."]}]`)
			var pg restPage[restClientJSON]
			c.do(t, "GET", "/clients/?tag=bulk", nil).decode(t, &pg)
			require.Equal(t, 3, pg.Count, "a failed import writes nothing")

			c.do(t, "POST", "/clients/bulk/", map[string]any{"phone": "79351234567"}, invalidRequest).
				requireJSON(t, http.StatusBadRequest, `{"non_field_errors": ["Expected a list of items but got type \"dict\"."]}`)
			c.do(t, "POST", "/clients/bulk/", []any{"79351234567"}, invalidRequest).
				requireJSON(t, http.StatusBadRequest, `[{"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}]`)
			require.Equal(t, http.StatusBadRequest, c.do(t, "POST", "/clients/bulk/", rawBody(`[{"phone": "79351234567"},`), invalidRequest).Status)
			c.do(t, "POST", "/clients/bulk/", []any{}).requireJSON(t, http.StatusCreated, `[]`)

			// At most 10,000 per import (and the 10 MiB body limit, not 1 MiB, applies).
			many := make([]map[string]any, 10001)
			for i := range many {
				many[i] = map[string]any{"phone": fmt.Sprintf("7940%07d", i), "tag": strings.Repeat("t", 64)}
			}
			c.do(t, "POST", "/clients/bulk/", many, invalidRequest).
				requireJSON(t, http.StatusBadRequest, `{"non_field_errors": ["At most 10000 clients per import, got 10001."]}`)
			res := c.do(t, "POST", "/clients/bulk/", many[:10000])
			require.Equal(t, http.StatusCreated, res.Status, "body: %.300s", res.Body)
		})

		t.Run("MethodNotAllowed", func(t *testing.T) {
			res := c.do(t, "DELETE", "/clients/", nil, noRoute)
			require.Equal(t, http.StatusMethodNotAllowed, res.Status)
			require.Equal(t, "GET, POST", res.Header.Get("Allow"))
			res = c.do(t, "POST", "/clients/1/", nil, noRoute)
			require.Equal(t, http.StatusMethodNotAllowed, res.Status)
			require.Equal(t, "GET, PUT, PATCH, DELETE", res.Header.Get("Allow"))
			c.do(t, "GET", "/clients/1/messages/", nil, noRoute).requireJSON(t, http.StatusNotFound, `{"detail": "Not found."}`)
		})
	})
}

// clockTime formats t as a send-window time of day in UTC.
func clockTime(t time.Time) string { return t.UTC().Format("15:04") }

func TestRESTMailings(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		b := setup(t, databaseURL, setupOpts{})
		c := newRESTClient(t, b)
		now := time.Now()
		later, end := now.Add(24*time.Hour), now.Add(48*time.Hour)

		// Clients whose window (in UTC) is closed for the next hours, so the
		// running mailings below stay running with their messages deferred.
		for i := range 3 {
			c.createClient(t, map[string]any{"phone": fmt.Sprintf("7950%07d", i), "tag": "mailings"})
		}
		closedWindow := map[string]any{"from": clockTime(now.Add(3 * time.Hour)), "to": clockTime(now.Add(4 * time.Hour))}

		t.Run("Create", func(t *testing.T) {
			m := c.createMailing(t, map[string]any{
				"start_at":    later.Format(time.RFC3339),
				"end_at":      end.In(time.FixedZone("MSK", 3*3600)).Format(time.RFC3339),
				"text":        "Привет",
				"filter":      map[string]any{"operator_codes": []string{"950", "950"}, "tags": []string{"mailings"}},
				"send_window": map[string]any{"from": "09:00", "to": "21:00"},
				"status":      "running",
			})
			require.Equal(t, "scheduled", m.Status)
			require.True(t, m.StartAt.Equal(later.Truncate(time.Second)))
			require.True(t, m.EndAt.Equal(end.Truncate(time.Second)))
			require.Equal(t, "Привет", m.Text)
			require.Equal(t, []string{"950"}, m.Filter.OperatorCodes)
			require.Equal(t, []string{"mailings"}, m.Filter.Tags)
			require.Equal(t, "09:00", m.SendWindow.From)
			require.Equal(t, "21:00", m.SendWindow.To)

			// Inside its period: running at once. No filter or window.
			res := c.do(t, "POST", "/mailings", map[string]any{
				"start_at": now.Add(-time.Minute).Format(time.RFC3339Nano), "end_at": end.Format(time.RFC3339Nano), "text": "now",
				"filter": nil, "send_window": nil,
			})
			require.Equal(t, http.StatusCreated, res.Status, "body: %s", res.Body)
			obj := res.object(t)
			require.Equal(t, "running", obj["status"])
			require.Equal(t, map[string]any{"operator_codes": []any{}, "tags": []any{}}, obj["filter"])
			require.Nil(t, obj["send_window"])
		})

		t.Run("CreateInvalid", func(t *testing.T) {
			valid := func(changes map[string]any) map[string]any { return mailingBody(later, end, changes) }
			for _, tt := range []struct {
				name string
				body any
				opts []callOpt
				want string
			}{
				{"end before start", valid(map[string]any{"end_at": now.Add(time.Hour).Format(time.RFC3339)}), nil,
					`{"end_at": ["Must be after the start time."]}`},
				{"end in the past", valid(map[string]any{"start_at": now.Add(-2 * time.Hour).Format(time.RFC3339), "end_at": now.Add(-time.Hour).Format(time.RFC3339)}), nil,
					`{"end_at": ["Must be in the future."]}`},
				{"no offset", valid(map[string]any{"start_at": "2030-01-01T09:00:00"}), []callOpt{invalidRequest},
					`{"start_at": ["Datetime has wrong format: use RFC 3339 with an offset, e.g. 2026-01-02T09:00:00+03:00."]}`},
				{"missing fields", valid(map[string]any{"text": nil, "end_at": nil}), []callOpt{invalidRequest},
					`{"text": ["This field is required."], "end_at": ["This field is required."]}`},
				{"empty text", valid(map[string]any{"text": ""}), []callOpt{invalidRequest},
					`{"text": ["Must not be empty."]}`},
				{"bad window", valid(map[string]any{"send_window": map[string]any{"from": "25:00", "to": "9"}}), []callOpt{invalidRequest},
					`{"send_window": {"from": ["Hour must be between 00 and 23."], "to": ["Must be a time of day in HH:MM format."]}}`},
				{"window from = to", valid(map[string]any{"send_window": map[string]any{"from": "09:00", "to": "09:00"}}), nil,
					`{"send_window": {"to": ["Must differ from from."]}}`},
				{"window incomplete", valid(map[string]any{"send_window": map[string]any{"from": "09:00"}}), []callOpt{invalidRequest},
					`{"send_window": {"to": ["This field is required."]}}`},
				{"bad filter", valid(map[string]any{"filter": map[string]any{"operator_codes": []string{"9"}}}), []callOpt{invalidRequest},
					`{"filter": {"operator_codes": ["\"9\" is not 3 digits."]}}`},
				{"unknown nested field", valid(map[string]any{"filter": map[string]any{"regions": []string{"x"}}}), []callOpt{invalidRequest},
					`{"filter": {"regions": ["Unknown field."]}}`},
				{"wrong nested type", valid(map[string]any{"filter": map[string]any{"tags": []any{"a", 1}}}), []callOpt{invalidRequest},
					`{"filter": {"tags": {"1": ["Not a valid string."]}}}`},
				{"wrong type", valid(map[string]any{"start_at": 1700000000}), []callOpt{invalidRequest},
					`{"start_at": ["Datetime has wrong format: use RFC 3339 with an offset, e.g. 2026-01-02T09:00:00+03:00."]}`},
			} {
				t.Run(tt.name, func(t *testing.T) {
					c.do(t, "POST", "/mailings/", tt.body, tt.opts...).requireJSON(t, http.StatusBadRequest, tt.want)
				})
			}
		})

		t.Run("Update", func(t *testing.T) {
			m := c.createMailing(t, map[string]any{
				"start_at": later.Format(time.RFC3339), "end_at": end.Format(time.RFC3339), "text": "a",
				"filter": map[string]any{"tags": []string{"x"}}, "send_window": map[string]any{"from": "22:00", "to": "06:00"},
			})
			path := fmt.Sprintf("/mailings/%d/", m.ID)

			got := requireAnswer[restMailingJSON](t, http.StatusOK, c.do(t, "PATCH", path, map[string]any{"text": "b"}))
			require.Equal(t, "b", got.Text)
			require.Equal(t, []string{"x"}, got.Filter.Tags)
			require.NotNil(t, got.SendWindow)

			// Explicit null clears the filter and the window.
			res := c.do(t, "PATCH", strings.TrimSuffix(path, "/"), map[string]any{"filter": nil, "send_window": nil})
			require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
			obj := res.object(t)
			require.Equal(t, map[string]any{"operator_codes": []any{}, "tags": []any{}}, obj["filter"])
			require.Nil(t, obj["send_window"])

			c.do(t, "PATCH", path, map[string]any{"text": nil}, invalidRequest).
				requireJSON(t, http.StatusBadRequest, `{"text": ["This field may not be null."]}`)
			c.do(t, "PATCH", path, map[string]any{"end_at": now.Add(-time.Hour).Format(time.RFC3339)}).
				requireJSON(t, http.StatusBadRequest, `{"end_at": ["Must be after the start time.", "Must be in the future."]}`)

			// PUT: the three required fields; an omitted window keeps its value.
			c.do(t, "PUT", path, map[string]any{"text": "c"}, invalidRequest).
				requireJSON(t, http.StatusBadRequest, `{"start_at": ["This field is required."], "end_at": ["This field is required."]}`)
			c.do(t, "PATCH", path, map[string]any{"send_window": map[string]any{"from": "08:00", "to": "20:00"}})
			newStart := later.Add(time.Hour)
			got = requireAnswer[restMailingJSON](t, http.StatusOK, c.do(t, "PUT", path, map[string]any{
				"start_at": newStart.Format(time.RFC3339), "end_at": end.Format(time.RFC3339), "text": "c",
				"filter": map[string]any{"operator_codes": []string{"950"}},
			}))
			require.True(t, got.StartAt.Equal(newStart.Truncate(time.Second)))
			require.Equal(t, "c", got.Text)
			require.Equal(t, []string{"950"}, got.Filter.OperatorCodes)
			require.Equal(t, []string{}, got.Filter.Tags)
			require.Equal(t, "08:00", got.SendWindow.From)

			// PUT back what GET returned (read-only fields included) is no change.
			read := c.do(t, "GET", path, nil).object(t)
			res = c.do(t, "PUT", path, read)
			require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
			require.JSONEq(t, string(c.do(t, "GET", path, nil).Body), string(res.Body))

			notFound := `{"detail": "Not found."}`
			c.do(t, "PATCH", "/mailings/99999999/", map[string]any{"text": "x"}).requireJSON(t, http.StatusNotFound, notFound)
			c.do(t, "PUT", "/mailings/99999999/", map[string]any{"start_at": later.Format(time.RFC3339), "end_at": end.Format(time.RFC3339), "text": "x"}).
				requireJSON(t, http.StatusNotFound, notFound)
		})

		t.Run("Lifecycle", func(t *testing.T) {
			scheduled := c.createMailing(t, map[string]any{"start_at": later.Format(time.RFC3339), "end_at": end.Format(time.RFC3339), "text": "s"})
			running := c.createMailing(t, map[string]any{
				"start_at": now.Format(time.RFC3339Nano), "end_at": end.Format(time.RFC3339), "text": "r",
				"filter": map[string]any{"tags": []string{"mailings"}}, "send_window": closedWindow,
			})
			require.Equal(t, "running", running.Status)
			action := func(id int, name string) restResponse {
				return c.do(t, "POST", fmt.Sprintf("/mailings/%d/%s/", id, name), nil)
			}
			requireStatus := func(res restResponse, want string) {
				t.Helper()
				require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
				require.Equal(t, want, res.object(t)["status"])
			}
			requireConflict := func(res restResponse) {
				t.Helper()
				require.Equal(t, http.StatusConflict, res.Status, "body: %s", res.Body)
				require.NotEmpty(t, res.object(t)["detail"])
			}

			requireConflict(action(scheduled.ID, "pause"))
			requireConflict(action(scheduled.ID, "resume"))
			res := action(scheduled.ID, "pause")
			require.Equal(t, fmt.Sprintf(`{"detail":"cannot pause mailing %d: it is scheduled"}`, scheduled.ID), strings.TrimSpace(string(res.Body)))

			requireStatus(action(running.ID, "pause"), "paused")
			requireStatus(action(running.ID, "pause"), "paused")
			requireStatus(c.do(t, "POST", fmt.Sprintf("/mailings/%d/resume", running.ID), nil), "running")
			requireStatus(action(running.ID, "resume"), "running")
			// start_at and filter change only while scheduled; text also while running.
			requireConflict(c.do(t, "PATCH", fmt.Sprintf("/mailings/%d/", running.ID), map[string]any{"filter": map[string]any{"tags": []string{"other"}}}))
			res = c.do(t, "PATCH", fmt.Sprintf("/mailings/%d/", running.ID), map[string]any{"text": "r2"})
			require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
			requireStatus(c.do(t, "POST", fmt.Sprintf("/mailings/%d/cancel", running.ID), nil), "cancelled")
			requireConflict(action(running.ID, "cancel"))
			requireConflict(action(running.ID, "pause"))
			requireConflict(action(running.ID, "resume"))
			requireConflict(c.do(t, "PATCH", fmt.Sprintf("/mailings/%d/", running.ID), map[string]any{"text": "late"}))

			requireStatus(action(scheduled.ID, "cancel"), "cancelled")
			for _, name := range []string{"pause", "resume", "cancel"} {
				action(99999999, name).requireJSON(t, http.StatusNotFound, `{"detail": "Not found."}`)
			}

			// The cancelled mailing's messages are cancelled.
			var stats struct {
				Total    int            `json:"total"`
				ByStatus map[string]int `json:"by_status"`
			}
			c.do(t, "GET", fmt.Sprintf("/mailings/%d/detail_statistics/", running.ID), nil).decode(t, &stats)
			require.Equal(t, stats.Total, stats.ByStatus["cancelled"])

			res = c.do(t, "POST", "/mailings/1/pause/", rawBody(`{"ignored": true}`))
			require.Contains(t, []int{http.StatusOK, http.StatusConflict}, res.Status, "a body is ignored")
		})

		t.Run("ListAndDelete", func(t *testing.T) {
			var pg restPage[restMailingJSON]
			c.do(t, "GET", "/mailings/?page_size=1", nil).decode(t, &pg)
			require.Greater(t, pg.Count, 2)
			require.Len(t, pg.Results, 1)
			require.NotNil(t, pg.Next)

			c.do(t, "GET", "/mailings?status=cancelled", nil).decode(t, &pg)
			require.Equal(t, 2, pg.Count)
			for _, m := range pg.Results {
				require.Equal(t, "cancelled", m.Status)
			}
			c.do(t, "GET", "/mailings/?status=bogus", nil, invalidRequest).
				requireJSON(t, http.StatusBadRequest, `{"status": ["Select a valid choice. bogus is not one of the available choices."]}`)
			c.do(t, "GET", "/mailings/?page=1000", nil).requireJSON(t, http.StatusNotFound, `{"detail": "Invalid page."}`)

			m := c.createMailing(t, map[string]any{
				"start_at": now.Format(time.RFC3339Nano), "end_at": end.Format(time.RFC3339), "text": "d",
				"filter": map[string]any{"tags": []string{"mailings"}}, "send_window": closedWindow,
			})
			res := c.do(t, "DELETE", fmt.Sprintf("/mailings/%d", m.ID), nil)
			require.Equal(t, http.StatusNoContent, res.Status)
			c.do(t, "GET", fmt.Sprintf("/mailings/%d/", m.ID), nil).requireJSON(t, http.StatusNotFound, `{"detail": "Not found."}`)
			c.do(t, "DELETE", fmt.Sprintf("/mailings/%d/", m.ID), nil).requireJSON(t, http.StatusNotFound, `{"detail": "Not found."}`)
			c.do(t, "GET", "/mailings/x/", nil, invalidRequest).requireJSON(t, http.StatusNotFound, `{"detail": "Not found."}`)

			res = c.do(t, "PATCH", "/mailings/", nil, noRoute)
			require.Equal(t, http.StatusMethodNotAllowed, res.Status)
			require.Equal(t, "GET, POST", res.Header.Get("Allow"))
		})
	})
}

func TestRESTStatistics(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		b := setup(t, databaseURL, setupOpts{})
		c := newRESTClient(t, b)
		zeros := `{"queued": 0, "retrying": 0, "sent": 0, "failed": 0, "expired": 0, "cancelled": 0}`

		c.do(t, "GET", "/mailings/general_statistics/", nil).
			requireJSON(t, http.StatusOK, `{"mailings": 0, "messages": 0, "by_status": `+zeros+`, "per_mailing": []}`)

		clients := requireAnswer[[]restClientJSON](t, http.StatusCreated, c.do(t, "POST", "/clients/bulk/", []any{
			map[string]any{"phone": "79601234567", "tag": "stats"},
			map[string]any{"phone": "79611234567", "tag": "stats"},
			map[string]any{"phone": "79621234567", "tag": "stats"},
		}))

		now := time.Now()
		m := c.createMailing(t, map[string]any{
			"start_at": now.Format(time.RFC3339), "end_at": now.Add(time.Hour).Format(time.RFC3339),
			"text": "stats", "filter": map[string]any{"tags": []string{"stats"}},
		})
		scheduled := c.createMailing(t, map[string]any{
			"start_at": now.Add(time.Hour).Format(time.RFC3339), "end_at": now.Add(2 * time.Hour).Format(time.RFC3339), "text": "later",
		})
		detailPath := fmt.Sprintf("/mailings/%d/detail_statistics/", m.ID)

		// The fake sender accepts everything: wait for all three to be sent.
		type detail struct {
			Mailing  restMailingJSON `json:"mailing"`
			Total    int             `json:"total"`
			ByStatus map[string]int  `json:"by_status"`
			Messages restPage[struct {
				ID        int        `json:"id"`
				ClientID  *int       `json:"client_id"`
				Phone     string     `json:"phone"`
				Status    string     `json:"status"`
				SentAt    *time.Time `json:"sent_at"`
				Attempts  int        `json:"attempts"`
				LastError *string    `json:"last_error"`
			}] `json:"messages"`
		}
		var d detail
		waitFor(t, 30*time.Second, "the mailing to finish", func() bool {
			c.do(t, "GET", detailPath, nil).decode(t, &d)
			return d.Mailing.Status == "finished"
		})
		require.Equal(t, 3, d.Total)
		require.Equal(t, map[string]int{"queued": 0, "retrying": 0, "sent": 3, "failed": 0, "expired": 0, "cancelled": 0}, d.ByStatus)
		require.Equal(t, 3, d.Messages.Count)
		require.Len(t, d.Messages.Results, 3)
		for i, msg := range d.Messages.Results {
			require.Equal(t, "sent", msg.Status)
			require.NotNil(t, msg.SentAt)
			require.Equal(t, 1, msg.Attempts)
			require.Nil(t, msg.LastError)
			require.Equal(t, clients[i].ID, *msg.ClientID)
			require.Equal(t, clients[i].Phone, msg.Phone)
		}
		// The message ids are the msgIds the sending API saw.
		stats := b.fake.Stats()
		for _, msg := range d.Messages.Results {
			require.Equal(t, 1, stats.Messages[int64(msg.ID)].Accepted, "msgId %d", msg.ID)
		}

		// The by_status keys come in enum order, zeros included.
		raw := c.do(t, "GET", detailPath, nil).Body
		require.Contains(t, string(raw), `"by_status":{"queued":0,"retrying":0,"sent":3,"failed":0,"expired":0,"cancelled":0}`)

		// Messages are paginated and filterable; a deleted client leaves its phone.
		require.Equal(t, http.StatusNoContent, c.do(t, "DELETE", fmt.Sprintf("/clients/%d/", clients[0].ID), nil).Status)
		c.do(t, "GET", detailPath+"?page_size=2", nil).decode(t, &d)
		require.Len(t, d.Messages.Results, 2)
		require.Nil(t, d.Messages.Results[0].ClientID)
		require.Equal(t, clients[0].Phone, d.Messages.Results[0].Phone)
		require.Equal(t, url.Values{"page_size": {"2"}, "page": {"2"}}, queryOf(t, d.Messages.Next))
		c.do(t, "GET", strings.TrimSuffix(detailPath, "/")+"?page_size=2&page=2", nil).decode(t, &d)
		require.Len(t, d.Messages.Results, 1)
		require.Equal(t, 3, d.Total, "the counts are of all messages, not of the page")
		c.do(t, "GET", detailPath+"?page=3&page_size=2", nil).requireJSON(t, http.StatusNotFound, `{"detail": "Invalid page."}`)
		c.do(t, "GET", detailPath+"?status=failed", nil).decode(t, &d)
		require.Equal(t, 0, d.Messages.Count)
		c.do(t, "GET", detailPath+"?status=nope", nil, invalidRequest).
			requireJSON(t, http.StatusBadRequest, `{"status": ["Select a valid choice. nope is not one of the available choices."]}`)
		c.do(t, "GET", "/mailings/99999999/detail_statistics/", nil).requireJSON(t, http.StatusNotFound, `{"detail": "Not found."}`)

		// A scheduled mailing has no messages yet.
		c.do(t, "GET", fmt.Sprintf("/mailings/%d/detail_statistics", scheduled.ID), nil).decode(t, &d)
		require.Equal(t, 0, d.Total)
		require.Equal(t, "scheduled", d.Mailing.Status)

		// General statistics: newest first, limited.
		sent := `{"queued": 0, "retrying": 0, "sent": 3, "failed": 0, "expired": 0, "cancelled": 0}`
		c.do(t, "GET", "/mailings/general_statistics/", nil).requireJSON(t, http.StatusOK, fmt.Sprintf(`{
			"mailings": 2, "messages": 3, "by_status": %s,
			"per_mailing": [
				{"mailing_id": %d, "status": "scheduled", "total": 0, "by_status": %s},
				{"mailing_id": %d, "status": "finished", "total": 3, "by_status": %s}
			]}`, sent, scheduled.ID, zeros, m.ID, sent))
		var general struct {
			PerMailing []any `json:"per_mailing"`
		}
		c.do(t, "GET", "/mailings/general_statistics?limit=1", nil).decode(t, &general)
		require.Len(t, general.PerMailing, 1)
		c.do(t, "GET", "/mailings/general_statistics/?limit=0", nil, invalidRequest).
			requireJSON(t, http.StatusBadRequest, `{"limit": ["Must be between 1 and 1000."]}`)
		c.do(t, "GET", "/mailings/general_statistics/?limit=1001", nil, invalidRequest).
			requireJSON(t, http.StatusBadRequest, `{"limit": ["Must be between 1 and 1000."]}`)
		c.do(t, "GET", "/mailings/general_statistics/?limit=many", nil, invalidRequest).
			requireJSON(t, http.StatusBadRequest, `{"limit": ["A valid integer is required."]}`)

		// The daily report of the day the mailing ran lists it (the scheduled
		// one is not active); the report zone is UTC by default.
		var report struct {
			Date   string `json:"date"`
			Zone   string `json:"zone"`
			Totals struct {
				Mailings int            `json:"mailings"`
				Messages int            `json:"messages"`
				ByStatus map[string]int `json:"by_status"`
			} `json:"totals"`
			Mailings []struct {
				MailingID int    `json:"mailing_id"`
				Status    string `json:"status"`
				Total     int    `json:"total"`
			} `json:"mailings"`
			HTML string `json:"html"`
			Text string `json:"text"`
		}
		day := m.StartAt.UTC().Format(time.DateOnly)
		c.do(t, "GET", "/reports/daily/?date="+day, nil).decode(t, &report)
		require.Equal(t, day, report.Date)
		require.Equal(t, "UTC", report.Zone)
		require.Equal(t, 1, report.Totals.Mailings)
		require.Equal(t, 3, report.Totals.Messages)
		require.Equal(t, 3, report.Totals.ByStatus["sent"])
		require.Len(t, report.Mailings, 1)
		require.Equal(t, m.ID, report.Mailings[0].MailingID)
		require.Equal(t, "finished", report.Mailings[0].Status)
		require.NotEmpty(t, report.HTML)
		require.NotEmpty(t, report.Text)

		// Default: yesterday (read around the call, in case midnight passes).
		before := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
		c.do(t, "GET", "/reports/daily", nil).decode(t, &report)
		after := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
		require.Contains(t, []string{before, after}, report.Date)
		c.do(t, "GET", "/reports/daily/?date=2000-01-01", nil).decode(t, &report)
		require.Equal(t, 0, report.Totals.Mailings)
		require.Empty(t, report.Mailings)
		c.do(t, "GET", "/reports/daily/?date=yesterday", nil, invalidRequest).
			requireJSON(t, http.StatusBadRequest, `{"date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}`)
	})
}

// TestRESTRefusesNonJSONBody checks, on the running service, that a body
// not declared as JSON is refused with a 415 and changes nothing — the
// text/plain post an HTML form on any web page can send cross-site — while
// JSON with a charset and requests without a body work as before.
func TestRESTRefusesNonJSONBody(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		b := setup(t, databaseURL, setupOpts{})
		c := newRESTClient(t, b)
		later := time.Now().Add(24 * time.Hour)
		mailing := fmt.Sprintf(`{"start_at": %q, "end_at": %q, "text": "from a form"}`,
			later.Format(time.RFC3339), later.Add(time.Hour).Format(time.RFC3339))
		refused := func(contentType string) string {
			return `{"detail": "Unsupported media type \"` + contentType + `\" in request."}`
		}

		c.do(t, "POST", "/mailings/", typedBody{"text/plain", mailing}, invalidRequest).
			requireJSON(t, http.StatusUnsupportedMediaType, `{"detail": "Unsupported media type \"text/plain\" in request."}`)
		c.do(t, "POST", "/mailings", typedBody{"text/plain;charset=UTF-8", mailing}, invalidRequest).
			requireJSON(t, http.StatusUnsupportedMediaType, refused("text/plain;charset=UTF-8"))
		c.do(t, "POST", "/clients/", typedBody{"application/x-www-form-urlencoded", "phone=79001234567"}, invalidRequest).
			requireJSON(t, http.StatusUnsupportedMediaType, refused("application/x-www-form-urlencoded"))
		c.do(t, "POST", "/clients/bulk/", typedBody{"", `[{"phone": "79001234567"}]`}, invalidRequest).
			requireJSON(t, http.StatusUnsupportedMediaType, refused(""))
		var mailings restPage[restMailingJSON]
		c.do(t, "GET", "/mailings/", nil).decode(t, &mailings)
		require.Zero(t, mailings.Count, "a refused body creates nothing")
		var clients restPage[restClientJSON]
		c.do(t, "GET", "/clients/", nil).decode(t, &clients)
		require.Zero(t, clients.Count, "a refused body creates nothing")

		// JSON with a charset is JSON.
		m := requireAnswer[restMailingJSON](t, http.StatusCreated, c.do(t, "POST", "/mailings/", typedBody{"application/json; charset=utf-8", mailing}))
		path := fmt.Sprintf("/mailings/%d/", m.ID)

		// Updates and lifecycle actions with a form's body: refused, unchanged.
		c.do(t, "PATCH", path, typedBody{"text/plain", `{"text": "changed"}`}, invalidRequest).
			requireJSON(t, http.StatusUnsupportedMediaType, refused("text/plain"))
		c.do(t, "PUT", path, typedBody{"text/plain", mailing}, invalidRequest).
			requireJSON(t, http.StatusUnsupportedMediaType, refused("text/plain"))
		c.do(t, "POST", path+"cancel/", typedBody{"text/plain", "x"}).
			requireJSON(t, http.StatusUnsupportedMediaType, refused("text/plain"))
		var got restMailingJSON
		c.do(t, "GET", path, nil).decode(t, &got)
		require.Equal(t, "from a form", got.Text)
		require.Equal(t, "scheduled", got.Status)

		// Requests without a body are unaffected.
		res := c.do(t, "POST", path+"cancel/", nil)
		require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
		require.Equal(t, "cancelled", res.object(t)["status"])
		require.Equal(t, http.StatusNoContent, c.do(t, "DELETE", path, nil).Status)
	})
}

// TestRESTWrongJSONTypeNamesField checks, on the running service, that a
// value of the wrong JSON type is a 400 naming the field with Django REST
// framework's message, nested as it nests them, and writes nothing.
func TestRESTWrongJSONTypeNamesField(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		b := setup(t, databaseURL, setupOpts{})
		c := newRESTClient(t, b)
		later := time.Now().Add(24 * time.Hour)
		mailing := func(changes map[string]any) map[string]any { return mailingBody(later, later.Add(time.Hour), changes) }

		c.do(t, "POST", "/clients/", map[string]any{"phone": "79001234567", "tag": 5}, invalidRequest).
			requireJSON(t, http.StatusBadRequest, `{"tag": ["Not a valid string."]}`)
		c.do(t, "POST", "/clients/", map[string]any{"phone": true, "timezone": []string{"UTC"}}, invalidRequest).
			requireJSON(t, http.StatusBadRequest, `{"phone": ["Not a valid string."], "timezone": ["Not a valid string."]}`)
		c.do(t, "POST", "/clients/bulk/", []any{map[string]any{"phone": "79001234567"}, map[string]any{"phone": "79011234567", "operator_code": 901}}, invalidRequest).
			requireJSON(t, http.StatusBadRequest, `[{}, {"operator_code": ["Not a valid string."]}]`)
		var clients restPage[restClientJSON]
		c.do(t, "GET", "/clients/", nil).decode(t, &clients)
		require.Zero(t, clients.Count, "nothing written")

		c.do(t, "POST", "/mailings/", mailing(map[string]any{"text": 5, "filter": map[string]any{"tags": "vip"}}), invalidRequest).
			requireJSON(t, http.StatusBadRequest, `{"text": ["Not a valid string."], "filter": {"tags": ["Expected a list of items but got type \"str\"."]}}`)
		c.do(t, "POST", "/mailings/", mailing(map[string]any{"send_window": []string{"09:00", "21:00"}}), invalidRequest).
			requireJSON(t, http.StatusBadRequest, `{"send_window": {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}}`)
		m := c.createMailing(t, mailing(nil))
		c.do(t, "PATCH", fmt.Sprintf("/mailings/%d/", m.ID), map[string]any{"send_window": map[string]any{"from": 9, "to": "21:00"}}, invalidRequest).
			requireJSON(t, http.StatusBadRequest, `{"send_window": {"from": ["Not a valid string."]}}`)
		var got restMailingJSON
		c.do(t, "GET", fmt.Sprintf("/mailings/%d/", m.ID), nil).decode(t, &got)
		require.Nil(t, got.SendWindow, "nothing written")

		// Broken JSON is no field's: a detail, as Django REST framework says it.
		res := c.do(t, "POST", "/clients/", rawBody(`{"tag": 5,}`), invalidRequest)
		require.Equal(t, http.StatusBadRequest, res.Status)
		require.Contains(t, res.object(t)["detail"], "JSON parse error - ")
	})
}
