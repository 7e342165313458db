package campaign

import (
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/notifyhq/notify/internal/sendwindow"
)

// Limits of the domain (docs/product.md, "Clients" and "Mailings").
const (
	MaxTagLength  = 64
	MaxTextLength = 4096
	// MaxFilterValues bounds each filter list; a filter of thousands of values
	// is a mistake, and it keeps the recipient query's IN lists small.
	MaxFilterValues = 1000
	// MaxBulkClients is the most clients one bulk import takes.
	MaxBulkClients = 10000
)

// ValidPhone reports whether s is 7 followed by 10 ASCII digits.
func ValidPhone(s string) bool {
	return len(s) == 11 && s[0] == '7' && allDigits(s)
}

// ValidOperatorCode reports whether s is exactly 3 ASCII digits.
func ValidOperatorCode(s string) bool {
	return len(s) == 3 && allDigits(s)
}

// OperatorCodeOf derives the operator code from a valid phone: digits 2–4.
func OperatorCodeOf(phone string) string { return phone[1:4] }

func allDigits(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' })
}

// checkSet runs check on the value of a patch's field when the patch sets it.
func checkSet(v *ValidationError, field string, value *string, check func(v *ValidationError, field, value string)) {
	if value != nil {
		check(v, field, *value)
	}
}

func checkPhone(v *ValidationError, field, phone string) {
	if !ValidPhone(phone) {
		v.add(field, "must be 7 followed by 10 digits, e.g. 79001234567")
	}
}

func checkOperatorCode(v *ValidationError, field, code string) {
	if !ValidOperatorCode(code) {
		v.add(field, "must be exactly 3 digits")
	}
}

func checkTag(v *ValidationError, field, tag string) {
	if !ValidFilterText(tag) {
		v.add(field, "must be valid UTF-8 text without NUL characters")
	} else if n := utf8.RuneCountInString(tag); n > MaxTagLength {
		v.add(field, "must be at most %d characters, got %d", MaxTagLength, n)
	}
}

func checkTimezone(v *ValidationError, field, tz string) {
	if _, err := sendwindow.LoadZone(tz); err != nil {
		v.add(field, "must be an IANA time zone name such as Europe/Moscow or UTC")
	}
}

func checkText(v *ValidationError, field, text string) {
	switch n := utf8.RuneCountInString(text); {
	case !ValidFilterText(text):
		v.add(field, "must be valid UTF-8 text without NUL characters")
	case n == 0:
		v.add(field, "must not be empty")
	case n > MaxTextLength:
		v.add(field, "must be at most %d characters, got %d", MaxTextLength, n)
	}
}

func checkPeriod(v *ValidationError, start, end, now time.Time, isNew bool) {
	if !end.After(start) {
		v.add("endAt", "must be after the start time")
	} else if isNew && !end.After(now) {
		v.add("endAt", "must be in the future")
	}
}

// Filter selects the clients a mailing goes to: an empty list is no
// constraint, both lists given are ANDed, values within a list are ORed.
type Filter struct {
	OperatorCodes []string
	Tags          []string
}

func checkFilter(v *ValidationError, f Filter) Filter {
	if len(f.OperatorCodes) > MaxFilterValues {
		v.add("filter.operatorCodes", "must have at most %d values", MaxFilterValues)
	}
	if len(f.Tags) > MaxFilterValues {
		v.add("filter.tags", "must have at most %d values", MaxFilterValues)
	}
	if i := slices.IndexFunc(f.OperatorCodes, func(c string) bool { return !ValidOperatorCode(c) }); i >= 0 {
		v.add("filter.operatorCodes", "%q is not 3 digits", f.OperatorCodes[i])
	}
	if slices.ContainsFunc(f.Tags, func(t string) bool { return utf8.RuneCountInString(t) > MaxTagLength || !ValidFilterText(t) }) {
		v.add("filter.tags", "each tag must be valid text of at most %d characters", MaxTagLength)
	}
	return Filter{OperatorCodes: dedupe(f.OperatorCodes), Tags: dedupe(f.Tags)}
}

func dedupe(in []string) []string {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// WindowInput is a send window as typed by a user: two "HH:MM" strings.
type WindowInput struct {
	From, To string
}

func checkWindow(v *ValidationError, w *WindowInput) *sendwindow.Window {
	if w == nil {
		return nil
	}
	win, err := sendwindow.Parse(w.From, w.To)
	if err != nil {
		for _, fe := range windowErrors(err) {
			v.add("sendWindow."+fe.Field, "%s", fe.Msg)
		}
		return nil
	}
	return &win
}

// windowErrors unpacks the (possibly joined) errors of sendwindow.Parse.
func windowErrors(err error) []*sendwindow.Error {
	var out []*sendwindow.Error
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			out = append(out, windowErrors(e)...)
		}
		return out
	}
	if we, ok := errors.AsType[*sendwindow.Error](err); ok {
		return []*sendwindow.Error{we}
	}
	return []*sendwindow.Error{{Field: "from", Msg: err.Error()}}
}
