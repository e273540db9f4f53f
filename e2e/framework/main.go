// Package framework runs Portcullis end-to-end tests against a real kube-apiserver and etcd, the
// real controller binary, a real haproxy and local HTTP echo backends.
//
// A test package uses it through TestMain:
//
//	func TestMain(m *testing.M) { framework.Main(m) }
//
// Main re-executes the test binary inside a private network namespace, where 198.18.0.0/16 is
// routed to the loopback device. Echo backends listen on addresses from that range, which the
// kube-apiserver accepts in EndpointSlices (it rejects 127.0.0.0/8), and no test traffic can leave
// the machine. One control plane (etcd + kube-apiserver) serves the whole test binary; each test
// creates its own namespace, objects and controller process.
//
// Helpers take a testing.TB, fail the test on error and use t.Context(), so call them from the
// test body, not from t.Cleanup.
//
// Environment:
//
//	PORTCULLIS_BIN             directory holding etcd and kube-apiserver (default <repo>/.cache/bin)
//	PORTCULLIS_HAPROXY         the haproxy binary to test (default: haproxy on PATH)
//	PORTCULLIS_CONTROLLER_BIN  a prebuilt controller binary, instead of building ./cmd/controller
//	PORTCULLIS_E2E_KEEP=1      keep the control plane's temporary directory (logs, data) afterwards
package framework

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Environment variables read by the framework.
const (
	envNetns         = "PORTCULLIS_E2E_NETNS" // "1" inside the private network namespace
	envBin           = "PORTCULLIS_BIN"
	envControllerBin = "PORTCULLIS_CONTROLLER_BIN"
	envHAProxy       = "PORTCULLIS_HAPROXY"
	envKeep          = "PORTCULLIS_E2E_KEEP"
)

// backendRange is routed to the loopback device inside the private network namespace.
const backendRange = "198.18.0.0/16"

// Main runs the tests of a package against a private control plane and exits with their result.
// Call it from TestMain. Missing binaries are a failure, never a skip.
func Main(m *testing.M) {
	if os.Getenv(envNetns) != "1" {
		os.Exit(runOutside(m))
	}
	os.Exit(runInside(m))
}

// keep reports whether temporary directories should survive the run, for debugging.
func keep() bool { return os.Getenv(envKeep) == "1" }

// fatalf prints a framework error to stderr; callers then exit with status 1.
func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "e2e framework: "+format+"\n", args...)
}

// runOutside prepares what needs the host network (building the controller may download modules),
// then runs the test binary again inside a new network namespace and returns its exit code. As a
// child subreaper it inherits every process the run orphans (say, a haproxy left by a controller
// killed mid-test) and kills those once the run ends.
func runOutside(m *testing.M) int {
	flag.Parse()
	if f := flag.Lookup("test.list"); f != nil && f.Value.String() != "" {
		return m.Run() // listing tests needs no cluster
	}
	root, err := repoRoot()
	if err != nil {
		fatalf("%v", err)
		return 1
	}
	tools, err := findTools(root)
	if err != nil {
		fatalf("%v\nrun e2e/tools/install-deps.sh", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e framework: %s: %s\n", tools.haproxy, haproxyVersion(tools.haproxy))
	controllerBin, cleanup, err := controllerBinary(root)
	if err != nil {
		fatalf("%v", err)
		return 1
	}
	defer cleanup()

	self, err := os.Executable()
	if err != nil {
		fatalf("finding the test binary: %v", err)
		return 1
	}
	unshareFlags := "-n"
	if os.Geteuid() != 0 {
		unshareFlags = "-rn" // map the current user to root in a new user namespace
	}
	cmd := exec.Command("unshare", append([]string{unshareFlags, "--", self}, os.Args[1:]...)...)
	cmd.Env = append(os.Environ(), envNetns+"=1", envControllerBin+"="+controllerBin)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr

	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fatalf("becoming a child subreaper: %v", err)
		return 1
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT)
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		fatalf("running the tests under unshare: %v", err)
		return 1
	}
	go func() {
		for s := range signals {
			_ = cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	killOrphans()

	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exitErr) && exitErr.ExitCode() > 0:
		return exitErr.ExitCode()
	default:
		fatalf("test binary in network namespace: %v", err)
		return 1
	}
}

// runInside runs inside the private network namespace: it brings up the network and the control
// plane, runs the tests and tears everything down.
func runInside(m *testing.M) int {
	if err := setupNetwork(); err != nil {
		fatalf("%v", err)
		return 1
	}
	root, err := repoRoot()
	if err != nil {
		fatalf("%v", err)
		return 1
	}
	tools, err := findTools(root)
	if err != nil {
		fatalf("%v\nrun e2e/tools/install-deps.sh", err)
		return 1
	}
	if bin, ok := os.LookupEnv(envControllerBin); ok {
		tools.controller = bin
	} else { // started inside a namespace by hand: build here
		bin, cleanup, err := controllerBinary(root)
		if err != nil {
			fatalf("%v", err)
			return 1
		}
		defer cleanup()
		tools.controller = bin
	}

	start := time.Now()
	cp, err := startControlPlane(tools)
	if err != nil {
		fatalf("%v", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e framework: control plane ready in %s (state in %s)\n",
		time.Since(start).Round(time.Millisecond), cp.dir)
	current = cp
	code := m.Run()
	current = nil
	cp.stop()
	return code
}

// setupNetwork brings up loopback and routes backendRange to it. It refuses to run in the host's
// network namespace, where adding that route would change the machine's networking.
func setupNetwork() error {
	self, errSelf := os.Readlink("/proc/self/ns/net")
	init, errInit := os.Readlink("/proc/1/ns/net")
	if errSelf == nil && errInit == nil && self == init {
		return fmt.Errorf("%s=1 is set but this is the host network namespace (%s); unset it", envNetns, self)
	}
	ip, err := lookPathSbin("ip")
	if err != nil {
		return err
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"route", "replace", "local", backendRange, "dev", "lo"},
	} {
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("setting up the network namespace: ip %s: %w: %s",
				strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// killOrphans SIGKILLs and reaps every remaining child of this process (orphans re-parented to
// it as a subreaper) until none is left. It reports live ones: they are leaks worth knowing about.
func killOrphans() {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		children := childProcesses()
		if len(children) == 0 {
			return
		}
		for _, child := range children {
			if child.state != "Z" {
				fatalf("killing leftover process %s (pid %d)", child.comm, child.pid)
				_ = syscall.Kill(child.pid, syscall.SIGKILL)
			}
			var status syscall.WaitStatus
			_, _ = syscall.Wait4(child.pid, &status, 0, nil)
		}
	}
}

// procStat is the start of /proc/<pid>/stat.
type procStat struct {
	pid   int
	comm  string // the executable's name, truncated to 15 bytes
	state string // R, S, D, Z (zombie), ...
	ppid  int
}

// readProcStat parses /proc/<pid>/stat.
func readProcStat(pid int) (procStat, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// Format: pid (comm) state ppid ...; comm may contain spaces and parentheses.
	s := string(data)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return procStat{}, fmt.Errorf("parsing /proc/%d/stat: %q", pid, s)
	}
	fields := strings.Fields(s[end+1:])
	if len(fields) < 2 {
		return procStat{}, fmt.Errorf("parsing /proc/%d/stat: %q", pid, s)
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return procStat{}, fmt.Errorf("parsing /proc/%d/stat: %w", pid, err)
	}
	return procStat{pid: pid, comm: s[open+1 : end], state: fields[0], ppid: ppid}, nil
}

// childProcesses lists the children of this process, zombies included.
func childProcesses() []procStat {
	self := os.Getpid()
	var children []procStat
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readProcStat(pid); err == nil && st.ppid == self {
			children = append(children, st)
		}
	}
	return children
}
