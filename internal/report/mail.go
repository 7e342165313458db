package report

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// smtpTimeout bounds connecting to the SMTP server and each exchange with
// it; the River job's timeout (a minute) leaves room for a slow attempt.
const smtpTimeout = 15 * time.Second

// mailer sends report emails through one SMTP server.
type mailer struct {
	host   string
	server string // host:port, for errors and logs (never the credentials)
	opts   []gomail.Option
	from   string
	to     []string
}

// newMailer reads SMTP_URL:
//
//	smtp://[user[:pass]@]host[:port][?tls=mandatory|opportunistic|none]
//	smtps://[user[:pass]@]host[:port]
//
// smtp:// speaks STARTTLS: required by default (tls=mandatory, alias
// tls=starttls), used when the
// server offers it (tls=opportunistic), or never (tls=none, for a relay on
// localhost). Its port defaults to 587. smtps:// is TLS from the first byte
// (implicit TLS), port 465 by default. With a user, the client
// authenticates with the strongest mechanism the server offers. Errors name
// SMTP_URL and never echo the password.
func newMailer(rawURL, from string, to []string) (*mailer, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("SMTP_URL: not a URL (want smtp://user:pass@host:587 or smtps://host:465)")
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("SMTP_URL: no host (want smtp://user:pass@host:587 or smtps://host:465)")
	}
	if len(to) == 0 {
		return nil, fmt.Errorf("REPORT_TO: required when SMTP_URL is set")
	}
	if _, err := mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("REPORT_FROM: %q is not an email address", from)
	}
	m := &mailer{host: u.Hostname(), from: from, to: to}
	opts := []gomail.Option{gomail.WithTimeout(smtpTimeout)}

	port := 0
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("SMTP_URL: bad port %q", p)
		}
	}
	q := u.Query()
	for k := range q {
		if k != "tls" {
			return nil, fmt.Errorf("SMTP_URL: unknown parameter %q (only tls is known)", k)
		}
	}
	switch u.Scheme {
	case "smtp":
		port = cmpPort(port, 587)
		switch strings.ToLower(q.Get("tls")) {
		case "", "mandatory", "starttls":
			opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
		case "opportunistic":
			opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
		case "none":
			opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		default:
			return nil, fmt.Errorf("SMTP_URL: tls must be mandatory, opportunistic or none, got %q", q.Get("tls"))
		}
	case "smtps":
		port = cmpPort(port, 465)
		if q.Has("tls") {
			return nil, fmt.Errorf("SMTP_URL: smtps:// is always TLS; tls= applies to smtp:// only")
		}
		opts = append(opts, gomail.WithSSL())
	default:
		return nil, fmt.Errorf("SMTP_URL: scheme must be smtp or smtps, got %q", u.Scheme)
	}
	opts = append(opts, gomail.WithPort(port))
	m.server = u.Hostname() + ":" + strconv.Itoa(port)

	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(user),
			gomail.WithPassword(pass))
	}
	m.opts = opts
	// Fail at start, not at the first report, on options go-mail refuses.
	if _, err := gomail.NewClient(m.host, m.opts...); err != nil {
		return nil, fmt.Errorf("SMTP_URL: %w", err)
	}
	return m, nil
}

func cmpPort(port, def int) int {
	if port == 0 {
		return def
	}
	return port
}

// send emails rep as multipart/alternative (text, then HTML) and returns the
// Message-ID used. messageKey, when set, makes the Message-ID stable
// (<messageKey@sender's domain>); otherwise a random one is made.
func (m *mailer) send(ctx context.Context, rep *Report, messageKey string) (string, error) {
	msg := gomail.NewMsg()
	if err := msg.From(m.from); err != nil {
		return "", fmt.Errorf("bad REPORT_FROM: %w", err)
	}
	if err := msg.To(m.to...); err != nil {
		return "", fmt.Errorf("bad REPORT_TO: %w", err)
	}
	msg.Subject(rep.Subject)
	if messageKey == "" {
		messageKey = "daily-report-" + rep.Date.Format(time.DateOnly) + "." + strings.ToLower(rand.Text())
	}
	messageID := messageKey + "@" + domainOf(m.from)
	msg.SetMessageIDWithValue(messageID)
	msg.SetDate()
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated") // RFC 3834: no auto-replies
	msg.SetBodyString(gomail.TypeTextPlain, rep.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, rep.HTML)

	client, err := gomail.NewClient(m.host, m.opts...)
	if err != nil {
		return "", err
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return "", err
	}
	return "<" + messageID + ">", nil
}

// domainOf returns the domain of an email address ("notify.local" without one).
func domainOf(addr string) string {
	if a, err := mail.ParseAddress(addr); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
			return a.Address[i+1:]
		}
	}
	return "notify.local"
}
