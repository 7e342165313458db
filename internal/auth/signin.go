package auth

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// AdminCookie is the cookie that carries an API token to the admin routes
// (River's UI) from a browser, which cannot add an Authorization header to
// the requests of a page. It is HttpOnly and SameSite=Strict: no other site
// can make a browser send it, so it is no way in for cross-site requests.
const AdminCookie = "notify_admin"

// signInPath is where the sign-in form of the admin routes posts.
const signInPath = "/riverui/sign-in"

// adminCookie returns the token in r's admin cookie, or "".
func adminCookie(r *http.Request) string {
	c, err := r.Cookie(AdminCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// signIn answers a browser on an admin route that came without a valid
// token: a GET for a page gets the sign-in form, a POST of the form with a
// valid token gets the cookie and goes back to River's UI. It reports
// whether it answered; everything else is refused by the caller.
func (g *Guard) signIn(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == signInPath:
		if !sameOrigin(r) {
			return false
		}
		token := ""
		if err := r.ParseForm(); err == nil && len(r.PostForm["token"]) == 1 {
			token = r.PostForm.Get("token")
		}
		switch p := g.Check(token); {
		case p == nil:
			writeSignInPage(w, http.StatusUnauthorized, "That token is not one of API_TOKENS.")
			return true
		case !p.Can(Admin):
			writeSignInPage(w, http.StatusForbidden, "River's UI needs an admin token.")
			return true
		}
		http.SetCookie(w, &http.Cookie{
			Name:     AdminCookie,
			Value:    token,
			Path:     "/riverui/",
			HttpOnly: true,
			Secure:   r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https",
			SameSite: http.SameSiteStrictMode,
		})
		http.Redirect(w, r, "/riverui/", http.StatusSeeOther)
		return true
	case r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html"):
		writeSignInPage(w, http.StatusUnauthorized, "")
		return true
	}
	return false
}

// sameOrigin reports whether a form post comes from a page of this host:
// browsers send Origin on every POST.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser, or a very old one: the token decides
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

var signInPage = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in — River UI</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>River UI</h1>
<p>River's UI needs an admin API token (one of <code>API_TOKENS</code>).</p>
{{if .}}<p role="alert">{{.}}</p>{{end}}
<form method="post" action="/riverui/sign-in">
<label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form></main></body></html>
`))

func writeSignInPage(w http.ResponseWriter, code int, message string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Add("WWW-Authenticate", `Bearer realm="notify"`)
	w.WriteHeader(code)
	_ = signInPage.Execute(w, message)
}
