package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/oidctest"
)

// flakyTransport fails every request while down is set: a provider that
// cannot be reached.
type flakyTransport struct{ down atomic.Bool }

func (f *flakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.down.Load() {
		return nil, errors.New("connection refused")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestOIDCLazyDiscovery: a provider down at start does not stop the
// start: a warning names OIDC_ISSUER, JWTs are refused (API tokens are
// not concerned), and discovery is tried again when a JWT comes, at most
// every RetryEvery.
func TestOIDCLazyDiscovery(t *testing.T) {
	t.Parallel()
	p := oidctest.New(t)
	tr := &flakyTransport{}
	tr.down.Store(true)
	var logs bytes.Buffer
	o := NewOIDC(context.Background(), OIDCConfig{
		Issuer: p.Issuer, Audience: "api", Client: &http.Client{Transport: tr},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), RetryEvery: 50 * time.Millisecond,
	})
	require.False(t, o.Ready())
	require.Contains(t, logs.String(), "OIDC_ISSUER: discovery failed")

	jwt := p.Sign(t, p.Claims("sam", "api", map[string]any{"roles": []string{"notify:operator"}}))
	_, err := o.Verify(context.Background(), jwt)
	var refused *RefusedError
	require.ErrorAs(t, err, &refused)
	require.Equal(t, "OIDC provider unavailable", refused.Reason)

	tr.down.Store(false)
	require.Eventually(t, func() bool {
		who, err := o.Verify(context.Background(), jwt)
		return err == nil && who.Role == Operator && who.Name == "sam"
	}, 5*time.Second, 20*time.Millisecond)
	require.True(t, o.Ready())
}

// TestOIDCKeyMaxAge: a key removed from the JWKS stops verifying once the
// cached set is KeyMaxAge old, even when no new key id made it fetch the
// set again.
func TestOIDCKeyMaxAge(t *testing.T) {
	t.Parallel()
	p := oidctest.New(t)
	p.AddKey(t, "key-2")
	o := NewOIDC(context.Background(), OIDCConfig{Issuer: p.Issuer, Audience: "api", KeyMaxAge: 100 * time.Millisecond})
	claims := p.Claims("kim", "api", map[string]any{"roles": []string{"notify:viewer"}})
	old := p.SignWith(t, "key-1", "key-1", claims)
	_, err := o.Verify(context.Background(), old)
	require.NoError(t, err)
	p.RemoveKey("key-1")
	require.Eventually(t, func() bool {
		_, err := o.Verify(context.Background(), old)
		return err != nil
	}, 5*time.Second, 50*time.Millisecond)
	_, err = o.Verify(context.Background(), p.Sign(t, claims))
	require.NoError(t, err, "key-2 still verifies")
}

// TestOIDCClaims: the roles claim as a list, a string, or a dotted path;
// the highest notify role wins; the principal's name.
func TestOIDCClaims(t *testing.T) {
	t.Parallel()
	claims := map[string]any{
		"roles":                        []any{"notify:viewer", "notify:ADMIN", 7},
		"scope":                        "openid notify:operator,profile",
		"realm_access":                 map[string]any{"roles": []any{"notify:operator"}},
		"https://notify.example/roles": []any{"notify:viewer"},
	}
	require.Equal(t, Admin, highestRole(claimValues(claims, "roles")))
	require.Equal(t, Operator, highestRole(claimValues(claims, "scope")))
	require.Equal(t, Operator, highestRole(claimValues(claims, "realm_access.roles")))
	require.Equal(t, Viewer, highestRole(claimValues(claims, "https://notify.example/roles")))
	require.Equal(t, Role(0), highestRole(claimValues(claims, "missing.path")))
	require.Equal(t, Role(0), highestRole([]string{"notify:", "notify:root", "admin"}))
	require.Equal(t, "no role", Role(0).String())

	require.Equal(t, "s1 (Ann)", principalName("s1", map[string]any{"name": "Ann", "preferred_username": "ann"}))
	require.Equal(t, "s1 (ann)", principalName("s1", map[string]any{"preferred_username": "ann"}))
	require.Equal(t, "s1", principalName("s1", map[string]any{"name": " "}))

	require.True(t, LooksLikeJWT("eyJhbGciOiJSUzI1NiJ9.e30.c2ln"))
	for _, s := range []string{"", "a.b.c", "eyJhbGciOiJSUzI1NiJ9..c2ln", "plain-api-token-123456", "eyJ9.e30.c2ln"} {
		require.False(t, LooksLikeJWT(s), s)
	}
}

// TestOIDCJWKSThrottle: tokens naming key ids the JWKS lacks, sent at
// will, make go-oidc fetch the JWKS again each time; past a burst, the
// provider sees at most one request every jwksEvery, and valid tokens
// still verify.
func TestOIDCJWKSThrottle(t *testing.T) {
	t.Parallel()
	p := oidctest.New(t)
	p.UnpublishedKey(t, "forger")
	o := NewOIDC(context.Background(), OIDCConfig{Issuer: p.Issuer, Audience: "api"})
	claims := p.Claims("ivy", "api", map[string]any{"roles": []string{"notify:viewer"}})
	_, err := o.Verify(context.Background(), p.Sign(t, claims))
	require.NoError(t, err)
	before := p.JWKSFetches()
	for i := range 30 {
		_, err := o.Verify(context.Background(), p.SignWith(t, "forger", fmt.Sprintf("kid-%d", i), claims))
		require.Error(t, err)
	}
	require.LessOrEqual(t, p.JWKSFetches()-before, jwksBurst+1, "the provider is not flooded")
	_, err = o.Verify(context.Background(), p.Sign(t, claims))
	require.NoError(t, err)
}
