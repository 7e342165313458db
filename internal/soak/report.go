package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/notifyhq/notify/internal/procstack"
)

// sampleEvery is how often the service's figures are read.
const sampleEvery = 10 * time.Second

// point is the service's figures at one moment.
type point struct {
	at         time.Duration // since the start
	rssMB      float64
	goroutines float64
	openFiles  float64
	dbConns    float64
}

// sample reads the figures every sampleEvery until ctx ends.
func sample(ctx context.Context, pid int, api *client, admin *sql.DB) []point {
	start := time.Now()
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	var out []point
	for {
		select {
		case <-ctx.Done():
			return out
		case <-tick.C:
		}
		p := point{at: time.Since(start), rssMB: procstack.RSS(pid), openFiles: float64(procstack.OpenFiles(pid))}
		var err error
		if p.goroutines, err = metric(ctx, api, "go_goroutines"); err != nil {
			if ctx.Err() == nil {
				fmt.Println("soak: reading /metrics:", err)
			}
			continue
		}
		var conns int
		if err := admin.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'notify-soak'`).Scan(&conns); err != nil {
			continue // the run is ending
		}
		p.dbConns = float64(conns)
		out = append(out, p)
		fmt.Printf("  %6s  RSS %6.1f MB  goroutines %5.0f  open files %4.0f  db connections %3.0f\n",
			p.at.Round(time.Second), p.rssMB, p.goroutines, p.openFiles, p.dbConns)
	}
}

// metric reads one unlabelled gauge from the service's /metrics.
func metric(ctx context.Context, api *client, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api.url+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := api.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /metrics", name)
}

// growth says whether a series grows steadily: after the first fifth (the
// warm-up: pools, caches and buffers filling), its least-squares slope over
// the rest of the run would add more than allowed, and the line explains
// most of the variation (R² ≥ 0.5), so that noise around a level is not
// called growth.
type growth struct {
	name    string
	unit    string
	allowed float64 // over the measured part of the run
}

// The growth each figure may show over a run, whatever its length: more is
// a leak (RSS: the GC's target moves by a few MB under load).
var limits = []growth{
	{"RSS", "MB", 16},
	{"goroutines", "", 50},
	{"open files", "", 20},
	{"db connections", "", 5},
}

func value(p point, name string) float64 {
	switch name {
	case "RSS":
		return p.rssMB
	case "goroutines":
		return p.goroutines
	case "open files":
		return p.openFiles
	}
	return p.dbConns
}

// report prints the slopes and the latencies per minute and returns an
// error naming what failed.
func report(points []point, lat *latencies, m *mailings, logPath string) error {
	var failures []string
	if errorLines := countLines(logPath, `"level":"ERROR"`); errorLines > 0 {
		failures = append(failures, fmt.Sprintf("the service logged %d errors (%s)", errorLines, logPath))
	}
	skip := len(points) / 5
	measured := points[skip:]
	if len(measured) < 3 {
		return errors.New("too few samples to judge: run longer (SOAK_DURATION of a minute at least)")
	}
	span := measured[len(measured)-1].at - measured[0].at
	fmt.Printf("soak: slopes after the first %d samples (warm-up), over %s:\n", skip, span.Round(time.Second))
	for _, g := range limits {
		xs, ys := make([]float64, len(measured)), make([]float64, len(measured))
		for i, p := range measured {
			xs[i], ys[i] = p.at.Minutes(), value(p, g.name)
		}
		slope, r2 := fit(xs, ys)
		added := slope * span.Minutes()
		verdict := "steady"
		if added > g.allowed && r2 >= 0.5 {
			verdict = "GROWS"
			failures = append(failures, fmt.Sprintf("%s grows %.2f%s/min (R² %.2f)", g.name, slope, g.unit, r2))
		}
		fmt.Printf("  %-15s %+8.2f %s/min  (R² %.2f, %+.1f over the run, allowed %.0f)  %s\n", g.name, slope, g.unit, r2, added, g.allowed, verdict)
	}
	p50, p99 := lat.perMinute()
	fmt.Println("soak: API latency per minute:")
	for i := range p50 {
		verdict := ""
		if p99[i] > 100*time.Millisecond {
			verdict = "  p99 over 100 ms"
			failures = append(failures, fmt.Sprintf("minute %d: p99 %s", i+1, p99[i].Round(time.Millisecond)))
		}
		fmt.Printf("  minute %2d: p50 %6.1f ms  p99 %6.1f ms%s\n", i+1, ms(p50[i]), ms(p99[i]), verdict)
	}
	if lat.failures() > 0 {
		failures = append(failures, fmt.Sprintf("%d API requests failed (%s)", lat.failures(), lat.failureCodes()))
	}
	if m.finished.Load() == 0 {
		failures = append(failures, "no mailing finished")
	}
	if len(failures) > 0 {
		return fmt.Errorf("not steady: %s", strings.Join(failures, "; "))
	}
	fmt.Println("soak: steady")
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fit returns the least-squares slope of ys over xs and the line's R².
func fit(xs, ys []float64) (slope, r2 float64) {
	n := float64(len(xs))
	var sx, sy, sxx, sxy, syy float64
	for i := range xs {
		sx, sy = sx+xs[i], sy+ys[i]
		sxx, sxy, syy = sxx+xs[i]*xs[i], sxy+xs[i]*ys[i], syy+ys[i]*ys[i]
	}
	vx, vy, cov := sxx-sx*sx/n, syy-sy*sy/n, sxy-sx*sy/n
	if vx == 0 {
		return 0, 0
	}
	slope = cov / vx
	if vy == 0 {
		return slope, 0
	}
	return slope, math.Min(1, cov*cov/(vx*vy))
}

// countLines counts the lines of the file at path that contain s.
func countLines(path, s string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return strings.Count(string(b), s)
}
