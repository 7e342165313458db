package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/testdb"
)

// TestMailingRateAndETA: a mailing's statistics carry rate and eta, null
// until the instance has watched the counts for a second (by the service's
// clock), then the rate over the window; a finished mailing has no ETA.
// The arithmetic is TestRate's (internal/campaign, a fake clock).
func TestMailingRateAndETA(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		real := time.Now().UTC()
		clock := testdb.NewClock(real)
		b := setup(t, dbURL, setupOpts{options: appOptions{now: clock.Now}})
		b.createClients(t, 0, 3, "UTC")
		id := b.createMailing(t, real.Add(-time.Minute), real.Add(time.Hour), "")
		b.waitMailing(t, id, "FINISHED", 30*time.Second)

		type stats struct {
			Total int
			Rate  *float64
			ETA   *time.Time `json:"eta"`
		}
		read := func() stats {
			var out struct{ MailingStatistics stats }
			b.mustGQL(t, `query($id: ID!) { mailingStatistics(id: $id) { total rate eta } }`, map[string]any{"id": id}, &out)
			return out.MailingStatistics
		}
		first := read()
		require.Equal(t, 3, first.Total)
		require.Nil(t, first.Rate, "one read: no rate yet")
		require.Nil(t, first.ETA)

		clock.Set(clock.Now().Add(2 * time.Second))
		second := read()
		require.NotNil(t, second.Rate)
		require.Zero(t, *second.Rate, "nothing finished between the reads")
		require.Nil(t, second.ETA, "finished: no ETA")

		// The same fields on the mailing and on the progress stream's type.
		r := b.gql(t, `query($id: ID!) { mailing(id: $id) { stats { rate eta } } }`, map[string]any{"id": id})
		require.Empty(t, r.Errors)
		var m struct {
			Mailing struct {
				Stats struct {
					Rate *float64
					ETA  json.RawMessage `json:"eta"`
				}
			}
		}
		require.NoError(t, json.Unmarshal(r.Data, &m))
		require.NotNil(t, m.Mailing.Stats.Rate)
		require.Equal(t, "null", string(m.Mailing.Stats.ETA))
	})
}
