package rest

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/report"
)

// TestDocument checks that the embedded document is valid OpenAPI (its
// examples included) and names exactly the routes the API serves.
func TestDocument(t *testing.T) {
	t.Parallel()

	b, err := Document()
	require.NoError(t, err)
	doc, err := openapi3.NewLoader().LoadFromData(b)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(t.Context(), openapi3.EnableExamplesValidation()))

	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	slices.Sort(documented)

	a := &API{mux: http.NewServeMux()}
	a.routes()
	served := slices.Sorted(slices.Values(a.patterns))
	require.Equal(t, served, documented)
}

// TestNoRoute checks the JSON answers of paths and methods the API lacks.
func TestNoRoute(t *testing.T) {
	t.Parallel()

	a := &API{mux: http.NewServeMux()}
	a.routes()
	for _, tt := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/clients/1/nope/", http.StatusNotFound, ""},
		{"DELETE", "/clients/", http.StatusMethodNotAllowed, "GET, POST"},
		{"DELETE", "/clients", http.StatusMethodNotAllowed, "GET, POST"},
		{"POST", "/clients/1/", http.StatusMethodNotAllowed, "GET, PUT, PATCH, DELETE"},
		{"GET", "/mailings/1/pause/", http.StatusMethodNotAllowed, "POST"},
		// Paths of their own beside /{id}/, as in Django REST framework.
		{"GET", "/clients/bulk/", http.StatusMethodNotAllowed, "POST"},
		{"DELETE", "/clients/bulk", http.StatusMethodNotAllowed, "POST"},
		{"HEAD", "/clients/bulk/", http.StatusMethodNotAllowed, "POST"},
		{"PUT", "/mailings/general_statistics/", http.StatusMethodNotAllowed, "GET"},
		{"POST", "/mailings/general_statistics", http.StatusMethodNotAllowed, "GET"},
	} {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		require.Equal(t, tt.status, rec.Code, "%s %s", tt.method, tt.path)
		require.Equal(t, tt.allow, rec.Header().Get("Allow"), "%s %s", tt.method, tt.path)
		require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		if tt.method == http.MethodHead {
			continue
		}
		var body detail
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		require.NotEmpty(t, body.Detail)
	}
}

// fakeReports builds an empty report of a day in zone.
type fakeReports struct{ zone *time.Location }

func (f fakeReports) Build(_ context.Context, date time.Time) (*report.Report, error) {
	from := time.Date(date.Year(), date.Month(), date.Day(), 0, 0, 0, 0, f.zone)
	return &report.Report{Date: date, From: from, To: from.AddDate(0, 0, 1), Zone: f.zone.String(), GeneratedAt: time.Now()}, nil
}
func (fakeReports) DefaultDate(now time.Time) time.Time { return now.Truncate(24 * time.Hour) }
func (fakeReports) Now() time.Time                      { return time.Now() }

// TestReportDateRange checks that a report is asked for only of a date
// whose day JSON can show in any zone: the last and first days are a 400
// naming date, not a 500.
func TestReportDateRange(t *testing.T) {
	t.Parallel()
	for _, zone := range []string{"Pacific/Kiritimati", "Etc/GMT+12"} { // UTC+14, UTC−12
		loc, err := time.LoadLocation(zone)
		require.NoError(t, err)
		a := &API{mux: http.NewServeMux(), reports: fakeReports{loc}, logger: slog.New(slog.DiscardHandler)}
		a.routes()
		for date, status := range map[string]int{
			"0000-01-01": http.StatusBadRequest, "0000-12-31": http.StatusBadRequest, "0001-01-01": http.StatusOK,
			"2026-11-25": http.StatusOK, "9999-12-30": http.StatusOK, "9999-12-31": http.StatusBadRequest,
		} {
			rec := httptest.NewRecorder()
			a.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/reports/daily/?date="+date, nil))
			require.Equal(t, status, rec.Code, "%s in %s: %s", date, zone, rec.Body)
			if status == http.StatusBadRequest {
				require.JSONEq(t, `{"date": ["Date must be between 0001-01-01 and 9999-12-30."]}`, rec.Body.String())
			}
		}
	}
}

func TestRespell(t *testing.T) {
	t.Parallel()

	v := &campaign.ValidationError{Fields: []campaign.FieldError{
		{Field: "phone", Message: "must be 7 followed by 10 digits"},
		{Field: "operatorCode", Message: "must be exactly 3 digits"},
		{Field: "sendWindow.from", Message: "must be HH:MM."},
		{Field: "filter.operatorCodes", Message: `"9" is not 3 digits`},
		{Field: "3.phone", Message: "is the same phone as item 1"},
		{Field: "input", Message: "at most 10000 clients per import, got 10001"},
	}}
	got := respell(v)
	want := []fieldError{
		{path: []string{"phone"}, msg: "Must be 7 followed by 10 digits."},
		{path: []string{"operator_code"}, msg: "Must be exactly 3 digits."},
		{path: []string{"send_window", "from"}, msg: "Must be HH:MM."},
		{path: []string{"filter", "operator_codes"}, msg: `"9" is not 3 digits.`},
		{path: []string{"3", "phone"}, msg: "Is the same phone as item 1."},
		{path: nil, msg: "At most 10000 clients per import, got 10001."},
	}
	require.Equal(t, want, got)
}

func TestFieldErrorsBody(t *testing.T) {
	t.Parallel()

	for _, tt := range []struct {
		name   string
		fields []fieldError
		items  int
		want   string
	}{
		{
			name:   "flat",
			fields: []fieldError{{[]string{"phone"}, "a"}, {[]string{"phone"}, "b"}, {[]string{"tag"}, "c"}},
			want:   `{"phone":["a","b"],"tag":["c"]}`,
		},
		{
			name:   "nested",
			fields: []fieldError{{[]string{"send_window", "from"}, "a"}, {[]string{"filter", "tags"}, "b"}},
			want:   `{"filter":{"tags":["b"]},"send_window":{"from":["a"]}}`,
		},
		{
			name:   "whole object",
			fields: []fieldError{{nil, "a"}},
			want:   `{"non_field_errors":["a"]}`,
		},
		{
			name:   "bulk",
			fields: []fieldError{{[]string{"1", "phone"}, "a"}, {[]string{"3", "nickname"}, "b"}},
			items:  4,
			want:   `[{},{"phone":["a"]},{},{"nickname":["b"]}]`,
		},
		{
			name:   "bulk as a whole",
			fields: []fieldError{{nil, "a"}},
			items:  2,
			want:   `{"non_field_errors":["a"]}`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(fieldErrorsBody(tt.fields, tt.items))
			require.NoError(t, err)
			require.JSONEq(t, tt.want, string(b))
		})
	}
}

// TestInput covers the reading of JSON bodies that never reaches the
// domain: types, nulls, unknown and read-only fields.
func TestInput(t *testing.T) {
	t.Parallel()

	for _, tt := range []struct {
		name, body string
		full       bool
		wantErr    string // JSON of the error body, or "" for none
		check      func(t *testing.T, p campaign.ClientPatch)
	}{
		{name: "phone as string", body: `{"phone":"79001234567"}`, full: true, check: func(t *testing.T, p campaign.ClientPatch) {
			require.Equal(t, "79001234567", *p.Phone)
		}},
		{name: "phone as integer", body: `{"phone":79001234567}`, full: true, check: func(t *testing.T, p campaign.ClientPatch) {
			require.Equal(t, "79001234567", *p.Phone)
		}},
		{name: "read-only ignored", body: `{"id":5,"status":"x","created_at":1,"updated_at":null,"tag":"a"}`, check: func(t *testing.T, p campaign.ClientPatch) {
			require.Nil(t, p.Phone)
			require.Equal(t, "a", *p.Tag)
		}},
		{name: "phone required", body: `{"tag":"a"}`, full: true, wantErr: `{"phone":["This field is required."]}`},
		{name: "unknown field", body: `{"phone":"79001234567","nickname":"x"}`, wantErr: `{"nickname":["Unknown field."]}`},
		{name: "null", body: `{"tag":null}`, wantErr: `{"tag":["This field may not be null."]}`},
		{name: "wrong type", body: `{"tag":5}`, wantErr: `{"tag":["Not a valid string."]}`},
		{name: "phone wrong type", body: `{"phone":true}`, wantErr: `{"phone":["Not a valid string."]}`},
		{name: "not an object", body: `[1]`, wantErr: `{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}`},
		{name: "empty body", body: ``, check: func(t *testing.T, p campaign.ClientPatch) {
			require.Equal(t, campaign.ClientPatch{}, p)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, "/clients/", strings.NewReader(tt.body))
			p, err := decodeClient(r, tt.full)
			if tt.wantErr == "" {
				require.NoError(t, err)
				tt.check(t, p)
				return
			}
			require.Error(t, err)
			rec := httptest.NewRecorder()
			(&API{}).writeError(rec, r, err)
			require.Equal(t, http.StatusBadRequest, rec.Code)
			require.JSONEq(t, tt.wantErr, rec.Body.String())
		})
	}
}
