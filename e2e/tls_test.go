package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

const defaultCertCN = "Portcullis default certificate"

// withTLS adds a spec.tls entry to an Ingress.
func withTLS(ing *networkingv1.Ingress, secret string, hosts ...string) *networkingv1.Ingress {
	ing.Spec.TLS = append(ing.Spec.TLS, networkingv1.IngressTLS{SecretName: secret, Hosts: hosts})
	return ing
}

// expectCert waits until an HTTPS request with the given SNI is answered with a certificate whose
// common name is wantCN, and by the echo wantEcho ("" for no echo).
func expectCert(t *testing.T, c *framework.Controller, sni, wantCN, wantEcho string) {
	t.Helper()
	framework.Eventually(t, framework.RouteTimeout, func() error {
		r, err := framework.TryGetTLS(c, sni, sni, "/")
		if err != nil {
			return err
		}
		if r.Peer == nil || r.Peer.Subject.CommonName != wantCN {
			got := "<none>"
			if r.Peer != nil {
				got = r.Peer.Subject.CommonName
			}
			return fmt.Errorf("SNI %s: certificate %q, want %q", sni, got, wantCN)
		}
		if r.Echo != wantEcho {
			return fmt.Errorf("SNI %s: answered by %q (status %d), want %q", sni, r.Echo, r.Status, wantEcho)
		}
		return nil
	})
}

// TestTLSBySNIWithDefaultAndRedirect checks that two hosts get their own certificates by SNI, an
// unknown SNI gets the default certificate, and plain HTTP is redirected for TLS hosts only.
func TestTLSBySNIWithDefaultAndRedirect(t *testing.T) {
	t.Parallel()
	ns, c := startRouting(t)
	a, b := framework.StartEcho(t, "a"), framework.StartEcho(t, "b")
	framework.EchoService(t, ns, "svc-a", a)
	framework.EchoService(t, ns, "svc-b", b)
	ca, cb := framework.SelfSigned(t, "a.tls.example"), framework.SelfSigned(t, "b.tls.example")
	framework.CreateSecret(t, framework.TLSSecret(ns, "a-tls", ca.CertPEM, ca.KeyPEM))
	framework.CreateSecret(t, framework.TLSSecret(ns, "b-tls", cb.CertPEM, cb.KeyPEM))
	framework.CreateIngress(t, withTLS(framework.Ingress(ns, "a", ns,
		framework.Rule("a.tls.example", framework.Prefix("/", "svc-a")),
		framework.Rule("plain.example", framework.Prefix("/", "svc-a"))), "a-tls", "a.tls.example"))
	framework.CreateIngress(t, withTLS(framework.Ingress(ns, "b", ns,
		framework.Rule("b.tls.example", framework.Prefix("/", "svc-b"))), "b-tls", "b.tls.example"))

	expectCert(t, c, "a.tls.example", "a.tls.example", "a")
	expectCert(t, c, "b.tls.example", "b.tls.example", "b")
	expectCert(t, c, "unknown.example", defaultCertCN, "")

	// HTTP: TLS hosts are redirected to HTTPS (port 443 by default: the port clients reach through
	// the load balancer, not the bind port), the plain host is served.
	r, err := framework.TryGet(c, "a.tls.example", "/path?q=1")
	if err != nil {
		t.Fatal(err)
	}
	wantLoc := "https://a.tls.example/path?q=1"
	if r.Status != http.StatusFound || r.Header.Get("Location") != wantLoc {
		t.Errorf("HTTP to a TLS host: status %d Location %q, want 302 %q", r.Status, r.Header.Get("Location"), wantLoc)
	}
	framework.ExpectRoute(t, c, "plain.example", "/", http.StatusOK, "a")
}

// TestTLSSecretRotationNeedsNoReload replaces a Secret's certificate and checks that clients get
// the new one with haproxy's reload count unchanged.
func TestTLSSecretRotationNeedsNoReload(t *testing.T) {
	t.Parallel()
	ns, c := startRouting(t)
	echo := framework.StartEcho(t, "web")
	framework.EchoService(t, ns, "web", echo)
	old := framework.SelfSigned(t, "rotate.example", "old.rotate.example")
	framework.CreateSecret(t, framework.TLSSecret(ns, "web-tls", old.CertPEM, old.KeyPEM))
	framework.CreateIngress(t, withTLS(framework.Ingress(ns, "web", ns,
		framework.Rule("rotate.example", framework.Prefix("/", "web"))), "web-tls", "rotate.example"))
	expectCert(t, c, "rotate.example", "rotate.example", "web")
	reloads, pid := c.ReloadCount(t), c.MasterPID(t)
	oldSerial := old.Leaf.SerialNumber

	fresh := framework.SelfSigned(t, "rotate.example", "new.rotate.example")
	start := time.Now()
	framework.UpdateSecret(t, framework.TLSSecret(ns, "web-tls", fresh.CertPEM, fresh.KeyPEM))
	framework.Eventually(t, framework.RouteTimeout, func() error {
		r, err := framework.TryGetTLS(c, "rotate.example", "rotate.example", "/")
		if err != nil {
			return err
		}
		if r.Peer == nil || r.Peer.SerialNumber.Cmp(oldSerial) == 0 {
			return fmt.Errorf("still the old certificate")
		}
		if r.Peer.SerialNumber.Cmp(fresh.Leaf.SerialNumber) != 0 {
			return fmt.Errorf("unexpected certificate %s", r.Peer.Subject)
		}
		return nil
	})
	t.Logf("clients got the rotated certificate %s after the Secret update", time.Since(start).Round(time.Millisecond))
	if got := c.ReloadCount(t); got != reloads {
		t.Errorf("reload count went from %d to %d on certificate rotation", reloads, got)
	}
	if got := c.MasterPID(t); got != pid {
		t.Errorf("haproxy master changed from %d to %d", pid, got)
	}
}

// TestTLSInvalidSecretFallsBackToDefault checks that a Secret with garbage gives an Event and the
// default certificate for its host, while another host keeps its certificate.
func TestTLSInvalidSecretFallsBackToDefault(t *testing.T) {
	t.Parallel()
	ns, c := startRouting(t)
	echo := framework.StartEcho(t, "web")
	framework.EchoService(t, ns, "web", echo)
	good := framework.SelfSigned(t, "good.example")
	framework.CreateSecret(t, framework.TLSSecret(ns, "good-tls", good.CertPEM, good.KeyPEM))
	other := framework.SelfSigned(t, "bad.example")
	framework.CreateSecret(t, framework.TLSSecret(ns, "bad-tls", good.CertPEM, other.KeyPEM)) // key mismatch
	framework.CreateIngress(t, withTLS(framework.Ingress(ns, "good", ns,
		framework.Rule("good.example", framework.Prefix("/", "web"))), "good-tls", "good.example"))
	framework.CreateIngress(t, withTLS(framework.Ingress(ns, "bad", ns,
		framework.Rule("bad.example", framework.Prefix("/", "web"))), "bad-tls", "bad.example"))

	expectCert(t, c, "good.example", "good.example", "web")
	expectCert(t, c, "bad.example", defaultCertCN, "web")
	framework.WaitForEvent(t, ns, "Ingress", "bad", "InvalidCertificate")
}
