package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/testdb"
)

// TestRun drives the program as main does: run on port :0 with the embedded
// SQLite, read the address it prints, use it, then stop it with its context.
func TestRun(t *testing.T) {
	t.Parallel()
	in := startRun(t, map[string]string{"DATABASE_URL": testdb.SQLite(t), "LISTEN_ADDR": "127.0.0.1:0"})

	resp, err := http.Get(in.url + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = http.Post(in.url+"/query", "application/json", strings.NewReader(`{"query":"{ generalStatistics { mailings } }"}`))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.JSONEq(t, `{"data":{"generalStatistics":{"mailings":0}}}`, string(body))

	in.stop(t) // a cancelled run shuts down cleanly
}

// TestRunRefusesBadConfig checks that bad configuration stops the start
// with one line naming the variable.
func TestRunRefusesBadConfig(t *testing.T) {
	t.Parallel()
	for name, env := range map[string]map[string]string{
		"SENDER_CONCURRENCY": {"SENDER_CONCURRENCY": "lots"},
		"SENDER_TIMEOUT":     {"SENDER_TIMEOUT": "-1s"},
		"DATABASE_URL":       {"DATABASE_URL": "mysql://x"},
		"LOG_LEVEL":          {"LOG_LEVEL": "loud"},
		"REPORT_CRON":        {"REPORT_CRON": "every day"},
		"SMTP_URL":           {"SMTP_URL": "smtp://mail.example:25"},
		"SENDER_URL":         {"SENDER_URL": "ftp://x"},
	} {
		err := run(context.Background(), nil, func(k string) string { return env[k] }, io.Discard, io.Discard)
		require.Error(t, err, name)
		require.True(t, strings.HasPrefix(err.Error(), name) || strings.Contains(err.Error(), name), "%s: %v", name, err)
		require.NotContains(t, err.Error(), "\n", "one line")
	}
}

// TestMigrateTogether starts two migrations of one fresh Postgres schema at
// once: the advisory lock serializes them and both succeed.
func TestMigrateTogether(t *testing.T) {
	t.Parallel()
	url := testdb.Postgres(t)
	env := map[string]string{"DATABASE_URL": url}
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			errs <- run(context.Background(), []string{"migrate"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
		}()
	}
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
}
