package webui

import "net/http"

// The Content-Security-Policies of the browser pages. Each allows only what its page
// loads from the service itself (the README's "offline GraphiQL IDE"; nothing comes from
// a CDN), and none may be framed. GraphiQL's depends on the response (a nonce) and is
// built by graphiqlCSP.
const (
	// DocsCSP is the policy of Swagger UI at /docs/: its scripts and stylesheets are
	// files of its own, its icons are data: URIs in its stylesheet, and "Try it out"
	// calls the service's own origin.
	DocsCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
		"form-action 'none'; frame-ancestors 'none'"

	// RiverUICSP is the policy for River's UI (riverqueue.com/riverui, mounted at
	// /riverui/; wrap its handler with SecureHeaders). Its index.html loads one module
	// script and one stylesheet of its own and keeps its configuration in a JSON
	// <script> that never runs; its stylesheet has data: images (form controls). Styles
	// need 'unsafe-inline': its toasts (goober) and its theme switch (next-themes) add
	// <style> elements at run time with no way to pass them a nonce. Scripts stay
	// 'self' only.
	RiverUICSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

// SecureHeaders returns h with the security headers of a browser page set on every
// response, before h writes it:
//
//   - Content-Security-Policy: csp (it should say frame-ancestors 'none');
//   - X-Frame-Options: DENY, for browsers that ignore frame-ancestors;
//   - X-Content-Type-Options: nosniff;
//   - Referrer-Policy: no-referrer, so that no URL of the page (a query in GraphiQL's)
//     leaves with a link followed from it.
//
// The pages of this package set them already; the service wraps River's UI with
// RiverUICSP.
func SecureHeaders(csp string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header(), csp)
		h.ServeHTTP(w, r)
	})
}

// setSecurityHeaders sets the headers SecureHeaders documents.
func setSecurityHeaders(h http.Header, csp string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}
