package browsertest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFileName(t *testing.T) {
	t.Parallel()

	for in, want := range map[string]string{
		"TestDocs/Try_it":        "TestDocs_Try_it",
		"general statistics":     "general_statistics",
		"../../etc/passwd":       "etc_passwd",
		"TestX/Sub#01--final.v2": "TestX_Sub_01--final.v2",
	} {
		require.Equal(t, want, fileName(in), in)
	}
}

func TestArtifactsDir(t *testing.T) {
	t.Run("Default", func(t *testing.T) {
		t.Setenv("TEST_ARTIFACTS_DIR", "")
		dir, err := artifactsDir()
		require.NoError(t, err)
		// go test runs in the package directory, two levels under the module root.
		wd, err := os.Getwd()
		require.NoError(t, err)
		require.Equal(t, filepath.Join(wd, "..", "..", "testdata", "artifacts"), dir)
	})

	t.Run("Env", func(t *testing.T) {
		want := t.TempDir()
		t.Setenv("TEST_ARTIFACTS_DIR", want)
		dir, err := artifactsDir()
		require.NoError(t, err)
		require.Equal(t, want, dir)
	})
}

func TestJSString(t *testing.T) {
	t.Parallel()

	require.Equal(t, `"a\"b\\c\n"`, jsString("a\"b\\c\n"))
}

// TestCSPViolations serves a page whose policy blocks its inline script and its inline
// style: the Browser reports both, and records the page's response headers.
func TestCSPViolations(t *testing.T) {
	t.Parallel()

	const csp = "default-src 'self'; script-src 'self'; style-src 'self'"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Security-Policy", csp)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, `<!DOCTYPE html><title>t</title>
<style>body { color: red }</style>
<script>window.inlineRan = true;</script>
<script src="/ok.js"></script>`)
		case "/ok.js":
			w.Header().Set("Content-Type", "text/javascript")
			_, _ = io.WriteString(w, `window.fileRan = true;`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)

	b := New(t)
	ctx := t.Context()
	require.NoError(t, b.Navigate(ctx, srv.URL+"/"))
	ran, err := Evaluate[[]bool](ctx, b, `[!!window.inlineRan, !!window.fileRan]`)
	require.NoError(t, err)
	require.Equal(t, []bool{false, true}, ran)

	require.Eventually(t, func() bool { return len(b.CSPViolations()) == 2 }, Timeout, 10*time.Millisecond,
		"violations: %v", b.CSPViolations())
	got := strings.Join(b.CSPViolations(), "\n")
	require.Contains(t, got, "style-src-elem blocked inline")
	require.Contains(t, got, "script-src-elem blocked inline")
	require.Contains(t, strings.Join(b.Problems(), "\n"), "csp violation: script-src-elem blocked inline")

	docs := b.Documents()
	require.Len(t, docs, 1)
	require.Equal(t, srv.URL+"/", docs[0].URL)
	require.Equal(t, http.StatusOK, docs[0].Status)
	require.Equal(t, csp, docs[0].Header.Get("Content-Security-Policy"))
}
