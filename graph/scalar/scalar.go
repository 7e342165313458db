// Package scalar binds the GraphQL Time and Date scalars strictly: a Time
// input must carry an explicit offset (RFC 3339) and is written back in UTC; a
// Date is exactly YYYY-MM-DD. gqlgen's own Time accepts zone-less values and
// "" which the API refuses (docs/product.md, "The API").
package scalar

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// DateLayout is the wire format of the Date scalar.
const DateLayout = time.DateOnly

// MarshalTime writes t in UTC with nanosecond precision when it has any.
func MarshalTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		var buf [len(`""`) + len(time.RFC3339Nano)]byte
		_, _ = w.Write(AppendTime(buf[:0], t))
	})
}

// AppendTime appends t as MarshalTime writes it, quotes included.
func AppendTime(b []byte, t time.Time) []byte {
	// An RFC 3339 time needs no escaping: quote it without strconv.
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// UnmarshalTime parses an RFC 3339 timestamp with an explicit offset (Z or ±hh:mm).
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("time must be an RFC 3339 string, got %T", v)
	}
	return ParseTime(s)
}

// ParseTime parses an RFC 3339 timestamp with an explicit offset.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errors.New("time must be RFC 3339 with an explicit offset, e.g. 2026-01-02T15:04:05+03:00")
	}
	return t, nil
}

// MarshalDate writes t's date as YYYY-MM-DD.
func MarshalDate(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.Format(DateLayout)))
	})
}

// UnmarshalDate parses YYYY-MM-DD into midnight UTC of that date.
func UnmarshalDate(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("date must be a YYYY-MM-DD string, got %T", v)
	}
	return ParseDate(s)
}

// ParseDate parses YYYY-MM-DD into midnight UTC of that date.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, errors.New("date must be YYYY-MM-DD")
	}
	return t, nil
}
