package ingress_test

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/haproxytest"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/ingress"
)

// TestWWWRedirect: from-to-www-redirect adds a redirecting route for the other form of each
// host, unless a route serves that form.
func TestWWWRedirect(t *testing.T) {
	const nx = "nginx.ingress.kubernetes.io/"
	www := annotation(nx+"from-to-www-redirect", "true")
	for _, tc := range []struct {
		name string
		ings []*networkingv1.Ingress
		want []string // host -> redirect target, of the routes with a host redirect
	}{
		{"www. added", []*networkingv1.Ingress{newIngress("ns", "a", className(testClass), www, rule("example.com", pathTo(prefix, "/x", "web", 80)))},
			[]string{"www.example.com -> example.com 302"}},
		{"www. removed, with the profile's code", []*networkingv1.Ingress{newIngress("ns", "a", className(testClass), www,
			annotation("portcullis.io/ssl-redirect-code", "308"), rule("www.example.com", pathTo(prefix, "/", "web", 80)))},
			[]string{"example.com -> www.example.com 308"}},
		{"a host served by another Ingress is not redirected", []*networkingv1.Ingress{
			newIngress("ns", "a", className(testClass), www, rule("example.com", pathTo(prefix, "/", "web", 80))),
			newIngress("ns", "b", className(testClass), rule("www.example.com", pathTo(prefix, "/b", "web", 80)))}, nil},
		{"no host, a wildcard: nothing", []*networkingv1.Ingress{newIngress("ns", "a", className(testClass), www,
			rule("", pathTo(prefix, "/", "web", 80)), rule("*.example.com", pathTo(prefix, "/", "web", 80)))}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := ingress.Translate(ingress.State{
				IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
				Ingresses:      tc.ings,
				Services:       []*corev1.Service{service("ns", "web", servicePort("http", 80))},
			}, testOptions())
			var got []string
			for _, rt := range res.Config.HTTPRoutes {
				if h := rt.Policy.HostRedirect; h != nil {
					got = append(got, fmt.Sprintf("%s -> %s %d", rt.Match.Host, h.Host, h.Code))
					if rt.Match.Path != "/" || rt.Match.Kind != model.MatchPrefix {
						t.Errorf("redirect route %+v, want the prefix /", rt.Match)
					}
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("redirects %v, want %v", got, tc.want)
			}
			files, err := haproxy.Render(res.Config, haproxy.Env{RuntimeDir: "/run/portcullis"})
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if len(tc.want) > 0 && !strings.Contains(string(files[haproxy.ConfigFile]), "redirect prefix https://") {
				t.Errorf("no host redirect rendered")
			}
			haproxytest.Check(t, files)
		})
	}
}
