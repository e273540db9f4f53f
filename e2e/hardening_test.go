package e2e

import (
	"fmt"
	"net/http"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// TestHardeningHostOwnership runs a controller with --host-ownership over two teams'
// namespaces. The first team serves app.example over HTTP and HTTPS with its certificate; the
// second adds /login under that host, with a certificate of its own for it, and a host of its
// own. The second team's claim on app.example is refused with a HostOwnedByOtherNamespace Event:
// /login still reaches the first team's backend, over its certificate; the second team's own
// host is served.
func TestHardeningHostOwnership(t *testing.T) {
	t.Parallel()
	team, other := framework.NewNamespace(t), framework.NewNamespace(t)
	class := team
	framework.CreateIngressClass(t, class, framework.ControllerName)
	c := framework.StartController(t, framework.ControllerOptions{
		Namespace: team,
		ExtraArgs: []string{"--namespace-whitelist=" + other, "--ingress.class=" + class, "--host-ownership"},
	})

	teamCert := framework.SelfSigned(t, "app.example")
	framework.CreateSecret(t, framework.TLSSecret(team, "app-tls", teamCert.CertPEM, teamCert.KeyPEM))
	framework.EchoService(t, team, "site", framework.StartEcho(t, "team-site"))
	site := framework.Ingress(team, "site", class, framework.Rule("app.example", framework.Prefix("/", "site")))
	site.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"app.example"}, SecretName: "app-tls"}}
	framework.CreateIngress(t, site)
	framework.ExpectRoute(t, c, "app.example", "/login", http.StatusFound, "") // redirected to HTTPS
	expectTLS(t, c, "/login", "team-site", teamCert)

	otherCert := framework.SelfSigned(t, "app.example")
	framework.CreateSecret(t, framework.TLSSecret(other, "grab-tls", otherCert.CertPEM, otherCert.KeyPEM))
	framework.EchoService(t, other, "phish", framework.StartEcho(t, "other-phish"))
	grab := framework.Ingress(other, "grab", class,
		framework.Rule("app.example", framework.Exact("/login", "phish")),
		framework.Rule("own.other.example", framework.Prefix("/", "phish")))
	grab.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"app.example"}, SecretName: "grab-tls"}}
	framework.CreateIngress(t, grab)

	ev := framework.WaitForEvent(t, other, "Ingress", "grab", "HostOwnedByOtherNamespace")
	t.Logf("event: %s", ev.Message)
	// The rest of the refused Ingress is served: its own host.
	framework.ExpectRoute(t, c, "own.other.example", "/", http.StatusOK, "other-phish")
	// The owner still serves /login, over its own certificate.
	expectTLS(t, c, "/login", "team-site", teamCert)
	framework.ExpectRoute(t, c, "app.example", "/login", http.StatusFound, "")
	if got := framework.EventsFor(t, team, "Ingress", "site", "HostOwnedByOtherNamespace"); len(got) != 0 {
		t.Errorf("the owner's Ingress got %s", framework.DescribeEvents(got))
	}
}

// expectTLS waits until GET https://app.example<path> answers 200 from echo wantEcho with
// certificate want.
func expectTLS(t *testing.T, c *framework.Controller, path, wantEcho string, want framework.Certificate) {
	t.Helper()
	framework.Eventually(t, framework.RouteTimeout, func() error {
		resp, err := framework.TryGetTLS(c, "app.example", "app.example", path)
		if err != nil {
			return err
		}
		if resp.Status != http.StatusOK || resp.Echo != wantEcho {
			return fmt.Errorf("https app.example%s: %d from %q, want 200 from %q", path, resp.Status, resp.Echo, wantEcho)
		}
		if !resp.Peer.Equal(want.Leaf) {
			return fmt.Errorf("https app.example%s: served the certificate with serial %s, not the owner's", path, resp.Peer.SerialNumber)
		}
		return nil
	})
}
