package ingress_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/ingress"
)

// FuzzTranslateRenders: whatever hosts, paths, path types, Service and port names an Ingress
// carries, what translation emits passes the renderer's checks (Prune leaves nothing out) and
// renders. The seed corpus runs as an ordinary test; `go test -fuzz FuzzTranslateRenders` explores.
func FuzzTranslateRenders(f *testing.F) {
	for _, seed := range []struct {
		host, path, tlsHost, svc, port string
		exact                          bool
	}{
		{"example.com", "/", "example.com", "web", "http", false},
		{"*.example.com", "/api/v1", "*.example.com", "api", "", true},
		{"", "/a;b=c", "", "web", "8080", false},
		{"EXAMPLE.com.", "/%2e%2e/", "x", "web-1", "h", false},
		{"a b", "/\n", "a\"b", "Web", "p ort", true},
		{"xn--bcher-kva.example", "/~user/!$&'()*+,;=:@", "xn--bcher-kva.example", "s", "http", false},
	} {
		f.Add(seed.host, seed.path, seed.tlsHost, seed.svc, seed.port, seed.exact)
	}
	f.Fuzz(func(t *testing.T, host, path, tlsHost, svc, port string, exact bool) {
		pt := prefix
		if exact {
			pt = networkingv1.PathTypeExact
		}
		p := pathToNamedPort(pt, path, svc, port)
		if port == "" {
			p = pathTo(pt, path, svc, 80)
		}
		ing := newIngress("ns", "web", className(testClass), rule(host, p), func(ing *networkingv1.Ingress) {
			ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{tlsHost}, SecretName: "tls"}}
		})
		state := ingress.State{
			IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
			Ingresses:      []*networkingv1.Ingress{ing},
			Services:       []*corev1.Service{service("ns", svc, servicePort(port, 80))},
		}
		res := ingress.Translate(state, tlsOptions())
		if _, rej := haproxy.Prune(res.Config); len(rej) > 0 {
			t.Fatalf("Prune leaves out parts of the translation of host %q path %q: %v", host, path, rej)
		}
		if _, err := haproxy.Render(res.Config, haproxy.Env{RuntimeDir: "/run/portcullis"}); err != nil {
			t.Fatalf("Render: %v", err)
		}
	})
}
