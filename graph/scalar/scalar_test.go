package scalar

import (
	"bytes"
	"strconv"
	"testing"
	"time"
)

// FuzzMarshalTime checks that a Time is written as the quoted RFC 3339 (with
// nanoseconds when it has any) of its UTC instant, whatever its zone.
func FuzzMarshalTime(f *testing.F) {
	f.Add(int64(1700000000), int64(0), 0)
	f.Add(int64(1700000000), int64(123456789), 3*3600)
	f.Add(int64(-62135596800), int64(1), -(12*3600 + 30*60))
	f.Add(int64(253402300799), int64(999999999), 14*3600)
	f.Fuzz(func(t *testing.T, sec, nsec int64, offset int) {
		if offset < -18*3600 || offset > 18*3600 {
			return
		}
		tm := time.Unix(sec, nsec).In(time.FixedZone("z", offset))
		var got bytes.Buffer
		MarshalTime(tm).MarshalGQL(&got)
		if want := strconv.Quote(tm.UTC().Format(time.RFC3339Nano)); got.String() != want {
			t.Fatalf("MarshalTime(%v) = %s, want %s", tm, got.String(), want)
		}
		back, err := UnmarshalTime(got.String()[1 : got.Len()-1])
		if tm.UTC().Year() >= 0 && tm.UTC().Year() <= 9999 && (err != nil || !back.Equal(tm)) {
			t.Fatalf("UnmarshalTime(%s) = %v, %v; want %v", got.String(), back, err, tm)
		}
	})
}
