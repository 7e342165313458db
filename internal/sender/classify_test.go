package sender

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status  int
		body    string
		want    Outcome
		wantErr string
	}{
		{200, okBody, Sent, ""},
		{200, `{"message":"OK","code":0}`, Sent, ""},
		{200, okBody + "\n", Sent, ""},
		{200, `{"code": 0, "message": "OK"}`, Sent, ""},
		{200, `{"Code":0}`, Transient, "malformed body: no code"},
		{200, `{"code":0,"code":1}`, Transient, "code 1"},
		{200, `{"code":0e5}`, Sent, ""},
		{200, `{"code":-0}`, Sent, ""},
		{200, `{"code":1e999}`, Transient, "code 1e999"},
		{200, `{"code":1` + strings.Repeat("0", 100) + `}`, Transient, "code 1" + strings.Repeat("0", maxCodeLen-1)},
		{200, `{"code":3,"message":{"nested":true}}`, Transient, `code 3: {"nested":true}`},
		{200, `{"code":3,"message":"line1\nline2"}`, Transient, "code 3: line1 line2"},
		{200, `{"code":true}`, Transient, "malformed body: code is not a number"},
		{200, `{"code":0} trailing`, Transient, "malformed body: invalid JSON"},
		{200, "\xff\xfe", Transient, "malformed body: not a JSON object"},
		{204, "", Transient, "unexpected http 204"},
		{100, "", Transient, "unexpected http 100"},
		{0, "", Transient, "unexpected http 0"},
		{599, "", Transient, "http 599"},
		{418, "teapot", Permanent, "http 418: teapot"},
		{400, "bad \xff byte", Permanent, "http 400: bad \uFFFD byte"},
		{400, "", Permanent, "http 400"},
		{410, strings.Repeat("я", 150), Permanent, "http 410: " + strings.Repeat("я", 100)},
	} {
		got, err := Classify(tt.status, []byte(tt.body))
		require.Equal(t, tt.want, got, "%d %q", tt.status, tt.body)
		if tt.wantErr == "" {
			require.NoError(t, err)
		} else {
			require.EqualError(t, err, tt.wantErr, "%d %q", tt.status, tt.body)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 5 ", 5 * time.Second, true},
		{"3600", time.Hour, true},
		{"3601", MaxRetryAfter, true},
		{"99999999999999999999999", MaxRetryAfter, true},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"5s", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"Sun, 01 Mar 2026 12:01:30 GMT", 90 * time.Second, true},
		{"Sunday, 01-Mar-26 12:01:30 GMT", 90 * time.Second, true}, // RFC 850
		{"Sun Mar  1 12:01:30 2026", 90 * time.Second, true},       // asctime
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{now.Add(48 * time.Hour).Format(http.TimeFormat), MaxRetryAfter, true},
	} {
		got, ok := ParseRetryAfter(tt.in, now)
		require.Equal(t, tt.want, got, "%q", tt.in)
		require.Equal(t, tt.wantOK, ok, "%q", tt.in)
	}
}

func FuzzClassify(f *testing.F) {
	for _, seed := range []struct {
		status int
		body   string
	}{
		{200, okBody}, {200, `{"code":7,"message":"x"}`}, {200, `{"code":"0"}`}, {200, "null"},
		{200, `{"code":0.0e-0}`}, {400, "bad"}, {503, ""}, {-1, "\xff"}, {1 << 40, "{"},
	} {
		f.Add(seed.status, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		got, err := Classify(status, body)
		switch got {
		case Sent:
			require.NoError(t, err)
			require.Equal(t, 200, status)
			var obj map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(body, &obj), "Sent needs a JSON object")
			require.Contains(t, obj, "code")
		case Permanent:
			require.Error(t, err)
			require.True(t, status >= 400 && status <= 499)
		case Transient:
			require.Error(t, err)
		default:
			t.Fatalf("outcome %d", got)
		}
		if err != nil {
			// At worst "code <number>: " and a snippet, whatever the body.
			require.LessOrEqual(t, len(err.Error()), len("code : ")+maxCodeLen+maxSnippet)
			require.NotContains(t, err.Error(), "\n")
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, seed := range []string{"", "0", "120", "-1", "99999999999999999999", "Sun, 01 Mar 2026 12:01:30 GMT", "Mon, 01 Jan 0001 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := ParseRetryAfter(v, now)
		require.GreaterOrEqual(t, d, time.Duration(0))
		require.LessOrEqual(t, d, MaxRetryAfter)
		if !ok {
			require.Zero(t, d)
		}
	})
}
