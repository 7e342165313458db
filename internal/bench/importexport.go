package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/notifyhq/notify/internal/procstack"
)

// The CSV import and export benchmarks (-only import,export): the real
// binary on a fresh schema, a file of -import-lines clients POSTed to
// /clients/import/ (above 10,000 lines: the job path), timed from the
// request's start to the import's finished_at; then GET /clients/export.csv
// of the same clients, read to its end, by a second service process so that
// its peak RSS (VmHWM) is the export's alone.

// importExportResult is one run.
type importExportResult struct {
	importRate, exportRate float64 // rows per second
	importTime, exportTime time.Duration
	// the import's phases: the upload answered (202), the job started,
	// and its run from start to finish
	uploaded, toStart, run time.Duration
	importRSS, exportRSS   float64 // MB, VmHWM
	// CPU seconds of the import, from the request to its end: the
	// service's, and Postgres's (every postgres process, see pgCPUSeconds)
	serviceCPU, postgresCPU float64
	idleRSS                 float64 // MB, VmHWM of the export's process before the export
}

// benchImportExport runs the import then the export runs times and prints
// each run and the medians against the targets.
func benchImportExport(admin *sql.DB, dbURL, bin string, lines, runs int, doImport, doExport bool) {
	file, err := writeImportFile(lines)
	if err != nil {
		fail(err)
	}
	defer os.Remove(file)
	var results []importExportResult
	for i := range runs {
		r, err := importExportOnce(admin, dbURL, bin, file, lines, doExport)
		if err != nil {
			fail(fmt.Errorf("import/export run %d: %w", i+1, err))
		}
		if doImport {
			fmt.Printf("  import run %d: %d clients in %s = %.0f rows/s (202 after %s, job started at %s, ran %s), service peak RSS %.0f MB; CPU: service %.2f s, Postgres %.2f s\n", i+1, lines, r.importTime.Round(time.Millisecond), r.importRate,
				r.uploaded.Round(time.Millisecond), r.toStart.Round(time.Millisecond), r.run.Round(time.Millisecond), r.importRSS, r.serviceCPU, r.postgresCPU)
		}
		if doExport {
			fmt.Printf("  export run %d: %d clients in %s = %.0f rows/s, exporting process peak RSS %.0f MB (%.0f MB before the export)\n", i+1, lines, r.exportTime.Round(time.Millisecond), r.exportRate, r.exportRSS, r.idleRSS)
		}
		results = append(results, r)
	}
	med := func(f func(importExportResult) float64) float64 { return medianBy(results, f) }
	if doImport {
		fmt.Printf("import (%d lines, REST, job path), median of %d: %.0f rows/s (target ≥ 150000), peak RSS %.0f MB (target < 150); CPU: service %.2f s, Postgres %.2f s\n",
			lines, len(results), med(func(r importExportResult) float64 { return r.importRate }), med(func(r importExportResult) float64 { return r.importRSS }),
			med(func(r importExportResult) float64 { return r.serviceCPU }), med(func(r importExportResult) float64 { return r.postgresCPU }))
	}
	if doExport {
		fmt.Printf("export (%d clients), median of %d: %.0f rows/s (target ≥ 300000), peak RSS %.0f MB, %.0f MB before it\n",
			lines, len(results), med(func(r importExportResult) float64 { return r.exportRate }), med(func(r importExportResult) float64 { return r.exportRSS }), med(func(r importExportResult) float64 { return r.idleRSS }))
	}
}

// writeImportFile writes an import file of n clients to a temporary file.
func writeImportFile(n int) (string, error) {
	f, err := os.CreateTemp("", "notify-bench-import-*.csv")
	if err != nil {
		return "", err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "phone,tag,timezone,operator_code")
	zones := []string{"UTC", "Europe/Moscow", "Asia/Yekaterinburg", "Asia/Vladivostok"}
	for i := range n {
		fmt.Fprintf(w, "7%010d,tag%d,%s,%03d\n", 9000000000+i, i%50, zones[i%len(zones)], 900+i%100)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", err
	}
	return f.Name(), f.Close()
}

func importExportOnce(admin *sql.DB, dbURL, bin, file string, lines int, doExport bool) (importExportResult, error) {
	var r importExportResult
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	serviceDB, drop, err := procstack.Schema(admin, dbURL, "bench")
	if err != nil {
		return r, err
	}
	defer drop()
	env := []string{"DATABASE_URL=" + serviceDB, "LISTEN_ADDR=127.0.0.1:0", "LOG_LEVEL=warn"}
	svc, err := procstack.Start(ctx, bin, []string{"serve"}, env, "notify listening on ", nil)
	if err != nil {
		return r, fmt.Errorf("starting the service: %w", err)
	}
	defer svc.Stop()
	db, err := sql.Open("postgres", serviceDB)
	if err != nil {
		return r, err
	}
	defer db.Close()
	if _, err := admin.Exec("CHECKPOINT"); err != nil && !warnedCheckpoint {
		warnedCheckpoint = true
		fmt.Fprintln(os.Stderr, "bench: no CHECKPOINT before runs (runs vary more):", err)
	}

	body, err := os.Open(file)
	if err != nil {
		return r, err
	}
	defer body.Close()
	cpu0, pg0 := cpuSeconds(svc.Cmd.Process.Pid), pgCPUSeconds()
	began := time.Now()
	resp, err := http.Post(svc.URL+"/clients/import/", "text/csv", body)
	if err != nil {
		return r, err
	}
	r.uploaded = time.Since(began)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return r, fmt.Errorf("POST /clients/import/ answered %d %s", resp.StatusCode, raw)
	}
	var queued struct {
		ImportID int `json:"import_id"`
	}
	if err := json.Unmarshal(raw, &queued); err != nil {
		return r, err
	}
	var imp struct {
		State    string
		Imported int
		Errors   []any
	}
	for imp.State != "finished" {
		if imp.State == "failed" || ctx.Err() != nil {
			return r, fmt.Errorf("import %d: %s %v %v", queued.ImportID, imp.State, imp.Errors, ctx.Err())
		}
		time.Sleep(20 * time.Millisecond)
		resp, err := http.Get(svc.URL + "/clients/import/" + strconv.Itoa(queued.ImportID) + "/")
		if err != nil {
			return r, err
		}
		err = json.NewDecoder(resp.Body).Decode(&imp)
		resp.Body.Close()
		if err != nil {
			return r, err
		}
	}
	r.serviceCPU, r.postgresCPU = cpuSeconds(svc.Cmd.Process.Pid)-cpu0, pgCPUSeconds()-pg0
	var started, finished time.Time
	if err := db.QueryRow("SELECT started_at, finished_at FROM client_imports WHERE id = $1", queued.ImportID).Scan(&started, &finished); err != nil {
		return r, err
	}
	r.toStart, r.run = started.Sub(began), finished.Sub(started)
	if imp.Imported != lines {
		return r, fmt.Errorf("%d of %d clients imported", imp.Imported, lines)
	}
	r.importTime = finished.Sub(began)
	r.importRate = float64(lines) / r.importTime.Seconds()
	r.importRSS = peakRSS(svc.Cmd.Process.Pid)
	if !doExport {
		return r, nil
	}

	// The export from a process of its own.
	exporter, err := procstack.Start(ctx, bin, []string{"serve"}, env, "notify listening on ", nil)
	if err != nil {
		return r, fmt.Errorf("starting the exporting service: %w", err)
	}
	defer exporter.Stop()
	r.idleRSS = peakRSS(exporter.Cmd.Process.Pid)
	began = time.Now()
	resp, err = http.Get(exporter.URL + "/clients/export.csv")
	if err != nil {
		return r, err
	}
	rows := -1 // the header
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		rows++
	}
	resp.Body.Close()
	r.exportTime = time.Since(began)
	if err := sc.Err(); err != nil {
		return r, err
	}
	if resp.StatusCode != http.StatusOK || rows != lines {
		return r, fmt.Errorf("GET /clients/export.csv answered %d with %d rows, want %d", resp.StatusCode, rows, lines)
	}
	r.exportRate = float64(lines) / r.exportTime.Seconds()
	r.exportRSS = peakRSS(exporter.Cmd.Process.Pid)
	return r, nil
}
