package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/browsertest"
	"github.com/notifyhq/notify/internal/testdb"
	"github.com/notifyhq/notify/internal/webui"
)

// requirePageOffline checks that the tab loaded nothing but the service's
// own URLs (and inline data), that every page it opened came with the
// security headers (internal/webui.SecureHeaders), and that the pages
// reported no errors and no Content-Security-Policy violation.
func requirePageOffline(t *testing.T, br *browsertest.Browser, baseURL string) {
	t.Helper()
	for _, u := range br.Requests() {
		if strings.HasPrefix(u, "data:") || strings.HasPrefix(u, "blob:") {
			continue
		}
		require.True(t, strings.HasPrefix(u, baseURL+"/"), "request outside the service: %s", u)
	}
	requirePagesSecured(t, br)
	require.Empty(t, br.Problems())
}

// requirePagesSecured checks that every page the tab opened came with a
// Content-Security-Policy that allows scripts from the service only and no
// framing, with the other headers of webui.SecureHeaders, and that no page
// reported a violation of its policy.
func requirePagesSecured(t *testing.T, br *browsertest.Browser) {
	t.Helper()
	docs := br.Documents()
	require.NotEmpty(t, docs)
	for _, doc := range docs {
		csp := doc.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self';", "frame-ancestors 'none'"} {
			require.Contains(t, csp, want, doc.URL)
		}
		require.NotContains(t, csp, "unsafe-eval", doc.URL)
		require.NotContains(t, csp, "http", doc.URL) // no other origin
		requireNoFramingSniffingReferrer(t, doc)
	}
	require.Empty(t, br.CSPViolations())
}

// requireNoFramingSniffingReferrer asserts the headers every page of the service is
// served with besides its policy: no framing, no content sniffing, no referrer.
func requireNoFramingSniffingReferrer(t *testing.T, doc browsertest.Document) {
	t.Helper()
	require.Equal(t, "DENY", doc.Header.Get("X-Frame-Options"), doc.URL)
	require.Equal(t, "nosniff", doc.Header.Get("X-Content-Type-Options"), doc.URL)
	require.Equal(t, "no-referrer", doc.Header.Get("Referrer-Policy"), doc.URL)
}

// createLaterMailing creates through c a mailing that starts in an hour, for the pages
// to show: the browser tests see it scheduled, nothing sent.
func createLaterMailing(t *testing.T, c *restClient) restMailingJSON {
	t.Helper()
	return c.createMailing(t, map[string]any{
		"start_at": time.Now().Add(time.Hour).Format(time.RFC3339),
		"end_at":   time.Now().Add(2 * time.Hour).Format(time.RFC3339),
		"text":     "from the browser test",
	})
}

// TestBrowserSwaggerUI opens /docs/ in headless Chromium against the real
// service: every operation of the served document renders, and "Try it out"
// calls reach the REST API and answer as documented.
func TestBrowserSwaggerUI(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		b := setup(t, databaseURL, setupOpts{})
		c := newRESTClient(t, b)
		createLaterMailing(t, c)
		br := browsertest.New(t)
		ctx := t.Context()

		res, err := browsertest.SwaggerTryGet(ctx, br, b.server.URL, "/mailings/general_statistics/")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
		// Swagger UI sends the documented default of limit.
		require.Equal(t, b.server.URL+"/mailings/general_statistics/?limit=100", res.RequestURL)
		var stats struct {
			Mailings   int            `json:"mailings"`
			ByStatus   map[string]int `json:"by_status"`
			PerMailing []any          `json:"per_mailing"`
		}
		require.NoError(t, json.Unmarshal([]byte(res.Body), &stats), "body: %s", res.Body)
		require.Equal(t, 1, stats.Mailings)
		require.Len(t, stats.ByStatus, 6)
		require.Len(t, stats.PerMailing, 1)
		br.Screenshot("general_statistics")

		// Every operation of the document is on the page.
		shown, err := browsertest.Evaluate[[]string](ctx, br, `[...document.querySelectorAll('.opblock')].map(el =>
			el.querySelector('.opblock-summary-method').textContent + ' ' + el.querySelector('[data-path]').getAttribute('data-path'))`)
		require.NoError(t, err)
		var documented []string
		for path, item := range c.doc.Paths.Map() {
			for method := range item.Operations() {
				documented = append(documented, method+" "+path)
			}
		}
		require.ElementsMatch(t, documented, shown)
		// The REST layer: 18 routes of clients and mailings, the CSV import
		// (2) and exports (2), opt-outs (3), the audience preview, webhook
		// deliveries, GET /reports/daily/ and GET /audit/.
		require.Len(t, shown, 29)

		// A call with a body (the document's example) and one with a path parameter.
		res, err = browsertest.SwaggerTry(ctx, br, b.server.URL, browsertest.SwaggerOperation{Method: "POST", Path: "/clients/"})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, res.Status, "body: %s", res.Body)
		var created restClientJSON
		require.NoError(t, json.Unmarshal([]byte(res.Body), &created), "body: %s", res.Body)
		require.Equal(t, "79001234567", created.Phone)

		res, err = browsertest.SwaggerTry(ctx, br, b.server.URL, browsertest.SwaggerOperation{
			Method: "GET", Path: "/clients/{id}/", Params: map[string]string{"id": fmt.Sprint(created.ID)},
		})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
		require.Contains(t, res.Body, `"operator_code": "900"`)
		br.Screenshot("get_client")

		requirePageOffline(t, br, b.server.URL)
	})
}

// TestBrowserGraphiQL runs a real GraphQL query from the GraphiQL page at /
// and reads the result it shows.
func TestBrowserGraphiQL(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		b := setup(t, databaseURL, setupOpts{})
		c := newRESTClient(t, b)
		for range 2 {
			createLaterMailing(t, c)
		}
		br := browsertest.New(t)

		out, err := browsertest.RunGraphiQLQuery(t.Context(), br, b.server.URL, `{ generalStatistics { mailings byStatus { status count } } }`)
		require.NoError(t, err)
		var result struct {
			Data struct {
				GeneralStatistics struct {
					Mailings int `json:"mailings"`
					ByStatus []struct {
						Status string `json:"status"`
						Count  int    `json:"count"`
					} `json:"byStatus"`
				} `json:"generalStatistics"`
			} `json:"data"`
			Errors []any `json:"errors"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &result), "result pane: %s", out)
		require.Empty(t, result.Errors)
		require.Equal(t, 2, result.Data.GeneralStatistics.Mailings)
		var statuses []string
		for _, s := range result.Data.GeneralStatistics.ByStatus {
			statuses = append(statuses, s.Status)
		}
		require.True(t, slices.Equal([]string{"QUEUED", "RETRYING", "SENT", "FAILED", "EXPIRED", "CANCELLED"}, statuses), "statuses %v", statuses)
		br.Screenshot("general_statistics")

		requirePageOffline(t, br, b.server.URL)
	})
}

// TestBrowserGraphiQLToken runs a query from GraphiQL with API_TOKENS set:
// the token typed into the headers editor authorizes it, and it stays out
// of the page's URL and of the browser's storage.
func TestBrowserGraphiQLToken(t *testing.T) {
	t.Parallel()
	const token = "browser-test-t0ken"
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		b := setup(t, databaseURL, setupOpts{env: map[string]string{"API_TOKENS": token}})
		br := browsertest.New(t)
		ctx := t.Context()

		out, err := browsertest.RunGraphiQLQueryWithHeaders(ctx, br, b.server.URL,
			`{ generalStatistics { mailings } }`, `{"Authorization": "Bearer `+token+`"}`)
		require.NoError(t, err)
		require.JSONEq(t, `{"data":{"generalStatistics":{"mailings":0}}}`, out)

		kept, err := browsertest.Evaluate[[]string](ctx, br, `[location.href,
			...Object.keys(localStorage).map(k => k + '=' + localStorage.getItem(k)),
			...Object.keys(sessionStorage).map(k => k + '=' + sessionStorage.getItem(k))]`)
		require.NoError(t, err)
		require.NotContains(t, kept[0], "headers=")
		for _, v := range kept {
			require.NotContains(t, v, token)
		}
		br.Screenshot("with_token")

		// The page is open, its schema fetch on load is not: GraphiQL sends no
		// header until one is typed. That 401 is the only problem.
		var problems []string
		for _, p := range br.Problems() {
			if !strings.Contains(p, "status of 401") {
				problems = append(problems, p)
			}
		}
		require.Empty(t, problems)
		requirePagesSecured(t, br)
	})
}

// TestBrowserGraphiQLDocsExplorer opens GraphiQL's documentation explorer,
// which shows the schema GraphiQL fetched on load with the standard
// introspection query: the mutations are there.
func TestBrowserGraphiQLDocsExplorer(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		b := setup(t, databaseURL, setupOpts{})
		br := browsertest.New(t)
		ctx := t.Context()

		require.NoError(t, browsertest.OpenGraphiQL(ctx, br, b.server.URL, ""))
		fields, err := browsertest.GraphiQLDocsFields(ctx, br, "Mutation")
		require.NoError(t, err)
		require.Contains(t, fields, "createMailing")
		br.Screenshot("mutations")

		requirePageOffline(t, br, b.server.URL)
	})
}

// TestBrowserRiverUI opens River's UI under webui.RiverUICSP, the policy
// the service serves it with, and walks it as an operator would: the
// scheduled jobs of a mailing, one job, cancelling it (a toast), the dark
// theme and the queues. The policy blocks nothing they use but one probe:
// the zod library in River's bundle tries Function("") once to learn
// whether it may compile its parsers, and falls back to plain ones when the
// policy says no; allowing it would take 'unsafe-eval'.
func TestBrowserRiverUI(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		b := setup(t, databaseURL, setupOpts{})
		createLaterMailing(t, newRESTClient(t, b))
		// River's UI as the route table mounts it, without the API tokens'
		// guard; wrapping it again is harmless once the table does.
		var riverUI http.Handler
		for _, r := range b.app.routes {
			if r.pattern == "/riverui/" {
				riverUI = r.handler
			}
		}
		require.NotNil(t, riverUI, "no /riverui/ route")
		mux := http.NewServeMux()
		mux.Handle("/riverui/", webui.SecureHeaders(webui.RiverUICSP, riverUI))
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)

		br := browsertest.New(t)
		ctx := t.Context()
		waitText := func(text string) {
			t.Helper()
			_, err := browsertest.Poll[bool](ctx, br, `document.body.innerText.includes(`+jsQuote(text)+`)`)
			require.NoError(t, err, "waiting for %q", text)
		}

		require.NoError(t, br.Navigate(ctx, srv.URL+"/riverui/jobs?state=scheduled"))
		waitText("start_mailing")
		waitText("close_mailing")
		br.Screenshot("scheduled")

		// The theme menu is the second of two buttons both labelled Theme (the
		// first sets how often the page refreshes).
		clickElement(t, br, `[...document.querySelectorAll('button[aria-label="Theme"]')].at(-1)`)
		clickText(t, br, `[role="option"]`, "Dark")
		_, err := browsertest.Poll[bool](ctx, br, `document.documentElement.classList.contains('dark')`)
		require.NoError(t, err)

		// The mailing's start job, by its id: the periodic prune job, inserted
		// at start, may have taken id 1.
		var startJob int64
		require.NoError(t, b.app.db.SQL.QueryRowContext(ctx, `SELECT id FROM river_job WHERE kind = 'start_mailing'`).Scan(&startJob))
		require.NoError(t, br.Click(ctx, fmt.Sprintf(`a[href="/riverui/jobs/%d"]`, startJob)))
		waitText("Job Details")
		waitText("mailing_id")
		clickText(t, br, "button", "Cancel")
		// The toast, styled by a <style id="_goober"> it adds.
		_, err = browsertest.Poll[bool](ctx, br, `!!document.querySelector('[role="status"]') && !!document.getElementById('_goober')`)
		require.NoError(t, err)
		br.Screenshot("cancelled")

		// A page load of its own (the sidebar's link lies under the page when
		// the sidebar is narrow).
		require.NoError(t, br.Navigate(ctx, srv.URL+"/riverui/queues"))
		waitText("send")
		br.Screenshot("queues")

		for _, u := range br.Requests() {
			require.True(t, strings.HasPrefix(u, srv.URL+"/riverui/") || strings.HasPrefix(u, "data:"),
				"request outside River's UI: %s", u)
		}
		docs := br.Documents()
		require.NotEmpty(t, docs)
		for _, doc := range docs {
			require.Equal(t, webui.RiverUICSP, doc.Header.Get("Content-Security-Policy"), doc.URL)
			requireNoFramingSniffingReferrer(t, doc)
		}
		zodProbe := "script-src blocked eval at " + srv.URL + "/riverui/assets/main-"
		var problems []string
		for _, p := range br.Problems() {
			if !strings.HasPrefix(p, "csp violation: "+zodProbe) {
				problems = append(problems, p)
			}
		}
		require.Empty(t, problems)
	})
}

// clickText clicks the first visible element matching the CSS selector sel
// whose text is text.
func clickText(t *testing.T, br *browsertest.Browser, sel, text string) {
	t.Helper()
	clickElement(t, br, `[...document.querySelectorAll(`+jsQuote(sel)+`)]
		.find(el => el.textContent.trim() === `+jsQuote(text)+` && el.offsetParent !== null)`)
}

// clickElement waits until the JavaScript expression js gives an element,
// and clicks it with the mouse.
func clickElement(t *testing.T, br *browsertest.Browser, js string) {
	t.Helper()
	mark := `(() => {
		const el = ` + js + `;
		if (!el) return false;
		document.querySelectorAll('[data-browser-test-target]').forEach(el => el.removeAttribute('data-browser-test-target'));
		el.setAttribute('data-browser-test-target', '');
		return true;
	})()`
	_, err := browsertest.Poll[bool](t.Context(), br, mark)
	require.NoError(t, err)
	require.NoError(t, br.Click(t.Context(), `[data-browser-test-target]`))
}

// jsQuote quotes s as a JavaScript string literal.
func jsQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
