package browsertest

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// SwaggerOperation names an operation on the Swagger UI page and what to try it with.
type SwaggerOperation struct {
	Method string // HTTP method, any case
	Path   string // the path as the document writes it, such as "/clients/{id}/"

	// Params fills the operation's parameters (path, query or header) by name.
	Params map[string]string
	// Body replaces the request body Swagger UI pre-fills from the schema's example; empty
	// keeps it.
	Body string
}

// SwaggerResponse is what Swagger UI shows under "Server response" after Execute.
type SwaggerResponse struct {
	Status     int    // HTTP status code
	Body       string // response body as shown (JSON pretty-printed)
	RequestURL string // the URL Swagger UI called
}

// swaggerLive is read from the page once the live response shows.
type swaggerLive struct {
	Status     string `json:"status"`
	Body       string `json:"body"`
	RequestURL string `json:"requestURL"`
}

var leadingStatus = regexp.MustCompile(`^\s*(\d{3})\b`)

// SwaggerTryGet tries the GET operation at path on the Swagger UI page at baseURL+"/docs/"
// with no parameters. See SwaggerTry.
func SwaggerTryGet(ctx context.Context, b *Browser, baseURL, path string) (SwaggerResponse, error) {
	return SwaggerTry(ctx, b, baseURL, SwaggerOperation{Method: "GET", Path: path})
}

// SwaggerTry opens Swagger UI at baseURL+"/docs/", expands the operation, clicks "Try it
// out", fills in op's parameters and body, clicks "Execute" and returns the live response
// once it shows. Any HTTP status is a response; an error means the operation is not in
// the document, or the page or the response did not show within the bounds of ctx and
// Timeout, or the request failed in the browser (for example a CORS or network error).
func SwaggerTry(ctx context.Context, b *Browser, baseURL string, op SwaggerOperation) (SwaggerResponse, error) {
	if err := b.Navigate(ctx, strings.TrimSuffix(baseURL, "/")+"/docs/"); err != nil {
		return SwaggerResponse{}, err
	}
	if err := b.WaitVisible(ctx, ".opblock"); err != nil {
		return SwaggerResponse{}, err
	}

	// Swagger UI renders every operation of an expanded tag at once; find ours by method
	// and path and address it by its element id from here on.
	method := strings.ToLower(op.Method)
	find := `((method, path) => {
		const ops = [...document.querySelectorAll('.opblock')];
		const el = ops.find(el => el.classList.contains('opblock-' + method) &&
			el.querySelector('[data-path]')?.getAttribute('data-path') === path);
		if (el) return {sel: '#' + CSS.escape(el.id), open: el.classList.contains('is-open')};
		return {all: ops.map(el => el.querySelector('.opblock-summary-method')?.textContent + ' ' +
			el.querySelector('[data-path]')?.getAttribute('data-path'))};
	})(` + jsString(method) + `, ` + jsString(op.Path) + `)`
	found, err := Evaluate[struct {
		Sel  string   `json:"sel"`
		Open bool     `json:"open"`
		All  []string `json:"all"`
	}](ctx, b, find)
	if err != nil {
		return SwaggerResponse{}, err
	}
	if found.Sel == "" {
		return SwaggerResponse{}, fmt.Errorf("error finding %s %s in Swagger UI: the page has %s",
			strings.ToUpper(method), op.Path, strings.Join(found.All, ", "))
	}
	opSel := found.Sel

	if !found.Open {
		if err := b.Click(ctx, opSel+" .opblock-summary-control"); err != nil {
			return SwaggerResponse{}, err
		}
	}
	if err := b.WaitVisible(ctx, opSel+" .try-out__btn"); err != nil {
		return SwaggerResponse{}, err
	}
	// With tryItOutEnabled the button already says "Cancel".
	cancelShown, err := Evaluate[bool](ctx, b, `!!document.querySelector(`+jsString(opSel+" .try-out__btn.cancel")+`)`)
	if err != nil {
		return SwaggerResponse{}, err
	}
	if !cancelShown {
		if err := b.Click(ctx, opSel+" .try-out__btn"); err != nil {
			return SwaggerResponse{}, err
		}
	}

	for _, name := range slices.Sorted(maps.Keys(op.Params)) {
		sel := fmt.Sprintf(`%s tr[data-param-name=%s] :is(input, textarea, select)`, opSel, jsString(name))
		if err := b.SetInputValue(ctx, sel, op.Params[name]); err != nil {
			return SwaggerResponse{}, fmt.Errorf("error filling parameter %q: %w", name, err)
		}
	}
	if op.Body != "" {
		if err := b.SetInputValue(ctx, opSel+" textarea.body-param__text", op.Body); err != nil {
			return SwaggerResponse{}, fmt.Errorf("error filling the request body: %w", err)
		}
	}

	if err := b.Click(ctx, opSel+" .execute"); err != nil {
		return SwaggerResponse{}, err
	}
	statusSel := opSel + " .live-responses-table .response .response-col_status"
	if err := b.WaitVisible(ctx, statusSel); err != nil {
		return SwaggerResponse{}, fmt.Errorf("error waiting for the response: %w", err)
	}
	read := `((sel) => {
		const op = document.querySelector(sel);
		const text = s => op.querySelector(s)?.textContent ?? '';
		return {
			status: text('.live-responses-table .response .response-col_status'),
			body: text('.live-responses-table .response-col_description .highlight-code pre'),
			requestURL: text('.request-url pre'),
		};
	})(` + jsString(opSel) + `)`
	live, err := Evaluate[swaggerLive](ctx, b, read)
	if err != nil {
		return SwaggerResponse{}, err
	}
	m := leadingStatus.FindStringSubmatch(live.Status)
	if m == nil {
		// Swagger UI shows "Failed to fetch" and the like instead of a status.
		return SwaggerResponse{}, fmt.Errorf("error executing %s %s in Swagger UI: %s %s",
			strings.ToUpper(method), op.Path, strings.TrimSpace(live.Status), strings.TrimSpace(live.Body))
	}
	status, _ := strconv.Atoi(m[1]) // three digits
	return SwaggerResponse{Status: status, Body: live.Body, RequestURL: live.RequestURL}, nil
}
