package sendwindow_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/sendwindow"
)

func FuzzParse(f *testing.F) {
	for _, seed := range [][2]string{
		{"09:00", "21:00"}, {"22:00", "06:00"}, {"00:00", "23:59"}, {"09:00", "09:00"},
		{"24:00", "25:61"}, {"", ""}, {" 9:00", "+9:00"}, {"０９:００", "09：00"}, {"09:00:00", "9"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, from, to string) {
		w, err := sendwindow.Parse(from, to)
		if err != nil {
			var fe *sendwindow.Error
			require.True(t, errors.As(err, &fe), "error %v (%T) is not a *sendwindow.Error", err, err)
			require.Contains(t, []string{"from", "to"}, fe.Field)
			require.NotEmpty(t, fe.Msg)
			return
		}
		require.NoError(t, w.Validate())
		require.Equal(t, from, w.FromString())
		require.Equal(t, to, w.ToString())
		require.Equal(t, from+"-"+to, w.String())
		again, err := sendwindow.Parse(w.FromString(), w.ToString())
		require.NoError(t, err)
		require.Equal(t, w, again)
	})
}

func FuzzNext(f *testing.F) {
	f.Add(uint16(9*60), uint16(21*60), int64(1705280400), int64(0), uint8(0))
	f.Add(uint16(150), uint16(300), int64(1710050400), int64(0), uint8(3))        // New York spring forward
	f.Add(uint16(60), uint16(90), int64(1730612700), int64(0), uint8(3))          // New York fall back
	f.Add(uint16(120), uint16(135), int64(1728140400), int64(0), uint8(5))        // Lord Howe spring forward
	f.Add(uint16(22*60), uint16(6*60), int64(1704067200), int64(999), uint8(6))   // Kathmandu
	f.Add(uint16(9*60), uint16(17*60), int64(1325235600), int64(0), uint8(9))     // Apia skipped day
	f.Add(uint16(90), uint16(105), int64(1414273800), int64(500000000), uint8(1)) // Moscow 2014
	f.Fuzz(func(t *testing.T, from, to uint16, sec, nsec int64, zone uint8) {
		from %= 24 * 60
		to %= 24 * 60
		if from == to {
			t.Skip("from == to is not a valid window")
		}
		w := windowOf(int(from), int(to))
		require.NoError(t, w.Validate())
		loc := mustZone(t, propertyZones[int(zone)%len(propertyZones)])

		// Keep t between 1850 and 2150, where the tz database has something to say.
		lo := time.Date(1850, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
		hi := time.Date(2150, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
		span := hi - lo
		at := time.Unix(lo+((sec%span)+span)%span, ((nsec%1e9)+1e9)%1e9)

		requireNextOK(t, w, at, loc, w.Next(at, loc))
	})
}
