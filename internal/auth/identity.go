package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/notifyhq/notify/internal/requestlog"
)

// Role is what a caller may do; each role may do everything the roles
// before it may (README, "Security").
type Role int

const (
	// Viewer reads: queries, subscriptions, REST GETs, report previews.
	Viewer Role = iota + 1
	// Operator also creates and changes clients and mailings and drives
	// their lifecycle.
	Operator
	// Admin also deletes, sends the daily report, reads the audit log and
	// opens River's UI (and /metrics with METRICS_AUTH).
	Admin
)

// ParseRole parses a role's name: viewer, operator or admin.
func ParseRole(s string) (Role, error) {
	switch strings.ToLower(s) {
	case "viewer":
		return Viewer, nil
	case "operator":
		return Operator, nil
	case "admin":
		return Admin, nil
	}
	return 0, fmt.Errorf("unknown role %q (want viewer, operator or admin)", s)
}

// String returns the role's name.
func (r Role) String() string {
	switch r {
	case Viewer:
		return "viewer"
	case Operator:
		return "operator"
	case Admin:
		return "admin"
	case 0:
		return "no role" // an OIDC token without a notify role (oidc.go)
	}
	return "role(?)"
}

// Principal is who made a request: the name of its token (or, for an OIDC
// JWT, "sub (name)"), and its role (0 for a JWT without a notify role).
type Principal struct {
	Name string
	Role Role
}

// Can reports whether p may do what needs role need.
func (p *Principal) Can(need Role) bool { return p != nil && p.Role >= need }

// MinTokenLength is the shortest API token accepted: shorter ones can be
// guessed.
const MinTokenLength = 16

// Token is one entry of API_TOKENS.
type Token struct {
	Name   string
	Role   Role
	Secret string
}

// ParseTokens parses the entries of API_TOKENS: "name:role:token", or a
// bare "token", which is an admin token named "token-<n>" (n counts the
// entries from 1). The error names the entry by its position and name,
// never by its token.
func ParseTokens(entries []string) ([]Token, error) {
	var out []Token
	names := map[string]bool{}
	for i, e := range entries {
		t := Token{Name: fmt.Sprintf("token-%d", i+1), Role: Admin, Secret: e}
		if parts := strings.SplitN(e, ":", 3); len(parts) == 3 {
			role, err := ParseRole(parts[1])
			if err != nil {
				return nil, fmt.Errorf("entry %d (%q): %v", i+1, parts[0], err)
			}
			t = Token{Name: parts[0], Role: role, Secret: parts[2]}
			if t.Name == "" {
				return nil, fmt.Errorf("entry %d: the name is empty (want name:role:token)", i+1)
			}
		} else if strings.Contains(e, ":") {
			return nil, fmt.Errorf("entry %d: want name:role:token or a bare token", i+1)
		}
		if len(t.Secret) < MinTokenLength {
			return nil, fmt.Errorf("entry %d (%q): the token is shorter than %d characters", i+1, t.Name, MinTokenLength)
		}
		if names[t.Name] {
			return nil, fmt.Errorf("entry %d: the name %q is used twice", i+1, t.Name)
		}
		names[t.Name] = true
		out = append(out, t)
	}
	return out, nil
}

// principalKey holds the Principal of a request context.
type principalKey struct{}

// WithPrincipal returns ctx carrying p. Only the guard's checks (Wrap,
// WebsocketInit) and tests call it.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the Principal of ctx, or nil when the request
// presented no valid credentials (or auth is off).
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// setActor names p on the request's access log line.
func setActor(ctx context.Context, p *Principal) {
	if p != nil {
		requestlog.SetActor(ctx, p.Name)
	}
}
