package bench

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// Limits of the data-plane measurement.
const (
	dpHost        = "dataplane.example"
	dpClients     = 8 // keep-alive connections, each sending its next request when the last is answered
	dpEchoes      = 4
	dpRounds      = 30 // a median of 10 swung from 0.95 to 1.1 on a shared machine; each round runs every configuration once, in the same order: A B A B ...; BENCH_DATAPLANE_ROUNDS
	dpWarmUp      = 300 * time.Millisecond
	dpRunFor      = 1500 * time.Millisecond // short runs, closely alternated, see the same load from the rest of the machine
	dpTargetRatio = 0.97                    // issue 14, item 5: generated req/s over minimal req/s
)

// DataPlaneResult compares what haproxy serves with the configuration the controller renders
// against a hand-written minimal one, on the same binary, threads, backends and clients.
type DataPlaneResult struct {
	Clients  int     `json:"clients"`
	Echoes   int     `json:"echoes"`
	Rounds   int     `json:"rounds"`
	RunS     float64 `json:"run_s"`
	WarmUpS  float64 `json:"warm_up_s"`
	Nbthread int     `json:"nbthread"` // haproxy's threads, the same in every configuration
	// Variants holds the generated (first) and the minimal (second) configuration, then, with
	// BENCH_DATAPLANE_ABLATE=1, the generated one with parts removed by hand.
	Variants []*DataPlaneVariant `json:"variants"`
	// Ratio is the median over the rounds of the generated configuration's requests per second
	// divided by the minimal one's in the same round.
	Ratio float64 `json:"ratio_median"`
	// CPURatio is the median over the rounds of haproxy's CPU time per request with the generated
	// configuration divided by that with the minimal one: the cost itself, less diluted by the
	// clients' and echoes' than requests per second are.
	CPURatio        float64 `json:"haproxy_cpu_ratio_median"`
	GeneratedConfig string  `json:"generated_haproxy_cfg"`
	MinimalConfig   string  `json:"minimal_haproxy_cfg"`
	LoadAverageMin  float64 `json:"load_average_min"`
	LoadAverageMax  float64 `json:"load_average_max"`
}

// DataPlaneVariant is one configuration's figures, one value per round.
type DataPlaneVariant struct {
	Name   string    `json:"name"`
	About  string    `json:"about"`
	RPS    []float64 `json:"rps"`
	Failed int64     `json:"failed"`
	Ratio  []float64 `json:"ratio_to_minimal"`
	// CPURatio is, per round, haproxy's CPU time per request divided by the minimal one's.
	CPURatio []float64 `json:"haproxy_cpu_ratio_to_minimal"`
	Nbthread int       `json:"nbthread"`
	// The CPU time of haproxy (master and workers) and of the benchmark process (the clients and
	// the echoes) per request answered, in microseconds.
	HAProxyCPUUs   []float64 `json:"haproxy_cpu_us_per_request"`
	BenchCPUUs     []float64 `json:"bench_cpu_us_per_request"`
	MedianRPS      float64   `json:"rps_median"`
	MedianRatio    float64   `json:"ratio_to_minimal_median"`
	MedianCPUUs    float64   `json:"haproxy_cpu_us_per_request_median"`
	MedianCPURatio float64   `json:"haproxy_cpu_ratio_to_minimal_median"`
	MedianBench    float64   `json:"bench_cpu_us_per_request_median"`
	Error          string    `json:"error,omitempty"`

	proxy *dpProxy
}

// benchDataPlane measures the data plane's own cost (issue 14, item 5): a controller renders its
// configuration for one Ingress host with four endpoints; the controller is stopped, and that
// configuration (rebound to fresh ports, with its own stats socket) and a hand-written minimal
// one (default_backend to the same four servers, the same timeouts) run side by side in two
// haproxy processes of the same binary. Eight keep-alive clients in a closed loop load each in
// turn for dpRunFor, dpRounds times, alternating.
func benchDataPlane(b *testing.B) {
	rounds, err := sizesFromEnv("BENCH_DATAPLANE_ROUNDS", []int{dpRounds})
	if err != nil || len(rounds) != 1 {
		b.Fatalf("BENCH_DATAPLANE_ROUNDS: want one positive number (%v)", err)
	}
	res := &DataPlaneResult{Clients: dpClients, Echoes: dpEchoes, Rounds: rounds[0], RunS: dpRunFor.Seconds(), WarmUpS: dpWarmUp.Seconds(),
		LoadAverageMin: loadAverage(), LoadAverageMax: loadAverage()}
	// Without spare sections: a new Service would take one at runtime, and the files on disk,
	// which this bench runs in haproxy processes of its own, would not hold its servers.
	ns := framework.NewNamespace(b)
	c := startController(b, ns, "--spare-backends=0")
	echoes := startEchoes(b, "dp", dpEchoes)
	framework.EchoService(b, ns, "dp", echoes...)
	framework.CreateIngress(b, framework.Ingress(ns, "dp", ns, framework.Rule(dpHost, framework.Prefix("/", "dp"))))
	client := newKeepAliveClient(c)
	if _, err := pollAll(client, dpHost, names(echoes...), pollEvery, changeTimeout); err != nil {
		b.Fatalf("the data-plane Ingress: %v", err)
	}
	client.close()
	c.WaitIdle(b)

	// The controller's files, then the controller stopped: nothing else runs during the load.
	generated := filepath.Join(b.TempDir(), "generated")
	if err := os.CopyFS(generated, os.DirFS(c.ConfigDir)); err != nil {
		b.Fatalf("copying the rendered configuration: %v", err)
	}
	c.Terminate(b)
	if !c.WaitExit(30 * time.Second) {
		b.Fatal("the controller did not exit within 30 s of SIGTERM")
	}
	data, err := os.ReadFile(filepath.Join(generated, "haproxy.cfg"))
	if err != nil {
		b.Fatal(err)
	}
	rendered := string(data)
	res.GeneratedConfig = rendered
	section, err := mapValue(filepath.Join(generated, "maps", "path-prefix.map"), dpHost+"/")
	if err != nil {
		b.Fatalf("finding the Ingress's backend section: %v", err)
	}

	sockDir, err := os.MkdirTemp("", "pc-dp-") // unix socket paths are short
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = os.RemoveAll(sockDir) })
	servers := make([]string, len(echoes))
	for i, e := range echoes {
		servers[i] = e.Addr()
	}

	type edit struct {
		name, about string
		change      func(cfg string, httpPort int) (string, int)
	}
	edits := []edit{
		{"(a) generated", "what the controller renders for one Ingress host with 4 endpoints", nil},
		{"(b) minimal", "hand-written, default_backend to the same 4 servers, the same timeouts", nil},
	}
	if os.Getenv("BENCH_DATAPLANE_ABLATE") == "1" {
		edits = append(edits,
			edit{"(a1) generated, host look-ups only", "(a) without the wildcard and hostless look-ups and their variables",
				func(cfg string, port int) (string, int) { return hostLookupsOnly(cfg, port) }},
			edit{"(a2) generated, no routing rules", "(a) without any http-request rule or use_backend; default_backend is the Ingress's section",
				func(cfg string, port int) (string, int) { return withoutRouting(cfg, port, section) }},
			edit{"(a10) generated, routing rules x10", "(a) with its http-request rules repeated 10 times: the cost of one set, amplified",
				func(cfg string, port int) (string, int) { return repeatRules(cfg, port, 10) }},
			edit{"(a1x10) host look-ups only, rules x10", "(a1) with its http-request rules repeated 10 times",
				func(cfg string, port int) (string, int) {
					cfg, n := hostLookupsOnly(cfg, port)
					cfg, m := repeatRules(cfg, port, 10)
					return cfg, min(n, m)
				}},
			edit{"(a3) generated, no rules, no forwardfor, no Server", "(a2) without option forwardfor and the http-after-response rule",
				func(cfg string, port int) (string, int) {
					cfg, n := withoutRouting(cfg, port, section)
					cfg, m := dropLines(cfg, "option forwardfor", "http-after-response ")
					return cfg, n + m
				}},
		)
	}
	for k, e := range edits {
		v := &DataPlaneVariant{Name: e.name, About: e.about}
		res.Variants = append(res.Variants, v)
		dir := filepath.Join(b.TempDir(), fmt.Sprintf("variant-%d", k))
		sock := filepath.Join(sockDir, fmt.Sprintf("admin-%d.sock", k))
		var cfg string
		var port int
		switch k {
		case 1:
			timeouts := sectionLines(rendered, "defaults", "timeout ")
			port = framework.FreePort(b)
			cfg = minimalConfig(timeouts, servers, port, sock)
			res.MinimalConfig = cfg
			err = os.MkdirAll(dir, 0o755)
		default:
			cfg, port, err = rebind(rendered, c.HTTPPort, func() int { return framework.FreePort(b) }, c.RuntimeDir, sock)
			if err == nil && e.change != nil {
				var removed int
				if cfg, removed = e.change(cfg, port); removed == 0 {
					err = fmt.Errorf("nothing to remove: the rendered configuration has changed")
				}
			}
			if err == nil {
				err = os.CopyFS(dir, os.DirFS(generated))
			}
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "haproxy.cfg"), []byte(cfg), 0o600)
		}
		if err != nil {
			if k < 2 {
				b.Fatalf("%s: %v", e.name, err)
			}
			v.Error = err.Error()
			continue
		}
		if v.proxy, err = startDPProxy(b, framework.HAProxyBin(), dir, sock, port); err != nil {
			if k < 2 {
				b.Fatalf("%s: %v", e.name, err)
			}
			v.Error = err.Error()
			continue
		}
		v.Nbthread = v.proxy.nbthread
		if k == 0 {
			b.Logf("%s: %s", e.name, dir)
		}
	}
	res.Nbthread = res.Variants[0].Nbthread
	if res.Variants[1].Nbthread != res.Nbthread {
		b.Errorf("haproxy threads differ: %d generated, %d minimal", res.Nbthread, res.Variants[1].Nbthread)
	}

	for round := range res.Rounds {
		// (a) and (b) alternate: A B A B ... With the ablations the order also rotates from one
		// round to the next, so that no configuration always runs right after the same one.
		order := res.Variants
		if len(order) > 2 {
			k := round % len(order)
			order = append(slices.Clone(order[k:]), order[:k]...)
		}
		for _, v := range order {
			if v.proxy == nil {
				continue
			}
			run := closedLoop(v.proxy)
			v.RPS = append(v.RPS, round2(run.rps()))
			v.Failed += run.failed
			v.HAProxyCPUUs = append(v.HAProxyCPUUs, round2(run.perRequestUs(run.haproxyCPU)))
			v.BenchCPUUs = append(v.BenchCPUUs, round2(run.perRequestUs(run.benchCPU)))
			res.LoadAverageMin = min(res.LoadAverageMin, loadAverage())
			res.LoadAverageMax = max(res.LoadAverageMax, loadAverage())
		}
		b.Logf("round %d: %v", round+1, rpsOf(res.Variants))
	}
	minimal := res.Variants[1]
	for _, v := range res.Variants {
		for i := range min(len(v.RPS), len(minimal.RPS)) {
			if minimal.RPS[i] > 0 {
				v.Ratio = append(v.Ratio, round3(v.RPS[i]/minimal.RPS[i]))
			}
			if minimal.HAProxyCPUUs[i] > 0 {
				v.CPURatio = append(v.CPURatio, round3(v.HAProxyCPUUs[i]/minimal.HAProxyCPUUs[i]))
			}
		}
		v.MedianRPS, v.MedianRatio, v.MedianCPURatio = round2(median(v.RPS)), round3(median(v.Ratio)), round3(median(v.CPURatio))
		v.MedianCPUUs, v.MedianBench = round2(median(v.HAProxyCPUUs)), round2(median(v.BenchCPUUs))
		if v.Failed > 0 {
			b.Errorf("%s: %d requests failed", v.Name, v.Failed)
		}
	}
	res.Ratio, res.CPURatio = res.Variants[0].MedianRatio, res.Variants[0].MedianCPURatio
	results.DataPlane = res
	b.ReportMetric(res.Ratio, "ratio")
	b.ReportMetric(res.Variants[0].MedianRPS, "generated-req/s")
	b.ReportMetric(minimal.MedianRPS, "minimal-req/s")
	b.ReportMetric(0, "ns/op")
}

func rpsOf(vs []*DataPlaneVariant) []float64 {
	var out []float64
	for _, v := range vs {
		if len(v.RPS) > 0 {
			out = append(out, v.RPS[len(v.RPS)-1])
		}
	}
	return out
}

// median returns the median of the values (the mean of the middle two for an even count).
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(vs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

// dpRun is one closed-loop run against one haproxy.
type dpRun struct {
	ok, failed           int64
	window               time.Duration
	haproxyCPU, benchCPU time.Duration
}

func (r dpRun) rps() float64 { return float64(r.ok) / r.window.Seconds() }

func (r dpRun) perRequestUs(cpu time.Duration) float64 {
	if r.ok == 0 {
		return 0
	}
	return float64(cpu.Microseconds()) / float64(r.ok)
}

// closedLoop runs dpClients keep-alive clients against p, each sending GET / as soon as the last
// answer is read, and counts the answers that arrive within dpRunFor after a warm-up of dpWarmUp.
func closedLoop(p *dpProxy) dpRun {
	start := time.Now()
	from, to := start.Add(dpWarmUp), start.Add(dpWarmUp+dpRunFor)
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	for range dpClients {
		wg.Go(func() {
			k := &keepAliveClient{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)), timeout: 5 * time.Second}
			defer k.close()
			for {
				r, err := k.get(dpHost, "/")
				now := time.Now()
				switch {
				case now.After(to):
					return
				case now.Before(from):
				case err == nil && r.status == 200:
					ok.Add(1)
				default:
					failed.Add(1)
				}
			}
		})
	}
	time.Sleep(time.Until(from))
	h0, s0 := p.cpu(), processCPU(os.Getpid())
	time.Sleep(time.Until(to))
	h1, s1 := p.cpu(), processCPU(os.Getpid())
	wg.Wait()
	return dpRun{ok: ok.Load(), failed: failed.Load(), window: dpRunFor, haproxyCPU: h1 - h0, benchCPU: s1 - s0}
}

// dpProxy is a haproxy started by the benchmark on a configuration of its own.
type dpProxy struct {
	cmd      *exec.Cmd
	port     int
	nbthread int
	done     chan struct{}
}

// startDPProxy checks the configuration in dir, starts haproxy on it, waits until it answers on
// port and asks its stats socket for the number of threads. It is stopped at cleanup.
func startDPProxy(b *testing.B, bin, dir, sock string, port int) (*dpProxy, error) {
	b.Helper()
	if out, err := exec.Command(bin, "-c", "-q", "-C", dir, "-f", "haproxy.cfg").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("haproxy -c: %w: %s", err, out)
	}
	logFile, err := os.Create(filepath.Join(dir, "haproxy.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-C", dir, "-f", "haproxy.cfg")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting haproxy: %w", err)
	}
	p := &dpProxy{cmd: cmd, port: port, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	b.Cleanup(p.stop)
	k := &keepAliveClient{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), timeout: time.Second}
	defer k.close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		r, err := k.get(dpHost, "/")
		if err == nil && r.status == 200 && r.echo != "" {
			break
		}
		last := fmt.Sprintf("status %d", r.status)
		if err != nil {
			last = err.Error()
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("haproxy exited: %s", tailBytes(filepath.Join(dir, "haproxy.log"), 2000))
		default:
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no 200 on port %d within 10 s (last: %s)", port, last)
		}
	}
	info, err := showInfo(sock)
	if err != nil {
		return nil, err
	}
	p.nbthread, _ = strconv.Atoi(info["Nbthread"])
	return p, nil
}

// cpu returns the CPU time used so far by the master and its workers.
func (p *dpProxy) cpu() time.Duration {
	var sum time.Duration
	for _, pid := range haproxyProcesses(p.cmd.Process.Pid) {
		sum += processCPU(pid)
	}
	return sum
}

// stop asks the master to stop its workers (SIGTERM) and kills it after 5 s.
func (p *dpProxy) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// processCPU returns the CPU time of all threads of a process: the sum of their schedstat run
// times (nanoseconds), or utime + stime (10 ms ticks) where schedstat is missing.
func processCPU(pid int) time.Duration {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err == nil {
		var sum time.Duration
		okAll := true
		for _, t := range tasks {
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
			if err != nil {
				okAll = false
				break
			}
			f := strings.Fields(string(data))
			if len(f) == 0 {
				okAll = false
				break
			}
			ns, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				okAll = false
				break
			}
			sum += time.Duration(ns)
		}
		if okAll {
			return sum
		}
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func tailBytes(path string, n int) string {
	data, _ := os.ReadFile(path)
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}

// mapValue returns the value of key in a haproxy map file.
func mapValue(path, key string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(string(data)) {
		if f := strings.Fields(line); len(f) == 2 && f[0] == key {
			return f[1], nil
		}
	}
	return "", fmt.Errorf("no key %q in %s", key, path)
}

// The configuration edits are plain text operations on what the renderer wrote: a section starts
// at a line without indentation, its lines are indented.

// rebind makes a rendered configuration runnable next to the controller's haproxy: every bind
// gets a port from fresh (the one on httpPort too, whose new port is returned), the stats socket
// moves to sock, and any other path in the controller's runtime directory moves next to it.
func rebind(cfg string, httpPort int, fresh func() int, runtimeDir, sock string) (string, int, error) {
	var out []string
	newHTTP := 0
	for line := range strings.Lines(cfg) {
		f := strings.Fields(line)
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		switch {
		case len(f) >= 2 && f[0] == "bind":
			host, port, err := net.SplitHostPort(f[1])
			if err != nil {
				return "", 0, fmt.Errorf("bind %q: not an address and port", f[1])
			}
			p := fresh()
			if port == strconv.Itoa(httpPort) {
				newHTTP = p
			}
			f[1] = net.JoinHostPort(host, strconv.Itoa(p))
			line = indent + strings.Join(f, " ") + "\n"
		case len(f) >= 3 && f[0] == "stats" && f[1] == "socket":
			f[2] = sock
			line = indent + strings.Join(f, " ") + "\n"
		}
		out = append(out, line)
	}
	if newHTTP == 0 {
		return "", 0, fmt.Errorf("no bind on port %d", httpPort)
	}
	return strings.ReplaceAll(strings.Join(out, ""), runtimeDir, filepath.Dir(sock)), newHTTP, nil
}

// minimalConfig is the hand-written configuration: one frontend whose default_backend balances
// over servers, with the given timeout lines.
func minimalConfig(timeouts, servers []string, port int, sock string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global\n  master-worker\n  stats socket %s mode 600 level admin\n\n", sock)
	b.WriteString("defaults\n  mode http\n")
	for _, t := range timeouts {
		b.WriteString("  " + t + "\n")
	}
	fmt.Fprintf(&b, "\nfrontend http\n  bind %s\n  default_backend app\n\nbackend app\n  balance roundrobin\n",
		net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	for i, s := range servers {
		fmt.Fprintf(&b, "  server s%d %s\n", i+1, s)
	}
	return b.String()
}

// sectionLines returns the trimmed lines starting with prefix in the sections whose header
// starts with kind ("defaults", "frontend http").
func sectionLines(cfg, kind, prefix string) []string {
	var out []string
	in := false
	for line := range strings.Lines(cfg) {
		if line != "" && line[0] != ' ' && line[0] != '\t' {
			in = strings.HasPrefix(line, kind)
			continue
		}
		if t := strings.TrimSpace(line); in && strings.HasPrefix(t, prefix) {
			out = append(out, t)
		}
	}
	return out
}

// editFrontend applies keep to each line of the section that binds port, dropping the lines for
// which it returns false; it returns the result and the number of lines dropped or changed.
func editFrontend(cfg string, port int, keep func(line string) (string, bool)) (string, int) {
	var sections [][]string
	for line := range strings.Lines(cfg) {
		if len(sections) == 0 || line != "" && line[0] != ' ' && line[0] != '\t' {
			sections = append(sections, nil)
		}
		sections[len(sections)-1] = append(sections[len(sections)-1], line)
	}
	bind := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var out strings.Builder
	changed := 0
	for _, sec := range sections {
		isFrontend := strings.HasPrefix(sec[0], "frontend ") && slices.ContainsFunc(sec, func(l string) bool {
			f := strings.Fields(l)
			return len(f) >= 2 && f[0] == "bind" && f[1] == bind
		})
		for _, line := range sec {
			if isFrontend {
				l, ok := keep(line)
				if !ok || l != line {
					changed++
				}
				if !ok {
					continue
				}
				line = l
			}
			out.WriteString(line)
		}
	}
	return out.String(), changed
}

// hostLookupsOnly drops the wildcard and hostless look-ups and the variables they use from the
// HTTP frontend: what a host+path-only configuration would need.
func hostLookupsOnly(cfg string, port int) (string, int) {
	return editFrontend(cfg, port, func(line string) (string, bool) {
		for _, s := range []string{"txn.wildrest", "txn.wildhost", "txn.wildpath", "var(txn.path),map_"} {
			if strings.Contains(line, s) {
				return line, false
			}
		}
		return line, true
	})
}

// withoutRouting drops every http-request rule and use_backend from the HTTP frontend and sends
// everything to section.
func withoutRouting(cfg string, port int, section string) (string, int) {
	return editFrontend(cfg, port, func(line string) (string, bool) {
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "http-request ") || strings.HasPrefix(t, "use_backend "):
			return line, false
		case strings.HasPrefix(t, "default_backend "):
			return line[:len(line)-len(strings.TrimLeft(line, " \t"))] + "default_backend " + section + "\n", true
		}
		return line, true
	})
}

// repeatRules writes the http-request rules of the HTTP frontend times times in a row, after the
// last of them: each copy computes the variables and looks the maps up again (the later look-ups
// are skipped once a backend is found, as in the first copy).
func repeatRules(cfg string, port, times int) (string, int) {
	var rules []string
	_, _ = editFrontend(cfg, port, func(line string) (string, bool) {
		if strings.HasPrefix(strings.TrimSpace(line), "http-request ") {
			rules = append(rules, line)
		}
		return line, true
	})
	if len(rules) == 0 {
		return cfg, 0
	}
	seen := 0
	return editFrontend(cfg, port, func(line string) (string, bool) {
		if !strings.HasPrefix(strings.TrimSpace(line), "http-request ") {
			return line, true
		}
		if seen++; seen < len(rules) {
			return line, true
		}
		return strings.Repeat(strings.Join(rules, ""), times-1) + line, true
	})
}

// dropLines drops the lines, in any section, whose trimmed text starts with one of prefixes.
func dropLines(cfg string, prefixes ...string) (string, int) {
	var out strings.Builder
	n := 0
	for line := range strings.Lines(cfg) {
		t := strings.TrimSpace(line)
		if slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(t, p) }) {
			n++
			continue
		}
		out.WriteString(line)
	}
	return out.String(), n
}

// The report of the data-plane measurement.

func (r *Results) dataPlaneTargets(add func(name, target, value string, met bool)) {
	d := r.DataPlane
	if d == nil || len(d.Variants) < 2 {
		return
	}
	add(fmt.Sprintf("data plane: generated / minimal req/s, median of %d rounds", len(d.Variants[0].Ratio)),
		fmt.Sprintf(">= %.2f", dpTargetRatio), fmt.Sprintf("%.3f", d.Ratio), d.Ratio >= dpTargetRatio && len(d.Variants[0].Ratio) > 0)
}

func (r *Results) dataPlaneTable(w *tabwriter.Writer) {
	d := r.DataPlane
	if d == nil {
		return
	}
	fmt.Fprintf(w, "data plane: %d keep-alive clients, closed loop, %d echoes, haproxy %d threads; %d rounds of %.1f s alternated\treq/s\tratio to (b)\thaproxy CPU/request\tCPU ratio to (b)\tclients+echoes CPU/request\n",
		d.Clients, d.Echoes, d.Nbthread, d.Rounds, d.RunS)
	fmt.Fprintln(w, "(medians over the rounds)\t-----\t------------\t-------------------\t----------------\t--------------------------")
	for _, v := range d.Variants {
		if v.Error != "" {
			fmt.Fprintf(w, "%s\tnot run: %s\t\t\t\t\n", v.Name, v.Error)
			continue
		}
		fmt.Fprintf(w, "%s\t%.0f\t%.3f\t%.1f µs\t%.3f\t%.1f µs\n", v.Name, v.MedianRPS, v.MedianRatio, v.MedianCPUUs, v.MedianCPURatio, v.MedianBench)
	}
	fmt.Fprintln(w)
	for _, v := range d.Variants {
		fmt.Fprintf(w, "%s: %s\n", v.Name, v.About)
		if len(v.Ratio) > 0 && v != d.Variants[1] {
			fmt.Fprintf(w, "    req/s ratio per round: %s\n", joinFloats(v.Ratio))
		}
	}
	fmt.Fprintf(w, "load average (1 min) during the runs: %.1f to %.1f\n\n", d.LoadAverageMin, d.LoadAverageMax)
}

func joinFloats(vs []float64) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strconv.FormatFloat(v, 'f', 3, 64)
	}
	return strings.Join(out, " ")
}
