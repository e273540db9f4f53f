package ingress_test

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/haproxytest"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/ingress"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
	"github.com/portcullis-ingress/portcullis/pkg/resolve"
)

const sha512Hash = "$6$Zx8Q2pLr4tVw9sKe$WTdDeqQlyxzxG0OzyyAH3IYnB6ZdVV6i00vh9gwcqfAeH9VUDn3CGbGoIKRrKZpPEQmud/FIC0UQJkeoEsPoU/"

// A basic-auth Secret of 20,000 lines, of which 19,990 are unusable, used by the 20 paths of two
// Ingresses, is decoded once in the pass (every route holds the same users) and gives one
// summary problem, on the Secret, rather than one per line and path.
func TestBasicAuthSecretCostsOneParseAndOneProblem(t *testing.T) {
	var auth strings.Builder
	for i := range 20_000 {
		if i%2000 == 0 {
			fmt.Fprintf(&auth, "user%d:%s\n", i, sha512Hash)
		} else {
			fmt.Fprintf(&auth, "user%d:not-a-hash\n", i)
		}
	}
	state := ingress.State{
		IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
		Services:       []*corev1.Service{service("ns", "web", servicePort("http", 80))},
		Secrets: []*corev1.Secret{{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "users"},
			Type:       corev1.SecretTypeOpaque,
			Data:       map[string][]byte{"auth": []byte(auth.String())},
		}},
	}
	for i := range 2 {
		var paths []networkingv1.HTTPIngressPath
		for j := range 10 {
			paths = append(paths, pathTo(prefix, fmt.Sprintf("/p%d", j), "web", 80))
		}
		state.Ingresses = append(state.Ingresses, newIngress("ns", fmt.Sprintf("ing%d", i), className(testClass), createdAt(i),
			annotation("portcullis.io/auth-secret", "users"), rule(fmt.Sprintf("h%d.example.com", i), paths...)))
	}
	res := ingress.Translate(state, testOptions())

	want := []ingress.Problem{{
		Object: ingress.ObjectRef{Kind: "Secret", Namespace: "ns", Name: "users"}, Severity: ingress.Warning, Reason: "InvalidSecret",
		Message: "basic-auth: 19990 entries are ignored: 19990 not a user name with a crypt(3) hash: line 2 of key auth, line 3 of key auth, " +
			"line 4 of key auth, line 5 of key auth, line 6 of key auth, ... (want a crypt(3) hash: 13 to 256 bytes of A-Z a-z 0-9 . / $ =); " +
			"10 users are usable",
	}}
	checkProblems(t, res.Problems, want)
	if len(res.Config.HTTPRoutes) != 20 {
		t.Fatalf("got %d routes, want 20", len(res.Config.HTTPRoutes))
	}
	first := res.Config.HTTPRoutes[0].Policy.BasicAuth
	for _, rt := range res.Config.HTTPRoutes {
		ba := rt.Policy.BasicAuth
		if ba == nil || len(ba.Users) != 10 || &ba.Users[0] != &first.Users[0] {
			t.Fatalf("route %s %s: users %v are not the users of the first route: the Secret was decoded again", rt.Match.Host, rt.Match.Path, ba)
		}
	}
}

// A missing or empty basic-auth Secret is reported once per Ingress that uses it, not per path.
func TestBasicAuthSecretMissingReportedOncePerIngress(t *testing.T) {
	state := ingress.State{
		IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
		Services:       []*corev1.Service{service("ns", "web", servicePort("http", 80))},
		Ingresses: []*networkingv1.Ingress{newIngress("ns", "ing", className(testClass),
			annotation("portcullis.io/auth-secret", "nope"),
			rule("a.example.com", pathTo(prefix, "/a", "web", 80), pathTo(prefix, "/b", "web", 80), pathTo(prefix, "/c", "web", 80)))},
	}
	res := ingress.Translate(state, testOptions())
	checkProblems(t, res.Problems, []ingress.Problem{{Object: ingressRef("ns", "ing"), Severity: ingress.Error, Reason: "SecretNotFound",
		Message: `basic-auth secret "nope" not found; every request is refused with 401`}})
}

// oneEndpointServices makes n Services "s<i>" in namespace ns with one endpoint each.
func oneEndpointServices(ns string, n int) ([]*corev1.Service, []*discoveryv1.EndpointSlice) {
	var svcs []*corev1.Service
	var eps []*discoveryv1.EndpointSlice
	for i := range n {
		name := fmt.Sprintf("s%d", i)
		svcs = append(svcs, service(ns, name, servicePort("http", 80)))
		eps = append(eps, endpointSlice(ns, name, name+"-1", "http", 8080, readyAt(fmt.Sprintf("10.1.%d.%d", i/250, 1+i%250))))
	}
	return svcs, eps
}

// An Ingress with 100 paths, each to its own Service, that asks for server-slots 1000 gets the
// most an Ingress may ask for (64 per backend), with one problem on the Ingress; the rendered
// configuration holds 100 x 64 server lines, and haproxy accepts it.
func TestServerSlotsFromAnIngressAreCapped(t *testing.T) {
	svcs, eps := oneEndpointServices("ns", 100)
	var paths []networkingv1.HTTPIngressPath
	for i := range 100 {
		paths = append(paths, pathTo(prefix, fmt.Sprintf("/p%d", i), fmt.Sprintf("s%d", i), 80))
	}
	state := ingress.State{
		IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
		Ingresses: []*networkingv1.Ingress{newIngress("ns", "big", className(testClass),
			annotation("portcullis.io/server-slots", "1000"), rule("big.example.com", paths...))},
		Services: svcs, EndpointSlices: eps,
	}
	res := ingress.Translate(state, testOptions())
	checkProblems(t, res.Problems, []ingress.Problem{{Object: ingressRef("ns", "big"), Severity: ingress.Warning, Reason: "ServerSlotsClamped",
		Message: "portcullis.io/server-slots: 1000 is more than an Ingress or a Service may ask for (64); its backends get 64 slots per step"}})
	for _, b := range res.Config.Backends {
		if b.SlotStep != limits.MaxServerSlotsAnnotation {
			t.Errorf("backend %s: slot step %d, want %d", b.Name, b.SlotStep, limits.MaxServerSlotsAnnotation)
		}
	}
	files, err := haproxy.Render(res.Config, haproxy.Env{RuntimeDir: "/run/portcullis"})
	if err != nil {
		t.Fatal(err)
	}
	servers := 0
	for _, line := range strings.Split(string(files[haproxy.ConfigFile]), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "server s") {
			servers++
		}
	}
	if want := 100 * limits.MaxServerSlotsAnnotation; servers != want {
		t.Errorf("haproxy.cfg has %d server slots, want %d", servers, want)
	}
	haproxytest.Check(t, files)
}

// The slot budget grants steps above the default to the oldest objects' backends first; the
// backends that no longer fit get the default step, and each object that asked gets one problem
// naming its backends. What the endpoints need at the default step is always granted.
func TestSlotBudget(t *testing.T) {
	svcs, eps := oneEndpointServices("ns", 10)
	state := ingress.State{
		IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
		Services:       svcs, EndpointSlices: eps,
	}
	for i := range 10 {
		state.Ingresses = append(state.Ingresses, newIngress("ns", fmt.Sprintf("i%d", i), className(testClass), createdAt(i),
			annotation("portcullis.io/server-slots", "64"), rule("h.example.com", pathTo(prefix, fmt.Sprintf("/p%d", i), fmt.Sprintf("s%d", i), 80))))
	}
	// One endpoint: 8 slots at the default step, 64 asked; the budget fits the default for all
	// ten and the 56 more of three.
	opts := testOptions()
	opts.SlotBudget = 10*8 + 3*56
	res := ingress.Translate(state, opts)
	steps := map[string]int{}
	for _, b := range res.Config.Backends {
		steps[b.Name] = b.SlotStep
	}
	for i := range 10 {
		want := 64
		if i >= 3 {
			want = limits.DefaultSlotStep
		}
		if got := steps[fmt.Sprintf("ns_s%d_80", i)]; got != want {
			t.Errorf("backend ns_s%d_80: step %d, want %d", i, got, want)
		}
	}
	var want []ingress.Problem
	for i := 3; i < 10; i++ {
		want = append(want, ingress.Problem{Object: ingressRef("ns", fmt.Sprintf("i%d", i)), Severity: ingress.Warning, Reason: "ServerSlotsClamped",
			Message: fmt.Sprintf("server-slots: the configuration's server slots would exceed the controller's slot budget of 248 (--server-slot-budget), "+
				"taken by older backends; backends ns_s%d_80 get 8 slots per step instead", i)})
	}
	checkProblems(t, res.Problems, want)
	total := 0
	for _, n := range haproxy.FreshLayout(res.Config) {
		total += len(n)
	}
	if total > opts.SlotBudget {
		t.Errorf("the configuration has %d slots, over the budget of %d", total, opts.SlotBudget)
	}

	// The ConfigMap's default step counts too: one problem, on the ConfigMap.
	state.ConfigMap = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ctl", Name: "portcullis"}, Data: map[string]string{"server-slots": "1000"}}
	for _, ing := range state.Ingresses {
		delete(ing.Annotations, "portcullis.io/server-slots")
	}
	opts.SlotBudget = 10*8 + 1000
	res = ingress.Translate(state, opts)
	checkProblems(t, res.Problems, []ingress.Problem{{Object: ingress.ObjectRef{Kind: "ConfigMap", Namespace: "ctl", Name: "portcullis"},
		Severity: ingress.Warning, Reason: "ServerSlotsClamped",
		Message: "server-slots: the configuration's server slots would exceed the controller's slot budget of 1080 (--server-slot-budget), " +
			"taken by older backends; backends ns_s1_80, ns_s2_80, ns_s3_80 and 6 more get 8 slots per step instead"}})
}

// An Ingress with more hosts or paths than an Ingress may have keeps the first ones, with one
// problem; the rest of it is served.
func TestPerIngressLimits(t *testing.T) {
	classes := []*networkingv1.IngressClass{ingressClass(testClass, testController, false)}
	t.Run("hosts", func(t *testing.T) {
		ing := newIngress("ns", "hosts", className(testClass))
		for i := range limits.MaxHostsPerIngress + 5 {
			rule(fmt.Sprintf("h%d.example.com", i), pathTo(prefix, "/", "web", 80))(ing)
		}
		res := ingress.Translate(ingress.State{IngressClasses: classes, Ingresses: []*networkingv1.Ingress{ing},
			Services: []*corev1.Service{service("ns", "web", servicePort("http", 80))}}, testOptions())
		checkProblems(t, res.Problems, []ingress.Problem{{Object: ingressRef("ns", "hosts"), Severity: ingress.Error, Reason: "LimitExceeded",
			Message: `the Ingress names more than 1000 hosts: spec.rules from [1000] (host "h1000.example.com") on are ignored`}})
		if got := len(res.Config.HTTPRoutes); got != limits.MaxHostsPerIngress {
			t.Errorf("got %d routes, want %d", got, limits.MaxHostsPerIngress)
		}
		// With the same hosts in spec.tls too: still one problem, for both cuts.
		var hosts []string
		for _, r := range ing.Spec.Rules {
			hosts = append(hosts, r.Host)
		}
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: hosts, SecretName: "tls"}}
		res = ingress.Translate(tlsState(t, ing), tlsOptions())
		checkProblems(t, res.Problems, []ingress.Problem{{Object: ingressRef("ns", "hosts"), Severity: ingress.Error, Reason: "LimitExceeded",
			Message: `the Ingress names more than 1000 hosts: spec.rules from [1000] (host "h1000.example.com") on are ignored; ` +
				`the Ingress names more than 1000 hosts: spec.tls[0].hosts from [1000] ("h1000.example.com") on, and the entries after, are ignored`}})
		if got := len(res.Config.HTTPRoutes); got != limits.MaxHostsPerIngress {
			t.Errorf("got %d routes, want %d", got, limits.MaxHostsPerIngress)
		}
	})
	t.Run("paths", func(t *testing.T) {
		ing := newIngress("ns", "paths", className(testClass))
		var paths []networkingv1.HTTPIngressPath
		for i := range limits.MaxPathsPerIngress - 1 {
			paths = append(paths, pathTo(exact, fmt.Sprintf("/p%d", i), "web", 80))
		}
		rule("a.example.com", paths...)(ing)
		rule("b.example.com", pathTo(exact, "/x", "web", 80), pathTo(exact, "/y", "web", 80))(ing)
		rule("c.example.com", pathTo(exact, "/z", "web", 80))(ing)
		res := ingress.Translate(ingress.State{IngressClasses: classes, Ingresses: []*networkingv1.Ingress{ing},
			Services: []*corev1.Service{service("ns", "web", servicePort("http", 80))}}, testOptions())
		checkProblems(t, res.Problems, []ingress.Problem{{Object: ingressRef("ns", "paths"), Severity: ingress.Error, Reason: "LimitExceeded",
			Message: "the Ingress has more than 1000 paths: spec.rules[1].http.paths from [1] on, and the rules after, are ignored"}})
		if got := len(res.Config.HTTPRoutes); got != limits.MaxPathsPerIngress {
			t.Errorf("got %d routes, want %d", got, limits.MaxPathsPerIngress)
		}
		if ing.Spec.Rules[1].HTTP.Paths[1].Path != "/y" || len(ing.Spec.Rules) != 3 {
			t.Errorf("the Ingress of the snapshot was modified")
		}
	})
	t.Run("tls hosts", func(t *testing.T) {
		ing := newIngress("ns", "tls", className(testClass), rule("a.example.com", pathTo(prefix, "/", "web", 80)))
		var hosts []string
		for i := range limits.MaxHostsPerIngress + 1 {
			hosts = append(hosts, fmt.Sprintf("t%d.example.com", i))
		}
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: hosts[:2], SecretName: "tls"}, {Hosts: hosts[2:], SecretName: "tls"}}
		state := tlsState(t, ing)
		res := ingress.Translate(state, tlsOptions())
		checkProblems(t, res.Problems, []ingress.Problem{{Object: ingressRef("ns", "tls"), Severity: ingress.Error, Reason: "LimitExceeded",
			Message: `the Ingress names more than 1000 hosts: spec.tls[1].hosts from [997] ("t999.example.com") on, and the entries after, are ignored`}})
		l, _ := res.Config.Listener(ingress.HTTPSListener)
		if got := len(l.TLS.Certificates[0].SNI); got != limits.MaxHostsPerIngress-1 {
			t.Errorf("the certificate has %d names, want %d", got, limits.MaxHostsPerIngress-1)
		}
	})
}

// Endpoint addresses that HAProxy must never connect to are left out, with one problem on the
// Service however many paths use it.
func TestEndpointAddressesRefused(t *testing.T) {
	state := ingress.State{
		IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
		Ingresses: []*networkingv1.Ingress{newIngress("ns", "ing", className(testClass),
			rule("a.example.com", pathTo(prefix, "/a", "web", 80), pathTo(prefix, "/b", "web", 80)),
			rule("b.example.com", pathTo(prefix, "/", "web", 80)))},
		Services: []*corev1.Service{service("ns", "web", servicePort("http", 80))},
		EndpointSlices: []*discoveryv1.EndpointSlice{endpointSlice("ns", "web", "web-1", "http", 8080,
			readyAt("10.0.0.1"), readyAt("127.0.0.1"), readyAt("169.254.169.254"))},
	}
	res := ingress.Translate(state, testOptions())
	checkProblems(t, res.Problems, []ingress.Problem{{Object: ingress.ObjectRef{Kind: "Service", Namespace: "ns", Name: "web"},
		Severity: ingress.Warning, Reason: "EndpointAddressRefused",
		Message: "its EndpointSlices list endpoint addresses that HAProxy never connects to: 127.0.0.1 (loopback), " +
			"169.254.169.254 (link-local); they get no traffic"}})
	for _, b := range res.Config.Backends {
		if want := []model.Server{{Address: netip.MustParseAddr("10.0.0.1"), Port: 8080}}; !slices.Equal(b.Servers, want) {
			t.Errorf("backend %s: servers %v, want %v", b.Name, b.Servers, want)
		}
	}
	// With a shared Cluster (the controller's pass), the problems are the Cluster's to report.
	state.Cluster = resolve.New(state.Services, state.EndpointSlices, nil, resolve.AddressPolicy{Own: []netip.Addr{netip.MustParseAddr("10.0.0.1")}})
	res = ingress.Translate(state, testOptions())
	checkProblems(t, res.Problems, nil)
	if got := state.Cluster.Problems(); len(got) != 1 || !strings.Contains(got[0].Message, "10.0.0.1 (the controller's own address)") {
		t.Errorf("Cluster problems: %v", got)
	}
}

// BenchmarkCheckServerSlots measures `haproxy -c` on the configuration of one Ingress with 100
// paths, each to its own Service: at the step an Ingress may ask for (64, 6,400 slots), and at
// the step of 1000 that it could ask for before the cap (100,000 slots; the ConfigMap may still
// set it, within the slot budget). `go test -run '^$' -bench CheckServerSlots ./pkg/ingress`.
func BenchmarkCheckServerSlots(b *testing.B) {
	svcs, eps := oneEndpointServices("ns", 100)
	var paths []networkingv1.HTTPIngressPath
	for i := range 100 {
		paths = append(paths, pathTo(prefix, fmt.Sprintf("/p%d", i), fmt.Sprintf("s%d", i), 80))
	}
	for _, step := range []int{limits.MaxServerSlotsAnnotation, limits.MaxServerSlots} {
		b.Run(fmt.Sprintf("step=%d", step), func(b *testing.B) {
			state := ingress.State{
				IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
				Ingresses:      []*networkingv1.Ingress{newIngress("ns", "big", className(testClass), rule("big.example.com", paths...))},
				Services:       svcs, EndpointSlices: eps,
				ConfigMap: &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ctl", Name: "cm"},
					Data: map[string]string{"server-slots": fmt.Sprint(step)}},
			}
			opts := testOptions()
			opts.SlotBudget = 1 << 30
			res := ingress.Translate(state, opts)
			files, err := haproxy.Render(res.Config, haproxy.Env{RuntimeDir: "/run/portcullis"})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				haproxytest.Check(b, files)
			}
			b.ReportMetric(float64(100*step), "slots")
		})
	}
}

// A maxconn that needs more file descriptors than HAProxy may open is refused on the ConfigMap
// (HAProxy would not start); one within the limit is kept.
func TestMaxConnWithinTheFileLimit(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ctl", Name: "portcullis"}, Data: map[string]string{"maxconn": "2000000"}}
	opts := testOptions()
	opts.FileLimit = 20000
	res := ingress.Translate(ingress.State{ConfigMap: cm}, opts)
	checkProblems(t, res.Problems, []ingress.Problem{{Object: ingress.ObjectRef{Kind: "ConfigMap", Namespace: "ctl", Name: "portcullis"},
		Severity: ingress.Warning, Reason: "InvalidAnnotation",
		Message: "maxconn 2000000 needs 4001024 file descriptors and HAProxy may open 20000; maxconn is left to HAProxy, which derives it from that limit"}})
	if res.Config.Global.MaxConn != 0 {
		t.Errorf("maxconn %d rendered, want none", res.Config.Global.MaxConn)
	}
	cm.Data["maxconn"] = "9000"
	if res = ingress.Translate(ingress.State{ConfigMap: cm}, opts); len(res.Problems) != 0 || res.Config.Global.MaxConn != 9000 {
		t.Errorf("maxconn 9000 within 20000 files: maxconn %d, problems %v", res.Config.Global.MaxConn, res.Problems)
	}
	opts.FileLimit = 0 // unknown: not bounded here
	if res = ingress.Translate(ingress.State{ConfigMap: cm}, opts); res.Config.Global.MaxConn != 9000 {
		t.Errorf("maxconn %d with an unknown limit, want 9000", res.Config.Global.MaxConn)
	}
}

// The spare backend sections count against the slot budget before the steps that objects ask
// for, and take at most a quarter of it.
func TestSparesCountAgainstTheSlotBudget(t *testing.T) {
	svcs, eps := oneEndpointServices("ns", 4)
	state := ingress.State{
		IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
		Services:       svcs, EndpointSlices: eps,
	}
	for i := range 4 {
		state.Ingresses = append(state.Ingresses, newIngress("ns", fmt.Sprintf("i%d", i), className(testClass), createdAt(i),
			annotation("portcullis.io/server-slots", "64"), rule("h.example.com", pathTo(prefix, fmt.Sprintf("/p%d", i), fmt.Sprintf("s%d", i), 80))))
	}
	opts := testOptions()
	opts.SpareBackends = 4
	// Without spares, the default for all four backends and 56 more for each fit; four spares
	// of 16 slots (within a quarter of it) leave room for two backends' 56 more.
	opts.SlotBudget = 260
	res := ingress.Translate(state, opts)
	if got := res.Config.Spares; got.Count != 4 || got.Slots != 16 || !got.Policy.Equal(model.BackendPolicy{ForwardedFor: true}) {
		t.Errorf("spares = %+v, want 4 of 16 slots with the default policy", got)
	}
	granted := 0
	for _, b := range res.Config.Backends {
		if b.SlotStep == 64 {
			granted++
		}
	}
	if granted != 2 {
		t.Errorf("%d backends got their step of 64, want 2: the spares come first", granted)
	}

	opts.SpareBackends = 1000
	opts.SlotBudget = 1000
	if got := ingress.Translate(state, opts).Config.Spares.Count; got != 1000/4/16 {
		t.Errorf("with a budget of 1000, %d spares of 16 slots, want %d (a quarter of the budget)", got, 1000/4/16)
	}
	opts.SpareBackends = 0
	if got := ingress.Translate(state, opts).Config.Spares; got.Count != 0 {
		t.Errorf("--spare-backends=0 gives spares %+v", got)
	}
}
