package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/auth"
	"github.com/notifyhq/notify/internal/lockedbuf"
	"github.com/notifyhq/notify/internal/oidctest"
	"github.com/notifyhq/notify/internal/procstack"
	"github.com/notifyhq/notify/internal/report/smtptest"
	"github.com/notifyhq/notify/internal/testdb"
	"github.com/notifyhq/notify/web"
)

// The web UI's end-to-end tests (web/e2e/*.mjs): playwright-core drives Debian's
// Chromium against the real binary, built from this checkout and started as an operator
// starts it, on SQLite and on Postgres. They need node, chromium and web/node_modules
// (npm ci --prefix web); without them they are skipped with the reason, except under
// CI=true, where they fail.

// uiTools returns node's path, or skips (fails under CI=true) when a tool is missing.
func uiTools(t *testing.T) string {
	t.Helper()
	return nodeWith(t, "npm ci --prefix web", []string{"chromium"}, "web/node_modules/playwright-core")
}

// nodeWith returns node's path when node and the commands are on PATH and the files are
// there; otherwise it skips the test with the reason and the command that installs them
// (install), or fails it under CI=true, where they are required.
func nodeWith(t *testing.T, install string, commands []string, files ...string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	for _, c := range commands {
		if err == nil {
			_, err = exec.LookPath(c)
		}
	}
	for _, f := range files {
		if err == nil {
			_, err = os.Stat(f)
		}
	}
	if err != nil {
		need := strings.Join(append(append([]string{"node"}, commands...), files...), ", ")
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s are required with CI=true (%s): %v", need, install, err)
		}
		t.Skipf("skipping: %s needed (%s): %v", need, install, err)
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
	logs *lockedbuf.Buffer // written by the process's stderr copier
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
		logs: &lockedbuf.Buffer{},
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
// service (the script waits for "stopped" on its stdin), "START" starts it again
// ("started").
func runE2E(t *testing.T, node string, s *uiServer, script string, env ...string) string {
	t.Helper()
	return runE2EWith(t, node, s, script, nil, env...)
}

// e2eCommands are more lines a script may print to have the test act: the test runs
// the function and answers "done".
type e2eCommands map[string]func()

// runE2EWith is runE2E with the script's own commands.
func runE2EWith(t *testing.T, node string, s *uiServer, script string, cmds e2eCommands, env ...string) string {
	t.Helper()
	// Screenshots of every screen are taken on every run; `UI_SCREENSHOTS=1 go test
	// -run TestUI` writes them where the README shows them.
	shots := t.TempDir()
	if os.Getenv("UI_SCREENSHOTS") != "" {
		shots, _ = filepath.Abs(filepath.Join("docs", "screenshots"))
	}
	out, stderr, err := runNode(t, node, "web", filepath.Join("e2e", script), 20*time.Minute,
		append([]string{"NOTIFY_URL=" + s.url, "SHOTS=" + shots}, env...),
		func(line string, stdin io.Writer) {
			switch line {
			case "RESTART":
				s.stop()
				_, _ = io.WriteString(stdin, "stopped\n")
			case "START":
				s.start()
				_, _ = io.WriteString(stdin, "started\n")
			default:
				if cmd := cmds[line]; cmd != nil {
					cmd()
					_, _ = io.WriteString(stdin, "done\n")
				}
			}
		})
	require.NoError(t, err, "%s failed:\n%s\nservice log:\n%s", script, stderr, s.logs.String())
	return out
}

// runNode runs node script in dir, with env added to the environment, for timeout at
// the most: each line the script prints is logged and handed to onLine, with the
// script's stdin to answer on. It returns what the script printed, its stderr and how
// it ended.
func runNode(t *testing.T, node, dir, script string, timeout time.Duration, env []string, onLine func(line string, stdin io.Writer)) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
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
		onLine(line, stdin)
	}
	err = cmd.Wait()
	return out.String(), stderr.String(), err
}

// TestUIOperator is the operator's day in the UI, open mode: compose a mailing with a
// filter and watch the audience count follow it, start it and watch its progress bar
// reach 100 % with no reload; open the dashboard and find its sends in the chart at
// once, from the service's history; pause from the page, see a resume made elsewhere arrive
// through the subscription, cancel with a confirmation; survive a restart of the
// service ("reconnecting", then caught up); axe-core on every screen at 1280×800 and
// 390×844.
func TestUIOperator(t *testing.T) {
	t.Parallel()
	runE2EOnEach(t, "operator.mjs")
}

// TestUIKeyboard reaches and triggers the main actions with the keyboard only (Tab,
// Shift+Tab, Enter, Space, Escape, the arrows): the skip link, the navigation, the new
// mailing form filled and submitted, a confirmation dialog kept in focus, closed with
// Escape (the focus back on its button) and confirmed, a client created in its dialog
// and deleted (the focus then on the next row's Delete), a CSV file chosen in the
// import's file picker and imported, the clients' next and previous page, the mailings
// filtered by status, the daily report sent (to a test SMTP server), two phones opted
// out and back in (the focus on the next row's action, then on the table).
func TestUIKeyboard(t *testing.T) {
	t.Parallel()
	node := uiTools(t)
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		mail := smtptest.Start(t)
		env := []string{}
		for k, v := range reportEnv(mail) {
			env = append(env, k+"="+v)
		}
		s := startUIServer(t, databaseURL, env...)
		// At start the report due is sent by itself (TestReportEmail): the one the UI
		// sends comes after it.
		mail.Wait(t, 1, 30*time.Second)
		runE2E(t, node, s, "keyboard.mjs")
		sent := mail.Wait(t, 2, 30*time.Second)
		require.Len(t, sent, 2)
		require.True(t, strings.HasPrefix(sent[1].Subject, "Notify daily report "), sent[1].Subject)
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
	runE2EOnEach(t, "import.mjs")
}

// runE2EOnEach runs script against the service with its default settings, on each test
// database.
func runE2EOnEach(t *testing.T, script string) {
	t.Helper()
	node := uiTools(t)
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		s := startUIServer(t, databaseURL)
		runE2E(t, node, s, script)
	})
}

// TestUIPerformance prints the UI's figures (make ui-perf; UI_PERF=1): the JavaScript
// and CSS gzipped, then, on the real binary (Postgres when it answers, else SQLite),
// the dashboard's first load, pages of the clients screen with 100,000 clients, and
// the mailing page's long tasks while its mailing fans out to them. It measures, it
// asserts nothing about time.
func TestUIPerformance(t *testing.T) {
	if os.Getenv("UI_PERF") == "" {
		t.Skip("skipping: the UI's figures are printed by make ui-perf (UI_PERF=1)")
	}
	var js, css int
	err := fs.WalkDir(web.Dist(), "assets", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(web.Dist(), name)
		if err != nil {
			return err
		}
		var z bytes.Buffer
		w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		_, _ = w.Write(b)
		_ = w.Close()
		switch path.Ext(name) {
		case ".js":
			js += z.Len()
		case ".css":
			css += z.Len()
		}
		return nil
	})
	require.NoError(t, err)
	t.Logf("PERF js_gzipped %.1f KB", float64(js)/1024)
	t.Logf("PERF css_gzipped %.1f KB", float64(css)/1024)

	node := uiTools(t)
	databaseURL := ""
	if os.Getenv("UI_PERF_SQLITE") == "" {
		databaseURL = testdb.Postgres(t)
	} else {
		databaseURL = testdb.SQLite(t)
	}
	// UI_PERF_ENV adds settings of the service (SENDER_CONCURRENCY=512 …).
	s := startUIServer(t, databaseURL, strings.Fields(os.Getenv("UI_PERF_ENV"))...)
	runE2E(t, node, s, "perf.mjs")
}

// TestUIOIDC signs in through an OpenID Connect provider (Authorization Code with
// PKCE): the UI sends the browser to the provider, exchanges the code with its
// verifier, and the service accepts the JWT it got; the operator's role is read from
// the token. The provider's tokens live 6 s and come with refresh tokens, which it
// gives only to a sign-in that asked for the offline_access scope it lists: the UI
// renews its token by itself before it expires, and goes on working after the first
// one is refused, its socket too when it reconnects; when the provider refuses the
// refresh token (REVOKE), the next refusal of the API sends the tab through the
// provider again, back to the same screen.
func TestUIOIDC(t *testing.T) {
	t.Parallel()
	node := uiTools(t)
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		idp := oidctest.New(t)
		idp.AddClient(oidctest.Client{
			ID: "notify-ui", Subject: "u-42", TTL: 6 * time.Second, Refresh: true,
			Claims: map[string]any{"roles": []string{"notify:operator"}, "name": "Olga"},
		})
		// The service accepts a token for auth.DefaultLeeway past its exp: with the
		// provider's clock that far behind, a token is refused 6 s after it is issued.
		idp.SetClockOffset(-auth.DefaultLeeway)
		s := startUIServer(t, databaseURL,
			"OIDC_ISSUER="+idp.Issuer, "OIDC_AUDIENCE=notify-ui", "OIDC_CLIENT_ID=notify-ui")
		runE2EWith(t, node, s, "oidc.mjs", e2eCommands{"REVOKE": idp.RevokeRefreshTokens}, "OIDC_ORIGIN="+idp.Issuer)
		require.Equal(t, 2, idp.Exchanges(), "two sign-ins, each a code exchanged with its verifier: the first and the one after the revocation")
		require.Positive(t, idp.Refreshes(), "tokens renewed with the refresh token (given only for offline_access, which the UI asks for when the provider lists it)")
	})
}

const (
	uiViewerToken   = "ui-viewer-token-0123456789"
	uiOperatorToken = "ui-operator-token-0123456789"
	uiAdminToken    = "ui-admin-token-0123456789"
)

// TestGreeting: make run tells a person where the UI, GraphiQL, Swagger UI and River's
// UI are, after the line scripts wait for; logs are text on a terminal only.
func TestGreeting(t *testing.T) {
	var out bytes.Buffer
	greet(&out, "http://localhost:8080")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Equal(t, "notify listening on http://localhost:8080", lines[0])
	for _, want := range []string{"http://localhost:8080/ui/", "http://localhost:8080/graphiql/", "http://localhost:8080/docs/", "http://localhost:8080/riverui/"} {
		require.Contains(t, out.String(), want)
	}

	require.False(t, isTerminal(&out), "a buffer")
	null, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer null.Close()
	require.False(t, isTerminal(null), "/dev/null is a character device, not a terminal")
	file, err := os.Create(filepath.Join(t.TempDir(), "log"))
	require.NoError(t, err)
	defer file.Close()
	require.False(t, isTerminal(file), "a file")
	if pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0); err == nil {
		defer pty.Close()
		require.True(t, isTerminal(pty), "a pseudo-terminal")
	}
}
