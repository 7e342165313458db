package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/time/rate"
)

// OIDC sign-in (README, "Security", "OIDC"): bearer JWTs issued by the
// provider at OIDC_ISSUER are accepted beside the API tokens. go-oidc
// verifies them: the signature against the provider's JWKS (cached,
// fetched again when a token names a key id it does not hold, so a
// rotation is followed without a restart), the issuer, and the audience
// (OIDC_AUDIENCE); exp and nbf are checked here with a leeway of
// DefaultLeeway. The role comes from the OIDC_ROLES_CLAIM claim.

const (
	// DefaultRolesClaim is the claim that carries the roles when
	// OIDC_ROLES_CLAIM is not set.
	DefaultRolesClaim = "roles"
	// RolePrefix prefixes the role values of the roles claim:
	// notify:viewer, notify:operator, notify:admin.
	RolePrefix = "notify:"
	// DefaultLeeway is the clock skew allowed on exp and nbf.
	DefaultLeeway = 30 * time.Second
	// discoveryTimeout bounds one discovery attempt.
	discoveryTimeout = 5 * time.Second
	// defaultRetryEvery is how often a failed discovery is tried again,
	// at most (only when a JWT is presented).
	defaultRetryEvery = 10 * time.Second
	// defaultKeyMaxAge is how long a fetched JWKS is used before it is
	// fetched again: a key removed from the provider's JWKS is refused at
	// most this long after, or at once when a token with a key id the cache
	// lacks makes it fetch the set again.
	defaultKeyMaxAge = 10 * time.Minute
	// jwksEvery and jwksBurst bound the JWKS requests that reach the
	// provider (see jwksThrottle): a burst of 5, then one every 5 s.
	jwksEvery = 5 * time.Second
	jwksBurst = 5
)

// OIDCConfig configures the verification of bearer JWTs.
type OIDCConfig struct {
	Issuer     string        // OIDC_ISSUER: must equal the discovery document's issuer and the tokens' iss
	Audience   string        // OIDC_AUDIENCE: must be one of the tokens' aud
	RolesClaim string        // OIDC_ROLES_CLAIM; "" is DefaultRolesClaim
	Logger     *slog.Logger  // discovery failures and tokens without a role; nil logs nothing
	Client     *http.Client  // requests to the provider; nil is a client with a 10s timeout
	Leeway     time.Duration // clock skew allowed on exp and nbf; 0 is DefaultLeeway
	RetryEvery time.Duration // a failed discovery is tried again at most this often; 0 is 10s
	KeyMaxAge  time.Duration // a fetched JWKS is fetched again after this long; 0 is 10 minutes
}

// OIDC verifies the bearer JWTs of one provider. Discovery is tried once
// when it is made; when the provider cannot be reached then, the service
// still starts (API tokens work) and discovery is tried again when a JWT is
// presented, at most every RetryEvery; until it succeeds JWTs are refused.
type OIDC struct {
	cfg    OIDCConfig
	logger *slog.Logger

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
	lastTry  time.Time
	lastErr  error
}

// NewOIDC returns a verifier of cfg.Issuer's JWTs and tries discovery
// (bounded by 5 s); a failure is logged as a warning, not returned.
func NewOIDC(ctx context.Context, cfg OIDCConfig) *OIDC {
	if cfg.RolesClaim == "" {
		cfg.RolesClaim = DefaultRolesClaim
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.RetryEvery == 0 {
		cfg.RetryEvery = defaultRetryEvery
	}
	if cfg.KeyMaxAge == 0 {
		cfg.KeyMaxAge = defaultKeyMaxAge
	}
	o := &OIDC{cfg: cfg, logger: cfg.Logger}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	o.mu.Lock()
	_, err := o.discoverLocked(ctx)
	o.mu.Unlock()
	if err != nil {
		o.logger.Warn("OIDC_ISSUER: discovery failed; bearer JWTs are refused until it succeeds (tried again when one is presented), API tokens work",
			"issuer", cfg.Issuer, "error", err)
	} else {
		o.logger.Info("OIDC sign-in on", "issuer", cfg.Issuer, "audience", cfg.Audience, "roles_claim", cfg.RolesClaim)
	}
	return o
}

// Ready reports whether discovery has succeeded.
func (o *OIDC) Ready() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.verifier != nil
}

// current returns the verifier, trying discovery again when it has not
// succeeded yet and the last try is RetryEvery old.
func (o *OIDC) current(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.verifier != nil {
		return o.verifier, nil
	}
	if time.Since(o.lastTry) < o.cfg.RetryEvery {
		return nil, fmt.Errorf("OIDC provider not discovered (retried at most every %s): %v", o.cfg.RetryEvery, o.lastErr)
	}
	v, err := o.discoverLocked(ctx)
	if err != nil {
		o.logger.WarnContext(ctx, "OIDC_ISSUER: discovery failed again", "issuer", o.cfg.Issuer, "error", err)
		return nil, fmt.Errorf("OIDC provider not discovered: %v", err)
	}
	o.logger.InfoContext(ctx, "OIDC sign-in on: discovery succeeded", "issuer", o.cfg.Issuer)
	return v, nil
}

// discoverLocked fetches the discovery document and sets up the verifier.
func (o *OIDC) discoverLocked(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	o.lastTry = time.Now()
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), discoveryTimeout)
	defer cancel()
	provider, err := oidc.NewProvider(oidc.ClientContext(dctx, o.cfg.Client), o.cfg.Issuer)
	if err != nil {
		o.lastErr = err
		return nil, err
	}
	var meta struct {
		JWKSURL string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := provider.Claims(&meta); err != nil || meta.JWKSURL == "" {
		o.lastErr = errors.New("the discovery document has no jwks_uri")
		return nil, o.lastErr
	}
	next := o.cfg.Client.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	throttled := &http.Client{Timeout: o.cfg.Client.Timeout, Transport: &jwksThrottle{
		next: next, limiter: rate.NewLimiter(rate.Every(jwksEvery), jwksBurst),
	}}
	keys := &keySet{
		ctx:    oidc.ClientContext(context.Background(), throttled),
		url:    meta.JWKSURL,
		maxAge: o.cfg.KeyMaxAge,
	}
	o.verifier = oidc.NewVerifier(o.cfg.Issuer, keys, &oidc.Config{
		ClientID:             o.cfg.Audience,
		SupportedSigningAlgs: signingAlgs(meta.Algs),
		// exp and nbf are checked in Verify, with DefaultLeeway on both
		// (go-oidc allows none on exp and five minutes on nbf).
		SkipExpiryCheck: true,
	})
	o.lastErr = nil
	return o.verifier, nil
}

// asymmetric are the signing algorithms accepted: public-key ones only
// (HS256 would make the JWKS's public data a shared secret; "none" is no
// signature).
var asymmetric = map[string]bool{
	oidc.RS256: true, oidc.RS384: true, oidc.RS512: true,
	oidc.ES256: true, oidc.ES384: true, oidc.ES512: true,
	oidc.PS256: true, oidc.PS384: true, oidc.PS512: true,
	oidc.EdDSA: true,
}

// signingAlgs returns the algorithms of the discovery document that are
// accepted; none listed is RS256, the one every provider supports.
func signingAlgs(listed []string) []string {
	var out []string
	for _, a := range listed {
		if asymmetric[a] {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		out = []string{oidc.RS256}
	}
	return out
}

// keySet is go-oidc's RemoteKeySet, made anew when it is KeyMaxAge old so
// that keys removed from the provider's JWKS stop verifying even when no
// token with a new key id has made it fetch the set again.
type keySet struct {
	ctx    context.Context
	url    string
	maxAge time.Duration

	mu   sync.Mutex
	set  *oidc.RemoteKeySet
	born time.Time
}

func (k *keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	k.mu.Lock()
	if k.set == nil || time.Since(k.born) > k.maxAge {
		k.set, k.born = oidc.NewRemoteKeySet(k.ctx, k.url), time.Now()
	}
	set := k.set
	k.mu.Unlock()
	return set.VerifySignature(ctx, jwt)
}

// jwksThrottle is the transport of the JWKS requests. go-oidc fetches the
// JWKS again for every token whose key id it lacks or whose signature
// fails, which anyone can send at will; past a burst, at most one request
// every jwksEvery reaches the provider, and the others get the provider's
// last answer again. That answer is never more permissive than the
// provider's latest: a new key is picked up at most jwksEvery late while
// someone floods the service with bad tokens.
type jwksThrottle struct {
	next    http.RoundTripper
	limiter *rate.Limiter

	mu   sync.Mutex
	last []byte // the body of the last 200 answer
}

func (t *jwksThrottle) RoundTrip(r *http.Request) (*http.Response, error) {
	t.mu.Lock()
	last := t.last
	t.mu.Unlock()
	if last != nil && !t.limiter.Allow() {
		return &http.Response{
			StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:  http.Header{"Content-Type": {"application/json"}},
			Body:    io.NopCloser(bytes.NewReader(last)),
			Request: r, ContentLength: int64(len(last)),
		}, nil
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.last = body
	t.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// LooksLikeJWT reports whether a bearer token is shaped like a JWS in
// compact form: three base64url parts, the first a JSON header.
func LooksLikeJWT(token string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return false
	}
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return false
	}
	var h struct {
		Alg string `json:"alg"`
	}
	return json.Unmarshal(header, &h) == nil && h.Alg != ""
}

// RefusedError is why a JWT was refused: a short reason, and go-oidc's
// words or the offending claim. Neither holds the token.
type RefusedError struct {
	Reason string
	Detail string
}

func (e *RefusedError) Error() string {
	if e.Detail == "" {
		return e.Reason
	}
	return e.Reason + ": " + e.Detail
}

// Verify returns who raw, a bearer JWT, belongs to: "sub (name)" with the
// highest role of the roles claim, or no role at all (a Principal whose
// Role is 0, refused 403 everywhere). The error is a *RefusedError.
func (o *OIDC) Verify(ctx context.Context, raw string) (*Principal, error) {
	v, err := o.current(ctx)
	if err != nil {
		return nil, &RefusedError{Reason: "OIDC provider unavailable", Detail: err.Error()}
	}
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		return nil, refusal(raw, err, kidOf(raw))
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, &RefusedError{Reason: "malformed claims"}
	}
	now := time.Now()
	exp, hasExp := numericDate(claims["exp"])
	switch {
	case !hasExp:
		return nil, &RefusedError{Reason: "no exp claim"}
	case now.After(exp.Add(o.cfg.Leeway)):
		return nil, &RefusedError{Reason: "expired", Detail: fmt.Sprintf("exp %s, leeway %s", exp.UTC().Format(time.RFC3339), o.cfg.Leeway)}
	}
	if nbf, ok := numericDate(claims["nbf"]); ok && now.Add(o.cfg.Leeway).Before(nbf) {
		return nil, &RefusedError{Reason: "not yet valid", Detail: fmt.Sprintf("nbf %s, leeway %s", nbf.UTC().Format(time.RFC3339), o.cfg.Leeway)}
	}
	if tok.Subject == "" {
		return nil, &RefusedError{Reason: "no sub claim"}
	}
	p := &Principal{Name: principalName(tok.Subject, claims), Role: highestRole(claimValues(claims, o.cfg.RolesClaim))}
	if p.Role == 0 {
		o.logger.InfoContext(ctx, "OIDC token without a notify role: signed in, refused 403 everywhere",
			"actor", p.Name, "roles_claim", o.cfg.RolesClaim)
	}
	return p, nil
}

// refusal words go-oidc's error as a RefusedError, without the token.
func refusal(raw string, err error, kid string) *RefusedError {
	msg := err.Error()
	var expired *oidc.TokenExpiredError
	reason := "invalid JWT"
	switch {
	case errors.As(err, &expired):
		reason = "expired"
	case strings.Contains(msg, "malformed jwt"), strings.Contains(msg, "unmarshal claims"):
		reason = "malformed JWT"
	case strings.Contains(msg, "fetching keys"):
		reason = "JWKS unreachable"
	case strings.Contains(msg, "verify signature"):
		reason = fmt.Sprintf("signature not verified: unknown key or wrong signature (kid %q)", kid)
	case strings.Contains(msg, "different provider"):
		reason = "wrong issuer"
	case strings.Contains(msg, "expected audience"):
		reason = "wrong audience"
	}
	// go-oidc's messages quote claims, never the token; make sure.
	for _, part := range append(strings.Split(raw, "."), raw) {
		if len(part) >= 8 {
			msg = strings.ReplaceAll(msg, part, "…")
		}
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return &RefusedError{Reason: reason, Detail: msg}
}

// kidOf returns the key id of a JWT's header, or "".
func kidOf(raw string) string {
	head, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		Kid string `json:"kid"`
	}
	_ = json.Unmarshal(b, &h)
	if len(h.Kid) > 100 {
		return h.Kid[:100] + "…"
	}
	return h.Kid
}

// numericDate reads a NumericDate claim (seconds since the epoch).
func numericDate(v any) (time.Time, bool) {
	f, ok := v.(float64)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(0, 0).Add(time.Duration(f * float64(time.Second))), true
}

// principalName is "sub (name)", with the name or preferred_username claim
// when the token has one, else the subject alone; at most 200 characters.
func principalName(sub string, claims map[string]any) string {
	name := sub
	for _, c := range []string{"name", "preferred_username"} {
		if s, ok := claims[c].(string); ok && strings.TrimSpace(s) != "" {
			name = sub + " (" + strings.TrimSpace(s) + ")"
			break
		}
	}
	if len(name) > 200 {
		name = name[:200] + "…"
	}
	return name
}

// claimValues returns the strings of claim: a list of strings, or one
// string of values separated by spaces or commas. A claim not found at the
// top level is looked up as a dotted path ("realm_access.roles").
func claimValues(claims map[string]any, claim string) []string {
	v, ok := claims[claim]
	if !ok && strings.Contains(claim, ".") {
		var cur any = claims
		for key := range strings.SplitSeq(claim, ".") {
			m, isMap := cur.(map[string]any)
			if !isMap {
				cur = nil
				break
			}
			cur = m[key]
		}
		v = cur
	}
	var out []string
	switch v := v.(type) {
	case string:
		out = strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' })
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// highestRole returns the highest role among values (notify:viewer,
// notify:operator, notify:admin; others are ignored), or 0 for none.
func highestRole(values []string) Role {
	var best Role
	for _, v := range values {
		if len(v) <= len(RolePrefix) || !strings.EqualFold(v[:len(RolePrefix)], RolePrefix) {
			continue
		}
		if r, err := ParseRole(v[len(RolePrefix):]); err == nil && r > best {
			best = r
		}
	}
	return best
}
