package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// rssKiB reads VmRSS of a process from /proc/<pid>/status, in KiB.
func rssKiB(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

// controllerPID finds the controller process of c: the one whose command line holds its
// --runtime-dir flag. The framework keeps its own handle on the process unexported.
func controllerPID(c *framework.Controller) (int, error) {
	flag := []byte("--runtime-dir=" + c.RuntimeDir + "\x00")
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, flag) {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if strings.TrimSpace(string(comm)) != "haproxy" {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no process with --runtime-dir=%s", c.RuntimeDir)
}

// memory is the resident memory of the controller and of its haproxy.
type memory struct {
	ControllerMiB     float64 `json:"controller_mib"`
	HAProxyMiB        float64 `json:"haproxy_mib"` // master plus current workers
	HAProxyMasterMiB  float64 `json:"haproxy_master_mib"`
	HAProxyWorkersMiB float64 `json:"haproxy_workers_mib"`
	OldWorkers        int     `json:"haproxy_old_workers"` // still draining, not counted
	Error             string  `json:"error,omitempty"`
}

// measureMemory waits up to wait for old haproxy workers to finish, then reads VmRSS of the
// controller, the haproxy master and its current workers. It tries again for up to 10 s when a
// process changes under it (haproxy's master re-executes itself just after it starts).
func measureMemory(c *framework.Controller, wait time.Duration) (memory, error) {
	var m memory
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if m, err = measureMemoryOnce(c, wait); err == nil || time.Now().After(deadline) {
			return m, err
		}
	}
}

func measureMemoryOnce(c *framework.Controller, wait time.Duration) (memory, error) {
	var m memory
	pl, err := c.ReadProcState()
	for deadline := time.Now().Add(wait); err == nil && len(pl.OldWorkers) > 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		pl, err = c.ReadProcState()
	}
	if err != nil {
		return m, err
	}
	m.OldWorkers = len(pl.OldWorkers)
	if len(pl.Workers) == 0 {
		return m, fmt.Errorf("no current haproxy worker in show proc")
	}
	pid, err := controllerPID(c)
	if err != nil {
		return m, err
	}
	kib, err := rssKiB(pid)
	if err != nil {
		return m, fmt.Errorf("controller: %w", err)
	}
	m.ControllerMiB = mib(kib)
	if kib, err = rssKiB(pl.MasterPID); err != nil {
		return m, fmt.Errorf("haproxy master: %w", err)
	}
	m.HAProxyMasterMiB = mib(kib)
	for _, w := range pl.Workers {
		if kib, err = rssKiB(w); err != nil {
			return m, fmt.Errorf("haproxy worker: %w", err)
		}
		m.HAProxyWorkersMiB += mib(kib)
	}
	m.HAProxyMiB = m.HAProxyMasterMiB + m.HAProxyWorkersMiB
	return m, nil
}

// controllerMetrics scrapes the controller's /metrics and returns the samples of the portcullis_
// metrics that count things: name{labels} to value.
func controllerMetrics(c *framework.Controller) (map[string]float64, error) {
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(c.ControllerURL + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "portcullis_") || strings.Contains(line, "_bucket{") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// reloadReasons picks the portcullis_reloads_total samples out of a scrape, by reason.
func reloadReasons(metrics map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range metrics {
		if rest, ok := strings.CutPrefix(k, `portcullis_reloads_total{reason="`); ok {
			out[strings.TrimSuffix(rest, `"}`)] = v
		}
	}
	return out
}

// logErrors counts the controller log lines at error level and returns the first few.
func logErrors(c *framework.Controller) (int, []string) {
	data, err := os.ReadFile(c.LogPath)
	if err != nil {
		return 0, nil
	}
	n := 0
	var first []string
	for line := range strings.Lines(string(data)) {
		if strings.Contains(line, "level=ERROR") || strings.Contains(line, `"level":"ERROR"`) {
			n++
			if len(first) < 5 {
				first = append(first, strings.TrimSpace(line))
			}
		}
	}
	return n, first
}

// reloadCount returns the haproxy master's reload counter, failing the benchmark on error.
func reloadCount(b *testing.B, c *framework.Controller) int {
	b.Helper()
	pl, err := c.ReadProcState()
	if err != nil {
		b.Fatalf("reading the reload counter: %v", err)
	}
	return pl.Reloads
}

// loadAverage returns the 1-minute load average, or -1.
func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}
