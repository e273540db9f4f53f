package e2e

// Restarts that lose nothing (issue 14): a controller that dies leaves haproxy serving, and the
// next one adopts it instead of starting a second master on the same ports; a controller asked to
// stop drains first, and the next one starts afresh.

import (
	"fmt"
	"net/http"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// servedOnEveryConnection sends n requests, each on a new connection, and fails the test unless
// every one is answered 200 by echo want. With a second haproxy master on the same ports
// (SO_REUSEPORT), the kernel would hand part of the connections to it.
func servedOnEveryConnection(t *testing.T, c *framework.Controller, host, want string, n int) {
	t.Helper()
	got := map[string]int{}
	for range n {
		r, err := framework.TryGet(c, host, "/")
		switch {
		case err != nil:
			got[err.Error()]++
		case r.Status != http.StatusOK || r.Echo != want:
			got[fmt.Sprintf("%d from %q", r.Status, r.Echo)]++
		default:
			got["ok"]++
		}
	}
	if got["ok"] != n {
		t.Errorf("%s on %d new connections: %v, want 200 from %s on all", host, n, got, want)
	}
}

// onlyMaster fails the test unless exactly one haproxy runs on c's configuration, and returns it.
func onlyMaster(t *testing.T, c *framework.Controller) int {
	t.Helper()
	masters := c.HAProxyMasters(t)
	if len(masters) != 1 {
		t.Fatalf("haproxy masters on the configuration directory: %v, want exactly one", masters)
	}
	if pid := c.MasterPID(t); pid != masters[0] {
		t.Errorf("the pid file names %d, the running master is %d", pid, masters[0])
	}
	return masters[0]
}

// startRestartable starts a controller serving web.example from one echo, with extra flags.
func startRestartable(t *testing.T, extra ...string) (string, *framework.Controller) {
	t.Helper()
	ns := framework.NewNamespace(t)
	framework.CreateIngressClass(t, ns, framework.ControllerName)
	c := framework.StartController(t, framework.ControllerOptions{Namespace: ns,
		ExtraArgs: append([]string{"--ingress.class=" + ns}, extra...)})
	framework.EchoService(t, ns, "web", framework.StartEcho(t, "web"))
	framework.CreateIngress(t, framework.Ingress(ns, "web", ns, framework.Rule("web.example", framework.Prefix("/", "web"))))
	framework.AwaitEchoes(t, c, "web.example", "/", "web")
	return ns, c
}

// addRoute serves host from a new echo named name, through a new Service and Ingress.
func addRoute(t *testing.T, ns, name, host string) {
	t.Helper()
	framework.EchoService(t, ns, name, framework.StartEcho(t, name))
	framework.CreateIngress(t, framework.Ingress(ns, name, ns, framework.Rule(host, framework.Prefix("/", name))))
}

// TestRestartAfterSIGKILL kills the controller under keep-alive load and starts it again on the
// same ports and directories: haproxy serves throughout, the new controller adopts it (one
// master, the same one) and reloads it with what changed while no controller ran, and routes
// created afterwards reach every connection.
func TestRestartAfterSIGKILL(t *testing.T) {
	t.Parallel()
	ns, c := startRestartable(t)
	master := onlyMaster(t, c)
	reloads := c.ReloadCount(t)

	load := framework.StartLoad(t, c, "web.example", "/", 4, 2*time.Minute)
	time.Sleep(500 * time.Millisecond)
	t0 := time.Now()
	c.Kill(t)
	// While no controller runs, haproxy keeps serving what it had, and the cluster moves on.
	addRoute(t, ns, "meanwhile", "meanwhile.example")
	time.Sleep(time.Second)

	restarted := time.Now()
	c2 := framework.StartControllerLike(t, c)
	t.Logf("controller ready %s after its restart (%s after SIGKILL)",
		time.Since(restarted).Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
	if got := onlyMaster(t, c2); got != master {
		t.Errorf("the haproxy master is %d after the restart, want %d adopted", got, master)
	}
	if got := c2.ReloadCount(t); got <= reloads {
		t.Errorf("haproxy reloaded %d times in all, want more than the %d before the restart: the new controller reloads what it adopts", got, reloads)
	}
	servedOnEveryConnection(t, c2, "meanwhile.example", "meanwhile", 100)

	addRoute(t, ns, "after", "after.example")
	framework.ExpectRoute(t, c2, "after.example", "/", http.StatusOK, "after")
	servedOnEveryConnection(t, c2, "after.example", "after", 100)

	res := load.Stop()
	t.Logf("load from before the SIGKILL until now: %s", res)
	if res.Failed > 0 || res.Requests == 0 {
		t.Errorf("%d of %d requests failed across the restart, want none: %v", res.Failed, res.Requests, res.Errors)
	}
	onlyMaster(t, c2)
}

// TestRestartWithSilentHAProxy kills the controller and freezes its haproxy master (SIGSTOP: it
// accepts connections on its master socket but never answers). The next controller must not
// adopt it nor run a second master beside it: it stops it, then starts its own.
func TestRestartWithSilentHAProxy(t *testing.T) {
	t.Parallel()
	ns, c := startRestartable(t, "--stop-timeout=2s")
	master := onlyMaster(t, c)
	c.Kill(t)
	if err := syscall.Kill(master, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	c2 := framework.StartControllerLike(t, c)
	t.Logf("controller ready %s after its restart", time.Since(restarted).Round(time.Millisecond))
	if got := onlyMaster(t, c2); got == master {
		t.Errorf("the silent master %d was adopted", master)
	}
	addRoute(t, ns, "after", "after.example")
	framework.ExpectRoute(t, c2, "after.example", "/", http.StatusOK, "after")
	servedOnEveryConnection(t, c2, "after.example", "after", 100)
}

// TestRestartAfterSIGTERM follows the documented shutdown (--shutdown-delay) under keep-alive
// load, then starts the controller again: the load balancer (the load here) stops sending once
// the monitor fails and no request fails before that; the controller stops haproxy and exits;
// the next one starts a new haproxy and serves with no failure either.
func TestRestartAfterSIGTERM(t *testing.T) {
	t.Parallel()
	const delay = 3 * time.Second
	ns, c := startRestartable(t, "--shutdown-delay="+delay.String())
	master := onlyMaster(t, c)

	load := framework.StartLoad(t, c, "web.example", "/", 4, time.Minute)
	time.Sleep(500 * time.Millisecond)
	t0 := time.Now()
	c.Terminate(t)
	var failedAfter time.Duration
	for monitorStatus(c.MonitorURL) != http.StatusServiceUnavailable {
		if time.Since(t0) > time.Second {
			t.Fatalf("the monitor did not fail within 1 s of SIGTERM")
		}
		time.Sleep(5 * time.Millisecond)
	}
	failedAfter = time.Since(t0)
	// A load balancer checking every 500 ms stops sending after its next check.
	time.Sleep(500 * time.Millisecond)
	res := load.Stop()
	t.Logf("monitor failed %s after SIGTERM; load until the load balancer stopped: %s", failedAfter.Round(time.Millisecond), res)
	if res.Failed > 0 || res.Requests == 0 {
		t.Errorf("%d of %d requests failed before the load balancer stopped sending, want none: %v", res.Failed, res.Requests, res.Errors)
	}
	if !c.WaitExit(delay + 15*time.Second) {
		t.Fatal("the controller did not exit within the shutdown delay and the stop timeout")
	}
	exited := time.Since(t0)
	if masters := c.HAProxyMasters(t); len(masters) != 0 {
		t.Errorf("haproxy %v still runs after the controller stopped", masters)
	}

	c2 := framework.StartControllerLike(t, c)
	t.Logf("controller exited %s after SIGTERM; the next one was ready %s after that",
		exited.Round(time.Millisecond), (time.Since(t0) - exited).Round(time.Millisecond))
	if got := onlyMaster(t, c2); got == master {
		t.Errorf("the haproxy master %d from before the stop still runs", master)
	}
	if got := monitorStatus(c2.MonitorURL); got != http.StatusOK {
		t.Errorf("monitor answered %d after the restart, want 200", got)
	}
	// The load balancer sends again once the monitor passes.
	load = framework.StartLoad(t, c2, "web.example", "/", 4, time.Minute)
	addRoute(t, ns, "after", "after.example")
	framework.ExpectRoute(t, c2, "after.example", "/", http.StatusOK, "after")
	servedOnEveryConnection(t, c2, "after.example", "after", 100)
	res = load.Stop()
	t.Logf("load after the restart: %s", res)
	if res.Failed > 0 || res.Requests == 0 {
		t.Errorf("%d of %d requests failed after the restart, want none: %v", res.Failed, res.Requests, res.Errors)
	}
	if got := c2.HAProxyMasters(t); !slices.Equal(got, []int{c2.MasterPID(t)}) {
		t.Errorf("haproxy masters at the end: %v, want one", got)
	}
}
