package e2e

// Client-certificate authentication that cannot be bypassed (issue 13, items 1 and 2). Requests are
// routed by their Host header while the client certificate is checked in the TLS handshake of the
// connection's SNI name: these tests try every way of separating the two (another host's SNI, no
// SNI, a session resumed under another name, another namespace's settings for the same
// certificate) and check that each is refused, while legitimate clients pass.

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// anySNISessions is a TLS session cache that offers its last session whatever the server name: a
// session made under one SNI name is resumed under another, as an attacker would try.
type anySNISessions struct {
	mu   sync.Mutex
	last *tls.ClientSessionState
}

func (c *anySNISessions) Get(string) (*tls.ClientSessionState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last, c.last != nil
}

func (c *anySNISessions) Put(_ string, s *tls.ClientSessionState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s != nil {
		c.last = s
	}
}

// mtlsReply is what a client of clientGet saw.
type mtlsReply struct {
	status  int
	echo    string
	body    string
	resumed bool // the TLS session was resumed
}

func (r mtlsReply) String() string {
	return fmt.Sprintf("status %d from echo %q (resumed %t): %q", r.status, r.echo, r.resumed, r.body)
}

// clientGet sends GET / over HTTPS to the controller with sni as TLS server name ("" for none)
// and host as Host header, over TLS 1.3, one connection per request; sessions go to and come from
// cache when it is not nil. See clientGetPath.
func clientGet(c *framework.Controller, sni, host string, cert *framework.Certificate, cache tls.ClientSessionCache) (mtlsReply, error) {
	return clientGetPath(c, sni, host, "/", cert, cache)
}

// clientGetPath is clientGet for path. When the server asks for a client certificate, it presents
// cert (none if nil) whatever CAs the server names: Go's client would keep back a certificate
// that none of them issued, an attacker would not.
func clientGetPath(c *framework.Controller, sni, host, path string, cert *framework.Certificate, cache tls.ClientSessionCache) (mtlsReply, error) {
	var r mtlsReply
	cfg := &tls.Config{
		ServerName:         sni,
		MinVersion:         tls.VersionTLS13,
		ClientSessionCache: cache,
		InsecureSkipVerify: true, //nolint:gosec // G402: the tests are about the client's certificate, not the server's
		VerifyConnection: func(cs tls.ConnectionState) error {
			r.resumed = cs.DidResume
			return nil
		},
	}
	if cert != nil {
		pair, err := tls.X509KeyPair(cert.CertPEM, cert.KeyPEM)
		if err != nil {
			return r, err
		}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
	}
	client := &http.Client{
		Timeout:       3 * time.Second,
		Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true, TLSClientConfig: cfg},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequest(http.MethodGet, "https://127.0.0.1:"+strconv.Itoa(c.HTTPSPort)+path, nil)
	if err != nil {
		return r, err
	}
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		return r, fmt.Errorf("GET %s (SNI %q, Host %s): %w", path, sni, host, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r.status, r.echo, r.body = resp.StatusCode, resp.Header.Get(framework.EchoNameHeader), string(body)
	return r, nil
}

// expectServed waits until the client gets 200 from echo.
func expectServed(t *testing.T, c *framework.Controller, sni, host string, cert *framework.Certificate, echo string) {
	t.Helper()
	framework.Eventually(t, framework.RouteTimeout, func() error {
		r, err := clientGet(c, sni, host, cert, nil)
		if err != nil {
			return err
		}
		if r.status != http.StatusOK || r.echo != echo {
			return fmt.Errorf("SNI %q, Host %s: %s, want 200 from %q", sni, host, r, echo)
		}
		return nil
	})
}

// expectStatus checks that the client gets status from haproxy itself (no echo).
func expectStatus(t *testing.T, c *framework.Controller, what, sni, host string, cert *framework.Certificate, status int) {
	t.Helper()
	r, err := clientGet(c, sni, host, cert, nil)
	switch {
	case err != nil:
		t.Errorf("%s: %v, want status %d", what, err, status)
	case r.status != status || r.echo != "":
		t.Errorf("%s: %s, want %d from haproxy", what, r, status)
	}
}

// expectHandshakeRefused checks that the TLS handshake fails: the client certificate is missing or
// not signed by the CA of the SNI name's line.
func expectHandshakeRefused(t *testing.T, c *framework.Controller, what, sni, host string, cert *framework.Certificate) {
	t.Helper()
	if r, err := clientGet(c, sni, host, cert, nil); err == nil {
		t.Errorf("%s: %s, want a failed handshake", what, r)
	}
}

// TestClientCertBypassesAreRefused: a host that requires client certificates (secure) and one
// where they are optional (portal) share a certificate and a CA with a host without client
// authentication (open). No client reaches secure's or portal's backend without the check of its
// own host's TLS handshake: not with another host's SNI, not without SNI, not by resuming a session
// made for another host.
func TestClientCertBypassesAreRefused(t *testing.T) {
	t.Parallel()
	ns, c := startRouting(t)
	for _, name := range []string{"secure", "portal", "open"} {
		framework.EchoService(t, ns, name, framework.StartEcho(t, name))
	}
	site := framework.SelfSigned(t, "secure.cc.example", "portal.cc.example", "open.cc.example")
	clients := framework.SelfSigned(t, "clients-ca") // self-signed: its own CA, and a client's certificate
	stranger := framework.SelfSigned(t, "stranger")
	framework.CreateSecret(t, framework.TLSSecret(ns, "site-tls", site.CertPEM, site.KeyPEM))
	framework.CreateSecret(t, caSecret(ns, "clients", clients))
	secure := withTLS(framework.Ingress(ns, "secure", ns, framework.Rule("secure.cc.example", framework.Prefix("/", "secure"))), "site-tls", "secure.cc.example")
	secure.Annotations = map[string]string{"portcullis.io/client-ca": "clients"}
	portal := withTLS(framework.Ingress(ns, "portal", ns, framework.Rule("portal.cc.example", framework.Prefix("/", "portal"))), "site-tls", "portal.cc.example")
	portal.Annotations = map[string]string{"portcullis.io/client-ca": "clients", "portcullis.io/client-crt-optional": "true"}
	framework.CreateIngress(t, secure)
	framework.CreateIngress(t, portal)
	framework.CreateIngress(t, withTLS(framework.Ingress(ns, "open", ns, framework.Rule("open.cc.example", framework.Prefix("/", "open"))), "site-tls", "open.cc.example"))

	// Legitimate clients.
	expectServed(t, c, "secure.cc.example", "secure.cc.example", &clients, "secure")
	expectServed(t, c, "portal.cc.example", "portal.cc.example", nil, "portal")
	expectServed(t, c, "portal.cc.example", "portal.cc.example", &clients, "portal")
	expectServed(t, c, "open.cc.example", "open.cc.example", nil, "open")
	expectServed(t, c, "secure.cc.example", "SECURE.cc.example:443", &clients, "secure")

	// The handshake of the host's own SNI name checks the certificate.
	expectHandshakeRefused(t, c, "secure without a certificate", "secure.cc.example", "secure.cc.example", nil)
	expectHandshakeRefused(t, c, "secure with a certificate of another CA", "secure.cc.example", "secure.cc.example", &stranger)
	expectHandshakeRefused(t, c, "portal with a certificate of another CA", "portal.cc.example", "portal.cc.example", &stranger)

	// Another host's SNI, or none: 421, with or without a certificate (it is not asked for).
	for _, host := range []string{"secure.cc.example", "portal.cc.example"} {
		for _, sni := range []string{"open.cc.example", "unknown.cc.example", ""} {
			for _, cert := range []*framework.Certificate{nil, &clients, &stranger} {
				expectStatus(t, c, fmt.Sprintf("Host %s over SNI %q with certificate %v", host, sni, cert != nil), sni, host, cert, http.StatusMisdirectedRequest)
			}
		}
	}
	expectStatus(t, c, "Host secure over portal's SNI (optional, no certificate)", "portal.cc.example", "secure.cc.example", nil, http.StatusMisdirectedRequest)

	// A TLS 1.3 session made for open (no client certificate asked) and resumed under secure's
	// name keeps its lack of certificate: the route refuses it. (With one CA on the listener,
	// sessions may be resumed.)
	cache := &anySNISessions{}
	if r, err := clientGet(c, "open.cc.example", "open.cc.example", nil, cache); err != nil || r.status != http.StatusOK {
		t.Fatalf("a session for open: %v %v", r, err)
	}
	r, err := clientGet(c, "secure.cc.example", "secure.cc.example", nil, cache)
	switch {
	case err != nil:
		t.Logf("a session of open resumed under secure's name: %v (refused in the handshake)", err)
	case !r.resumed:
		t.Errorf("a session of open offered under secure's name: %s; the test wants a resumed session", r)
	case r.status != http.StatusForbidden || r.echo != "":
		t.Errorf("a session of open resumed under secure's name: %s, want 403 from haproxy", r)
	default:
		t.Logf("a session of open resumed under secure's name: refused with %d", r.status)
	}

	// A new host with a certificate of its own is applied at runtime: its certificate is loaded
	// and the client-certificate map replaced, without a reload, and the checks still hold.
	c.WaitIdle(t)
	reloads := c.ReloadCount(t)
	extra := framework.SelfSigned(t, "extra.cc.example")
	framework.CreateSecret(t, framework.TLSSecret(ns, "extra-tls", extra.CertPEM, extra.KeyPEM))
	framework.CreateIngress(t, withTLS(framework.Ingress(ns, "extra", ns, framework.Rule("extra.cc.example", framework.Prefix("/", "open"))), "extra-tls", "extra.cc.example"))
	expectServed(t, c, "extra.cc.example", "extra.cc.example", nil, "open")
	expectServed(t, c, "secure.cc.example", "secure.cc.example", &clients, "secure")
	expectStatus(t, c, "Host secure over the new host's SNI", "extra.cc.example", "secure.cc.example", &clients, http.StatusMisdirectedRequest)
	if got := c.ReloadCount(t); got != reloads {
		t.Errorf("a new TLS host reloaded haproxy (%d reloads, then %d)", reloads, got)
	}

	// Plain HTTP is redirected to HTTPS, where all of the above holds.
	for _, host := range []string{"secure.cc.example", "portal.cc.example"} {
		if r, err := framework.TryGet(c, host, "/"); err != nil || r.Status != http.StatusFound || r.Echo != "" {
			t.Errorf("plain HTTP to %s: %v %v, want a redirect", host, r, err)
		}
	}
}

// TestClientCertOfOneNamespaceDoesNotApplyToAnother: the same certificate is a Secret in two
// namespaces. Team A (older) requires client certificates of its CA on secure; team B (newer)
// sets its own CA and client-crt-optional on partners, and adds a path under secure. Team B's
// settings do not open team A's host: the certificate has a crt-list line for each.
func TestClientCertOfOneNamespaceDoesNotApplyToAnother(t *testing.T) {
	t.Parallel()
	nsA, nsB := framework.NewNamespace(t), framework.NewNamespace(t)
	framework.CreateIngressClass(t, nsA, framework.ControllerName)
	c := framework.StartController(t, framework.ControllerOptions{
		Namespace: nsA,
		ExtraArgs: []string{"--namespace-whitelist=" + nsB, "--ingress.class=" + nsA},
	})
	framework.EchoService(t, nsA, "secure", framework.StartEcho(t, "a-secure"))
	framework.EchoService(t, nsB, "partners", framework.StartEcho(t, "b-partners"))
	site := framework.SelfSigned(t, "secure.ns.example", "partners.ns.example")
	caA, caB := framework.SelfSigned(t, "team-a-clients"), framework.SelfSigned(t, "team-b-clients")
	for _, ns := range []string{nsA, nsB} {
		framework.CreateSecret(t, framework.TLSSecret(ns, "wildcard-tls", site.CertPEM, site.KeyPEM))
	}
	framework.CreateSecret(t, caSecret(nsA, "clients", caA))
	framework.CreateSecret(t, caSecret(nsB, "clients", caB))
	a := withTLS(framework.Ingress(nsA, "secure", nsA, framework.Rule("secure.ns.example", framework.Prefix("/", "secure"))), "wildcard-tls", "secure.ns.example")
	a.Annotations = map[string]string{"portcullis.io/client-ca": "clients"}
	framework.CreateIngress(t, a)
	expectServed(t, c, "secure.ns.example", "secure.ns.example", &caA, "a-secure")
	time.Sleep(time.Second) // creation times have a resolution of one second: B is newer
	b := withTLS(framework.Ingress(nsB, "partners", nsA,
		framework.Rule("partners.ns.example", framework.Prefix("/", "partners")),
		framework.Rule("secure.ns.example", framework.Prefix("/b", "partners"))), "wildcard-tls", "partners.ns.example")
	b.Annotations = map[string]string{"portcullis.io/client-ca": "clients", "portcullis.io/client-crt-optional": "true"}
	framework.CreateIngress(t, b)

	// Legitimate clients of both teams.
	expectServed(t, c, "partners.ns.example", "partners.ns.example", nil, "b-partners")
	expectServed(t, c, "partners.ns.example", "partners.ns.example", &caB, "b-partners")
	expectServed(t, c, "secure.ns.example", "secure.ns.example", &caA, "a-secure")

	// Team B's optional setting and CA do not reach team A's host.
	expectHandshakeRefused(t, c, "secure without a certificate", "secure.ns.example", "secure.ns.example", nil)
	expectHandshakeRefused(t, c, "secure with team B's certificate", "secure.ns.example", "secure.ns.example", &caB)
	expectHandshakeRefused(t, c, "partners with team A's certificate (B's CA only)", "partners.ns.example", "partners.ns.example", &caA)
	for _, sni := range []string{"partners.ns.example", ""} {
		for _, cert := range []*framework.Certificate{nil, &caB} {
			expectStatus(t, c, fmt.Sprintf("Host secure over SNI %q with team B's certificate %v", sni, cert != nil), sni, "secure.ns.example", cert, http.StatusMisdirectedRequest)
		}
	}

	// A TLS 1.3 session made with team B's certificate, offered under secure's name: the listener
	// has two CAs, so it resumes no session, and the full handshake refuses B's certificate.
	cache := &anySNISessions{}
	if r, err := clientGet(c, "partners.ns.example", "partners.ns.example", &caB, cache); err != nil || r.status != http.StatusOK {
		t.Fatalf("a session with team B's certificate: %v %v", r, err)
	}
	if r, err := clientGet(c, "secure.ns.example", "secure.ns.example", &caB, cache); err == nil {
		t.Errorf("a session with team B's certificate offered under secure's name: %s, want a failed handshake", r)
	}

	// Team B's path under team A's host checks B's settings, which no connection for secure has:
	// refused, even to a client of team A, and reported.
	framework.WaitForEvent(t, nsB, "Ingress", "partners", "ClientAuthConflict")
	r, err := clientGetPath(c, "secure.ns.example", "secure.ns.example", "/b", &caA, nil)
	if err != nil || r.status != http.StatusForbidden || r.echo != "" {
		t.Errorf("team B's path under secure with team A's certificate: %v %v, want 403 from haproxy", r, err)
	}
}
