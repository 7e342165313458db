package campaign

import (
	"errors"
	"fmt"
	"strings"

	"github.com/notifyhq/notify/ent"
)

// ErrNotFound is returned when the client or mailing asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when an action is not allowed in the mailing's
// current status (docs/product.md, "Lifecycle").
var ErrConflict = errors.New("conflict")

// FieldError says what is wrong with one input field. Field is a dotted path
// in the GraphQL spelling ("phone", "endAt", "sendWindow.from", "3.phone" for
// the fourth item of a bulk import); the REST layer respells it.
type FieldError struct {
	Field   string
	Message string
}

// ValidationError lists everything wrong with an input. It is returned before
// anything is written.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// add records a problem with field.
func (e *ValidationError) add(field, format string, args ...any) {
	e.Fields = append(e.Fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// err returns e when it holds any problem, else nil.
func (e *ValidationError) err() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}

func invalid(field, format string, args ...any) error {
	v := &ValidationError{}
	v.add(field, format, args...)
	return v
}

func conflict(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrConflict}, args...)...)
}

func notFound(what string, id int) error {
	return fmt.Errorf("%w: %s %d", ErrNotFound, what, id)
}

// loadErr is the error of loading what id, err not nil: ErrNotFound when
// there is none.
func loadErr(what string, id int, err error) error {
	if ent.IsNotFound(err) {
		return notFound(what, id)
	}
	return fmt.Errorf("error loading %s %d: %w", what, id, err)
}
