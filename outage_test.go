package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/fakesender"
	"github.com/notifyhq/notify/internal/status"
	"github.com/notifyhq/notify/internal/testdb"
)

// The database-outage tests (docs/design.md, "Database outages"): a
// mailing runs, the database goes away mid-mailing and comes back; the
// process stays up, /readyz answers 503 meanwhile, sending resumes by
// itself, and every answer of the sending API is written: no message is
// sent twice.

// outageClients is the size of the outage tests' mailing.
const outageClients = 300

// outageSetup is the service of an outage test: a slow sender (8 requests
// in flight, 50–100 ms each: about 100 messages a second), so the cut
// falls mid-mailing with requests on the wire.
func outageSetup(t *testing.T, databaseURL string) *testBundle {
	t.Helper()
	return setup(t, databaseURL, setupOpts{
		faults: fakesender.Faults{LatencyMin: 50 * time.Millisecond, LatencyMax: 100 * time.Millisecond},
		env:    map[string]string{"SENDER_CONCURRENCY": "8"},
	})
}

// runThroughOutage starts a mailing, cuts the database (cut) once part of
// it is sent, checks the service while it is away, restores it (restore)
// and checks the mailing finishes with every message sent exactly once.
// With outlastRun the database stays away until the batch job's run is out
// of time (jobs.SendBatchTimeout: 12 s with the tests' 2 s SENDER_TIMEOUT).
func runThroughOutage(t *testing.T, b *testBundle, outlastRun bool, cut, restore func()) {
	t.Helper()
	b.createClients(t, 0, outageClients, "UTC")
	id := b.startMailing(t, "")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, b.fake.WaitForAccepted(ctx, outageClients/5))
	cut()
	cutAt := time.Now()
	acceptedAtCut := b.fake.Stats().Accepted

	// The requests on the wire when the database went away are answered;
	// their outcomes wait in memory.
	waitFor(t, 30*time.Second, "outcomes kept in memory", func() bool { return b.app.engine.Unwritten() > 0 })
	require.Equal(t, http.StatusServiceUnavailable, b.probe(t, "/readyz"), "not ready while the database is away")
	require.Equal(t, http.StatusOK, b.probe(t, "/healthz"), "the process is up")
	held := b.app.engine.Unwritten()
	require.LessOrEqual(t, held, 8+250, "at most the requests in flight, and a collector's buffer, are held")
	// No request starts without the database (admission needs it); those
	// in flight at the cut end within the sender's latency.
	reqs := b.fake.Stats().Requests
	waitFor(t, 10*time.Second, "no request in flight", func() bool {
		st := b.fake.Stats()
		return st.Requests == reqs && st.Requests == sumOutcomes(st.Outcomes)
	})
	// The batch job keeps its batch and waits for the database instead of
	// failing (River would hand it out again): wait for its third try, so
	// the outage outlasts a few of the engine's retries.
	waitFor(t, 30*time.Second, "the batch waiting for the database", func() bool {
		return strings.Contains(b.logs.String(), `"msg":"database unavailable: the batch waits for it"`) &&
			strings.Contains(b.logs.String(), `"tries":3`)
	})
	require.Equal(t, http.StatusServiceUnavailable, b.probe(t, "/readyz"), "still not ready")
	t.Logf("database cut after %d accepted; %d outcomes held in memory, %d after the requests in flight ended",
		acceptedAtCut, held, b.app.engine.Unwritten())
	if outlastRun {
		waitFor(t, time.Minute, "the batch run out of time", func() bool {
			return strings.Contains(b.logs.String(), `"msg":"batch run out of time while the database is away`)
		})
		require.Equal(t, http.StatusServiceUnavailable, b.probe(t, "/readyz"), "still not ready")
		require.Equal(t, http.StatusOK, b.probe(t, "/healthz"), "still up")
		require.Positive(t, b.app.engine.Unwritten(), "the outcomes are still held")
	}

	restore()
	restoredAt := time.Now()
	t.Logf("database away for %s", restoredAt.Sub(cutAt).Round(time.Millisecond))
	waitFor(t, 60*time.Second, "ready again", func() bool { return b.probe(t, "/readyz") == http.StatusOK })
	readyAfter := time.Since(restoredAt)
	waitFor(t, 60*time.Second, "kept outcomes written", func() bool { return b.app.engine.Unwritten() == 0 })
	t.Logf("ready again %s, kept outcomes written %s after the database came back",
		readyAfter.Round(time.Millisecond), time.Since(restoredAt).Round(time.Millisecond))
	ctx2, cancel2 := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel2()
	require.NoError(t, b.fake.WaitForRequests(ctx2, reqs+1), "sending resumes by itself")
	t.Logf("sending resumed %s after the database came back", b.fake.Stats().LastRequestAt.Sub(restoredAt).Round(time.Millisecond))

	b.waitMailing(t, id, "FINISHED", 2*time.Minute)
	msgs := b.messages(t)
	require.Len(t, msgs, outageClients)
	for _, m := range msgs {
		require.Equal(t, status.Sent, m.Status, "message %d", m.ID)
		require.Equal(t, 1, b.fake.Accepted(int64(m.ID)), "message %d accepted once", m.ID)
		require.Equal(t, b.fake.Requests(int64(m.ID)), m.Attempts, "attempts recorded for message %d", m.ID)
	}
	require.Empty(t, b.fake.Duplicates())
	require.Equal(t, outageClients, b.fake.Stats().Requests, "one request per message")
	requireCountsMatch(t, b)
	var failed int
	require.NoError(t, b.app.db.SQL.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'send_batch' AND cardinality(errors) > 0`).Scan(&failed))
	require.Zero(t, failed, "no batch job failed: it waited for the database")
}

func sumOutcomes(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// probe GETs path and returns the status code.
func (b *testBundle) probe(t *testing.T, path string) int {
	t.Helper()
	resp, err := http.Get(b.server.URL + path)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestSendResultsSurviveConnectionCut runs the service through a TCP proxy
// (Toxiproxy, embedded) that drops every connection to Postgres and
// refuses new ones mid-mailing, then lets them through again.
func TestSendResultsSurviveConnectionCut(t *testing.T) {
	t.Parallel()
	dbURL := testdb.Postgres(t)
	u, err := url.Parse(dbURL)
	require.NoError(t, err)

	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	api := httptest.NewServer(server.Routes())
	t.Cleanup(api.Close)
	client := toxiclient.NewClient(api.URL)
	proxy, err := client.CreateProxy("postgres", "127.0.0.1:0", u.Host)
	require.NoError(t, err)
	t.Cleanup(func() { _ = proxy.Delete() })
	u.Host = proxy.Listen // the address the proxy listens on (search_path kept)

	b := outageSetup(t, u.String())
	runThroughOutage(t, b, false, func() { require.NoError(t, proxy.Disable()) }, func() { require.NoError(t, proxy.Enable()) })
}

// TestSendResultsSurvivePostgresRestart runs the service on a Postgres
// cluster of its own (the shared one serves other tests) and stops it
// mid-mailing, for longer than a batch job's run, then starts it again. It
// needs Debian's postgresql-common
// and root.
func TestSendResultsSurvivePostgresRestart(t *testing.T) {
	t.Parallel()
	skip := func(reason string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("required with CI=true: %s", reason)
		}
		t.Skip("skipping: " + reason)
	}
	if os.Geteuid() != 0 {
		skip("creating a private Postgres cluster needs root")
	}
	for _, tool := range []string{"pg_createcluster", "pg_ctlcluster", "pg_dropcluster"} {
		if _, err := exec.LookPath(tool); err != nil {
			skip(tool + " not found (postgresql-common)")
		}
	}
	version := os.Getenv("TEST_PG_VERSION")
	if version == "" {
		version = "15"
	}
	buf := make([]byte, 4)
	_, _ = rand.Read(buf)
	name := "outage" + hex.EncodeToString(buf)
	port := freePort(t)
	run := func(args ...string) {
		t.Helper()
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		require.NoError(t, err, "%v: %s", args, out)
	}
	run("pg_createcluster", version, name, "-p", strconv.Itoa(port), "--start", "--", "--auth=trust")
	t.Cleanup(func() {
		if out, err := exec.Command("pg_dropcluster", version, name, "--stop").CombinedOutput(); err != nil {
			t.Logf("dropping cluster %s: %v: %s", name, err, out)
		}
	})
	admin, err := sql.Open("postgres", fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port))
	require.NoError(t, err)
	waitFor(t, 30*time.Second, "the private cluster answers", func() bool { return admin.Ping() == nil })
	_, err = admin.Exec("CREATE DATABASE notify")
	require.NoError(t, err)
	admin.Close()

	b := outageSetup(t, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/notify?sslmode=disable", port))
	// Stopped for longer than a batch run: the job must not be left to
	// River's rescuer (minutes) to resume.
	runThroughOutage(t, b, true,
		func() { run("pg_ctlcluster", version, name, "stop", "-m", "fast") },
		func() { run("pg_ctlcluster", version, name, "start") })
}

// freePort returns a TCP port nobody listens on at the moment.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
