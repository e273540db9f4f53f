package process

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
)

func TestOwnsArgs(t *testing.T) {
	m := New(Options{Program: "/usr/sbin/haproxy", ConfigDir: "/etc/pc", RuntimeDir: "/run/pc"}, logr.Discard())
	tests := []struct {
		name string
		args []string
		want bool
	}{
		{
			name: "a master as start runs it",
			args: []string{"/usr/sbin/haproxy", "-W", "-S", "/run/pc/master.sock,mode,600", "-C", "/etc/pc", "-f", "haproxy.cfg", "-p", "/run/pc/haproxy.pid"},
			want: true,
		},
		{
			name: "a worker re-executed by a reload has more arguments in front",
			args: []string{"haproxy", "-sf", "4989", "-x", "sockpair@3", "-W", "-S", "/run/pc/master.sock,mode,600", "-C", "/etc/pc", "-f", "haproxy.cfg", "-p", "/run/pc/haproxy.pid"},
			want: true,
		},
		{
			name: "a master socket without options",
			args: []string{"haproxy", "-W", "-S", "/run/pc/master.sock", "-C", "/etc/pc", "-f", "haproxy.cfg"},
			want: true,
		},
		{
			name: "another configuration directory is another controller's",
			args: []string{"haproxy", "-W", "-S", "/run/pc/master.sock,mode,600", "-C", "/etc/pc2", "-f", "haproxy.cfg"},
		},
		{
			name: "a configuration directory that only starts like ours",
			args: []string{"haproxy", "-W", "-S", "/run/pc/master.sock", "-C", "/etc/pc/sub", "-f", "haproxy.cfg"},
		},
		{
			name: "another master socket",
			args: []string{"haproxy", "-W", "-S", "/run/pc/master.sock2", "-C", "/etc/pc", "-f", "haproxy.cfg"},
		},
		{
			name: "no master socket: not a master-worker haproxy of ours",
			args: []string{"haproxy", "-C", "/etc/pc", "-f", "haproxy.cfg"},
		},
		{
			name: "the directory as the program name does not count",
			args: []string{"-C", "/etc/pc", "-S", "/run/pc/master.sock"}[1:],
		},
		{
			name: "a flag at the very end without a value",
			args: []string{"haproxy", "-S", "/run/pc/master.sock", "-C"},
		},
		{
			name: "an empty command line (a kernel thread)",
			args: []string{""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.ownsArgs(tt.args); got != tt.want {
				t.Errorf("ownsArgs(%q) = %v, want %v", tt.args, got, tt.want)
			}
		})
	}
}

func TestReadStat(t *testing.T) {
	st, err := readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.ppid != os.Getppid() || st.start == 0 || st.state == "Z" {
		t.Errorf("readStat(self) = %+v, want parent %d, a start time and a live state", st, os.Getppid())
	}
	if _, err := readStat(1 << 30); err == nil {
		t.Error("readStat of a pid that cannot exist succeeded")
	}
}

// adoptEnv is a configuration and runtime directory for haproxy, and a configuration that
// listens on a unix socket in it.
type adoptEnv struct {
	opts  Options
	files func(marker string) haproxy.Files
}

func newAdoptEnv(t *testing.T) adoptEnv {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatalf("haproxy is not on PATH (%v): run e2e/tools/install-deps.sh", err)
	}
	bin, err = filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	// Unix socket paths are limited to about 100 bytes: keep the directory short.
	dir, err := os.MkdirTemp("", "pc-adopt-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		killOurs(t, dir)
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	opts := Options{Program: bin, ConfigDir: filepath.Join(dir, "cfg"), RuntimeDir: filepath.Join(dir, "run"), StopTimeout: 2 * time.Second}
	files := func(marker string) haproxy.Files {
		return haproxy.Files{haproxy.ConfigFile: fmt.Appendf(nil, `# %s
global
  stats socket %s mode 600 level admin
  stats timeout 2m

defaults
  mode http
  timeout connect 5s
  timeout client 5s
  timeout server 5s

frontend http
  bind unix@%s
  http-request return status 200 content-type text/plain string %s
`, marker, filepath.Join(opts.RuntimeDir, "admin.sock"), filepath.Join(opts.RuntimeDir, "http.sock"), marker)}
	}
	return adoptEnv{opts: opts, files: files}
}

// killOurs kills every haproxy left on the directories under dir.
func killOurs(t *testing.T, dir string) {
	m := New(Options{ConfigDir: filepath.Join(dir, "cfg"), RuntimeDir: filepath.Join(dir, "run")}, logr.Discard())
	found, err := m.instances()
	if err != nil {
		t.Errorf("listing haproxy processes: %v", err)
	}
	for _, in := range found {
		_ = in.signal(syscall.SIGKILL)
	}
}

// start runs a controller's Master on env and starts haproxy, as a controller that is then
// killed would have: the Master is dropped without Stop.
func (e adoptEnv) start(t *testing.T, marker string) int {
	t.Helper()
	// Its log would outlive the test: its haproxy exits later.
	m := New(e.opts, logr.Discard())
	started, err := m.Reload(t.Context(), e.files(marker))
	if err != nil || !started {
		t.Fatalf("starting haproxy: started %v, %v", started, err)
	}
	return m.cur.pid
}

// masters lists the pids of the haproxy processes on env whose parent is not one of them.
func (e adoptEnv) masters(t *testing.T) []int {
	t.Helper()
	found, err := New(e.opts, logr.Discard()).instances()
	if err != nil {
		t.Fatal(err)
	}
	pids := map[int]bool{}
	for _, in := range found {
		pids[in.pid] = true
	}
	var masters []int
	for _, in := range found {
		if !pids[in.ppid] {
			masters = append(masters, in.pid)
		}
	}
	return masters
}

func (e adoptEnv) showProc(t *testing.T) procState {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	st, err := masterCLI{path: filepath.Join(e.opts.RuntimeDir, "master.sock")}.showProc(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// serving returns what haproxy answers on its HTTP socket.
func (e adoptEnv) serving(t *testing.T) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "curl", "-sS", "--max-time", "2", "--unix-socket",
		filepath.Join(e.opts.RuntimeDir, "http.sock"), "http://x/").CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: nothing after 5 s", what)
	}
}

func TestAdoptSupervisesAndReloadsTheRunningMaster(t *testing.T) {
	e := newAdoptEnv(t)
	old := e.start(t, "old")

	m := New(e.opts, testr.New(t).WithName("adopter"))
	pid, err := m.Adopt(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if pid != old || !m.Running() {
		t.Fatalf("Adopt = %d, running %v; want the running master %d adopted", pid, m.Running(), old)
	}
	before := e.showProc(t)
	started, err := m.Reload(t.Context(), e.files("new"))
	if err != nil || started {
		t.Fatalf("Reload after adoption: started %v, %v; want a reload of the adopted master", started, err)
	}
	after := e.showProc(t)
	if after.masterPID != old || after.reloads != before.reloads+1 {
		t.Errorf("after the reload: %v, want master %d reloaded once more than %v", after, old, before)
	}
	if got := e.serving(t); got != "new" {
		t.Errorf("haproxy serves %q after the reload, want the new configuration", got)
	}

	// A master that dies is reported like a child's exit, and the next Reload starts another.
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, m.Exited(), "Exited after the adopted master was killed")
	if m.Running() {
		t.Error("Running after the adopted master died")
	}
	started, err = m.Reload(t.Context(), e.files("restarted"))
	if err != nil || !started {
		t.Fatalf("Reload after the adopted master died: started %v, %v; want a start", started, err)
	}
	if got := e.masters(t); len(got) != 1 || got[0] == old {
		t.Errorf("masters after the restart: %v, want one new one", got)
	}
	m.Stop()
	if got := e.masters(t); len(got) != 0 {
		t.Errorf("masters after Stop: %v, want none", got)
	}
}

func TestAdoptedMasterStops(t *testing.T) {
	e := newAdoptEnv(t)
	old := e.start(t, "old")
	m := New(e.opts, testr.New(t).WithName("adopter"))
	if pid, err := m.Adopt(t.Context()); err != nil || pid != old {
		t.Fatalf("Adopt = %d, %v; want %d", pid, err, old)
	}
	m.Stop()
	if got := e.masters(t); len(got) != 0 {
		t.Errorf("masters after Stop: %v, want none", got)
	}
	select {
	case <-m.Exited():
		t.Error("Exited reported a stop that was asked for")
	default:
	}
}

func TestAdoptStopsAMasterThatDoesNotAnswer(t *testing.T) {
	e := newAdoptEnv(t)
	old := e.start(t, "old")
	// A stopped master accepts connections on its socket (the kernel queues them) but never
	// answers; its workers keep serving.
	if err := syscall.Kill(old, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	m := New(e.opts, testr.New(t).WithName("adopter"))
	start := time.Now()
	pid, err := m.Adopt(t.Context())
	if err != nil || pid != 0 || m.Running() {
		t.Fatalf("Adopt = %d, %v (running %v); want nothing adopted", pid, err, m.Running())
	}
	t.Logf("Adopt gave up on the silent master and stopped it in %s", time.Since(start).Round(time.Millisecond))
	if got := e.masters(t); len(got) != 0 {
		t.Fatalf("haproxy processes left after Adopt: %v, want none", got)
	}
	if started, err := m.Reload(t.Context(), e.files("new")); err != nil || !started {
		t.Fatalf("Reload: started %v, %v; want a start", started, err)
	}
	if got := e.masters(t); len(got) != 1 {
		t.Errorf("masters: %v, want one", got)
	}
	if got := e.serving(t); got != "new" {
		t.Errorf("haproxy serves %q, want the new configuration", got)
	}
	m.Stop()
}

func TestAdoptKeepsOneOfTwoMasters(t *testing.T) {
	// Two masters on one configuration, as an older controller left them: the one that answers
	// on the master socket (the later, which replaced the socket) is adopted, the other stopped.
	e := newAdoptEnv(t)
	first := e.start(t, "first")
	second := e.start(t, "second")
	if got := e.masters(t); len(got) != 2 {
		t.Fatalf("masters before Adopt: %v, want two", got)
	}
	m := New(e.opts, testr.New(t).WithName("adopter"))
	pid, err := m.Adopt(t.Context())
	if err != nil || pid != second {
		t.Fatalf("Adopt = %d, %v; want the master that answers, %d (the other is %d)", pid, err, second, first)
	}
	if got := e.masters(t); len(got) != 1 || got[0] != second {
		t.Errorf("masters after Adopt: %v, want only %d", got, second)
	}
	m.Stop()
}

func TestAdoptWithNothingRunning(t *testing.T) {
	e := newAdoptEnv(t)
	// What a dead master leaves: a pid file and a socket file nobody listens on.
	old := e.start(t, "old")
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); len(e.masters(t)) > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("haproxy still runs after SIGKILL: %v", e.masters(t))
		}
	}
	if err := os.WriteFile(filepath.Join(e.opts.RuntimeDir, "haproxy.pid"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := New(e.opts, testr.New(t).WithName("adopter"))
	start := time.Now()
	pid, err := m.Adopt(t.Context())
	if err != nil || pid != 0 || m.Running() {
		t.Fatalf("Adopt = %d, %v (running %v); want nothing adopted", pid, err, m.Running())
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Adopt took %s with nothing to adopt", took)
	}
	if started, err := m.Reload(t.Context(), e.files("new")); err != nil || !started {
		t.Fatalf("Reload: started %v, %v; want a start", started, err)
	}
	m.Stop()
}

func TestAdoptDuringAReload(t *testing.T) {
	// The previous controller may die right after asking for a reload: the master re-executes
	// itself and refuses connections on its socket for a moment. It is still adopted.
	e := newAdoptEnv(t)
	old := e.start(t, "old")
	for i := range 3 {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		_, err := masterCLI{path: filepath.Join(e.opts.RuntimeDir, "master.sock")}.command(ctx, "reload")
		cancel()
		if err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
		m := New(e.opts, testr.New(t).WithName("adopter"))
		pid, err := m.Adopt(t.Context())
		if err != nil || pid != old {
			t.Fatalf("Adopt right after reload %d = %d, %v; want %d", i, pid, err, old)
		}
		// Hand it back, as a controller killed now would.
		m.mu.Lock()
		m.cur = nil
		m.mu.Unlock()
	}
	if got := e.masters(t); len(got) != 1 || got[0] != old {
		t.Errorf("masters: %v, want only %d", got, old)
	}
}

func TestAdoptedMasterThatHangsIsKilledOnStop(t *testing.T) {
	e := newAdoptEnv(t)
	old := e.start(t, "old")
	m := New(e.opts, testr.New(t).WithName("adopter"))
	if pid, err := m.Adopt(t.Context()); err != nil || pid != old {
		t.Fatalf("Adopt = %d, %v; want %d", pid, err, old)
	}
	if err := syscall.Kill(old, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	m.Stop()
	if took := time.Since(start); took < e.opts.StopTimeout {
		t.Errorf("Stop returned after %s, before the stop timeout of %s", took, e.opts.StopTimeout)
	}
	// The master is gone when Stop returns; a worker it left notices its death and exits on its
	// own a moment later (until then it has no haproxy parent and counts as a master here).
	var got []int
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if got = e.masters(t); len(got) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(got) != 0 {
		t.Errorf("haproxy processes 2 s after Stop: %v, want none", got)
	}
}
