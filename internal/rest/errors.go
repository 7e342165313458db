package rest

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/notifyhq/notify/internal/campaign"
)

// Errors of the REST layer itself; the domain's are in package campaign.
var (
	// errNoRoute is a path the API does not have, or an id that is not one.
	errNoRoute = errors.New("no such resource")
	// errInvalidPage is a page number past the end or not a positive integer.
	errInvalidPage = errors.New("invalid page")
)

// requestError is a request body the API cannot read at all: malformed
// JSON, a read that failed. It answers 400 with {"detail": …}. A value of
// the wrong JSON type is a field error (invalidInput), and a body over the
// limit an *http.MaxBytesError.
type requestError struct {
	detail string
}

func (e *requestError) Error() string { return e.detail }

func badRequest(format string, args ...any) error {
	return &requestError{detail: fmt.Sprintf(format, args...)}
}

// mediaTypeError is a request body whose Content-Type is not JSON (415).
// mediaType is the header as sent, "" when there is none.
type mediaTypeError struct {
	mediaType string
}

// Error is Django REST framework's message for it.
func (e *mediaTypeError) Error() string {
	return `Unsupported media type "` + e.mediaType + `" in request.`
}

// methodError is a method the path does not take (405).
type methodError struct {
	method string
}

func (e *methodError) Error() string { return fmt.Sprintf("Method %q not allowed.", e.method) }

// fieldError is a problem with one input field, at a path in the REST
// spelling: ["send_window", "from"], ["3", "phone"] for the fourth item of a
// bulk import, [] for the input as a whole.
type fieldError struct {
	path []string
	msg  string
}

// invalidInput answers 400 with the messages per field, nested as Django
// REST framework nests them.
type invalidInput struct {
	fields []fieldError
}

func (e *invalidInput) Error() string {
	parts := make([]string, len(e.fields))
	for i, f := range e.fields {
		parts[i] = strings.Join(f.path, ".") + ": " + f.msg
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// bulkError marks the error of a bulk import of items inputs: its field
// errors render as a list with one object per item, as Django REST
// framework renders a serializer with many=True.
type bulkError struct {
	items int
	err   error
}

func (e *bulkError) Error() string { return e.err.Error() }
func (e *bulkError) Unwrap() error { return e.err }

// detail is the body of every error that is not about fields.
type detail struct {
	Detail string `json:"detail"`
}

// writeError is the one table from errors to HTTP statuses and bodies.
// Anything it does not know is an internal error: logged, and shown as
// "internal error".
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		reqErr    *requestError
		methodErr *methodError
		mediaErr  *mediaTypeError
		invalid   *invalidInput
		domain    *campaign.ValidationError
		tooBig    *http.MaxBytesError
		idem      *campaign.IdempotencyError
	)
	switch {
	case errors.As(err, &tooBig):
		a.write(w, r, http.StatusBadRequest, detail{fmt.Sprintf("Request body too large: the limit is %d MiB.", tooBig.Limit>>20)})
	case errors.As(err, &mediaErr):
		a.write(w, r, http.StatusUnsupportedMediaType, detail{mediaErr.Error()})
	case errors.As(err, &reqErr):
		a.write(w, r, http.StatusBadRequest, detail{reqErr.detail})
	case errors.As(err, &invalid):
		a.write(w, r, http.StatusBadRequest, fieldErrorsBody(invalid.fields, bulkItems(err)))
	case errors.As(err, &domain):
		a.write(w, r, http.StatusBadRequest, fieldErrorsBody(respell(domain), bulkItems(err)))
	case errors.Is(err, errInvalidPage):
		a.write(w, r, http.StatusNotFound, detail{"Invalid page."})
	case errors.Is(err, campaign.ErrNotFound), errors.Is(err, errNoRoute):
		a.write(w, r, http.StatusNotFound, detail{"Not found."})
	case errors.As(err, &idem):
		a.write(w, r, idempotencyStatus(idem), detail{capitalize(strings.TrimPrefix(idem.Error(), "conflict: "))})
	case errors.Is(err, campaign.ErrConflict):
		a.write(w, r, http.StatusConflict, detail{conflictMessage(err)})
	case errors.As(err, &methodErr):
		a.write(w, r, http.StatusMethodNotAllowed, detail{methodErr.Error()})
	default:
		a.internalError(w, r, err)
	}
}

// internalError logs err and answers 500 without its text.
func (a *API) internalError(w http.ResponseWriter, r *http.Request, err error) {
	a.logger.ErrorContext(r.Context(), "rest request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte(`{"detail":"internal error"}` + "\n"))
}

// conflictMessage is the domain's explanation of a conflict without the
// sentinel's own prefix: "cannot pause mailing 3: it is scheduled".
func conflictMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), campaign.ErrConflict.Error()+": ")
	if msg == "" {
		return "Conflict."
	}
	return msg
}

func bulkItems(err error) int {
	var b *bulkError
	if errors.As(err, &b) {
		return b.items
	}
	return 0
}

// respell turns the domain's field paths (GraphQL spelling: "sendWindow.from",
// "3.phone", "input" for the input as a whole) into the REST spelling.
func respell(v *campaign.ValidationError) []fieldError {
	out := make([]fieldError, len(v.Fields))
	for i, f := range v.Fields {
		var path []string
		if f.Field != "input" && f.Field != "" {
			path = strings.Split(f.Field, ".")
			for j, p := range path {
				path[j] = snakeCase(p)
			}
		}
		out[i] = fieldError{path: path, msg: capitalize(f.Message)}
	}
	return out
}

// snakeCase spells a camelCase name in snake_case: "operatorCodes" →
// "operator_codes".
func snakeCase(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// capitalize makes a domain message ("must be exactly 3 digits") read as
// Django REST framework's do ("Must be exactly 3 digits.").
func capitalize(msg string) string {
	if msg == "" {
		return msg
	}
	r := []rune(msg)
	r[0] = unicode.ToUpper(r[0])
	if !strings.HasSuffix(msg, ".") {
		r = append(r, '.')
	}
	return string(r)
}

// nonFieldErrors is where Django REST framework puts problems with an
// object as a whole.
const nonFieldErrors = "non_field_errors"

// errorTree collects field errors by path.
type errorTree struct {
	msgs     []string
	children map[string]*errorTree
}

func (t *errorTree) add(path []string, msg string) {
	for _, p := range path {
		if t.children == nil {
			t.children = map[string]*errorTree{}
		}
		c := t.children[p]
		if c == nil {
			c = &errorTree{}
			t.children[p] = c
		}
		t = c
	}
	t.msgs = append(t.msgs, msg)
}

// fieldErrorsBody renders field errors as Django REST framework does:
// {"phone": ["…"], "send_window": {"from": ["…"]}}; for a bulk import of
// items inputs, a list of one such object per item ({} for a valid one).
func fieldErrorsBody(fields []fieldError, items int) any {
	root := &errorTree{}
	for _, f := range fields {
		root.add(f.path, f.msg)
	}
	if items > 0 && len(root.msgs) == 0 && root.onlyIndexesBelow(items) {
		list := make([]any, items)
		for i := range list {
			if c := root.children[strconv.Itoa(i)]; c != nil {
				list[i] = c.object()
			} else {
				list[i] = map[string]any{}
			}
		}
		return list
	}
	return root.object()
}

func (t *errorTree) onlyIndexesBelow(n int) bool {
	for k := range t.children {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= n {
			return false
		}
	}
	return true
}

// object renders t as an object; messages about t itself go to
// non_field_errors, with those recorded there by name (a nested object of
// the wrong type: see input.object).
func (t *errorTree) object() map[string]any {
	out := make(map[string]any, len(t.children)+1)
	for k, c := range t.children {
		if len(c.children) == 0 {
			out[k] = c.msgs
		} else {
			out[k] = c.object()
		}
	}
	if len(t.msgs) > 0 {
		if named, ok := out[nonFieldErrors].([]string); ok {
			out[nonFieldErrors] = append(slices.Clip(t.msgs), named...)
		} else {
			out[nonFieldErrors] = t.msgs
		}
	}
	return out
}
