package campaign

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// FuzzWebhookURL: a mailing's webhook receiver is accepted only as an http
// or https URL with a host, no user name or password and a valid port, of at
// most 2,048 characters, and only while webhooks are on; anything else is an
// error on webhookUrl, never a panic.
func FuzzWebhookURL(f *testing.F) {
	for _, s := range []string{"https://hooks.example/n", "http://127.0.0.1:8080/h?k=v", "ftp://x", "https://", "not a url", "", "https://x/" + strings.Repeat("a", 2048), "HTTPS://X.EXAMPLE", "http://[::1", "\x00",
		"https://u:p@hooks.example/n", "https://u@hooks.example/n", "http://:80/", "http://x:0/", "http://x:65536/", "http://x:99999999999999999999/", "file:///etc/passwd", "gopher://x/", "http:opaque", "http://169.254.169.254/latest/meta-data/"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, on bool) {
		v := &ValidationError{}
		checkWebhookURL(v, &raw, on)
		accepted := v.err() == nil
		for _, fe := range v.Fields {
			if fe.Field != "webhookUrl" {
				t.Fatalf("error on %q", fe.Field)
			}
		}
		if !accepted {
			return
		}
		u, err := url.Parse(raw)
		if !on || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || len(raw) > 2048 {
			t.Fatalf("accepted %q (webhooks on: %v)", raw, on)
		}
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				t.Fatalf("accepted %q with port %q", raw, p)
			}
		}
	})
}
