package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

// The audience preview over a large directory (README, "Benchmarks"): the
// latency of audiencePreview (GraphQL) and POST /mailings/preview/ (REST)
// over previewClients clients, 1,000 of them opted out, for filters from
// none (every client) to narrow ones. The target is a p99 under 100 ms over
// 1,000,000 clients.

var (
	previewClients  = flag.Int("preview-clients", 1000000, "clients of the audience preview benchmark")
	previewRequests = flag.Int("preview-requests", 100, "requests per filter and API of the audience preview benchmark, per run")
)

// previewFilters are the filters measured, as GraphQL input and as REST
// JSON. Client i has operator code 900 + i%100 and tag "t" + i%20.
var previewFilters = []struct {
	name, gql string
	rest      map[string]any
}{
	{"everyone", `{}`, map[string]any{}},
	{"2 codes", `{operatorCodes: ["901", "902"]}`, map[string]any{"operator_codes": []string{"901", "902"}}},
	{"1 tag", `{tags: ["t3"]}`, map[string]any{"tags": []string{"t3"}}},
	{"10 codes × 2 tags", `{operatorCodes: ["900", "910", "920", "930", "940", "950", "960", "970", "980", "990"], tags: ["t0", "t10"]}`,
		map[string]any{"operator_codes": []string{"900", "910", "920", "930", "940", "950", "960", "970", "980", "990"}, "tags": []string{"t0", "t10"}}},
}

// benchPreview runs the audience preview benchmark: one stack with the
// directory loaded once (generate_series, then VACUUM ANALYZE as autovacuum
// would after such a load, so the planner knows the table and the
// visibility map allows index-only scans), then runs rounds of requests
// per filter and API; it prints each round's percentiles and the median
// p99 per filter.
func benchPreview(admin *sql.DB, dbURL, bin string, clients, requests, runs int) {
	env, cleanup, err := startStack(admin, dbURL, bin, scenario{name: "preview", concurrency: 64})
	if err != nil {
		fail(fmt.Errorf("preview: %w", err))
	}
	defer cleanup()
	t0 := time.Now()
	_, err = env.db.Exec(`INSERT INTO clients (phone, operator_code, tag, timezone, created_at, updated_at)
		SELECT '79' || lpad(g::text, 9, '0'), (900 + g % 100)::text, 't' || (g % 20), 'UTC', now(), now()
		FROM generate_series(1, $1) g`, clients)
	if err == nil {
		_, err = env.db.Exec(`INSERT INTO opt_outs (phone, reason, created_at, created_by)
			SELECT '79' || lpad((g * 997 % $1 + 1)::text, 9, '0'), 'bench', now(), 'bench'
			FROM generate_series(1, 1000) g ON CONFLICT DO NOTHING`, clients)
	}
	if err == nil {
		_, err = env.db.Exec(`VACUUM ANALYZE clients`)
	}
	if err == nil {
		_, err = env.db.Exec(`VACUUM ANALYZE opt_outs`)
	}
	if err != nil {
		fail(fmt.Errorf("preview: loading %d clients: %w", clients, err))
	}
	fmt.Printf("preview: %d clients and 1000 opt-outs loaded in %s\n", clients, time.Since(t0).Round(time.Millisecond))
	for f := range previewFilters {
		for _, api := range []string{"graphql", "rest"} {
			// One request first: the caches warm, as they are in service.
			if _, _, err := previewRound(env.url, api, f, 1); err != nil {
				fail(fmt.Errorf("preview %s %s: %w", previewFilters[f].name, api, err))
			}
			var p50s, p99s []float64
			var count int
			for run := range runs {
				lat, n, err := previewRound(env.url, api, f, requests)
				if err != nil {
					fail(fmt.Errorf("preview %s %s: %w", previewFilters[f].name, api, err))
				}
				count = n
				p50, p99 := percentiles(lat)
				p50s, p99s = append(p50s, ms(p50)), append(p99s, ms(p99))
				fmt.Printf("  preview %s (%s) run %d: %d requests, count %d, p50 %.1f ms p99 %.1f ms\n",
					previewFilters[f].name, api, run+1, requests, n, ms(p50), ms(p99))
			}
			fmt.Printf("preview (clients=%d) %s via %s: count %d, median of %d runs: p50 %.1f ms, p99 %.1f ms (target p99 < 100 ms)\n",
				clients, previewFilters[f].name, api, count, runs, medianOf(p50s), medianOf(p99s))
		}
	}
}

// previewRound sends n requests of one filter through one API and returns
// their latencies and the count the last one answered.
func previewRound(base, api string, f int, n int) ([]time.Duration, int, error) {
	var (
		lat   []time.Duration
		count int
	)
	for range n {
		t0 := time.Now()
		var err error
		switch api {
		case "graphql":
			var out struct{ AudiencePreview struct{ Count int } }
			err = gql(base, `{ audiencePreview(filter: `+previewFilters[f].gql+`) { count byOperatorCode { value count } byTag { value count } sample { id phone operatorCode tag } } }`, &out)
			count = out.AudiencePreview.Count
		case "rest":
			count, err = restPreview(base, previewFilters[f].rest)
		}
		if err != nil {
			return nil, 0, err
		}
		lat = append(lat, time.Since(t0))
	}
	return lat, count, nil
}

func restPreview(base string, filter map[string]any) (int, error) {
	body, _ := json.Marshal(map[string]any{"filter": filter})
	resp, err := http.Post(base+"/mailings/preview/", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("POST /mailings/preview/ answered %d: %s", resp.StatusCode, raw)
	}
	var out struct {
		Count int `json:"count"`
	}
	return out.Count, json.Unmarshal(raw, &out)
}

func medianOf(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
