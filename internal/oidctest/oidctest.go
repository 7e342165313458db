// Package oidctest is an OpenID Connect provider for tests (README,
// "Security", "OIDC"): a discovery document at
// /.well-known/openid-configuration, a JWKS of several keys at /keys, and
// tokens signed with any of them, on an httptest server. Keys can be added
// and removed while it runs, as a provider rotating its keys does.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
}

// New starts a provider publishing one key, "key-1", which signs tokens;
// it stops when t ends.
func New(t testing.TB) *Provider {
	p := &Provider{keys: map[string]*rsa.PrivateKey{}}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.Issuer = srv.URL
	p.AddKey(t, "key-1")
	return p
}

func (p *Provider) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.Issuer, "jwks_uri": p.Issuer + "/keys",
			"authorization_endpoint": p.Issuer + "/auth", "token_endpoint": p.Issuer + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
		})
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
	now := time.Now()
	c := map[string]any{
		"iss": p.Issuer, "sub": sub, "aud": audience,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
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
	p.mu.Lock()
	k := p.keys[keyKid]
	p.mu.Unlock()
	if k == nil {
		t.Fatalf("oidctest: no key %q", keyKid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), headerKid))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
