// Package browsertest drives a real headless Chromium from tests, for the pages the
// service serves (GraphiQL at /, Swagger UI at /docs/).
//
// The browser is Debian's chromium (apt-get install -y chromium); New skips the test when
// it is missing, unless CI=true, where a missing browser fails the test. Every action is
// bounded by the context passed to it and by Timeout; nothing sleeps.
//
// A Browser records what a test checks at the end: the URLs the tab requested
// (Requests), the responses to its navigations with their headers (Documents), the
// Content-Security-Policy violations its pages reported (CSPViolations) and everything
// that went wrong (Problems).
//
//	b := browsertest.New(t)
//	res, err := browsertest.SwaggerTryGet(t.Context(), b, srv.URL, "/mailings/general_statistics/")
//	require.NoError(t, err)
//	require.Equal(t, 200, res.Status)
//	b.Screenshot("statistics")
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Timeout bounds each action of a Browser (a navigation, a wait, a click) on top of the
// caller's context, so a test that waits for a selector that never shows fails in
// Timeout instead of hanging until go test's own timeout.
const Timeout = 30 * time.Second

// Browser is one headless Chromium process with one tab, owned by a test. It is not safe
// for concurrent use: a test that wants two tabs makes two Browsers.
type Browser struct {
	t   testing.TB
	ctx context.Context // the tab; ends in t.Cleanup

	mu         sync.Mutex
	requests   []string   // URLs the tab requested, in order
	documents  []Document // responses to the tab's navigations, in order
	violations []string   // Content-Security-Policy violations, in order
	problems   []string   // exceptions, console.error calls, error log entries, CSP violations
}

// Document is the response to one navigation of the tab (of its page or of a frame).
type Document struct {
	URL    string
	Status int
	Header http.Header // canonical keys, as the browser received them
}

// execNames are the names Chromium goes by on Debian, Ubuntu and Google's packages.
var execNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// findChromium returns the browser to run: $CHROME_PATH when set, else the first of
// execNames on $PATH.
func findChromium() (string, error) {
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return exec.LookPath(p)
	}
	for _, name := range execNames {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("none of %s on PATH and CHROME_PATH unset", strings.Join(execNames, ", "))
}

// New starts a headless Chromium for the test and stops it in t.Cleanup. Without a
// browser it skips the test, or fails it when the environment has CI=true.
//
// The browser runs with a fresh temporary profile and with the background services that
// call Google turned off, so it makes no request the test did not cause (on a machine
// with no internet it would otherwise retry refused connections). When the test has
// failed, cleanup saves a screenshot named "failure" and logs the page's errors.
func New(t testing.TB) *Browser {
	t.Helper()

	path, err := findChromium()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium not installed (%v): apt-get install -y chromium", err)
		}
		t.Skip("chromium not installed: apt-get install -y chromium")
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // root in containers and CI; the pages are our own
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.WindowSize(1280, 900),
		// No UserDataDir: chromedp then makes a fresh temporary profile and removes it
		// after the browser exits, retrying while Chromium's helpers still write to it
		// (t.TempDir's single RemoveAll can fail then).
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)

	b := &Browser{t: t}
	tabCtx, cancelTab := chromedp.NewContext(allocCtx,
		chromedp.WithListener(b.record),
		// chromedp's own diagnostics would go to the standard logger from its goroutines,
		// possibly after the test ends; keep them with the page's problems instead.
		chromedp.WithErrorf(func(format string, args ...any) {
			b.addProblem("chromedp: " + fmt.Sprintf(format, args...))
		}),
	)
	b.ctx = tabCtx
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit
	})

	// The first Run starts the browser and binds its life to the context it gets, so it
	// must get the tab's own context, with no timeout; a timer bounds it instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(tabCtx) }()
	timer := time.NewTimer(Timeout)
	defer timer.Stop()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("error starting %s: %v", path, err)
		}
	case <-timer.C:
		cancelTab()
		t.Fatalf("error starting %s: not ready after %s", path, Timeout)
	}

	if err := b.Do(context.Background(), reportCSPViolations(b)); err != nil {
		t.Fatalf("error listening for Content-Security-Policy violations: %v", err)
	}

	t.Cleanup(func() {
		// Registered after the cleanup above, so it runs first, while the tab is alive.
		if !t.Failed() {
			return
		}
		b.Screenshot("failure")
		for _, p := range b.Problems() {
			t.Logf("browser: %s", p)
		}
	})
	return b
}

// cspReporter is the name of the function reportCSPViolations exposes to pages.
const cspReporter = "__browsertestCSPViolation"

// cspListener runs in every document before its own scripts: it passes each
// securitypolicyviolation event (the browser fires one for each thing a page's policy
// blocks) to cspReporter.
const cspListener = `(() => {
	if (window.__browsertestCSPListening) return;
	window.__browsertestCSPListening = true;
	document.addEventListener('securitypolicyviolation', e => {
		const report = window[` + "`" + cspReporter + "`" + `];
		if (typeof report !== 'function') return;
		report({
			directive: e.effectiveDirective,
			blockedURI: e.blockedURI,
			sourceFile: e.sourceFile,
			line: e.lineNumber,
			sample: e.sample,
			disposition: e.disposition,
		}).catch(() => {});
	}, true);
})()`

// cspViolation is what cspListener reports of one event.
type cspViolation struct {
	Directive   string `json:"directive"`
	BlockedURI  string `json:"blockedURI"`
	SourceFile  string `json:"sourceFile"`
	Line        int    `json:"line"`
	Sample      string `json:"sample"`
	Disposition string `json:"disposition"`
}

func (v cspViolation) String() string {
	s := v.Directive + " blocked " + v.BlockedURI
	if v.Sample != "" {
		s += fmt.Sprintf(" (%q)", v.Sample)
	}
	if v.SourceFile != "" {
		s += fmt.Sprintf(" at %s:%d", v.SourceFile, v.Line)
	}
	if v.Disposition == "report" {
		s += " [report only]"
	}
	return s
}

// reportCSPViolations makes every document of the tab report its Content-Security-Policy
// violations to b.
func reportCSPViolations(b *Browser) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.ExposeFunc(cspReporter, func(_ context.Context, v cspViolation) (chromedp.Void, error) {
			b.mu.Lock()
			b.violations = append(b.violations, v.String())
			b.problems = append(b.problems, "csp violation: "+v.String())
			b.mu.Unlock()
			return chromedp.Void{}, nil
		}),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
				Source: cspListener,
			})
			return err
		}),
	)
}

// record keeps the events a test asks about later. It runs on the tab's event loop, so
// it only appends.
func (b *Browser) record(ev any) {
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		appendLocked(b, &b.requests, ev.Request.URL)
	case *network.EventResponseReceived:
		if ev.Type != network.ResourceTypeDocument || ev.Response == nil {
			return
		}
		doc := Document{URL: ev.Response.URL, Status: int(ev.Response.Status), Header: http.Header{}}
		for k, v := range ev.Response.Headers {
			// The browser joins repeated headers with newlines.
			if s, ok := v.(string); ok {
				for _, line := range strings.Split(s, "\n") {
					doc.Header.Add(k, line)
				}
			}
		}
		appendLocked(b, &b.documents, doc)
	case *runtime.EventExceptionThrown:
		b.addProblem("exception: " + exceptionText(ev.ExceptionDetails))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			parts := make([]string, 0, len(ev.Args))
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			b.addProblem("console." + string(ev.Type) + ": " + strings.Join(parts, " "))
		}
	case *log.EventEntryAdded:
		// Chromium asks for /favicon.ico by itself when a page names no icon (GraphiQL's
		// does not); its 404 is not the page's problem.
		if ev.Entry.Level == log.EntryLevelError && !strings.HasSuffix(ev.Entry.URL, "/favicon.ico") {
			b.addProblem(fmt.Sprintf("%s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	}
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return ""
	}
	if d.Exception != nil && d.Exception.Description != "" {
		return d.Exception.Description
	}
	return d.Text
}

func (b *Browser) addProblem(p string) {
	appendLocked(b, &b.problems, p)
}

// appendLocked appends v to the list of b's at s, under b's lock.
func appendLocked[T any](b *Browser, s *[]T, v T) {
	b.mu.Lock()
	defer b.mu.Unlock()
	*s = append(*s, v)
}

// copyLocked returns a copy of the list of b's at s, taken under b's lock.
func copyLocked[T any](b *Browser, s *[]T) []T {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]T(nil), *s...)
}

// Requests returns the URLs the tab has requested so far, in order, including data: and
// blob: URLs. A test that checks a page loads nothing from the internet compares them
// with the test server's URL.
func (b *Browser) Requests() []string {
	return copyLocked(b, &b.requests)
}

// Documents returns the responses to the tab's navigations so far, in order, with their
// headers. A test that checks the headers a page was served with (its
// Content-Security-Policy) reads the last one.
func (b *Browser) Documents() []Document {
	return copyLocked(b, &b.documents)
}

// CSPViolations returns the Content-Security-Policy violations the tab's pages reported
// so far (a securitypolicyviolation event each), in order: the directive, what it
// blocked and where. Problems lists them too.
func (b *Browser) CSPViolations() []string {
	return copyLocked(b, &b.violations)
}

// Problems returns what went wrong in the tab so far: uncaught exceptions, console.error
// calls, browser log errors such as failed loads and Subresource Integrity mismatches,
// and Content-Security-Policy violations.
func (b *Browser) Problems() []string {
	return copyLocked(b, &b.problems)
}

// Run runs one chromedp action in b's tab and returns its value, bounded by ctx and by
// Timeout. It is the way to use any chromedp action the methods do not cover.
func Run[T any](ctx context.Context, b *Browser, action chromedp.Action[T]) (T, error) {
	runCtx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	// The action must run on a child of the tab's context; follow ctx as well.
	stop := context.AfterFunc(ctx, cancel)
	defer stop()

	v, err := chromedp.Run(runCtx, action)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
	}
	return v, err
}

// Do runs chromedp actions that return nothing, in order, bounded as Run is.
func (b *Browser) Do(ctx context.Context, actions ...chromedp.Action[chromedp.Void]) error {
	_, err := Run(ctx, b, chromedp.Steps(actions...))
	return err
}

// Navigate loads url in the tab and waits for its load event. It fails when the page
// cannot load; an HTTP error status still loads (check it on the page).
func (b *Browser) Navigate(ctx context.Context, url string) error {
	if err := b.Do(ctx, chromedp.Navigate(url)); err != nil {
		return fmt.Errorf("error navigating to %s: %w", url, err)
	}
	return nil
}

// WaitVisible waits until an element that the CSS selector sel matches is visible.
func (b *Browser) WaitVisible(ctx context.Context, sel string) error {
	if err := b.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		return fmt.Errorf("error waiting for %q to be visible: %w", sel, err)
	}
	return nil
}

// Click waits until the first element that the CSS selector sel matches is visible,
// scrolls it into view and clicks its center with the mouse.
func (b *Browser) Click(ctx context.Context, sel string) error {
	if err := b.Do(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)); err != nil {
		return fmt.Errorf("error clicking %q: %w", sel, err)
	}
	return nil
}

// SetInputValue replaces the value of the input, textarea or select that the CSS selector
// sel matches, the way a user's edit reaches a React page: it focuses the element, sets
// the value, fires the input and change events and blurs it (Swagger UI's parameter
// inputs are debounced and pass a value on only after 350 ms or on blur). It is much
// faster than key presses for long text.
func (b *Browser) SetInputValue(ctx context.Context, sel, value string) error {
	if err := b.WaitVisible(ctx, sel); err != nil {
		return err
	}
	js := `((sel, value) => {
		const el = document.querySelector(sel);
		const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype :
			el instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
		el.focus();
		Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, value);
		el.dispatchEvent(new Event('input', {bubbles: true}));
		el.dispatchEvent(new Event('change', {bubbles: true}));
		el.blur(); // debounced inputs (Swagger UI's parameters) pass the value on at once on blur
	})(` + jsString(sel) + `, ` + jsString(value) + `)`
	if _, err := Evaluate[chromedp.Void](ctx, b, js); err != nil {
		return fmt.Errorf("error setting the value of %q: %w", sel, err)
	}
	return nil
}

// Evaluate runs the JavaScript expression js in the page and decodes its result into T
// (use chromedp.Void to ignore it). A promise is awaited.
func Evaluate[T any](ctx context.Context, b *Browser, js string) (T, error) {
	v, err := Run(ctx, b, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		return v, fmt.Errorf("error evaluating %s: %w", abbrev(js), err)
	}
	return v, nil
}

// Poll evaluates the JavaScript expression js in the page until it is truthy, and
// decodes that value into T. It re-evaluates on every animation frame, bounded by ctx and
// Timeout.
func Poll[T any](ctx context.Context, b *Browser, js string) (T, error) {
	v, err := Run(ctx, b, chromedp.Poll[T](js, chromedp.WithPollingTimeout(0)))
	if err != nil {
		return v, fmt.Errorf("error waiting for %s: %w", abbrev(js), err)
	}
	return v, nil
}

// Screenshot saves a full-page PNG of the tab as <test name>--<name>.png in
// $TEST_ARTIFACTS_DIR, or in testdata/artifacts/ at the root of the module (ignored by
// git), logs its path and returns it. A failure to take or save it fails the test.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()

	// Not the test's context: this also runs in cleanup, after t.Context() has ended.
	png, err := Run(context.Background(), b, chromedp.FullScreenshot(100)) // 100 selects PNG
	if err != nil {
		b.t.Errorf("error taking screenshot %q: %v", name, err)
		return ""
	}
	dir, err := artifactsDir()
	if err != nil {
		b.t.Errorf("error saving screenshot %q: %v", name, err)
		return ""
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Errorf("error saving screenshot %q: %v", name, err)
		return ""
	}
	path := filepath.Join(dir, fileName(b.t.Name())+"--"+fileName(name)+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Errorf("error saving screenshot %q: %v", name, err)
		return ""
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

// artifactsDir is $TEST_ARTIFACTS_DIR, or testdata/artifacts in the directory of the
// nearest go.mod above the working directory (go test runs in the package directory).
func artifactsDir() (string, error) {
	if dir := os.Getenv("TEST_ARTIFACTS_DIR"); dir != "" {
		return filepath.Abs(dir)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "artifacts"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory; set TEST_ARTIFACTS_DIR")
		}
		dir = parent
	}
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// fileName turns a test or screenshot name ("TestDocs/Try_it") into a file name part.
func fileName(s string) string {
	return strings.Trim(unsafeFileChars.ReplaceAllString(s, "_"), "_.")
}

// jsString quotes s as a JavaScript string literal (JSON is a subset of JavaScript).
func jsString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// abbrev shortens JavaScript for error messages.
func abbrev(js string) string {
	js = strings.Join(strings.Fields(js), " ")
	if len(js) > 80 {
		return js[:77] + "..."
	}
	return js
}
