package framework

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ControllerOptions configure one controller process.
type ControllerOptions struct {
	// Namespace is the only namespace the controller watches (--namespace-whitelist). Required
	// unless AllNamespaces is set.
	Namespace string
	// AllNamespaces runs the controller without --namespace-whitelist, watching every namespace,
	// as the Gateway API conformance suite needs. Namespace must then be empty.
	AllNamespaces bool
	// ExtraArgs are appended to the standard flags, in --flag=value form.
	ExtraArgs []string
	// NoWait returns as soon as the process runs, without waiting for haproxy to listen.
	NoWait bool
}

// Controller is a running controller process with its own haproxy, ports and directories.
type Controller struct {
	HTTPURL        string // http://127.0.0.1:<HTTPPort>
	HTTPPort       int
	HTTPSPort      int
	ControllerURL  string // http://127.0.0.1:<ControllerPort>: /healthz, /readyz, /metrics
	ControllerPort int
	StatsURL       string // http://127.0.0.1:<stats port>: haproxy's own Prometheus exporter at /metrics
	MonitorURL     string // http://127.0.0.1:<healthz port>/healthz: haproxy's health check for a load balancer
	ConfigDir      string // --config-dir
	RuntimeDir     string // --runtime-dir: haproxy.pid, master.sock
	LogPath        string // the controller's stdout and stderr
	proc           *process
	args           []string
	terminated     bool // the test sent SIGTERM or SIGKILL: an exit is expected
	succeeded      bool // a successor runs on the same directories: its haproxy is not ours to kill
}

// Kill sends SIGKILL to the controller, as the kernel's OOM killer or a node agent would, and
// waits until it is gone. Its haproxy keeps running: it is in a process group of its own.
func (c *Controller) Kill(t testing.TB) {
	t.Helper()
	c.terminated = true
	if err := c.proc.cmd.Process.Kill(); err != nil {
		t.Fatalf("sending SIGKILL to the controller: %v", err)
	}
	<-c.proc.done
}

// Terminate sends SIGTERM to the controller, as the kubelet does when a pod stops, and returns
// at once; the controller's exit is then expected.
func (c *Controller) Terminate(t testing.TB) {
	t.Helper()
	c.terminated = true
	if err := c.proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("sending SIGTERM to the controller: %v", err)
	}
}

// WaitExit waits up to timeout for the controller to exit and reports whether it did.
func (c *Controller) WaitExit(timeout time.Duration) bool {
	select {
	case <-c.proc.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// controllerStartTimeout bounds how long StartController waits for haproxy to listen.
const controllerStartTimeout = 30 * time.Second

// StartController runs the controller binary for the test and waits until its HTTP port accepts
// connections. At cleanup it stops the controller with SIGTERM (SIGKILL after 10 s), kills a
// haproxy master left behind, and prints the controller's log if the test failed.
func StartController(t testing.TB, opts ControllerOptions) *Controller {
	t.Helper()
	bin := ControllerBin()
	if bin == "" {
		t.Fatal("no controller binary: ./cmd/controller holds no Go files yet")
	}
	if (opts.Namespace == "") != opts.AllNamespaces {
		t.Fatal("ControllerOptions: set exactly one of Namespace and AllNamespaces")
	}
	ports := allocatePorts(t, 5)
	c := &Controller{
		HTTPURL:        "http://127.0.0.1:" + strconv.Itoa(ports[0]),
		HTTPPort:       ports[0],
		HTTPSPort:      ports[1],
		ControllerURL:  "http://127.0.0.1:" + strconv.Itoa(ports[2]),
		ControllerPort: ports[2],
		StatsURL:       "http://127.0.0.1:" + strconv.Itoa(ports[3]),
		MonitorURL:     "http://127.0.0.1:" + strconv.Itoa(ports[4]) + "/healthz",
		ConfigDir:      filepath.Join(t.TempDir(), "config-dir"),
		RuntimeDir:     shortTempDir(t, "runtime-dir"),
		LogPath:        filepath.Join(t.TempDir(), "controller.log"),
	}
	if err := os.Mkdir(c.ConfigDir, 0o755); err != nil {
		t.Fatalf("creating the config dir: %v", err)
	}
	args := []string{"--kubeconfig=" + KubeconfigPath()}
	if !opts.AllNamespaces {
		args = append(args, "--namespace-whitelist="+opts.Namespace)
	}
	args = append(append(args,
		"--http-bind-port="+strconv.Itoa(c.HTTPPort),
		"--https-bind-port="+strconv.Itoa(c.HTTPSPort),
		"--controller-port="+strconv.Itoa(c.ControllerPort),
		"--stats-bind-port="+strconv.Itoa(ports[3]),
		"--healthz-bind-port="+strconv.Itoa(ports[4]),
		// Tests stop controllers at once; TestShutdownSequence sets its own delay.
		"--shutdown-delay=0s",
		"--ipv4-bind-address=127.0.0.1",
		"--config-dir="+c.ConfigDir,
		"--runtime-dir="+c.RuntimeDir,
		"--program="+HAProxyBin(),
		"--log=debug",
	), opts.ExtraArgs...)
	proc, err := startProcess("controller", bin, args, nil, c.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	c.proc, c.args = proc, args
	t.Cleanup(func() { c.stop(t) })
	t.Logf("controller: %s %s", bin, strings.Join(args, " "))

	deadline := time.Now().Add(controllerStartTimeout)
	for !opts.NoWait && !c.listening() {
		if proc.exited() {
			t.Fatalf("starting the controller: %v", proc.exitError())
		}
		if time.Now().After(deadline) {
			t.Fatalf("starting the controller: nothing listens on %s after %s", c.HTTPURL, controllerStartTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return c
}

// StartControllerLike starts a new controller process with the same flags as old: the same ports,
// configuration and runtime directories, as a restarted container would. old must have exited
// (Kill, or Terminate then WaitExit). It waits until the new controller is ready (/readyz
// answers 200: it has applied a configuration), and from then on old's cleanup leaves haproxy
// to the new one.
func StartControllerLike(t testing.TB, old *Controller) *Controller {
	t.Helper()
	if !old.proc.exited() {
		t.Fatal("StartControllerLike: the old controller still runs")
	}
	c := *old
	c.proc, c.terminated, c.succeeded = nil, false, false
	c.LogPath = filepath.Join(t.TempDir(), "controller.log")
	proc, err := startProcess("controller", ControllerBin(), c.args, nil, c.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	c.proc = proc
	old.succeeded = true
	t.Cleanup(func() { c.stop(t) })
	t.Logf("controller restarted on the same ports and directories (log %s)", c.LogPath)

	deadline := time.Now().Add(controllerStartTimeout)
	for {
		if r, err := TryGetURL(c.ControllerURL+"/readyz", ""); err == nil && r.Status == http.StatusOK {
			return &c
		}
		if proc.exited() {
			t.Fatalf("restarting the controller: %v", proc.exitError())
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarting the controller: not ready after %s", controllerStartTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// HAProxyMasters returns the pids of the live haproxy processes running on the controller's
// configuration directory whose parent is not one of them: masters, and workers that outlived
// their master. However many controllers have run on the directory, there must be one.
func (c *Controller) HAProxyMasters(t testing.TB) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("listing processes: %v", err)
	}
	ours := map[int]procStat{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readProcStat(pid)
		if err != nil || st.comm != "haproxy" || st.state == "Z" {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-C" && args[i+1] == c.ConfigDir {
				ours[pid] = st
				break
			}
		}
	}
	var masters []int
	for pid, st := range ours {
		if _, child := ours[st.ppid]; !child {
			masters = append(masters, pid)
		}
	}
	slices.Sort(masters)
	return masters
}

// listening reports whether something accepts connections on the HTTP port.
func (c *Controller) listening() bool {
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(c.HTTPURL, "http://"), time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// stop ends the controller and any haproxy master it left, and prints the log on failure.
func (c *Controller) stop(t testing.TB) {
	if c.proc.exited() && !c.terminated {
		t.Errorf("the controller exited before the end of the test: %v", c.proc.exitError())
	} else if killed := c.proc.stop(10 * time.Second); killed {
		t.Errorf("the controller did not exit within 10s of SIGTERM; killed it")
	}
	if pid, err := c.ReadMasterPID(); err == nil && isHAProxy(pid) && !c.succeeded {
		t.Logf("haproxy master %d outlived the controller; killing it", pid)
		killHAProxy(pid)
	}
	if t.Failed() {
		t.Logf("controller log (%s):\n%s", c.LogPath, tailFile(c.LogPath, 64<<10))
	}
}

// ReadMasterPID returns the haproxy master's pid from <runtime-dir>/haproxy.pid.
func (c *Controller) ReadMasterPID() (int, error) {
	data, err := os.ReadFile(filepath.Join(c.RuntimeDir, "haproxy.pid"))
	if err != nil {
		return 0, fmt.Errorf("reading the haproxy pid file: %w", err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return 0, fmt.Errorf("parsing the haproxy pid file %q: %w", data, err)
	}
	return pid, nil
}

// MasterPID returns the haproxy master's pid, failing the test if the pid file is missing or bad.
func (c *Controller) MasterPID(t testing.TB) int {
	t.Helper()
	pid, err := c.ReadMasterPID()
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// ReadReloadCount asks the haproxy master CLI (<runtime-dir>/master.sock) for "show proc" and
// returns the master's reload counter.
func (c *Controller) ReadReloadCount() (int, error) {
	st, err := c.ReadProcState()
	return st.Reloads, err
}

// ReloadCount returns the haproxy master's reload counter, failing the test on error.
func (c *Controller) ReloadCount(t testing.TB) int {
	t.Helper()
	n, err := c.ReadReloadCount()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// masterCommand sends one command to a haproxy master CLI socket and returns the whole answer.
// The master closes the connection only once the client has shut down its writing side.
//
// While the master re-executes itself for a reload, its socket refuses connections for a moment;
// connecting is retried for a few seconds.
func masterCommand(socket, command string) (string, error) {
	var conn net.Conn
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; {
		conn, err = net.DialTimeout("unix", socket, 2*time.Second)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return "", fmt.Errorf("connecting to the haproxy master CLI: %w", err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return "", fmt.Errorf("connecting to the haproxy master CLI: %w", err)
	}
	if _, err := io.WriteString(conn, command+"\n"); err != nil {
		return "", fmt.Errorf("sending %q to the haproxy master CLI: %w", command, err)
	}
	if err := conn.(*net.UnixConn).CloseWrite(); err != nil {
		return "", fmt.Errorf("sending %q to the haproxy master CLI: %w", command, err)
	}
	out, err := io.ReadAll(conn)
	if err != nil {
		return "", fmt.Errorf("reading the answer to %q from the haproxy master CLI: %w", command, err)
	}
	return string(out), nil
}

// isHAProxy reports whether pid is a live (not zombie) process named haproxy; the pid in a stale
// pid file may have been reused.
func isHAProxy(pid int) bool {
	st, err := readProcStat(pid)
	return err == nil && st.comm == "haproxy" && st.state != "Z"
}

// killHAProxy asks a haproxy master to stop (it stops its workers), then kills it after 2 s.
func killHAProxy(pid int) {
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !isHAProxy(pid) {
			return
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// shortTempDir creates a temporary directory with a short path, removed at cleanup. t.TempDir()
// paths embed the test name and can push unix socket paths past the 107-byte limit.
func shortTempDir(t testing.TB, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pc-"+name+"-")
	if err != nil {
		t.Fatalf("creating %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing %s: %v", name, err)
		}
	})
	return dir
}

// Ports for controllers come from a range below the kernel's ephemeral ports (32768-60999), so
// that outgoing connections of parallel tests cannot take them before haproxy binds them.
const (
	firstPort = 20000
	lastPort  = 32000
)

var (
	portsMu  sync.Mutex
	nextPort = firstPort
)

// allocatePorts returns n TCP ports, never handed out before in this run, that are free on
// 127.0.0.1 now.
func allocatePorts(t testing.TB, n int) []int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	var ports []int
	for len(ports) < n {
		if nextPort > lastPort {
			t.Fatal("allocating ports: range exhausted")
		}
		port := nextPort
		nextPort++
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				continue
			}
			t.Fatalf("allocating ports: %v", err)
		}
		l.Close()
		ports = append(ports, port)
	}
	return ports
}

// FreePort returns a port of 127.0.0.1 that nothing listens on and no other controller of this
// test binary was given, for a listener a test configures (a TCP service).
func FreePort(t testing.TB) int {
	t.Helper()
	return allocatePorts(t, 1)[0]
}
