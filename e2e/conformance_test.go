package e2e

// The scenarios of kubernetes-sigs/ingress-controller-conformance (features/path_rules,
// host_rules, default_backend, ingress_class and load_balancing), run against local echo backends
// instead of pods. Each feature is one test with its own namespace and controller; its scenarios
// are the rows of a table. Rows marked extra are our additions around the same Ingress.
//
// Deliberate differences from the suite, all about the harness rather than the routing: the
// controller listens on a free port of 127.0.0.1 instead of 80/443 of the status address; the
// backends are echo servers named after their Service, not pods; the ingress_class scenario
// waits for our own Ingress's status instead of sleeping the suite's five-minute timeout.
//
// Suite quirk: the default_backend scenarios require a Server response header. The echo backend
// sends none, so the proxy adds "Server: portcullis" to every answer that lacks one.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// conformancePort is the Service port of every backend of the suite's Ingresses, named
// framework.HTTPPortName.
const conformancePort = 8080

// statusAddress is what the conformance controllers publish in Ingress status; the suite sends its
// requests there.
const statusAddress = "127.0.0.1"

// statusTimeout bounds the wait for an Ingress status: leader election comes first.
const statusTimeout = 30 * time.Second

// startConformance creates a namespace, an IngressClass of ours named after it, and a controller
// serving that class (and the legacy annotation with the same value) in that namespace, publishing
// statusAddress. It returns the namespace, which is also the class name.
func startConformance(t *testing.T, extraArgs ...string) (ns string, c *framework.Controller) {
	t.Helper()
	ns = framework.NewNamespace(t)
	framework.CreateIngressClass(t, ns, framework.ControllerName)
	c = framework.StartController(t, framework.ControllerOptions{
		Namespace: ns,
		ExtraArgs: append([]string{
			"--ingress.class=" + ns,
			"--publish-status-address=" + statusAddress,
			"--election-namespace=" + ns,
		}, extraArgs...),
	})
	t.Cleanup(func() { c.WaitIdle(t) }) // runs before the controller is stopped
	return ns, c
}

// backendService creates Service name with port conformancePort named "http" (targeting the echo
// port) and an EndpointSlice, also named name, holding the echoes as ready endpoints.
func backendService(t *testing.T, ns, name string, echoes ...*framework.Echo) {
	t.Helper()
	framework.CreateService(t, framework.Service(ns, name,
		framework.ServicePort(framework.HTTPPortName, conformancePort, framework.EchoPort)))
	endpoints := make([]discoveryv1.Endpoint, 0, len(echoes))
	for _, e := range echoes {
		endpoints = append(endpoints, e.Endpoint(framework.StateReady))
	}
	framework.CreateEndpointSlice(t, framework.EndpointSlice(ns, name, name,
		[]discoveryv1.EndpointPort{framework.EndpointPort(framework.HTTPPortName, framework.EchoPort)}, endpoints...))
}

// backends starts one echo per name, named like its Service, behind a Service of that name.
func backends(t *testing.T, ns string, names ...string) {
	t.Helper()
	for _, name := range names {
		backendService(t, ns, name, framework.StartEcho(t, name))
	}
}

// servicePath is an Ingress path to a Service port given by number.
func servicePath(pathType networkingv1.PathType, path, service string, port int32) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{
		Path:     path,
		PathType: &pathType,
		Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
			Name: service, Port: networkingv1.ServiceBackendPort{Number: port},
		}},
	}
}

func prefixTo(path, service string) networkingv1.HTTPIngressPath {
	return servicePath(networkingv1.PathTypePrefix, path, service, conformancePort)
}

func exactTo(path, service string) networkingv1.HTTPIngressPath {
	return servicePath(networkingv1.PathTypeExact, path, service, conformancePort)
}

// defaultBackendIngress is an Ingress of class with only spec.defaultBackend, to a Service port
// given by number.
func defaultBackendIngress(ns, name, class, service string, port int32) *networkingv1.Ingress {
	ing := framework.Ingress(ns, name, class)
	ing.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: service, Port: networkingv1.ServiceBackendPort{Number: port},
	}}
	return ing
}

// loadBalancerAddresses returns the IPs and host names in an Ingress's status.
func loadBalancerAddresses(ctx context.Context, ns, name string) ([]string, error) {
	ing, err := framework.Kube().NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading ingress %s/%s: %w", ns, name, err)
	}
	var out []string
	for _, lb := range ing.Status.LoadBalancer.Ingress {
		out = append(out, lb.IP+lb.Hostname)
	}
	return out, nil
}

// expectStatusAddress waits until the Ingress's status shows statusAddress, as the suite's
// "The Ingress status shows the IP address or FQDN where it is exposed" step does.
func expectStatusAddress(t *testing.T, ns, name string) {
	t.Helper()
	framework.Eventually(t, statusTimeout, func() error {
		got, err := loadBalancerAddresses(t.Context(), ns, name)
		if err != nil {
			return err
		}
		if !slices.Equal(got, []string{statusAddress}) {
			return fmt.Errorf("ingress %s/%s status addresses %v, want [%s]", ns, name, got, statusAddress)
		}
		return nil
	})
}

// expectNoStatusAddress checks that the Ingress's status is empty now.
func expectNoStatusAddress(t *testing.T, ns, name string) {
	t.Helper()
	got, err := loadBalancerAddresses(t.Context(), ns, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > 0 {
		t.Errorf("ingress %s/%s is not ours but its status shows %v", ns, name, got)
	}
}

// route is one request and what must answer it.
type route struct {
	name       string // the scenario, in prose
	host, path string // "" host: the controller's own address
	status     int
	echo       string // the echo (named like its Service) that must answer; "" for none
}

// suiteGet sends GET path with the given Host header ("" for the controller's own address) to the
// controller's HTTP port and, like the suite's client, follows redirects itself: to the
// controller's HTTPS port for an https location (with the location's host as SNI and Host), else
// to its HTTP port. It returns the last answer and the Host header of the last request.
func suiteGet(c *framework.Controller, host, path string) (*framework.Response, string, error) {
	resp, err := framework.TryGet(c, host, path)
	for hops := 0; err == nil && resp.Status >= 300 && resp.Status < 400 && resp.Header.Get("Location") != ""; hops++ {
		if hops == 10 {
			return nil, host, fmt.Errorf("GET %s%s: more than 10 redirects", host, path)
		}
		loc, perr := url.Parse(resp.Header.Get("Location"))
		if perr != nil || loc.Host == "" {
			return nil, host, fmt.Errorf("GET %s%s: redirect to %q: want an absolute URL", host, path, resp.Header.Get("Location"))
		}
		host, path = loc.Host, loc.RequestURI()
		if loc.Scheme == "https" {
			var tr *framework.TLSResponse
			if tr, err = framework.TryGetTLS(c, loc.Hostname(), host, path); err == nil {
				resp = tr.Response
			}
		} else {
			resp, err = framework.TryGet(c, host, path)
		}
	}
	return resp, host, err
}

// expectRoutes first waits until every request that must get something other than the default
// 404 (an echo's answer, a 503) does, so that the configuration is complete, then checks every row
// once, in a subtest of its own. Requests follow redirects as the suite's do. An answer from an
// echo must also show that the backend saw the request's Host header and path unchanged.
func expectRoutes(t *testing.T, c *framework.Controller, routes []route) {
	t.Helper()
	check := func(r route) error {
		resp, finalHost, err := suiteGet(c, r.host, r.path)
		if err != nil {
			return err
		}
		if resp.Status != r.status || resp.Echo != r.echo {
			return fmt.Errorf("GET %s%s: got status %d from echo %q, want %d from echo %q",
				r.host, r.path, resp.Status, resp.Echo, r.status, r.echo)
		}
		if r.echo == "" {
			return nil
		}
		seen, err := resp.EchoRequest()
		if err != nil {
			return err
		}
		wantPath, _, _ := strings.Cut(r.path, "?")
		if finalHost != "" && seen.Host != finalHost || seen.Path != wantPath {
			return fmt.Errorf("GET %s%s: the backend saw host %q path %q, want %q %q", r.host, r.path, seen.Host, seen.Path, finalHost, wantPath)
		}
		return nil
	}
	for _, r := range routes {
		if r.echo != "" || r.status != http.StatusNotFound {
			framework.Eventually(t, framework.RouteTimeout, func() error { return check(r) })
		}
	}
	for _, r := range routes {
		t.Run(r.name, func(t *testing.T) {
			if err := check(r); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestConformancePathRules ports features/path_rules.feature: one Ingress with four hosts
// exercising Exact and Prefix paths.
func TestConformancePathRules(t *testing.T) {
	t.Parallel()
	ns, c := startConformance(t)
	backends(t, ns, "foo-exact", "foo-prefix", "aaa-slash-bbb-prefix", "aaa-prefix",
		"aaa-slash-bbb-slash-prefix", "foo-slash-exact")
	framework.CreateIngress(t, framework.Ingress(ns, "path-rules", ns,
		framework.Rule("exact-path-rules", exactTo("/foo", "foo-exact")),
		framework.Rule("prefix-path-rules",
			prefixTo("/foo", "foo-prefix"),
			prefixTo("/aaa/bbb", "aaa-slash-bbb-prefix"),
			prefixTo("/aaa", "aaa-prefix")),
		framework.Rule("mixed-path-rules",
			prefixTo("/foo", "foo-prefix"),
			exactTo("/foo", "foo-exact")),
		framework.Rule("trailing-slash-path-rules",
			prefixTo("/aaa/bbb/", "aaa-slash-bbb-slash-prefix"),
			exactTo("/foo/", "foo-slash-exact")),
	))
	expectStatusAddress(t, ns, "path-rules")

	const ok, notFound = http.StatusOK, http.StatusNotFound
	expectRoutes(t, c, []route{
		{"exact /foo matches request /foo", "exact-path-rules", "/foo", ok, "foo-exact"},
		{"exact /foo does not match request /foo/", "exact-path-rules", "/foo/", notFound, ""},
		{"exact /foo does not match request /FOO", "exact-path-rules", "/FOO", notFound, ""},
		{"exact /foo does not match request /bar", "exact-path-rules", "/bar", notFound, ""},
		{"prefix /foo matches request /foo", "prefix-path-rules", "/foo", ok, "foo-prefix"},
		{"prefix /foo matches request /foo/", "prefix-path-rules", "/foo/", ok, "foo-prefix"},
		{"prefix /foo does not match request /FOO", "prefix-path-rules", "/FOO", notFound, ""},
		{"prefix /aaa/bbb matches request /aaa/bbb", "prefix-path-rules", "/aaa/bbb", ok, "aaa-slash-bbb-prefix"},
		{"prefix /aaa/bbb matches request /aaa/bbb/ccc", "prefix-path-rules", "/aaa/bbb/ccc", ok, "aaa-slash-bbb-prefix"},
		{"prefix /aaa matches request /aaa/ccc", "prefix-path-rules", "/aaa/ccc", ok, "aaa-prefix"},
		{"prefix /aaa does not match request /aaaccc", "prefix-path-rules", "/aaaccc", notFound, ""},
		// The suite lists "prefix /foo matches request /foo/" twice; it is run once above.
		{"mixed: exact /foo is preferred for request /foo", "mixed-path-rules", "/foo", ok, "foo-exact"},
		{"prefix /aaa/bbb/ matches request /aaa/bbb", "trailing-slash-path-rules", "/aaa/bbb", ok, "aaa-slash-bbb-slash-prefix"},
		{"prefix /aaa/bbb/ matches request /aaa/bbb/", "trailing-slash-path-rules", "/aaa/bbb/", ok, "aaa-slash-bbb-slash-prefix"},
		{"exact /foo/ does not match request /foo", "trailing-slash-path-rules", "/foo", notFound, ""},

		{"extra: exact /foo matches request /foo with a query", "exact-path-rules", "/foo?a=b", ok, "foo-exact"},
		{"extra: exact /foo does not match request /foo/bar", "exact-path-rules", "/foo/bar", notFound, ""},
		{"extra: prefix /foo matches request /foo/bar", "prefix-path-rules", "/foo/bar", ok, "foo-prefix"},
		{"extra: prefix /foo does not match request /foobar", "prefix-path-rules", "/foobar", notFound, ""},
		{"extra: prefix /aaa/bbb does not match request /aaa/bbbccc, prefix /aaa does not either", "prefix-path-rules", "/aaa/bbbccc", ok, "aaa-prefix"},
		{"extra: prefix /aaa/bbb is longer than /aaa for request /aaa/bbb/", "prefix-path-rules", "/aaa/bbb/", ok, "aaa-slash-bbb-prefix"},
		{"extra: prefix /aaa does not match request /AAA/bbb", "prefix-path-rules", "/AAA/bbb", notFound, ""},
		{"extra: mixed: prefix /foo takes request /foo/ that exact /foo does not", "mixed-path-rules", "/foo/", ok, "foo-prefix"},
		{"extra: mixed: prefix /foo takes request /foo/bar", "mixed-path-rules", "/foo/bar", ok, "foo-prefix"},
		{"extra: exact /foo/ matches request /foo/", "trailing-slash-path-rules", "/foo/", ok, "foo-slash-exact"},
		{"extra: prefix /aaa/bbb/ matches request /aaa/bbb/ccc", "trailing-slash-path-rules", "/aaa/bbb/ccc", ok, "aaa-slash-bbb-slash-prefix"},
		{"extra: prefix /aaa/bbb/ does not match request /aaa/bbbccc", "trailing-slash-path-rules", "/aaa/bbbccc", notFound, ""},
		{"extra: a path of one host is not served for another host", "exact-path-rules", "/aaa", notFound, ""},
	})
}

// TestConformanceHostRules ports features/host_rules.feature: an exact host, also over TLS with
// its own certificate, and a wildcard host matching exactly one DNS label. Plain HTTP requests
// for the TLS host are redirected to HTTPS, which the suite's client (and ours) follows.
func TestConformanceHostRules(t *testing.T) {
	t.Parallel()
	ns, c := startConformance(t)
	backends(t, ns, "wildcard-foo-com", "foo-bar-com")
	cert := framework.SelfSigned(t, "foo.bar.com")
	framework.CreateSecret(t, framework.TLSSecret(ns, "conformance-tls", cert.CertPEM, cert.KeyPEM))
	ing := framework.Ingress(ns, "host-rules", ns,
		framework.Rule("*.foo.com", prefixTo("/", "wildcard-foo-com")),
		// By port name, as in the suite.
		framework.Rule("foo.bar.com", framework.Prefix("/", "foo-bar-com")),
	)
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"foo.bar.com"}, SecretName: "conformance-tls"}}
	framework.CreateIngress(t, ing)
	expectStatusAddress(t, ns, "host-rules")

	t.Run("host foo.bar.com matches request foo.bar.com over TLS", func(t *testing.T) {
		var resp *framework.TLSResponse
		framework.Eventually(t, framework.RouteTimeout, func() error {
			var err error
			if resp, err = framework.TryGetTLS(c, "foo.bar.com", "foo.bar.com", "/"); err != nil {
				return err
			}
			if resp.Status != http.StatusOK || resp.Echo != "foo-bar-com" {
				return fmt.Errorf("got status %d from echo %q, want 200 from foo-bar-com", resp.Status, resp.Echo)
			}
			if resp.Peer == nil || len(resp.Peer.DNSNames) == 0 || resp.Peer.DNSNames[0] != "foo.bar.com" {
				return fmt.Errorf("the certificate served is not the Ingress's one for foo.bar.com")
			}
			return nil
		})
		if err := resp.Peer.VerifyHostname("foo.bar.com"); err != nil {
			t.Errorf("the certificate served does not verify foo.bar.com: %v", err)
		}
		if seen, err := resp.EchoRequest(); err != nil || seen.Host != "foo.bar.com" {
			t.Errorf("the backend saw host %q (%v), want foo.bar.com", seen.Host, err)
		}
	})

	const ok, notFound = http.StatusOK, http.StatusNotFound
	expectRoutes(t, c, []route{
		{"host foo.bar.com matches request foo.bar.com", "foo.bar.com", "/", ok, "foo-bar-com"},
		{"host foo.bar.com does not match request subdomain.bar.com", "subdomain.bar.com", "/", notFound, ""},
		{"wildcard *.foo.com matches request bar.foo.com", "bar.foo.com", "/", ok, "wildcard-foo-com"},
		{"wildcard *.foo.com does not match request baz.bar.foo.com", "baz.bar.foo.com", "/", notFound, ""},
		{"wildcard *.foo.com does not match request foo.com", "foo.com", "/", notFound, ""},

		{"extra: host foo.bar.com matches request foo.bar.com:8080", "foo.bar.com:8080", "/", ok, "foo-bar-com"},
		{"extra: wildcard *.foo.com matches request bar.foo.com:8080", "bar.foo.com:8080", "/x/y", ok, "wildcard-foo-com"},
		{"extra: host names match whatever their case", "Foo.BAR.com", "/", ok, "foo-bar-com"},
		{"extra: wildcard host names match whatever their case", "BAR.Foo.Com", "/", ok, "wildcard-foo-com"},
		{"extra: wildcard *.foo.com does not match request barfoo.com", "barfoo.com", "/", notFound, ""},
		{"extra: wildcard *.foo.com does not match request .foo.com", ".foo.com", "/", notFound, ""},
		{"extra: host foo.bar.com does not match request xfoo.bar.com", "xfoo.bar.com", "/", notFound, ""},
		{"extra: an IP address as host matches no host rule", "", "/", notFound, ""},
	})
}

// TestConformanceDefaultBackend ports features/default_backend.feature: an Ingress with only
// spec.defaultBackend receives every method, host and path, unchanged.
func TestConformanceDefaultBackend(t *testing.T) {
	t.Parallel()
	ns, c := startConformance(t)
	backends(t, ns, "echo-service")
	framework.CreateIngress(t, defaultBackendIngress(ns, "default-backend", ns, "echo-service", conformancePort))
	expectStatusAddress(t, ns, "default-backend")
	framework.ExpectRoute(t, c, "my-host", "/", http.StatusOK, "echo-service")

	missingServer := 0
	for _, tc := range []struct{ method, host, path string }{
		{http.MethodGet, "my-host", ""},
		{http.MethodGet, "my-host", "sub-path"},
		{http.MethodPost, "some-host", ""},
		{http.MethodPut, "", "resource"},
		{http.MethodDelete, "some-host", "resource"},
		{http.MethodPatch, "my-host", "resource"},
	} {
		t.Run(fmt.Sprintf("%s http://%s/%s", tc.method, tc.host, tc.path), func(t *testing.T) {
			resp, err := framework.TrySend(c, tc.method, tc.host, "/"+tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != http.StatusOK || resp.Echo != "echo-service" {
				t.Fatalf("got status %d from echo %q, want 200 from echo-service", resp.Status, resp.Echo)
			}
			if resp.Proto != "HTTP/1.1" {
				t.Errorf("response proto %q, want HTTP/1.1", resp.Proto)
			}
			for _, h := range []string{"Content-Length", "Content-Type", "Date"} {
				if resp.Header.Get(h) == "" {
					t.Errorf("response has no %s header; headers: %v", h, resp.Header)
				}
			}
			// The suite also requires a Server header: see the quirk at the top of this file.
			if resp.Header.Get("Server") == "" {
				missingServer++
			}
			seen, err := resp.EchoRequest()
			if err != nil {
				t.Fatal(err)
			}
			wantHost := tc.host
			if wantHost == "" {
				wantHost = strings.TrimPrefix(c.HTTPURL, "http://")
			}
			if seen.Method != tc.method || seen.Path != "/"+tc.path || seen.Host != wantHost {
				t.Errorf("the backend saw %s %s (Host %s), want %s /%s (Host %s)",
					seen.Method, seen.Path, seen.Host, tc.method, tc.path, wantHost)
			}
			if ua := seen.Headers["User-Agent"]; ua != "Go-http-client/1.1" {
				t.Errorf("the backend saw User-Agent %q, want Go-http-client/1.1", ua)
			}
		})
	}
	if missingServer > 0 {
		t.Errorf("%d of 6 default-backend responses carry no Server header, which the suite requires", missingServer)
	}
}

// TestConformanceIngressClass ports features/ingress_class.feature and checks the other ways an
// Ingress is or is not ours: our class is served and gets a status; an unknown class, another
// controller's class, the legacy annotation with another value and no class at all (no default
// class, no --empty-ingress-class) are neither served nor given a status; the legacy annotation
// with our --ingress.class is served; a class created after its Ingress takes effect.
func TestConformanceIngressClass(t *testing.T) {
	t.Parallel()
	ns, c := startConformance(t)
	other := ns + "-other"
	framework.CreateIngressClass(t, other, "example.com/other-controller")
	backends(t, ns, "ingress-class-prefix")
	ingress := func(name, class string) *networkingv1.Ingress {
		return framework.Ingress(ns, name, class,
			framework.Rule(name+".example", prefixTo("/", "ingress-class-prefix")))
	}
	withLegacy := func(ing *networkingv1.Ingress, value string) *networkingv1.Ingress {
		ing.Annotations = map[string]string{"kubernetes.io/ingress.class": value}
		return ing
	}

	// The Ingresses that must not be served come first, so that once ours route the controller
	// has seen them all.
	notOurs := []string{"invalid", "foreign", "legacy-foreign", "classless", "late"}
	framework.CreateIngress(t, ingress("invalid", "some-invalid-class-name"))
	framework.CreateIngress(t, ingress("foreign", other))
	framework.CreateIngress(t, withLegacy(ingress("legacy-foreign", ""), other))
	classless := framework.CreateIngress(t, ingress("classless", ""))
	if classless.Spec.IngressClassName != nil {
		t.Fatalf("the DefaultIngressClass admission plugin gave the classless Ingress class %q: another test left a default IngressClass",
			*classless.Spec.IngressClassName)
	}
	framework.CreateIngress(t, ingress("late", ns+"-late"))
	framework.CreateIngress(t, ingress("ours", ns))
	framework.CreateIngress(t, withLegacy(ingress("legacy", ""), ns))

	framework.ExpectRoute(t, c, "ours.example", "/", http.StatusOK, "ingress-class-prefix")
	framework.ExpectRoute(t, c, "legacy.example", "/", http.StatusOK, "ingress-class-prefix")
	expectStatusAddress(t, ns, "ours")
	expectStatusAddress(t, ns, "legacy")
	for _, name := range notOurs {
		t.Run(name+" is not ours", func(t *testing.T) {
			framework.ExpectRoute(t, c, name+".example", "/", http.StatusNotFound, "")
			expectNoStatusAddress(t, ns, name)
		})
	}

	// An IngressClass created after the Ingress naming it.
	framework.CreateIngressClass(t, ns+"-late", framework.ControllerName)
	framework.ExpectRoute(t, c, "late.example", "/", http.StatusOK, "ingress-class-prefix")
	expectStatusAddress(t, ns, "late")
}

// TestConformanceDefaultIngressClass checks that an Ingress without any class is served only
// while one of our IngressClasses carries ingressclass.kubernetes.io/is-default-class: "true".
//
// It does not run in parallel: while a default IngressClass exists, the apiserver's
// DefaultIngressClass admission plugin gives it to every classless Ingress created anywhere, which
// would change other tests' Ingresses. The controller name is unique to the test as well.
func TestConformanceDefaultIngressClass(t *testing.T) {
	ns := framework.NewNamespace(t)
	controllerName := "portcullis.io/e2e-" + ns
	framework.CreateIngressClass(t, ns, controllerName)
	c := framework.StartController(t, framework.ControllerOptions{
		Namespace: ns,
		ExtraArgs: []string{"--controller-name=" + controllerName, "--ingress.class=" + ns},
	})
	t.Cleanup(func() { c.WaitIdle(t) })
	backends(t, ns, "classed", "classless")

	classless := framework.CreateIngress(t, framework.Ingress(ns, "classless", "",
		framework.Rule("classless.example", prefixTo("/", "classless"))))
	if classless.Spec.IngressClassName != nil {
		t.Fatalf("the DefaultIngressClass admission plugin gave the classless Ingress class %q: another test left a default IngressClass",
			*classless.Spec.IngressClassName)
	}
	framework.CreateIngress(t, framework.Ingress(ns, "classed", ns,
		framework.Rule("classed.example", prefixTo("/", "classed"))))
	framework.ExpectRoute(t, c, "classed.example", "/", http.StatusOK, "classed")
	framework.ExpectRoute(t, c, "classless.example", "/", http.StatusNotFound, "")

	setDefault := func(isDefault bool) {
		t.Helper()
		classes := framework.Kube().NetworkingV1().IngressClasses()
		ic, err := classes.Get(t.Context(), ns, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("reading ingressclass %s: %v", ns, err)
		}
		if isDefault {
			ic.Annotations = map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"}
		} else {
			delete(ic.Annotations, networkingv1.AnnotationIsDefaultIngressClass)
		}
		if _, err := classes.Update(t.Context(), ic, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("updating ingressclass %s: %v", ns, err)
		}
	}
	setDefault(true)
	t.Cleanup(func() {
		// Whatever happens, no default class may outlive the test (the class is deleted anyway).
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if ic, err := framework.Kube().NetworkingV1().IngressClasses().Get(ctx, ns, metav1.GetOptions{}); err == nil && len(ic.Annotations) > 0 {
			ic.Annotations = nil
			_, _ = framework.Kube().NetworkingV1().IngressClasses().Update(ctx, ic, metav1.UpdateOptions{})
		}
	})
	framework.ExpectRoute(t, c, "classless.example", "/", http.StatusOK, "classless")

	// A classless Ingress created now is given the default class by the apiserver, if its
	// DefaultIngressClass admission plugin is on; it is served either way.
	admitted := framework.CreateIngress(t, framework.Ingress(ns, "admitted", "",
		framework.Rule("admitted.example", prefixTo("/", "classless"))))
	framework.ExpectRoute(t, c, "admitted.example", "/", http.StatusOK, "classless")

	setDefault(false)
	framework.ExpectRoute(t, c, "classless.example", "/", http.StatusNotFound, "")
	if admitted.Spec.IngressClassName != nil && *admitted.Spec.IngressClassName == ns {
		framework.ExpectRoute(t, c, "admitted.example", "/", http.StatusOK, "classless")
	} else {
		t.Logf("the apiserver did not give the new classless Ingress the default class (%v)", admitted.Spec.IngressClassName)
		framework.ExpectRoute(t, c, "admitted.example", "/", http.StatusNotFound, "")
	}
}

// TestConformanceLoadBalancing ports features/load_balancing.feature: after the default backend's
// Service grows to 10 endpoints, 100 requests reach all 10.
func TestConformanceLoadBalancing(t *testing.T) {
	t.Parallel()
	ns, c := startConformance(t)
	echoes := make([]*framework.Echo, 10)
	for i := range echoes {
		echoes[i] = framework.StartEcho(t, "pod-"+strconv.Itoa(i))
	}
	backendService(t, ns, "echo-service", echoes[0])
	framework.CreateIngress(t, defaultBackendIngress(ns, "load-balancing", ns, "echo-service", conformancePort))
	expectStatusAddress(t, ns, "load-balancing")
	framework.ExpectRoute(t, c, "load-balancing", "/", http.StatusOK, "pod-0")

	framework.SetEndpoints(t, ns, "echo-service", echoes...)
	framework.Eventually(t, framework.RouteTimeout, func() error {
		seen := map[string]int{}
		for range 100 {
			resp, err := framework.TryGet(c, "load-balancing", "/")
			if err != nil {
				return err
			}
			if resp.Status != http.StatusOK {
				return fmt.Errorf("got status %d from %q, want 200", resp.Status, resp.Echo)
			}
			seen[resp.Echo]++
		}
		if len(seen) != len(echoes) {
			return fmt.Errorf("100 requests reached %d endpoints %v, want %d", len(seen), seen, len(echoes))
		}
		return nil
	})
}
