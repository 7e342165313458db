package rest

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/testdb"
)

// TestImportSpoolFailure: an import whose file cannot be spooled (the
// temporary directory is gone; a write fails half-way, the process's file
// size limit standing in for a full disk) is the service's failure, a 500,
// with or without an Idempotency-Key; the key is not taken by it, and the
// same request succeeds once the spool can be written. Not parallel: it
// sets TMPDIR and RLIMIT_FSIZE.
func TestImportSpoolFailure(t *testing.T) {
	d := testdb.Migrated(t, testdb.SQLite(t))
	srv := httptest.NewServer(New(Config{Service: campaign.New(campaign.Config{DB: d, Logger: slog.New(slog.DiscardHandler)}), Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	file := "phone\n" + strings.Repeat("79000000001\n", 8_000) // 96 kB; refused for its repeated phone
	post := func(key string) int {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/clients/import/", strings.NewReader(file))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "text/csv")
		if key != "" {
			req.Header.Set(idempotencyHeader, key)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}

	tmp := t.TempDir()
	t.Setenv("TMPDIR", filepath.Join(tmp, "gone"))
	require.Equal(t, http.StatusInternalServerError, post(""))
	require.Equal(t, http.StatusInternalServerError, post("spool-1"))
	t.Setenv("TMPDIR", tmp)

	var limit syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_FSIZE, &limit))
	small := limit
	small.Cur = 64 << 10
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &small))
	noKey, keyed := post(""), post("spool-1")
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit))
	require.Equal(t, http.StatusInternalServerError, noKey)
	require.Equal(t, http.StatusInternalServerError, keyed)

	require.Equal(t, http.StatusBadRequest, post("spool-1"), "the file is read, and refused for its lines")
	files, err := filepath.Glob(filepath.Join(tmp, "notify-import-*"))
	require.NoError(t, err)
	require.Empty(t, files, "the spooled file is removed after the import")
}
