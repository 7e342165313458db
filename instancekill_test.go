package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/fakesender"
	"github.com/notifyhq/notify/internal/lockedbuf"
	"github.com/notifyhq/notify/internal/testdb"
)

// TestInstanceKillTakeover kills one of three instances (SIGKILL) a third of
// the way through a mailing and checks what docs/design.md ("Instance
// kills") promises: nothing is lost, only requests the dead instance had in
// flight are repeated, and its batches run elsewhere within 30 s of the
// kill (measured on River's job rows, asserted with margin at 25 s).
func TestInstanceKillTakeover(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary and runs three instances: not in -short")
	}
	dbURL := testdb.Postgres(t)
	bin := filepath.Join(t.TempDir(), "notify")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	// The fake sender (50 ms), behind a recorder of every request's start
	// and end, to tell which requests were in flight at the kill.
	fake := fakesender.New(fakesender.Config{Token: testToken, Seed: 1,
		Faults: fakesender.Faults{LatencyMin: 50 * time.Millisecond, LatencyMax: 50 * time.Millisecond}})
	t.Cleanup(fake.Close)
	rec := &killRecorder{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: rec.wrap(fake)}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	// KILL_RECIPIENTS sets the mailing's size: make bench runs it with
	// 20,000 and prints the figures logged below.
	n := 6000
	if v, err := strconv.Atoi(os.Getenv("KILL_RECIPIENTS")); err == nil && v > 0 {
		n = v
	}
	const concurrency = 16
	env := []string{
		"DATABASE_URL=" + dbURL,
		"LISTEN_ADDR=127.0.0.1:0",
		"SENDER_URL=http://" + ln.Addr().String(),
		"SENDER_TOKEN=" + testToken,
		"SENDER_CONCURRENCY=" + strconv.Itoa(concurrency),
		"LOG_LEVEL=warn",
		"SHUTDOWN_TIMEOUT=10s",
	}
	// The first migrates; the others start on the migrated schema.
	instances := []*killInstance{startKillInstance(t, bin, env)}
	for range 2 {
		instances = append(instances, startKillInstance(t, bin, env))
	}

	db, err := sql.Open("postgres", dbURL)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec(`INSERT INTO clients (phone, operator_code, tag, timezone, created_at, updated_at)
		SELECT '79' || lpad(g::text, 9, '0'), '9' || lpad((g % 100)::text, 2, '0'), 'kill', 'UTC', now(), now()
		FROM generate_series(1, $1) g`, n)
	require.NoError(t, err)
	now := time.Now()
	var created struct{ CreateMailing struct{ ID string } }
	killGQL(t, instances[0].url, fmt.Sprintf(`mutation { createMailing(input: {startAt: %q, endAt: %q, text: "kill"}) { id } }`,
		now.Add(-time.Minute).UTC().Format(time.RFC3339), now.Add(time.Hour).UTC().Format(time.RFC3339)), &created)

	// At a third, kill the instance running the most batches.
	sent := func() int {
		var c int
		require.NoError(t, db.QueryRow(`SELECT count(*) FROM messages WHERE status = 'sent'`).Scan(&c))
		return c
	}
	waitFor(t, time.Minute, "a third sent", func() bool { return sent() >= n/3 })
	owners := map[string][]int64{}
	rows, err := db.Query(`SELECT id, attempted_by[array_length(attempted_by, 1)] FROM river_job WHERE state = 'running' AND kind = 'send_batch'`)
	require.NoError(t, err)
	for rows.Next() {
		var id int64
		var owner string
		require.NoError(t, rows.Scan(&id, &owner))
		owners[owner] = append(owners[owner], id)
	}
	require.NoError(t, rows.Close())
	var victim *killInstance
	var victimID string
	for _, in := range instances {
		for owner, jobs := range owners {
			// River's client ID is host_pid_random (jobs.ClientID).
			if strings.Contains(owner, fmt.Sprintf("_%d_", in.cmd.Process.Pid)) && (victim == nil || len(jobs) > len(owners[victimID])) {
				victim, victimID = in, owner
			}
		}
	}
	require.NotNil(t, victim, "some instance runs a batch: %v", owners)
	orphans := owners[victimID]
	killedAt := time.Now()
	require.NoError(t, victim.cmd.Process.Kill())
	_, _ = victim.cmd.Process.Wait()
	// The signal is delivered, and the process gone, some time after
	// Kill returns: until Wait returns it may still start requests, which
	// the fake sender sees a moment later still (loopback, two busy cores).
	deadAt := time.Now().Add(10 * time.Millisecond)
	sentAtKill := sent()
	t.Logf("killed pid %d (%s) at %d of %d sent, running %d batch jobs", victim.cmd.Process.Pid, victimID, sentAtKill, n, len(orphans))

	// Its batches run elsewhere: each job's last owner is another instance.
	var takeover time.Duration
	waitFor(t, 40*time.Second, "the dead instance's batches taken over", func() bool {
		var left int
		require.NoError(t, db.QueryRow(`SELECT count(*) FROM river_job WHERE id = ANY($1) AND attempted_by[array_length(attempted_by, 1)] = $2`,
			int64Array(orphans), victimID).Scan(&left))
		takeover = time.Since(killedAt)
		return left == 0
	})
	t.Logf("taken over %s after the kill", takeover.Round(time.Millisecond))
	require.Less(t, takeover, 25*time.Second, "taken over within 30 s of the kill, with margin")

	// The mailing finishes with every message sent.
	waitFor(t, time.Minute, "mailing finished", func() bool {
		var st string
		require.NoError(t, db.QueryRow(`SELECT status FROM mailings WHERE id = $1`, created.CreateMailing.ID).Scan(&st))
		return st == "finished"
	})
	t.Logf("mailing of %d finished %s after the kill", n, time.Since(killedAt).Round(time.Millisecond))
	require.Equal(t, n, sent(), "every message sent")
	require.Equal(t, n, fake.Stats().AcceptedMessages, "the API accepted every message")

	// Duplicates only among the requests the dead instance had in flight:
	// on the wire at the kill, or answered so shortly before it that the
	// outcome was not written yet (the collector writes every 100 ms).
	dups := fake.Duplicates()
	wire, recent := rec.inFlight(killedAt, 300*time.Millisecond)
	t.Logf("%d duplicates; at the kill %d requests were on the wire, %d more answered in the 300 ms before", len(dups), wire, recent)
	for _, id := range dups {
		first := rec.first(id)
		require.True(t, first.start.Before(deadAt) && !first.end.Before(killedAt.Add(-300*time.Millisecond)),
			"message %d sent twice: its first request (%s–%s) was not in flight at the kill (%s–%s)", id, first.start, first.end, killedAt, deadAt)
	}
	require.LessOrEqual(t, len(dups), 4*concurrency, "at most the dead instance's requests in flight (SENDER_CONCURRENCY on the wire, and answers not yet written)")

	for _, in := range instances {
		if in != victim {
			in.stop(t)
		}
	}
}

// killInstance is the binary serving as a subprocess.
type killInstance struct {
	cmd  *exec.Cmd
	url  string
	logs *lockedbuf.Buffer
}

func startKillInstance(t *testing.T, bin string, env []string) *killInstance {
	t.Helper()
	in := &killInstance{cmd: exec.Command(bin, "serve"), logs: &lockedbuf.Buffer{}}
	in.cmd.Env = append(os.Environ(), env...)
	in.cmd.Stderr = in.logs
	stdout, err := in.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, in.cmd.Start())
	t.Cleanup(func() {
		_ = in.cmd.Process.Kill()
		_, _ = in.cmd.Process.Wait()
		if t.Failed() {
			t.Logf("logs of pid %d:\n%s", in.cmd.Process.Pid, in.logs.String())
		}
	})
	in.url = listeningURL(t, stdout, in.logs)
	return in
}

// stop sends SIGTERM and waits for a clean exit.
func (in *killInstance) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, in.cmd.Process.Signal(os.Interrupt))
	done := make(chan error, 1)
	go func() { done <- in.cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "clean exit on SIGTERM")
	case <-time.After(30 * time.Second):
		t.Fatal("no exit 30 s after SIGTERM")
	}
}

func killGQL(t *testing.T, base, query string, dst any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query})
	require.NoError(t, err)
	resp, err := http.Post(base+"/query", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors []any           `json:"errors"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.Empty(t, out.Errors)
	require.NoError(t, json.Unmarshal(out.Data, dst))
}

func int64Array(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return "{" + strings.Join(s, ",") + "}"
}

// killRecorder records when each send request started and ended.
type killRecorder struct {
	mu   sync.Mutex
	reqs []killRequest
}

type killRequest struct {
	id         int64
	start, end time.Time
}

func (r *killRecorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, req)
		id, err := strconv.ParseInt(strings.TrimPrefix(req.URL.Path, "/v1/send/"), 10, 64)
		if err != nil {
			return
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, killRequest{id: id, start: start, end: time.Now()})
		r.mu.Unlock()
	})
}

// first is the earliest request for id.
func (r *killRecorder) first(id int64) killRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	var f killRequest
	for _, q := range r.reqs {
		if q.id == id && (f.start.IsZero() || q.start.Before(f.start)) {
			f = q
		}
	}
	return f
}

// inFlight counts the requests on the wire at t, and those that ended in
// the window before it.
func (r *killRecorder) inFlight(t time.Time, window time.Duration) (wire, recent int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, q := range r.reqs {
		switch {
		case q.start.Before(t) && q.end.After(t):
			wire++
		case q.end.Before(t) && q.end.After(t.Add(-window)):
			recent++
		}
	}
	return wire, recent
}
