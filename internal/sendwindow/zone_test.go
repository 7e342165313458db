package sendwindow_test

import (
	"sync"
	"testing"
	"time"
	// The binary embeds the tz database in main; embed it here too so tests do not
	// depend on the host's zoneinfo.
	_ "time/tzdata"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/sendwindow"
)

func TestLoadZone(t *testing.T) {
	t.Parallel()

	valid := []string{
		"UTC",
		"Europe/Moscow",
		"Asia/Yekaterinburg",
		"America/New_York",
		"Asia/Kathmandu",
		"Australia/Lord_Howe",
		"America/Argentina/Buenos_Aires",
	}
	for _, name := range valid {
		t.Run("valid "+name, func(t *testing.T) {
			t.Parallel()
			loc, err := sendwindow.LoadZone(name)
			require.NoError(t, err)
			require.Equal(t, name, loc.String())

			again, err := sendwindow.LoadZone(name)
			require.NoError(t, err)
			require.Same(t, loc, again, "a second load should come from the cache")
		})
	}

	invalid := []struct {
		name, zone string
	}{
		{"empty", ""},
		{"Local", "Local"},
		{"localtime", "localtime"},
		{"leading space", " UTC"},
		{"trailing space", "Europe/Moscow "},
		{"trailing newline", "Europe/Moscow\n"},
		{"tab", "\tAsia/Kathmandu"},
		{"unknown", "Mars/Olympus_Mons"},
		{"directory", "Europe"},
		{"trailing slash", "Europe/"},
		{"absolute path", "/etc/localtime"},
		{"dot dot", "../zoneinfo/UTC"},
		{"offset", "+03:00"},
		{"nul", "UTC\x00"},
	}
	for _, tt := range invalid {
		t.Run("invalid "+tt.name, func(t *testing.T) {
			t.Parallel()
			loc, err := sendwindow.LoadZone(tt.zone)
			require.ErrorIs(t, err, sendwindow.ErrInvalidZone)
			require.Nil(t, loc)
		})
	}

	t.Run("UTC is time.UTC", func(t *testing.T) {
		t.Parallel()
		loc, err := sendwindow.LoadZone("UTC")
		require.NoError(t, err)
		require.Same(t, time.UTC, loc)
	})

	t.Run("concurrent loads agree", func(t *testing.T) {
		t.Parallel()
		names := []string{"Europe/Berlin", "Asia/Tokyo", "America/Chicago", "Nope/Nope"}
		var wg sync.WaitGroup
		results := make([][]*time.Location, 8)
		for g := range results {
			wg.Go(func() {
				for range 50 {
					for _, name := range names {
						loc, _ := sendwindow.LoadZone(name)
						results[g] = append(results[g], loc)
					}
				}
			})
		}
		wg.Wait()
		for _, r := range results {
			require.Equal(t, results[0], r)
		}
		require.Nil(t, results[0][3])
	})
}

func BenchmarkLoadZone(b *testing.B) {
	for b.Loop() {
		if _, err := sendwindow.LoadZone("Europe/Moscow"); err != nil {
			b.Fatal(err)
		}
	}
}
