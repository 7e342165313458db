package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/auth"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/fakesender"
	"github.com/notifyhq/notify/internal/status"
	"github.com/notifyhq/notify/internal/testdb"
)

// TestSendHistoryQuery: after a real fan-out to the fake sender (some of it
// rejected for good), sendHistory's bucket holds exactly the messages that
// were sent and that failed; a viewer may read it; minutes out of range is an
// error naming the field. The samples are taken at times of the service's
// clock, which the test sets; the sampler's arithmetic (gaps, the hour kept)
// is TestSendHistory's in internal/campaign, on a fake clock.
func TestSendHistoryQuery(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		// The service's clock stands at the start of a bucket, near the
		// real time River and the sender follow.
		t0 := time.Now().UTC().Truncate(campaign.HistoryBucket)
		clock := testdb.NewClock(t0)
		b := setup(t, dbURL, setupOpts{
			faults:  fakesender.Faults{RejectRate: 0.3},
			env:     map[string]string{"API_TOKENS": roleTokensEnv()},
			options: appOptions{now: clock.Now},
		})
		operator, viewer := roleTokens[auth.Operator], roleTokens[auth.Viewer]
		must := func(token, query string, dst any) {
			t.Helper()
			r := auditGQL(t, b, token, "", query)
			require.Empty(t, r.Errors, "errors from %s", query)
			if dst != nil {
				require.NoError(t, json.Unmarshal(r.Data, dst))
			}
		}

		// The sample of bucket t0, before anything is sent. The instance
		// takes its own at start; whichever comes first stands, and both
		// read nothing sent.
		require.NoError(t, b.app.service.SampleSends(t.Context()))

		const n = 40
		clients := make([]string, n)
		for i := range clients {
			clients[i] = fmt.Sprintf(`{phone: "7%010d", timezone: "UTC"}`, 9300000000+i)
		}
		must(operator, `mutation { createClients(input: [`+strings.Join(clients, ",")+`]) { id } }`, nil)
		now := time.Now().UTC()
		var created struct{ CreateMailing struct{ ID string } }
		must(operator, fmt.Sprintf(`mutation { createMailing(input: {startAt: %q, endAt: %q, text: "History"}) { id } }`,
			now.Add(-time.Minute).Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339)), &created)
		waitFor(t, 60*time.Second, "the mailing to finish", func() bool {
			var out struct{ Mailing struct{ Status string } }
			must(viewer, fmt.Sprintf(`{ mailing(id: %s) { status } }`, created.CreateMailing.ID), &out)
			return out.Mailing.Status == "FINISHED"
		})

		// The next bucket starts: its sample closes bucket t0.
		clock.Set(t0.Add(campaign.HistoryBucket))
		require.NoError(t, b.app.service.SampleSends(t.Context()))

		byStatus := countByStatus(b.messages(t))
		sent, failed := byStatus[status.Sent], byStatus[status.Failed]+byStatus[status.Expired]
		require.Equal(t, n, sent+failed, "every message sent or failed: %v", byStatus)
		require.NotZero(t, failed, "the fake rejects some")

		type history struct {
			Since         *time.Time
			BucketSeconds int
			Buckets       []struct {
				At           time.Time
				Sent, Failed int
			}
		}
		var out struct{ SendHistory history }
		must(viewer, `{ sendHistory(minutes: 1) { since bucketSeconds buckets { at sent failed } } }`, &out)
		h := out.SendHistory
		require.NotNil(t, h.Since)
		require.Equal(t, t0, h.Since.UTC(), "the history starts in the bucket the instance started in")
		require.Equal(t, 10, h.BucketSeconds)
		require.Len(t, h.Buckets, 1, "one bucket has ended: %+v", h.Buckets)
		require.Equal(t, t0, h.Buckets[0].At.UTC())
		require.Equal(t, sent, h.Buckets[0].Sent)
		require.Equal(t, failed, h.Buckets[0].Failed)

		// The default is the hour; a quiet bucket that ends later counts nothing.
		clock.Set(t0.Add(2 * campaign.HistoryBucket))
		require.NoError(t, b.app.service.SampleSends(t.Context()))
		out = struct{ SendHistory history }{}
		must(viewer, `{ sendHistory { buckets { at sent failed } } }`, &out)
		require.Len(t, out.SendHistory.Buckets, 2)
		require.Equal(t, sent, out.SendHistory.Buckets[0].Sent)
		require.Equal(t, t0.Add(campaign.HistoryBucket), out.SendHistory.Buckets[1].At.UTC())
		require.Zero(t, out.SendHistory.Buckets[1].Sent)
		require.Zero(t, out.SendHistory.Buckets[1].Failed)

		for _, minutes := range []int{0, 61} {
			r := auditGQL(t, b, viewer, "", fmt.Sprintf(`{ sendHistory(minutes: %d) { since } }`, minutes))
			require.Len(t, r.Errors, 1, "minutes: %d", minutes)
			require.Equal(t, "BAD_USER_INPUT", r.Errors[0].Extensions["code"])
			require.Equal(t, "minutes", r.Errors[0].Extensions["field"])
		}
	})
}
