package browsertest

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/chromedp/chromedp"
)

// GraphiQL 4 edits with CodeMirror 5: the editor's wrapper element (.CodeMirror) holds
// the editor instance, whose getValue() is the whole text, including lines scrolled out
// of view.
const (
	graphiqlQueryEditor = `.graphiql-query-editor .CodeMirror`
	graphiqlResult      = `.result-window .CodeMirror`
	graphiqlRun         = `.graphiql-execute-button`
)

// editorValue is JavaScript for the text of the CodeMirror editor under sel, or null.
func editorValue(sel string) string {
	return `(() => { const el = document.querySelector(` + jsString(sel) + `); return el && el.CodeMirror ? el.CodeMirror.getValue() : null; })()`
}

// RunGraphiQLQuery opens the GraphiQL page at baseURL with query in the editor (through
// the page's ?query= parameter), clicks the run button and returns the text of the result
// pane once it shows a result: the response JSON as GraphiQL formats it. For a
// subscription it returns the first event.
//
// An error means the page, the editor or a result did not show up within the bounds of
// ctx and Timeout; a GraphQL error is a result like any other.
func RunGraphiQLQuery(ctx context.Context, b *Browser, baseURL, query string) (string, error) {
	page := strings.TrimSuffix(baseURL, "/") + "/?query=" + url.QueryEscape(query)
	if err := b.Navigate(ctx, page); err != nil {
		return "", err
	}
	if err := b.WaitVisible(ctx, graphiqlRun); err != nil {
		return "", err
	}
	// The editor is filled from the URL when GraphiQL mounts; wait for that rather than
	// trusting the order of its effects.
	waitQuery := `(() => { const v = ` + editorValue(graphiqlQueryEditor) + `; return v === ` + jsString(query) + `; })()`
	if _, err := Poll[bool](ctx, b, waitQuery); err != nil {
		return "", fmt.Errorf("error waiting for the query in the editor: %w", err)
	}

	// On mount GraphiQL fetches the schema, and when that fails (introspection off, an
	// invalid answer) it writes the failure into the result pane. Wait until that fetch
	// has finished (the browser records a resource timing entry when a fetch's response
	// is complete), then clear the pane, so that what shows next is the query's result.
	waitSchema := `performance.getEntriesByType('resource').some(e => e.initiatorType === 'fetch')`
	if _, err := Poll[bool](ctx, b, waitSchema); err != nil {
		return "", fmt.Errorf("error waiting for GraphiQL to fetch the schema: %w", err)
	}
	clear := `document.querySelector(` + jsString(graphiqlResult) + `).CodeMirror.setValue('')`
	if _, err := Evaluate[chromedp.Void](ctx, b, clear); err != nil {
		return "", err
	}

	if err := b.Click(ctx, graphiqlRun); err != nil {
		return "", err
	}
	waitResult := `(() => { const v = ` + editorValue(graphiqlResult) + `; return v ? v : false; })()`
	result, err := Poll[string](ctx, b, waitResult)
	if err != nil {
		return "", fmt.Errorf("error waiting for the result of the query: %w", err)
	}
	return result, nil
}
