package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// The sizes of the scale measurement, in `make bench` (BenchmarkPortcullis) and in `make
// bench-scale` (BenchmarkScale, the scale runs alone; BENCH_SCALE_SIZES=1000,5000 overrides
// them). Both together took about 80 s on the shared two-core machine (1,000: 20 s, 5,000: 60 s);
// should they grow past a few minutes, take 5,000 out of benchScaleSizes and leave it to `make
// bench-scale`.
var (
	benchScaleSizes = []int{1000, 5000}
	scaleSizes      = []int{1000, 5000}
)

// Limits of the scale measurement.
const (
	scaleSharedEchoes = 4                // the EndpointSlices share these, so n Services cost no n listeners
	scaleCreateWork   = 8                // concurrent creates: Service, EndpointSlice, Ingress per app
	scaleOneMore      = 5                // one more Ingress (with its own new Service), one at a time
	scaleSwaps        = backendSwaps     // endpoint swaps at scale, as in benchEndpointBackends
	scaleSettleWithin = 60 * time.Second // for haproxy to stop reloading after the creates
	scaleSampleEvery  = 250 * time.Millisecond
)

// scaleRoutableWithin bounds the wait for the last of n Ingresses to be routable after the last
// create: generous, since it is a figure to print, not a target.
func scaleRoutableWithin(n int) time.Duration {
	return max(routableWithin, time.Duration(n)*60*time.Millisecond)
}

// The targets at scale (issue 14, item 3), checked at every size measured.
const (
	scaleOneMoreTargetMs     = 1000.0
	scaleSwapTargetP99Ms     = 20.0
	scaleControllerTargetMiB = 300.0
)

// ScaleRunResult is the scale measurement at one size: Ingresses apps, each a Service with its
// own EndpointSlice and an Ingress for host svc-<i>.example, created at once by CreateWorkers
// concurrent clients, then one more at a time, an endpoint swap on one of them, memory and file
// descriptors.
type ScaleRunResult struct {
	Ingresses     int `json:"ingresses"`
	SharedEchoes  int `json:"shared_echoes"`
	CreateWorkers int `json:"create_workers"`
	// From the first create to the last (3 objects per app).
	CreateDurationS float64 `json:"create_duration_s"`
	// From the last create until the last app created and a sample of the others answer 200.
	RoutableAfterLastCreateS float64 `json:"routable_after_last_create_s"`
	RoutableSample           int     `json:"routable_sample"`
	// haproxy's reload counter from the first create until it stayed still for settleQuiet.
	ReloadsDuringCreate int     `json:"reloads_during_create"`
	SettledAfterS       float64 `json:"settled_after_last_create_s"`
	// The controller's passes that ended in a reload during the creation ("configuration
	// applied" log lines): snapshot, translation, rendering, haproxy -c, reload, confirmation.
	ReloadPasses Latencies `json:"reload_passes"`
	// One more Ingress with its own new Service, at this scale: from the Ingress create call to the
	// first 200 from its echo; each waits for haproxy to settle after the previous one.
	OneMore        Latencies  `json:"one_more"`
	OneMoreReloads int        `json:"one_more_reloads"`
	OneMoreErrors  pollErrors `json:"one_more_poll_errors_by_kind"`
	// The swap of benchEndpointBackends on one app, at this scale.
	Swap EndpointResult `json:"endpoint_swap"`
	// Memory before the first create and after the last measurement (old workers gone).
	MemoryEmpty memory `json:"memory_empty"`
	Memory      memory `json:"memory"`
	// The controller's VmHWM (peak resident set) at the end.
	ControllerPeakMiB float64 `json:"controller_peak_mib"`
	// The largest sum of VmRSS over the haproxy master and all its workers, old ones included,
	// sampled every scaleSampleEvery from the first create until settled, and the largest
	// number of haproxy processes seen at once. Workers forked from one master share pages:
	// the sum counts those more than once, as `ps` would.
	HAProxyPeakMiB    float64            `json:"haproxy_peak_rss_sum_mib"`
	HAProxyPeakProcs  int                `json:"haproxy_peak_processes"`
	HAProxyWorkersPSS float64            `json:"haproxy_workers_pss_mib"` // proportional set size of the current workers, at the end
	FDs               fdUsage            `json:"file_descriptors"`
	ReloadReasons     map[string]float64 `json:"reload_reasons"`
	RuntimeFailures   float64            `json:"runtime_update_failures"`
	ControllerLogErrs int                `json:"controller_log_errors"`
	// The 1-minute load average at the start of this size and the largest seen during it.
	LoadAverageStart float64 `json:"load_average_start"`
	LoadAverageMax   float64 `json:"load_average_max"`
}

// fdUsage is what haproxy's processes hold in file descriptors, against their limits.
type fdUsage struct {
	Master  int `json:"master"`
	Workers int `json:"workers"` // the current workers, summed
	// The soft "Max open files" of a current worker (/proc/<pid>/limits).
	WorkerLimit int64 `json:"worker_limit"`
	// From "show info" on the stats socket: what haproxy sized itself for.
	Maxsock  int    `json:"maxsock"`
	Maxconn  int    `json:"maxconn"`
	UlimitN  int    `json:"ulimit_n"`
	Nbthread int    `json:"nbthread"`
	Error    string `json:"error,omitempty"`
}

// BenchmarkScale runs the scale measurement alone, at 1,000 and 5,000 Ingresses (`make
// bench-scale`), then writes bench-scale-results.json ($BENCH_SCALE_OUT) and prints its table.
func BenchmarkScale(b *testing.B) {
	r := &Results{Started: time.Now().UTC()}
	r.Environment = environment(framework.HAProxyBin())
	r.Environment.LoadAverageStart = loadAverage()
	sizes, err := sizesFromEnv("BENCH_SCALE_SIZES", scaleSizes)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("ingresses=%d", n), func(b *testing.B) {
			r.ScaleRuns = append(r.ScaleRuns, benchScaleAt(b, n))
		})
	}
	finish(b, r, "BENCH_SCALE_OUT", "bench-scale-results.json")
}

// benchScaleRuns runs the scale measurement at the sizes `make bench` includes.
func benchScaleRuns(b *testing.B) {
	for _, n := range benchScaleSizes {
		b.Run(fmt.Sprintf("ingresses=%d", n), func(b *testing.B) {
			results.ScaleRuns = append(results.ScaleRuns, benchScaleAt(b, n))
		})
	}
}

// sizesFromEnv parses a comma-separated list of positive sizes from the environment variable, or
// returns def.
func sizesFromEnv(name string, def []int) ([]int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	var out []int
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s=%q: want positive integers separated by commas", name, v)
		}
		out = append(out, n)
	}
	return out, nil
}

// benchScaleAt measures one size n in a fresh stack.
func benchScaleAt(b *testing.B, n int) *ScaleRunResult {
	ns, c := startStack(b)
	res := &ScaleRunResult{Ingresses: n, SharedEchoes: scaleSharedEchoes, CreateWorkers: scaleCreateWork,
		OneMoreErrors: pollErrors{}, LoadAverageStart: loadAverage()}
	var err error
	if res.MemoryEmpty, err = measureMemory(c, 5*time.Second); err != nil {
		res.MemoryEmpty.Error = err.Error()
		b.Errorf("measuring memory: %v", err)
	}
	shared := startEchoes(b, "shared", scaleSharedEchoes)
	pool := startEchoes(b, "swap", 3)
	swapped := n / 2
	name := func(i int) string { return fmt.Sprintf("svc-%d", i) }
	echoOf := func(i int) *framework.Echo {
		if i == swapped {
			return pool[0]
		}
		return shared[i%len(shared)]
	}
	// The framework's client, with a rate limit that is not the bottleneck: the API server is.
	cfg := framework.RESTConfig()
	cfg.QPS, cfg.Burst = 2000, 4000
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatalf("creating a client: %v", err)
	}
	logStart := fileSize(c.LogPath)
	reloads0 := reloadCount(b, c)
	sampler := startPeakSampler(c)
	defer sampler.stop()

	first := time.Now()
	parallel(n, scaleCreateWork, func(i int) error {
		return errors.Join(createApp(b.Context(), kube, ns, name(i), echoOf(i))...)
	}, b)
	last := time.Now()
	res.CreateDurationS = round2(last.Sub(first).Seconds())
	b.Logf("%d apps created in %s", n, last.Sub(first).Round(time.Millisecond))

	client := newKeepAliveClient(c)
	sample := routabilitySample(n)
	for k, i := range sample {
		timeout := changeTimeout
		if k == 0 {
			timeout = scaleRoutableWithin(n)
		}
		if _, err := pollFirst(client, name(i)+".example", echoOf(i).Name, 5*time.Millisecond, timeout, nil); err != nil {
			b.Fatalf("%d apps: %v", n, err)
		}
	}
	res.RoutableAfterLastCreateS = round2(time.Since(last).Seconds())
	res.RoutableSample = len(sample)
	client.close()
	reloads1 := settleFor(b, c, scaleSettleWithin)
	res.SettledAfterS = round2(time.Since(last).Seconds())
	res.ReloadsDuringCreate = reloads1 - reloads0
	res.ReloadPasses = summarize(reloadPassDurations(c.LogPath, logStart), false)
	b.Logf("%d apps routable %.2f s after the last create; %d reloads", n, res.RoutableAfterLastCreateS, res.ReloadsDuringCreate)

	res.Swap = swapEndpoints(b, c, ns, name(swapped), pool, scaleSwaps)

	// One more, with its own new Service, at this scale.
	var more []time.Duration
	for k := range scaleOneMore {
		more1 := fmt.Sprintf("more-%d", k)
		echo := framework.StartEcho(b, more1)
		if _, err := kube.CoreV1().Services(ns).Create(b.Context(),
			framework.Service(ns, more1, framework.ServicePort(framework.HTTPPortName, 80, framework.EchoPort)), metav1.CreateOptions{}); err != nil {
			b.Fatalf("creating service %s: %v", more1, err)
		}
		framework.CreateEndpointSlice(b, framework.EndpointSlice(ns, more1, more1,
			[]discoveryv1.EndpointPort{framework.EndpointPort(framework.HTTPPortName, framework.EchoPort)}, readyEndpoints(echo)...))
		client := newKeepAliveClient(c)
		before := reloadCount(b, c)
		t0 := time.Now()
		if _, err := kube.NetworkingV1().Ingresses(ns).Create(b.Context(),
			framework.Ingress(ns, more1, ns, framework.Rule(more1+".example", framework.Prefix("/", more1))), metav1.CreateOptions{}); err != nil {
			b.Fatalf("creating ingress %s: %v", more1, err)
		}
		at, err := pollFirst(client, more1+".example", more1, 2*time.Millisecond, changeTimeout, res.OneMoreErrors)
		client.close()
		if err != nil {
			b.Errorf("one more at %d: %v", n, err)
		} else {
			more = append(more, at.Sub(t0))
		}
		res.OneMoreReloads += settleFor(b, c, scaleSettleWithin) - before
	}
	res.OneMore = summarize(more, true)

	peak := sampler.stop()
	res.HAProxyPeakMiB, res.HAProxyPeakProcs, res.LoadAverageMax = mib(peak.haproxyKiB), peak.haproxyProcs, peak.load
	if res.Memory, err = measureMemory(c, 10*time.Second); err != nil {
		res.Memory.Error = err.Error()
		b.Errorf("measuring memory: %v", err)
	}
	if pid, err := controllerPID(c); err == nil {
		if kib, err := statusKiB(pid, "VmHWM:"); err == nil {
			res.ControllerPeakMiB = mib(kib)
		}
	}
	res.ControllerPeakMiB = max(res.ControllerPeakMiB, mib(peak.controllerKiB), res.Memory.ControllerMiB)
	res.HAProxyWorkersPSS = workersPSSMiB(c)
	res.FDs = measureFDs(c)
	if m, err := controllerMetrics(c); err == nil {
		res.ReloadReasons = reloadReasons(m)
		res.RuntimeFailures = m["portcullis_runtime_update_failures_total"]
	}
	res.ControllerLogErrs, _ = logErrors(c)
	res.LoadAverageMax = max(res.LoadAverageMax, loadAverage())

	b.ReportMetric(res.RoutableAfterLastCreateS, "all-routable-s")
	b.ReportMetric(res.OneMore.Max, "one-more-max-ms")
	b.ReportMetric(res.Swap.Converged.P99, "swap-p99-ms")
	b.ReportMetric(res.ControllerPeakMiB, "controller-peak-MiB")
	b.ReportMetric(0, "ns/op")
	return res
}

// swapEndpoints moves the EndpointSlice of Service svc from one echo of pool to the next, swaps
// times, each until only the new one answers (streak answers in a row), on a keep-alive
// connection opened now (after the last reload). Reloads counts those during the swaps.
func swapEndpoints(b *testing.B, c *framework.Controller, ns, svc string, pool []*framework.Echo, swaps int) EndpointResult {
	b.Helper()
	res := EndpointResult{Streak: streak}
	slice, err := framework.Kube().DiscoveryV1().EndpointSlices(ns).Get(b.Context(), svc, metav1.GetOptions{})
	if err != nil {
		b.Fatalf("getting endpointslice %s/%s: %v", ns, svc, err)
	}
	reloads0 := reloadCount(b, c)
	client := newKeepAliveClient(c)
	defer client.close()
	host := svc + ".example"
	var conv, api []time.Duration
	cur := 0
	for range swaps {
		next := (cur + 1) % len(pool)
		d, a, cv, err := changeEndpoints(b.Context(), &slice, pool[next:next+1], func(time.Time) (time.Time, convergence, error) {
			cv, err := pollOnly(client, host, names(pool[next]), streak, pollEvery, changeTimeout)
			return cv.at, cv, err
		})
		res.Changes++
		api = append(api, a)
		res.Stale += cv.stale
		res.ClientErrors += cv.errors
		if err != nil {
			res.Timeouts++
			b.Errorf("%s, change %d: %v", svc, res.Changes, err)
		} else {
			conv = append(conv, d)
		}
		cur = next
		time.Sleep(20 * time.Millisecond)
	}
	res.Converged, res.APIUpdate = summarize(conv, true), summarize(api, false)
	time.Sleep(300 * time.Millisecond) // a reload, if one was wrongly planned, is due by now
	res.Reloads = reloadCount(b, c) - reloads0
	return res
}

// settleFor waits until haproxy's reload counter has not moved for settleQuiet, for at most
// within, and returns it.
func settleFor(b *testing.B, c *framework.Controller, within time.Duration) int {
	b.Helper()
	deadline := time.Now().Add(within)
	reloads := reloadCount(b, c)
	for {
		time.Sleep(settleQuiet)
		now := reloadCount(b, c)
		if now == reloads {
			return now
		}
		if time.Now().After(deadline) {
			b.Logf("haproxy still reloading after %s (%d reloads); measuring anyway", within, now)
			return now
		}
		reloads = now
	}
}

// peakSampler records, every scaleSampleEvery, the controller's and haproxy's resident memory
// and the load average, keeping the largest values.
type peakSampler struct {
	quit chan struct{}
	done chan struct{}
	once sync.Once
	peak peaks
}

type peaks struct {
	controllerKiB int64
	haproxyKiB    int64 // master + every worker, old ones included
	haproxyProcs  int
	load          float64
}

func startPeakSampler(c *framework.Controller) *peakSampler {
	s := &peakSampler{quit: make(chan struct{}), done: make(chan struct{})}
	controller, _ := controllerPID(c)
	go func() {
		defer close(s.done)
		tick := time.NewTicker(scaleSampleEvery)
		defer tick.Stop()
		for {
			if controller > 0 {
				if kib, err := rssKiB(controller); err == nil {
					s.peak.controllerKiB = max(s.peak.controllerKiB, kib)
				}
			}
			if master, err := c.ReadMasterPID(); err == nil {
				procs := haproxyProcesses(master)
				var sum int64
				for _, pid := range procs {
					if kib, err := rssKiB(pid); err == nil {
						sum += kib
					}
				}
				s.peak.haproxyKiB = max(s.peak.haproxyKiB, sum)
				s.peak.haproxyProcs = max(s.peak.haproxyProcs, len(procs))
			}
			s.peak.load = max(s.peak.load, loadAverage())
			select {
			case <-s.quit:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// stop ends the sampling (once) and returns the peaks.
func (s *peakSampler) stop() peaks {
	s.once.Do(func() { close(s.quit) })
	<-s.done
	return s.peak
}

// haproxyProcesses returns master and its live children named haproxy (current and old workers).
func haproxyProcesses(master int) []int {
	out := []int{master}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == master {
			continue
		}
		ppid, comm, state, err := procParent(pid)
		if err == nil && ppid == master && comm == "haproxy" && state != "Z" {
			out = append(out, pid)
		}
	}
	return out
}

// procParent reads the parent, name and state of a process from /proc/<pid>/stat.
func procParent(pid int) (ppid int, comm, state string, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, "", "", err
	}
	s := string(data)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return 0, "", "", fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 2 {
		return 0, "", "", fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, s[open+1 : end], f[0], err
}

// statusKiB reads a "<key> <n> kB" line of /proc/<pid>/status (VmRSS:, VmHWM:).
func statusKiB(pid int, key string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, key); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", key, pid)
}

// workersPSSMiB sums the proportional set size of haproxy's current workers, or returns -1.
func workersPSSMiB(c *framework.Controller) float64 {
	pl, err := c.ReadProcState()
	if err != nil {
		return -1
	}
	var kib int64
	for _, pid := range pl.Workers {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
		if err != nil {
			return -1
		}
		for line := range strings.Lines(string(data)) {
			if rest, ok := strings.CutPrefix(line, "Pss:"); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					v, _ := strconv.ParseInt(f[0], 10, 64)
					kib += v
				}
			}
		}
	}
	return mib(kib)
}

// measureFDs counts the open file descriptors of haproxy's master and current workers and reads
// the limits they run with.
func measureFDs(c *framework.Controller) fdUsage {
	var u fdUsage
	pl, err := c.ReadProcState()
	if err != nil {
		u.Error = err.Error()
		return u
	}
	if u.Master, err = countFDs(pl.MasterPID); err != nil {
		u.Error = err.Error()
	}
	for _, pid := range pl.Workers {
		n, err := countFDs(pid)
		if err != nil {
			u.Error = err.Error()
		}
		u.Workers += n
		if lim, err := openFilesLimit(pid); err == nil {
			u.WorkerLimit = lim
		}
	}
	info, err := showInfo(filepath.Join(c.RuntimeDir, "admin.sock"))
	if err != nil {
		u.Error = err.Error()
		return u
	}
	u.Maxsock, _ = strconv.Atoi(info["Maxsock"])
	u.Maxconn, _ = strconv.Atoi(info["Maxconn"])
	u.UlimitN, _ = strconv.Atoi(info["Ulimit-n"])
	u.Nbthread, _ = strconv.Atoi(info["Nbthread"])
	return u
}

func countFDs(pid int) (int, error) {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(entries), err
}

// openFilesLimit reads the soft "Max open files" limit of a process.
func openFilesLimit(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("no Max open files in /proc/%d/limits", pid)
}

// showInfo sends "show info" to a haproxy stats socket and returns its fields.
func showInfo(socket string) (map[string]string, error) {
	conn, err := net.DialTimeout("unix", socket, 2*time.Second)
	if err != nil {
		return nil, fmt.Errorf("connecting to the stats socket: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(conn, "show info\n"); err != nil {
		return nil, fmt.Errorf("sending show info: %w", err)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("reading show info: %w", err)
	}
	return out, nil
}

// fileSize returns the size of a file, 0 if it cannot be read.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// reloadDurationRE finds the duration of a "configuration applied" log line (slog text or JSON).
var reloadDurationRE = regexp.MustCompile(`"?duration"?[=:]"?([0-9.]+(?:ns|us|µs|ms|s|m|h)[0-9.a-zµ]*)`)

// reloadPassDurations reads the controller log from offset and returns the durations of the
// passes that reloaded haproxy ("configuration applied" with action reload).
func reloadPassDurations(path string, offset int64) []time.Duration {
	data, err := os.ReadFile(path)
	if err != nil || offset > int64(len(data)) {
		return nil
	}
	var out []time.Duration
	for line := range strings.Lines(string(data[offset:])) {
		if d, ok := reloadPassDuration(line); ok {
			out = append(out, d)
		}
	}
	return out
}

// reloadPassDuration parses one log line.
func reloadPassDuration(line string) (time.Duration, bool) {
	if !strings.Contains(line, "configuration applied") || !(strings.Contains(line, "action=reload") || strings.Contains(line, `"action":"reload"`)) {
		return 0, false
	}
	m := reloadDurationRE.FindStringSubmatch(line)
	if m == nil {
		return 0, false
	}
	d, err := time.ParseDuration(m[1])
	return d, err == nil
}

// The report of the scale runs.

// scaleTargets adds the targets for each size measured.
func (r *Results) scaleTargets(add func(name, target, value string, met bool)) {
	for _, s := range r.ScaleRuns {
		at := fmt.Sprintf(" at %s Ingresses", thousands(s.Ingresses))
		add("one more Ingress -> first 200, max of "+strconv.Itoa(s.OneMore.Count)+at, fmt.Sprintf("< %.0f ms", scaleOneMoreTargetMs),
			fmt.Sprintf("%.0f ms", s.OneMore.Max), s.OneMore.Count == scaleOneMore && s.OneMore.Max < scaleOneMoreTargetMs)
		add("endpoint change p99"+at, fmt.Sprintf("< %.0f ms", scaleSwapTargetP99Ms),
			fmt.Sprintf("%.1f ms", s.Swap.Converged.P99), s.Swap.Timeouts == 0 && s.Swap.Converged.Count > 0 && s.Swap.Converged.P99 < scaleSwapTargetP99Ms)
		add("controller RSS (peak)"+at, fmt.Sprintf("< %.0f MiB", scaleControllerTargetMiB),
			fmt.Sprintf("%.0f MiB", s.ControllerPeakMiB), s.ControllerPeakMiB > 0 && s.ControllerPeakMiB < scaleControllerTargetMiB)
	}
}

// scaleTable prints the scale runs, one column per size.
func (r *Results) scaleTable(w *tabwriter.Writer) {
	if len(r.ScaleRuns) == 0 {
		return
	}
	head := "scale: each Ingress with its own Service and EndpointSlice"
	sep := strings.Repeat("-", len(head))
	for _, s := range r.ScaleRuns {
		col := thousands(s.Ingresses) + " Ingresses"
		head += "\t" + col
		sep += "\t" + strings.Repeat("-", len(col))
	}
	fmt.Fprintln(w, head+"\ttarget")
	fmt.Fprintln(w, sep+"\t------")
	row := func(name, target string, cell func(s *ScaleRunResult) string) {
		line := name
		for _, s := range r.ScaleRuns {
			line += "\t" + cell(s)
		}
		fmt.Fprintln(w, line+"\t"+target)
	}
	first := r.ScaleRuns[0]
	row(fmt.Sprintf("created at once, %d at a time (Service, EndpointSlice, Ingress each; %d echoes shared): took", first.CreateWorkers, first.SharedEchoes), "",
		func(s *ScaleRunResult) string { return fmt.Sprintf("%.1f s", s.CreateDurationS) })
	row("all routable after the last create (the last and a sample)", "",
		func(s *ScaleRunResult) string {
			return fmt.Sprintf("%.2f s (%d checked)", s.RoutableAfterLastCreateS, s.RoutableSample)
		})
	row("reloads during the creation (until haproxy stayed still), settled after", "",
		func(s *ScaleRunResult) string {
			return fmt.Sprintf("%d, %.1f s", s.ReloadsDuringCreate, s.SettledAfterS)
		})
	row("reload passes then (snapshot -> reload confirmed): p50 / max", "",
		func(s *ScaleRunResult) string {
			return fmt.Sprintf("%.0f / %.0f ms (%d)", s.ReloadPasses.P50, s.ReloadPasses.Max, s.ReloadPasses.Count)
		})
	row("one more Ingress (own new Service) -> first 200: p50 / max", fmt.Sprintf("< %.0f ms", scaleOneMoreTargetMs),
		func(s *ScaleRunResult) string {
			return fmt.Sprintf("%.0f / %.0f ms (%d, %d reloads)", s.OneMore.P50, s.OneMore.Max, s.OneMore.Count, s.OneMoreReloads) + pollNote(s.OneMoreErrors)
		})
	row("endpoint swap -> only the new answers: p50 / p99 (reloads)", fmt.Sprintf("p99 < %.0f ms", scaleSwapTargetP99Ms),
		func(s *ScaleRunResult) string {
			return fmt.Sprintf("%.1f / %.1f ms (%d)", s.Swap.Converged.P50, s.Swap.Converged.P99, s.Swap.Reloads) + timeoutNote(s.Swap.Timeouts)
		})
	row("controller RSS: peak (VmHWM) / at the end / empty", fmt.Sprintf("< %.0f MiB", scaleControllerTargetMiB),
		func(s *ScaleRunResult) string {
			return fmt.Sprintf("%.0f / %.0f / %.0f MiB", s.ControllerPeakMiB, s.Memory.ControllerMiB, s.MemoryEmpty.ControllerMiB)
		})
	row("haproxy RSS at the end: master + workers (workers' PSS)", "",
		func(s *ScaleRunResult) string {
			return fmt.Sprintf("%.0f + %.0f MiB (%.0f)", s.Memory.HAProxyMasterMiB, s.Memory.HAProxyWorkersMiB, s.HAProxyWorkersPSS)
		})
	row("haproxy RSS summed over all its processes, peak (processes)", "",
		func(s *ScaleRunResult) string {
			return fmt.Sprintf("%.0f MiB (%d)", s.HAProxyPeakMiB, s.HAProxyPeakProcs)
		})
	row("haproxy fds: master / worker (limit; maxsock, maxconn)", "",
		func(s *ScaleRunResult) string {
			f := s.FDs
			if f.Error != "" && f.Workers == 0 {
				return "error: " + f.Error
			}
			return fmt.Sprintf("%d / %d (%d; %d, %d)", f.Master, f.Workers, f.WorkerLimit, f.Maxsock, f.Maxconn)
		})
	row("load average (1 min): at the start / highest during", "",
		func(s *ScaleRunResult) string {
			return fmt.Sprintf("%.1f / %.1f", s.LoadAverageStart, s.LoadAverageMax)
		})
	fmt.Fprintln(w)
}

// thousands writes n with a comma every three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	var out []string
	for len(s) > 3 {
		out = append([]string{s[len(s)-3:]}, out...)
		s = s[:len(s)-3]
	}
	return strings.Join(append([]string{s}, out...), ",")
}
