package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/procstack"
	"github.com/notifyhq/notify/internal/testdb"
)

// The web UI's end-to-end tests (web/e2e/*.mjs): playwright-core drives Debian's
// Chromium against the real binary, built from this checkout and started as an operator
// starts it, on SQLite and on Postgres. They need node, chromium and web/node_modules
// (npm ci --prefix web); without them they are skipped with the reason, except under
// CI=true, where they fail.

// uiTools returns node's path, or skips (fails under CI=true) when a tool is missing.
func uiTools(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = exec.LookPath("chromium")
	}
	if err == nil {
		_, err = os.Stat("web/node_modules/playwright-core")
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node, chromium and web/node_modules are required with CI=true (npm ci --prefix web): %v", err)
		}
		t.Skipf("skipping: no node, chromium or web/node_modules (npm ci --prefix web): %v", err)
	}
	return node
}

var uiBinary = sync.OnceValues(func() (string, error) { return procstack.Build("") })

// uiServer is the real binary serving one database on a fixed loopback port, so that
// it can be stopped and started again where the browser expects it.
type uiServer struct {
	t    *testing.T
	bin  string
	env  []string
	url  string
	proc *procstack.Process
	logs *bytes.Buffer
}

// uiSlot lets one browser scenario run at a time: Chromium and the service on a small
// machine, several at once, turn waits of seconds into timeouts.
var uiSlot = make(chan struct{}, 1)

func startUIServer(t *testing.T, databaseURL string, env ...string) *uiServer {
	t.Helper()
	select {
	case uiSlot <- struct{}{}:
	case <-t.Context().Done():
		t.Fatal("no turn for the browser scenario")
	}
	t.Cleanup(func() { <-uiSlot })
	bin, err := uiBinary()
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	s := &uiServer{
		t:    t,
		bin:  bin,
		url:  "http://" + addr,
		logs: &bytes.Buffer{},
		env: append([]string{
			"DATABASE_URL=" + databaseURL,
			"LISTEN_ADDR=" + addr,
			"LOG_LEVEL=warn",
			"SHUTDOWN_TIMEOUT=5s",
		}, env...),
	}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *uiServer) start() {
	s.t.Helper()
	ctx := context.WithoutCancel(s.t.Context())
	var err error
	for range 20 { // the port may linger a moment after a stop
		s.proc, err = procstack.Start(ctx, s.bin, []string{"serve"}, s.env, "notify listening on ", s.logs)
		if err == nil {
			require.Equal(s.t, s.url, s.proc.URL)
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	s.t.Fatalf("starting the service: %v; log:\n%s", err, s.logs.String())
}

func (s *uiServer) stop() {
	if s.proc != nil {
		s.proc.Stop()
		s.proc = nil
	}
}

// runE2E runs web/e2e/<script> against s. A line "RESTART" from the script stops the
// service and starts it again (the script waits for "go" on its stdin); a line
// "STOP" stops it, "START" starts it.
func runE2E(t *testing.T, node string, s *uiServer, script string, env ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("e2e", script))
	cmd.Dir = "web"
	// Screenshots of every screen are taken on every run; `UI_SCREENSHOTS=1 go test
	// -run TestUI` writes them where the README shows them.
	shots := t.TempDir()
	if os.Getenv("UI_SCREENSHOTS") != "" {
		shots, _ = filepath.Abs(filepath.Join("docs", "screenshots"))
	}
	cmd.Env = append(append(os.Environ(), "NOTIFY_URL="+s.url, "SHOTS="+shots), env...)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	var out strings.Builder
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		line := lines.Text()
		out.WriteString(line + "\n")
		t.Log(line)
		switch line {
		case "RESTART":
			s.stop()
			_, _ = io.WriteString(stdin, "stopped\n")
		case "START":
			s.start()
			_, _ = io.WriteString(stdin, "started\n")
		}
	}
	err = cmd.Wait()
	require.NoError(t, err, "%s failed:\n%s\nservice log:\n%s", script, stderr.String(), s.logs.String())
	return out.String()
}

// TestUIOperator is the operator's day in the UI, open mode: compose a mailing with a
// filter and watch the audience count follow it, start it and watch its progress bar
// reach 100 % with no reload; pause from the page, see a resume made elsewhere arrive
// through the subscription, cancel with a confirmation; survive a restart of the
// service ("reconnecting", then caught up); axe-core on every screen at 1280×800 and
// 390×844.
func TestUIOperator(t *testing.T) {
	t.Parallel()
	node := uiTools(t)
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		s := startUIServer(t, databaseURL)
		runE2E(t, node, s, "operator.mjs")
	})
}

// TestUIRoles signs in with API tokens of each role: a viewer is offered no write
// action anywhere, an operator everything but delete, an admin delete too; a wrong
// token is refused on the sign-in screen.
func TestUIRoles(t *testing.T) {
	t.Parallel()
	node := uiTools(t)
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		s := startUIServer(t, databaseURL, "API_TOKENS="+strings.Join([]string{
			"vera:viewer:" + uiViewerToken,
			"otto:operator:" + uiOperatorToken,
			"ada:admin:" + uiAdminToken,
		}, ","))
		runE2E(t, node, s, "roles.mjs",
			"VIEWER_TOKEN="+uiViewerToken, "OPERATOR_TOKEN="+uiOperatorToken, "ADMIN_TOKEN="+uiAdminToken)
	})
}

// TestUIImport imports 1,000 clients from a CSV file with two bad lines: the UI shows
// the two errors by line and column and imports nothing; with "skip invalid lines" it
// imports the 998 others.
func TestUIImport(t *testing.T) {
	t.Parallel()
	node := uiTools(t)
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		s := startUIServer(t, databaseURL)
		runE2E(t, node, s, "import.mjs")
	})
}

const (
	uiViewerToken   = "ui-viewer-token-0123456789"
	uiOperatorToken = "ui-operator-token-0123456789"
	uiAdminToken    = "ui-admin-token-0123456789"
)
