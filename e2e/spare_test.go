package e2e

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// startRoutingWithoutSpares is startRouting with no spare backend sections, for tests that need
// every new Service to reload.
func startRoutingWithoutSpares(t *testing.T) (ns string, c *framework.Controller) {
	t.Helper()
	ns = framework.NewNamespace(t)
	framework.CreateIngressClass(t, ns, framework.ControllerName)
	c = framework.StartController(t, framework.ControllerOptions{
		Namespace: ns,
		ExtraArgs: []string{"--ingress.class=" + ns, "--spare-backends=0"},
	})
	return ns, c
}

// TestNewServiceTakesASpareBackendWithoutReload creates an Ingress for a new Service while the
// controller runs with its default pool of spare backend sections: the Service takes a spare
// through the runtime API, and haproxy neither reloads nor restarts. Its endpoint changes are
// applied at runtime in the spare too; then a reload for another reason renders it under its own
// name, and it stays routed.
func TestNewServiceTakesASpareBackendWithoutReload(t *testing.T) {
	t.Parallel()
	ns, c := startRouting(t)
	web := framework.StartEcho(t, "web")
	framework.EchoService(t, ns, "web", web)
	framework.CreateIngress(t, framework.Ingress(ns, "web", ns, framework.Rule("web.example", framework.Prefix("/", "web"))))
	framework.ExpectRoute(t, c, "web.example", "/", http.StatusOK, "web")
	const spares = "portcullis_spare_backends_free"
	framework.Eventually(t, framework.RouteTimeout, func() error {
		m, err := framework.ReadMetrics(c)
		if err != nil {
			return err
		}
		// The controller started haproxy before the first Ingress: web took a spare.
		if got := m.Value(spares); got != 15 {
			return fmt.Errorf("%s = %v, want 15 of the default pool of 16", spares, got)
		}
		return nil
	})
	before := expectNoReload(t, c)

	// A new Service and its Ingress: routed without a reload.
	e1, e2 := framework.StartEcho(t, "e1"), framework.StartEcho(t, "e2")
	framework.EchoService(t, ns, "fresh", e1)
	framework.CreateIngress(t, framework.Ingress(ns, "fresh", ns, framework.Rule("fresh.example", framework.Prefix("/", "fresh"))))
	framework.ExpectRoute(t, c, "fresh.example", "/", http.StatusOK, "e1")
	framework.ExpectRoute(t, c, "fresh.example", "/deeper", http.StatusOK, "e1")
	framework.ExpectRoute(t, c, "web.example", "/", http.StatusOK, "web")
	before.check(t, "an Ingress for a new Service")
	backend := ns + "_fresh_http"
	m := c.Metrics(t)
	if got := m.Value(spares); got != 14 {
		t.Errorf("%s = %v after one more new Service, want 14", spares, got)
	}
	if got := m.Value("portcullis_spare_backend_occupant", "backend", backend, "spare", "portcullis_spare-2"); got != 1 {
		t.Errorf("portcullis_spare_backend_occupant does not say that %s occupies portcullis_spare-2", backend)
	}

	// Its endpoints change: the spare's slots move, still without a reload.
	framework.SetEndpoints(t, ns, "fresh", e1, e2)
	framework.AwaitEchoes(t, c, "fresh.example", "/", "e1", "e2")
	framework.SetEndpoints(t, ns, "fresh", e2)
	framework.AwaitEchoes(t, c, "fresh.example", "/", "e2")
	before.check(t, "endpoint changes of a Service in a spare section")

	// A reload for another reason (a backend with its own settings): the Service is rendered
	// under its own name, stays routed, and the pool is whole again.
	st := c.ProcState(t)
	slow := framework.StartEcho(t, "slow")
	framework.EchoService(t, ns, "slow", slow)
	ing := framework.Ingress(ns, "slow", ns, framework.Rule("slow.example", framework.Prefix("/", "slow")))
	ing.Annotations = map[string]string{"haproxy.org/timeout-server": "2m"}
	framework.CreateIngress(t, ing)
	framework.ExpectRoute(t, c, "slow.example", "/", http.StatusOK, "slow")
	c.WaitReloads(t, st.Reloads+1, framework.RouteTimeout)
	framework.AwaitEchoes(t, c, "fresh.example", "/", "e2")
	framework.ExpectRoute(t, c, "web.example", "/", http.StatusOK, "web")
	framework.Eventually(t, framework.RouteTimeout, func() error {
		m, err := framework.ReadMetrics(c)
		if err != nil {
			return err
		}
		if got := m.Value(spares); got != 16 {
			return fmt.Errorf("%s = %v after a reload, want 16", spares, got)
		}
		if got := m.Sum("portcullis_spare_backend_occupant"); got != 0 {
			return fmt.Errorf("portcullis_spare_backend_occupant sums to %v after a reload, want 0", got)
		}
		return nil
	})
	after := expectNoReload(t, c)
	// Endpoint changes after the reload still apply at runtime, now in its own section.
	framework.SetEndpoints(t, ns, "fresh", e1)
	framework.AwaitEchoes(t, c, "fresh.example", "/", "e1")
	after.check(t, "an endpoint change after the reload")
}

// TestSparePoolIsRefilledByOneReload takes a small pool of spares with new Services: each is
// routed without a reload, and once fewer than a quarter of the spares are left one reload
// refills the pool, from which the next new Service takes a spare again.
func TestSparePoolIsRefilledByOneReload(t *testing.T) {
	t.Parallel()
	ns := framework.NewNamespace(t)
	framework.CreateIngressClass(t, ns, framework.ControllerName)
	c := framework.StartController(t, framework.ControllerOptions{
		Namespace: ns,
		ExtraArgs: []string{"--ingress.class=" + ns, "--spare-backends=4"},
	})
	framework.ExpectRoute(t, c, "any.example", "/", http.StatusNotFound, "")
	st := c.ProcState(t)
	echo := framework.StartEcho(t, "echo")
	add := func(i int) {
		name := fmt.Sprintf("svc-%d", i)
		framework.EchoService(t, ns, name, echo)
		framework.CreateIngress(t, framework.Ingress(ns, name, ns, framework.Rule(name+".example", framework.Prefix("/", name))))
		framework.ExpectRoute(t, c, name+".example", "/", http.StatusOK, "echo")
	}
	// Four new Services take the four spares; with none left, one reload refills the pool.
	for i := range 4 {
		add(i)
	}
	c.WaitReloads(t, st.Reloads+1, framework.RouteTimeout)
	metrics := func(refills, free float64) {
		t.Helper()
		framework.Eventually(t, framework.RouteTimeout, func() error {
			m, err := framework.ReadMetrics(c)
			if err != nil {
				return err
			}
			if got := m.Value("portcullis_reloads_total", "reason", "spares_refill"); got != refills {
				return fmt.Errorf(`portcullis_reloads_total{reason="spares_refill"} = %v, want %v`, got, refills)
			}
			if got := m.Value("portcullis_reloads_total", "reason", "backend_added"); got != 0 {
				return fmt.Errorf(`portcullis_reloads_total{reason="backend_added"} = %v, want 0`, got)
			}
			if got := m.Value("portcullis_spare_backends_free"); got != free {
				return fmt.Errorf("portcullis_spare_backends_free = %v, want %v", got, free)
			}
			return nil
		})
	}
	metrics(1, 4)
	// The next one takes a spare of the new pool, without a reload.
	before := expectNoReload(t, c)
	add(4)
	before.check(t, "a new Service after the refill")
	metrics(1, 3)
	for i := range 5 {
		name := fmt.Sprintf("svc-%d", i)
		framework.ExpectRoute(t, c, name+".example", "/", http.StatusOK, "echo")
	}
	if got := c.ProcState(t).Reloads; got != st.Reloads+1 {
		t.Errorf("haproxy reloaded %d times for 5 new Services, want 1 (the refill)", got-st.Reloads)
	}
}
