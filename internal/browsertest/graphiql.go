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
	// The variables and the headers editors share a section below the query editor; the
	// one not shown has the class hidden.
	graphiqlHeadersEditor = `.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror`
	graphiqlDocsButton    = `button[aria-label="Show Documentation Explorer"]`
	graphiqlDocExplorer   = `.graphiql-doc-explorer`
	graphiqlDocBack       = `.graphiql-doc-explorer-back`
)

// editorValue is JavaScript for the text of the CodeMirror editor under sel, or null.
func editorValue(sel string) string {
	return `(() => { const el = document.querySelector(` + jsString(sel) + `); return el && el.CodeMirror ? el.CodeMirror.getValue() : null; })()`
}

// OpenGraphiQL opens the GraphiQL page (/graphiql/) of the service at baseURL with
// query in the editor (through the page's ?query= parameter; empty leaves GraphiQL's
// default) and waits until the editor
// shows it and GraphiQL's schema fetch on load has finished, successful or not.
func OpenGraphiQL(ctx context.Context, b *Browser, baseURL, query string) error {
	page := strings.TrimSuffix(baseURL, "/") + "/graphiql/"
	if query != "" {
		page += "?query=" + url.QueryEscape(query)
	}
	if err := b.Navigate(ctx, page); err != nil {
		return err
	}
	if err := b.WaitVisible(ctx, graphiqlRun); err != nil {
		return err
	}
	if query != "" {
		// The editor is filled from the URL when GraphiQL mounts; wait for that rather
		// than trusting the order of its effects.
		waitQuery := `(() => { const v = ` + editorValue(graphiqlQueryEditor) + `; return v === ` + jsString(query) + `; })()`
		if _, err := Poll[bool](ctx, b, waitQuery); err != nil {
			return fmt.Errorf("error waiting for the query in the editor: %w", err)
		}
	}
	// The browser records a resource timing entry when a fetch's response is complete.
	waitSchema := `performance.getEntriesByType('resource').some(e => e.initiatorType === 'fetch')`
	if _, err := Poll[bool](ctx, b, waitSchema); err != nil {
		return fmt.Errorf("error waiting for GraphiQL to fetch the schema: %w", err)
	}
	return nil
}

// SetGraphiQLHeaders shows the headers editor of the open GraphiQL page and replaces its
// text with headers, a JSON object such as {"Authorization": "Bearer …"}, as if typed:
// GraphiQL sends them with the next request.
func SetGraphiQLHeaders(ctx context.Context, b *Browser, headers string) error {
	// The tab buttons above the section say "Variables" and "Headers"; a click on one
	// shows its editor, and opens the section when it is collapsed.
	tab := `(() => [...document.querySelectorAll('.graphiql-editor-tools button')]
		.find(el => el.textContent.trim() === 'Headers'))()`
	ok, err := Evaluate[bool](ctx, b, `(() => { const el = `+tab+`; if (!el) return false; el.setAttribute('data-browsertest', 'headers-tab'); return true; })()`)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("error finding the Headers tab of GraphiQL: is the headers editor enabled?")
	}
	if err := b.Click(ctx, `[data-browsertest="headers-tab"]`); err != nil {
		return err
	}
	if err := b.WaitVisible(ctx, graphiqlHeadersEditor); err != nil {
		return err
	}
	set := `document.querySelector(` + jsString(graphiqlHeadersEditor) + `).CodeMirror.setValue(` + jsString(headers) + `)`
	if _, err := Evaluate[chromedp.Void](ctx, b, set); err != nil {
		return err
	}
	return nil
}

// RunGraphiQL clicks the run button of the open GraphiQL page and returns the text of
// the result pane once it shows a result: the response JSON as GraphiQL formats it. For
// a subscription it returns the first event. It clears the pane first, so that what an
// earlier run or a failed schema fetch wrote there is not taken for the result.
func RunGraphiQL(ctx context.Context, b *Browser) (string, error) {
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

// RunGraphiQLQuery opens the GraphiQL page at baseURL with query in the editor (through
// the page's ?query= parameter), clicks the run button and returns the text of the result
// pane once it shows a result: the response JSON as GraphiQL formats it. For a
// subscription it returns the first event.
//
// An error means the page, the editor or a result did not show up within the bounds of
// ctx and Timeout; a GraphQL error is a result like any other.
func RunGraphiQLQuery(ctx context.Context, b *Browser, baseURL, query string) (string, error) {
	return RunGraphiQLQueryWithHeaders(ctx, b, baseURL, query, "")
}

// RunGraphiQLQueryWithHeaders is RunGraphiQLQuery with headers (a JSON object) typed
// into GraphiQL's headers editor before the run; empty leaves the editor alone.
func RunGraphiQLQueryWithHeaders(ctx context.Context, b *Browser, baseURL, query, headers string) (string, error) {
	if err := OpenGraphiQL(ctx, b, baseURL, query); err != nil {
		return "", err
	}
	if headers != "" {
		if err := SetGraphiQLHeaders(ctx, b, headers); err != nil {
			return "", err
		}
	}
	return RunGraphiQL(ctx, b)
}

// GraphiQLDocsFields opens the documentation explorer of the open GraphiQL page (or
// goes back to its start when it is open), follows the root type typeName ("Query", "Mutation" or "Subscription") and returns the names of
// the fields it lists, in order. The explorer shows the schema GraphiQL fetched with the
// introspection query on load; when that failed, the error says what the explorer shows
// instead.
func GraphiQLDocsFields(ctx context.Context, b *Browser, typeName string) ([]string, error) {
	shown, err := Evaluate[bool](ctx, b, `!!document.querySelector(`+jsString(graphiqlDocExplorer)+`)`)
	if err != nil {
		return nil, err
	}
	if !shown {
		if err := b.Click(ctx, graphiqlDocsButton); err != nil {
			return nil, err
		}
		if err := b.WaitVisible(ctx, graphiqlDocExplorer); err != nil {
			return nil, err
		}
	}
	// The explorer remembers where it was: go back to its start, the root types. Each
	// page below it has a back link.
	for range 20 {
		back, err := Evaluate[bool](ctx, b, `!!document.querySelector(`+jsString(graphiqlDocBack)+`)`)
		if err != nil {
			return nil, err
		}
		if !back {
			break
		}
		if err := b.Click(ctx, graphiqlDocBack); err != nil {
			return nil, err
		}
	}
	// The root types once the schema is there, or the explorer's error.
	state := `(() => {
		const ex = document.querySelector('.graphiql-doc-explorer');
		const err = ex.querySelector('.graphiql-doc-explorer-error');
		if (err) return {error: err.textContent};
		const types = [...ex.querySelectorAll('.graphiql-doc-explorer-root-type + a, .graphiql-doc-explorer-root-type ~ a')]
			.map(el => el.textContent);
		return types.length ? {types} : false;
	})()`
	root, err := Poll[struct {
		Error string   `json:"error"`
		Types []string `json:"types"`
	}](ctx, b, state)
	if err != nil {
		return nil, fmt.Errorf("error waiting for the documentation explorer's root types: %w", err)
	}
	if root.Error != "" {
		// GraphiQL writes the failed fetch's response into the result pane.
		detail, _ := Evaluate[*string](ctx, b, editorValue(graphiqlResult))
		if detail != nil && *detail != "" {
			return nil, fmt.Errorf("error in GraphiQL's documentation explorer: %s; the result pane shows %s", root.Error, *detail)
		}
		return nil, fmt.Errorf("error in GraphiQL's documentation explorer: %s", root.Error)
	}

	mark := `((name) => {
		const el = [...document.querySelectorAll('.graphiql-doc-explorer-root-type ~ a')].find(el => el.textContent === name);
		if (!el) return false;
		el.setAttribute('data-browsertest', 'doc-type');
		return true;
	})(` + jsString(typeName) + `)`
	found, err := Evaluate[bool](ctx, b, mark)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("error finding root type %s in the documentation explorer: it lists %s",
			typeName, strings.Join(root.Types, ", "))
	}
	if err := b.Click(ctx, `[data-browsertest="doc-type"]`); err != nil {
		return nil, err
	}
	fields := `((name) => {
		const title = document.querySelector('.graphiql-doc-explorer-title');
		if (!title || title.textContent !== name) return false;
		const fields = [...document.querySelectorAll('.graphiql-doc-explorer-content .graphiql-doc-explorer-field-name')]
			.map(el => el.textContent);
		return fields.length ? fields : false;
	})(` + jsString(typeName) + `)`
	names, err := Poll[[]string](ctx, b, fields)
	if err != nil {
		return nil, fmt.Errorf("error waiting for the fields of %s in the documentation explorer: %w", typeName, err)
	}
	return names, nil
}
