package e2e

import (
	"fmt"
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// caSecret returns an Opaque Secret whose ca.crt holds c's certificate.
func caSecret(ns, name string, c framework.Certificate) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{"ca.crt": c.CertPEM},
	}
}

// TestBackendHTTPS proves HTTPS to the backend: with server-ssl and server-ca the proxy verifies
// the backend's certificate and presents a client certificate from server-crt to a backend that
// requires one, and server-proto h2 speaks HTTP/2 to it.
func TestBackendHTTPS(t *testing.T) {
	t.Parallel()
	ns, c := startRouting(t)
	serverCert := framework.SelfSigned(t, "backend.internal", "198.18.210.1", "localhost")
	proxyCert := framework.SelfSigned(t, "portcullis-client")
	echo := framework.StartTLSEcho(t, "secure", serverCert, proxyCert.Pool())
	framework.EchoService(t, ns, "secure", echo)
	framework.CreateSecret(t, caSecret(ns, "backend-ca", serverCert))
	framework.CreateSecret(t, framework.TLSSecret(ns, "proxy-client", proxyCert.CertPEM, proxyCert.KeyPEM))
	ing := framework.Ingress(ns, "secure", ns, framework.Rule("secure.example", framework.Prefix("/", "secure")))
	ing.Annotations = map[string]string{
		"portcullis.io/server-ssl":   "true",
		"portcullis.io/server-ca":    "backend-ca",
		"portcullis.io/server-crt":   "proxy-client",
		"portcullis.io/server-proto": "h2",
	}
	framework.CreateIngress(t, ing)
	framework.ExpectRoute(t, c, "secure.example", "/", http.StatusOK, "secure")
	r, err := framework.TryGet(c, "secure.example", "/")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Header.Get("X-Echo-Proto"); got != "HTTP/2.0" {
		t.Errorf("the backend saw %q, want HTTP/2.0", got)
	}

	// A CA that did not sign the backend's certificate: verification fails and no request reaches
	// the backend (haproxy answers with an error or, retrying, not within the client's timeout).
	other := framework.SelfSigned(t, "other-ca")
	framework.UpdateSecret(t, caSecret(ns, "backend-ca", other))
	framework.Eventually(t, framework.RouteTimeout, func() error {
		r, err := framework.TryGet(c, "secure.example", "/")
		if err == nil && (r.Echo != "" || r.Status < 500) {
			return fmt.Errorf("status %d from %q with an untrusted backend certificate", r.Status, r.Echo)
		}
		return nil
	})
}

// TestClientCertificateAuthentication proves client-ca: a client without a certificate, or with
// one from another CA, is refused; a client with a certificate signed by the CA gets through.
func TestClientCertificateAuthentication(t *testing.T) {
	t.Parallel()
	ns, c := startRouting(t)
	echo := framework.StartEcho(t, "web")
	framework.EchoService(t, ns, "web", echo)
	site := framework.SelfSigned(t, "mtls.example")
	clientCA := framework.SelfSigned(t, "clients-ca") // self-signed: it is its own CA
	stranger := framework.SelfSigned(t, "stranger")
	framework.CreateSecret(t, framework.TLSSecret(ns, "site-tls", site.CertPEM, site.KeyPEM))
	framework.CreateSecret(t, caSecret(ns, "clients", clientCA))
	ing := withTLS(framework.Ingress(ns, "mtls", ns, framework.Rule("mtls.example", framework.Prefix("/", "web"))), "site-tls", "mtls.example")
	ing.Annotations = map[string]string{"portcullis.io/client-ca": "clients"}
	framework.CreateIngress(t, ing)

	framework.Eventually(t, framework.RouteTimeout, func() error {
		r, err := framework.TryGetTLSWithClientCert(c, "mtls.example", "mtls.example", "/", &clientCA)
		if err != nil {
			return err
		}
		if r.Status != http.StatusOK || r.Echo != "web" {
			return fmt.Errorf("with a valid client certificate: status %d from %q", r.Status, r.Echo)
		}
		return nil
	})
	if r, err := framework.TryGetTLSWithClientCert(c, "mtls.example", "mtls.example", "/", nil); err == nil {
		t.Errorf("without a client certificate: got status %d, want a failed handshake", r.Status)
	}
	if r, err := framework.TryGetTLSWithClientCert(c, "mtls.example", "mtls.example", "/", &stranger); err == nil {
		t.Errorf("with a certificate of another CA: got status %d, want a failed handshake", r.Status)
	}
	// Plain HTTP cannot bypass the check: it is redirected to HTTPS.
	r, err := framework.TryGet(c, "mtls.example", "/")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusFound {
		t.Errorf("plain HTTP to a client-certificate host: status %d, want a redirect", r.Status)
	}
}
