package bench

import (
	"strings"
	"testing"
	"time"
)

// The pure parts of the scale and data-plane measurements run in `go test ./...` without a
// cluster.

// renderedSample has the shape of what the controller renders: the HTTP frontend on port 20000,
// an HTTPS bind, a stats frontend, and paths in the runtime directory /tmp/pc-runtime.
const renderedSample = `
global
  master-worker
  stats socket /tmp/pc-runtime/admin.sock mode 600 level admin
  hard-stop-after 1800s

defaults unnamed_defaults_1
  mode http
  option idle-close-on-response
  timeout http-request 5s
  timeout connect 5s
  timeout client 50s

frontend http
  mode http
  bind 127.0.0.1:20000 name http
  bind 127.0.0.1:20001 name https ssl crt certs/default.pem
  http-request set-var(txn.host) req.hdr(host),field(1,:),lower
  http-request set-var(txn.path) path
  http-request deny deny_status 400 if { var(txn.host) -m sub / }
  http-request set-var(txn.hostpath) var(txn.host),concat(,txn.path,)
  http-request set-var(txn.wildrest) var(txn.host),field(2,.,0)
  http-request set-var(txn.wildhost) str(*.),concat(,txn.wildrest,) unless { var(txn.host) -m beg . }
  http-request set-var(txn.wildpath) var(txn.wildhost),concat(,txn.path,)
  http-request set-var(txn.backend) var(txn.hostpath),map_str(maps/path-exact.map)
  http-request set-var(txn.backend) var(txn.hostpath),map_beg(maps/path-prefix.map) unless { var(txn.backend) -m found }
  http-request set-var(txn.backend) var(txn.wildpath),map_str(maps/path-exact.map) unless { var(txn.backend) -m found }
  http-request set-var(txn.backend) var(txn.wildpath),map_beg(maps/path-prefix.map) unless { var(txn.backend) -m found }
  http-request set-var(txn.backend) var(txn.path),map_str(maps/path-exact.map) unless { var(txn.backend) -m found }
  http-request set-var(txn.backend) var(txn.path),map_beg(maps/path-prefix.map) unless { var(txn.backend) -m found }
  use_backend %[var(txn.backend)] if { var(txn.backend) -m found }
  default_backend portcullis_default
  http-after-response set-header Server portcullis unless { res.hdr(server) -m found }

frontend stats
  mode http
  bind 127.0.0.1:20003 name stats
  http-request use-service prometheus-exporter if { path /metrics }

backend ns_dp_80
  mode http
  balance roundrobin
  option forwardfor
  server s1 198.18.1.1:8080
  server s2 127.0.0.1:1 disabled

backend portcullis_default
  mode http
  http-request return status 404 content-type text/plain string "404 page not found"
  server local unix@/tmp/pc-runtime/monitor.sock
`

func rebound(t *testing.T) (string, int) {
	t.Helper()
	next := 30000
	fresh := func() int { next++; return next }
	cfg, port, err := rebind(renderedSample, 20000, fresh, "/tmp/pc-runtime", "/tmp/pc-dp-1/admin-0.sock")
	if err != nil {
		t.Fatal(err)
	}
	return cfg, port
}

func TestRebindGivesEveryBindAFreshPortAndMovesTheSockets(t *testing.T) {
	cfg, port := rebound(t)
	if port != 30001 {
		t.Errorf("the HTTP bind got port %d, want 30001", port)
	}
	for _, want := range []string{
		"  bind 127.0.0.1:30001 name http\n",
		"  bind 127.0.0.1:30002 name https ssl crt certs/default.pem\n",
		"  bind 127.0.0.1:30003 name stats\n",
		"  stats socket /tmp/pc-dp-1/admin-0.sock mode 600 level admin\n",
		"server local unix@/tmp/pc-dp-1/monitor.sock",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("rebound configuration lacks %q:\n%s", want, cfg)
		}
	}
	for _, gone := range []string{":20000", ":20001", ":20003", "/tmp/pc-runtime"} {
		if strings.Contains(cfg, gone) {
			t.Errorf("rebound configuration still holds %q", gone)
		}
	}
}

func TestRebindRefusesWhatItCannotMove(t *testing.T) {
	for _, tc := range []struct{ name, cfg string }{
		{"a bind that is not an address and port", "frontend f\n  bind unix@/tmp/x.sock\n  bind 127.0.0.1:20000\n"},
		{"no bind on the HTTP port", "frontend f\n  bind 127.0.0.1:20009\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := rebind(tc.cfg, 20000, func() int { return 1 }, "/tmp/pc-runtime", "/tmp/s.sock"); err == nil {
				t.Errorf("rebind accepted:\n%s", tc.cfg)
			}
		})
	}
}

func TestConfigEditsTouchOnlyTheHTTPFrontend(t *testing.T) {
	cfg, port := rebound(t)
	count := func(s, sub string) int { return strings.Count(s, sub) }

	hostOnly, n := hostLookupsOnly(cfg, port)
	if n != 7 {
		t.Errorf("hostLookupsOnly changed %d lines, want 7 (3 variables, 4 look-ups)", n)
	}
	if count(hostOnly, "txn.wild") != 0 || count(hostOnly, "var(txn.path),map_") != 0 || count(hostOnly, "var(txn.hostpath),map_") != 2 {
		t.Errorf("hostLookupsOnly:\n%s", hostOnly)
	}

	bare, n := withoutRouting(cfg, port, "ns_dp_80")
	if n != 15 { // 13 http-request rules, use_backend, default_backend
		t.Errorf("withoutRouting changed %d lines, want 15", n)
	}
	if !strings.Contains(bare, "  default_backend ns_dp_80\n") || strings.Contains(bare, "use_backend") {
		t.Errorf("withoutRouting:\n%s", bare)
	}
	// Other sections keep their http-request rules.
	if !strings.Contains(bare, "use-service prometheus-exporter") || !strings.Contains(bare, "http-request return status 404") {
		t.Errorf("withoutRouting touched other sections:\n%s", bare)
	}

	tenfold, n := repeatRules(cfg, port, 10)
	if n != 1 || strings.Count(tenfold, "http-request set-var(txn.wildrest)") != 10 || strings.Count(tenfold, "use-service prometheus-exporter") != 1 {
		t.Errorf("repeatRules changed %d lines:\n%s", n, tenfold)
	}
	if i, j := strings.LastIndex(tenfold, "http-request set-var(txn.backend) var(txn.path),map_beg"), strings.Index(tenfold, "use_backend"); i > j {
		t.Errorf("repeatRules wrote rules after use_backend:\n%s", tenfold)
	}

	plain, n := dropLines(bare, "option forwardfor", "http-after-response ")
	if n != 2 || strings.Contains(plain, "forwardfor") || strings.Contains(plain, "http-after-response") {
		t.Errorf("dropLines removed %d lines:\n%s", n, plain)
	}
}

func TestMinimalConfigKeepsTheTimeouts(t *testing.T) {
	timeouts := sectionLines(renderedSample, "defaults", "timeout ")
	if len(timeouts) != 3 || timeouts[0] != "timeout http-request 5s" {
		t.Fatalf("sectionLines: %q", timeouts)
	}
	cfg := minimalConfig(timeouts, []string{"198.18.1.1:8080", "198.18.1.2:8080"}, 30005, "/tmp/s.sock")
	for _, want := range []string{
		"  master-worker\n", "  stats socket /tmp/s.sock mode 600 level admin\n",
		"  timeout http-request 5s\n  timeout connect 5s\n  timeout client 50s\n",
		"  bind 127.0.0.1:30005\n  default_backend app\n",
		"  server s1 198.18.1.1:8080\n  server s2 198.18.1.2:8080\n",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("minimal configuration lacks %q:\n%s", want, cfg)
		}
	}
}

func TestReloadPassDuration(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       time.Duration
		ok         bool
	}{
		{"a text reload line", `time=2026-12-04T13:00:00Z level=INFO msg="configuration applied" action=reload reasons=[backend_added] ingresses=10 backends=10 routes=10 duration=283.456789ms`, 283456789 * time.Nanosecond, true},
		{"a JSON reload line", `{"level":"INFO","msg":"configuration applied","action":"reload","duration":"1.5s"}`, 1500 * time.Millisecond, true},
		{"a start is no reload", `level=INFO msg="configuration applied" action=start duration=20ms`, 0, false},
		{"another message", `level=DEBUG msg="runtime update applied" action=reload duration=2ms`, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := reloadPassDuration(tc.line)
			if ok != tc.ok || got != tc.want {
				t.Errorf("reloadPassDuration = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestSmallHelpers(t *testing.T) {
	for n, want := range map[int]string{7: "7", 1000: "1,000", 5000: "5,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median of 3 values = %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median of 4 values = %v", m)
	}
	t.Setenv("BENCH_TEST_SIZES", "1000, 5000")
	if got, err := sizesFromEnv("BENCH_TEST_SIZES", nil); err != nil || len(got) != 2 || got[1] != 5000 {
		t.Errorf("sizesFromEnv = %v, %v", got, err)
	}
	t.Setenv("BENCH_TEST_SIZES", "0")
	if _, err := sizesFromEnv("BENCH_TEST_SIZES", nil); err == nil {
		t.Error("sizesFromEnv accepted 0")
	}
}

func TestScaleAndDataPlaneTablesShowTargets(t *testing.T) {
	r := &Results{
		ScaleRuns: []*ScaleRunResult{
			{Ingresses: 1000, OneMore: Latencies{Count: 5, P50: 400, Max: 450}, Swap: EndpointResult{Converged: Latencies{Count: 30, P50: 6, P99: 9}},
				ControllerPeakMiB: 100, FDs: fdUsage{Master: 10, Workers: 19, WorkerLimit: 20000, Maxsock: 19999, Maxconn: 9978}},
			{Ingresses: 5000, OneMore: Latencies{Count: 5, P50: 1400, Max: 1600}, Swap: EndpointResult{Converged: Latencies{Count: 30, P50: 8, P99: 25}},
				ControllerPeakMiB: 310},
		},
		DataPlane: &DataPlaneResult{Clients: 8, Echoes: 4, Nbthread: 2, Rounds: 2, RunS: 1.5, Ratio: 0.95, Variants: []*DataPlaneVariant{
			{Name: "(a) generated", MedianRPS: 9500, Ratio: []float64{0.94, 0.96}, MedianRatio: 0.95},
			{Name: "(b) minimal", MedianRPS: 10000, Ratio: []float64{1, 1}, MedianRatio: 1},
		}},
	}
	out, table := tableText(t, r)
	for _, want := range []string{
		"1,000 Ingresses 5,000 Ingresses target",
		"400 / 450 ms (5, 0 reloads) 1400 / 1600 ms (5, 0 reloads) < 1000 ms",
		"10 / 19 (20000; 19999, 9978)",
		"one more Ingress -> first 200, max of 5 at 1,000 Ingresses < 1000 ms 450 ms yes",
		"one more Ingress -> first 200, max of 5 at 5,000 Ingresses < 1000 ms 1600 ms NO",
		"endpoint change p99 at 5,000 Ingresses < 20 ms 25.0 ms NO",
		"controller RSS (peak) at 5,000 Ingresses < 300 MiB 310 MiB NO",
		"(a) generated 9500 0.950",
		"data plane: generated / minimal req/s, median of 2 rounds >= 0.97 0.950 NO",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(out, "haproxytech") {
		t.Errorf("the comparison table is printed without its sections:\n%s", table)
	}
}
