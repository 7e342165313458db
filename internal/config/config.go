// Package config loads the service's configuration from environment
// variables (README, "Configuration"), once, with defaults, and validates it so that a bad
// value stops the start with one line naming the variable.
package config

import (
	"cmp"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/notifyhq/notify/internal/auth"
	"github.com/notifyhq/notify/internal/webhook"
)

// Config is the whole configuration of the service.
type Config struct {
	DatabaseURL       string        // DATABASE_URL: postgres://… or sqlite:PATH; "" is ./data/notify.db
	ListenAddr        string        // LISTEN_ADDR, default :8080
	SenderURL         string        // SENDER_URL; "" runs the bundled fake sender in-process
	SenderToken       string        // SENDER_TOKEN
	SenderTimeout     time.Duration // SENDER_TIMEOUT, default 10s
	SenderConcurrency int           // SENDER_CONCURRENCY, default 64
	SenderMaxRPS      float64       // SENDER_MAX_RPS, default 0 (off)
	SenderClusterRPS  int           // SENDER_MAX_RPS_CLUSTER, default 0 (off): requests per second of all instances together
	SMTPURL           string        // SMTP_URL: smtp://user:pass@host:port or smtps://…
	ReportTo          []string      // REPORT_TO, comma-separated addresses
	ReportFrom        string        // REPORT_FROM
	ReportCron        string        // REPORT_CRON, default "CRON_TZ=UTC 0 8 * * *"
	APITokens         []auth.Token  // API_TOKENS, comma-separated name:role:token (or bare admin tokens); empty = open
	AuthRequired      bool          // AUTH_REQUIRED: refuse to start without credentials (API_TOKENS or OIDC_ISSUER)
	OIDCIssuer        string        // OIDC_ISSUER: bearer JWTs of this OpenID Connect provider are accepted (README, "Security", "OIDC")
	OIDCAudience      string        // OIDC_AUDIENCE: the aud the JWTs must carry; required with OIDC_ISSUER
	OIDCRolesClaim    string        // OIDC_ROLES_CLAIM, default "roles": the claim with notify:viewer|operator|admin
	OIDCClientID      string        // OIDC_CLIENT_ID: the UI's public client (documented and checked here, not used by the server)
	MaxBodyBytes      int64         // MAX_BODY_BYTES, default 1 MiB: the largest request body to /query and REST
	OperationTimeout  time.Duration // OPERATION_TIMEOUT, default 30s: deadline of an API query or mutation, and Postgres statement_timeout of the API's queries
	CORSOrigins       []string      // CORS_ORIGINS, comma-separated origins (or *)
	Introspection     bool          // GRAPHQL_INTROSPECTION, default true
	MetricsAuth       bool          // METRICS_AUTH, default false
	MigrateOnStart    bool          // MIGRATE_ON_START, default true
	ShutdownTimeout   time.Duration // SHUTDOWN_TIMEOUT, default 30s
	AuditRetention    time.Duration // AUDIT_RETENTION, default 0 (off): audit entries older than this are pruned
	WebhookURL        string        // WEBHOOK_URL: the receiver of lifecycle events (README, "Webhooks"); "" for none
	WebhookSecret     string        // WEBHOOK_SECRET: whsec_… signing secret; webhooks are off without it
	WebhookPrivate    bool          // WEBHOOK_ALLOW_PRIVATE, default false: a mailing's webhookUrl may reach loopback, private and link-local addresses (WEBHOOK_URL always may)
	LogLevel          slog.Level    // LOG_LEVEL, default info
	LogFormat         string        // LOG_FORMAT: json (default) or text
}

// DefaultReportCron sends the daily report at 08:00 UTC.
const DefaultReportCron = "CRON_TZ=UTC 0 8 * * *"

// Load reads the configuration through getenv (os.Getenv in production).
// The error names the offending variable.
func Load(getenv func(string) string) (Config, error) {
	var (
		c    Config
		errs []error
	)
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	duration := func(name string, def time.Duration) time.Duration {
		v := get(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be a positive duration such as 10s, got %q", name, v))
		}
		return d
	}
	boolean := func(name string, def bool) bool {
		v := get(name)
		if v == "" {
			return def
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: must be true or false, got %q", name, v))
		}
		return b
	}
	list := func(name string) []string {
		var out []string
		for _, s := range strings.Split(get(name), ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}

	c.DatabaseURL = get("DATABASE_URL")
	c.ListenAddr = cmp.Or(get("LISTEN_ADDR"), ":8080")
	c.SenderURL = get("SENDER_URL")
	c.SenderToken = get("SENDER_TOKEN")
	c.SenderTimeout = duration("SENDER_TIMEOUT", 10*time.Second)
	c.SenderConcurrency = 64
	if v := get("SENDER_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100000 {
			errs = append(errs, fmt.Errorf("SENDER_CONCURRENCY: must be a whole number from 1 to 100000, got %q", v))
		}
		c.SenderConcurrency = n
	}
	if v := get("SENDER_MAX_RPS"); v != "" && v != "off" && v != "0" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			errs = append(errs, fmt.Errorf("SENDER_MAX_RPS: must be a positive number of requests per second, or off, got %q", v))
		}
		c.SenderMaxRPS = f
	}
	if v := get("SENDER_MAX_RPS_CLUSTER"); v != "" && v != "off" && v != "0" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000000 {
			errs = append(errs, fmt.Errorf("SENDER_MAX_RPS_CLUSTER: must be a whole number of requests per second from 1 to 1000000, or off, got %q", v))
		}
		c.SenderClusterRPS = n
	}
	c.SMTPURL = get("SMTP_URL")
	c.ReportTo = list("REPORT_TO")
	c.ReportFrom = get("REPORT_FROM")
	c.ReportCron = cmp.Or(get("REPORT_CRON"), DefaultReportCron)
	tokens, err := auth.ParseTokens(list("API_TOKENS"))
	if err != nil {
		errs = append(errs, fmt.Errorf("API_TOKENS: %v", err))
	}
	c.APITokens = tokens
	c.AuthRequired = boolean("AUTH_REQUIRED", false)
	c.OIDCIssuer = get("OIDC_ISSUER")
	c.OIDCAudience = get("OIDC_AUDIENCE")
	c.OIDCRolesClaim = cmp.Or(get("OIDC_ROLES_CLAIM"), auth.DefaultRolesClaim)
	c.OIDCClientID = get("OIDC_CLIENT_ID")
	c.MaxBodyBytes = 1 << 20
	if v := get("MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 || n > 1<<30 {
			errs = append(errs, fmt.Errorf("MAX_BODY_BYTES: must be a whole number of bytes from 1024 to 1073741824, got %q", v))
		}
		c.MaxBodyBytes = n
	}
	c.OperationTimeout = duration("OPERATION_TIMEOUT", 30*time.Second)
	c.CORSOrigins = list("CORS_ORIGINS")
	c.Introspection = boolean("GRAPHQL_INTROSPECTION", true)
	c.MetricsAuth = boolean("METRICS_AUTH", false)
	c.MigrateOnStart = boolean("MIGRATE_ON_START", true)
	c.ShutdownTimeout = duration("SHUTDOWN_TIMEOUT", 30*time.Second)
	if v := get("AUDIT_RETENTION"); v != "off" {
		c.AuditRetention = duration("AUDIT_RETENTION", 0)
	}
	c.WebhookURL = get("WEBHOOK_URL")
	c.WebhookSecret = get("WEBHOOK_SECRET")
	c.WebhookPrivate = boolean("WEBHOOK_ALLOW_PRIVATE", false)
	if err := c.LogLevel.UnmarshalText([]byte(cmp.Or(get("LOG_LEVEL"), "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: must be debug, info, warn or error, got %q", get("LOG_LEVEL")))
	}
	c.LogFormat = strings.ToLower(cmp.Or(get("LOG_FORMAT"), "json"))

	if len(errs) > 0 {
		return c, errs[0]
	}
	return c, c.validate()
}

// validate checks the values that depend on each other or need parsing.
func (c Config) validate() error {
	switch {
	case c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "sqlite:") &&
		!strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://"):
		// Not quoted: the value may hold a password.
		return fmt.Errorf("DATABASE_URL: must be postgres://… or sqlite:PATH")
	case c.AuthRequired && len(c.APITokens) == 0 && c.OIDCIssuer == "":
		return fmt.Errorf("AUTH_REQUIRED: the API must not start open, and no credentials are configured: set API_TOKENS or OIDC_ISSUER")
	case c.LogFormat != "json" && c.LogFormat != "text":
		return fmt.Errorf("LOG_FORMAT: must be json or text, got %q", c.LogFormat)
	}
	if err := c.validateOIDC(); err != nil {
		return err
	}
	if c.SenderURL != "" {
		u, err := url.Parse(c.SenderURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("SENDER_URL: must be an http(s) URL such as https://probe.example/api")
		}
	}
	if strings.HasPrefix(c.DatabaseURL, "postgres") {
		if _, err := url.Parse(c.DatabaseURL); err != nil {
			return fmt.Errorf("DATABASE_URL: not a valid URL") // url.Parse's error would quote the password
		}
	}
	if err := c.validateWebhooks(); err != nil {
		return err
	}
	if c.SMTPURL != "" {
		u, err := url.Parse(c.SMTPURL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			return fmt.Errorf("SMTP_URL: must look like smtp://user:pass@host:587 or smtps://host:465")
		}
		if len(c.ReportTo) == 0 {
			return fmt.Errorf("REPORT_TO: required when SMTP_URL is set")
		}
		if c.ReportFrom == "" {
			return fmt.Errorf("REPORT_FROM: required when SMTP_URL is set")
		}
	}
	for _, a := range c.ReportTo {
		if _, err := mail.ParseAddress(a); err != nil {
			return fmt.Errorf("REPORT_TO: %q is not an email address", a)
		}
	}
	if c.ReportFrom != "" {
		if _, err := mail.ParseAddress(c.ReportFrom); err != nil {
			return fmt.Errorf("REPORT_FROM: %q is not an email address", c.ReportFrom)
		}
	}
	if _, err := cron.ParseStandard(c.ReportCron); err != nil {
		return fmt.Errorf("REPORT_CRON: %v", err)
	}
	return nil
}

// validateOIDC checks the OIDC_* variables: the issuer is an http(s) URL
// without query or fragment, the audience comes with it, and the audience
// and client id are not set without it (a misspelt OIDC_ISSUER would
// otherwise leave OIDC silently off).
func (c Config) validateOIDC() error {
	if c.OIDCIssuer == "" {
		switch {
		case c.OIDCAudience != "":
			return fmt.Errorf("OIDC_AUDIENCE: set without OIDC_ISSUER")
		case c.OIDCClientID != "":
			return fmt.Errorf("OIDC_CLIENT_ID: set without OIDC_ISSUER")
		}
		return nil
	}
	u, err := url.Parse(c.OIDCIssuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("OIDC_ISSUER: must be the provider's issuer URL, such as https://id.example.com/realms/notify, got %q", c.OIDCIssuer)
	}
	if c.OIDCAudience == "" {
		return fmt.Errorf("OIDC_AUDIENCE: required with OIDC_ISSUER (the aud the provider puts in tokens for this API)")
	}
	if strings.ContainsAny(c.OIDCRolesClaim, " ,") {
		return fmt.Errorf("OIDC_ROLES_CLAIM: must be one claim name (or a dotted path), got %q", c.OIDCRolesClaim)
	}
	if strings.ContainsAny(c.OIDCClientID, " ,") {
		return fmt.Errorf("OIDC_CLIENT_ID: must be one client id, got %q", c.OIDCClientID)
	}
	return nil
}

// validateWebhooks checks WEBHOOK_URL (an http(s) URL, with a secret to
// sign with) and WEBHOOK_SECRET (whsec_ and base64). Neither value is
// quoted: the URL may hold a token.
func (c Config) validateWebhooks() error {
	if c.WebhookURL != "" {
		u, err := url.Parse(c.WebhookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("WEBHOOK_URL: must be an http(s) URL such as https://hooks.example/notify")
		}
		if c.WebhookSecret == "" {
			return fmt.Errorf("WEBHOOK_SECRET: required with WEBHOOK_URL (events are signed with it): whsec_ and the base64 of 24 to 64 random bytes")
		}
	}
	if c.WebhookSecret != "" {
		if err := webhook.CheckSecret(c.WebhookSecret); err != nil {
			return fmt.Errorf("WEBHOOK_SECRET: %v", err)
		}
	}
	return nil
}

// ReportEnabled reports whether the daily report email can be sent.
func (c Config) ReportEnabled() bool { return c.SMTPURL != "" }

// Secrets returns the values of the configuration that must never be
// printed: the passwords of DATABASE_URL, SMTP_URL and WEBHOOK_URL, the API
// and sender tokens, WEBHOOK_SECRET. Errors on their way out pass through Redact with them.
func (c Config) Secrets() []string {
	var out []string
	for _, raw := range []string{c.DatabaseURL, c.SMTPURL} {
		if u, err := url.Parse(raw); err == nil && u.User != nil {
			if p, ok := u.User.Password(); ok && p != "" {
				out = append(out, p, url.QueryEscape(p), url.PathEscape(p))
			}
		}
	}
	for _, t := range c.APITokens {
		out = append(out, t.Secret)
	}
	if c.SenderToken != "" {
		out = append(out, c.SenderToken)
	}
	if c.WebhookSecret != "" {
		out = append(out, c.WebhookSecret, strings.TrimPrefix(c.WebhookSecret, "whsec_"))
	}
	if u, err := url.Parse(c.WebhookURL); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Redact returns s with every secret replaced by "xxxxx".
func Redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 3 {
			s = strings.ReplaceAll(s, sec, "xxxxx")
		}
	}
	return s
}
