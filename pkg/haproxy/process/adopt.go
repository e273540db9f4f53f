package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Adopt looks for a haproxy master that a previous controller started on this Master's
// configuration and runtime directories, and supervises it from now on. It is meant to be called
// once, before the first Reload.
//
// The processes of a haproxy are recognised by their command line, which names the
// configuration directory and the master socket (so a missing or overwritten pid file hides
// nothing), and by their executable. A master that answers `show proc` on the master socket is
// adopted: Running reports true, Reload reloads it through the master CLI, Update reaches it
// through the runtime API, Stop stops it, and Exited reports its exit, watched through a pidfd
// since it is not a child. Its configuration is whatever the previous controller installed; the
// caller does not know it, so its first plan is a reload.
//
// Every other haproxy on these directories, or all of them when none answers, is stopped before
// Adopt returns (SIGUSR1, then SIGKILL after the stop timeout), so that two masters never serve
// the same configuration. It returns the adopted master's pid, or 0 when there was none to adopt
// and the first Reload starts a new one.
func (m *Master) Adopt(ctx context.Context) (int, error) {
	if m.running() {
		return 0, fmt.Errorf("adopting haproxy: a master is already supervised")
	}
	found, err := m.instances()
	if err != nil {
		return 0, fmt.Errorf("adopting haproxy: %w", err)
	}
	st, answered := m.askMaster(ctx, len(found) > 0)
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	var adopted *instance
	if answered {
		i := slices.IndexFunc(found, func(in instance) bool { return in.pid == st.masterPID })
		if i < 0 {
			// A master in another PID namespace (another container) or of another user: it can
			// neither be watched nor stopped, and starting a second one would split the traffic.
			return 0, fmt.Errorf("adopting haproxy: a master (pid %d) answers on %s, but no process of ours runs it: stop it, or give this controller other directories",
				st.masterPID, m.cli.path)
		}
		adopted = &found[i]
	}
	var stale []instance
	for _, in := range found {
		if adopted == nil || (in.pid != adopted.pid && in.ppid != adopted.pid) {
			stale = append(stale, in)
		}
	}
	if len(stale) > 0 {
		m.stopStale(stale, found)
	}
	if adopted == nil {
		return 0, nil
	}
	p, err := m.supervise(*adopted)
	if err != nil {
		// It exited meanwhile, or cannot be watched: a new one is started instead.
		m.log.Error(err, "the running haproxy cannot be adopted; it is stopped and a new one started", "pid", adopted.pid)
		m.stopStale(slices.DeleteFunc(slices.Clone(found), func(in instance) bool { return in.pid != adopted.pid && in.ppid != adopted.pid }), found)
		return 0, nil
	}
	m.mu.Lock()
	m.cur = p
	m.mu.Unlock()
	m.log.Info("adopted the running haproxy; the first pass reloads it with the current configuration",
		"pid", p.pid, "workers", st.workers, "reloads", st.reloads)
	return p.pid, nil
}

// answerTimeout bounds how long Adopt waits for a live master to answer on its socket. It covers
// a master that is re-executing itself for a reload (its socket refuses or resets connections for
// tens of milliseconds), as when the previous controller died in the middle of one.
const answerTimeout = 5 * time.Second

// askMaster reads `show proc` from the master socket. While a haproxy of ours runs (alive), every
// failure is retried until answerTimeout; otherwise a socket file left behind refuses
// connections, and that is not waited on.
func (m *Master) askMaster(ctx context.Context, alive bool) (procState, bool) {
	if _, err := os.Stat(m.cli.path); err != nil {
		return procState{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, answerTimeout)
	defer cancel()
	var out string
	var err error
	for {
		out, err = m.cli.once(ctx, "show proc")
		if err == nil || !alive || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err != nil {
		if alive {
			m.log.Info("the running haproxy does not answer on its master socket", "socket", m.cli.path, "error", err.Error())
		}
		return procState{}, false
	}
	st, err := parseShowProc(out)
	if err != nil {
		m.log.Info("the running haproxy's master socket gives an unexpected answer", "socket", m.cli.path, "error", err.Error())
		return procState{}, false
	}
	return st, true
}

// instance is a live process running haproxy on this Master's directories: a master, one of its
// workers, or a worker whose master has died.
type instance struct {
	pid, ppid int
	// start is the process's start time (clock ticks since boot): with pid, it identifies the
	// process across pid reuse.
	start uint64
}

// instances lists the live haproxy processes whose command line names this Master's
// configuration directory and master socket, as start gives them.
func (m *Master) instances() ([]instance, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	self := os.Getpid()
	var found []instance
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		if in, ok := m.instance(pid); ok {
			found = append(found, in)
		}
	}
	return found, nil
}

// instance reports whether pid is a live haproxy running on this Master's directories. A process
// that vanishes or cannot be read is not one.
func (m *Master) instance(pid int) (instance, bool) {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !m.ownsArgs(strings.Split(string(bytes.TrimRight(cmdline, "\x00")), "\x00")) {
		return instance{}, false
	}
	if !m.isHAProxy(pid) {
		return instance{}, false
	}
	st, err := readStat(pid)
	if err != nil || st.state == "Z" || st.state == "X" {
		return instance{}, false
	}
	return instance{pid: pid, ppid: st.ppid, start: st.start}, true
}

// ownsArgs reports whether a command line is that of a haproxy started by start on these
// directories: `-C <config dir>` and `-S <master socket>[,options]`. Workers re-executed for a
// reload carry more arguments in front; that does not matter.
func (m *Master) ownsArgs(args []string) bool {
	var dir, sock bool
	for i := 1; i+1 < len(args); i++ {
		switch args[i] {
		case "-C":
			dir = dir || args[i+1] == m.opts.ConfigDir
		case "-S":
			s := args[i+1]
			sock = sock || s == m.cli.path || strings.HasPrefix(s, m.cli.path+",")
		}
	}
	return dir && sock
}

// isHAProxy reports whether the executable of pid is haproxy: the configured program, or a
// binary named haproxy (the program may have been replaced on disk since it started).
func (m *Master) isHAProxy(pid int) bool {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return false
	}
	exe = strings.TrimSuffix(exe, " (deleted)")
	if strings.HasPrefix(filepath.Base(exe), "haproxy") {
		return true
	}
	a, errA := os.Stat(exe)
	b, errB := os.Stat(m.opts.Program)
	return errA == nil && errB == nil && os.SameFile(a, b)
}

// procStat is what /proc/<pid>/stat says that Adopt needs.
type procStat struct {
	state string
	ppid  int
	start uint64
}

// readStat parses /proc/<pid>/stat: "pid (comm) state ppid ... starttime(22nd) ...", where comm
// may hold spaces and parentheses.
func readStat(pid int) (procStat, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return procStat{}, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	f := strings.Fields(string(data[end+1:]))
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return procStat{}, fmt.Errorf("parsing /proc/%d/stat: %w", pid, err)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("parsing /proc/%d/stat: %w", pid, err)
	}
	return procStat{state: f[0], ppid: ppid, start: start}, nil
}

// alive reports whether in is still running: same pid and start time, and not a zombie.
func (in instance) alive() bool {
	st, err := readStat(in.pid)
	return err == nil && st.start == in.start && st.state != "Z" && st.state != "X"
}

// signal sends sig to in if it is still the same process.
func (in instance) signal(sig syscall.Signal) error {
	if !in.alive() {
		return os.ErrProcessDone
	}
	return syscall.Kill(in.pid, sig)
}

// stopStale stops haproxy processes that will not be adopted: a soft stop (SIGUSR1) to each of
// them that is not the child of another (masters, and workers whose master died), then SIGKILL
// to whatever is left after the stop timeout.
func (m *Master) stopStale(stale, all []instance) {
	isPID := map[int]bool{}
	for _, in := range all {
		isPID[in.pid] = true
	}
	var roots []instance
	for _, in := range stale {
		if !isPID[in.ppid] {
			m.log.Info("stopping a haproxy on this configuration that is not adopted", "pid", in.pid)
			roots = append(roots, in)
		}
	}
	deadline := time.Now().Add(m.opts.StopTimeout)
	for next := time.Now(); ; {
		left := slices.DeleteFunc(slices.Clone(stale), func(in instance) bool { return !in.alive() })
		if len(left) == 0 {
			return
		}
		// As in Stop: a master re-executing itself for a reload loses signals, so the soft stop
		// is repeated.
		if time.Now().After(next) {
			for _, in := range roots {
				_ = in.signal(syscall.SIGUSR1)
			}
			next = time.Now().Add(stopResendInterval)
		}
		if time.Now().After(deadline) {
			for _, in := range left {
				m.log.Info("haproxy did not stop in time; killing it", "pid", in.pid)
				_ = in.signal(syscall.SIGKILL)
			}
			for until := time.Now().Add(time.Second); time.Now().Before(until) && slices.ContainsFunc(left, instance.alive); {
				time.Sleep(10 * time.Millisecond)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// supervise watches an adopted master: its exit closes done and, unless Stop asked for it, is
// reported through Exited like that of a child. A pidfd names the process itself, so neither the
// watch nor the signals can reach another process that reuses the pid; without pidfds (Linux
// before 5.3) /proc is polled, with the start time guarding against reuse.
func (m *Master) supervise(in instance) (*proc, error) {
	p := &proc{pid: in.pid, done: make(chan struct{})}
	fd, err := unix.PidfdOpen(in.pid, 0)
	if err != nil {
		if !errors.Is(err, unix.ENOSYS) {
			return nil, fmt.Errorf("opening a pidfd for %d: %w", in.pid, err)
		}
		p.signal = in.signal
		go m.pollExit(p, in)
		return p, nil
	}
	// The pid may have been reused between the scan and the open: the pidfd names whatever has
	// it now, so check again that it is the same process.
	pidfd := os.NewFile(uintptr(fd), "pidfd")
	if !in.alive() {
		_ = pidfd.Close()
		return nil, fmt.Errorf("haproxy %d exited before it could be adopted", in.pid)
	}
	// pidfd stays open for as long as p can be signalled: the closure keeps it.
	p.signal = func(sig syscall.Signal) error {
		return unix.PidfdSendSignal(int(pidfd.Fd()), sig, nil, 0)
	}
	go func() {
		fds := []unix.PollFd{{Fd: int32(pidfd.Fd()), Events: unix.POLLIN}}
		for {
			n, err := unix.Poll(fds, -1)
			if n > 0 || (err != nil && !errors.Is(err, unix.EINTR)) {
				break
			}
		}
		close(p.done)
		m.lost(p, fmt.Errorf("the adopted haproxy master %d exited", in.pid))
	}()
	return p, nil
}

// pollExit watches an adopted master through /proc.
func (m *Master) pollExit(p *proc, in instance) {
	for in.alive() {
		time.Sleep(100 * time.Millisecond)
	}
	close(p.done)
	m.lost(p, fmt.Errorf("the adopted haproxy master %d exited", in.pid))
}
