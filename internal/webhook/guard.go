package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Destinations (README, "Webhooks"; docs/design.md, "Webhooks"): a mailing's
// webhookUrl is written by API callers, so the service must not become their
// way into the network it runs in (cloud metadata at 169.254.169.254, the
// database, River's UI on loopback). Its requests connect only to public
// addresses: the check runs in the dialer, on the address actually being
// connected to, after name resolution, so a name that resolves to loopback,
// or resolves differently at each lookup (DNS rebinding), is caught too. No
// redirect is followed, and these requests use no proxy (a proxy would be
// the address checked, not the receiver). WEBHOOK_ALLOW_PRIVATE=true lifts
// the check; WEBHOOK_URL, which the operator sets, is trusted and never
// checked.

// ErrRefused is the error of an attempt whose destination is not a public
// address: the delivery fails at once, without retries.
var ErrRefused = errors.New("webhook destination refused")

// RefusedError is the error of a connection refused by the destination
// check: which address, and why.
type RefusedError struct {
	// Host is the URL's host, when it is a name.
	Host string
	Addr netip.Addr
	// Why is what kind of address it is ("a loopback address").
	Why string
}

// Error says what was refused and why, and how to allow it.
func (e *RefusedError) Error() string {
	what := e.Addr.String()
	if e.Host != "" && e.Host != what {
		what = e.Host + " resolves to " + what + ","
	} else {
		what += " is"
	}
	return fmt.Sprintf("refused: %s %s; a mailing's webhookUrl must reach a public address (WEBHOOK_ALLOW_PRIVATE=true allows others)", what, e.Why)
}

// Is makes errors.Is(err, ErrRefused) hold.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Special-purpose ranges refused besides those netip.Addr classifies (IANA's
// special-purpose address registries, RFC 6890): none reaches a receiver on
// the internet, and some reach the provider's own services (100.100.100.200
// is a cloud's metadata address).
var refusedPrefixes = []struct {
	prefix netip.Prefix
	why    string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "a \"this network\" address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (carrier-grade NAT) address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
	{netip.MustParsePrefix("::/96"), "an IPv4-compatible address"},
}

// IPv6 ranges that carry an IPv4 address, which is checked in turn: NAT64
// (RFC 6052, RFC 8215) and 6to4 (RFC 3056).
var (
	nat64     = []netip.Prefix{netip.MustParsePrefix("64:ff9b::/96"), netip.MustParsePrefix("64:ff9b:1::/48")}
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// Forbidden returns why addr may not be connected to for a mailing's
// webhookUrl ("a loopback address"), or "" when it is a public address.
func Forbidden(addr netip.Addr) string {
	addr = addr.Unmap().WithZone("")
	switch {
	case !addr.IsValid():
		return "not an IP address"
	case addr.IsUnspecified():
		return "an unspecified address"
	case addr.IsLoopback():
		return "a loopback address"
	case addr.IsPrivate():
		return "a private address"
	case addr.IsLinkLocalUnicast():
		return "a link-local address"
	case addr.IsMulticast():
		return "a multicast address"
	}
	for _, p := range refusedPrefixes {
		if p.prefix.Contains(addr) {
			return p.why
		}
	}
	b := addr.As16()
	for _, p := range nat64 {
		if p.Contains(addr) {
			if why := Forbidden(netip.AddrFrom4([4]byte(b[12:16]))); why != "" {
				return "a NAT64 address of " + why
			}
		}
	}
	if sixToFour.Contains(addr) {
		if why := Forbidden(netip.AddrFrom4([4]byte(b[2:6]))); why != "" {
			return "a 6to4 address of " + why
		}
	}
	return ""
}

// checkDial is a net.Dialer's Control: it runs for every connection
// attempt, with the resolved address, before connecting.
func checkDial(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Why: fmt.Sprintf("not an address to connect to (%s %q)", network, address)}
	}
	if why := Forbidden(ap.Addr()); why != "" {
		return &RefusedError{Addr: ap.Addr().Unmap(), Why: why}
	}
	return nil
}

// newClient returns the HTTP client of webhook requests: no redirect
// followed (a 3xx is a failed attempt); guarded, only public addresses
// connected to, directly (HTTP_PROXY would be the address checked);
// otherwise through the environment's proxy, as before the check.
func newClient(guarded bool) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	proxy := http.ProxyFromEnvironment
	if guarded {
		dialer.Control = checkDial
		proxy = nil
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 proxy,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
