package e2e

import (
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// startRouting creates a namespace, an IngressClass of ours named after it, and a controller
// serving that class in that namespace. It returns the namespace (which is also the class name).
func startRouting(t *testing.T) (ns string, c *framework.Controller) {
	t.Helper()
	ns = framework.NewNamespace(t)
	framework.CreateIngressClass(t, ns, framework.ControllerName)
	c = framework.StartController(t, framework.ControllerOptions{
		Namespace: ns,
		ExtraArgs: []string{"--ingress.class=" + ns},
	})
	return ns, c
}

// TestRoutesHostsAndPaths checks that requests reach the Service their host and path select, that
// anything else gets the default backend's 404, that Ingresses of another controller's class are
// ignored, and that deleting an Ingress removes its routes.
func TestRoutesHostsAndPaths(t *testing.T) {
	t.Parallel()
	ns, c := startRouting(t)
	framework.CreateIngressClass(t, ns+"-other", "example.com/other")
	a, b, cc := framework.StartEcho(t, "a"), framework.StartEcho(t, "b"), framework.StartEcho(t, "c")
	framework.EchoService(t, ns, "svc-a", a)
	framework.EchoService(t, ns, "svc-b", b)
	framework.EchoService(t, ns, "svc-c", cc)

	// Created first, so that once the later Ingresses route, the controller has seen this one.
	framework.CreateIngress(t, framework.Ingress(ns, "not-ours", ns+"-other",
		framework.Rule("ignored.example", framework.Prefix("/", "svc-a"))))
	framework.CreateIngress(t, framework.Ingress(ns, "one", ns,
		framework.Rule("one.example", framework.Prefix("/", "svc-a"), framework.Prefix("/api", "svc-b"))))
	framework.CreateIngress(t, framework.Ingress(ns, "two", ns,
		framework.Rule("two.example", framework.Prefix("/", "svc-c"))))

	for _, r := range []struct{ host, path, echo string }{
		{"one.example", "/", "a"},
		{"one.example", "/index.html", "a"},
		{"one.example", "/api", "b"},
		{"one.example", "/api/v1/items", "b"},
		{"two.example", "/", "c"},
		{"two.example", "/api", "c"},
	} {
		framework.ExpectRoute(t, c, r.host, r.path, http.StatusOK, r.echo)
	}
	framework.ExpectRoute(t, c, "unknown.example", "/", http.StatusNotFound, "")
	framework.ExpectRoute(t, c, "ignored.example", "/", http.StatusNotFound, "")

	framework.DeleteIngress(t, ns, "two")
	framework.ExpectRoute(t, c, "two.example", "/", http.StatusNotFound, "")
	framework.ExpectRoute(t, c, "one.example", "/api", http.StatusOK, "b")
}

// TestPrefixMatchesWholePathElements checks the Ingress Prefix semantics: /api matches /api and
// /api/x but not /apix.
func TestPrefixMatchesWholePathElements(t *testing.T) {
	t.Parallel()
	ns, c := startRouting(t)
	root, api := framework.StartEcho(t, "root"), framework.StartEcho(t, "api")
	framework.EchoService(t, ns, "root", root)
	framework.EchoService(t, ns, "api", api)
	framework.CreateIngress(t, framework.Ingress(ns, "web", ns,
		framework.Rule("prefix.example", framework.Prefix("/", "root"), framework.Prefix("/api", "api"))))

	framework.ExpectRoute(t, c, "prefix.example", "/api/", http.StatusOK, "api")
	framework.ExpectRoute(t, c, "prefix.example", "/api", http.StatusOK, "api")
	framework.ExpectRoute(t, c, "prefix.example", "/apix", http.StatusOK, "root")
}

// TestSpreadsOverEndpoints checks that scaling a Service's EndpointSlice from one to three ready
// endpoints spreads requests over all three.
func TestSpreadsOverEndpoints(t *testing.T) {
	t.Parallel()
	ns, c := startRouting(t)
	e1, e2, e3 := framework.StartEcho(t, "e1"), framework.StartEcho(t, "e2"), framework.StartEcho(t, "e3")
	framework.EchoService(t, ns, "web", e1)
	framework.CreateIngress(t, framework.Ingress(ns, "web", ns,
		framework.Rule("spread.example", framework.Prefix("/", "web"))))
	framework.ExpectRoute(t, c, "spread.example", "/", http.StatusOK, "e1")

	framework.SetEndpoints(t, ns, "web", e1, e2, e3)
	framework.Eventually(t, framework.RouteTimeout, func() error {
		seen := map[string]int{}
		for range 60 {
			resp, err := framework.TryGet(c, "spread.example", "/")
			if err != nil {
				return err
			}
			if resp.Status != http.StatusOK {
				return fmt.Errorf("got status %d, want 200", resp.Status)
			}
			seen[resp.Echo]++
		}
		for _, name := range []string{"e1", "e2", "e3"} {
			if seen[name] == 0 {
				return fmt.Errorf("60 requests reached %v, never %s", seen, name)
			}
		}
		return nil
	})
}

// TestRestartsKilledHAProxy checks that after a SIGKILL of the haproxy master the controller starts
// a new one and traffic flows again.
func TestRestartsKilledHAProxy(t *testing.T) {
	t.Parallel()
	ns, c := startRouting(t)
	echo := framework.StartEcho(t, "web")
	framework.EchoService(t, ns, "web", echo)
	framework.CreateIngress(t, framework.Ingress(ns, "web", ns,
		framework.Rule("restart.example", framework.Prefix("/", "web"))))
	framework.ExpectRoute(t, c, "restart.example", "/", http.StatusOK, "web")

	oldPID := c.MasterPID(t)
	if err := syscall.Kill(oldPID, syscall.SIGKILL); err != nil {
		t.Fatalf("killing the haproxy master %d: %v", oldPID, err)
	}
	killed := time.Now()
	framework.Eventually(t, framework.RouteTimeout, func() error {
		pid, err := c.ReadMasterPID()
		if err != nil {
			return err
		}
		if pid == oldPID {
			return fmt.Errorf("the pid file still names the killed master %d", pid)
		}
		return nil
	})
	framework.ExpectRoute(t, c, "restart.example", "/", http.StatusOK, "web")
	t.Logf("traffic back %s after killing the haproxy master; the new master has reloaded %d times",
		time.Since(killed).Round(time.Millisecond), c.ReloadCount(t))
}
