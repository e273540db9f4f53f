package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

// results collects what the sub-benchmarks measure; BenchmarkPortcullis writes it out.
var results = &Results{}

// Results is the content of bench-results.json. A section is absent when its sub-benchmark did
// not run.
type Results struct {
	Started     time.Time    `json:"started"`
	Finished    time.Time    `json:"finished"`
	Environment Environment  `json:"environment"`
	Targets     []TargetTest `json:"targets"`

	EndpointSwap       *EndpointResult `json:"endpoint_swap,omitempty"`
	EndpointScale      *EndpointResult `json:"endpoint_scale,omitempty"`
	SwapWhileReloadDue *EndpointResult `json:"endpoint_swap_while_reload_pending,omitempty"`
	// EndpointBackends is the swap repeated with 1, 100 and 1000 apps configured.
	EndpointBackends []*EndpointBackendsResult `json:"endpoint_swap_by_backends,omitempty"`
	NewIngress       *NewIngressResult         `json:"new_ingress,omitempty"`
	// Gateway is the Gateway API measurement: new HTTPRoutes and backendRef weight changes.
	Gateway *GatewayResult `json:"gateway,omitempty"`
	Churn   *ChurnResult   `json:"churn,omitempty"`
	Scale   *ScaleResult   `json:"scale,omitempty"`
	// ScaleRuns are the scale measurements at 1,000 and 5,000 Ingresses (benchScaleSizes in
	// `make bench`, scaleSizes in `make bench-scale`).
	ScaleRuns []*ScaleRunResult `json:"scale_runs,omitempty"`
	// DataPlane is the generated configuration's throughput against a hand-written one.
	DataPlane *DataPlaneResult `json:"data_plane,omitempty"`
}

// Environment describes where the figures come from; compare ratios within one run.
type Environment struct {
	GoVersion string `json:"go_version"`
	CPUs      int    `json:"cpus"`
	HAProxy   string `json:"haproxy"`
	Commit    string `json:"commit"`
	// The 1-minute load average before and after the run (the latter includes the run's own
	// load): other work on the machine makes the latencies meaningless.
	LoadAverageStart float64 `json:"load_average_start"`
	LoadAverageEnd   float64 `json:"load_average_end"`
}

// Latencies summarises durations in milliseconds. Percentiles are nearest-rank: with 50 samples
// p99 is the largest.
type Latencies struct {
	Count     int       `json:"count"`
	P50       float64   `json:"p50_ms"`
	P90       float64   `json:"p90_ms"`
	P99       float64   `json:"p99_ms"`
	Max       float64   `json:"max_ms"`
	Mean      float64   `json:"mean_ms"`
	SamplesMs []float64 `json:"samples_ms,omitempty"`
}

// summarize computes Latencies, keeping the samples (in the order measured) when keep is set.
func summarize(ds []time.Duration, keep bool) Latencies {
	l := Latencies{Count: len(ds)}
	if len(ds) == 0 {
		return l
	}
	ms := make([]float64, len(ds))
	var sum float64
	for i, d := range ds {
		ms[i] = round2(float64(d) / float64(time.Millisecond))
		sum += ms[i]
	}
	if keep {
		l.SamplesMs = slices.Clone(ms)
	}
	slices.Sort(ms)
	l.P50, l.P90, l.P99 = percentile(ms, 50), percentile(ms, 90), percentile(ms, 99)
	l.Max = ms[len(ms)-1]
	l.Mean = round2(sum / float64(len(ms)))
	return l
}

// percentile returns the nearest-rank p-th percentile of sorted values.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// EndpointResult is an endpoint-change measurement: from just before the EndpointSlice update
// until the new set of backends answers alone (Streak requests in a row).
type EndpointResult struct {
	Changes   int       `json:"changes"`
	Streak    int       `json:"streak"`
	Converged Latencies `json:"converged"`
	APIUpdate Latencies `json:"api_update"` // the update call alone
	Reloads   int       `json:"reloads"`
	// Stale counts answers from outside the new set after one from inside it had come.
	Stale        int `json:"stale_answers"`
	ClientErrors int `json:"client_errors"`
	Timeouts     int `json:"timeouts"`
}

// EndpointBackendsResult is the endpoint swap on one Service while Backends Services, each with
// its own EndpointSlice and Ingress, are configured: what one endpoint change costs end to end as
// the configuration grows. Reloads counts those during the swaps only.
type EndpointBackendsResult struct {
	Backends int `json:"backends"`
	EndpointResult
	CreateDurationS          float64 `json:"create_duration_s"`            // creating all Services, EndpointSlices, Ingresses
	RoutableAfterLastCreateS float64 `json:"routable_after_last_create_s"` // the last one and a sample
	SetupReloads             int     `json:"reloads_during_setup"`         // until haproxy stopped reloading
	RuntimeFailures          float64 `json:"runtime_update_failures"`      // the controller's counter at the end
	ControllerLogErrors      int     `json:"controller_log_errors"`
}

// The target for one endpoint change, from the update call until only the new endpoint
// answers, whatever the number of backends.
const (
	endpointTargetP50 = 6.0  // ms
	endpointTargetP99 = 12.0 // ms
)

var endpointTarget = fmt.Sprintf("p50 <= %.0f ms, p99 <= %.0f ms, 0 reloads", endpointTargetP50, endpointTargetP99)

// NewIngressResult is the new-Ingress measurement: a Service, its EndpointSlice and an Ingress
// are created, then the first 200 from the right echo is awaited.
type NewIngressResult struct {
	Ingresses         int                `json:"ingresses"`
	FromIngressCreate Latencies          `json:"from_ingress_create"`
	FromServiceCreate Latencies          `json:"from_service_create"`
	Reloads           int                `json:"reloads"`
	ReloadReasons     map[string]float64 `json:"reload_reasons"`
	Timeouts          int                `json:"timeouts"`
	PollErrors        pollErrors         `json:"poll_errors_by_kind"` // failed polling requests
	// OneAtATime is the same for OneAtATimeCount Ingresses created one at a time, with a pause
	// after each first 200: the reloads meanwhile, and their reasons (spares_refill: in the
	// background, on no Ingress's path).
	OneAtATime        Latencies          `json:"one_at_a_time"`
	OneAtATimeCount   int                `json:"one_at_a_time_ingresses"`
	OneAtATimeReloads int                `json:"one_at_a_time_reloads"`
	OneAtATimeReasons map[string]float64 `json:"one_at_a_time_reload_reasons"`
}

// oneAtATimePath counts the reloads of the one-at-a-time Ingresses that some Ingress waited
// for: every reason but the background refill of the spare sections.
func (s *NewIngressResult) oneAtATimePath() int {
	n := 0
	for k, v := range s.OneAtATimeReasons {
		if k != "spares_refill" {
			n += int(v)
		}
	}
	return n
}

// ChurnResult is the keep-alive load with endpoint and topology changes.
type ChurnResult struct {
	DurationS      float64          `json:"duration_s"`
	Clients        int              `json:"clients"`
	TargetRPS      float64          `json:"target_rps"`
	AchievedRPS    float64          `json:"achieved_rps"`
	Requests       int64            `json:"requests"`
	Failed         int64            `json:"failed"`
	FailuresByKind map[string]int64 `json:"failures_by_kind"`
	FailedAtS      []float64        `json:"failed_at_s,omitempty"`
	Latency        Latencies        `json:"latency"`
	// RemovalLag is, per endpoint change that removed an echo, how long after the update call
	// requests were still sent to it. Under churn the next change may come first, so this is
	// what bounds the traffic a terminated pod would have received.
	RemovalLag           Latencies `json:"endpoint_removal_lag"`
	RemovalsNearTopology int       `json:"endpoint_changes_within_1_5s_after_topology_change"`
	// NewIngress is, per Ingress created during the churn, the time from the start of its
	// creation (Service, EndpointSlice, Ingress) to its first 200; NewIngressNotRouted counts
	// those not routed before they were deleted again.
	NewIngress           Latencies          `json:"new_ingress_under_churn"`
	NewIngressNotRouted  int                `json:"new_ingress_not_routed_before_delete"`
	EndpointChanges      int                `json:"endpoint_changes"`
	EndpointChangeErrors int                `json:"endpoint_change_errors"`
	TopologyChanges      int                `json:"topology_changes"`
	TopologyErrors       int                `json:"topology_errors"`
	TopologyAtS          []float64          `json:"topology_at_s"`
	Reloads              int                `json:"reloads"`
	ReloadReasons        map[string]float64 `json:"reload_reasons"`
	RuntimeFailures      float64            `json:"runtime_update_failures"`
	ControllerLogErrors  int                `json:"controller_log_errors"`
	ControllerLogSample  []string           `json:"controller_log_error_sample,omitempty"`
}

// ScaleResult is the many-Ingresses measurement.
type ScaleResult struct {
	Ingresses                    int                `json:"ingresses"`
	CreateDurationS              float64            `json:"create_duration_s"`
	AllRoutableAfterLastCreateS  float64            `json:"all_routable_after_last_create_s"`
	AllRoutableAfterFirstCreateS float64            `json:"all_routable_after_first_create_s"`
	Routable                     int                `json:"routable"`
	ReloadsDuringCreate          int                `json:"reloads_during_create"`
	OneMore                      Latencies          `json:"one_more"`
	ReloadReasons                map[string]float64 `json:"reload_reasons"`
	MemoryEmpty                  memory             `json:"memory_empty"`
	Memory                       memory             `json:"memory"`
	ControllerLogErrors          int                `json:"controller_log_errors"`
	PollErrors                   pollErrors         `json:"one_more_poll_errors_by_kind"`
}

// TargetTest is one target from the issue, checked against the figures.
type TargetTest struct {
	Name   string `json:"name"`
	Target string `json:"target"`
	Value  string `json:"value"`
	Met    bool   `json:"met"`
}

// The competitor's figures, from /work/shared/notes/anchor-measured.md: haproxytech/kubernetes-ingress
// on HAProxy 3.2, same kind of machine, default --sync-period 5 s and --sync-period=1s.
type anchorFigure struct{ sync5s, sync1s string }

var anchor = map[string]anchorFigure{
	"swap":       {"7.9 / 36.5 ms", "10.5 / 128.5 ms"},
	"scale":      {"12.3 / 28.6 ms", "9.2 / 71.5 ms"},
	"ep_reloads": {"0", "0"},
	"new":        {"2878 / 5117 ms", "820 / 1631 ms"},
	"new_reload": {"50 of 50", "50 of 50"},
	"churn":      {"18 of ~12000 (6 reloads)", "70 of ~12000 (20 reloads)"},
	"churn_ep":   {"0 of 12003 (100 changes)", "0 of 12004 (100 changes)"},
	"all400":     {"3.2 s", "3.2 s"},
	"one_more":   {"5209 ms", "2467 ms"},
	"memory":     {"225 / 211 MiB", "215 / 211 MiB"},
}

// evaluate fills r.Targets from the measured sections.
func (r *Results) evaluate() {
	r.Targets = nil
	add := func(name, target, value string, met bool) {
		r.Targets = append(r.Targets, TargetTest{Name: name, Target: target, Value: value, Met: met})
	}
	if s := r.EndpointSwap; s != nil {
		add("endpoint change p99", "<= 100 ms", fmt.Sprintf("%.1f ms", s.Converged.P99), s.Converged.P99 <= 100 && s.Timeouts == 0)
		add("reloads during endpoint changes", "0", fmt.Sprint(s.Reloads), s.Reloads == 0)
	}
	for _, s := range r.EndpointBackends {
		add("endpoint change with "+backends(s.Backends)+" p50 / p99",
			fmt.Sprintf("<= %.0f / <= %.0f ms", endpointTargetP50, endpointTargetP99),
			fmt.Sprintf("%.1f / %.1f ms", s.Converged.P50, s.Converged.P99),
			s.Converged.P50 <= endpointTargetP50 && s.Converged.P99 <= endpointTargetP99 && s.Timeouts == 0 && s.Converged.Count > 0)
		add("reloads during endpoint changes, "+backends(s.Backends), "0", fmt.Sprint(s.Reloads), s.Reloads == 0)
	}
	if s := r.NewIngress; s != nil {
		add("new Ingress p99", "<= 1000 ms", fmt.Sprintf("%.0f ms", s.FromIngressCreate.P99), s.FromIngressCreate.P99 <= 1000 && s.Timeouts == 0)
		if s.OneAtATime.Count > 0 {
			add("new Ingress one at a time p99", "<= 100 ms", fmt.Sprintf("%.0f ms", s.OneAtATime.P99), s.OneAtATime.P99 <= 100 && s.Timeouts == 0)
			add("reloads on a new Ingress's path, one at a time", "0", fmt.Sprint(s.oneAtATimePath()), s.oneAtATimePath() == 0)
		}
	}
	if s := r.Gateway; s != nil {
		add("new HTTPRoute p99", "<= 1000 ms", fmt.Sprintf("%.0f ms", s.FromRouteCreate.P99), s.FromRouteCreate.P99 <= 1000 && s.RouteTimeouts == 0)
		add("reloads during backendRef weight changes", "0", fmt.Sprint(s.WeightReloads), s.WeightReloads == 0 && s.WeightTimeouts == 0)
	}
	if s := r.Churn; s != nil {
		add("failed requests under churn", "0", fmt.Sprint(s.Failed), s.Failed == 0)
		add("reloads under churn", fmt.Sprintf("<= %d", s.TopologyChanges), fmt.Sprint(s.Reloads), s.Reloads <= s.TopologyChanges)
	}
	r.scaleTargets(add)
	r.dataPlaneTargets(add)
}

// write stores r as indented JSON at path, creating its directory.
func (r *Results) write(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// table prints the figures next to the competitor's.
func (r *Results) table(w io.Writer) error {
	// Everything goes through the tabwriter, whose Flush reports a failed write. A line without a
	// tab ends a block of aligned columns, so the tables are aligned separately; each ends with a
	// blank line.
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if r.comparison() {
		r.comparisonTable(tw)
	}
	r.scaleTable(tw)
	r.dataPlaneTable(tw)
	// The load at the end includes the benchmark's own; only the one at the start tells of others.
	if e := r.Environment; e.CPUs > 0 && e.LoadAverageStart > float64(e.CPUs) {
		fmt.Fprintf(tw, "WARNING: load average %.1f at the start on %d CPUs: other work competed for the CPUs; the latencies are not comparable.\n\n",
			e.LoadAverageStart, e.CPUs)
	}
	if len(r.Targets) > 0 {
		fmt.Fprintln(tw, "target\twanted\tmeasured\tmet")
		for _, t := range r.Targets {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Target, t.Value, map[bool]string{true: "yes", false: "NO"}[t.Met])
		}
	}
	return tw.Flush()
}

// comparison reports whether r holds a section of the comparison with the competitor: the
// results of `make bench-scale` hold none.
func (r *Results) comparison() bool {
	return r.EndpointSwap != nil || r.EndpointScale != nil || r.SwapWhileReloadDue != nil || len(r.EndpointBackends) > 0 ||
		r.NewIngress != nil || r.Gateway != nil || r.Churn != nil || r.Scale != nil || len(r.ScaleRuns) == 0 && r.DataPlane == nil
}

// comparisonTable prints the figures next to the competitor's, each block followed by a blank line.
func (r *Results) comparisonTable(tw *tabwriter.Writer) {
	fmt.Fprintln(tw, "measurement\tportcullis\thaproxytech sync 5s\thaproxytech sync 1s\ttarget")
	fmt.Fprintln(tw, "-----------\t----------\t-------------------\t-------------------\t------")
	row := func(name, value, anchorKey, target string) {
		a := anchor[anchorKey]
		if a == (anchorFigure{}) {
			a = anchorFigure{"-", "-"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, value, a.sync5s, a.sync1s, target)
	}
	pp := func(l Latencies, format string) string {
		return fmt.Sprintf(format+" / "+format+" ms", l.P50, l.P99)
	}
	notRun := "not run"
	if s := r.EndpointSwap; s != nil {
		row(fmt.Sprintf("(a) EndpointSlice swapped -> only new answers, %d changes: p50 / p99", s.Changes),
			pp(s.Converged, "%.1f")+timeoutNote(s.Timeouts), "swap", "p99 <= 100 ms")
		row("(a) reloads during those endpoint changes", fmt.Sprint(s.Reloads), "ep_reloads", "0")
	} else {
		row("(a) EndpointSlice swapped -> only new answers", notRun, "swap", "p99 <= 100 ms")
	}
	if s := r.EndpointScale; s != nil {
		row(fmt.Sprintf("(a) EndpointSlice scaled 1 -> 5 -> 1, %d changes: p50 / p99", s.Changes),
			pp(s.Converged, "%.1f")+timeoutNote(s.Timeouts)+fmt.Sprintf(", %d reloads", s.Reloads), "scale", "")
	}
	if s := r.SwapWhileReloadDue; s != nil {
		row(fmt.Sprintf("(a) swap while a new Ingress's reload is pending, %d: p50 / p99", s.Changes),
			pp(s.Converged, "%.1f")+timeoutNote(s.Timeouts), "", "")
	}
	for _, s := range r.EndpointBackends {
		row(fmt.Sprintf("(a) swap with %s (own Service, EndpointSlice, Ingress each), %d changes: p50 / p99", backends(s.Backends), s.Changes),
			pp(s.Converged, "%.1f")+timeoutNote(s.Timeouts)+fmt.Sprintf(" (API update %.1f / %.1f ms), %d reloads", s.APIUpdate.P50, s.APIUpdate.P99, s.Reloads),
			"", endpointTarget)
	}
	if len(r.EndpointBackends) == 0 {
		row("(a) swap with 1 / 100 / 1000 backends", notRun, "", endpointTarget)
	}
	if s := r.NewIngress; s != nil {
		row(fmt.Sprintf("(b) new Ingress (own Service) -> first 200, %d in a row: p50 / p99", s.Ingresses),
			pp(s.FromIngressCreate, "%.0f")+timeoutNote(s.Timeouts)+pollNote(s.PollErrors), "new", "p99 <= 1000 ms")
		row("(b) ... timed from the Service create instead: p50 / p99", pp(s.FromServiceCreate, "%.0f"), "", "")
		row("(b) reloads for those Ingresses", fmt.Sprintf("%d of %d", s.Reloads, s.Ingresses), "new_reload", "")
		if s.OneAtATime.Count > 0 {
			row(fmt.Sprintf("(b) ... %d one at a time, %s apart: p50 / p99", s.OneAtATimeCount, oneAtATimeGap), pp(s.OneAtATime, "%.0f"), "", "p99 <= 100 ms")
			row("(b) ... reloads meanwhile (on an Ingress's path)", fmt.Sprintf("%d (%d)", s.OneAtATimeReloads, s.oneAtATimePath()), "", "0 on the path")
		}
	} else {
		row("(b) new Ingress (own Service) -> first 200", notRun, "new", "p99 <= 1000 ms")
	}
	if s := r.Gateway; s != nil {
		row(fmt.Sprintf("(b) new HTTPRoute (own Service) -> first 200, %d in a row: p50 / p99", s.Routes),
			pp(s.FromRouteCreate, "%.0f")+timeoutNote(s.RouteTimeouts)+pollNote(s.RoutePollErrors), "", "p99 <= 1000 ms")
		row("(b) reloads for those HTTPRoutes", fmt.Sprintf("%d of %d", s.RouteReloads, s.Routes), "", "")
		row(fmt.Sprintf("(b) HTTPRoute backendRef weights changed -> only the weighted backend answers, %d changes: p50 / p99", s.WeightChanges),
			pp(s.WeightConverged, "%.1f")+timeoutNote(s.WeightTimeouts)+fmt.Sprintf(", %d reloads", s.WeightReloads), "", "0 reloads")
	} else {
		row("(b) new HTTPRoute / backendRef weight change", notRun, "", "")
	}
	if s := r.Churn; s != nil {
		row(fmt.Sprintf("(c) %d endpoint + %d topology changes under %.0f req/s from %d keep-alive clients (%.0f s): failed (reloads)",
			s.EndpointChanges, s.TopologyChanges, s.TargetRPS, s.Clients, s.DurationS),
			fmt.Sprintf("%d of %d (%d reloads)", s.Failed, s.Requests, s.Reloads), "churn",
			fmt.Sprintf("0 failed, <= %d reloads", s.TopologyChanges))
		row("(c) ... endpoint removed -> last request sent to it: p50 / p99 / max",
			fmt.Sprintf("%.1f / %.1f / %.1f ms (%d removals)", s.RemovalLag.P50, s.RemovalLag.P99, s.RemovalLag.Max, s.RemovalLag.Count), "", "")
		row("(c) ... new Ingress (own Service) -> first 200 during the churn: p50 / max",
			fmt.Sprintf("%.0f / %.0f ms (%d, %d not routed)", s.NewIngress.P50, s.NewIngress.Max, s.NewIngress.Count, s.NewIngressNotRouted), "", "")
	} else {
		row("(c) churn under keep-alive load", notRun, "churn", "0 failed")
	}
	if s := r.Scale; s != nil {
		row(fmt.Sprintf("(d) %d Ingresses created at once: all routable after the last create", s.Ingresses),
			fmt.Sprintf("%.2f s (%d of %d, %d reloads; creates took %.2f s)", s.AllRoutableAfterLastCreateS, s.Routable, s.Ingresses, s.ReloadsDuringCreate, s.CreateDurationS), "all400", "")
		row(fmt.Sprintf("(d) one more Ingress with %d present: p50 (max of %d)", s.Ingresses, s.OneMore.Count),
			fmt.Sprintf("%.0f ms (%.0f ms)", s.OneMore.P50, s.OneMore.Max)+pollNote(s.PollErrors), "one_more", "")
		row(fmt.Sprintf("(d) memory at %d Ingresses: controller / haproxy (master + worker)", s.Ingresses),
			fmt.Sprintf("%.0f / %.0f MiB (empty: %.0f / %.0f)", s.Memory.ControllerMiB, s.Memory.HAProxyMiB, s.MemoryEmpty.ControllerMiB, s.MemoryEmpty.HAProxyMiB), "memory", "")
	} else {
		row("(d) 400 Ingresses at once", notRun, "all400", "")
	}
	fmt.Fprintln(tw)
}

// backends is "1 backend" or "n backends".
func backends(n int) string {
	if n == 1 {
		return "1 backend"
	}
	return fmt.Sprintf("%d backends", n)
}

func pollNote(errs pollErrors) string {
	if len(errs) == 0 {
		return ""
	}
	return fmt.Sprintf(" (failed polls: %v)", map[string]int(errs))
}

func timeoutNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d timed out)", n)
}

// environment describes this machine and checkout.
func environment(haproxyBin string) Environment {
	env := Environment{GoVersion: runtime.Version(), CPUs: runtime.NumCPU()}
	if out, err := exec.Command(haproxyBin, "-v").Output(); err == nil {
		env.HAProxy, _, _ = strings.Cut(string(out), "\n")
	}
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		env.Commit = strings.TrimSpace(string(out))
		if err := exec.Command("git", "diff", "--quiet", "HEAD").Run(); err != nil {
			env.Commit += "-dirty"
		}
	}
	return env
}

// outputPath is $<env>, or <repo>/.cache/<name>.
func outputPath(env, name string) (string, error) {
	if p := os.Getenv(env); p != "" {
		return filepath.Abs(p)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".cache", name), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory; set %s", env)
		}
		dir = parent
	}
}

// The report code runs in `go test ./...` without a cluster.

func TestPercentileIsNearestRank(t *testing.T) {
	sorted := make([]float64, 50)
	for i := range sorted {
		sorted[i] = float64(i + 1)
	}
	for _, tc := range []struct {
		name string
		p    float64
		want float64
	}{
		{"the median of 1..50 is the 25th value", 50, 25},
		{"p90 of 1..50 is the 45th value", 90, 45},
		{"p99 of 50 samples is the largest", 99, 50},
		{"p0 is the smallest", 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(sorted, tc.p); got != tc.want {
				t.Errorf("percentile(1..50, %v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile(nil, 50) = %v, want 0", got)
	}
}

func TestSummarizeKeepsSamplesInOrder(t *testing.T) {
	l := summarize([]time.Duration{30 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond}, true)
	if l.Count != 3 || l.P50 != 20 || l.Max != 30 || l.Mean != 20 || !slices.Equal(l.SamplesMs, []float64{30, 10, 20}) {
		t.Errorf("summarize: got %+v", l)
	}
}

func TestTableShowsMissingSectionsAndTargets(t *testing.T) {
	r := &Results{EndpointSwap: &EndpointResult{Changes: 50, Streak: 10, Converged: Latencies{P50: 5, P99: 150}}}
	r.evaluate()
	var b strings.Builder
	if err := r.table(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"5.0 / 150.0 ms", "7.9 / 36.5 ms", "(b) new Ingress (own Service) -> first 200  not run", "endpoint change p99", "NO"} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestTableShowsEndpointBackendsWithTarget(t *testing.T) {
	r := &Results{EndpointBackends: []*EndpointBackendsResult{
		{Backends: 1, EndpointResult: EndpointResult{Changes: 30, Converged: Latencies{Count: 30, P50: 3, P99: 9}, APIUpdate: Latencies{P50: 1.5, P99: 2}}},
		{Backends: 1000, EndpointResult: EndpointResult{Changes: 30, Converged: Latencies{Count: 30, P50: 4, P99: 20}, Reloads: 1}},
	}}
	out, table := tableText(t, r)
	for _, want := range []string{
		"swap with 1 backend (own Service, EndpointSlice, Ingress each), 30 changes: p50 / p99 3.0 / 9.0 ms (API update 1.5 / 2.0 ms), 0 reloads",
		"1000 backends (own Service, EndpointSlice, Ingress each), 30 changes: p50 / p99 4.0 / 20.0 ms (API update 0.0 / 0.0 ms), 1 reloads",
		"p50 <= 6 ms, p99 <= 12 ms, 0 reloads",
		"endpoint change with 1 backend p50 / p99 <= 6 / <= 12 ms 3.0 / 9.0 ms yes",
		"endpoint change with 1000 backends p50 / p99 <= 6 / <= 12 ms 4.0 / 20.0 ms NO",
		"reloads during endpoint changes, 1000 backends 0 1 NO",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestRemovalLags(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	set := func(names ...string) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	changes := []endpointChange{
		{set: set("a")},
		{at: at(0), set: set("a", "b")}, // adds only: no lag
		{at: at(100), set: set("b")},    // removes a
		{at: at(200), set: set("c")},    // removes b
		{at: at(300), set: set("a")},    // removes c, a comes back
	}
	answers := []answer{
		{at(50), "a"}, {at(120), "a"}, {at(160), "a"}, // a for 60 ms after its removal
		{at(210), "b"},                 // b for 10 ms
		{at(350), "a"}, {at(400), "a"}, // a again, after it came back: not stale
	}
	got := removalLags(changes, answers)
	want := []time.Duration{60 * time.Millisecond, 10 * time.Millisecond, 0}
	if !slices.Equal(got, want) {
		t.Errorf("removalLags: got %v, want %v", got, want)
	}
}

// tableText evaluates r and prints its table: as printed, and with every run of white space made
// one space, for matching rows.
func tableText(t *testing.T, r *Results) (flat, table string) {
	t.Helper()
	r.evaluate()
	var b strings.Builder
	if err := r.table(&b); err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(b.String()), " "), b.String()
}
