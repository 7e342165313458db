package event

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOfferEvents: a stream of events takes values while its buffer has
// room, then reports the subscriber too slow, keeping what it holds.
func TestOfferEvents(t *testing.T) {
	ch := make(chan int, 2)
	require.True(t, Offer(ch, 1, false))
	require.True(t, Offer(ch, 2, false))
	require.False(t, Offer(ch, 3, false), "full: the subscriber is to be dropped")
	require.Equal(t, 1, <-ch)
	require.Equal(t, 2, <-ch)
}

// TestOfferLatest: a stream of snapshots never refuses one; the newest
// replaces an unread one.
func TestOfferLatest(t *testing.T) {
	ch := make(chan int, 1)
	for i := range 5 {
		require.True(t, Offer(ch, i, true))
	}
	require.Equal(t, 4, <-ch)
	require.Empty(t, ch)
}
