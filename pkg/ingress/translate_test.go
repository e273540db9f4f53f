package ingress_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/ingress"
)

const (
	testController = "portcullis.io/ingress-controller"
	testClass      = "haproxy"
)

// Builders for the objects Translate reads. They set only what a test names.

func ingressClass(name, controller string, isDefault bool) *networkingv1.IngressClass {
	c := &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       networkingv1.IngressClassSpec{Controller: controller},
	}
	if isDefault {
		c.Annotations = map[string]string{ingress.DefaultClassAnnotation: "true"}
	}
	return c
}

type ingressOption func(*networkingv1.Ingress)

func newIngress(namespace, name string, opts ...ingressOption) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	for _, o := range opts {
		o(ing)
	}
	return ing
}

func className(c string) ingressOption {
	return func(ing *networkingv1.Ingress) { ing.Spec.IngressClassName = &c }
}

func annotation(key, value string) ingressOption {
	return func(ing *networkingv1.Ingress) {
		if ing.Annotations == nil {
			ing.Annotations = map[string]string{}
		}
		ing.Annotations[key] = value
	}
}

// createdAt sets the creation time to 2024-01-01 plus the given number of hours.
func createdAt(hours int) ingressOption {
	return func(ing *networkingv1.Ingress) {
		ing.CreationTimestamp = metav1.NewTime(time.Date(2024, 1, 1, hours, 0, 0, 0, time.UTC))
	}
}

func rule(host string, paths ...networkingv1.HTTPIngressPath) ingressOption {
	return func(ing *networkingv1.Ingress) {
		ing.Spec.Rules = append(ing.Spec.Rules, networkingv1.IngressRule{
			Host:             host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}},
		})
	}
}

func defaultBackend(service string, port int32) ingressOption {
	return func(ing *networkingv1.Ingress) {
		ing.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
			Name: service, Port: networkingv1.ServiceBackendPort{Number: port},
		}}
	}
}

func pathTo(pathType networkingv1.PathType, path, service string, port int32) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{
		Path: path, PathType: &pathType,
		Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
			Name: service, Port: networkingv1.ServiceBackendPort{Number: port},
		}},
	}
}

func pathToNamedPort(pathType networkingv1.PathType, path, service, port string) networkingv1.HTTPIngressPath {
	p := pathTo(pathType, path, service, 0)
	p.Backend.Service.Port = networkingv1.ServiceBackendPort{Name: port}
	return p
}

const (
	prefix  = networkingv1.PathTypePrefix
	exact   = networkingv1.PathTypeExact
	implMix = networkingv1.PathTypeImplementationSpecific
)

func service(namespace, name string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       corev1.ServiceSpec{Ports: ports},
	}
}

func servicePort(name string, port int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: port, Protocol: corev1.ProtocolTCP}
}

type endpoint struct {
	address                     string
	ready, serving, terminating *bool
}

func readyAt(addr string) endpoint { return endpoint{address: addr} }

func endpointSlice(namespace, svc, name string, portName string, port int32, eps ...endpoint) *discoveryv1.EndpointSlice {
	tcp := corev1.ProtocolTCP
	es := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: namespace, Name: name,
			Labels: map[string]string{discoveryv1.LabelServiceName: svc},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port, Protocol: &tcp}},
	}
	for _, e := range eps {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{e.address},
			Conditions: discoveryv1.EndpointConditions{Ready: e.ready, Serving: e.serving, Terminating: e.terminating},
		})
	}
	return es
}

func ptrTo[T any](v T) *T { return &v }

func testOptions() ingress.Options {
	return ingress.Options{
		ControllerName: testController,
		ClassName:      testClass,
		HTTP:           model.Bind{Address: netip.MustParseAddr("0.0.0.0"), Port: 8080},
	}
}

func ingressRef(namespace, name string) ingress.ObjectRef {
	return ingress.ObjectRef{Kind: "Ingress", Namespace: namespace, Name: name}
}

func formatProblemList(ps []ingress.Problem) string {
	if len(ps) == 0 {
		return "(none)"
	}
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "\n\t%s %s %s: %s", p.Object, p.Severity, p.Reason, p.Message)
	}
	return b.String()
}

// route is a translated route as the tests compare it: its match and first backend.
type route struct {
	Host, Path string
	Match      model.PathMatch
	Backend    string
}

// routesOf flattens a configuration's HTTP routes for comparison.
func routesOf(cfg model.Config) []route {
	var out []route
	for _, r := range cfg.HTTPRoutes {
		rt := route{Host: r.Match.Host, Path: r.Match.Path, Match: r.Match.Kind}
		if len(r.Backends) > 0 {
			rt.Backend = r.Backends[0].Name
		}
		out = append(out, rt)
	}
	return out
}

func formatRoutes(rs []route) string {
	if len(rs) == 0 {
		return "(none)"
	}
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "\n\t%q %q %s -> %s", r.Host, r.Path, r.Match, r.Backend)
	}
	return b.String()
}

func checkProblems(t *testing.T, got, want []ingress.Problem) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("problems:\ngot  %s\nwant %s", formatProblemList(got), formatProblemList(want))
	}
}

func checkRoutes(t *testing.T, got, want []route) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("routes:\ngot  %s\nwant %s", formatRoutes(got), formatRoutes(want))
	}
}

func backendNames(cfg model.Config) []string {
	var names []string
	for _, b := range cfg.Backends {
		names = append(names, b.Name)
	}
	return names
}

func TestOwnership(t *testing.T) {
	ours := ingressClass(testClass, testController, false)
	oursDefault := ingressClass(testClass, testController, true)
	theirs := ingressClass("nginx", "k8s.io/ingress-nginx", false)
	theirsDefault := ingressClass("nginx", "k8s.io/ingress-nginx", true)

	tests := []struct {
		name              string
		classes           []*networkingv1.IngressClass
		watchWithoutClass bool
		ingress           *networkingv1.Ingress
		want              bool
	}{
		{
			name:    "an Ingress naming our IngressClass is ours",
			classes: []*networkingv1.IngressClass{ours, theirs},
			ingress: newIngress("default", "x", className(testClass)),
			want:    true,
		},
		{
			name:    "an Ingress naming another controller's IngressClass is not ours",
			classes: []*networkingv1.IngressClass{ours, theirs},
			ingress: newIngress("default", "x", className("nginx")),
		},
		{
			name:    "an Ingress naming an IngressClass that does not exist is not ours",
			classes: []*networkingv1.IngressClass{ours},
			ingress: newIngress("default", "x", className("missing")),
		},
		{
			name:    "an Ingress naming our class name with no IngressClass object is not ours",
			ingress: newIngress("default", "x", className(testClass)),
		},
		{
			name:    "an IngressClass of the same name but another controller does not make it ours",
			classes: []*networkingv1.IngressClass{ingressClass(testClass, "k8s.io/ingress-nginx", true)},
			ingress: newIngress("default", "x", className(testClass)),
		},
		{
			name:              "an explicit class of another controller is not ours even with watchWithoutClass",
			classes:           []*networkingv1.IngressClass{ours, theirs},
			watchWithoutClass: true,
			ingress:           newIngress("default", "x", className("nginx")),
		},
		{
			name:    "spec.ingressClassName takes precedence over the legacy annotation",
			classes: []*networkingv1.IngressClass{ours, theirs},
			ingress: newIngress("default", "x", className("nginx"), annotation(ingress.LegacyClassAnnotation, testClass)),
		},
		{
			name:    "the legacy annotation with our class name is ours without any IngressClass",
			ingress: newIngress("default", "x", annotation(ingress.LegacyClassAnnotation, testClass)),
			want:    true,
		},
		{
			name:    "the legacy annotation with another class name is not ours even when our class is the default",
			classes: []*networkingv1.IngressClass{oursDefault},
			ingress: newIngress("default", "x", annotation(ingress.LegacyClassAnnotation, "nginx")),
		},
		{
			name:              "an empty legacy annotation is a class name, not the absence of one",
			classes:           []*networkingv1.IngressClass{oursDefault},
			watchWithoutClass: true,
			ingress:           newIngress("default", "x", annotation(ingress.LegacyClassAnnotation, "")),
		},
		{
			name:    "a classless Ingress is ours when our IngressClass is the cluster default",
			classes: []*networkingv1.IngressClass{oursDefault, theirs},
			ingress: newIngress("default", "x"),
			want:    true,
		},
		{
			name:    "a classless Ingress is not ours when another controller's class is the default",
			classes: []*networkingv1.IngressClass{ours, theirsDefault},
			ingress: newIngress("default", "x"),
		},
		{
			name:    "a classless Ingress is not ours when no class is the default",
			classes: []*networkingv1.IngressClass{ours},
			ingress: newIngress("default", "x"),
		},
		{
			name: "the default-class annotation must be exactly \"true\"",
			classes: []*networkingv1.IngressClass{func() *networkingv1.IngressClass {
				c := ingressClass(testClass, testController, false)
				c.Annotations = map[string]string{ingress.DefaultClassAnnotation: "True"}
				return c
			}()},
			ingress: newIngress("default", "x"),
		},
		{
			name:              "a classless Ingress is ours with watchWithoutClass",
			classes:           []*networkingv1.IngressClass{theirsDefault},
			watchWithoutClass: true,
			ingress:           newIngress("default", "x"),
			want:              true,
		},
		{
			name:              "a classless Ingress is ours with watchWithoutClass and no IngressClass at all",
			watchWithoutClass: true,
			ingress:           newIngress("default", "x"),
			want:              true,
		},
		{
			name:    "an unrelated annotation does not make a classless Ingress ours",
			classes: []*networkingv1.IngressClass{ours},
			ingress: newIngress("default", "x", annotation("example.com/class", testClass)),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions()
			opts.WatchWithoutClass = tt.watchWithoutClass
			// A route to a missing Service: owned Ingresses get a route and a problem, others
			// get neither.
			tt.ingress.Spec.Rules = []networkingv1.IngressRule{{
				Host: "x.example.com",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{pathTo(prefix, "/", "missing", 80)},
				}},
			}}
			res := ingress.Translate(ingress.State{
				Ingresses:      []*networkingv1.Ingress{tt.ingress},
				IngressClasses: tt.classes,
			}, opts)

			var wantOwned []types.NamespacedName
			if tt.want {
				wantOwned = []types.NamespacedName{{Namespace: "default", Name: "x"}}
			}
			if !slices.Equal(res.Owned, wantOwned) {
				t.Errorf("owned = %v, want %v", res.Owned, wantOwned)
			}
			if got := len(routesOf(res.Config)) > 0; got != tt.want {
				t.Errorf("routes = %s, want routes: %v", formatRoutes(routesOf(res.Config)), tt.want)
			}
			if got := len(res.Problems) > 0; got != tt.want {
				t.Errorf("problems = %s, want problems: %v", formatProblemList(res.Problems), tt.want)
			}
		})
	}
}

func TestOwnedListsEveryOwnedIngressOldestFirst(t *testing.T) {
	state := ingress.State{
		IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
		Ingresses: []*networkingv1.Ingress{
			newIngress("b", "newest", className(testClass), createdAt(3)),
			newIngress("z", "empty-but-ours", className(testClass), createdAt(1)),
			newIngress("a", "not-ours", className("nginx"), createdAt(0)),
			newIngress("a", "tie-b", className(testClass), createdAt(2)),
			newIngress("a", "tie-a", className(testClass), createdAt(2)),
		},
	}
	res := ingress.Translate(state, testOptions())
	want := []types.NamespacedName{
		{Namespace: "z", Name: "empty-but-ours"},
		{Namespace: "a", Name: "tie-a"},
		{Namespace: "a", Name: "tie-b"},
		{Namespace: "b", Name: "newest"},
	}
	if !slices.Equal(res.Owned, want) {
		t.Errorf("owned = %v, want %v", res.Owned, want)
	}
	checkProblems(t, res.Problems, nil)
}

func TestHostAndPathNormalisation(t *testing.T) {
	const where = "spec.rules[0].http.paths[0]"
	invalidPath := func(path string) []ingress.Problem {
		return []ingress.Problem{{
			Object: ingressRef("default", "web"), Severity: ingress.Error, Reason: "InvalidPath",
			Message: fmt.Sprintf("%s: path %q must start with / and contain only URL path characters; path ignored", where, path),
		}}
	}
	invalidHost := func(host string) []ingress.Problem {
		return []ingress.Problem{{
			Object: ingressRef("default", "web"), Severity: ingress.Error, Reason: "InvalidHost",
			Message: fmt.Sprintf("spec.rules[0].host %q is not a valid host name; rule ignored", host),
		}}
	}
	routeTo := func(host, path string, m model.PathMatch) []route {
		return []route{{Host: host, Path: path, Match: m, Backend: "default_web_80"}}
	}
	tests := []struct {
		name         string
		host         string
		path         networkingv1.HTTPIngressPath
		wantRoutes   []route
		wantProblems []ingress.Problem
	}{
		{
			name:       "a Prefix path loses its trailing slash",
			host:       "example.com",
			path:       pathTo(prefix, "/foo/", "web", 80),
			wantRoutes: routeTo("example.com", "/foo", model.MatchPrefix),
		},
		{
			name:       "a Prefix path loses every trailing slash",
			host:       "example.com",
			path:       pathTo(prefix, "/foo///", "web", 80),
			wantRoutes: routeTo("example.com", "/foo", model.MatchPrefix),
		},
		{
			name:       "the Prefix root stays the root",
			host:       "example.com",
			path:       pathTo(prefix, "/", "web", 80),
			wantRoutes: routeTo("example.com", "/", model.MatchPrefix),
		},
		{
			name:       "a Prefix made of slashes is the root",
			host:       "example.com",
			path:       pathTo(prefix, "///", "web", 80),
			wantRoutes: routeTo("example.com", "/", model.MatchPrefix),
		},
		{
			name:       "an inner double slash is kept",
			host:       "example.com",
			path:       pathTo(prefix, "/a//b", "web", 80),
			wantRoutes: routeTo("example.com", "/a//b", model.MatchPrefix),
		},
		{
			name:       "an Exact path keeps its trailing slash",
			host:       "example.com",
			path:       pathTo(exact, "/foo/", "web", 80),
			wantRoutes: routeTo("example.com", "/foo/", model.MatchExact),
		},
		{
			name:       "ImplementationSpecific is treated as Prefix",
			host:       "example.com",
			path:       pathTo(implMix, "/foo/", "web", 80),
			wantRoutes: routeTo("example.com", "/foo", model.MatchPrefix),
		},
		{
			name: "a missing pathType is treated as Prefix",
			host: "example.com",
			path: func() networkingv1.HTTPIngressPath {
				p := pathTo(prefix, "/foo", "web", 80)
				p.PathType = nil
				return p
			}(),
			wantRoutes: routeTo("example.com", "/foo", model.MatchPrefix),
		},
		{
			name:       "an empty path is the root",
			host:       "example.com",
			path:       pathTo(implMix, "", "web", 80),
			wantRoutes: routeTo("example.com", "/", model.MatchPrefix),
		},
		{
			name:       "paths keep their case",
			host:       "example.com",
			path:       pathTo(exact, "/Foo/BAR", "web", 80),
			wantRoutes: routeTo("example.com", "/Foo/BAR", model.MatchExact),
		},
		{
			name:       "percent-encoding and sub-delimiters are kept verbatim",
			host:       "example.com",
			path:       pathTo(exact, "/a%20b/c;d=e/@f:g/!$&'()*+,", "web", 80),
			wantRoutes: routeTo("example.com", "/a%20b/c;d=e/@f:g/!$&'()*+,", model.MatchExact),
		},
		{
			name:         "a path with a space is ignored with a problem",
			host:         "example.com",
			path:         pathTo(prefix, "/a b", "web", 80),
			wantProblems: invalidPath("/a b"),
		},
		{
			name:         "a path with a newline is ignored with a problem",
			host:         "example.com",
			path:         pathTo(prefix, "/a\nb", "web", 80),
			wantProblems: invalidPath("/a\nb"),
		},
		{
			name:         "a path with a carriage return is ignored with a problem",
			host:         "example.com",
			path:         pathTo(exact, "/a\rb", "web", 80),
			wantProblems: invalidPath("/a\rb"),
		},
		{
			name:         "a path with a # is ignored with a problem",
			host:         "example.com",
			path:         pathTo(exact, "/a#b", "web", 80),
			wantProblems: invalidPath("/a#b"),
		},
		{
			name:         "a path with a query string is ignored with a problem",
			host:         "example.com",
			path:         pathTo(exact, "/a?b=c", "web", 80),
			wantProblems: invalidPath("/a?b=c"),
		},
		{
			name:         "a path with a double quote is ignored with a problem",
			host:         "example.com",
			path:         pathTo(prefix, `/a"b`, "web", 80),
			wantProblems: invalidPath(`/a"b`),
		},
		{
			name:         "a path with a backslash is ignored with a problem",
			host:         "example.com",
			path:         pathTo(prefix, `/a\b`, "web", 80),
			wantProblems: invalidPath(`/a\b`),
		},
		{
			name:         "a path with non-ASCII characters is ignored with a problem",
			host:         "example.com",
			path:         pathTo(prefix, "/caf\u00e9", "web", 80),
			wantProblems: invalidPath("/caf\u00e9"),
		},
		{
			name:         "a relative path is ignored with a problem",
			host:         "example.com",
			path:         pathTo(prefix, "foo", "web", 80),
			wantProblems: invalidPath("foo"),
		},
		{
			name:         "a path longer than 2048 bytes is ignored with a problem",
			host:         "example.com",
			path:         pathTo(prefix, "/"+strings.Repeat("a", 2048), "web", 80),
			wantProblems: invalidPath("/" + strings.Repeat("a", 2048)),
		},
		{
			name:       "an upper-case host is lower-cased",
			host:       "WWW.Example.COM",
			path:       pathTo(prefix, "/", "web", 80),
			wantRoutes: routeTo("www.example.com", "/", model.MatchPrefix),
		},
		{
			name:       "a host loses its trailing dot",
			host:       "example.com.",
			path:       pathTo(prefix, "/", "web", 80),
			wantRoutes: routeTo("example.com", "/", model.MatchPrefix),
		},
		{
			name:       "an upper-case wildcard host is lower-cased",
			host:       "*.Example.com",
			path:       pathTo(prefix, "/", "web", 80),
			wantRoutes: routeTo("*.example.com", "/", model.MatchPrefix),
		},
		{
			name:       "an empty host matches every host",
			host:       "",
			path:       pathTo(prefix, "/", "web", 80),
			wantRoutes: routeTo("", "/", model.MatchPrefix),
		},
		{
			name:         "a host with an underscore is ignored with a problem",
			host:         "a_b.example.com",
			path:         pathTo(prefix, "/", "web", 80),
			wantProblems: invalidHost("a_b.example.com"),
		},
		{
			name:         "a host with a port is ignored with a problem",
			host:         "example.com:8080",
			path:         pathTo(prefix, "/", "web", 80),
			wantProblems: invalidHost("example.com:8080"),
		},
		{
			name:         "a host with a slash is ignored with a problem",
			host:         "example.com/x",
			path:         pathTo(prefix, "/", "web", 80),
			wantProblems: invalidHost("example.com/x"),
		},
		{
			name:         "a host with a space is ignored with a problem",
			host:         "example .com",
			path:         pathTo(prefix, "/", "web", 80),
			wantProblems: invalidHost("example .com"),
		},
		{
			name:         "a wildcard in the middle of a host is ignored with a problem",
			host:         "a.*.example.com",
			path:         pathTo(prefix, "/", "web", 80),
			wantProblems: invalidHost("a.*.example.com"),
		},
		{
			name:         "a double wildcard is ignored with a problem",
			host:         "*.*.example.com",
			path:         pathTo(prefix, "/", "web", 80),
			wantProblems: invalidHost("*.*.example.com"),
		},
		{
			name:         "a bare wildcard is ignored with a problem",
			host:         "*",
			path:         pathTo(prefix, "/", "web", 80),
			wantProblems: invalidHost("*"),
		},
		{
			name:         "a label starting with a hyphen is ignored with a problem",
			host:         "-a.example.com",
			path:         pathTo(prefix, "/", "web", 80),
			wantProblems: invalidHost("-a.example.com"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ingress.Translate(ingress.State{
				IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
				Ingresses:      []*networkingv1.Ingress{newIngress("default", "web", className(testClass), rule(tt.host, tt.path))},
				Services:       []*corev1.Service{service("default", "web", servicePort("", 80))},
			}, testOptions())
			checkRoutes(t, routesOf(res.Config), tt.wantRoutes)
			checkProblems(t, res.Problems, tt.wantProblems)
		})
	}
}

func TestBackendNaming(t *testing.T) {
	t.Run("BackendName joins namespace, service and port with underscores", func(t *testing.T) {
		for _, tt := range []struct{ ns, svc, port, want string }{
			{"default", "web", "80", "default_web_80"},
			{"shop", "api-v2", "http", "shop_api-v2_http"},
			{"a", "b", "default", "a_b_default"},
		} {
			if got := ingress.BackendName(tt.ns, tt.svc, tt.port); got != tt.want {
				t.Errorf("BackendName(%q, %q, %q) = %q, want %q", tt.ns, tt.svc, tt.port, got, tt.want)
			}
		}
	})

	tests := []struct {
		name         string
		ingresses    []*networkingv1.Ingress
		services     []*corev1.Service
		opts         func(*ingress.Options)
		wantBackends []string
		wantRoutes   []route
		wantDefault  string
		wantProblems []ingress.Problem
	}{
		{
			name: "a port by number names the backend after the number",
			ingresses: []*networkingv1.Ingress{newIngress("shop", "web", className(testClass),
				rule("shop.example.com", pathTo(prefix, "/", "web", 8080)))},
			services:     []*corev1.Service{service("shop", "web", servicePort("http", 8080))},
			wantBackends: []string{"shop_web_8080"},
			wantRoutes:   []route{{Host: "shop.example.com", Path: "/", Match: model.MatchPrefix, Backend: "shop_web_8080"}},
		},
		{
			name: "a port by name names the backend after the name",
			ingresses: []*networkingv1.Ingress{newIngress("shop", "web", className(testClass),
				rule("shop.example.com", pathToNamedPort(prefix, "/", "web", "http")))},
			services:     []*corev1.Service{service("shop", "web", servicePort("http", 8080))},
			wantBackends: []string{"shop_web_http"},
			wantRoutes:   []route{{Host: "shop.example.com", Path: "/", Match: model.MatchPrefix, Backend: "shop_web_http"}},
		},
		{
			name: "paths to the same Service port share one backend, across Ingresses",
			ingresses: []*networkingv1.Ingress{
				newIngress("shop", "one", className(testClass), rule("a.example.com", pathTo(prefix, "/a", "web", 80), pathTo(exact, "/b", "web", 80))),
				newIngress("shop", "two", className(testClass), rule("b.example.com", pathTo(prefix, "/", "web", 80))),
			},
			services:     []*corev1.Service{service("shop", "web", servicePort("", 80))},
			wantBackends: []string{"shop_web_80"},
			wantRoutes: []route{
				{Host: "a.example.com", Path: "/a", Match: model.MatchPrefix, Backend: "shop_web_80"},
				{Host: "a.example.com", Path: "/b", Match: model.MatchExact, Backend: "shop_web_80"},
				{Host: "b.example.com", Path: "/", Match: model.MatchPrefix, Backend: "shop_web_80"},
			},
		},
		{
			name: "Services of the same name in two namespaces are two backends",
			ingresses: []*networkingv1.Ingress{
				newIngress("blue", "web", className(testClass), rule("blue.example.com", pathTo(prefix, "/", "web", 80))),
				newIngress("green", "web", className(testClass), rule("green.example.com", pathTo(prefix, "/", "web", 80))),
			},
			services:     []*corev1.Service{service("blue", "web", servicePort("", 80)), service("green", "web", servicePort("", 80))},
			wantBackends: []string{"blue_web_80", "green_web_80"},
			wantRoutes: []route{
				{Host: "blue.example.com", Path: "/", Match: model.MatchPrefix, Backend: "blue_web_80"},
				{Host: "green.example.com", Path: "/", Match: model.MatchPrefix, Backend: "green_web_80"},
			},
		},
		{
			name: "two ports of one Service are two backends",
			ingresses: []*networkingv1.Ingress{newIngress("shop", "web", className(testClass),
				rule("a.example.com", pathTo(prefix, "/", "web", 80), pathTo(prefix, "/admin", "web", 9000)))},
			services:     []*corev1.Service{service("shop", "web", servicePort("http", 80), servicePort("admin", 9000))},
			wantBackends: []string{"shop_web_80", "shop_web_9000"},
			wantRoutes: []route{
				{Host: "a.example.com", Path: "/", Match: model.MatchPrefix, Backend: "shop_web_80"},
				{Host: "a.example.com", Path: "/admin", Match: model.MatchPrefix, Backend: "shop_web_9000"},
			},
		},
		{
			name: "the default backend Service option is named after the Service with port \"default\"",
			ingresses: []*networkingv1.Ingress{newIngress("shop", "web", className(testClass),
				rule("a.example.com", pathTo(prefix, "/", "web", 80)))},
			services: []*corev1.Service{service("shop", "web", servicePort("", 80)), service("ingress", "fallback", servicePort("http", 8080))},
			opts: func(o *ingress.Options) {
				o.DefaultBackendService = types.NamespacedName{Namespace: "ingress", Name: "fallback"}
			},
			wantBackends: []string{"ingress_fallback__default", "shop_web_80"},
			wantRoutes:   []route{{Host: "a.example.com", Path: "/", Match: model.MatchPrefix, Backend: "shop_web_80"}},
			wantDefault:  "ingress_fallback__default",
		},
		{
			name: "spec.defaultBackend takes precedence over the default backend Service option",
			ingresses: []*networkingv1.Ingress{newIngress("shop", "web", className(testClass),
				defaultBackend("web", 80))},
			services: []*corev1.Service{service("shop", "web", servicePort("", 80)), service("ingress", "fallback", servicePort("http", 8080))},
			opts: func(o *ingress.Options) {
				o.DefaultBackendService = types.NamespacedName{Namespace: "ingress", Name: "fallback"}
			},
			wantBackends: []string{"shop_web_80"},
			wantDefault:  "shop_web_80",
		},
		{
			name: "a Service name that is not a valid backend name is ignored with a problem",
			ingresses: []*networkingv1.Ingress{newIngress("shop", "web", className(testClass),
				rule("a.example.com", pathTo(prefix, "/", "Web.Front", 80)))},
			wantProblems: []ingress.Problem{{
				Object: ingressRef("shop", "web"), Severity: ingress.Error, Reason: "InvalidBackend",
				Message: `spec.rules[0].http.paths[0].backend: service "Web.Front" port "80" is not a valid name; path ignored`,
			}},
		},
		{
			name: "a backend without a Service is ignored with a problem",
			ingresses: []*networkingv1.Ingress{newIngress("shop", "web", className(testClass),
				rule("a.example.com", networkingv1.HTTPIngressPath{Path: "/", PathType: ptrTo(prefix)}))},
			wantProblems: []ingress.Problem{{
				Object: ingressRef("shop", "web"), Severity: ingress.Error, Reason: "InvalidBackend",
				Message: `spec.rules[0].http.paths[0].backend: no service given; path ignored`,
			}},
		},
		{
			name: "a missing Service is reported once per backend, by the first Ingress that uses it",
			ingresses: []*networkingv1.Ingress{
				newIngress("shop", "one", className(testClass), createdAt(1), rule("a.example.com", pathTo(prefix, "/", "gone", 80))),
				newIngress("shop", "two", className(testClass), createdAt(2), rule("b.example.com", pathTo(prefix, "/", "gone", 80))),
			},
			wantBackends: []string{"shop_gone_80"},
			wantRoutes: []route{
				{Host: "a.example.com", Path: "/", Match: model.MatchPrefix, Backend: "shop_gone_80"},
				{Host: "b.example.com", Path: "/", Match: model.MatchPrefix, Backend: "shop_gone_80"},
			},
			wantProblems: []ingress.Problem{{
				Object: ingressRef("shop", "one"), Severity: ingress.Warning, Reason: "ServiceNotFound",
				Message: `spec.rules[0].http.paths[0].backend: service "gone" not found; requests get 503`,
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions()
			if tt.opts != nil {
				tt.opts(&opts)
			}
			res := ingress.Translate(ingress.State{
				IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
				Ingresses:      tt.ingresses,
				Services:       tt.services,
			}, opts)
			if got := backendNames(res.Config); !slices.Equal(got, tt.wantBackends) {
				t.Errorf("backends = %q, want %q", got, tt.wantBackends)
			}
			if res.Config.DefaultBackend != tt.wantDefault {
				t.Errorf("default backend = %q, want %q", res.Config.DefaultBackend, tt.wantDefault)
			}
			checkRoutes(t, routesOf(res.Config), tt.wantRoutes)
			checkProblems(t, res.Problems, tt.wantProblems)
		})
	}
}

// The operator's default backend Service must not take over the backend of an Ingress path that
// names a Service port called "default" on the same Service.
func TestDefaultBackendServiceDoesNotClashWithAPortNamedDefault(t *testing.T) {
	state := ingress.State{
		IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
		Ingresses: []*networkingv1.Ingress{newIngress("ingress", "web", className(testClass),
			rule("a.example.com", pathToNamedPort(prefix, "/", "fallback", "default")))},
		Services: []*corev1.Service{service("ingress", "fallback", servicePort("http", 80), servicePort("default", 8080))},
		EndpointSlices: []*discoveryv1.EndpointSlice{func() *discoveryv1.EndpointSlice {
			es := endpointSlice("ingress", "fallback", "fallback-1", "http", 8000, readyAt("10.0.0.1"))
			es.Ports = append(es.Ports, discoveryv1.EndpointPort{Name: ptrTo("default"), Port: ptrTo(int32(8888)), Protocol: ptrTo(corev1.ProtocolTCP)})
			return es
		}()},
	}
	opts := testOptions()
	opts.DefaultBackendService = types.NamespacedName{Namespace: "ingress", Name: "fallback"}
	res := ingress.Translate(state, opts)

	if len(routesOf(res.Config)) != 1 {
		t.Fatalf("routes = %s, want one", formatRoutes(routesOf(res.Config)))
	}
	routeBackend, _ := res.Config.Backend(routesOf(res.Config)[0].Backend)
	wantRoute := []model.Server{{Address: netip.MustParseAddr("10.0.0.1"), Port: 8888}}
	if !slices.Equal(routeBackend.Servers, wantRoute) {
		t.Errorf("servers of the route's backend %q = %v, want %v (the Service port named \"default\")",
			routeBackend.Name, routeBackend.Servers, wantRoute)
	}
	defBackend, _ := res.Config.Backend(res.Config.DefaultBackend)
	wantDefault := []model.Server{{Address: netip.MustParseAddr("10.0.0.1"), Port: 8000}}
	if !slices.Equal(defBackend.Servers, wantDefault) {
		t.Errorf("servers of the default backend %q = %v, want %v (the Service's first port)",
			defBackend.Name, defBackend.Servers, wantDefault)
	}
}

func TestConflictOrdering(t *testing.T) {
	conflict := func(ns, name, where, host, path, match, olderNS, olderName string) ingress.Problem {
		return ingress.Problem{
			Object: ingressRef(ns, name), Severity: ingress.Warning, Reason: "RouteConflict",
			Message: fmt.Sprintf("%s: host %q path %q (%s) is already served by the older Ingress %s/%s; this path is ignored",
				where, host, path, match, olderNS, olderName),
		}
	}
	tests := []struct {
		name         string
		ingresses    []*networkingv1.Ingress
		wantRoutes   []route
		wantProblems []ingress.Problem
	}{
		{
			name: "the older Ingress wins, even when listed last",
			ingresses: []*networkingv1.Ingress{
				newIngress("a", "newer", className(testClass), createdAt(5), rule("x.example.com", pathTo(prefix, "/api", "newer", 80))),
				newIngress("z", "older", className(testClass), createdAt(1), rule("x.example.com", pathTo(prefix, "/api", "older", 80))),
			},
			wantRoutes: []route{{Host: "x.example.com", Path: "/api", Match: model.MatchPrefix, Backend: "z_older_80"}},
			wantProblems: []ingress.Problem{
				conflict("a", "newer", "spec.rules[0].http.paths[0]", "x.example.com", "/api", "Prefix", "z", "older"),
			},
		},
		{
			name: "at equal creation times the namespace decides",
			ingresses: []*networkingv1.Ingress{
				newIngress("b", "a", className(testClass), createdAt(1), rule("x.example.com", pathTo(exact, "/", "svc", 80))),
				newIngress("a", "z", className(testClass), createdAt(1), rule("x.example.com", pathTo(exact, "/", "svc", 80))),
			},
			wantRoutes: []route{{Host: "x.example.com", Path: "/", Match: model.MatchExact, Backend: "a_svc_80"}},
			wantProblems: []ingress.Problem{
				conflict("b", "a", "spec.rules[0].http.paths[0]", "x.example.com", "/", "Exact", "a", "z"),
			},
		},
		{
			name: "at equal creation times and namespaces the name decides",
			ingresses: []*networkingv1.Ingress{
				newIngress("ns", "b", className(testClass), createdAt(1), rule("x.example.com", pathTo(prefix, "/", "b", 80))),
				newIngress("ns", "a", className(testClass), createdAt(1), rule("x.example.com", pathTo(prefix, "/", "a", 80))),
			},
			wantRoutes: []route{{Host: "x.example.com", Path: "/", Match: model.MatchPrefix, Backend: "ns_a_80"}},
			wantProblems: []ingress.Problem{
				conflict("ns", "b", "spec.rules[0].http.paths[0]", "x.example.com", "/", "Prefix", "ns", "a"),
			},
		},
		{
			name: "creation time beats namespace and name",
			ingresses: []*networkingv1.Ingress{
				newIngress("a", "a", className(testClass), createdAt(2), rule("x.example.com", pathTo(prefix, "/", "a", 80))),
				newIngress("z", "z", className(testClass), createdAt(1), rule("x.example.com", pathTo(prefix, "/", "z", 80))),
			},
			wantRoutes: []route{{Host: "x.example.com", Path: "/", Match: model.MatchPrefix, Backend: "z_z_80"}},
			wantProblems: []ingress.Problem{
				conflict("a", "a", "spec.rules[0].http.paths[0]", "x.example.com", "/", "Prefix", "z", "z"),
			},
		},
		{
			name: "Exact and Prefix on the same path are two routes, not a conflict",
			ingresses: []*networkingv1.Ingress{
				newIngress("ns", "one", className(testClass), createdAt(1), rule("x.example.com", pathTo(prefix, "/docs", "tree", 80))),
				newIngress("ns", "two", className(testClass), createdAt(2), rule("x.example.com", pathTo(exact, "/docs", "index", 80))),
			},
			wantRoutes: []route{
				{Host: "x.example.com", Path: "/docs", Match: model.MatchExact, Backend: "ns_index_80"},
				{Host: "x.example.com", Path: "/docs", Match: model.MatchPrefix, Backend: "ns_tree_80"},
			},
		},
		{
			name: "a Prefix with a trailing slash conflicts with the same Prefix without",
			ingresses: []*networkingv1.Ingress{
				newIngress("ns", "one", className(testClass), createdAt(1), rule("x.example.com", pathTo(prefix, "/app", "one", 80))),
				newIngress("ns", "two", className(testClass), createdAt(2), rule("x.example.com", pathTo(implMix, "/app/", "two", 80))),
			},
			wantRoutes: []route{{Host: "x.example.com", Path: "/app", Match: model.MatchPrefix, Backend: "ns_one_80"}},
			wantProblems: []ingress.Problem{
				conflict("ns", "two", "spec.rules[0].http.paths[0]", "x.example.com", "/app/", "Prefix", "ns", "one"),
			},
		},
		{
			name: "hosts differing only in case conflict, and the problem quotes the host as written",
			ingresses: []*networkingv1.Ingress{
				newIngress("ns", "one", className(testClass), createdAt(1), rule("x.example.com", pathTo(prefix, "/", "one", 80))),
				newIngress("ns", "two", className(testClass), createdAt(2), rule("X.Example.com", pathTo(prefix, "/", "two", 80))),
			},
			wantRoutes: []route{{Host: "x.example.com", Path: "/", Match: model.MatchPrefix, Backend: "ns_one_80"}},
			wantProblems: []ingress.Problem{
				conflict("ns", "two", "spec.rules[0].http.paths[0]", "X.Example.com", "/", "Prefix", "ns", "one"),
			},
		},
		{
			name: "the same path on different hosts, or with and without a host, does not conflict",
			ingresses: []*networkingv1.Ingress{
				newIngress("ns", "one", className(testClass), createdAt(1), rule("x.example.com", pathTo(prefix, "/", "one", 80))),
				newIngress("ns", "two", className(testClass), createdAt(2), rule("y.example.com", pathTo(prefix, "/", "two", 80))),
				newIngress("ns", "three", className(testClass), createdAt(3), rule("", pathTo(prefix, "/", "three", 80))),
				newIngress("ns", "four", className(testClass), createdAt(4), rule("*.example.com", pathTo(prefix, "/", "four", 80))),
			},
			wantRoutes: []route{
				{Host: "", Path: "/", Match: model.MatchPrefix, Backend: "ns_three_80"},
				{Host: "*.example.com", Path: "/", Match: model.MatchPrefix, Backend: "ns_four_80"},
				{Host: "x.example.com", Path: "/", Match: model.MatchPrefix, Backend: "ns_one_80"},
				{Host: "y.example.com", Path: "/", Match: model.MatchPrefix, Backend: "ns_two_80"},
			},
		},
		{
			name: "only the conflicting path of the newer Ingress is ignored",
			ingresses: []*networkingv1.Ingress{
				newIngress("ns", "newer", className(testClass), createdAt(2), rule("x.example.com",
					pathTo(prefix, "/keep", "newer", 80), pathTo(prefix, "/api", "newer", 80))),
				newIngress("ns", "older", className(testClass), createdAt(1), rule("x.example.com", pathTo(prefix, "/api", "older", 80))),
			},
			wantRoutes: []route{
				{Host: "x.example.com", Path: "/api", Match: model.MatchPrefix, Backend: "ns_older_80"},
				{Host: "x.example.com", Path: "/keep", Match: model.MatchPrefix, Backend: "ns_newer_80"},
			},
			wantProblems: []ingress.Problem{
				conflict("ns", "newer", "spec.rules[0].http.paths[1]", "x.example.com", "/api", "Prefix", "ns", "older"),
			},
		},
		{
			name: "three claimants: the oldest wins and both others get a problem",
			ingresses: []*networkingv1.Ingress{
				newIngress("ns", "c", className(testClass), createdAt(3), rule("x.example.com", pathTo(exact, "/", "c", 80))),
				newIngress("ns", "b", className(testClass), createdAt(2), rule("x.example.com", pathTo(exact, "/", "b", 80))),
				newIngress("ns", "a", className(testClass), createdAt(1), rule("x.example.com", pathTo(exact, "/", "a", 80))),
			},
			wantRoutes: []route{{Host: "x.example.com", Path: "/", Match: model.MatchExact, Backend: "ns_a_80"}},
			wantProblems: []ingress.Problem{
				conflict("ns", "b", "spec.rules[0].http.paths[0]", "x.example.com", "/", "Exact", "ns", "a"),
				conflict("ns", "c", "spec.rules[0].http.paths[0]", "x.example.com", "/", "Exact", "ns", "a"),
			},
		},
		{
			name: "an Ingress repeating its own path to the same backend is not a conflict",
			ingresses: []*networkingv1.Ingress{
				newIngress("ns", "one", className(testClass), rule("x.example.com", pathTo(prefix, "/", "one", 80)), rule("x.example.com", pathTo(prefix, "/", "one", 80))),
			},
			wantRoutes: []route{{Host: "x.example.com", Path: "/", Match: model.MatchPrefix, Backend: "ns_one_80"}},
		},
		{
			name: "an Ingress not ours does not claim routes",
			ingresses: []*networkingv1.Ingress{
				newIngress("ns", "theirs", className("nginx"), createdAt(1), rule("x.example.com", pathTo(prefix, "/", "theirs", 80))),
				newIngress("ns", "ours", className(testClass), createdAt(2), rule("x.example.com", pathTo(prefix, "/", "ours", 80))),
			},
			wantRoutes: []route{{Host: "x.example.com", Path: "/", Match: model.MatchPrefix, Backend: "ns_ours_80"}},
		},
		{
			name: "an older path that is ignored does not claim its route",
			ingresses: []*networkingv1.Ingress{
				newIngress("ns", "older", className(testClass), createdAt(1), rule("x.example.com",
					networkingv1.HTTPIngressPath{Path: "/", PathType: ptrTo(prefix), Backend: networkingv1.IngressBackend{
						Resource: &corev1.TypedLocalObjectReference{Kind: "Bucket", Name: "b"},
					}})),
				newIngress("ns", "newer", className(testClass), createdAt(2), rule("x.example.com", pathTo(prefix, "/", "newer", 80))),
			},
			wantRoutes: []route{{Host: "x.example.com", Path: "/", Match: model.MatchPrefix, Backend: "ns_newer_80"}},
			wantProblems: []ingress.Problem{{
				Object: ingressRef("ns", "older"), Severity: ingress.Error, Reason: "UnsupportedBackend",
				Message: "spec.rules[0].http.paths[0].backend: resource backends are not supported; path ignored",
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var services []*corev1.Service
			for _, ing := range tt.ingresses {
				for _, r := range ing.Spec.Rules {
					for _, p := range r.HTTP.Paths {
						if p.Backend.Service != nil {
							services = append(services, service(ing.Namespace, p.Backend.Service.Name, servicePort("", 80)))
						}
					}
				}
			}
			state := ingress.State{
				IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
				Ingresses:      tt.ingresses,
				Services:       services,
			}
			res := ingress.Translate(state, testOptions())
			checkRoutes(t, routesOf(res.Config), tt.wantRoutes)
			checkProblems(t, res.Problems, tt.wantProblems)

			// Input order never matters.
			reversed := slices.Clone(tt.ingresses)
			slices.Reverse(reversed)
			state.Ingresses = reversed
			res2 := ingress.Translate(state, testOptions())
			checkRoutes(t, routesOf(res2.Config), tt.wantRoutes)
			checkProblems(t, res2.Problems, tt.wantProblems)
		})
	}
}

func TestDefaultBackendConflict(t *testing.T) {
	state := ingress.State{
		IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
		Ingresses: []*networkingv1.Ingress{
			newIngress("ns", "newer", className(testClass), createdAt(2), defaultBackend("newer", 80)),
			newIngress("ns", "older", className(testClass), createdAt(1), defaultBackend("older", 80)),
		},
		Services: []*corev1.Service{service("ns", "older", servicePort("", 80)), service("ns", "newer", servicePort("", 80))},
	}
	res := ingress.Translate(state, testOptions())
	if res.Config.DefaultBackend != "ns_older_80" {
		t.Errorf("default backend = %q, want %q", res.Config.DefaultBackend, "ns_older_80")
	}
	if got, want := backendNames(res.Config), []string{"ns_older_80"}; !slices.Equal(got, want) {
		t.Errorf("backends = %q, want %q", got, want)
	}
	checkProblems(t, res.Problems, []ingress.Problem{{
		Object: ingressRef("ns", "newer"), Severity: ingress.Warning, Reason: "DefaultBackendConflict",
		Message: "spec.defaultBackend is ignored: Ingress ns/older is older and also sets one",
	}})
}

// A path that loses a conflict is not served, so its backend must not be created and its
// Service must not be reported: the only problem is the conflict.
func TestConflictingPathCreatesNoBackend(t *testing.T) {
	state := ingress.State{
		IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
		Ingresses: []*networkingv1.Ingress{
			newIngress("ns", "older", className(testClass), createdAt(1), rule("x.example.com", pathTo(prefix, "/", "web", 80))),
			newIngress("ns", "newer", className(testClass), createdAt(2), rule("x.example.com", pathTo(prefix, "/", "ghost", 80))),
		},
		Services: []*corev1.Service{service("ns", "web", servicePort("", 80))},
	}
	res := ingress.Translate(state, testOptions())
	if got, want := backendNames(res.Config), []string{"ns_web_80"}; !slices.Equal(got, want) {
		t.Errorf("backends = %q, want %q", got, want)
	}
	checkProblems(t, res.Problems, []ingress.Problem{{
		Object: ingressRef("ns", "newer"), Severity: ingress.Warning, Reason: "RouteConflict",
		Message: `spec.rules[0].http.paths[0]: host "x.example.com" path "/" (Prefix) is already served by the older Ingress ns/older; this path is ignored`,
	}})
}

func TestServersFromEndpointSlices(t *testing.T) {
	no, yes := ptrTo(false), ptrTo(true)
	addr := netip.MustParseAddr
	tests := []struct {
		name   string
		slices []*discoveryv1.EndpointSlice
		want   []model.Server
	}{
		{
			name:   "ready and unset conditions are servers, not-ready ones are not",
			slices: []*discoveryv1.EndpointSlice{endpointSlice("ns", "web", "web-1", "", 8080, readyAt("10.0.0.2"), endpoint{address: "10.0.0.3", ready: no}, endpoint{address: "10.0.0.1", ready: yes})},
			want:   []model.Server{{Address: addr("10.0.0.1"), Port: 8080}, {Address: addr("10.0.0.2"), Port: 8080}},
		},
		{
			name:   "a terminating endpoint that still serves drains",
			slices: []*discoveryv1.EndpointSlice{endpointSlice("ns", "web", "web-1", "", 8080, endpoint{address: "10.0.0.1", ready: no, serving: yes, terminating: yes})},
			want:   []model.Server{{Address: addr("10.0.0.1"), Port: 8080, Draining: true}},
		},
		{
			name:   "a terminating endpoint that no longer serves is not a server",
			slices: []*discoveryv1.EndpointSlice{endpointSlice("ns", "web", "web-1", "", 8080, endpoint{address: "10.0.0.1", ready: no, serving: no, terminating: yes})},
		},
		{
			name: "an address in two slices is one server",
			slices: []*discoveryv1.EndpointSlice{
				endpointSlice("ns", "web", "web-1", "", 8080, readyAt("10.0.0.1")),
				endpointSlice("ns", "web", "web-2", "", 8080, readyAt("10.0.0.1")),
			},
			want: []model.Server{{Address: addr("10.0.0.1"), Port: 8080}},
		},
		{
			// While a slice is being rewritten the same endpoint can briefly appear twice with
			// different conditions; the result must not depend on the informer's list order.
			name: "an address ready in one slice and draining in another is ready, whatever the slice order",
			slices: []*discoveryv1.EndpointSlice{
				endpointSlice("ns", "web", "web-1", "", 8080, endpoint{address: "10.0.0.1", ready: no, serving: yes, terminating: yes}),
				endpointSlice("ns", "web", "web-2", "", 8080, readyAt("10.0.0.1")),
			},
			want: []model.Server{{Address: addr("10.0.0.1"), Port: 8080}},
		},
		{
			name:   "a slice of another Service port name is not used",
			slices: []*discoveryv1.EndpointSlice{endpointSlice("ns", "web", "web-1", "metrics", 9100, readyAt("10.0.0.1"))},
		},
		{
			name:   "a slice of another Service is not used",
			slices: []*discoveryv1.EndpointSlice{endpointSlice("ns", "other", "other-1", "", 8080, readyAt("10.0.0.1"))},
		},
		{
			name:   "a slice of the same Service name in another namespace is not used",
			slices: []*discoveryv1.EndpointSlice{endpointSlice("elsewhere", "web", "web-1", "", 8080, readyAt("10.0.0.1"))},
		},
		{
			name: "a slice without the service-name label is not used",
			slices: []*discoveryv1.EndpointSlice{func() *discoveryv1.EndpointSlice {
				es := endpointSlice("ns", "web", "web-1", "", 8080, readyAt("10.0.0.1"))
				es.Labels = nil
				return es
			}()},
		},
		{
			name: "an IPv4-mapped IPv6 address becomes IPv4",
			slices: []*discoveryv1.EndpointSlice{func() *discoveryv1.EndpointSlice {
				es := endpointSlice("ns", "web", "web-1", "", 8080, readyAt("::ffff:10.0.0.1"), readyAt("fd00::1"))
				es.AddressType = discoveryv1.AddressTypeIPv6
				return es
			}()},
			want: []model.Server{{Address: addr("10.0.0.1"), Port: 8080}, {Address: addr("fd00::1"), Port: 8080}},
		},
		{
			// netip.ParseAddr accepts any zone text, newlines included; a zone is never a
			// pod address and would be written into the server line.
			name: "an IPv6 address with a zone is skipped",
			slices: []*discoveryv1.EndpointSlice{func() *discoveryv1.EndpointSlice {
				es := endpointSlice("ns", "web", "web-1", "", 8080, readyAt("fe80::1%eth0"), readyAt("fe80::2%x\nglobal"), readyAt("fd00::1"))
				es.AddressType = discoveryv1.AddressTypeIPv6
				return es
			}()},
			want: []model.Server{{Address: addr("fd00::1"), Port: 8080}},
		},
		{
			name: "an unparseable address is skipped",
			slices: []*discoveryv1.EndpointSlice{
				endpointSlice("ns", "web", "web-1", "", 8080, readyAt("not-an-ip"), readyAt("10.0.0.1")),
			},
			want: []model.Server{{Address: addr("10.0.0.1"), Port: 8080}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, order := range []string{"as listed", "reversed"} {
				es := slices.Clone(tt.slices)
				if order == "reversed" {
					slices.Reverse(es)
				}
				res := ingress.Translate(ingress.State{
					IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
					Ingresses:      []*networkingv1.Ingress{newIngress("ns", "web", className(testClass), rule("x.example.com", pathTo(prefix, "/", "web", 80)))},
					Services:       []*corev1.Service{service("ns", "web", servicePort("", 80))},
					EndpointSlices: es,
				}, testOptions())
				b, ok := res.Config.Backend("ns_web_80")
				if !ok {
					t.Fatalf("%s: no backend ns_web_80 in %q", order, backendNames(res.Config))
				}
				if !slices.Equal(b.Servers, tt.want) {
					t.Errorf("%s: servers = %v, want %v", order, b.Servers, tt.want)
				}
			}
		})
	}
}

func TestTranslateIsDeterministic(t *testing.T) {
	state := ingress.State{
		IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, true)},
		Ingresses: []*networkingv1.Ingress{
			newIngress("a", "one", createdAt(1), rule("x.example.com", pathTo(prefix, "/", "web", 80), pathTo(exact, "/b", "api", 80))),
			newIngress("b", "two", createdAt(1), rule("x.example.com", pathTo(prefix, "/", "web", 80)), rule("", pathTo(prefix, "/z", "gone", 80))),
			newIngress("c", "three", createdAt(0), rule("*.example.com", pathTo(prefix, "/", "web", 80))),
		},
		Services: []*corev1.Service{service("a", "web", servicePort("", 80)), service("a", "api", servicePort("", 80)), service("c", "web", servicePort("", 80))},
		EndpointSlices: []*discoveryv1.EndpointSlice{
			endpointSlice("a", "web", "web-1", "", 8080, readyAt("10.0.0.3"), readyAt("10.0.0.1")),
			endpointSlice("a", "web", "web-2", "", 8080, readyAt("10.0.0.2")),
			endpointSlice("c", "web", "web-1", "", 8080, readyAt("10.1.0.1")),
		},
	}
	first := ingress.Translate(state, testOptions())
	for i := range 20 {
		shuffled := state
		shuffled.Ingresses = rotate(state.Ingresses, i)
		shuffled.Services = rotate(state.Services, i)
		shuffled.EndpointSlices = rotate(state.EndpointSlices, i)
		got := ingress.Translate(shuffled, testOptions())
		if fmt.Sprint(got) != fmt.Sprint(first) {
			t.Fatalf("rotation %d gives a different result:\ngot  %+v\nwant %+v", i, got, first)
		}
	}
}

func rotate[T any](s []T, n int) []T {
	if len(s) == 0 {
		return s
	}
	n %= len(s)
	out := append(slices.Clone(s[n:]), s[:n]...)
	if n%2 == 1 {
		slices.Reverse(out)
	}
	return out
}

// Creation times have a resolution of one second: of two Ingresses created in the same second,
// the one that held the route in the previous translation keeps it, whatever the names say.
// Without a previous holder (a fresh start) the namespace and name decide.
func TestIncumbentKeepsItsRoute(t *testing.T) {
	first := newIngress("z", "first", className(testClass), createdAt(1), rule("x.example.com", pathTo(prefix, "/", "first", 80)))
	second := newIngress("a", "second", className(testClass), createdAt(1), rule("x.example.com", pathTo(prefix, "/", "second", 80)))
	state := ingress.State{
		IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
		Ingresses:      []*networkingv1.Ingress{first},
	}
	res := ingress.Translate(state, testOptions())
	key := model.RouteKey{HTTPMatch: model.HTTPMatch{Host: "x.example.com", Path: "/", Kind: model.MatchPrefix}}
	if got := res.Claims[key]; got != ingressRef("z", "first") {
		t.Fatalf("claim of %v = %v, want Ingress z/first", key, got)
	}

	state.Ingresses = []*networkingv1.Ingress{second, first}
	state.Incumbents = res.Claims
	res = ingress.Translate(state, testOptions())
	checkRoutes(t, routesOf(res.Config), []route{{Host: "x.example.com", Path: "/", Match: model.MatchPrefix, Backend: "z_first_80"}})
	if !slices.Contains(res.Problems, ingress.Problem{
		Object: ingressRef("a", "second"), Severity: ingress.Warning, Reason: "RouteConflict",
		Message: `spec.rules[0].http.paths[0]: host "x.example.com" path "/" (Prefix) is already served by the earlier Ingress z/first; this path is ignored`,
	}) {
		t.Errorf("no RouteConflict on a/second:%s", formatProblemList(res.Problems))
	}

	// Incumbency is stable: the next pass, fed this one's claims, decides the same.
	state.Incumbents = res.Claims
	res = ingress.Translate(state, testOptions())
	checkRoutes(t, routesOf(res.Config), []route{{Host: "x.example.com", Path: "/", Match: model.MatchPrefix, Backend: "z_first_80"}})

	// Without a holder, the tie-break by namespace gives the route to a/second.
	state.Incumbents = nil
	res = ingress.Translate(state, testOptions())
	checkRoutes(t, routesOf(res.Config), []route{{Host: "x.example.com", Path: "/", Match: model.MatchPrefix, Backend: "a_second_80"}})
}

// ssl-redirect-code and ssl-redirect-port set on an Ingress shape the redirect of its TLS hosts;
// another Ingress's hosts keep the ConfigMap's (here the built-in) values.
func TestHTTPSRedirectPerIngress(t *testing.T) {
	state := tlsState(t,
		newIngress("ns", "custom", className(testClass), createdAt(1),
			annotation("portcullis.io/ssl-redirect-code", "308"), annotation("portcullis.io/ssl-redirect-port", "8443"),
			tlsFor("custom.example.com"), rule("custom.example.com", pathTo(prefix, "/", "web", 80))),
		newIngress("ns", "plain", className(testClass), createdAt(2),
			tlsFor("plain.example.com"), rule("plain.example.com", pathTo(prefix, "/", "web", 80))),
	)
	res := ingress.Translate(state, tlsOptions())
	want := []model.HTTPSRedirect{
		{Host: "custom.example.com", Code: 308, Port: 8443},
		{Host: "plain.example.com", Code: 302, Port: 443},
	}
	if !slices.Equal(res.Config.HTTPSRedirects, want) {
		t.Errorf("redirects = %v, want %v", res.Config.HTTPSRedirects, want)
	}
}

// tlsFor adds a spec.tls entry for host with the Secret "tls".
func tlsFor(host string) ingressOption {
	return func(ing *networkingv1.Ingress) {
		ing.Spec.TLS = append(ing.Spec.TLS, networkingv1.IngressTLS{Hosts: []string{host}, SecretName: "tls"})
	}
}

// tlsState is a state with the given Ingresses, the Service "web" and a TLS Secret "tls" in
// namespace ns.
func tlsState(t *testing.T, ings ...*networkingv1.Ingress) ingress.State {
	t.Helper()
	crt, key := selfSigned(t)
	return ingress.State{
		IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
		Ingresses:      ings,
		Services:       []*corev1.Service{service("ns", "web", servicePort("http", 80))},
		Secrets: []*corev1.Secret{{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "tls"},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{corev1.TLSCertKey: crt, corev1.TLSPrivateKeyKey: key},
		}},
	}
}

func tlsOptions() ingress.Options {
	o := testOptions()
	crt, key := selfSignedOnce()
	o.TLS = ingress.TLSOptions{HTTPS: model.Bind{Address: netip.MustParseAddr("0.0.0.0"), Port: 8443}, FallbackPEM: append(crt, key...)}
	return o
}

var fallback struct {
	once     sync.Once
	crt, key []byte
}

func selfSignedOnce() ([]byte, []byte) {
	fallback.once.Do(func() { fallback.crt, fallback.key = mustSelfSigned() })
	return fallback.crt, fallback.key
}

func selfSigned(t *testing.T) ([]byte, []byte) {
	t.Helper()
	return mustSelfSigned()
}

func mustSelfSigned() ([]byte, []byte) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		panic(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})
}

// An Ingress's client-certificate settings apply to its own hosts only: a certificate that
// another Ingress also uses is listed again for that Ingress's hosts without them. Its routes
// check client certificates; those on a host whose TLS connections another line serves are
// reported.
func TestClientAuthAppliesToOwnHosts(t *testing.T) {
	state := tlsState(t,
		newIngress("ns", "wild", className(testClass), createdAt(1),
			tlsFor("*.example.com"), rule("*.example.com", pathTo(prefix, "/", "web", 80))),
		newIngress("ns", "mtls", className(testClass), createdAt(2), annotation("portcullis.io/client-ca", "ca"),
			tlsFor("secure.example.com"),
			rule("secure.example.com", pathTo(prefix, "/", "web", 80)),
			rule("other.example.com", pathTo(prefix, "/mtls", "web", 80)),
			rule("elsewhere.test", pathTo(prefix, "/", "web", 80))),
	)
	crt := state.Secrets[0].Data[corev1.TLSCertKey]
	state.Secrets = append(state.Secrets, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ca"}, Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{"ca.crt": crt},
	})
	res := ingress.Translate(state, tlsOptions())

	https, _ := res.Config.Listener(ingress.HTTPSListener)
	var got []string
	for _, c := range https.TLS.Certificates {
		auth := "none"
		if ca := c.ClientAuth(); ca != nil {
			auth = fmt.Sprintf("%s optional=%t", ca.CA, ca.Optional)
		}
		got = append(got, fmt.Sprintf("%s %s %v", c.Name, auth, c.SNI))
	}
	name, ca := https.TLS.Certificates[0].Name, model.CertName(crt)
	want := []string{name + " none [*.example.com]", name + " " + ca + " optional=false [secure.example.com]"}
	if !slices.Equal(got, want) {
		t.Errorf("crt-list lines\n got %q\nwant %q", got, want)
	}
	for _, rt := range res.Config.HTTPRoutes {
		want := &model.ClientAuth{CA: ca}
		if rt.Match.Host == "*.example.com" {
			want = nil
		}
		if model.CompareClientAuth(rt.Policy.ClientAuth, want) != 0 {
			t.Errorf("route %s%s checks %v, want %v", rt.Match.Host, rt.Match.Path, rt.Policy.ClientAuth, want)
		}
	}
	checkProblems(t, res.Problems, []ingress.Problem{
		{Object: ingressRef("ns", "mtls"), Severity: ingress.Warning, Reason: "ClientAuthConflict", Message: `host "other.example.com" is served with the certificate and ` +
			`client-certificate settings of the Ingress ns/wild; this Ingress's paths on it refuse every request (403)`},
		{Object: ingressRef("ns", "mtls"), Severity: ingress.Warning, Reason: "ClientAuthConflict", Message: `host "elsewhere.test" is served with the default ` +
			`certificate, which checks no client certificate (it is in no spec.tls of an Ingress); this Ingress's paths on it refuse every request (403)`},
	})
}
