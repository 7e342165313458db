package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/delivery"
	"github.com/notifyhq/notify/internal/fakesender"
	"github.com/notifyhq/notify/internal/testdb"
)

// clusterQuota is SENDER_MAX_RPS_CLUSTER in the cluster tests: well under
// what three instances send on a loaded machine, even under the race
// detector (about 140 requests a second at worst), so that the quota, not
// the machine, bounds the rate.
const clusterQuota = 100

// startCluster starts a fake sending API and three instances on a new
// Postgres schema, all sending to it under SENDER_MAX_RPS_CLUSTER=
// clusterQuota, and a mailing to n clients. Batches are small (25 messages)
// so that every instance's River takes some: each instance then has more
// demand than the quota until the mailing's tail.
func startCluster(t *testing.T, n int) (fake *fakesender.Fake, cluster []*testBundle, mailingID string) {
	t.Helper()
	dbURL := testdb.Postgres(t)
	fake, fakeURL := startFake(t, fakesender.Faults{})
	for range 3 {
		b := setup(t, dbURL, setupOpts{
			env: map[string]string{
				"SENDER_URL":             fakeURL,
				"SENDER_MAX_RPS_CLUSTER": strconv.Itoa(clusterQuota),
				// 16 requests in flight, far more than a third of the
				// quota, and so 4 batch workers (BatchWorkers): 12 in the
				// cluster for the mailing's batches, which are then handed
				// out as workers free up. With 64, each instance ran 11
				// and the three took every batch at their first fetch, so
				// the shares followed who fetched first (17 % once).
				"SENDER_CONCURRENCY": "16",
				"LOG_LEVEL":          "info",
			},
			options: appOptions{engine: delivery.Config{BatchSize: 25}},
		})
		b.fake = fake
		// Three instances (and the other tests) share the test Postgres:
		// each engine keeps to 12 connections (4 batches' admissions, the
		// quota's own, and room for the writes) instead of 40.
		b.app.db.SQL.SetMaxOpenConns(12)
		b.app.db.SQL.SetMaxIdleConns(12)
		cluster = append(cluster, b)
	}
	// The clients 1,000 a request (a query's token limit allows about 1,400).
	for first := 0; first < n; first += 1000 {
		cluster[0].createClients(t, first, min(1000, n-first), "UTC")
	}
	return fake, cluster, cluster[0].startMailing(t, "")
}

// senderRequests returns how many requests an instance made to the sending
// API (its notify_sender_requests_total).
func senderRequests(t *testing.T, b *testBundle) int {
	t.Helper()
	families, err := b.app.metrics.Registry().Gather()
	require.NoError(t, err)
	n := 0.0
	for _, f := range families {
		if f.GetName() == "notify_sender_requests_total" {
			for _, m := range f.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return int(n)
}

// requirePerSecondCap asserts that the fake saw at most the quota + 10 % in
// every second, and returns the per-second counts in order and their maximum.
func requirePerSecondCap(t *testing.T, fake *fakesender.Fake) (secs []int64, perSecond map[int64]int, peak int) {
	t.Helper()
	perSecond = fake.RequestsPerSecond()
	for s, n := range perSecond {
		secs = append(secs, s)
		peak = max(peak, n)
	}
	slices.Sort(secs)
	line := ""
	for _, s := range secs {
		line += fmt.Sprintf(" %d", perSecond[s])
	}
	t.Logf("requests per second (quota %d):%s", clusterQuota, line)
	for _, s := range secs {
		require.LessOrEqual(t, perSecond[s], clusterQuota*11/10, "second %d: %v", s, line)
	}
	return secs, perSecond, peak
}

// TestClusterQuota runs one mailing on three instances sharing
// SENDER_MAX_RPS_CLUSTER: the sending API sees at most the quota (+10 %) in
// every second, every message is sent once, and the instances share the
// quota evenly.
//
// Not parallel: its three instances already use many of the test Postgres's
// connections.
func TestClusterQuota(t *testing.T) {
	const n = 7 * clusterQuota // 7 s at the quota
	fake, cluster, id := startCluster(t, n)
	cluster[0].waitMailing(t, id, "FINISHED", 2*time.Minute)
	requireEachSentOnce(t, cluster[0], n)

	_, _, peak := requirePerSecondCap(t, fake)
	t.Logf("peak %d requests in a second, quota %d", peak, clusterQuota)

	// Each instance's share. Demand is equal while batches are left to take
	// (each instance runs up to 4 batches with 16 requests in flight, far
	// more than its third of the quota), and the claims interleave (chunks
	// of one token, the quota released a tenth of a second at a time), so
	// each gets about a third. River hands out batches first come, so in the
	// mailing's tail one instance may run out of work before the others;
	// the bound, at least a fifth each, allows for that, and still fails if
	// one instance takes the others' share.
	total := 0
	shares := make([]int, len(cluster))
	for i, b := range cluster {
		shares[i] = senderRequests(t, b)
		total += shares[i]
	}
	require.Equal(t, n, total, "one request per message")
	for i, s := range shares {
		t.Logf("instance %d: %d requests (%.0f %%)", i, s, 100*float64(s)/float64(total))
		require.GreaterOrEqual(t, s, total/5, "instance %d's share of %v", i, shares)
	}
}

// TestClusterQuotaInstanceDies stops one of three instances in the middle of
// a mailing: the other two use the whole quota again within a second or
// two, never more than it, and finish the mailing.
// Not parallel, like TestClusterQuota.
func TestClusterQuotaInstanceDies(t *testing.T) {
	const n = 10 * clusterQuota // 10 s at the quota
	fake, cluster, id := startCluster(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, fake.WaitForRequests(ctx, 2*clusterQuota))
	require.Positive(t, senderRequests(t, cluster[2]), "the instance to stop was sending")

	stopping := time.Now()
	stopCtx, stopCancel := context.WithTimeout(context.Background(), 10*time.Second)
	cluster[2].app.stopWork(stopCtx)
	stopCancel()
	cluster[2].app.close()
	dead := time.Now()
	atDeath := fake.Stats().Requests
	require.Less(t, atDeath, n-3*clusterQuota, "stopped with at least 3 s of the mailing left")

	// Three more seconds' worth of requests: the first whole seconds after
	// the stop are in the fake's counts.
	require.NoError(t, fake.WaitForRequests(ctx, atDeath+3*clusterQuota))
	secs, perSecond, _ := requirePerSecondCap(t, fake)
	// The best whole second before the stop, and the best whole second
	// starting within two seconds after it: the two left use the whole
	// quota again (85 %: more than the two thirds they would get if the
	// stopped instance's share were lost). When the machine, not the quota,
	// bounds the rate (it did not in any run here), the two left must reach
	// 85 % of what the three sent.
	before, after := 0, 0
	for _, s := range secs {
		start, end := time.Unix(s, 0), time.Unix(s+1, 0)
		switch {
		case end.Before(stopping):
			before = max(before, perSecond[s])
		case start.After(dead) && start.Before(dead.Add(2*time.Second)) && end.Before(time.Now()):
			after = max(after, perSecond[s])
		}
	}
	t.Logf("stopped at %s; best whole second before: %d, within 2 s after: %d (quota %d)", dead.Format("15:04:05.000"), before, after, clusterQuota)
	require.GreaterOrEqual(t, after, min(clusterQuota, before)*85/100, "the two left use the whole quota")

	cluster[0].waitMailing(t, id, "FINISHED", 2*time.Minute)
	requireEachSentOnce(t, cluster[0], n)
	requirePerSecondCap(t, fake)
}
