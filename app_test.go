package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/config"
	"github.com/notifyhq/notify/internal/fakesender"
	"github.com/notifyhq/notify/internal/lockedbuf"
)

// testToken is the sending API token of the test fakes.
const testToken = "test-sender-token"

// testBundle is a running service over a real database, with a real fake of
// the sending API behind real HTTP.
type testBundle struct {
	app    *app
	fake   *fakesender.Fake
	server *httptest.Server
	logs   *lockedbuf.Buffer
}

// setupOpts tune setup.
type setupOpts struct {
	faults  fakesender.Faults
	env     map[string]string
	options appOptions
	// noRiver leaves River stopped (for tests that start it themselves).
	noRiver bool
}

// startFake starts a fake sending API (the test token, seed 1) with faults,
// stopped when t ends, and returns it and its URL.
func startFake(t *testing.T, faults fakesender.Faults) (*fakesender.Fake, string) {
	t.Helper()
	fake, url, stop, err := fakesender.Start(fakesender.Config{Token: testToken, Faults: faults, Seed: 1})
	require.NoError(t, err)
	t.Cleanup(stop)
	return fake, url
}

// setup starts the service on databaseURL with a fake sender, River running
// and the HTTP handler on an httptest server; all are stopped when t ends.
func setup(t *testing.T, databaseURL string, o setupOpts) *testBundle {
	t.Helper()
	fake, fakeURL := startFake(t, o.faults)
	env := map[string]string{
		"DATABASE_URL":   databaseURL,
		"SENDER_URL":     fakeURL,
		"SENDER_TOKEN":   testToken,
		"SENDER_TIMEOUT": "2s",
		"LOG_LEVEL":      "debug",
	}
	for k, v := range o.env {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	logs := &lockedbuf.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	ctx := context.Background()
	a, err := newApp(ctx, cfg, logger, io.Discard, o.options)
	require.NoError(t, err)
	t.Cleanup(a.close)
	if !o.noRiver {
		require.NoError(t, a.river.Start(ctx))
		t.Cleanup(func() {
			stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			_ = a.river.Stop(stopCtx)
		})
	}
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service logs:\n%s", logs.String())
			logJobs(t, a)
		}
	})
	return &testBundle{app: a, fake: fake, server: srv, logs: logs}
}

// gqlResponse is a GraphQL response.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// gql posts a GraphQL operation to /query and returns the response.
func (b *testBundle) gql(t *testing.T, query string, vars map[string]any) gqlResponse {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	resp, err := http.Post(b.server.URL+"/query", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out gqlResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

// mustGQL runs an operation that must succeed and decodes its data into dst.
func (b *testBundle) mustGQL(t *testing.T, query string, vars map[string]any, dst any) {
	t.Helper()
	resp := b.gql(t, query, vars)
	require.Empty(t, resp.Errors, "errors from %s", query)
	if dst != nil {
		require.NoError(t, json.Unmarshal(resp.Data, dst))
	}
}

// waitFor polls cond until it holds or the timeout passes. It checks state
// that has no push signal (database rows written by River workers).
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logJobs logs River's jobs, to tell a job that never ran from one that failed.
func logJobs(t *testing.T, a *app) {
	rows, err := a.db.SQL.Query(`SELECT id, kind, state, attempt, scheduled_at, errors FROM river_job ORDER BY id`)
	if err != nil {
		t.Logf("listing River jobs: %v", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, attempt       int
			kind, state       string
			scheduled, errors any
		)
		if err := rows.Scan(&id, &kind, &state, &attempt, &scheduled, &errors); err != nil {
			t.Logf("listing River jobs: %v", err)
			return
		}
		t.Logf("job %d %s %s attempt=%d scheduled_at=%v errors=%s", id, kind, state, attempt, scheduled, errors)
	}
}
