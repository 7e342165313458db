package webui

import (
	"net/http"

	"github.com/99designs/gqlgen/graphql/playground"
)

// asset is one vendored file under assets/graphiql/ (see its README.md) with the
// Subresource Integrity string the page puts on its tag.
type asset struct {
	name    string // file name under assets/graphiql/
	version string // npm package version, used to bust caches (see url)
	sri     string
}

// url is where the page loads the asset from. Assets sends an immutable cache header, so
// the version in the query string gives the next vendored release a new URL. The file
// server ignores the query.
func (a asset) url() string {
	return "/assets/graphiql/" + a.name + "?v=" + a.version
}

// The SRI strings are gqlgen v0.17.98's own (graphql/playground/playground.go); the
// npm-packed files hash to exactly these, which TestAssets checks against the embedded
// bytes.
var (
	graphiqlJS = asset{
		name:    "graphiql.min.js",
		version: "4.1.2",
		sri:     "sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs=",
	}
	graphiqlCSS = asset{
		name:    "graphiql.min.css",
		version: "4.1.2",
		sri:     "sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU=",
	}
	reactJS = asset{
		name:    "react.production.min.js",
		version: "18.2.0",
		sri:     "sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY=",
	}
	reactDOMJS = asset{
		name:    "react-dom.production.min.js",
		version: "18.2.0",
		sri:     "sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc=",
	}
)

// GraphiQL returns the handler of the GraphQL IDE page, gqlgen's playground page with
// GraphiQL 4.1.2 and React 18.2.0 loaded from Assets instead of a CDN. Mount it at
// "GET /{$}"; it answers 404 for any path other than "/".
//
// endpoint is the path of the GraphQL endpoint, such as "/query". The page sends queries
// and mutations there over HTTP and runs subscriptions over a WebSocket at the same path
// on the page's host (ws:// or wss://, following the page's scheme). An absolute URL
// works too: the page then uses ws:// or wss:// on that URL's host.
//
// The page keeps its state in the URL, so a link such as /?query={clients{totalCount}}
// opens with that query in the editor.
func GraphiQL(title, endpoint string) http.Handler {
	page := playground.Handler(title, endpoint,
		playground.WithGraphiqlVersion(graphiqlJS.url(), graphiqlCSS.url(), graphiqlJS.sri, graphiqlCSS.sri),
		playground.WithGraphiqlReactVersion(reactJS.url(), reactDOMJS.url(), reactJS.sri, reactDOMJS.sri),
		playground.WithGraphiqlPersistStateInURL(true),
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		if !onlyGetOrHead(w, r) {
			return
		}
		// The page is tiny and names versioned asset URLs; revalidate it every time so a
		// deploy with new assets is picked up at once.
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		page.ServeHTTP(w, r)
	})
}
