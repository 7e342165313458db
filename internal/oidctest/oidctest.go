// Package oidctest is an OpenID Connect provider for tests (README,
// "Security", "OIDC"): a discovery document at
// /.well-known/openid-configuration, a JWKS of several keys at /keys, and
// tokens signed with any of them, on an httptest server. Keys can be added
// and removed while it runs, as a provider rotating its keys does.
//
// A browser signs in at it too (AddClient): an authorization endpoint at
// /auth that approves at once, and a token endpoint at /token that
// exchanges a code for tokens (Authorization Code with PKCE, S256) and, for
// a client that has them, a refresh token for new tokens
// (grant_type=refresh_token). It answers CORS, as providers do for public
// clients.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Provider is a running test provider.
type Provider struct {
	Issuer string // the server's URL, the iss of its tokens

	mu        sync.Mutex
	keys      map[string]*rsa.PrivateKey // every key made, published or not
	published []string                   // the kids of the JWKS, in order
	signing   string                     // the kid new tokens are signed with
	jwksHits  int
	offset    time.Duration // SetClockOffset

	clients   map[string]Client   // AddClient, by client_id
	codes     map[string]authCode // codes of /auth not yet exchanged
	refresh   map[string]string   // refresh tokens not yet used, to their client_id
	exchanged int                 // codes exchanged for tokens
	refreshed int                 // refresh tokens exchanged for tokens
}

// Client is a public client that signs in at the provider with the
// Authorization Code flow and PKCE, as a browser application does.
type Client struct {
	ID      string         // client_id, and the aud of its tokens
	Subject string         // the sub of its tokens
	Claims  map[string]any // more claims of its tokens (name, roles…)
	// TTL is the lifetime of its tokens (exp − iat); 0 is five minutes.
	TTL time.Duration
	// Refresh makes the token endpoint return a refresh token with the
	// client's tokens when the sign-in asked for the offline_access scope
	// (as Auth0, Okta and Entra ID do), and take it once
	// (grant_type=refresh_token) for new ones and a new refresh token: a
	// used one is refused, as providers that rotate refresh tokens do.
	Refresh bool
}

type authCode struct {
	client, challenge, redirect string
	offline                     bool // the scope had offline_access
}

// New starts a provider publishing one key, "key-1", which signs tokens;
// it stops when t ends.
func New(t testing.TB) *Provider {
	p := &Provider{
		keys:    map[string]*rsa.PrivateKey{},
		clients: map[string]Client{},
		codes:   map[string]authCode{},
		refresh: map[string]string{},
	}
	// The issuer is set before the server starts: its handlers read it,
	// and a request from another process (a browser) gives the race
	// detector no order between a later write and those reads.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	p.Issuer = "http://" + srv.Listener.Addr().String()
	p.AddKey(t, "key-1")
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

func (p *Provider) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.Issuer, "jwks_uri": p.Issuer + "/keys",
			"authorization_endpoint": p.Issuer + "/auth", "token_endpoint": p.Issuer + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
			"code_challenge_methods_supported":      []string{"S256"},
			"scopes_supported":                      []string{"openid", "profile", "offline_access"},
		})
	case "/auth":
		p.authorize(w, r)
	case "/token":
		p.token(w, r)
	case "/keys":
		p.mu.Lock()
		p.jwksHits++
		var set jose.JSONWebKeySet
		for _, kid := range p.published {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &p.keys[kid].PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"})
		}
		p.mu.Unlock()
		_ = json.NewEncoder(w).Encode(set)
	default:
		http.NotFound(w, r)
	}
}

// AddKey makes a key, publishes it in the JWKS beside the others and signs
// new tokens with it.
func (p *Provider) AddKey(t testing.TB, kid string) {
	p.UnpublishedKey(t, kid)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.published = append(p.published, kid)
	p.signing = kid
}

// RemoveKey takes kid out of the JWKS; tokens can still be signed with it
// (SignWith), as an attacker holding a retired key could.
func (p *Provider) RemoveKey(kid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, k := range p.published {
		if k == kid {
			p.published = append(p.published[:i], p.published[i+1:]...)
			return
		}
	}
}

// UnpublishedKey makes a key that is never published: tokens signed with
// it under a published kid are wrongly signed.
func (p *Provider) UnpublishedKey(t testing.TB, kid string) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys[kid] = k
}

// JWKSFetches returns how many times the JWKS was fetched.
func (p *Provider) JWKSFetches() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.jwksHits
}

// Claims returns the claims of a valid token for sub and audience, valid
// for five minutes, with extra added (a nil value deletes a claim).
func (p *Provider) Claims(sub, audience string, extra map[string]any) map[string]any {
	p.mu.Lock()
	now := time.Now().Add(p.offset)
	p.mu.Unlock()
	return p.claimsAt(now, 5*time.Minute, sub, audience, extra)
}

// claimsAt returns the claims of a token for sub and audience issued at now
// and valid for ttl, with extra added (a nil value deletes a claim).
func (p *Provider) claimsAt(now time.Time, ttl time.Duration, sub, audience string, extra map[string]any) map[string]any {
	c := map[string]any{
		"iss": p.Issuer, "sub": sub, "aud": audience,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(ttl).Unix(),
	}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// Sign returns claims signed with the current signing key, as a compact JWT.
func (p *Provider) Sign(t testing.TB, claims map[string]any) string {
	p.mu.Lock()
	kid := p.signing
	p.mu.Unlock()
	return p.SignWith(t, kid, kid, claims)
}

// SignWith returns claims signed with the key made as keyKid, its header
// naming headerKid.
func (p *Provider) SignWith(t testing.TB, keyKid, headerKid string, claims map[string]any) string {
	raw, err := p.sign(keyKid, headerKid, claims)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func (p *Provider) sign(keyKid, headerKid string, claims map[string]any) (string, error) {
	p.mu.Lock()
	k := p.keys[keyKid]
	p.mu.Unlock()
	if k == nil {
		return "", fmt.Errorf("oidctest: no key %q", keyKid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), headerKid))
	if err != nil {
		return "", err
	}
	return jwt.Signed(signer).Claims(claims).Serialize()
}

// AddClient lets c sign in at /auth and /token.
func (p *Provider) AddClient(c Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clients[c.ID] = c
}

// SetClockOffset sets the provider's clock d off the real one: the iat, nbf
// and exp of the tokens it makes from then on (Claims and the token
// endpoint's) are moved by d. A clock behind (d < 0) by the leeway the
// service allows past exp makes a token refused its TTL after it is issued.
func (p *Provider) SetClockOffset(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.offset = d
}

// Exchanges returns how many authorization codes were exchanged for tokens:
// how many times a browser signed in.
func (p *Provider) Exchanges() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exchanged
}

// Refreshes returns how many refresh tokens were exchanged for new tokens.
func (p *Provider) Refreshes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refreshed
}

// RevokeRefreshTokens forgets every refresh token issued so far: each is
// refused from then on (invalid_grant), as after a sign-out elsewhere.
// Codes exchanged later get new ones.
func (p *Provider) RevokeRefreshTokens() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.refresh)
}

// authorize is the authorization endpoint: it approves a client's request
// at once, back to its redirect_uri with a code and the state.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	back, err := url.Parse(q.Get("redirect_uri"))
	p.mu.Lock()
	_, known := p.clients[q.Get("client_id")]
	p.mu.Unlock()
	if !known || err != nil || !back.IsAbs() || q.Get("response_type") != "code" ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	code := rand.Text()
	p.mu.Lock()
	p.codes[code] = authCode{client: q.Get("client_id"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"),
		offline: slices.Contains(strings.Fields(q.Get("scope")), "offline_access")}
	p.mu.Unlock()
	v := back.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// token is the token endpoint: a code with its PKCE verifier, or a refresh
// token, for the client's tokens.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		tokenError(w, "invalid_request")
		return
	}
	f := r.PostForm
	p.mu.Lock()
	c, known := p.clients[f.Get("client_id")]
	ok, offline := false, false
	switch f.Get("grant_type") {
	case "authorization_code":
		code, found := p.codes[f.Get("code")]
		delete(p.codes, f.Get("code"))
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		ok = found && code.client == c.ID && code.redirect == f.Get("redirect_uri") &&
			base64.RawURLEncoding.EncodeToString(sum[:]) == code.challenge
		if ok {
			p.exchanged++
			offline = code.offline
		}
	case "refresh_token":
		client, found := p.refresh[f.Get("refresh_token")]
		delete(p.refresh, f.Get("refresh_token"))
		ok = found && client == c.ID
		if ok {
			p.refreshed++
			offline = true
		}
	}
	now := time.Now().Add(p.offset)
	kid := p.signing
	refresh := ""
	if ok && c.Refresh && offline {
		refresh = rand.Text()
		p.refresh[refresh] = c.ID
	}
	p.mu.Unlock()
	if !known || !ok {
		tokenError(w, "invalid_grant")
		return
	}
	ttl := c.TTL
	if ttl == 0 {
		ttl = 5 * time.Minute
	}
	raw, err := p.sign(kid, kid, p.claimsAt(now, ttl, c.Subject, c.ID, c.Claims))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	answer := map[string]any{"access_token": raw, "id_token": raw, "token_type": "Bearer", "expires_in": int(ttl.Seconds())}
	if refresh != "" {
		answer["refresh_token"] = refresh
	}
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(answer)
}

// tokenError answers a refused token request (RFC 6749 §5.2).
func tokenError(w http.ResponseWriter, code string) {
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}
