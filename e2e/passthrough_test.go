package e2e

// TLS passthrough (issue 12): a host with ssl-passthrough answers with its backend's own
// certificate while a terminated host on the same port answers with the controller's; another
// passthrough host to an existing backend does not reload.

import (
	"fmt"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

func TestTLSPassthrough(t *testing.T) {
	t.Parallel()
	ns := framework.NewNamespace(t)
	framework.CreateIngressClass(t, ns, framework.ControllerName)
	c := framework.StartController(t, framework.ControllerOptions{Namespace: ns, ExtraArgs: []string{"--ingress.class=" + ns}})

	// A terminated host with the controller's certificate for its Secret.
	web := framework.StartEcho(t, "web")
	framework.EchoService(t, ns, "web", web)
	webCert := framework.SelfSigned(t, "web.example")
	framework.CreateSecret(t, framework.TLSSecret(ns, "web-tls", webCert.CertPEM, webCert.KeyPEM))
	webIng := framework.Ingress(ns, "web", ns, framework.Rule("web.example", framework.Prefix("/", "web")))
	webIng.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"web.example"}, SecretName: "web-tls"}}
	framework.CreateIngress(t, webIng)

	// A passthrough host whose backend terminates TLS itself with its own certificate.
	backendCert := framework.SelfSigned(t, "secure.example", "other.example")
	secure := framework.StartTLSEcho(t, "secure", backendCert, nil)
	framework.EchoService(t, ns, "secure", secure)
	passIng := framework.Ingress(ns, "secure", ns, framework.Rule("secure.example", framework.Prefix("/", "secure")))
	passIng.Annotations = map[string]string{"portcullis.io/ssl-passthrough": "true"}
	framework.CreateIngress(t, passIng)

	expect := func(sni, wantEcho string, wantCert framework.Certificate) {
		t.Helper()
		framework.Eventually(t, 20*time.Second, func() error {
			r, err := framework.TryGetTLS(c, sni, sni, "/")
			if err != nil {
				return err
			}
			if r.Status != 200 || r.Echo != wantEcho {
				return fmt.Errorf("SNI %s: status %d from %q, want 200 from %q", sni, r.Status, r.Echo, wantEcho)
			}
			if r.Peer == nil || !r.Peer.Equal(wantCert.Leaf) {
				return fmt.Errorf("SNI %s: served certificate %v, want %v", sni, r.Peer.Subject, wantCert.Leaf.Subject)
			}
			return nil
		})
	}
	expect("secure.example", "secure", backendCert)
	expect("web.example", "web", webCert)

	// Another passthrough host to the same backend: a map entry, no reload.
	time.Sleep(1500 * time.Millisecond)
	reloads := c.ReloadCount(t)
	other := framework.Ingress(ns, "other", ns, framework.Rule("other.example", framework.Prefix("/", "secure")))
	other.Annotations = map[string]string{"portcullis.io/ssl-passthrough": "true"}
	framework.CreateIngress(t, other)
	expect("other.example", "secure", backendCert)
	if got := c.ReloadCount(t); got != reloads {
		t.Errorf("a passthrough host added to the listener reloaded haproxy: %d reloads, want %d", got, reloads)
	}
	expect("web.example", "web", webCert)
}
