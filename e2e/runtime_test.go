package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// The tests in this file prove that only topology changes reload haproxy: endpoint changes go
// through the runtime API into pre-declared server slots, route changes through runtime map
// updates, and the reloads that do happen lose no request.

// noReload records the haproxy master and its workers before a phase that must not reload, and
// checks afterwards that the same processes still serve and the reload counter has not moved.
type noReload struct {
	c       *framework.Controller
	pid     int
	reloads int
	workers []int
}

func expectNoReload(t *testing.T, c *framework.Controller) noReload {
	t.Helper()
	st := c.ProcState(t)
	if pid := c.MasterPID(t); pid != st.MasterPID {
		t.Fatalf("the pid file names master %d, show proc %d", pid, st.MasterPID)
	}
	return noReload{c: c, pid: st.MasterPID, reloads: st.Reloads, workers: st.Workers}
}

func (n noReload) check(t *testing.T, what string) {
	t.Helper()
	st := n.c.ProcState(t)
	if pid := n.c.MasterPID(t); pid != n.pid || st.MasterPID != n.pid {
		t.Errorf("%s: the haproxy master changed from %d to %d (pid file %d)", what, n.pid, st.MasterPID, pid)
	}
	if st.Reloads != n.reloads {
		t.Errorf("%s: haproxy reloaded %d times, want 0", what, st.Reloads-n.reloads)
	}
	if !slices.Equal(st.Workers, n.workers) {
		t.Errorf("%s: haproxy's workers changed from %v to %v", what, n.workers, st.Workers)
	}
}

// names returns the names of echoes.
func names(echoes []*framework.Echo) []string {
	out := make([]string, len(echoes))
	for i, e := range echoes {
		out[i] = e.Name
	}
	return out
}

// percentile returns the p-th percentile (0-100, nearest rank) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// nextEndpoints picks the next endpoint set, as indexes into a pool of n echoes, from cur: scale
// up, scale down, replace some addresses, or jump to an unrelated set; between 1 and most
// endpoints, and never the same set again.
func nextEndpoints(rng *rand.Rand, cur []int, n, most int) (next []int, op string) {
	in := map[int]bool{}
	for _, i := range cur {
		in[i] = true
	}
	var out []int
	for i := range n {
		if !in[i] {
			out = append(out, i)
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	next = slices.Clone(cur)
	rng.Shuffle(len(next), func(i, j int) { next[i], next[j] = next[j], next[i] })
	switch r := rng.IntN(10); {
	case r < 3 && len(cur) < most:
		op = "scale up"
		next = append(next, out[:1+rng.IntN(min(2, most-len(cur)))]...)
	case r < 6 && len(cur) > 1:
		op = "scale down"
		next = next[:len(cur)-1-rng.IntN(min(2, len(cur)-1))]
	case r < 9:
		op = "replace"
		k := 1 + rng.IntN(min(2, len(cur)))
		next = append(next[:len(cur)-k], out[:k]...)
	default:
		op = "jump"
		for {
			perm := rng.Perm(n)
			next = perm[:1+rng.IntN(most)]
			if !sameSet(next, cur) {
				break
			}
		}
	}
	return next, op
}

func sameSet(a, b []int) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// TestEndpointChangesNeedNoReload makes 100 endpoint changes to a Service (scaling between 1 and 6
// endpoints and replacing addresses with other echoes), checks after each that traffic reaches
// exactly the new set of endpoints, and that haproxy neither reloaded nor restarted meanwhile.
func TestEndpointChangesNeedNoReload(t *testing.T) {
	t.Parallel()
	const (
		changes = 100
		poolLen = 10
		most    = 6 // one endpoint gets 8 slots: 6 fit without a reload
	)
	ns, c := startRouting(t)
	pool := make([]*framework.Echo, poolLen)
	for i := range pool {
		pool[i] = framework.StartEcho(t, "e"+strconv.Itoa(i))
	}
	framework.EchoService(t, ns, "web", pool[0])
	framework.CreateIngress(t, framework.Ingress(ns, "web", ns,
		framework.Rule("churn.example", framework.Prefix("/", "web"))))
	framework.ExpectRoute(t, c, "churn.example", "/", http.StatusOK, "e0")
	before := expectNoReload(t, c)

	rng := rand.New(rand.NewPCG(3, 0))
	cur := []int{0}
	var took []time.Duration
	var requests, stray, failed int
	ops := map[string]int{}
	start := time.Now()
	for i := range changes {
		next, op := nextEndpoints(rng, cur, poolLen, most)
		ops[op]++
		echoes := make([]*framework.Echo, len(next))
		for j, k := range next {
			echoes[j] = pool[k]
		}
		changed := time.Now()
		framework.SetEndpoints(t, ns, "web", echoes...)
		s := framework.AwaitEchoes(t, c, "churn.example", "/", names(echoes)...)
		took = append(took, max(s.Converged.Sub(changed), 0))
		requests, stray, failed = requests+s.Requests, stray+s.Stray, failed+s.Failed
		if s.Failed > 0 {
			t.Errorf("change %d (%s to %v): %d requests failed while traffic moved", i+1, op, names(echoes), s.Failed)
		}
		cur = next
	}
	elapsed := time.Since(start)
	before.check(t, fmt.Sprintf("after %d endpoint changes", changes))

	sorted := slices.Sorted(slices.Values(took))
	t.Logf("%d endpoint changes %v in %s, %d requests (%d from removed endpoints while converging, %d failed)",
		changes, ops, elapsed.Round(time.Millisecond), requests, stray, failed)
	t.Logf("time from EndpointSlice update to traffic on exactly the new set: p50 %s, p90 %s, p99 %s, max %s",
		percentile(sorted, 50).Round(100*time.Microsecond), percentile(sorted, 90).Round(100*time.Microsecond),
		percentile(sorted, 99).Round(100*time.Microsecond), sorted[len(sorted)-1].Round(100*time.Microsecond))
	m := c.Metrics(t)
	const applied = "portcullis_apply_duration_seconds"
	if n := m.Value(applied+"_count", "kind", "runtime"); n > 0 {
		t.Logf("the controller applied %.0f runtime updates (%.0f commands and map replacements), %s each on average from snapshot to applied",
			n, m.Value("portcullis_runtime_updates_total"),
			time.Duration(m.Value(applied+"_sum", "kind", "runtime")/n*float64(time.Second)).Round(10*time.Microsecond))
	}
}

// TestSlotExhaustionReloadsOnce scales a Service from 1 endpoint (8 slots) to 9 in one
// EndpointSlice update, which needs exactly one reload, then back to 1, which needs none.
func TestSlotExhaustionReloadsOnce(t *testing.T) {
	t.Parallel()
	ns, c := startRoutingWithoutSpares(t) // a spare has 16 slots, a fresh section for one endpoint 8
	echoes := make([]*framework.Echo, 9)
	for i := range echoes {
		echoes[i] = framework.StartEcho(t, "e"+strconv.Itoa(i))
	}
	framework.EchoService(t, ns, "web", echoes[0])
	framework.CreateIngress(t, framework.Ingress(ns, "web", ns,
		framework.Rule("slots.example", framework.Prefix("/", "web"))))
	framework.ExpectRoute(t, c, "slots.example", "/", http.StatusOK, "e0")
	st := c.ProcState(t)

	framework.SetEndpoints(t, ns, "web", echoes...)
	framework.AwaitEchoes(t, c, "slots.example", "/", names(echoes)...)
	// Longer than the reload hold-off (1 s at most): a second reload would show by then.
	framework.Consistently(t, 1500*time.Millisecond, func() error {
		after, err := c.ReadProcState()
		if err != nil {
			return err
		}
		if after.Reloads != st.Reloads+1 || after.Failed != 0 {
			return fmt.Errorf("scaling from 1 to 9 endpoints: haproxy reloaded %d times (%d failed), want exactly 1",
				after.Reloads-st.Reloads, after.Failed)
		}
		return nil
	})
	if pid := c.MasterPID(t); pid != st.MasterPID {
		t.Errorf("the haproxy master changed from %d to %d: it restarted instead of reloading", st.MasterPID, pid)
	}
	framework.Eventually(t, framework.RouteTimeout, func() error {
		m, err := framework.ReadMetrics(c)
		if err != nil {
			return err
		}
		if got := m.Value("portcullis_reloads_total", "reason", "slots_exhausted"); got != 1 {
			return fmt.Errorf(`portcullis_reloads_total{reason="slots_exhausted"} = %v, want 1`, got)
		}
		return nil
	})

	// The reload sized the backend for 9 endpoints (16 slots): shrinking needs no reload.
	before := expectNoReload(t, c)
	framework.SetEndpoints(t, ns, "web", echoes[4])
	framework.AwaitEchoes(t, c, "slots.example", "/", "e4")
	before.check(t, "scaling from 9 endpoints to 1")
}

// TestNewHostOnExistingBackendNeedsNoReload adds, changes and removes routes to a Service that
// already has a backend: map updates at runtime, no reload.
func TestNewHostOnExistingBackendNeedsNoReload(t *testing.T) {
	t.Parallel()
	ns, c := startRouting(t)
	web := framework.StartEcho(t, "web")
	framework.EchoService(t, ns, "web", web)
	// Only /app on a.example, so that /x shows whether the second Ingress's path routes.
	first := framework.CreateIngress(t, framework.Ingress(ns, "first", ns,
		framework.Rule("a.example", framework.Prefix("/app", "web"))))
	framework.ExpectRoute(t, c, "a.example", "/app", http.StatusOK, "web")
	framework.ExpectRoute(t, c, "a.example", "/x", http.StatusNotFound, "")
	framework.ExpectRoute(t, c, "b.example", "/", http.StatusNotFound, "")
	before := expectNoReload(t, c)

	// A second Ingress: a new host, and a new path on an existing host.
	framework.CreateIngress(t, framework.Ingress(ns, "second", ns,
		framework.Rule("b.example", framework.Prefix("/", "web")),
		framework.Rule("a.example", framework.Prefix("/x", "web"))))
	framework.ExpectRoute(t, c, "b.example", "/", http.StatusOK, "web")
	framework.ExpectRoute(t, c, "b.example", "/anything", http.StatusOK, "web")
	framework.ExpectRoute(t, c, "a.example", "/x", http.StatusOK, "web")
	framework.ExpectRoute(t, c, "a.example", "/x/y", http.StatusOK, "web")
	framework.ExpectRoute(t, c, "a.example", "/app", http.StatusOK, "web")
	before.check(t, "adding an Ingress with a new host and path to an existing backend")

	// An update of the first Ingress: one more host, the same backend.
	first.Spec.Rules = append(first.Spec.Rules, framework.Rule("c.example", framework.Exact("/exact", "web")))
	framework.UpdateIngress(t, first)
	framework.ExpectRoute(t, c, "c.example", "/exact", http.StatusOK, "web")
	framework.ExpectRoute(t, c, "c.example", "/exact/more", http.StatusNotFound, "")
	before.check(t, "adding a host to an Ingress")

	// Removing routes: 404 again, still no reload; the remaining routes keep working.
	framework.DeleteIngress(t, ns, "second")
	framework.ExpectRoute(t, c, "b.example", "/", http.StatusNotFound, "")
	framework.ExpectRoute(t, c, "a.example", "/x", http.StatusNotFound, "")
	framework.ExpectRoute(t, c, "a.example", "/app", http.StatusOK, "web")
	framework.ExpectRoute(t, c, "c.example", "/exact", http.StatusOK, "web")
	before.check(t, "deleting an Ingress whose backend another Ingress still uses")
}

// TestReloadsUnderKeepAliveLoseNothing causes 20 reloads while four keep-alive clients send
// requests as fast as they can; not one request may fail.
func TestReloadsUnderKeepAliveLoseNothing(t *testing.T) {
	t.Parallel()
	const (
		reloads   = 20
		workers   = 4
		loadLimit = 30 * time.Second // a bound: the reloads take 6-12 s under load on 2 vCPUs
	)
	ns, c := startRoutingWithoutSpares(t)
	e1, e2 := framework.StartEcho(t, "e1"), framework.StartEcho(t, "e2")
	framework.EchoService(t, ns, "web", e1, e2)
	framework.CreateIngress(t, framework.Ingress(ns, "web", ns,
		framework.Rule("load.example", framework.Prefix("/", "web"))))
	framework.AwaitEchoes(t, c, "load.example", "/", "e1", "e2")
	// Services for the churning Ingresses, made before the load: a Service no Ingress uses
	// creates no backend, so no reload.
	churn := framework.StartEcho(t, "churn")
	for i := range reloads / 2 {
		framework.EchoService(t, ns, "churn-"+strconv.Itoa(i), churn)
	}
	st := c.ProcState(t)

	load := framework.StartLoad(t, c, "load.example", "/", workers, loadLimit)
	started := time.Now()
	want := st.Reloads
	for i := range reloads / 2 {
		svc := "churn-" + strconv.Itoa(i)
		host := svc + ".example"
		framework.CreateIngress(t, framework.Ingress(ns, svc, ns, framework.Rule(host, framework.Prefix("/", svc))))
		want++
		c.WaitReloads(t, want, framework.RouteTimeout)
		framework.ExpectRoute(t, c, host, "/", http.StatusOK, "churn")
		framework.DeleteIngress(t, ns, svc)
		want++
		c.WaitReloads(t, want, framework.RouteTimeout)
		framework.ExpectRoute(t, c, host, "/", http.StatusNotFound, "")
	}
	reloading := time.Since(started)
	// Let the last old worker finish with its connections under load.
	time.Sleep(500 * time.Millisecond)
	res := load.Stop()

	after := c.ProcState(t)
	t.Logf("%d reloads in %s (%s per reload) under %d keep-alive clients: %s",
		after.Reloads-st.Reloads, reloading.Round(time.Millisecond),
		(reloading / time.Duration(max(after.Reloads-st.Reloads, 1))).Round(time.Millisecond), workers, res)
	if after.Reloads-st.Reloads != reloads || after.Failed != 0 {
		t.Errorf("haproxy reloaded %d times (failed: %d), want %d", after.Reloads-st.Reloads, after.Failed, reloads)
	}
	if after.MasterPID != st.MasterPID {
		t.Errorf("the haproxy master changed from %d to %d: it restarted", st.MasterPID, after.MasterPID)
	}
	if res.Failed != 0 {
		t.Errorf("%d of %d requests failed during the reloads; first failures:\n%v", res.Failed, res.Requests, res.Errors)
	}
	if res.Expired {
		t.Errorf("the load hit its %s limit before the reloads were done: some reloads happened without load", loadLimit)
	}
	if res.Requests < 1000 || res.ByEcho["e1"] == 0 || res.ByEcho["e2"] == 0 {
		t.Errorf("the load did not run as intended: %s", res)
	}
}

// TestTerminatingEndpointIsDrained turns an endpoint serving+terminating: it gets no new requests,
// without a reload; ready again, it takes requests again.
func TestTerminatingEndpointIsDrained(t *testing.T) {
	t.Parallel()
	ns, c := startRouting(t)
	e1, e2 := framework.StartEcho(t, "e1"), framework.StartEcho(t, "e2")
	framework.EchoService(t, ns, "web", e1, e2)
	framework.CreateIngress(t, framework.Ingress(ns, "web", ns,
		framework.Rule("drain.example", framework.Prefix("/", "web"))))
	framework.AwaitEchoes(t, c, "drain.example", "/", "e1", "e2")
	before := expectNoReload(t, c)

	framework.SetEndpointStates(t, ns, "web", e1.Endpoint(framework.StateReady), e2.Endpoint(framework.StateTerminating))
	framework.AwaitEchoes(t, c, "drain.example", "/", "e1")
	before.check(t, "an endpoint turning terminating")

	framework.SetEndpointStates(t, ns, "web", e1.Endpoint(framework.StateReady), e2.Endpoint(framework.StateReady))
	framework.AwaitEchoes(t, c, "drain.example", "/", "e1", "e2")
	before.check(t, "a terminating endpoint turning ready again")

	// Not ready and not serving: removed like a deleted endpoint, still without a reload.
	framework.SetEndpointStates(t, ns, "web", e1.Endpoint(framework.StateNotReady), e2.Endpoint(framework.StateReady))
	framework.AwaitEchoes(t, c, "drain.example", "/", "e2")
	before.check(t, "an endpoint turning not ready")
}

// TestMetricsAndReadiness checks /healthz, /readyz and the reload and runtime-update counters.
func TestMetricsAndReadiness(t *testing.T) {
	t.Parallel()
	ns, c := startRoutingWithoutSpares(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		framework.Eventually(t, framework.RouteTimeout, func() error {
			resp, err := framework.TryGetURL(c.ControllerURL+path, "")
			if err != nil {
				return err
			}
			if resp.Status != http.StatusOK {
				return fmt.Errorf("GET %s: status %d: %s", path, resp.Status, resp.Body)
			}
			return nil
		})
	}
	const reloadsTotal, runtimeTotal = "portcullis_reloads_total", "portcullis_runtime_updates_total"
	m := c.Metrics(t)
	var err error
	if got := m.Value(reloadsTotal, "reason", "start"); got != 1 {
		t.Errorf(`%s{reason="start"} = %v once ready, want 1`, reloadsTotal, got)
	}
	if got := m.Sum(reloadsTotal); got != 1 {
		t.Errorf("%s summed over reasons = %v once ready, want 1 (the start)", reloadsTotal, got)
	}

	e1, e2 := framework.StartEcho(t, "e1"), framework.StartEcho(t, "e2")
	framework.EchoService(t, ns, "web", e1)
	framework.CreateIngress(t, framework.Ingress(ns, "web", ns,
		framework.Rule("metrics.example", framework.Prefix("/", "web"))))
	framework.ExpectRoute(t, c, "metrics.example", "/", http.StatusOK, "e1")
	// The controller counts a reload once haproxy confirms it, which can be after traffic flows.
	const added = 1
	framework.Eventually(t, framework.RouteTimeout, func() error {
		if m, err = framework.ReadMetrics(c); err != nil {
			return err
		}
		if got := m.Value(reloadsTotal, "reason", "backend_added"); got != added {
			return fmt.Errorf(`%s{reason="backend_added"} = %v after the first Ingress, want %d`, reloadsTotal, got, added)
		}
		return nil
	})
	updates := m.Value(runtimeTotal)

	before := expectNoReload(t, c)
	framework.SetEndpoints(t, ns, "web", e1, e2)
	framework.AwaitEchoes(t, c, "metrics.example", "/", "e1", "e2")
	framework.Eventually(t, framework.RouteTimeout, func() error {
		m, err := framework.ReadMetrics(c)
		if err != nil {
			return err
		}
		if got := m.Value(runtimeTotal); got <= updates {
			return fmt.Errorf("%s = %v after an endpoint change, want more than %v", runtimeTotal, got, updates)
		}
		return nil
	})
	before.check(t, "an endpoint change")

	other := framework.StartEcho(t, "other")
	framework.EchoService(t, ns, "other", other)
	framework.CreateIngress(t, framework.Ingress(ns, "other", ns,
		framework.Rule("other.example", framework.Prefix("/", "other"))))
	framework.ExpectRoute(t, c, "other.example", "/", http.StatusOK, "other")
	framework.Eventually(t, framework.RouteTimeout, func() error {
		m, err := framework.ReadMetrics(c)
		if err != nil {
			return err
		}
		if got := m.Value(reloadsTotal, "reason", "backend_added"); got != added+1 {
			return fmt.Errorf(`%s{reason="backend_added"} = %v after a new Service's Ingress, want %v`, reloadsTotal, got, added+1)
		}
		return nil
	})

	m = c.Metrics(t)
	for _, series := range []string{"portcullis_reload_failures_total", "portcullis_runtime_update_failures_total"} {
		if got := m.Value(series); got != 0 {
			t.Errorf("%s = %v, want 0", series, got)
		}
	}
	// Every reload of this test had one reason, so haproxy's counter matches the metric.
	if got, want := c.ProcState(t).Reloads, int(m.Sum(reloadsTotal)-m.Value(reloadsTotal, "reason", "start")); got != want {
		t.Errorf("haproxy reloaded %d times, the reload metrics (start excluded) say %d", got, want)
	}
}

// TestNotReadyBeforeFirstApply runs the controller with a haproxy that cannot start: it is alive
// (/healthz) but never ready (/readyz 503), since no configuration was ever applied, and it says why
// in its metrics.
func TestNotReadyBeforeFirstApply(t *testing.T) {
	t.Parallel()
	ns := framework.NewNamespace(t)
	c := framework.StartController(t, framework.ControllerOptions{
		Namespace: ns, NoWait: true,
		ExtraArgs: []string{"--ingress.class=" + ns, "--program=/bin/false"},
	})
	framework.Eventually(t, framework.RouteTimeout, func() error {
		r, err := framework.TryGetURL(c.ControllerURL+"/healthz", "")
		if err != nil {
			return err
		}
		if r.Status != http.StatusOK {
			return fmt.Errorf("/healthz answered %d", r.Status)
		}
		return nil
	})
	for range 5 {
		r, err := framework.TryGetURL(c.ControllerURL+"/readyz", "")
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != http.StatusServiceUnavailable {
			t.Fatalf("/readyz answered %d before any configuration was applied, want 503", r.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
