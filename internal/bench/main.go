// Command bench measures the service end to end (make bench): it builds the
// real binary, runs it as a subprocess on a fresh Postgres schema against the
// bundled fake sender (another subprocess) on loopback, and prints the medians
// of several runs with the command line that reproduces them.
//
// Figures: fan-out messages/s from mailing creation to the last status
// written; peak RSS of the service (VmHWM); generalStatistics p50/p99 while
// the fan-out runs; and, with -rest, generalStatistics at rest afterwards.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/lib/pq"

	"github.com/notifyhq/notify/internal/procstack"
)

type scenario struct {
	name        string
	recipients  int
	latency     time.Duration
	concurrency int
	// instances of the service on the one schema (1 when zero).
	instances int
	// bound is the throughput the sender allows (concurrency × instances /
	// latency); zero for an instant sender.
	bound float64
}

func (sc scenario) count() int { return max(sc.instances, 1) }

type result struct {
	rate       float64 // messages per second
	elapsed    time.Duration
	rssMB      float64
	statsP50   time.Duration
	statsP99   time.Duration
	restP50    time.Duration
	restP99    time.Duration
	statsCount int
	// phases: from creation to the recipients selected, and to the first send
	toSelected  time.Duration
	toFirstSent time.Duration
	// CPU per message, µs: of the service (all its instances) and of
	// Postgres (every postgres process, see pgCPUSeconds), from the
	// mailing's creation to its end.
	serviceCPU, postgresCPU float64
}

func main() {
	recipients := flag.Int("recipients", envInt("BENCH_RECIPIENTS", 100000), "recipients of the instant-sender fan-out (BENCH_RECIPIENTS)")
	slowRecipients := flag.Int("slow-recipients", 20000, "recipients of the 200 ms-sender fan-out")
	runs := flag.Int("runs", 3, "runs per scenario (medians are printed)")
	only := flag.String("only", "", "run only the scenarios with these names, comma-separated (instant, slow, slow3, c2000, subscribers, import, export)")
	// 200,000 recipients keep the c2000 fan-out going for about 20 s: in a
	// run of 6 s (60,000), the first send at 0.3 s and the last answers'
	// 0.2 s weighed 7 % of the rate (docs/benchmarks.md).
	bigRecipients := flag.Int("c2000-recipients", 200000, "recipients of the SENDER_CONCURRENCY=2000 fan-out (200 ms sender)")
	subRecipients := flag.Int("sub-recipients", envInt("BENCH_RECIPIENTS", 100000), "recipients of the live-events fan-out")
	subProgress := flag.Int("sub-progress", 490, "mailingProgress subscribers of the live-events fan-out")
	subStatus := flag.Int("sub-status", 10, "messageStatusChanged subscribers of the live-events fan-out")
	instantConcurrency := flag.Int("concurrency", 64, "SENDER_CONCURRENCY of the instant-sender fan-out")
	importLines := flag.Int("import-lines", 1000000, "clients of the CSV import and export benchmarks")
	cpuProfile := flag.String("cpuprofile", "", "write this process's CPU profile (the subscribers' side) to the file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fail(err)
		}
		defer pprof.StopCPUProfile()
	}

	dbURL := os.Getenv("TEST_DATABASE_URL")
	if dbURL == "" {
		dbURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	admin, err := sql.Open("postgres", dbURL)
	if err == nil {
		err = admin.Ping()
	}
	if err != nil {
		fmt.Printf("bench: needs Postgres at TEST_DATABASE_URL (%v); nothing measured\n", err)
		return
	}
	bin, err := procstack.Build(os.Getenv("BENCH_TAGS"))
	if err != nil {
		fail(err)
	}
	scenarios := []scenario{
		{name: "instant", recipients: *recipients, concurrency: *instantConcurrency},
		{name: "slow", recipients: *slowRecipients, latency: 200 * time.Millisecond, concurrency: 256, bound: 256 / 0.2},
		// The same latency-bound fan-out on three instances sharing the
		// schema: does it scale out (README, "Benchmarks")?
		{name: "slow3", recipients: *slowRecipients, latency: 200 * time.Millisecond, concurrency: 256, instances: 3, bound: 3 * 256 / 0.2},
		// One instance with many requests in flight: does it reach the
		// sender's bound of 2000 / 0.2 s?
		{name: "c2000", recipients: *bigRecipients, latency: 200 * time.Millisecond, concurrency: 2000, bound: 2000 / 0.2},
	}
	selected := func(name string) bool { return *only == "" || slices.Contains(strings.Split(*only, ","), name) }
	medians := map[string]float64{}
	fmt.Printf("bench: %d run(s) per scenario; binary %s; Postgres %s\n", *runs, bin, redact(dbURL))
	for _, sc := range scenarios {
		if !selected(sc.name) {
			continue
		}
		var results []result
		for i := range *runs {
			r, err := runOnce(admin, dbURL, bin, sc)
			if err != nil {
				fail(fmt.Errorf("%s run %d: %w", sc.name, i+1, err))
			}
			fmt.Printf("  %s run %d: %d messages in %s = %.0f msg/s, peak RSS %.0f MB, generalStatistics during fan-out p50 %s p99 %s (%d queries), at rest p50 %s p99 %s; start job at %s, first send at %s; CPU per message: service %.1f µs, Postgres %.1f µs\n",
				sc.name, i+1, sc.recipients, r.elapsed.Round(time.Millisecond), r.rate, r.rssMB,
				r.statsP50.Round(time.Microsecond*100), r.statsP99.Round(time.Microsecond*100), r.statsCount,
				r.restP50.Round(time.Microsecond*100), r.restP99.Round(time.Microsecond*100),
				r.toSelected.Round(time.Millisecond), r.toFirstSent.Round(time.Millisecond), r.serviceCPU, r.postgresCPU)
			results = append(results, r)
		}
		med := func(f func(result) float64) float64 { return medianBy(results, f) }
		rate := med(func(r result) float64 { return r.rate })
		medians[sc.name] = rate
		fmt.Printf("%s (recipients=%d, sender latency=%s, SENDER_CONCURRENCY=%d, instances=%d), median of %d: %.0f msg/s, CPU per message: service %.1f µs, Postgres %.1f µs; peak RSS %.0f MB, generalStatistics during fan-out p50 %.1f ms p99 %.1f ms, at rest p50 %.1f ms p99 %.1f ms\n",
			sc.name, sc.recipients, sc.latency, sc.concurrency, sc.count(), len(results), rate,
			med(func(r result) float64 { return r.serviceCPU }),
			med(func(r result) float64 { return r.postgresCPU }),
			med(func(r result) float64 { return r.rssMB }),
			med(func(r result) float64 { return ms(r.statsP50) }),
			med(func(r result) float64 { return ms(r.statsP99) }),
			med(func(r result) float64 { return ms(r.restP50) }),
			med(func(r result) float64 { return ms(r.restP99) }))
		if sc.bound > 0 {
			fmt.Printf("  %s: %.0f msg/s is %.0f%% of the sender's bound %d × %d / %s = %.0f msg/s\n",
				sc.name, rate, 100*rate/sc.bound, sc.count(), sc.concurrency, sc.latency, sc.bound)
		}
	}
	if one, three := medians["slow"], medians["slow3"]; one > 0 && three > 0 {
		fmt.Printf("scale-out (200 ms sender): 3 instances %.0f msg/s / 1 instance %.0f msg/s = %.2f× (target ≥ 2.5×)\n", three, one, three/one)
	}
	if selected("preview") {
		benchPreview(admin, dbURL, bin, *previewClients, *previewRequests, *runs) // preview.go
	}
	if selected("subscribers") {
		benchSubscribers(admin, dbURL, bin, *subRecipients, *runs, subscriberLoad{progress: *subProgress, status: *subStatus})
	}
	if selected("import") || selected("export") {
		benchImportExport(admin, dbURL, bin, *importLines, *runs, selected("import"), selected("export"))
	}
	fmt.Printf("reproduce: go run ./internal/bench -recipients %d -slow-recipients %d -c2000-recipients %d -sub-recipients %d -sub-progress %d -sub-status %d -import-lines %d -runs %d -concurrency %d -only %q\n", *recipients, *slowRecipients, *bigRecipients, *subRecipients, *subProgress, *subStatus, *importLines, *runs, *instantConcurrency, *only)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// medianBy is the median of f over the runs' results (medianOf in preview.go).
func medianBy[R any](results []R, f func(R) float64) float64 {
	v := make([]float64, len(results))
	for i, r := range results {
		v[i] = f(r)
	}
	return medianOf(v)
}

// stackEnv is a running service with its fake sender, on a fresh schema.
type stackEnv struct {
	url string
	db  *sql.DB
	svc *exec.Cmd
	// all are the scenario's instances, svc first.
	all []*exec.Cmd
}

// startStack creates a schema, starts the fake sender and the service on it
// and inserts the scenario's clients; cleanup stops and drops everything.
func startStack(admin *sql.DB, dbURL, bin string, sc scenario) (env stackEnv, cleanup func(), err error) {
	var undo []func()
	cleanup = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	serviceDB, drop, err := procstack.Schema(admin, dbURL, "bench")
	if err != nil {
		return env, cleanup, err
	}
	undo = append(undo, drop)

	ctx := context.Background()
	fakeArgs := []string{"fakesender", "-addr", "127.0.0.1:0", "-token", "bench", "-seed", "1"}
	if sc.latency > 0 {
		fakeArgs = append(fakeArgs, "-latency-min", sc.latency.String(), "-latency-max", sc.latency.String())
	}
	fake, err := procstack.Start(ctx, bin, fakeArgs, nil, "fake sender listening on ", nil)
	if err != nil {
		return env, cleanup, fmt.Errorf("starting the fake sender: %w", err)
	}
	undo = append(undo, fake.Stop)
	svcEnv := []string{
		"DATABASE_URL=" + serviceDB,
		"LISTEN_ADDR=127.0.0.1:0",
		"SENDER_URL=" + fake.URL,
		"SENDER_TOKEN=bench",
		"SENDER_CONCURRENCY=" + strconv.Itoa(sc.concurrency),
		"LOG_LEVEL=info",
	}
	// The first instance migrates; the others start on the migrated schema.
	svc, err := procstack.Start(ctx, bin, []string{"serve"}, append(svcEnv,
		"PPROF_ADDR=127.0.0.1:6061"), // only in builds tagged pprof (BENCH_TAGS=pprof)
		"notify listening on ", nil)
	if err != nil {
		return env, cleanup, fmt.Errorf("starting the service: %w", err)
	}
	undo = append(undo, svc.Stop)
	all := []*exec.Cmd{svc.Cmd}
	for i := 1; i < sc.count(); i++ {
		other, err := procstack.Start(ctx, bin, []string{"serve"}, svcEnv, "notify listening on ", nil)
		if err != nil {
			return env, cleanup, fmt.Errorf("starting instance %d: %w", i+1, err)
		}
		undo = append(undo, other.Stop)
		all = append(all, other.Cmd)
	}

	// The directory is set up directly: only the fan-out is measured.
	db, err := sql.Open("postgres", serviceDB)
	if err != nil {
		return env, cleanup, err
	}
	undo = append(undo, func() { db.Close() })
	_, err = db.Exec(`INSERT INTO clients (phone, operator_code, tag, timezone, created_at, updated_at)
		SELECT '79' || lpad(g::text, 9, '0'), '9' || lpad((g % 100)::text, 2, '0'), 'bench', 'UTC', now(), now()
		FROM generate_series(1, $1) g`, sc.recipients)
	if err != nil {
		return env, cleanup, fmt.Errorf("inserting clients: %w", err)
	}
	// Each run starts with no dirty pages from the runs before (nor from
	// its own set-up), so that no run pays for a checkpoint flushing them.
	if _, err := admin.Exec("CHECKPOINT"); err != nil && !warnedCheckpoint {
		warnedCheckpoint = true
		fmt.Fprintln(os.Stderr, "bench: no CHECKPOINT before runs (runs vary more):", err)
	}
	return stackEnv{url: svc.URL, db: db, svc: svc.Cmd, all: all}, cleanup, nil
}

var warnedCheckpoint bool

func runOnce(admin *sql.DB, dbURL, bin string, sc scenario) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	env, cleanup, err := startStack(admin, dbURL, bin, sc)
	if err != nil {
		return result{}, err
	}
	defer cleanup()
	svcURL, db, svc := env.url, env.db, env.svc

	cpu0, pg0 := servicesCPU(env.all), pgCPUSeconds()
	began := time.Now()
	var created struct {
		CreateMailing struct{ ID string }
	}
	err = gql(svcURL, fmt.Sprintf(`mutation { createMailing(input: {startAt: %q, endAt: %q, text: "Benchmark"}) { id } }`,
		began.Add(-time.Minute).UTC().Format(time.RFC3339), began.Add(time.Hour).UTC().Format(time.RFC3339)), &created)
	if err != nil {
		return result{}, err
	}
	// generalStatistics is timed alone, every 20 ms, while the fan-out runs;
	// whether the mailing finished is asked separately.
	var during []time.Duration
	for {
		t0 := time.Now()
		if err := gql(svcURL, `{ generalStatistics { mailings messages byStatus { status count } } }`, nil); err != nil {
			return result{}, err
		}
		during = append(during, time.Since(t0))
		if len(during)%10 == 0 {
			var st struct{ MailingStatistics struct{ Status string } }
			if err := gql(svcURL, fmt.Sprintf(`{ mailingStatistics(id: %s) { status } }`, created.CreateMailing.ID), &st); err != nil {
				return result{}, err
			}
			if st.MailingStatistics.Status == "FINISHED" {
				break
			}
		}
		if ctx.Err() != nil {
			return result{}, ctx.Err()
		}
		time.Sleep(20 * time.Millisecond)
	}
	var first, firstSent, last time.Time
	var sent int
	if err := db.QueryRow(`SELECT min(created_at), min(sent_at), max(updated_at), count(*) FILTER (WHERE status = 'sent') FROM messages`).Scan(&first, &firstSent, &last, &sent); err != nil {
		return result{}, err
	}
	if sent != sc.recipients {
		return result{}, fmt.Errorf("%d of %d messages sent", sent, sc.recipients)
	}
	cpu1, pg1 := servicesCPU(env.all), pgCPUSeconds()
	elapsed := last.Sub(began)
	rss := peakRSS(svc.Process.Pid)
	var rest []time.Duration
	for range 50 {
		t0 := time.Now()
		if err := gql(svcURL, `{ generalStatistics { mailings messages byStatus { status count } } }`, nil); err != nil {
			return result{}, err
		}
		rest = append(rest, time.Since(t0))
	}
	p50, p99 := percentiles(during)
	r50, r99 := percentiles(rest)
	return result{
		rate: float64(sc.recipients) / elapsed.Seconds(), elapsed: elapsed, rssMB: rss,
		statsP50: p50, statsP99: p99, statsCount: len(during), restP50: r50, restP99: r99,
		toSelected: first.Sub(began), toFirstSent: firstSent.Sub(began),
		serviceCPU: 1e6 * (cpu1 - cpu0) / float64(sc.recipients), postgresCPU: 1e6 * (pg1 - pg0) / float64(sc.recipients),
	}, nil
}

func percentiles(d []time.Duration) (time.Duration, time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2], s[min(len(s)-1, len(s)*99/100)]
}

func peakRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func gql(base, query string, dst any) error {
	body, _ := json.Marshal(map[string]any{"query": query})
	resp, err := http.Post(base+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors []any           `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return err
	}
	if len(out.Errors) > 0 {
		return fmt.Errorf("graphql errors: %v", out.Errors)
	}
	if dst != nil {
		return json.Unmarshal(out.Data, dst)
	}
	return nil
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil {
		return u.Redacted()
	}
	return "(unparsable)"
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// benchSubscribers compares the fan-out with and without the subscriber load
// (by default 490 mailingProgress and 10 messageStatusChanged subscribers),
// and measures write-to-client latency.
func benchSubscribers(admin *sql.DB, dbURL, bin string, recipients, runs int, load subscriberLoad) {
	var bare, loaded, ratios, p50s, p99s, c50s, c99s []float64
	for i := range runs {
		// The two runs of a pair take turns going first, so that a drift
		// of the machine's speed favours neither.
		var r0, r1 float64
		var sres0, sres subscriberResult
		bareRun := func() (err error) {
			if r0, sres0, err = runSubscribed(admin, dbURL, bin, recipients, 64, subscriberLoad{}); err != nil {
				err = fmt.Errorf("subscribers baseline run %d: %w", i+1, err)
			}
			return err
		}
		loadedRun := func() (err error) {
			if r1, sres, err = runSubscribed(admin, dbURL, bin, recipients, 64, load); err != nil {
				err = fmt.Errorf("subscribers run %d: %w", i+1, err)
			}
			return err
		}
		first, second := bareRun, loadedRun
		if i%2 == 1 {
			first, second = loadedRun, bareRun
		}
		err := first()
		if err == nil {
			err = second()
		}
		if err != nil {
			fail(err)
		}
		// Status events delivered per second over the fan-out they came from.
		eventRate := float64(sres.events) / (float64(recipients) / r1)
		fmt.Printf("  subscribers run %d: %.0f msg/s without, %.0f msg/s with %d+%d subscribers (all live %.1f s after creation, sending at 4 s); %d status events (%.0f/s), commit-to-client p50 %s p99 %s, write-to-client p50 %s p99 %s, %d errors, %d dropped; service CPU %.1f s without, %.1f s with; subscriber CPU %.1f s\n",
			i+1, r0, r1, load.progress, load.status, sres.subscribed.Seconds(), sres.events, eventRate, sres.commitP50.Round(time.Millisecond), sres.commitP99.Round(time.Millisecond), sres.p50.Round(time.Millisecond), sres.p99.Round(time.Millisecond), sres.errs, sres.dropped,
			sres0.serviceCPU, sres.serviceCPU, sres.clientCPU)
		bare, loaded, ratios = append(bare, r0), append(loaded, r1), append(ratios, 100*r1/r0)
		p50s, p99s = append(p50s, ms(sres.p50)), append(p99s, ms(sres.p99))
		c50s, c99s = append(c50s, ms(sres.commitP50)), append(c99s, ms(sres.commitP99))
	}
	m := medianOf // preview.go
	fmt.Printf("subscribers (recipients=%d, %d mailingProgress + %d messageStatusChanged), median of %d: %.0f msg/s without, %.0f msg/s with (%.0f%%; median of the pairs' ratios %.0f%%), commit-to-client p50 %.0f ms p99 %.0f ms (worst run %.0f ms), write-to-client p50 %.0f ms p99 %.0f ms\n",
		recipients, load.progress, load.status, runs, m(bare), m(loaded), 100*m(loaded)/m(bare), m(ratios), m(c50s), m(c99s), slices.Max(c99s), m(p50s), m(p99s))
	// The machine's speed drifts between runs: how far the pairs' median
	// ratio may be from the true one is worth as much as the median.
	if lo, hi, conf, ok := medianInterval(ratios); ok {
		fmt.Printf("  the pairs' median ratio lies in %.0f–%.0f%% with %.0f%% confidence (order statistics)\n", lo, hi, 100*conf)
	} else {
		fmt.Printf("  no 95%% interval for the pairs' median ratio from %d pairs: run 6 or more (-runs)\n", runs)
	}
}
