package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/browsertest"
	"github.com/notifyhq/notify/internal/testdb"
)

// requirePageOffline checks that the tab loaded nothing but the service's
// own URLs (and inline data), and that the page reported no errors.
func requirePageOffline(t *testing.T, br *browsertest.Browser, baseURL string) {
	t.Helper()
	for _, u := range br.Requests() {
		if strings.HasPrefix(u, "data:") || strings.HasPrefix(u, "blob:") {
			continue
		}
		require.True(t, strings.HasPrefix(u, baseURL+"/"), "request outside the service: %s", u)
	}
	require.Empty(t, br.Problems())
}

// TestBrowserSwaggerUI opens /docs/ in headless Chromium against the real
// service: every operation of the served document renders, and "Try it out"
// calls reach the REST API and answer as documented.
func TestBrowserSwaggerUI(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		b := setup(t, databaseURL, setupOpts{})
		c := newRESTClient(t, b)
		c.createMailing(t, map[string]any{
			"start_at": time.Now().Add(time.Hour).Format(time.RFC3339),
			"end_at":   time.Now().Add(2 * time.Hour).Format(time.RFC3339),
			"text":     "from the browser test",
		})
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
		require.Len(t, shown, 19) // SPEC §6: 18 routes and GET /reports/daily/

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
			c.createMailing(t, map[string]any{
				"start_at": time.Now().Add(time.Hour).Format(time.RFC3339),
				"end_at":   time.Now().Add(2 * time.Hour).Format(time.RFC3339),
				"text":     "from the browser test",
			})
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
