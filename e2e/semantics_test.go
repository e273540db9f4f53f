package e2e

// Ingress semantics beyond the conformance suite (issue 4): several Ingresses sharing a host,
// conflicts, namespaces, missing and unsupported backends, and host precedence. Each test has its
// own namespace and controller; problems must show up as Events on the Ingress concerned.

import (
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// expectIngressEvent waits for a Warning Event with reason on the Ingress (the very object: its
// UID must match) whose message contains every one of fragments.
func expectIngressEvent(t *testing.T, ing *networkingv1.Ingress, reason string, fragments ...string) corev1.Event {
	t.Helper()
	ev := framework.WaitForEvent(t, ing.Namespace, "Ingress", ing.Name, reason)
	if ev.Type != corev1.EventTypeWarning {
		t.Errorf("%s Event on %s/%s has type %q, want Warning", reason, ing.Namespace, ing.Name, ev.Type)
	}
	if ev.InvolvedObject.UID != ing.UID {
		t.Errorf("%s Event on %s/%s names UID %q, want the Ingress's %q", reason, ing.Namespace, ing.Name, ev.InvolvedObject.UID, ing.UID)
	}
	for _, f := range fragments {
		if !strings.Contains(ev.Message, f) {
			t.Errorf("%s Event on %s/%s says %q, want it to mention %q", reason, ing.Namespace, ing.Name, ev.Message, f)
		}
	}
	return ev
}

// expectNoIngressEvent checks that the Ingress has no Event with reason now.
func expectNoIngressEvent(t *testing.T, ing *networkingv1.Ingress, reason string) {
	t.Helper()
	if evs := framework.EventsFor(t, ing.Namespace, "Ingress", ing.Name, reason); len(evs) > 0 {
		t.Errorf("Ingress %s/%s has %s Events %s, want none", ing.Namespace, ing.Name, reason, framework.DescribeEvents(evs))
	}
}

// TestSemanticsOlderIngressWinsConflict: two Ingresses claim the same host and path. The older one
// (by creation time, although its name sorts last) keeps the path, the newer one gets a Warning
// Event RouteConflict and still serves its other paths (Ingresses for one host merge). Once the
// older Ingress is gone, the newer one takes the path over.
func TestSemanticsOlderIngressWinsConflict(t *testing.T) {
	t.Parallel()
	ns, c := startConformance(t)
	backends(t, ns, "old", "new")
	older := framework.CreateIngress(t, framework.Ingress(ns, "z-older", ns,
		framework.Rule("conflict.example", prefixTo("/shared", "old"), prefixTo("/old-only", "old"))))
	// Creation timestamps have a resolution of one second: make sure the newer one is later,
	// rather than winning or losing on its name.
	time.Sleep(time.Until(older.CreationTimestamp.Add(time.Second + 100*time.Millisecond)))
	newer := framework.CreateIngress(t, framework.Ingress(ns, "a-newer", ns,
		framework.Rule("conflict.example", prefixTo("/shared", "new"), prefixTo("/new-only", "new"))))
	if !newer.CreationTimestamp.After(older.CreationTimestamp.Time) {
		t.Fatalf("creation timestamps %s and %s: the newer Ingress is not later", older.CreationTimestamp, newer.CreationTimestamp)
	}

	const ok, notFound = http.StatusOK, http.StatusNotFound
	expectRoutes(t, c, []route{
		{"the newer Ingress serves its own path", "conflict.example", "/new-only", ok, "new"},
		{"the older Ingress serves its own path", "conflict.example", "/old-only", ok, "old"},
		{"the older Ingress keeps the path both claim", "conflict.example", "/shared", ok, "old"},
		{"the older Ingress keeps the subpaths of the prefix both claim", "conflict.example", "/shared/x", ok, "old"},
	})
	expectIngressEvent(t, newer, "RouteConflict", "/shared", "z-older")
	expectNoIngressEvent(t, older, "RouteConflict")

	framework.DeleteIngress(t, ns, older.Name)
	framework.ExpectRoute(t, c, "conflict.example", "/shared", ok, "new")
	framework.ExpectRoute(t, c, "conflict.example", "/old-only", notFound, "")
	framework.ExpectRoute(t, c, "conflict.example", "/new-only", ok, "new")
}

// TestSemanticsServicesResolveInOwnNamespace: a backend name resolves in the Ingress's namespace.
// The controller watches two namespaces, both with a Service "shared"; each Ingress reaches its
// own. A Service that exists only in the other namespace is missing for the Ingress: 503 and a
// ServiceNotFound Event.
func TestSemanticsServicesResolveInOwnNamespace(t *testing.T) {
	t.Parallel()
	other := framework.NewNamespace(t)
	ns, c := startConformance(t, "--namespace-whitelist="+other)
	backends(t, ns, "mine")
	backendService(t, ns, "shared", framework.StartEcho(t, "shared-here"))
	backendService(t, other, "shared", framework.StartEcho(t, "shared-there"))
	backendService(t, other, "elsewhere", framework.StartEcho(t, "elsewhere"))

	here := framework.CreateIngress(t, framework.Ingress(ns, "here", ns,
		framework.Rule("here.example",
			prefixTo("/mine", "mine"),
			prefixTo("/shared", "shared"),
			prefixTo("/elsewhere", "elsewhere"))))
	framework.CreateIngress(t, framework.Ingress(other, "there", ns,
		framework.Rule("there.example", prefixTo("/shared", "shared"), prefixTo("/elsewhere", "elsewhere"))))

	expectRoutes(t, c, []route{
		{"a Service of the Ingress's namespace", "here.example", "/mine", http.StatusOK, "mine"},
		{"the Service of the Ingress's namespace, not the other's of the same name", "here.example", "/shared", http.StatusOK, "shared-here"},
		{"a Service only in another namespace is missing", "here.example", "/elsewhere", http.StatusServiceUnavailable, ""},
		{"the other namespace's Ingress reaches its own Service", "there.example", "/shared", http.StatusOK, "shared-there"},
		{"the other namespace's Ingress reaches a Service of its namespace", "there.example", "/elsewhere", http.StatusOK, "elsewhere"},
	})
	expectIngressEvent(t, here, "ServiceNotFound", "elsewhere")
}

// TestSemanticsMissingService: a path whose Service (or Service port) does not exist answers 503
// and the Ingress gets a ServiceNotFound (ServicePortNotFound) Event, while its other paths work;
// creating the Service makes the path work.
func TestSemanticsMissingService(t *testing.T) {
	t.Parallel()
	ns, c := startConformance(t)
	backends(t, ns, "present")
	ing := framework.CreateIngress(t, framework.Ingress(ns, "app", ns,
		framework.Rule("missing.example",
			prefixTo("/ok", "present"),
			prefixTo("/later", "later"),
			framework.Path(networkingv1.PathTypePrefix, "/badport", "present", "no-such-port"))))

	const unavailable = http.StatusServiceUnavailable
	expectRoutes(t, c, []route{
		{"a path with an existing Service works", "missing.example", "/ok", http.StatusOK, "present"},
		{"a path with a missing Service answers 503", "missing.example", "/later", unavailable, ""},
		{"a subpath with a missing Service answers 503, not another route", "missing.example", "/later/x", unavailable, ""},
		{"a path with a missing Service port answers 503", "missing.example", "/badport", unavailable, ""},
		{"no route is no route", "missing.example", "/none", http.StatusNotFound, ""},
	})
	expectIngressEvent(t, ing, "ServiceNotFound", "later")
	expectIngressEvent(t, ing, "ServicePortNotFound", "present", "no-such-port")

	backends(t, ns, "later")
	framework.ExpectRoute(t, c, "missing.example", "/later", http.StatusOK, "later")
	framework.ExpectRoute(t, c, "missing.example", "/ok", http.StatusOK, "present")
	framework.ExpectRoute(t, c, "missing.example", "/badport", unavailable, "")
}

// TestSemanticsResourceBackend: a path with a resource backend is not served (404, not another
// route's backend) and the Ingress gets an UnsupportedBackend Event; its other paths work.
func TestSemanticsResourceBackend(t *testing.T) {
	t.Parallel()
	ns, c := startConformance(t)
	backends(t, ns, "app")
	group := "storage.example.com"
	prefix := networkingv1.PathTypePrefix
	ing := framework.CreateIngress(t, framework.Ingress(ns, "resource", ns,
		framework.Rule("resource.example",
			prefixTo("/app", "app"),
			networkingv1.HTTPIngressPath{Path: "/bucket", PathType: &prefix, Backend: networkingv1.IngressBackend{
				Resource: &corev1.TypedLocalObjectReference{APIGroup: &group, Kind: "Bucket", Name: "assets"},
			}})))

	expectRoutes(t, c, []route{
		{"a path with a Service backend works", "resource.example", "/app", http.StatusOK, "app"},
		{"a path with a resource backend is not served", "resource.example", "/bucket", http.StatusNotFound, ""},
		{"a subpath of a resource backend is not served", "resource.example", "/bucket/x", http.StatusNotFound, ""},
	})
	expectIngressEvent(t, ing, "UnsupportedBackend", "resource")
}

// TestSemanticsHostPrecedence: rules without a host apply to every host, including an IP address
// with a port; an exact host beats a wildcard, which beats the hostless rules; a request whose
// host has no rule of its own falls to the hostless rules.
func TestSemanticsHostPrecedence(t *testing.T) {
	t.Parallel()
	ns, c := startConformance(t)
	backends(t, ns, "any-host", "wildcard", "exact")
	framework.CreateIngress(t, framework.Ingress(ns, "hosts", ns,
		framework.Rule("", prefixTo("/any", "any-host")),
		framework.Rule("*.wild.example", prefixTo("/", "wildcard")),
		framework.Rule("exact.wild.example", prefixTo("/", "exact")),
	))

	const ok, notFound = http.StatusOK, http.StatusNotFound
	expectRoutes(t, c, []route{
		{"a hostless rule applies to a host without rules", "unknown.example", "/any", ok, "any-host"},
		{"a hostless rule applies to an IP address with a port", "", "/any/x", ok, "any-host"},
		{"a hostless rule applies to a host with a port", "unknown.example:8080", "/any", ok, "any-host"},
		{"a hostless rule's path still has to match", "unknown.example", "/anything", notFound, ""},
		{"an exact host beats the wildcard", "exact.wild.example", "/", ok, "exact"},
		{"an exact host beats the hostless rules on the same path", "exact.wild.example", "/any", ok, "exact"},
		{"a wildcard host beats the hostless rules on the same path", "other.wild.example", "/any", ok, "wildcard"},
		{"a wildcard covers one label only; two labels fall to the hostless rules", "a.b.wild.example", "/any", ok, "any-host"},
		{"a wildcard covers one label only; nothing else matches", "a.b.wild.example", "/", notFound, ""},
	})
}

// TestSemanticsDefaultBackendTakesUnmatched: spec.defaultBackend answers every request that no
// rule matches, whatever the host, while the rules keep their paths. A second, newer Ingress
// setting spec.defaultBackend is ignored with a DefaultBackendConflict Event.
func TestSemanticsDefaultBackendTakesUnmatched(t *testing.T) {
	t.Parallel()
	ns, c := startConformance(t)
	backends(t, ns, "app", "fallback", "late-fallback")
	withRules := defaultBackendIngress(ns, "with-rules", ns, "fallback", conformancePort)
	withRules.Spec.Rules = []networkingv1.IngressRule{framework.Rule("rules.example", prefixTo("/app", "app"))}
	framework.CreateIngress(t, withRules)
	// Creation timestamps have a resolution of one second: the second Ingress must be newer.
	time.Sleep(1100 * time.Millisecond)
	newer := framework.CreateIngress(t, defaultBackendIngress(ns, "another-default", ns, "late-fallback", conformancePort))

	const ok = http.StatusOK
	expectRoutes(t, c, []route{
		{"a rule's path goes to its Service", "rules.example", "/app/x", ok, "app"},
		{"another path of the rule's host goes to the default backend", "rules.example", "/other", ok, "fallback"},
		{"another host goes to the default backend", "other.example", "/app", ok, "fallback"},
		{"an IP address as host goes to the default backend", "", "/", ok, "fallback"},
	})
	expectIngressEvent(t, newer, "DefaultBackendConflict", "with-rules")
}

// TestSemanticsEmptyIngressClassFlag: with --empty-ingress-class, an Ingress naming no class is
// served even though none of our IngressClasses is the default; one naming another class is not.
func TestSemanticsEmptyIngressClassFlag(t *testing.T) {
	t.Parallel()
	ns, c := startConformance(t, "--empty-ingress-class")
	framework.CreateIngressClass(t, ns+"-other", "example.com/other-controller")
	backends(t, ns, "web")
	framework.CreateIngress(t, framework.Ingress(ns, "foreign", ns+"-other",
		framework.Rule("foreign.example", prefixTo("/", "web"))))
	classless := framework.CreateIngress(t, framework.Ingress(ns, "classless", "",
		framework.Rule("classless.example", prefixTo("/", "web"))))
	if classless.Spec.IngressClassName != nil {
		t.Fatalf("the DefaultIngressClass admission plugin gave the classless Ingress class %q: another test left a default IngressClass",
			*classless.Spec.IngressClassName)
	}
	framework.ExpectRoute(t, c, "classless.example", "/", http.StatusOK, "web")
	expectStatusAddress(t, ns, "classless")
	framework.ExpectRoute(t, c, "foreign.example", "/", http.StatusNotFound, "")
	expectNoStatusAddress(t, ns, "foreign")
}
