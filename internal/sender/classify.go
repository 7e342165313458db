package sender

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxRetryAfter caps a Retry-After the API asks for: a misconfigured or
// hostile server must not park messages for days.
const MaxRetryAfter = time.Hour

// maxCodeLen caps a non-zero code quoted in an error.
const maxCodeLen = 32

// okBody is the answer the API gives on success; it is matched byte for byte
// before falling back to a JSON decode.
const okBody = `{"code":0,"message":"OK"}`

// Classify maps an HTTP status and (the start of) an answer's body to an
// Outcome and, unless Sent, a short reason.
//
// Only 200 with a JSON object whose "code" is the number 0 is Sent. 5xx, 429,
// 401, 403 and 408, a malformed body and a non-zero code are Transient; any
// other 4xx is Permanent, with up to 200 bytes of the body in the reason.
// Other statuses (1xx, 3xx, 2xx other than 200) are Transient.
func Classify(status int, body []byte) (Outcome, error) {
	switch {
	case status == http.StatusOK:
		return classifyOK(body)
	case status >= 500 && status <= 599,
		status == http.StatusTooManyRequests,
		status == http.StatusUnauthorized,
		status == http.StatusForbidden,
		status == http.StatusRequestTimeout:
		return Transient, httpError(status, nil)
	case status >= 400 && status <= 499:
		return Permanent, httpError(status, body)
	default:
		return Transient, fmt.Errorf("unexpected http %d", status)
	}
}

// httpError returns "http 503", or "http 400: <snippet>" when body is not empty.
func httpError(status int, body []byte) error {
	if s := snippet(body); s != "" {
		return fmt.Errorf("http %d: %s", status, s)
	}
	return errors.New("http " + strconv.Itoa(status))
}

// okBodySpaced is okBody as the spec writes it.
const okBodySpaced = `{"code": 0, "message": "OK"}`

func classifyOK(body []byte) (Outcome, error) {
	body = bytes.TrimSpace(body) // json.Encoder ends its output with a newline
	if string(body) == okBody || string(body) == okBodySpaced {
		return Sent, nil
	}
	if len(body) == 0 || body[0] != '{' {
		return Transient, errors.New("malformed body: not a JSON object")
	}
	// A map rather than a struct: encoding/json matches struct fields
	// case-insensitively, and {"Code":0} is not the API's success.
	var a map[string]json.RawMessage
	if err := json.Unmarshal(body, &a); err != nil {
		return Transient, errors.New("malformed body: invalid JSON")
	}
	code := a["code"]
	if len(code) == 0 || string(code) == "null" {
		return Transient, errors.New("malformed body: no code")
	}
	if c := code[0]; c != '-' && (c < '0' || c > '9') {
		return Transient, errors.New("malformed body: code is not a number")
	}
	// The decode validated a JSON number; ParseFloat only fails on overflow,
	// which is non-zero anyway.
	if n, err := strconv.ParseFloat(string(code), 64); err == nil && n == 0 {
		return Sent, nil
	}
	if len(code) > maxCodeLen {
		code = code[:maxCodeLen] // a JSON number is ASCII: any cut is clean
	}
	var msg string
	if err := json.Unmarshal(a["message"], &msg); err != nil {
		msg = string(a["message"])
	}
	if msg = snippet([]byte(msg)); msg == "" {
		return Transient, fmt.Errorf("code %s", code)
	}
	return Transient, fmt.Errorf("code %s: %s", code, msg)
}

// snippet returns at most maxSnippet bytes of b as printable, valid UTF-8 on
// one line, cut at a rune boundary.
func snippet(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return ""
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		switch {
		case r == utf8.RuneError && size <= 1:
			r = utf8.RuneError
		case r < 0x20 || r == 0x7f:
			r = ' '
		}
		if sb.Len()+utf8.RuneLen(r) > maxSnippet {
			break
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// ParseRetryAfter parses a Retry-After header value, either delay-seconds or
// an HTTP-date relative to now. It returns the delay, capped at
// MaxRetryAfter and never negative, and whether the value was understood.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			var nerr *strconv.NumError
			if errors.As(err, &nerr) && errors.Is(nerr.Err, strconv.ErrRange) {
				return MaxRetryAfter, true
			}
			return 0, false
		}
		if secs > uint64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	return min(max(d, 0), MaxRetryAfter), true
}
