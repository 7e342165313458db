package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// readOnlyFields are accepted on input and ignored (SPEC §6): a client may
// send back what it read.
var readOnlyFields = []string{"id", "status", "created_at", "updated_at"}

// Messages of field errors, worded as Django REST framework words them.
const (
	msgRequired = "This field is required."
	msgNull     = "This field may not be null."
	msgUnknown  = "Unknown field."
)

// readBody reads the request body as one JSON value. An empty body reads as
// an empty object, as Django REST framework reads it. Returns a
// *requestError for malformed JSON, or the *http.MaxBytesError of a body
// over the route's limit.
func readBody(r *http.Request) (json.RawMessage, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, fmt.Errorf("error reading request body: %w", err)
		}
		return nil, badRequest("Error reading the request body: %v.", err)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return json.RawMessage("{}"), nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, badRequest("JSON parse error: %v (at byte %d).", syntax, syntax.Offset)
		}
		return nil, badRequest("JSON parse error: %v.", err)
	}
	return body, nil
}

// input reads a decoded JSON body into domain values, field by field. It
// collects problems with fields (unknown, missing, null, unreadable values)
// and keeps the first value of a wrong JSON type, which makes the whole
// request unreadable.
type input struct {
	fields []fieldError
	err    error
}

// result is the first type error, else the field problems, else nil.
func (in *input) result() error {
	if in.err != nil {
		return in.err
	}
	if len(in.fields) > 0 {
		return &invalidInput{fields: in.fields}
	}
	return nil
}

func (in *input) invalid(path []string, msg string) {
	in.fields = append(in.fields, fieldError{path: slices.Clone(path), msg: msg})
}

func (in *input) wrongType(path []string, want string, raw json.RawMessage) {
	if in.err == nil {
		where := "the request body"
		if len(path) > 0 {
			where = strings.Join(path, ".")
		}
		in.err = badRequest("Invalid value for %s: expected %s, got %s.", where, want, jsonKind(raw))
	}
}

// jsonKind names the JSON type of a valid JSON value.
func jsonKind(raw json.RawMessage) string {
	switch raw = bytes.TrimSpace(raw); {
	case len(raw) == 0:
		return "nothing"
	case raw[0] == '{':
		return "an object"
	case raw[0] == '[':
		return "an array"
	case raw[0] == '"':
		return "a string"
	case raw[0] == 't' || raw[0] == 'f':
		return "a boolean"
	case raw[0] == 'n':
		return "null"
	default:
		return "a number"
	}
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func pathTo(path []string, name string) []string {
	return append(slices.Clip(path), name)
}

// members is a JSON object being read.
type members map[string]json.RawMessage

// object reads raw as an object with the given fields; read-only fields are
// dropped and any other member is an unknown field. ok is false when raw is
// not an object.
func (in *input) object(raw json.RawMessage, path []string, fields, readOnly []string) (m members, ok bool) {
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		in.wrongType(path, "an object", raw)
		return nil, false
	}
	for name := range m {
		switch {
		case slices.Contains(fields, name):
		case slices.Contains(readOnly, name):
			delete(m, name)
		default:
			in.invalid(pathTo(path, name), msgUnknown)
		}
	}
	return m, true
}

// required records a missing field.
func (in *input) required(m members, path []string, names ...string) {
	for _, name := range names {
		if _, ok := m[name]; !ok {
			in.invalid(pathTo(path, name), msgRequired)
		}
	}
}

// field reads the member name of m with read. It returns nil when the
// member is absent, null (a field error: use it only for fields that cannot
// be cleared) or unreadable.
func field[T any](in *input, m members, path []string, name string, read func(*input, json.RawMessage, []string) (T, bool)) *T {
	raw, ok := m[name]
	if !ok {
		return nil
	}
	p := pathTo(path, name)
	if isNull(raw) {
		in.invalid(p, msgNull)
		return nil
	}
	v, ok := read(in, raw, p)
	if !ok {
		return nil
	}
	return &v
}

func readString(in *input, raw json.RawMessage, path []string) (string, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		in.wrongType(path, "a string", raw)
		return "", false
	}
	return s, true
}

func readStrings(in *input, raw json.RawMessage, path []string) ([]string, bool) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || items == nil {
		in.wrongType(path, "an array of strings", raw)
		return nil, false
	}
	out := make([]string, len(items))
	for i, item := range items {
		var ok bool
		if out[i], ok = readString(in, item, pathTo(path, fmt.Sprint(i))); !ok {
			return nil, false
		}
	}
	return out, true
}

// readPhone reads a phone given as a string or as a JSON number. An integral
// number in any notation (79001234567, 7.9001234567e10) gives its decimal
// digits: float64 holds every integer below 2^53 exactly, and phones have 11
// digits. Any other number is passed on as written, for the domain to refuse
// as a phone.
func readPhone(in *input, raw json.RawMessage, path []string) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')) {
		if f, err := strconv.ParseFloat(string(raw), 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return strconv.FormatFloat(f, 'f', -1, 64), true
		}
		return string(raw), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		in.wrongType(path, "a string or an integer", raw)
		return "", false
	}
	return s, true
}

// readTime reads an RFC 3339 timestamp, which has an explicit offset (SPEC §1).
func readTime(in *input, raw json.RawMessage, path []string) (time.Time, bool) {
	s, ok := readString(in, raw, path)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		in.invalid(path, "Datetime has wrong format: use RFC 3339 with an offset, e.g. 2026-01-02T09:00:00+03:00.")
		return time.Time{}, false
	}
	return t, true
}
