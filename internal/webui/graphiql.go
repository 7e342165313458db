package webui

import (
	"bytes"
	"crypto/rand"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// asset is one embedded file under assets/ that a page loads, with the Subresource
// Integrity string the page puts on its tag.
type asset struct {
	name    string // path under assets/, such as "graphiql/graphiql.min.js"
	version string // busts caches (see url): the npm package version, or a content hash
	sri     string
}

// url is where the page loads the asset from. Assets sends an immutable cache header, so
// the version in the query string gives the next release of the file a new URL. The file
// server ignores the query.
func (a asset) url() string {
	return "/assets/" + a.name + "?v=" + a.version
}

// The vendored files (assets/graphiql/README.md). Their SRI strings are gqlgen
// v0.17.98's own (graphql/playground/playground.go) for the CDN copies: the npm-packed
// files hash to exactly these, which TestAssets checks against the embedded bytes.
var (
	graphiqlJS = asset{
		name:    "graphiql/graphiql.min.js",
		version: "4.1.2",
		sri:     "sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs=",
	}
	graphiqlCSS = asset{
		name:    "graphiql/graphiql.min.css",
		version: "4.1.2",
		sri:     "sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU=",
	}
	reactJS = asset{
		name:    "graphiql/react.production.min.js",
		version: "18.2.0",
		sri:     "sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY=",
	}
	reactDOMJS = asset{
		name:    "graphiql/react-dom.production.min.js",
		version: "18.2.0",
		sri:     "sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc=",
	}
)

// The page's own script and stylesheet (assets/page/), versioned by their content.
var (
	pageJS  = ownAsset("page/graphiql.js")
	pageCSS = ownAsset("page/graphiql.css")
)

// graphiqlPage is the GraphiQL page. It has no inline script or style, so its
// Content-Security-Policy can forbid both: the settings the script needs are in a JSON
// block, which the browser never runs.
var graphiqlPage = template.Must(template.New("graphiql").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
{{- range .Styles}}
<link rel="stylesheet" href="{{.URL}}" integrity="{{.SRI}}" crossorigin="anonymous">
{{- end}}
{{- range .HeadScripts}}
<script src="{{.URL}}" integrity="{{.SRI}}" crossorigin="anonymous"></script>
{{- end}}
</head>
<body>
<div id="graphiql"><div class="loading">Loading…</div></div>
<script id="graphiql-config" type="application/json">{{.Config}}</script>
{{- range .BodyScripts}}
<script src="{{.URL}}" integrity="{{.SRI}}" crossorigin="anonymous"></script>
{{- end}}
</body>
</html>
`))

// pageAsset is an asset as the page template uses it.
type pageAsset struct {
	URL template.URL
	SRI string
}

func pageAssets(as ...asset) []pageAsset {
	out := make([]pageAsset, len(as))
	for i, a := range as {
		out[i] = pageAsset{URL: template.URL(a.url()), SRI: a.sri}
	}
	return out
}

// graphiqlConfig is what assets/page/graphiql.js reads from #graphiql-config.
type graphiqlConfig struct {
	// Endpoint is the GraphQL endpoint: a path on the page's host, or an absolute URL.
	Endpoint string `json:"endpoint"`
	// SubscriptionEndpoint is the WebSocket URL for an absolute Endpoint, else empty
	// (the script then uses ws:// or wss:// on the page's host).
	SubscriptionEndpoint string `json:"subscriptionEndpoint,omitempty"`
	// StyleNonce is the nonce of the response's policy for the <style> elements
	// GraphiQL adds.
	StyleNonce string `json:"styleNonce"`
}

// GraphiQL returns the handler of the GraphQL IDE page: GraphiQL 4.1.2 and React 18.2.0
// loaded from Assets, no CDN. Mount it at "GET /{$}"; it answers 404 for any path other
// than "/".
//
// endpoint is the path of the GraphQL endpoint, such as "/query". The page sends queries
// and mutations there over HTTP and runs subscriptions over a WebSocket at the same path
// on the page's host (ws:// or wss://, following the page's scheme). An absolute URL
// works too: the page then uses ws:// or wss:// on that URL's host.
//
// The page keeps the query, its variables and its operation name in the URL, so a link
// such as /?query={clients{totalCount}} opens with that query in the editor. The request
// headers typed into its headers editor (the API token) are kept neither in the URL nor
// in the browser's storage.
//
// Responses carry a Content-Security-Policy that allows scripts and styles from the
// service only (plus GraphiQL's run-time <style> elements, by a nonce new on each
// response) and connections to the page's origin and the endpoint's, and the other
// headers of SecureHeaders.
func GraphiQL(title, endpoint string) http.Handler {
	connect := "'self'"
	var subscriptionEndpoint string
	if u, err := url.Parse(endpoint); err == nil && u.Scheme != "" && u.Host != "" {
		ws := *u
		ws.Scheme = "ws"
		if u.Scheme == "https" {
			ws.Scheme = "wss"
		}
		subscriptionEndpoint = ws.String()
		connect += " " + u.Scheme + "://" + u.Host + " " + ws.Scheme + "://" + u.Host
	}

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		if !onlyGetOrHead(w, r) {
			return
		}

		nonce := rand.Text()
		var buf bytes.Buffer
		err := graphiqlPage.Execute(&buf, map[string]any{
			"Title":       title,
			"Styles":      pageAssets(graphiqlCSS, pageCSS),
			"HeadScripts": pageAssets(reactJS, reactDOMJS),
			"BodyScripts": pageAssets(graphiqlJS, pageJS),
			"Config": graphiqlConfig{
				Endpoint:             endpoint,
				SubscriptionEndpoint: subscriptionEndpoint,
				StyleNonce:           nonce,
			},
		})
		if err != nil {
			http.Error(w, "error rendering the page", http.StatusInternalServerError)
			return
		}

		h := w.Header()
		setSecurityHeaders(h, graphiqlCSP(nonce, connect))
		h.Set("Content-Type", "text/html; charset=utf-8")
		// The page is tiny and names versioned asset URLs; revalidate it every time so a
		// deploy with new assets is picked up at once.
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(buf.Bytes())
	})
}

// graphiqlCSP is the GraphiQL page's policy for one response. GraphiQL's fonts and icons
// are data: URIs in its stylesheet.
func graphiqlCSP(nonce, connect string) string {
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self' 'nonce-" + nonce + "'",
		"img-src 'self' data:",
		"font-src 'self' data:",
		"connect-src " + connect,
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
}
