package e2e

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// The tests in this file prove Gateway API support (issue 11) end to end: GatewayClasses,
// Gateways and HTTPRoutes served by the same HAProxy as Ingresses, with their statuses.

// gatewayTest is a controller that serves Ingresses of its namespace's class and the Gateway API
// objects of a GatewayClass of its own controller name, in shared-address mode, with a Gateway
// listening on port 80 (the controller's HTTP listener).
type gatewayTest struct {
	ns, class, gateway string
	// controllerName is the controller's --gateway-controller-name.
	controllerName string
	c              *framework.Controller
}

// startGateway starts a controller for a test, with its own IngressClass, Gateway controller name,
// GatewayClass and election Lease, watching ns and the extra namespaces. Its published address is
// 192.0.2.10.
func startGateway(t *testing.T, extraNamespaces ...string) gatewayTest {
	t.Helper()
	ns := framework.NewNamespace(t)
	controllerName := "portcullis.io/" + ns
	framework.CreateIngressClass(t, ns, framework.ControllerName)
	class := framework.CreateGatewayClass(t, controllerName)
	args := []string{
		"--ingress.class=" + ns,
		"--gateway-controller-name=" + controllerName,
		"--election-namespace=" + ns,
		"--publish-status-address=192.0.2.10",
	}
	for _, other := range extraNamespaces {
		args = append(args, "--namespace-whitelist="+other)
	}
	c := framework.StartController(t, framework.ControllerOptions{Namespace: ns, ExtraArgs: args})
	framework.CreateGateway(t, framework.GatewayObject(ns, "gw", class, framework.HTTPListener("http", 80, "")))
	return gatewayTest{ns: ns, class: class, gateway: "gw", controllerName: controllerName, c: c}
}

// TestGatewayAndIngressShareHostAndHAProxy: an Ingress and an HTTPRoute name the same host on the
// same HAProxy (shared-address mode: the Gateway's port-80 listener is the controller's HTTP
// listener, and its routes share the Ingresses' table); each is routed by its own rules.
func TestGatewayAndIngressShareHostAndHAProxy(t *testing.T) {
	t.Parallel()
	g := startGateway(t)
	framework.EchoService(t, g.ns, "ing-svc", framework.StartEcho(t, "from-ingress"))
	framework.EchoService(t, g.ns, "gw-svc", framework.StartEcho(t, "from-route"))
	framework.CreateIngress(t, framework.Ingress(g.ns, "web", g.ns,
		framework.Rule("shared.example", framework.Prefix("/ingress", "ing-svc"))))
	framework.CreateHTTPRoute(t, framework.HTTPRoute(g.ns, "web", g.gateway, []string{"shared.example"},
		framework.PathPrefixRule("/route", framework.BackendRef("", "gw-svc", 80, 1))))

	framework.ExpectRoute(t, g.c, "shared.example", "/ingress", http.StatusOK, "from-ingress")
	framework.ExpectRoute(t, g.c, "shared.example", "/route", http.StatusOK, "from-route")
	framework.ExpectRoute(t, g.c, "shared.example", "/route/deeper", http.StatusOK, "from-route")
	framework.ExpectRoute(t, g.c, "shared.example", "/ingress/deeper", http.StatusOK, "from-ingress")
	framework.ExpectRoute(t, g.c, "shared.example", "/neither", http.StatusNotFound, "")
	g.c.WaitIdle(t)
}

// TestGatewayWeightChangeNeedsNoReload: an HTTPRoute rule with two weighted backendRefs shares its
// requests by their weights, and new weights move the share through the runtime API: the reload
// counter, the master and its workers stay the same. So do new endpoints of a backendRef's Service.
func TestGatewayWeightChangeNeedsNoReload(t *testing.T) {
	t.Parallel()
	g := startGateway(t)
	framework.EchoService(t, g.ns, "stable", framework.StartEcho(t, "stable"))
	framework.EchoService(t, g.ns, "canary", framework.StartEcho(t, "canary"))
	framework.CreateHTTPRoute(t, framework.HTTPRoute(g.ns, "split", g.gateway, []string{"split.example"},
		framework.PathPrefixRule("/", framework.BackendRef("", "stable", 80, 80), framework.BackendRef("", "canary", 80, 20))))
	framework.AwaitEchoes(t, g.c, "split.example", "/", "stable", "canary")
	g.c.WaitIdle(t)
	before := expectNoReload(t, g.c)

	got := echoShare(t, g.c, "split.example", "canary", 1000)
	t.Logf("weights 80/20: the canary answered %.1f%% of 1000 requests", 100*got)
	if math.Abs(got-0.20) > 0.05 {
		t.Errorf("weights 80/20: the canary answered %.1f%% of 1000 requests, want 15%% to 25%%", 100*got)
	}

	framework.UpdateHTTPRoute(t, g.ns, "split", func(r *gatewayv1.HTTPRoute) {
		w1, w2 := int32(20), int32(80)
		r.Spec.Rules[0].BackendRefs[0].Weight = &w1
		r.Spec.Rules[0].BackendRefs[1].Weight = &w2
	})
	framework.Eventually(t, framework.RouteTimeout, func() error {
		if s := echoShare(t, g.c, "split.example", "canary", 100); s < 0.65 || s > 0.95 {
			return fmt.Errorf("the canary answered %.0f%% of 100 requests, want about 80%%", 100*s)
		}
		return nil
	})
	got = echoShare(t, g.c, "split.example", "canary", 1000)
	t.Logf("weights 20/80: the canary answered %.1f%% of 1000 requests", 100*got)
	if math.Abs(got-0.80) > 0.05 {
		t.Errorf("weights 20/80: the canary answered %.1f%% of 1000 requests, want 75%% to 85%%", 100*got)
	}
	before.check(t, "changing the weights of backendRefs")

	// The endpoints of a backendRef's Service move at runtime too (the endpoint pass knows the
	// backends Gateway API routes feed).
	framework.SetEndpoints(t, g.ns, "canary", framework.StartEcho(t, "canary-2"))
	framework.AwaitEchoes(t, g.c, "split.example", "/", "stable", "canary-2")
	before.check(t, "moving the endpoints of a backendRef's Service")
	g.c.WaitIdle(t)
}

// TestGatewayCrossNamespaceBackendNeedsReferenceGrant: a backendRef to a Service of another
// namespace without a ReferenceGrant is refused with the spec's reason (ResolvedRefs False,
// RefNotPermitted); its share of the rule answers 500 and the route's other rules keep serving.
// A ReferenceGrant in the Service's namespace then lets it through.
func TestGatewayCrossNamespaceBackendNeedsReferenceGrant(t *testing.T) {
	t.Parallel()
	other := framework.NewNamespace(t)
	g := startGateway(t, other)
	framework.EchoService(t, g.ns, "local", framework.StartEcho(t, "local"))
	framework.EchoService(t, other, "remote", framework.StartEcho(t, "remote"))
	framework.CreateHTTPRoute(t, framework.HTTPRoute(g.ns, "mixed", g.gateway, []string{"cross.example"},
		framework.PathPrefixRule("/local", framework.BackendRef("", "local", 80, 1)),
		framework.PathPrefixRule("/remote", framework.BackendRef(other, "remote", 80, 1))))

	framework.ExpectRoute(t, g.c, "cross.example", "/local", http.StatusOK, "local")
	framework.ExpectRoute(t, g.c, "cross.example", "/remote", http.StatusInternalServerError, "")
	framework.Eventually(t, framework.RouteTimeout, func() error {
		p, err := framework.RouteParentStatus(t.Context(), g.controllerName, g.ns, "mixed", g.gateway)
		if err != nil {
			return err
		}
		return framework.ExpectCondition("HTTPRoute mixed", p.Conditions, string(gatewayv1.RouteConditionResolvedRefs),
			metav1.ConditionFalse, string(gatewayv1.RouteReasonRefNotPermitted))
	})
	framework.ExpectRoute(t, g.c, "cross.example", "/local", http.StatusOK, "local")

	framework.CreateReferenceGrant(t, framework.ReferenceGrant(other, "let-routes-in", g.ns))
	framework.ExpectRoute(t, g.c, "cross.example", "/remote", http.StatusOK, "remote")
	framework.Eventually(t, framework.RouteTimeout, func() error {
		p, err := framework.RouteParentStatus(t.Context(), g.controllerName, g.ns, "mixed", g.gateway)
		if err != nil {
			return err
		}
		return framework.ExpectCondition("HTTPRoute mixed", p.Conditions, string(gatewayv1.RouteConditionResolvedRefs), metav1.ConditionTrue, "")
	})
	framework.ExpectRoute(t, g.c, "cross.example", "/local", http.StatusOK, "local")
	g.c.WaitIdle(t)
}

// TestGatewayStatuses: the elected controller writes the GatewayClass status (Accepted, with the
// generation it saw and the supported features), the Gateway's (Accepted, Programmed, the
// published address, each listener's attached routes) and the HTTPRoute's parent entry (Accepted,
// ResolvedRefs).
func TestGatewayStatuses(t *testing.T) {
	t.Parallel()
	g := startGateway(t)
	framework.EchoService(t, g.ns, "web", framework.StartEcho(t, "web"))
	framework.CreateHTTPRoute(t, framework.HTTPRoute(g.ns, "web", g.gateway, []string{"status.example"},
		framework.PathPrefixRule("/", framework.BackendRef("", "web", 80, 1))))
	framework.ExpectRoute(t, g.c, "status.example", "/", http.StatusOK, "web")
	gw := framework.Gateway().GatewayV1()

	framework.Eventually(t, framework.RouteTimeout, func() error {
		gc, err := gw.GatewayClasses().Get(t.Context(), g.class, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if err := framework.ExpectCondition("GatewayClass", gc.Status.Conditions, string(gatewayv1.GatewayClassConditionStatusAccepted), metav1.ConditionTrue, ""); err != nil {
			return err
		}
		if c := framework.FindCondition(gc.Status.Conditions, "Accepted"); c.ObservedGeneration != gc.Generation {
			return fmt.Errorf("GatewayClass Accepted observedGeneration %d, generation %d", c.ObservedGeneration, gc.Generation)
		}
		if len(gc.Status.SupportedFeatures) == 0 {
			return fmt.Errorf("GatewayClass status lists no supported features")
		}
		return nil
	})
	framework.Eventually(t, framework.RouteTimeout, func() error {
		obj, err := gw.Gateways(g.ns).Get(t.Context(), g.gateway, metav1.GetOptions{})
		if err != nil {
			return err
		}
		st := obj.Status
		for _, typ := range []string{"Accepted", "Programmed"} {
			if err := framework.ExpectCondition("Gateway", st.Conditions, typ, metav1.ConditionTrue, ""); err != nil {
				return err
			}
		}
		if len(st.Addresses) != 1 || st.Addresses[0].Value != "192.0.2.10" {
			return fmt.Errorf("Gateway status addresses %+v, want 192.0.2.10 (--publish-status-address)", st.Addresses)
		}
		if len(st.Listeners) != 1 || st.Listeners[0].AttachedRoutes != 1 {
			return fmt.Errorf("Gateway listener status %+v, want one listener with 1 attached route", st.Listeners)
		}
		return framework.ExpectCondition("listener http", st.Listeners[0].Conditions, "Programmed", metav1.ConditionTrue, "")
	})
	framework.Eventually(t, framework.RouteTimeout, func() error {
		p, err := framework.RouteParentStatus(t.Context(), g.controllerName, g.ns, "web", g.gateway)
		if err != nil {
			return err
		}
		for _, typ := range []string{"Accepted", "ResolvedRefs"} {
			if err := framework.ExpectCondition("HTTPRoute web", p.Conditions, typ, metav1.ConditionTrue, ""); err != nil {
				return err
			}
		}
		return nil
	})

	// Statuses that are written stay as they are: no write without a change.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r, err := gw.HTTPRoutes(g.ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	framework.CreateIngress(t, framework.Ingress(g.ns, "unrelated", g.ns, framework.Rule("other.example", framework.Prefix("/", "web"))))
	framework.ExpectRoute(t, g.c, "other.example", "/", http.StatusOK, "web")
	after, err := gw.HTTPRoutes(g.ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != r.ResourceVersion {
		t.Errorf("the HTTPRoute was written again (resourceVersion %s -> %s) although its status did not change", r.ResourceVersion, after.ResourceVersion)
	}
	g.c.WaitIdle(t)
}
