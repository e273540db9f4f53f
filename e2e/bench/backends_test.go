package bench

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// backendCounts are the configuration sizes benchEndpointBackends measures one endpoint change at.
var backendCounts = []int{1, 100, 1000}

// Limits of benchEndpointBackends.
const (
	backendSwaps   = 30               // swaps of one Service's endpoint per configuration size
	createWorkers  = 4                // concurrent creates: Service, EndpointSlice, Ingress per app
	routableWithin = 90 * time.Second // for the last Ingress created, after the last create
	settleQuiet    = 1500 * time.Millisecond
	settleWithin   = 20 * time.Second
)

// benchEndpointBackends measures the end-to-end cost of one endpoint change as the configuration
// grows: for each size n, a fresh stack with n Services, each with its own EndpointSlice and
// Ingress (host svc-<i>.example), then the swap of benchEndpointChange on one of them. All but the
// swapped Service point at two shared echoes, so n backends cost no n processes.
func benchEndpointBackends(b *testing.B) {
	for _, n := range backendCounts {
		b.Run(fmt.Sprintf("backends=%d", n), func(b *testing.B) {
			res := endpointSwapAt(b, n)
			results.EndpointBackends = append(results.EndpointBackends, res)
			b.ReportMetric(res.Converged.P50, "p50-ms")
			b.ReportMetric(res.Converged.P99, "p99-ms")
			b.ReportMetric(res.APIUpdate.P50, "api-p50-ms")
			b.ReportMetric(float64(res.Reloads), "reloads")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// endpointSwapAt sets up n apps in a fresh stack, waits until they are routable and haproxy has
// stopped reloading, then swaps the endpoint of the middle app backendSwaps times.
func endpointSwapAt(b *testing.B, n int) *EndpointBackendsResult {
	ns, c := startStack(b)
	shared := startEchoes(b, "shared", 2)
	pool := startEchoes(b, "swap", 3)
	swapped := n / 2 // neither first nor last in the configuration, when there is a choice
	name := func(i int) string { return fmt.Sprintf("svc-%d", i) }
	echoOf := func(i int) *framework.Echo {
		if i == swapped {
			return pool[0]
		}
		return shared[i%len(shared)]
	}
	kube := framework.Kube()
	res := &EndpointBackendsResult{Backends: n, EndpointResult: EndpointResult{Streak: streak}}
	reloads0 := reloadCount(b, c)

	first := time.Now()
	parallel(n, createWorkers, func(i int) error {
		return errors.Join(createApp(b.Context(), kube, ns, name(i), echoOf(i))...)
	}, b)
	last := time.Now()
	res.CreateDurationS = round2(last.Sub(first).Seconds())

	// Routable: the last app created, then a sample spread over the others.
	client := newKeepAliveClient(c)
	for k, i := range routabilitySample(n) {
		timeout := changeTimeout
		if k == 0 {
			timeout = routableWithin
		}
		if _, err := pollFirst(client, name(i)+".example", echoOf(i).Name, 5*time.Millisecond, timeout, nil); err != nil {
			b.Fatalf("%d apps: %v", n, err)
		}
	}
	res.RoutableAfterLastCreateS = round2(time.Since(last).Seconds())
	client.close()
	reloads1 := settle(b, c)
	res.SetupReloads = reloads1 - reloads0

	res.EndpointResult = swapEndpoints(b, c, ns, name(swapped), pool, backendSwaps)
	if m, err := controllerMetrics(c); err == nil {
		res.RuntimeFailures = m["portcullis_runtime_update_failures_total"]
	}
	res.ControllerLogErrors, _ = logErrors(c)
	return res
}

// routabilitySample returns the apps to check for routability out of n: the last first, then
// about ten spread over the others, the first and the middle (swapped) one among them.
func routabilitySample(n int) []int {
	out := []int{n - 1}
	seen := map[int]bool{n - 1: true}
	for _, i := range []int{0, n / 2} {
		if !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	for i := 0; i < n; i += max(n/10, 1) {
		if !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	return out
}

// settle waits until haproxy's reload counter has not moved for settleQuiet (a held reload is due
// at most a second after its cause) and returns it.
func settle(b *testing.B, c *framework.Controller) int {
	b.Helper()
	return settleFor(b, c, settleWithin)
}
