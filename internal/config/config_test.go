package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func load(env map[string]string) (Config, error) {
	return Load(func(k string) string { return env[k] })
}

// TestAuthRequired: AUTH_REQUIRED=true refuses to start without credentials.
func TestAuthRequired(t *testing.T) {
	t.Parallel()
	_, err := load(map[string]string{"AUTH_REQUIRED": "true"})
	require.ErrorContains(t, err, "AUTH_REQUIRED")
	require.ErrorContains(t, err, "API_TOKENS")
	c, err := load(map[string]string{"AUTH_REQUIRED": "true", "API_TOKENS": "a-token-of-enough-length"})
	require.NoError(t, err)
	require.True(t, c.AuthRequired)
	c, err = load(nil)
	require.NoError(t, err)
	require.False(t, c.AuthRequired, "open by default, with a warning")

	// An OIDC provider is credentials too.
	c, err = load(map[string]string{"AUTH_REQUIRED": "true", "OIDC_ISSUER": "https://id.example.com", "OIDC_AUDIENCE": "notify-api"})
	require.NoError(t, err)
	require.Equal(t, "roles", c.OIDCRolesClaim)
	_, err = load(map[string]string{"AUTH_REQUIRED": "true"})
	require.ErrorContains(t, err, "OIDC_ISSUER")
}

// TestOIDCConfig: the OIDC variables and the rules that bind them.
func TestOIDCConfig(t *testing.T) {
	t.Parallel()
	c, err := load(map[string]string{"OIDC_ISSUER": "https://id.example.com/realms/notify", "OIDC_AUDIENCE": "notify-api",
		"OIDC_ROLES_CLAIM": "realm_access.roles", "OIDC_CLIENT_ID": "notify-ui"})
	require.NoError(t, err)
	require.Equal(t, "https://id.example.com/realms/notify", c.OIDCIssuer)
	require.Equal(t, "notify-api", c.OIDCAudience)
	require.Equal(t, "realm_access.roles", c.OIDCRolesClaim)
	require.Equal(t, "notify-ui", c.OIDCClientID)
	for want, env := range map[string]map[string]string{
		"OIDC_AUDIENCE: required":           {"OIDC_ISSUER": "https://id.example.com"},
		"OIDC_ISSUER: must be":              {"OIDC_ISSUER": "id.example.com", "OIDC_AUDIENCE": "a"},
		"OIDC_AUDIENCE: set without":        {"OIDC_AUDIENCE": "a"},
		"OIDC_CLIENT_ID: set without":       {"OIDC_CLIENT_ID": "a"},
		"OIDC_ROLES_CLAIM: must be one":     {"OIDC_ISSUER": "https://id.example.com", "OIDC_AUDIENCE": "a", "OIDC_ROLES_CLAIM": "a b"},
		"OIDC_ISSUER: must be the provider": {"OIDC_ISSUER": "ftp://id.example.com", "OIDC_AUDIENCE": "a"},
	} {
		_, err := load(env)
		require.ErrorContains(t, err, want, "%v", env)
	}
}

// TestLimitsAndTimeouts: defaults and bad values of the new settings.
func TestLimitsAndTimeouts(t *testing.T) {
	t.Parallel()
	c, err := load(nil)
	require.NoError(t, err)
	require.Equal(t, int64(1<<20), c.MaxBodyBytes)
	require.Equal(t, "30s", c.OperationTimeout.String())
	for name, env := range map[string]map[string]string{
		"MAX_BODY_BYTES":    {"MAX_BODY_BYTES": "12"},
		"OPERATION_TIMEOUT": {"OPERATION_TIMEOUT": "soon"},
	} {
		_, err := load(env)
		require.ErrorContains(t, err, name)
	}
	c, err = load(map[string]string{"MAX_BODY_BYTES": "65536", "OPERATION_TIMEOUT": "5s"})
	require.NoError(t, err)
	require.Equal(t, int64(65536), c.MaxBodyBytes)
	require.Equal(t, "5s", c.OperationTimeout.String())
}

// TestNoPasswordInErrors: a bad DATABASE_URL is named, never quoted; Redact
// takes the secrets out of any message.
func TestNoPasswordInErrors(t *testing.T) {
	t.Parallel()
	for _, url := range []string{
		"postgress://notify:hunter2-secret@db:5432/notify",
		"postgres://notify:hunter2-secret@db:5432/notify\x7f",
		"mysql://notify:hunter2-secret@db/notify",
	} {
		_, err := load(map[string]string{"DATABASE_URL": url})
		require.ErrorContains(t, err, "DATABASE_URL")
		require.NotContains(t, err.Error(), "hunter2")
	}
	c, err := load(map[string]string{
		"DATABASE_URL": "postgres://notify:hunter2-secret@db:5432/notify",
		"API_TOKENS":   "token-one-0123456789,token-two-0123456789",
		"SENDER_TOKEN": "sender-secret-123",
	})
	require.NoError(t, err)
	msg := `dial postgres://notify:hunter2-secret@db: token-one-0123456789 sender-secret-123`
	got := Redact(msg, c.Secrets())
	for _, s := range []string{"hunter2", "token-one", "sender-secret"} {
		require.NotContains(t, got, s)
	}
	require.Contains(t, got, "postgres://notify:xxxxx@db")
}

// TestAPITokens: API_TOKENS entries are parsed at start; a bad one stops
// it with a line naming the variable and the entry, not the token.
func TestAPITokens(t *testing.T) {
	t.Parallel()
	c, err := load(map[string]string{"API_TOKENS": "vera:viewer:viewer-token-0123456789, bare-admin-token-0123456789"})
	require.NoError(t, err)
	require.Len(t, c.APITokens, 2)
	_, err = load(map[string]string{"API_TOKENS": "ok:admin:admin-token-0123456789,ops:operator:tooshort"})
	require.ErrorContains(t, err, `API_TOKENS: entry 2 ("ops"): the token is shorter than 16 characters`)
	require.NotContains(t, err.Error(), "tooshort")
}

// TestWebhookAllowPrivate: a mailing's webhookUrl reaches only public
// addresses by default; WEBHOOK_ALLOW_PRIVATE=true lifts that, and a value
// that is not a boolean stops the start naming the variable.
func TestWebhookAllowPrivate(t *testing.T) {
	t.Parallel()
	c, err := load(nil)
	require.NoError(t, err)
	require.False(t, c.WebhookPrivate)
	c, err = load(map[string]string{"WEBHOOK_ALLOW_PRIVATE": "true"})
	require.NoError(t, err)
	require.True(t, c.WebhookPrivate)
	_, err = load(map[string]string{"WEBHOOK_ALLOW_PRIVATE": "yes please"})
	require.ErrorContains(t, err, "WEBHOOK_ALLOW_PRIVATE: must be true or false")
}
