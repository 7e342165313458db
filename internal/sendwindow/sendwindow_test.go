package sendwindow_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/sendwindow"
)

func TestParse(t *testing.T) {
	t.Parallel()

	valid := []struct {
		from, to string
		want     sendwindow.Window
	}{
		{"09:00", "21:00", sendwindow.Window{From: sendwindow.Clock{Hour: 9}, To: sendwindow.Clock{Hour: 21}}},
		{"00:00", "23:59", sendwindow.Window{From: sendwindow.Clock{}, To: sendwindow.Clock{Hour: 23, Minute: 59}}},
		{"22:00", "06:00", sendwindow.Window{From: sendwindow.Clock{Hour: 22}, To: sendwindow.Clock{Hour: 6}}},
		{"23:59", "00:00", sendwindow.Window{From: sendwindow.Clock{Hour: 23, Minute: 59}, To: sendwindow.Clock{}}},
		{"10:15", "10:16", sendwindow.Window{From: sendwindow.Clock{Hour: 10, Minute: 15}, To: sendwindow.Clock{Hour: 10, Minute: 16}}},
	}
	for _, tt := range valid {
		t.Run("valid "+tt.from+"-"+tt.to, func(t *testing.T) {
			t.Parallel()
			w, err := sendwindow.Parse(tt.from, tt.to)
			require.NoError(t, err)
			require.Equal(t, tt.want, w)
			require.Equal(t, tt.from, w.FromString())
			require.Equal(t, tt.to, w.ToString())
			require.Equal(t, tt.from+"-"+tt.to, w.String())
			require.NoError(t, w.Validate())
		})
	}

	const (
		msgFormat   = "must be a time of day in HH:MM format"
		msgHour     = "hour must be between 00 and 23"
		msgMinute   = "minute must be between 00 and 59"
		msgRequired = "is required"
	)
	invalid := []struct {
		name, from, to string
		field, msg     string
	}{
		{"from empty", "", "21:00", "from", msgRequired},
		{"to empty", "09:00", "", "to", msgRequired},
		{"one-digit hour", "9:00", "21:00", "from", msgFormat},
		{"one-digit minute", "09:0", "21:00", "from", msgFormat},
		{"no colon", "0900", "21:00", "from", msgFormat},
		{"dash separator", "09-00", "21:00", "from", msgFormat},
		{"dot separator", "09.00", "21:00", "from", msgFormat},
		{"seconds", "09:00:00", "21:00", "from", msgFormat},
		{"leading space", " 09:00", "21:00", "from", msgFormat},
		{"trailing space", "09:00", "21:00 ", "to", msgFormat},
		{"inner space", "09: 0", "21:00", "from", msgFormat},
		{"plus sign", "+9:00", "21:00", "from", msgFormat},
		{"minus sign", "09:00", "-1:00", "to", msgFormat},
		{"letters", "ab:cd", "21:00", "from", msgFormat},
		{"fullwidth digits", "０９:００", "21:00", "from", msgFormat},
		{"arabic-indic digits", "09:00", "٢١:٠٠", "to", msgFormat},
		{"fullwidth colon", "09：00", "21:00", "from", msgFormat},
		{"24:00", "09:00", "24:00", "to", msgHour},
		{"99:00", "99:00", "21:00", "from", msgHour},
		{"minute 60", "09:60", "21:00", "from", msgMinute},
		{"minute 99", "09:00", "21:99", "to", msgMinute},
		{"equal", "09:00", "09:00", "to", "must differ from from"},
		{"equal midnight", "00:00", "00:00", "to", "must differ from from"},
	}
	for _, tt := range invalid {
		t.Run("invalid "+tt.name, func(t *testing.T) {
			t.Parallel()
			w, err := sendwindow.Parse(tt.from, tt.to)
			require.Error(t, err)
			require.Zero(t, w)
			var fe *sendwindow.Error
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tt.field, fe.Field)
			require.Equal(t, tt.msg, fe.Msg)
			require.Equal(t, "send window "+tt.field+": "+tt.msg, err.Error())
		})
	}

	t.Run("both invalid names both fields", func(t *testing.T) {
		t.Parallel()
		_, err := sendwindow.Parse("9:00", "25:00")
		var fe *sendwindow.Error
		require.ErrorAs(t, err, &fe)
		require.Equal(t, "from", fe.Field)

		joined, ok := err.(interface{ Unwrap() []error })
		require.True(t, ok, "want an errors.Join error, got %T", err)
		var fields []string
		for _, e := range joined.Unwrap() {
			require.ErrorAs(t, e, &fe)
			fields = append(fields, fe.Field)
		}
		require.Equal(t, []string{"from", "to"}, fields)
	})
}

func TestValidate(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		w     sendwindow.Window
		field string
	}{
		{"valid", sendwindow.Window{From: sendwindow.Clock{Hour: 9}, To: sendwindow.Clock{Hour: 17}}, ""},
		{"zero value", sendwindow.Window{}, "to"},
		{"from hour 24", sendwindow.Window{From: sendwindow.Clock{Hour: 24}, To: sendwindow.Clock{Hour: 17}}, "from"},
		{"from negative minute", sendwindow.Window{From: sendwindow.Clock{Minute: -1}, To: sendwindow.Clock{Hour: 17}}, "from"},
		{"to minute 60", sendwindow.Window{From: sendwindow.Clock{Hour: 9}, To: sendwindow.Clock{Minute: 60}}, "to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.w.Validate()
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			var fe *sendwindow.Error
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tt.field, fe.Field)
		})
	}
}

func TestContains(t *testing.T) {
	t.Parallel()

	moscow := mustZone(t, "Europe/Moscow")
	kathmandu := mustZone(t, "Asia/Kathmandu")

	tests := []struct {
		name     string
		from, to string
		t        string // RFC 3339
		loc      *time.Location
		want     bool
	}{
		{"before from", "09:00", "21:00", "2024-01-15T08:59:59.999999999Z", time.UTC, false},
		{"at from is inside", "09:00", "21:00", "2024-01-15T09:00:00Z", time.UTC, true},
		{"middle", "09:00", "21:00", "2024-01-15T15:00:00Z", time.UTC, true},
		{"just before to", "09:00", "21:00", "2024-01-15T20:59:59.999999999Z", time.UTC, true},
		{"at to is outside", "09:00", "21:00", "2024-01-15T21:00:00Z", time.UTC, false},
		{"midnight outside normal", "09:00", "21:00", "2024-01-15T00:00:00Z", time.UTC, false},
		{"wrap before from", "22:00", "06:00", "2024-01-15T21:59:00Z", time.UTC, false},
		{"wrap at from", "22:00", "06:00", "2024-01-15T22:00:00Z", time.UTC, true},
		{"wrap at midnight", "22:00", "06:00", "2024-01-15T00:00:00Z", time.UTC, true},
		{"wrap just before to", "22:00", "06:00", "2024-01-15T05:59:59Z", time.UTC, true},
		{"wrap at to", "22:00", "06:00", "2024-01-15T06:00:00Z", time.UTC, false},
		{"wrap noon", "22:00", "06:00", "2024-01-15T12:00:00Z", time.UTC, false},
		{"almost all day excludes last minute", "00:00", "23:59", "2024-01-15T23:59:30Z", time.UTC, false},
		{"one minute wrapping window", "23:59", "00:00", "2024-01-15T23:59:30Z", time.UTC, true},
		{"one minute wrapping window at midnight", "23:59", "00:00", "2024-01-15T00:00:00Z", time.UTC, false},
		{"nil loc is UTC", "09:00", "21:00", "2024-01-15T09:00:00Z", nil, true},
		{"moscow local 09:00", "09:00", "21:00", "2024-01-15T06:00:00Z", moscow, true},
		{"moscow local 08:59", "09:00", "21:00", "2024-01-15T05:59:00Z", moscow, false},
		{"moscow t in another zone", "09:00", "21:00", "2024-01-15T01:00:00-05:00", moscow, true},
		{"kathmandu local 09:00", "09:00", "21:00", "2024-01-15T03:15:00Z", kathmandu, true},
		{"kathmandu local 08:59", "09:00", "21:00", "2024-01-15T03:14:59Z", kathmandu, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := mustParse(t, tt.from, tt.to)
			require.Equal(t, tt.want, w.Contains(mustTime(t, tt.t), tt.loc))
		})
	}
}

func TestNext(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		zone     string
		from, to string
		t        string // RFC 3339
		want     string // RFC 3339
	}{
		{"utc later today", "UTC", "09:00", "17:00", "2024-01-15T08:00:00Z", "2024-01-15T09:00:00Z"},
		{"utc inside returns t", "UTC", "09:00", "17:00", "2024-01-15T12:34:56.789Z", "2024-01-15T12:34:56.789Z"},
		{"utc at to waits for tomorrow", "UTC", "09:00", "17:00", "2024-01-15T17:00:00Z", "2024-01-16T09:00:00Z"},
		{"utc sub-second before from", "UTC", "09:00", "17:00", "2024-01-15T08:59:59.5Z", "2024-01-15T09:00:00Z"},
		{"utc wrapping window", "UTC", "22:00", "06:00", "2024-01-15T06:00:00Z", "2024-01-15T22:00:00Z"},
		{"utc crosses year end", "UTC", "09:00", "17:00", "2024-12-31T18:00:00Z", "2025-01-01T09:00:00Z"},

		{"moscow morning", "Europe/Moscow", "09:00", "21:00", "2024-01-15T03:00:00Z", "2024-01-15T06:00:00Z"},
		{"moscow at to", "Europe/Moscow", "09:00", "21:00", "2024-01-15T18:00:00Z", "2024-01-16T06:00:00Z"},
		{"moscow inside", "Europe/Moscow", "09:00", "21:00", "2024-01-15T17:59:59Z", "2024-01-15T17:59:59Z"},
		// 2014-10-26 02:00 MSK (+04) became 01:00 (+03): 01:30 happened twice.
		{"moscow 2014 clock set back reopens", "Europe/Moscow", "01:30", "01:45", "2014-10-25T21:50:00Z", "2014-10-25T22:30:00Z"},
		{"moscow 2014 first occurrence first", "Europe/Moscow", "01:30", "01:45", "2014-10-25T21:00:00Z", "2014-10-25T21:30:00Z"},

		{"yekaterinburg morning", "Asia/Yekaterinburg", "09:00", "21:00", "2024-01-15T00:00:00Z", "2024-01-15T04:00:00Z"},
		{"yekaterinburg wrapping", "Asia/Yekaterinburg", "22:00", "06:00", "2024-01-15T01:30:00Z", "2024-01-15T17:00:00Z"},

		{"new york summer", "America/New_York", "09:00", "17:00", "2024-06-01T12:00:00Z", "2024-06-01T13:00:00Z"},
		{"new york wrapping", "America/New_York", "22:00", "06:00", "2024-06-01T12:00:00Z", "2024-06-02T02:00:00Z"},
		// 2024-03-10 02:00 EST became 03:00 EDT (07:00Z): 02:00-02:59 do not exist.
		{"new york spring forward from in gap opens after gap", "America/New_York", "02:30", "05:00", "2024-03-10T06:00:00Z", "2024-03-10T07:00:00Z"},
		{"new york spring forward window all in gap", "America/New_York", "02:00", "02:30", "2024-03-10T06:00:00Z", "2024-03-11T06:00:00Z"},
		{"new york spring forward later from uses new offset", "America/New_York", "09:00", "17:00", "2024-03-10T06:00:00Z", "2024-03-10T13:00:00Z"},
		{"new york spring forward wrapping", "America/New_York", "02:30", "01:00", "2024-03-10T06:30:00Z", "2024-03-10T07:00:00Z"},
		// 2024-11-03 02:00 EDT became 01:00 EST (06:00Z): 01:00-01:59 happened twice.
		{"new york fall back first occurrence", "America/New_York", "01:30", "03:00", "2024-11-03T04:00:00Z", "2024-11-03T05:30:00Z"},
		{"new york fall back inside first occurrence", "America/New_York", "01:30", "03:00", "2024-11-03T05:45:00Z", "2024-11-03T05:45:00Z"},
		{"new york fall back clock set back into window", "America/New_York", "01:00", "01:30", "2024-11-03T05:45:00Z", "2024-11-03T06:00:00Z"},
		{"new york fall back second occurrence", "America/New_York", "01:30", "01:45", "2024-11-03T05:50:00Z", "2024-11-03T06:30:00Z"},
		{"new york fall back later from uses new offset", "America/New_York", "09:00", "17:00", "2024-11-03T04:00:00Z", "2024-11-03T14:00:00Z"},

		// 2024-10-06 02:00 +1030 became 02:30 +11 (2024-10-05T15:30Z).
		{"lord howe spring forward window in gap", "Australia/Lord_Howe", "02:00", "02:15", "2024-10-05T15:00:00Z", "2024-10-06T15:00:00Z"},
		{"lord howe spring forward from in gap", "Australia/Lord_Howe", "02:15", "03:00", "2024-10-05T15:00:00Z", "2024-10-05T15:30:00Z"},
		{"lord howe spring forward from after gap", "Australia/Lord_Howe", "02:30", "03:00", "2024-10-05T15:00:00Z", "2024-10-05T15:30:00Z"},
		// 2024-04-07 02:00 +11 became 01:30 +1030 (2024-04-06T15:00Z).
		{"lord howe fall back clock set back into window", "Australia/Lord_Howe", "01:30", "01:45", "2024-04-06T14:50:00Z", "2024-04-06T15:00:00Z"},
		{"lord howe fall back first occurrence", "Australia/Lord_Howe", "01:40", "02:00", "2024-04-06T14:35:00Z", "2024-04-06T14:40:00Z"},
		{"lord howe fall back second occurrence", "Australia/Lord_Howe", "01:40", "01:50", "2024-04-06T14:55:00Z", "2024-04-06T15:10:00Z"},

		{"kathmandu morning", "Asia/Kathmandu", "09:00", "18:00", "2024-01-01T00:00:00Z", "2024-01-01T03:15:00Z"},
		{"kathmandu at to", "Asia/Kathmandu", "09:00", "18:00", "2024-01-01T12:15:00Z", "2024-01-02T03:15:00Z"},
		// Kathmandu moved from +05:30 to +05:45 at 1986-01-01 00:00 local.
		{"kathmandu 1986 clock jumps into window", "Asia/Kathmandu", "00:10", "01:00", "1985-12-31T18:25:00Z", "1985-12-31T18:30:00Z"},
		{"kathmandu 1986 gap", "Asia/Kathmandu", "00:05", "00:10", "1985-12-31T18:20:00Z", "1986-01-01T18:20:00Z"},

		// Samoa skipped 2011-12-30: 2011-12-29 24:00 -10 became 2011-12-31 00:00 +14.
		{"apia skipped day", "Pacific/Apia", "09:00", "17:00", "2011-12-30T09:00:00Z", "2011-12-30T19:00:00Z"},
		// Local mean time offsets with seconds: Amsterdam was +00:19:32 until 1937.
		{"amsterdam 1930 lmt offset", "Europe/Amsterdam", "09:00", "17:00", "1930-01-15T00:00:00Z", "1930-01-15T08:40:28Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			loc := mustZone(t, tt.zone)
			w := mustParse(t, tt.from, tt.to)
			at := mustTime(t, tt.t)
			got := w.Next(at, loc)
			want := mustTime(t, tt.want)
			require.True(t, got.Equal(want), "Next(%s) = %s (%s), want %s (%s)",
				at.In(loc), got.In(loc), got.UTC(), want.In(loc), want.UTC())
			requireNextOK(t, w, at, loc, got)
		})
	}

	t.Run("result is in t's location", func(t *testing.T) {
		t.Parallel()
		w := mustParse(t, "09:00", "17:00")
		ny := mustZone(t, "America/New_York")
		at := time.Date(2024, 1, 15, 8, 0, 0, 0, ny)
		got := w.Next(at, mustZone(t, "Europe/Moscow"))
		require.Equal(t, ny, got.Location())
	})

	t.Run("nil loc is UTC", func(t *testing.T) {
		t.Parallel()
		w := mustParse(t, "09:00", "17:00")
		got := w.Next(mustTime(t, "2024-01-15T17:30:00Z"), nil)
		require.True(t, got.Equal(mustTime(t, "2024-01-16T09:00:00Z")), "got %s", got)
	})
}

// propertyZones mixes zones with daylight saving of one hour, half an hour and two
// hours, negative DST, offsets that are not whole hours, a skipped day and local mean
// time offsets with seconds.
var propertyZones = []string{
	"UTC",
	"Europe/Moscow",
	"Asia/Yekaterinburg",
	"America/New_York",
	"America/St_Johns",
	"Australia/Lord_Howe",
	"Asia/Kathmandu",
	"Asia/Kolkata",
	"Asia/Tehran",
	"Pacific/Apia",
	"Pacific/Kiritimati",
	"Pacific/Chatham",
	"Antarctica/Troll",
	"Europe/Dublin",
	"Europe/Amsterdam",
	"Africa/Casablanca",
	"Africa/Monrovia",
	"America/Caracas",
}

func TestNextProperties(t *testing.T) {
	t.Parallel()

	for _, zone := range propertyZones {
		t.Run(zone, func(t *testing.T) {
			t.Parallel()
			loc := mustZone(t, zone)
			// A fixed seed per zone keeps failures reproducible; the fuzzer explores further.
			rng := rand.New(rand.NewPCG(uint64(len(zone)), 20240310))
			for i := range 60 {
				w := randomWindow(rng)
				at := randomTime(rng, loc)
				got := w.Next(at, loc)
				requireNextOK(t, w, at, loc, got)
				if i%4 == 0 {
					requireNoEarlierOnMinuteGrid(t, w, at, loc, got)
				}
			}
		})
	}
}

// randomWindow returns a valid window, often a short one or one in the small hours,
// where daylight-saving changes happen.
func randomWindow(rng *rand.Rand) sendwindow.Window {
	for {
		from := rng.IntN(24 * 60)
		var to int
		switch rng.IntN(3) {
		case 0:
			to = rng.IntN(24 * 60)
		case 1:
			to = (from + 1 + rng.IntN(90)) % (24 * 60)
		default:
			from = rng.IntN(4 * 60)
			to = (from + 1 + rng.IntN(120)) % (24 * 60)
		}
		if from != to {
			return windowOf(from, to)
		}
	}
}

// randomTime returns an instant between 1850 and 2150, half of the time within two
// days of one of loc's offset changes.
func randomTime(rng *rand.Rand, loc *time.Location) time.Time {
	lo := time.Date(1850, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(2150, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	at := time.Unix(lo+rng.Int64N(hi-lo), rng.Int64N(int64(time.Second)))
	if rng.IntN(2) == 0 {
		if _, end := at.In(loc).ZoneBounds(); !end.IsZero() {
			at = end.Add(time.Duration(rng.Int64N(int64(96*time.Hour))) - 48*time.Hour)
		}
	}
	if rng.IntN(4) == 0 {
		at = at.Truncate(time.Minute)
	}
	return at
}

func windowOf(from, to int) sendwindow.Window {
	return sendwindow.Window{
		From: sendwindow.Clock{Hour: from / 60, Minute: from % 60},
		To:   sendwindow.Clock{Hour: to / 60, Minute: to % 60},
	}
}

// maxWait bounds how far ahead Next may look: a day to reach From, plus room for a
// skipped day (Pacific/Apia 2011) and a window whose every minute fell into a gap.
const maxWait = 72 * time.Hour

// requireNextOK checks got = w.Next(at, loc): not before at, inside the window,
// within maxWait, and the first instant inside the window. The last is checked
// exactly by visiting every instant where Contains can change between at and got:
// each local minute boundary and each offset change.
func requireNextOK(t testing.TB, w sendwindow.Window, at time.Time, loc *time.Location, got time.Time) {
	t.Helper()
	require.False(t, got.Before(at), "window %s zone %s: Next(%s) = %s is before t", w, loc, at, got)
	require.True(t, w.Contains(got, loc), "window %s zone %s: Next(%s) = %s (%s) is outside the window",
		w, loc, at.In(loc), got.In(loc), got.UTC())
	require.LessOrEqual(t, got.Sub(at), maxWait, "window %s zone %s: Next(%s) = %s is too far", w, loc, at, got)
	if w.Contains(at, loc) {
		require.True(t, got.Equal(at), "window %s zone %s: t=%s is inside but Next = %s", w, loc, at, got)
		return
	}
	for s := at; ; {
		lt := s.In(loc)
		step := time.Minute - time.Duration(lt.Second())*time.Second - time.Duration(lt.Nanosecond())
		next := s.Add(step)
		if _, end := lt.ZoneBounds(); !end.IsZero() && end.After(s) && end.Before(next) {
			next = end
		}
		s = next
		if !s.Before(got) {
			return
		}
		require.False(t, w.Contains(s, loc), "window %s zone %s: Next(%s) = %s but %s is already inside",
			w, loc, at.In(loc), got.In(loc), s.In(loc))
	}
}

// requireNoEarlierOnMinuteGrid checks, independently of ZoneBounds, that no instant
// at whole UTC minutes between at and got is inside the window.
func requireNoEarlierOnMinuteGrid(t testing.TB, w sendwindow.Window, at time.Time, loc *time.Location, got time.Time) {
	t.Helper()
	for s := at.Truncate(time.Minute).Add(time.Minute); s.Before(got); s = s.Add(time.Minute) {
		require.False(t, w.Contains(s, loc), "window %s zone %s: Next(%s) = %s but %s is already inside",
			w, loc, at.In(loc), got.In(loc), s.In(loc))
	}
}

func mustParse(t testing.TB, from, to string) sendwindow.Window {
	t.Helper()
	w, err := sendwindow.Parse(from, to)
	require.NoError(t, err)
	return w
}

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := sendwindow.LoadZone(name)
	require.NoError(t, err)
	return loc
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return at
}

func BenchmarkNext(b *testing.B) {
	w := mustParse(b, "09:00", "21:00")
	loc := mustZone(b, "America/New_York")
	at := mustTime(b, "2024-03-10T06:00:00Z")
	for b.Loop() {
		w.Next(at, loc)
	}
}
