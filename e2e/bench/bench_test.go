// Package bench measures Portcullis against the real stack (kube-apiserver and etcd, the
// controller binary, haproxy, echo backends, all in the framework's private network namespace)
// and compares the figures with those measured for haproxytech/kubernetes-ingress.
//
// Run it with `make bench`, that is
//
//	go test -count=1 -run '^$' -bench '^BenchmarkPortcullis$' -benchtime 1x ./e2e/bench/
//
// The scale runs (1,000 and 5,000 Ingresses) are part of it; `make bench-scale` runs them alone
// (-bench '^BenchmarkScale$', results in bench-scale-results.json). BENCH_DATAPLANE_ABLATE=1 adds
// to the data-plane measurement the generated configuration with parts removed by hand.
//
// Every sub-benchmark performs a fixed number of operations, so one iteration is the whole
// measurement. The figures go to $BENCH_OUT (default <repo>/.cache/bench-results.json) and a
// table is printed. Without -bench, as in `go test ./...`, no cluster is started and only the
// small tests of the report code run. Benchmarks measure and print; they do not fail on a missed
// target (see the "met" column), only when the stack does not work. BENCH_LOGS=<dir> runs the
// controllers with --log=debug and copies their logs there.
package bench

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run()) // no benchmark asked for: no cluster
	}
	// The sub-benchmarks ignore b.N: never run them twice.
	_ = flag.Set("test.benchtime", "1x")
	framework.Main(m)
}

// Polling intervals and limits.
const (
	pollEvery     = time.Millisecond // between requests while waiting for a change
	streak        = 10               // answers in a row from the new set that count as converged
	changeTimeout = 10 * time.Second
)

// BenchmarkPortcullis runs every measurement of `make bench`, then writes bench-results.json
// ($BENCH_OUT) and the table. BenchmarkScale, the scale runs alone, is `make bench-scale`.
func BenchmarkPortcullis(b *testing.B) {
	results.Started = time.Now().UTC()
	results.Environment = environment(framework.HAProxyBin())
	results.Environment.LoadAverageStart = loadAverage()
	b.Run("endpoint-change", benchEndpointChange)
	b.Run("endpoint-change-backends", benchEndpointBackends)
	b.Run("new-ingress", benchNewIngress)
	b.Run("gateway", benchGateway)
	b.Run("churn", benchChurn)
	b.Run("scale-400", benchScale)
	b.Run("scale", benchScaleRuns)
	b.Run("data-plane", benchDataPlane)
	finish(b, results, "BENCH_OUT", "bench-results.json")
}

// finish evaluates r against the targets, writes it to $<envOut> or <repo>/.cache/<name>, and
// prints the table.
func finish(b *testing.B, r *Results, envOut, name string) {
	r.Finished = time.Now().UTC()
	r.Environment.LoadAverageEnd = loadAverage()
	r.evaluate()

	path, err := outputPath(envOut, name)
	if err == nil {
		err = r.write(path)
	}
	if err != nil {
		b.Errorf("writing the results: %v", err)
	}
	fmt.Println()
	if err := r.table(os.Stdout); err != nil {
		b.Errorf("printing the results: %v", err)
	}
	fmt.Printf("results written to %s\n", path)
	b.ReportMetric(0, "ns/op")
}

// startStack creates a namespace, an IngressClass of ours named after it and a controller
// serving that class in that namespace.
func startStack(b *testing.B) (ns string, c *framework.Controller) {
	b.Helper()
	ns = framework.NewNamespace(b)
	return ns, startController(b, ns)
}

// startController starts a controller serving the IngressClass of ours named after ns, in ns,
// with extra flags.
func startController(b *testing.B, ns string, extraArgs ...string) *framework.Controller {
	b.Helper()
	framework.CreateIngressClass(b, ns, framework.ControllerName)
	logLevel, keepLogs := "info", os.Getenv("BENCH_LOGS")
	if keepLogs != "" {
		logLevel = "debug"
	}
	c := framework.StartController(b, framework.ControllerOptions{
		Namespace: ns,
		ExtraArgs: append([]string{"--ingress.class=" + ns, "--log=" + logLevel}, extraArgs...),
	})
	if keepLogs != "" {
		// Registered after the controller's own cleanup, so it runs first, while the log exists.
		b.Cleanup(func() {
			dst := filepath.Join(keepLogs, strings.ReplaceAll(b.Name(), "/", "_")+".log")
			if data, err := os.ReadFile(c.LogPath); err == nil {
				_ = os.MkdirAll(keepLogs, 0o755)
				_ = os.WriteFile(dst, data, 0o644)
			}
		})
	}
	return c
}

// startEchoes starts n echoes named prefix-0 ... prefix-<n-1>.
func startEchoes(b *testing.B, prefix string, n int) []*framework.Echo {
	b.Helper()
	out := make([]*framework.Echo, n)
	for i := range out {
		out[i] = framework.StartEcho(b, fmt.Sprintf("%s-%d", prefix, i))
	}
	return out
}

// webApp creates Service name with an EndpointSlice holding echoes and an Ingress routing host to
// it, and waits until host is served by the first echo.
func webApp(b *testing.B, c *framework.Controller, ns, name, host string, echoes ...*framework.Echo) *discoveryv1.EndpointSlice {
	b.Helper()
	framework.EchoService(b, ns, name, echoes...)
	framework.CreateIngress(b, framework.Ingress(ns, name, ns, framework.Rule(host, framework.Prefix("/", name))))
	framework.ExpectRoute(b, c, host, "/", http.StatusOK, echoes[0].Name)
	slice, err := framework.Kube().DiscoveryV1().EndpointSlices(ns).Get(b.Context(), name, metav1.GetOptions{})
	if err != nil {
		b.Fatalf("getting endpointslice %s/%s: %v", ns, name, err)
	}
	return slice
}

func readyEndpoints(echoes ...*framework.Echo) []discoveryv1.Endpoint {
	out := make([]discoveryv1.Endpoint, len(echoes))
	for i, e := range echoes {
		out[i] = e.Endpoint(framework.StateReady)
	}
	return out
}

func names(echoes ...*framework.Echo) map[string]bool {
	out := map[string]bool{}
	for _, e := range echoes {
		out[e.Name] = true
	}
	return out
}

// changeEndpoints updates slice to hold echoes, then waits as done says, and returns the time from
// just before the update call until convergence, and the duration of the call alone.
func changeEndpoints(ctx context.Context, slice **discoveryv1.EndpointSlice, echoes []*framework.Echo,
	done func(t0 time.Time) (time.Time, convergence, error)) (converged, api time.Duration, cv convergence, err error) {
	s := (*slice).DeepCopy()
	s.Endpoints = readyEndpoints(echoes...)
	t0 := time.Now()
	got, err := framework.Kube().DiscoveryV1().EndpointSlices(s.Namespace).Update(ctx, s, metav1.UpdateOptions{})
	api = time.Since(t0)
	if err != nil {
		return 0, api, cv, fmt.Errorf("updating endpointslice %s/%s: %w", s.Namespace, s.Name, err)
	}
	*slice = got
	at, cv, err := done(t0)
	return at.Sub(t0), api, cv, err
}

// benchEndpointChange measures (a): EndpointSlice changes, which must apply through the runtime
// API, fast and without a reload. Then the same while a reload is pending.
func benchEndpointChange(b *testing.B) {
	const swaps, scales, swapsWhileReloadDue = 50, 20, 10
	ns, c := startStack(b)
	swapPool := startEchoes(b, "swap", 3)
	scalePool := startEchoes(b, "scale", 5)
	swapSlice := webApp(b, c, ns, "swap", "swap.example", swapPool[0])
	scaleSlice := webApp(b, c, ns, "scale", "scale.example", scalePool[0])
	client := newKeepAliveClient(c)
	defer client.close()
	reloads0 := reloadCount(b, c)

	only := func(host string, want map[string]bool) func(time.Time) (time.Time, convergence, error) {
		return func(time.Time) (time.Time, convergence, error) {
			cv, err := pollOnly(client, host, want, streak, pollEvery, changeTimeout)
			return cv.at, cv, err
		}
	}
	measure := func(res *EndpointResult, converged, api *[]time.Duration, d, a time.Duration, cv convergence, err error) {
		res.Changes++
		*api = append(*api, a)
		res.Stale += cv.stale
		res.ClientErrors += cv.errors
		if err != nil {
			res.Timeouts++
			b.Errorf("change %d: %v", res.Changes, err)
			return
		}
		*converged = append(*converged, d)
	}

	// Swap: the slice moves from one echo to another.
	swap := &EndpointResult{Streak: streak}
	var conv, api []time.Duration
	cur := 0
	for range swaps {
		next := (cur + 1) % len(swapPool)
		d, a, cv, err := changeEndpoints(b.Context(), &swapSlice, swapPool[next:next+1], only("swap.example", names(swapPool[next])))
		measure(swap, &conv, &api, d, a, cv, err)
		cur = next
		time.Sleep(20 * time.Millisecond)
	}
	swap.Converged, swap.APIUpdate = summarize(conv, true), summarize(api, false)

	// Scale 1 -> 5 -> 1: up is done when all five have answered, down when only one does.
	scale := &EndpointResult{Streak: streak}
	conv, api = nil, nil
	for i := range scales {
		if i%2 == 0 {
			d, a, cv, err := changeEndpoints(b.Context(), &scaleSlice, scalePool, func(time.Time) (time.Time, convergence, error) {
				at, err := pollAll(client, "scale.example", names(scalePool...), pollEvery, changeTimeout)
				return at, convergence{}, err
			})
			measure(scale, &conv, &api, d, a, cv, err)
		} else {
			d, a, cv, err := changeEndpoints(b.Context(), &scaleSlice, scalePool[:1], only("scale.example", names(scalePool[0])))
			measure(scale, &conv, &api, d, a, cv, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	scale.Converged, scale.APIUpdate = summarize(conv, true), summarize(api, false)

	time.Sleep(300 * time.Millisecond) // a reload, if one was wrongly planned, is due by now
	reloads1 := reloadCount(b, c)
	swap.Reloads = reloads1 - reloads0
	scale.Reloads = swap.Reloads
	results.EndpointSwap, results.EndpointScale = swap, scale

	// Swap right after a new Ingress whose backend needs a reload: the reload is held off for a
	// quiet moment; does the endpoint change wait for it?
	held := &EndpointResult{Streak: streak}
	conv, api = nil, nil
	holdPool := startEchoes(b, "hold", swapsWhileReloadDue)
	for i := range swapsWhileReloadDue {
		name := fmt.Sprintf("hold-%d", i)
		framework.EchoService(b, ns, name, holdPool[i])
		framework.CreateIngress(b, framework.Ingress(ns, name, ns, framework.Rule(name+".example", framework.Prefix("/", name))))
		next := (cur + 1) % len(swapPool)
		d, a, cv, err := changeEndpoints(b.Context(), &swapSlice, swapPool[next:next+1], only("swap.example", names(swapPool[next])))
		measure(held, &conv, &api, d, a, cv, err)
		cur = next
		framework.ExpectRoute(b, c, name+".example", "/", http.StatusOK, name)
		time.Sleep(200 * time.Millisecond)
	}
	held.Converged, held.APIUpdate = summarize(conv, true), summarize(api, false)
	held.Reloads = reloadCount(b, c) - reloads1
	results.SwapWhileReloadDue = held

	b.ReportMetric(swap.Converged.P50, "swap-p50-ms")
	b.ReportMetric(swap.Converged.P99, "swap-p99-ms")
	b.ReportMetric(float64(swap.Reloads), "reloads")
	b.ReportMetric(0, "ns/op")
}

// benchNewIngress measures (b): Ingresses with their own new Service, one after another, each
// until the first 200 from its echo.
func benchNewIngress(b *testing.B) {
	const count = 30
	ns, c := startStack(b)
	client := newKeepAliveClient(c)
	defer client.close()
	reloads0 := reloadCount(b, c)
	res := &NewIngressResult{Ingresses: count, PollErrors: pollErrors{}}
	var fromIng, fromSvc []time.Duration
	for i := range count {
		name := fmt.Sprintf("app-%02d", i)
		host := name + ".example"
		echo := framework.StartEcho(b, name)
		tSvc := time.Now()
		framework.EchoService(b, ns, name, echo)
		tIng := time.Now()
		framework.CreateIngress(b, framework.Ingress(ns, name, ns, framework.Rule(host, framework.Prefix("/", name))))
		at, err := pollFirst(client, host, name, 2*time.Millisecond, changeTimeout, res.PollErrors)
		if err != nil {
			res.Timeouts++
			b.Errorf("ingress %s: %v", name, err)
			continue
		}
		fromIng = append(fromIng, at.Sub(tIng))
		fromSvc = append(fromSvc, at.Sub(tSvc))
	}
	time.Sleep(300 * time.Millisecond)
	res.Reloads = reloadCount(b, c) - reloads0
	res.FromIngressCreate, res.FromServiceCreate = summarize(fromIng, true), summarize(fromSvc, true)
	if m, err := controllerMetrics(c); err == nil {
		res.ReloadReasons = reloadReasons(m)
	}
	newIngressOneAtATime(b, c, ns, client, res)
	results.NewIngress = res
	b.ReportMetric(res.FromIngressCreate.P50, "p50-ms")
	b.ReportMetric(res.FromIngressCreate.P99, "p99-ms")
	b.ReportMetric(float64(res.Reloads), "reloads")
	b.ReportMetric(res.OneAtATime.P50, "one-p50-ms")
	b.ReportMetric(res.OneAtATime.P99, "one-p99-ms")
	b.ReportMetric(float64(res.OneAtATimeReloads), "one-reloads")
	b.ReportMetric(0, "ns/op")
}

// newIngressOneAtATime measures the usual case of a new Service: Ingresses with their own
// Services created one at a time, a pause (oneAtATimeGap) after each first 200, as deploys come.
// With spare backend sections, none should wait for a reload; the reasons of the reloads that
// happen meanwhile (a refill of the spares, in the background) are recorded.
func newIngressOneAtATime(b *testing.B, c *framework.Controller, ns string, client *keepAliveClient, res *NewIngressResult) {
	const count = 20
	time.Sleep(time.Second) // the reloads of the burst before are over
	before, err := controllerMetrics(c)
	if err != nil {
		b.Fatalf("reading the controller's metrics: %v", err)
	}
	reloads0 := reloadCount(b, c)
	var lat []time.Duration
	for i := range count {
		name := fmt.Sprintf("one-%02d", i)
		host := name + ".example"
		echo := framework.StartEcho(b, name)
		framework.EchoService(b, ns, name, echo)
		t0 := time.Now()
		framework.CreateIngress(b, framework.Ingress(ns, name, ns, framework.Rule(host, framework.Prefix("/", name))))
		at, err := pollFirst(client, host, name, 2*time.Millisecond, changeTimeout, res.PollErrors)
		if err != nil {
			res.Timeouts++
			b.Errorf("ingress %s: %v", name, err)
			continue
		}
		lat = append(lat, at.Sub(t0))
		time.Sleep(oneAtATimeGap)
	}
	res.OneAtATime, res.OneAtATimeCount = summarize(lat, true), count
	res.OneAtATimeReloads = reloadCount(b, c) - reloads0
	if after, err := controllerMetrics(c); err == nil {
		res.OneAtATimeReasons = map[string]float64{}
		for k, v := range reloadReasons(after) {
			if d := v - reloadReasons(before)[k]; d > 0 {
				res.OneAtATimeReasons[k] = d
			}
		}
	}
}

// oneAtATimeGap is the pause between two new Ingresses of newIngressOneAtATime: longer than the
// reload holdoff (100 ms of quiet) and a reload.
const oneAtATimeGap = 500 * time.Millisecond

// benchChurn measures (c): a bounded keep-alive load on one host while its EndpointSlice changes
// constantly and Ingresses with their own Services come and go.
func benchChurn(b *testing.B) {
	const (
		duration        = 30 * time.Second
		clients         = 4
		ratePerClient   = 100.0
		endpointChanges = 500
		topologyChanges = 20 // alternately create and delete an Ingress with a new Service
	)
	ns, c := startStack(b)
	pool := startEchoes(b, "churn", 24)
	slice := webApp(b, c, ns, "churn", "churn.example", pool[0])
	topoEchoes := startEchoes(b, "topo", topologyChanges/2)
	// Endpoint sets in a cycle where every step changes something: {0}, {0,1}, {1}, {1,2}, ...
	// Half the steps remove an echo, which then stays out for 45 steps (about 2.5 s), long
	// enough to see how late requests still reach it.
	var sets [][]*framework.Echo
	for i := range pool {
		sets = append(sets, pool[i:i+1], []*framework.Echo{pool[i], pool[(i+1)%len(pool)]})
	}
	time.Sleep(300 * time.Millisecond)
	reloads0 := reloadCount(b, c)

	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	res := &ChurnResult{DurationS: duration.Seconds(), Clients: clients, TargetRPS: clients * ratePerClient,
		EndpointChanges: endpointChanges, TopologyChanges: topologyChanges}
	start := time.Now()
	var wg sync.WaitGroup
	var load loadResult
	wg.Go(func() { load = runLoad(ctx, c, "churn.example", clients, ratePerClient, duration) })

	// Endpoint changes, evenly spread over the run less a second at each end.
	var epErrs []error
	changes := []endpointChange{{set: names(sets[0]...)}}
	wg.Go(func() {
		sliceClient := framework.Kube().DiscoveryV1().EndpointSlices(ns)
		interval := (duration - 2*time.Second) / endpointChanges
		for i := range endpointChanges {
			sleepUntil(ctx, start.Add(time.Second+time.Duration(i)*interval))
			if ctx.Err() != nil {
				return
			}
			s := slice.DeepCopy()
			set := sets[(i+1)%len(sets)]
			s.Endpoints = readyEndpoints(set...)
			at := time.Now()
			got, err := sliceClient.Update(ctx, s, metav1.UpdateOptions{})
			if err != nil {
				epErrs = append(epErrs, err)
				continue
			}
			slice = got
			changes = append(changes, endpointChange{at: at, set: names(set...)})
		}
	})

	// Topology changes, evenly spread: create app k, then delete it.
	var topoErrs []error
	var topoAt []float64
	var routeMu sync.Mutex
	var routed []time.Duration // new Ingress -> first 200, under the churn
	var routers sync.WaitGroup
	wg.Go(func() {
		kube := framework.Kube()
		interval := duration / (topologyChanges + 1)
		for i := range topologyChanges {
			sleepUntil(ctx, start.Add(time.Duration(i+1)*interval))
			if ctx.Err() != nil {
				return
			}
			topoAt = append(topoAt, round2(time.Since(start).Seconds()))
			name := fmt.Sprintf("topo-%d", i/2)
			if i%2 == 1 {
				topoErrs = append(topoErrs, deleteApp(ctx, kube, ns, name)...)
				continue
			}
			t0 := time.Now()
			if errs := createApp(ctx, kube, ns, name, topoEchoes[i/2]); len(errs) > 0 {
				topoErrs = append(topoErrs, errs...)
				continue
			}
			routers.Go(func() {
				client := newKeepAliveClient(c)
				defer client.close()
				// Deleted one interval later: stop polling before that.
				if at, err := pollFirst(client, name+".example", name, 2*time.Millisecond, interval-100*time.Millisecond, nil); err == nil {
					routeMu.Lock()
					routed = append(routed, at.Sub(t0))
					routeMu.Unlock()
				}
			})
		}
	})
	wg.Wait()
	routers.Wait()

	time.Sleep(1500 * time.Millisecond) // a held reload is due at most 1 s after its cause
	res.Reloads = reloadCount(b, c) - reloads0
	res.Requests, res.Failed, res.FailuresByKind = load.requests, load.failed, load.byKind
	for _, d := range load.failedAt {
		res.FailedAtS = append(res.FailedAtS, round2(d.Seconds()))
	}
	res.AchievedRPS = round2(float64(load.requests) / load.elapsed.Seconds())
	res.Latency = summarize(load.latencies, false)
	res.RemovalLag = summarize(removalLags(changes, load.answers), false)
	res.NewIngress = summarize(routed, true)
	res.NewIngressNotRouted = topologyChanges/2 - len(routed)
	for _, topo := range topoAt {
		// The removals within 1.5 s after a topology change, when a reload may be held off.
		for k := 1; k < len(changes); k++ {
			if d := changes[k].at.Sub(start).Seconds() - topo; d >= 0 && d < 1.5 {
				res.RemovalsNearTopology++
			}
		}
	}
	res.EndpointChangeErrors, res.TopologyErrors, res.TopologyAtS = len(epErrs), len(topoErrs), topoAt
	for _, err := range append(epErrs, topoErrs...) {
		b.Errorf("churn: %v", err)
	}
	if m, err := controllerMetrics(c); err == nil {
		res.ReloadReasons = reloadReasons(m)
		res.RuntimeFailures = m["portcullis_runtime_update_failures_total"]
	}
	res.ControllerLogErrors, res.ControllerLogSample = logErrors(c)
	results.Churn = res

	// The last endpoint set must be what answers now.
	last := sets[endpointChanges%len(sets)]
	client := newKeepAliveClient(c)
	defer client.close()
	if _, err := pollOnly(client, "churn.example", names(last...), streak, pollEvery, changeTimeout); err != nil {
		b.Errorf("after the churn: %v", err)
	}
	b.ReportMetric(float64(res.Failed), "failed")
	b.ReportMetric(float64(res.Requests), "requests")
	b.ReportMetric(float64(res.Reloads), "reloads")
	b.ReportMetric(0, "ns/op")
}

func sleepUntil(ctx context.Context, t time.Time) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Until(t)):
	}
}

// createApp creates Service name, its EndpointSlice holding echo and an Ingress routing
// name.example to it, without failing the test: it runs outside the test goroutine.
func createApp(ctx context.Context, kube kubernetes.Interface, ns, name string, echo *framework.Echo) []error {
	var errs []error
	if _, err := kube.CoreV1().Services(ns).Create(ctx,
		framework.Service(ns, name, framework.ServicePort(framework.HTTPPortName, 80, framework.EchoPort)), metav1.CreateOptions{}); err != nil {
		errs = append(errs, fmt.Errorf("creating service %s: %w", name, err))
	}
	slice := framework.EndpointSlice(ns, name, name,
		[]discoveryv1.EndpointPort{framework.EndpointPort(framework.HTTPPortName, framework.EchoPort)}, readyEndpoints(echo)...)
	if _, err := kube.DiscoveryV1().EndpointSlices(ns).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		errs = append(errs, fmt.Errorf("creating endpointslice %s: %w", name, err))
	}
	ing := framework.Ingress(ns, name, ns, framework.Rule(name+".example", framework.Prefix("/", name)))
	if _, err := kube.NetworkingV1().Ingresses(ns).Create(ctx, ing, metav1.CreateOptions{}); err != nil {
		errs = append(errs, fmt.Errorf("creating ingress %s: %w", name, err))
	}
	return errs
}

// deleteApp deletes what createApp created, the Ingress first.
func deleteApp(ctx context.Context, kube kubernetes.Interface, ns, name string) []error {
	var errs []error
	if err := kube.NetworkingV1().Ingresses(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		errs = append(errs, fmt.Errorf("deleting ingress %s: %w", name, err))
	}
	if err := kube.DiscoveryV1().EndpointSlices(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		errs = append(errs, fmt.Errorf("deleting endpointslice %s: %w", name, err))
	}
	if err := kube.CoreV1().Services(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		errs = append(errs, fmt.Errorf("deleting service %s: %w", name, err))
	}
	return errs
}

// benchScale measures (d): many Ingresses, each with its own Service, created at once; then one
// more at a time; and the memory of the controller and haproxy.
func benchScale(b *testing.B) {
	const (
		count   = 400
		oneMore = 5
		workers = 16
	)
	ns, c := startStack(b)
	res := &ScaleResult{Ingresses: count, PollErrors: pollErrors{}}
	var err error
	if res.MemoryEmpty, err = measureMemory(c, 5*time.Second); err != nil {
		res.MemoryEmpty.Error = err.Error()
		b.Errorf("measuring memory: %v", err)
	}
	cfg := framework.RESTConfig()
	cfg.QPS, cfg.Burst = 2000, 4000
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatalf("creating a client: %v", err)
	}
	echoes := startEchoes(b, "s", count+oneMore)
	name := func(i int) string { return fmt.Sprintf("s-%d", i) }

	// Services and EndpointSlices first: the controller ignores them until an Ingress refers to them.
	parallel(count, workers, func(i int) error {
		if _, err := kube.CoreV1().Services(ns).Create(b.Context(),
			framework.Service(ns, name(i), framework.ServicePort(framework.HTTPPortName, 80, framework.EchoPort)), metav1.CreateOptions{}); err != nil {
			return err
		}
		_, err := kube.DiscoveryV1().EndpointSlices(ns).Create(b.Context(), framework.EndpointSlice(ns, name(i), name(i),
			[]discoveryv1.EndpointPort{framework.EndpointPort(framework.HTTPPortName, framework.EchoPort)}, readyEndpoints(echoes[i])...), metav1.CreateOptions{})
		return err
	}, b)
	time.Sleep(500 * time.Millisecond)
	reloads0 := reloadCount(b, c)

	// Check routability while the Ingresses are being created.
	routableAt := make([]time.Time, count)
	checkCtx, stopChecking := context.WithTimeout(b.Context(), 60*time.Second)
	defer stopChecking()
	var checkers sync.WaitGroup
	const checkerCount = 2
	for w := range checkerCount {
		checkers.Go(func() {
			client := newKeepAliveClient(c)
			defer client.close()
			for checkCtx.Err() == nil {
				pending := 0
				for i := w; i < count; i += checkerCount {
					if !routableAt[i].IsZero() {
						continue
					}
					pending++
					r, err := client.get(name(i)+".example", "/")
					if err == nil && r.status == http.StatusOK && r.echo == name(i) {
						routableAt[i] = time.Now()
					}
				}
				if pending == 0 {
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	first := time.Now()
	parallel(count, workers, func(i int) error {
		_, err := kube.NetworkingV1().Ingresses(ns).Create(b.Context(),
			framework.Ingress(ns, name(i), ns, framework.Rule(name(i)+".example", framework.Prefix("/", name(i)))), metav1.CreateOptions{})
		return err
	}, b)
	last := time.Now()
	checkers.Wait()
	var all time.Time
	for _, at := range routableAt {
		if at.IsZero() {
			continue
		}
		res.Routable++
		if at.After(all) {
			all = at
		}
	}
	if res.Routable < count {
		b.Errorf("only %d of %d Ingresses routable after 60 s", res.Routable, count)
	}
	res.CreateDurationS = round2(last.Sub(first).Seconds())
	res.AllRoutableAfterLastCreateS = round2(max(all.Sub(last), 0).Seconds())
	res.AllRoutableAfterFirstCreateS = round2(all.Sub(first).Seconds())
	time.Sleep(1500 * time.Millisecond)
	res.ReloadsDuringCreate = reloadCount(b, c) - reloads0

	// One more, with the others present.
	client := newKeepAliveClient(c)
	var more []time.Duration
	for i := count; i < count+oneMore; i++ {
		if errs := createApp(b.Context(), kube, ns, name(i), echoes[i]); len(errs) > 0 {
			b.Fatalf("creating one more: %v", errs)
		}
		// createApp creates the Ingress last; time from just after it returns is within a few
		// milliseconds of the create call.
		t0 := time.Now()
		at, err := pollFirst(client, name(i)+".example", name(i), 2*time.Millisecond, changeTimeout, res.PollErrors)
		if err != nil {
			b.Errorf("one more: %v", err)
			continue
		}
		more = append(more, at.Sub(t0))
		time.Sleep(300 * time.Millisecond)
	}
	client.close()
	res.OneMore = summarize(more, true)
	if m, err := controllerMetrics(c); err == nil {
		res.ReloadReasons = reloadReasons(m)
	}
	if res.Memory, err = measureMemory(c, 10*time.Second); err != nil {
		res.Memory.Error = err.Error()
		b.Errorf("measuring memory: %v", err)
	}
	res.ControllerLogErrors, _ = logErrors(c)
	results.Scale = res
	b.ReportMetric(res.AllRoutableAfterLastCreateS, "all-routable-s")
	b.ReportMetric(res.OneMore.P50, "one-more-p50-ms")
	b.ReportMetric(res.Memory.ControllerMiB, "controller-MiB")
	b.ReportMetric(res.Memory.HAProxyMiB, "haproxy-MiB")
	b.ReportMetric(0, "ns/op")
}

// parallel runs f(0) ... f(n-1) on workers goroutines and fails the benchmark on the first error.
func parallel(n, workers int, f func(i int) error, b *testing.B) {
	b.Helper()
	next := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	if err, ok := <-errs; ok {
		b.Fatalf("%d errors, the first: %v", len(errs)+1, err)
	}
}
