// Package sendwindow implements a mailing's send window: a daily range of wall-clock
// times, evaluated in each client's own time zone, outside which no message is sent
// (docs/product.md, "Mailings" and "Sending").
package sendwindow

import (
	"errors"
	"fmt"
	"time"
)

// Clock is a wall-clock time of day with minute precision, 00:00 to 23:59.
type Clock struct {
	Hour, Minute int
}

// String formats c as HH:MM.
func (c Clock) String() string {
	return fmt.Sprintf("%02d:%02d", c.Hour, c.Minute)
}

// minutes returns c as minutes since midnight.
func (c Clock) minutes() int {
	return c.Hour*60 + c.Minute
}

// valid reports whether c is within 00:00–23:59.
func (c Clock) valid() bool {
	return c.Hour >= 0 && c.Hour < 24 && c.Minute >= 0 && c.Minute < 60
}

// Window is a daily send window in a client's local time: From is inclusive, To
// exclusive. When To is before From the window wraps midnight (22:00–06:00 is open
// from 22:00 through 05:59). A valid Window has From != To; use Parse or Validate.
type Window struct {
	From, To Clock
}

// Error is a validation error of a send window. Field names the part that is wrong,
// "from" or "to", so a transport can report it under that field.
type Error struct {
	Field string
	Msg   string
}

// Error implements error.
func (e *Error) Error() string {
	return "send window " + e.Field + ": " + e.Msg
}

// Parse builds a Window from two HH:MM strings (exactly two ASCII digits, a colon, two
// ASCII digits; 00:00–23:59).
//
// Returns an *Error naming the wrong field: "from" or "to" when malformed, and "to"
// ("must differ from from") when both are equal. When both are malformed the error
// joins both *Error values (errors.Join): errors.As finds the one for "from", and a
// transport that reports every field can unwrap both.
func Parse(from, to string) (Window, error) {
	f, fromErr := parseClock("from", from)
	t, toErr := parseClock("to", to)
	switch {
	case fromErr != nil && toErr != nil:
		return Window{}, errors.Join(fromErr, toErr)
	case fromErr != nil:
		return Window{}, fromErr
	case toErr != nil:
		return Window{}, toErr
	}
	w := Window{From: f, To: t}
	if err := w.Validate(); err != nil {
		return Window{}, err
	}
	return w, nil
}

// parseClock parses one strict HH:MM value, reporting errors under field.
func parseClock(field, s string) (Clock, error) {
	if s == "" {
		return Clock{}, &Error{Field: field, Msg: "is required"}
	}
	// Byte-wise checks on purpose: strconv would accept signs, and unicode.IsDigit
	// non-ASCII digits.
	if len(s) != 5 || s[2] != ':' || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[3]) || !isDigit(s[4]) {
		return Clock{}, &Error{Field: field, Msg: "must be a time of day in HH:MM format"}
	}
	c := Clock{
		Hour:   int(s[0]-'0')*10 + int(s[1]-'0'),
		Minute: int(s[3]-'0')*10 + int(s[4]-'0'),
	}
	if c.Hour > 23 {
		return Clock{}, &Error{Field: field, Msg: "hour must be between 00 and 23"}
	}
	if c.Minute > 59 {
		return Clock{}, &Error{Field: field, Msg: "minute must be between 00 and 59"}
	}
	return c, nil
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// Validate checks a Window built without Parse (for example loaded from storage).
// Returns an *Error as Parse does.
func (w Window) Validate() error {
	if !w.From.valid() {
		return &Error{Field: "from", Msg: "must be between 00:00 and 23:59"}
	}
	if !w.To.valid() {
		return &Error{Field: "to", Msg: "must be between 00:00 and 23:59"}
	}
	if w.From == w.To {
		return &Error{Field: "to", Msg: "must differ from from"}
	}
	return nil
}

// String formats w as from and to joined by a hyphen, "22:00-06:00", for logs and
// messages; transports report the two fields with FromString and ToString.
func (w Window) String() string {
	return w.FromString() + "-" + w.ToString()
}

// FromString formats the window's start as HH:MM, the form Parse accepts.
func (w Window) FromString() string { return w.From.String() }

// ToString formats the window's end as HH:MM, the form Parse accepts.
func (w Window) ToString() string { return w.To.String() }

// Contains reports whether the wall-clock time of t in loc is inside w. A nil loc
// means UTC. An invalid window with From == To is treated as open all day.
func (w Window) Contains(t time.Time, loc *time.Location) bool {
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	return w.containsMinute(lt.Hour()*60 + lt.Minute())
}

// containsMinute reports whether the minute of the day m is inside w. Truncating the
// local time to the minute is exact: From is inclusive and To exclusive, and both are
// whole minutes.
func (w Window) containsMinute(m int) bool {
	from, to := w.From.minutes(), w.To.minutes()
	if from < to {
		return m >= from && m < to
	}
	return m >= from || m < to
}

// maxSegments bounds the zone periods (spans of constant UTC offset) Next walks
// through. A period that lasts at least a day always yields the answer, and real
// zones change offset at most a couple of times in any few days, so this is never
// reached in practice; it only guarantees termination.
const maxSegments = 16

// Next returns the earliest instant at or after t at which the wall clock in loc is
// inside w: t itself when t is already inside, otherwise the first moment the window
// opens after t, computed in the zone so daylight-saving changes are respected.
//
// Usually that is when the local clock reaches From. On a day where From does not
// exist (skipped by a spring-forward change), it is the first instant after the gap
// whose local time is inside the window, or the next day's From if none is. When a
// fall-back change makes From occur twice, the first occurrence after t wins, and a
// change that sets the clock back into the window opens it at that change.
//
// The search gives up after 16 offset changes (returning the last From it computed);
// real zones never change offset that often within days. A nil loc means UTC. The
// result is in t's location.
func (w Window) Next(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	if w.Contains(t, loc) {
		return t
	}
	from := time.Duration(w.From.minutes()) * time.Minute
	var cand time.Time
	// Within one zone period the local clock advances exactly as real time does, so
	// the window can only open at the local From, or at the period's end when the
	// offset change jumps the clock into the window.
	for u, i := t, 0; i < maxSegments; i++ {
		lt := u.In(loc)
		tod := time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute +
			time.Duration(lt.Second())*time.Second + time.Duration(lt.Nanosecond())
		cand = u.Add((from - tod + 24*time.Hour) % (24 * time.Hour))
		_, end := lt.ZoneBounds()
		if end.IsZero() || !end.After(u) || cand.Before(end) {
			return cand.In(t.Location())
		}
		if w.Contains(end, loc) {
			return end.In(t.Location())
		}
		u = end
	}
	return cand.In(t.Location())
}
