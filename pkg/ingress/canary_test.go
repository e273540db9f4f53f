package ingress_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/haproxytest"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/ingress"
)

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func TestCanaryWeights(t *testing.T) {
	for _, tc := range []struct {
		name    string
		weight  string
		mainEPs []string
		canEPs  []string
		want    string // address=weight, in server order
	}{
		{"a 20 percent canary with one endpoint on each side", "20", []string{"10.0.0.1"}, []string{"10.0.1.1"}, "10.0.0.1=256 10.0.1.1=64"},
		{"three main endpoints share 70 percent", "30", []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}, []string{"10.0.1.1"}, "10.0.0.1=199 10.0.0.2=199 10.0.0.3=199 10.0.1.1=256"},
		{"a zero weight leaves the canary out", "0", []string{"10.0.0.1"}, []string{"10.0.1.1"}, "10.0.0.1=256"},
		{"a full weight leaves the main service out", "100", []string{"10.0.0.1"}, []string{"10.0.1.1"}, "10.0.1.1=256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mainEPs, canEPs []endpoint
			for _, a := range tc.mainEPs {
				mainEPs = append(mainEPs, readyAt(a))
			}
			for _, a := range tc.canEPs {
				canEPs = append(canEPs, readyAt(a))
			}
			state := ingress.State{
				IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
				Ingresses: []*networkingv1.Ingress{newIngress("ns", "web", className(testClass),
					annotation("portcullis.io/canary-service", "web-v2"),
					annotation("portcullis.io/canary-weight", tc.weight),
					rule("web.example", pathTo(networkingv1.PathTypePrefix, "/", "web", 80)))},
				Services: []*corev1.Service{service("ns", "web", servicePort("http", 80)), service("ns", "web-v2", servicePort("http", 80))},
				EndpointSlices: []*discoveryv1.EndpointSlice{
					endpointSlice("ns", "web", "web-1", "http", 8080, mainEPs...),
					endpointSlice("ns", "web-v2", "web-v2-1", "http", 8080, canEPs...),
				},
			}
			res := ingress.Translate(state, testOptions())
			if len(res.Problems) != 0 {
				t.Fatalf("problems: %v", res.Problems)
			}
			if len(res.Config.HTTPRoutes) != 1 {
				t.Fatalf("routes: %s", formatRoutes(routesOf(res.Config)))
			}
			wantBackends := fmt.Sprintf("[{ns_web_80 %d} {ns_web-v2_http %s}]", 100-atoi(tc.weight), tc.weight)
			if got := fmt.Sprint(res.Config.HTTPRoutes[0].Backends); got != wantBackends {
				t.Errorf("route backends %s, want %s", got, wantBackends)
			}
			// The renderer turns the weighted backends into one section's server weights.
			sections, routeSections, _ := haproxy.Sections(res.Config)
			var servers []model.Server
			for _, sec := range sections {
				if sec.Name == routeSections[0] {
					servers = sec.Servers
				}
			}
			got := ""
			for i, s := range servers {
				if i > 0 {
					got += " "
				}
				got += fmt.Sprintf("%s=%d", s.Address, s.EffectiveWeight())
			}
			if got != tc.want {
				t.Errorf("servers %s, want %s", got, tc.want)
			}
		})
	}
}

// TestNginxCanary follows ingress-nginx's canary Ingresses into routes: the canary Ingress's
// path joins the main Ingress's route; its header and cookie choices become conditional routes
// on the same host and path.
func TestNginxCanary(t *testing.T) {
	const nx = "nginx.ingress.kubernetes.io/"
	main := newIngress("ns", "web", className(testClass), createdAt(0), rule("web.example", pathTo(prefix, "/", "web", 80)))
	canary := func(opts ...ingressOption) *networkingv1.Ingress {
		return newIngress("ns", "web-canary", append([]ingressOption{className(testClass), createdAt(1),
			annotation(nx+"canary", "true"), rule("web.example", pathTo(prefix, "/", "web-v2", 80))}, opts...)...)
	}
	for _, tc := range []struct {
		name  string
		ings  []*networkingv1.Ingress
		want  []string // backends and conditions of each route, in the configuration's order
		probs []string // reasons
		rules []string // the frontend rules of conditional routes (those with header conditions)
	}{
		{"a weight alone shares the main route", []*networkingv1.Ingress{main, canary(annotation(nx+"canary-weight", "25"))},
			[]string{"[{ns_web_80 75} {ns_web-v2_80 25}] []"}, nil, nil},
		{"a header with always and never", []*networkingv1.Ingress{main, canary(annotation(nx+"canary-by-header", "X-Canary"))},
			[]string{"[{ns_web_80 1}] []", "[{ns_web-v2_80 1}] [{X-Canary always false false}]", "[{ns_web_80 1}] [{X-Canary never false false}]"}, nil, []string{
				"http-request set-var(txn.backend) str(ns_web-v2_80) if { var(txn.host) -m str web.example } { req.hdr(X-Canary) -m str \"always\" } !{ var(txn.backend) -m found }",
				"http-request set-var(txn.backend) str(ns_web_80) if { var(txn.host) -m str web.example } { req.hdr(X-Canary) -m str \"never\" } !{ var(txn.backend) -m found }",
			}},
		{"a header value", []*networkingv1.Ingress{main, canary(annotation(nx+"canary-by-header", "X-Canary"), annotation(nx+"canary-by-header-value", "beta"),
			annotation(nx+"canary-by-header-pattern", "ignored"))},
			[]string{"[{ns_web_80 1}] []", "[{ns_web-v2_80 1}] [{X-Canary beta false false}]"}, nil, []string{
				"http-request set-var(txn.backend) str(ns_web-v2_80) if { var(txn.host) -m str web.example } { req.hdr(X-Canary) -m str \"beta\" } !{ var(txn.backend) -m found }",
			}},
		{"a header pattern", []*networkingv1.Ingress{main, canary(annotation(nx+"canary-by-header", "X-Canary"), annotation(nx+"canary-by-header-pattern", "^b.*"))},
			[]string{"[{ns_web_80 1}] []", "[{ns_web-v2_80 1}] [{X-Canary ^b.* true false}]"}, nil, []string{
				"http-request set-var(txn.backend) str(ns_web-v2_80) if { var(txn.host) -m str web.example } { req.hdr(X-Canary) -m reg ^b.* } !{ var(txn.backend) -m found }",
			}},
		{"a cookie after a header value, with a weight", []*networkingv1.Ingress{main, canary(annotation(nx+"canary-by-cookie", "try.me"),
			annotation(nx+"canary-by-header", "X-Canary"), annotation(nx+"canary-by-header-value", "beta"), annotation(nx+"canary-weight", "10"))},
			[]string{
				"[{ns_web_80 90} {ns_web-v2_80 10}] []",
				"[{ns_web-v2_80 1}] [{Cookie (^|;\\s*)try\\.me=always(;|$) true false} {X-Canary beta false true}]",
				"[{ns_web_80 1}] [{Cookie (^|;\\s*)try\\.me=never(;|$) true false} {X-Canary beta false true}]",
				"[{ns_web-v2_80 1}] [{X-Canary beta false false}]",
			}, nil, []string{
				"http-request set-var(txn.backend) str(ns_web-v2_80) if { var(txn.host) -m str web.example } { req.hdr(Cookie) -m reg (^|;\\\\s*)try\\\\.me=always(;|$) } !{ req.hdr(X-Canary) -m str \"beta\" } !{ var(txn.backend) -m found }",
				"http-request set-var(txn.backend) str(ns_web_80) if { var(txn.host) -m str web.example } { req.hdr(Cookie) -m reg (^|;\\\\s*)try\\\\.me=never(;|$) } !{ req.hdr(X-Canary) -m str \"beta\" } !{ var(txn.backend) -m found }",
				"http-request set-var(txn.backend) str(ns_web-v2_80) if { var(txn.host) -m str web.example } { req.hdr(X-Canary) -m str \"beta\" } !{ var(txn.backend) -m found }",
			}},
		{"canary keys without canary true are ignored with a problem", []*networkingv1.Ingress{main,
			newIngress("ns", "other", className(testClass), createdAt(1), annotation(nx+"canary-weight", "10"), rule("other.example", pathTo(prefix, "/", "web-v2", 80)))},
			[]string{"[{ns_web-v2_80 1}] []", "[{ns_web_80 1}] []"}, []string{"InvalidAnnotation"}, nil},
		{"a canary without a main Ingress", []*networkingv1.Ingress{canary(annotation(nx+"canary-weight", "10"))}, nil, []string{"CanaryWithoutRoute"}, nil},
		{"a second canary of the same route", []*networkingv1.Ingress{main, canary(annotation(nx+"canary-weight", "10")),
			newIngress("ns", "web-canary2", className(testClass), createdAt(2), annotation(nx+"canary", "true"), annotation(nx+"canary-weight", "50"),
				rule("web.example", pathTo(prefix, "/", "web-v2", 80)))},
			[]string{"[{ns_web_80 90} {ns_web-v2_80 10}] []"}, []string{"CanaryConflict"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := ingress.State{
				IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
				Ingresses:      tc.ings,
				Services:       []*corev1.Service{service("ns", "web", servicePort("http", 80)), service("ns", "web-v2", servicePort("http", 80))},
			}
			res := ingress.Translate(state, testOptions())
			var reasons []string
			for _, p := range res.Problems {
				if p.Reason != "ServiceNotFound" && p.Reason != "ServicePortNotFound" {
					reasons = append(reasons, p.Reason)
				}
			}
			if fmt.Sprint(reasons) != fmt.Sprint(tc.probs) {
				t.Errorf("problems %v, want reasons %v", res.Problems, tc.probs)
			}
			var got []string
			for _, rt := range res.Config.HTTPRoutes {
				got = append(got, fmt.Sprintf("%v %v", rt.Backends, rt.Headers))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("routes\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			files, err := haproxy.Render(res.Config, haproxy.Env{RuntimeDir: "/run/portcullis"})
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			var rules []string
			for _, l := range strings.Split(string(files[haproxy.ConfigFile]), "\n") {
				if l = strings.TrimSpace(l); strings.Contains(l, "req.hdr(") && strings.Contains(l, "txn.backend") {
					rules = append(rules, l)
				}
			}
			if fmt.Sprint(rules) != fmt.Sprint(tc.rules) {
				t.Errorf("frontend rules\n%s\nwant\n%s", strings.Join(rules, "\n"), strings.Join(tc.rules, "\n"))
			}
			haproxytest.Check(t, files)
		})
	}
}
