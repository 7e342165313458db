package rest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// readOnlyFields are accepted on input and ignored (openapi.yaml, the
// document's description): a client may send back what it read.
var readOnlyFields = []string{"id", "status", "created_at", "updated_at"}

// Messages of field errors, worded as Django REST framework words them.
const (
	msgRequired  = "This field is required."
	msgNull      = "This field may not be null."
	msgUnknown   = "Unknown field."
	msgNotString = "Not a valid string."
	// msgNoData is Django REST framework's message for a body that is JSON
	// null.
	msgNoData   = "No data provided"
	msgDatetime = "Datetime has wrong format: use RFC 3339 with an offset, e.g. 2026-01-02T09:00:00+03:00."
	// msgDatetimeRange is for a time JSON cannot show in UTC, as every
	// time is shown (encoding/json writes years 0000 to 9999 only).
	msgDatetimeRange = "Datetime must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z."
)

// msgNotObject is Django REST framework's message for a nested object (or
// the body) that is not a JSON object.
func msgNotObject(raw json.RawMessage) string {
	return fmt.Sprintf("Invalid data. Expected a dictionary, but got %s.", pythonType(raw))
}

// msgNotList is Django REST framework's message for a list (or the body of
// a bulk import) that is not a JSON array.
func msgNotList(raw json.RawMessage) string {
	return fmt.Sprintf("Expected a list of items but got type \"%s\".", pythonType(raw))
}

// bodyMethods are the methods whose request body the API reads.
var bodyMethods = []string{http.MethodPost, http.MethodPut, http.MethodPatch}

// requireJSON refuses a POST, PUT or PATCH that has a body which its
// Content-Type does not declare as JSON, with a *mediaTypeError (415), as
// Django REST framework's parser selection does: only application/json
// (with any parameters) is JSON. Without it, an HTML form posting
// text/plain from any web page would be read as JSON (README, "Operating
// notes": the REST routes are open without API_TOKENS). A request without
// a body passes whatever its Content-Type, as do other methods (their body
// is never read). When the body's length is unknown (chunked), requireJSON
// peeks at its first byte and leaves r.Body whole.
func requireJSON(r *http.Request) error {
	contentType := r.Header.Get("Content-Type")
	if !slices.Contains(bodyMethods, r.Method) || isJSONMediaType(contentType) {
		return nil
	}
	switch {
	case r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0:
		return nil
	case r.ContentLength < 0:
		br := bufio.NewReader(r.Body)
		_, err := br.Peek(1)
		r.Body = struct {
			io.Reader
			io.Closer
		}{br, r.Body}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			// The handler's own read reports it (a body over the limit
			// cannot be hit by one byte).
			return nil
		}
	}
	return &mediaTypeError{mediaType: contentType}
}

// isJSONMediaType reports whether a Content-Type value is application/json,
// with any parameters (a charset: the body is read as UTF-8, as RFC 8259
// requires).
func isJSONMediaType(v string) bool {
	mt, _, err := mime.ParseMediaType(v)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return false
	}
	return mt == "application/json"
}

// jsonSpace is the white space JSON allows around a value (RFC 8259).
const jsonSpace = " \t\r\n"

// readBody reads the request body as one JSON value; its media type was
// checked by requireJSON (rest.go, handle). An empty body reads as an
// empty object, as Django REST framework reads it. Returns a *requestError
// for malformed JSON ("JSON parse error - …", Django REST framework's
// wording), or the *http.MaxBytesError of a body over the route's limit.
func readBody(r *http.Request) (json.RawMessage, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, fmt.Errorf("error reading request body: %w", err)
		}
		return nil, badRequest("Error reading the request body: %v.", err)
	}
	body = bytes.Trim(body, jsonSpace)
	if len(body) == 0 {
		return json.RawMessage("{}"), nil
	}
	// A RawMessage checks the syntax only: a number out of float64's range
	// is valid JSON, for the field that reads it to judge.
	var v json.RawMessage
	if err := json.Unmarshal(body, &v); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, badRequest("JSON parse error - %v (at byte %d)", syntax, syntax.Offset)
		}
		return nil, badRequest("JSON parse error - %v", err)
	}
	if !utf8.Valid(body) {
		return nil, badRequest("JSON parse error - the body is not valid UTF-8")
	}
	return body, nil
}

// decode reads the request body (readBody) with read, which records the
// problems with its fields in in: they are the error.
func decode[T any](r *http.Request, read func(in *input, raw json.RawMessage) T) (T, error) {
	raw, err := readBody(r)
	if err != nil {
		var zero T
		return zero, err
	}
	in := &input{}
	v := read(in, raw)
	return v, in.result()
}

// input reads a decoded JSON body into domain values, field by field. It
// collects every problem with a field (unknown, missing, null, of the wrong
// JSON type, unreadable), each at its path, as Django REST framework does.
type input struct {
	fields []fieldError
}

// result is the field problems as an *invalidInput, or nil.
func (in *input) result() error {
	if len(in.fields) > 0 {
		return &invalidInput{fields: in.fields}
	}
	return nil
}

func (in *input) invalid(path []string, msg string) {
	in.fields = append(in.fields, fieldError{path: slices.Clone(path), msg: msg})
}

// pythonType names the JSON type of a valid JSON value as Django REST
// framework's messages do, by the Python type json.loads gives it.
func pythonType(raw json.RawMessage) string {
	switch raw = bytes.Trim(raw, jsonSpace); {
	case len(raw) == 0:
		return "NoneType"
	case raw[0] == '{':
		return "dict"
	case raw[0] == '[':
		return "list"
	case raw[0] == '"':
		return "str"
	case raw[0] == 't' || raw[0] == 'f':
		return "bool"
	case raw[0] == 'n':
		return "NoneType"
	case bytes.ContainsAny(raw, ".eE"):
		return "float"
	default:
		return "int"
	}
}

func isNull(raw json.RawMessage) bool { return string(bytes.Trim(raw, jsonSpace)) == "null" }

func pathTo(path []string, name string) []string {
	return append(slices.Clip(path), name)
}

// members is a JSON object being read.
type members map[string]json.RawMessage

// object reads raw as an object with the given fields; read-only fields are
// dropped and any other member is an unknown field. ok is false when raw is
// not an object: the error goes to the object's non_field_errors, as
// Django REST framework puts it for a nested serializer (for the body, the
// top-level non_field_errors).
func (in *input) object(raw json.RawMessage, path []string, fields, readOnly []string) (m members, ok bool) {
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		msg := msgNotObject(raw)
		if isNull(raw) {
			msg = msgNull
			if len(path) == 0 {
				msg = msgNoData
			}
		}
		in.invalid(pathTo(path, nonFieldErrors), msg)
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

// list reads raw as an array. ok is false when it is not one.
func (in *input) list(raw json.RawMessage, path []string) (items []json.RawMessage, ok bool) {
	if err := json.Unmarshal(raw, &items); err != nil || items == nil {
		msg := msgNotList(raw)
		if isNull(raw) && len(path) == 0 {
			msg = msgNoData
		}
		in.invalid(pathTo(path, nonFieldErrors), msg)
		return nil, false
	}
	return items, true
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
// be cleared) or unreadable (read records why).
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
	if isNull(raw) || json.Unmarshal(raw, &s) != nil {
		in.invalid(path, msgNotString)
		return "", false
	}
	return s, true
}

// readStrings reads a list of strings. A wrong item is an error at its
// index ({"tags": {"1": ["Not a valid string."]}}), as Django REST
// framework's ListField reports it.
func readStrings(in *input, raw json.RawMessage, path []string) ([]string, bool) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || items == nil {
		in.invalid(path, msgNotList(raw))
		return nil, false
	}
	out := make([]string, len(items))
	ok := true
	for i, item := range items {
		p := pathTo(path, strconv.Itoa(i))
		if isNull(item) {
			in.invalid(p, msgNull)
			ok = false
			continue
		}
		s, good := readString(in, item, p)
		out[i], ok = s, ok && good
	}
	return out, ok
}

// readPhone reads a phone given as a string or as a JSON number. An integral
// number in any notation (79001234567, 7.9001234567e10) gives its decimal
// digits: float64 holds every integer below 2^53 exactly, and phones have 11
// digits. Any other number is passed on as written, for the domain to refuse
// as a phone.
func readPhone(in *input, raw json.RawMessage, path []string) (string, bool) {
	raw = bytes.Trim(raw, jsonSpace)
	if len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')) {
		if f, err := strconv.ParseFloat(string(raw), 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return strconv.FormatFloat(f, 'f', -1, 64), true
		}
		return string(raw), true
	}
	return readString(in, raw, path)
}

// readTime reads an RFC 3339 timestamp, which has an explicit offset
// (openapi.yaml, MailingCreate), in the years 1 to 9999 in UTC (those of
// Python's datetime, which the responses can show). A value that is not a
// string gets the same message as a string in another format, as Django
// REST framework's DateTimeField words both.
func readTime(in *input, raw json.RawMessage, path []string) (time.Time, bool) {
	var s string
	if isNull(raw) || json.Unmarshal(raw, &s) != nil {
		in.invalid(path, msgDatetime)
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		in.invalid(path, msgDatetime)
		return time.Time{}, false
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		in.invalid(path, msgDatetimeRange)
		return time.Time{}, false
	}
	return t, true
}
