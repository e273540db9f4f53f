package e2e

// Gateway API TLSRoute (TLS passthrough) in shared-address mode: a Gateway listener of protocol
// TLS on port 443 joins the controller's HTTPS listener, and its TLSRoute's names are passed
// through by SNI, unterminated, next to an Ingress host that the controller terminates on the
// same port. A multi-label wildcard takes names of several labels. (Pool mode is covered by the
// conformance suite's GATEWAY-TLS profile, e2e/conformance.)

import (
	"fmt"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

func TestGatewayTLSRoutePassthroughSharesHTTPS(t *testing.T) {
	t.Parallel()
	g := startGateway(t)

	// A terminated Ingress host on the controller's HTTPS listener.
	framework.EchoService(t, g.ns, "web", framework.StartEcho(t, "web"))
	webCert := framework.SelfSigned(t, "web.example")
	framework.CreateSecret(t, framework.TLSSecret(g.ns, "web-tls", webCert.CertPEM, webCert.KeyPEM))
	webIng := framework.Ingress(g.ns, "web", g.ns, framework.Rule("web.example", framework.Prefix("/", "web")))
	webIng.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"web.example"}, SecretName: "web-tls"}}
	framework.CreateIngress(t, webIng)

	// A TLS passthrough listener on 443 and a TLSRoute for *.secure.example to a backend that
	// terminates TLS itself.
	backendCert := framework.SelfSigned(t, "a.secure.example", "a.b.secure.example")
	framework.EchoService(t, g.ns, "secure", framework.StartTLSEcho(t, "secure", backendCert, nil))
	mode := gatewayv1.TLSModePassthrough
	framework.CreateGateway(t, framework.GatewayObject(g.ns, "tls", g.class, gatewayv1.Listener{
		Name: "tls", Port: 443, Protocol: gatewayv1.TLSProtocolType, TLS: &gatewayv1.ListenerTLSConfig{Mode: &mode},
	}))
	port := gatewayv1.PortNumber(80)
	route := &gatewayv1.TLSRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: g.ns, Name: "secure"},
		Spec: gatewayv1.TLSRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Name: "tls"}}},
			Hostnames:       []gatewayv1.Hostname{"*.secure.example"},
			Rules: []gatewayv1.TLSRouteRule{{BackendRefs: []gatewayv1.BackendRef{{
				BackendObjectReference: gatewayv1.BackendObjectReference{Name: "secure", Port: &port},
			}}}},
		},
	}
	if _, err := framework.Gateway().GatewayV1().TLSRoutes(g.ns).Create(t.Context(), route, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating TLSRoute: %v", err)
	}

	expect := func(sni, wantEcho string, wantCert framework.Certificate) {
		t.Helper()
		framework.Eventually(t, 20*time.Second, func() error {
			r, err := framework.TryGetTLS(g.c, sni, sni, "/")
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
	expect("a.secure.example", "secure", backendCert)
	expect("a.b.secure.example", "secure", backendCert) // a Gateway API wildcard takes several labels
	expect("web.example", "web", webCert)

	framework.Eventually(t, framework.RouteTimeout, func() error {
		got, err := framework.Gateway().GatewayV1().TLSRoutes(g.ns).Get(t.Context(), "secure", metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, p := range got.Status.Parents {
			if string(p.ControllerName) == g.controllerName {
				if err := framework.ExpectCondition("TLSRoute secure", p.Conditions, string(gatewayv1.RouteConditionAccepted), metav1.ConditionTrue, "Accepted"); err != nil {
					return err
				}
				return framework.ExpectCondition("TLSRoute secure", p.Conditions, string(gatewayv1.RouteConditionResolvedRefs), metav1.ConditionTrue, "ResolvedRefs")
			}
		}
		return fmt.Errorf("TLSRoute secure: no status entry of %s: %+v", g.controllerName, got.Status.Parents)
	})
	g.c.WaitIdle(t)
}
