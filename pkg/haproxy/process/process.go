// Package process runs HAProxy in master-worker mode and applies rendered configurations to it:
// write the files atomically after validating them, then start or reload the master and confirm
// the reload through the master CLI. It is the effectful shell around the pure renderer.
package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-logr/logr"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/runtimeapi"
)

// Options say where HAProxy and its files live.
type Options struct {
	// Program is the haproxy binary.
	Program string
	// ConfigDir receives haproxy.cfg and the map files; haproxy runs with it as working directory.
	ConfigDir string
	// RuntimeDir receives the sockets and the pid file.
	RuntimeDir string
	// StopTimeout bounds a graceful stop before haproxy is killed.
	StopTimeout time.Duration
}

// Master supervises one haproxy master process and applies configurations to it. Its methods are
// not safe for concurrent use, except Exited and Running.
type Master struct {
	opts    Options
	log     logr.Logger
	cli     masterCLI
	runtime runtimeapi.Client

	mu     sync.Mutex
	cur    *proc         // the master supervised now; nil when none
	exited chan struct{} // receives a value when haproxy exits without being asked to

	applied haproxy.Files
}

// New returns a Master that has not started haproxy yet; the first Reload starts it.
func New(opts Options, log logr.Logger) *Master {
	if opts.StopTimeout == 0 {
		opts.StopTimeout = 10 * time.Second
	}
	return &Master{
		opts:    opts,
		log:     log,
		cli:     masterCLI{path: filepath.Join(opts.RuntimeDir, "master.sock")},
		runtime: runtimeapi.Client{Socket: haproxy.Env{RuntimeDir: opts.RuntimeDir}.StatsSocket()},
		exited:  make(chan struct{}, 1),
	}
}

// MasterSocket is the path of the master CLI socket.
func (m *Master) MasterSocket() string { return m.cli.path }

// PIDFile is where haproxy writes the master's PID.
func (m *Master) PIDFile() string { return filepath.Join(m.opts.RuntimeDir, "haproxy.pid") }

// Exited signals when haproxy has exited on its own; the caller should Apply again, which
// restarts it.
func (m *Master) Exited() <-chan struct{} { return m.exited }

// Running reports whether the haproxy master is up.
func (m *Master) Running() bool { return m.running() }

// Reload validates files, installs them, and starts haproxy if it is not running or reloads it.
// It reports whether haproxy was started. On failure the previous files are restored and the
// running haproxy keeps serving them.
func (m *Master) Reload(ctx context.Context, files haproxy.Files) (started bool, err error) {
	if err := m.install(ctx, files); err != nil {
		return false, err
	}
	if !m.running() {
		if err := m.start(ctx); err != nil {
			return false, err
		}
		m.applied = files
		return true, nil
	}
	if err := m.reload(ctx); err != nil {
		if m.applied != nil {
			if rerr := m.writeFiles(m.opts.ConfigDir, m.applied); rerr != nil {
				err = errors.Join(err, fmt.Errorf("restoring previous configuration: %w", rerr))
			}
		}
		return false, err
	}
	m.applied = files
	return false, m.removeStale(files)
}

// Update applies a change that needs no reload through the runtime API: server moves, certificate
// commands and map replacements. It writes no file: the files on disk are those of the last start
// or reload, and every later start or reload is given freshly rendered files, which carry the
// runtime changes. So the cost of an endpoint change does not grow with the configuration.
func (m *Master) Update(ctx context.Context, plan haproxy.Plan) error {
	if !m.running() {
		return fmt.Errorf("haproxy is not running")
	}
	if err := m.runtime.Execute(ctx, plan.Commands); err != nil {
		return fmt.Errorf("runtime update: %w", err)
	}
	for _, c := range plan.CertCommands {
		if err := m.runtime.ExecutePayload(ctx, c.Line, c.Payload); err != nil {
			return fmt.Errorf("certificate update: %w", err)
		}
	}
	for _, name := range plan.MapFiles {
		if err := m.replaceMap(ctx, name, plan.Maps[name]); err != nil {
			return fmt.Errorf("replacing map %s: %w", name, err)
		}
	}
	return nil
}

// Validate checks files with `haproxy -c` in a staging directory and installs nothing.
func (m *Master) Validate(ctx context.Context, files haproxy.Files) error {
	_, cleanup, err := m.stage(ctx, files)
	cleanup()
	return err
}

// stage writes files into a new staging directory of the configuration directory and validates
// them there. cleanup removes the directory; call it whatever the error.
func (m *Master) stage(ctx context.Context, files haproxy.Files) (dir string, cleanup func(), err error) {
	cleanup = func() {}
	if err := os.MkdirAll(m.opts.ConfigDir, dirMode); err != nil {
		return "", cleanup, fmt.Errorf("creating configuration directory: %w", err)
	}
	dir, err = os.MkdirTemp(m.opts.ConfigDir, ".staging-")
	if err != nil {
		return "", cleanup, fmt.Errorf("creating staging directory: %w", err)
	}
	cleanup = func() {
		// A leftover staging directory does not change what haproxy runs: worth a log line, not
		// a failed apply.
		if err := os.RemoveAll(dir); err != nil {
			m.log.Error(err, "removing the staging directory", "dir", dir)
		}
	}
	if err := m.writeFiles(dir, files); err != nil {
		return dir, cleanup, err
	}
	return dir, cleanup, m.validate(ctx, dir)
}

// removeStale deletes certificate files that the configuration no longer names.
func (m *Master) removeStale(files haproxy.Files) error {
	dir := filepath.Join(m.opts.ConfigDir, haproxy.CertDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("listing certificates: %w", err)
	}
	for _, e := range entries {
		if _, used := files[haproxy.CertDir+"/"+e.Name()]; !used {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("removing stale certificate: %w", err)
			}
		}
	}
	return nil
}

// replaceMap swaps a map's entries atomically: a new version is filled, then committed.
func (m *Master) replaceMap(ctx context.Context, name string, content []byte) error {
	out, err := m.runtime.Query(ctx, "prepare map "+name)
	if err != nil {
		return err
	}
	_, ver, ok := strings.Cut(strings.TrimSpace(out), "New version created:")
	ver = strings.TrimSpace(ver)
	if !ok || ver == "" {
		return fmt.Errorf("unexpected reply to prepare map: %q", out)
	}
	var cmds []string
	for _, line := range strings.Split(string(content), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			cmds = append(cmds, fmt.Sprintf("add map @%s %s %s %s", ver, name, runtimeapi.Escape(k), runtimeapi.Escape(v)))
		}
	}
	cmds = append(cmds, fmt.Sprintf("commit map @%s %s", ver, name))
	return m.runtime.Execute(ctx, cmds)
}

// The configuration holds private keys (certs/) and basic-auth hashes, and the runtime directory
// holds the admin sockets: only the controller's user, which haproxy runs as too, may read them.
const (
	dirMode  = 0o700
	fileMode = 0o600
)

// install validates files in a staging directory, then renames them into the configuration
// directory, haproxy.cfg last.
func (m *Master) install(ctx context.Context, files haproxy.Files) error {
	stage, cleanup, err := m.stage(ctx, files)
	defer cleanup()
	if err != nil {
		return err
	}
	for _, name := range installOrder(files) {
		dst := filepath.Join(m.opts.ConfigDir, name)
		if err := os.MkdirAll(filepath.Dir(dst), dirMode); err != nil {
			return fmt.Errorf("creating directory for %s: %w", name, err)
		}
		if err := os.Rename(filepath.Join(stage, name), dst); err != nil {
			return fmt.Errorf("installing %s: %w", name, err)
		}
	}
	return nil
}

// installOrder puts haproxy.cfg last so that a haproxy restarting meanwhile never reads a new
// configuration with old maps.
func installOrder(files haproxy.Files) []string {
	names := make([]string, 0, len(files))
	for name := range files {
		if name != haproxy.ConfigFile {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return append(names, haproxy.ConfigFile)
}

// writeFiles writes files under dir, each through a temporary file and a rename.
func (m *Master) writeFiles(dir string, files haproxy.Files) error {
	for _, name := range installOrder(files) {
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), dirMode); err != nil {
			return fmt.Errorf("creating directory for %s: %w", name, err)
		}
		tmp := dst + ".tmp"
		if err := os.WriteFile(tmp, files[name], fileMode); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		if err := os.Rename(tmp, dst); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return nil
}

// validate runs `haproxy -c` on a staged configuration. Only configurations rendered by this
// program are validated: they never contain lua-load or other directives that run code.
func (m *Master) validate(ctx context.Context, dir string) error {
	cmd := exec.CommandContext(ctx, m.opts.Program, "-c", "-C", dir, "-f", haproxy.ConfigFile)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("validating configuration: %w: %s", haproxy.ErrInvalid, strings.TrimSpace(string(out)))
	}
	if err != nil {
		return fmt.Errorf("validating configuration: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// proc is a haproxy master under supervision: a child of this process, or one adopted from a
// previous controller (see Adopt).
type proc struct {
	pid  int
	done chan struct{} // closed once the master has exited
	// signal sends a signal to the master itself (not its process group).
	signal func(syscall.Signal) error
}

func (m *Master) running() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur == nil {
		return false
	}
	select {
	case <-m.cur.done:
		return false
	default:
		return true
	}
}

// lost handles the exit of a master that nobody asked to stop: its orphaned workers are told to
// stop and the caller is told through Exited. A master that Stop was stopping, or that start gave
// up on, is no longer current and is not reported.
func (m *Master) lost(p *proc, err error) {
	m.mu.Lock()
	asked := m.cur != p
	m.mu.Unlock()
	if asked {
		return
	}
	m.log.Error(err, "haproxy exited unexpectedly; it will be restarted", "pid", p.pid)
	// Workers orphaned by a dead master would keep serving an old configuration.
	_ = syscall.Kill(-p.pid, syscall.SIGTERM)
	select {
	case m.exited <- struct{}{}:
	default:
	}
}

// start launches the haproxy master and waits until its first worker is up and answers on the
// stats socket (Env.StatsSocket), which every rendered configuration declares.
func (m *Master) start(ctx context.Context) error {
	if err := os.MkdirAll(m.opts.RuntimeDir, dirMode); err != nil {
		return fmt.Errorf("creating runtime directory: %w", err)
	}
	_ = os.Remove(m.cli.path)
	cmd := exec.Command(m.opts.Program,
		"-W", "-S", m.cli.path+",mode,600",
		"-C", m.opts.ConfigDir, "-f", haproxy.ConfigFile,
		"-p", m.PIDFile())
	cmd.Dir = m.opts.ConfigDir
	out := &lineLogger{log: m.log.WithName("haproxy")}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group: a signal to the controller's group does not reach haproxy, whose
	// shutdown the controller drives.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", m.opts.Program, err)
	}
	p := &proc{pid: cmd.Process.Pid, done: make(chan struct{}), signal: func(s syscall.Signal) error { return cmd.Process.Signal(s) }}
	done := p.done
	m.mu.Lock()
	m.cur = p
	m.mu.Unlock()
	go func() {
		err := cmd.Wait()
		close(p.done)
		m.lost(p, err)
	}()
	m.log.Info("haproxy started", "pid", cmd.Process.Pid)

	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		st, err := m.cli.showProc(wctx)
		if err == nil && len(st.workers) > 0 {
			// HAProxy 3.1 and later list a worker as soon as it is forked, before it has loaded
			// the configuration: it is up once it answers on its stats socket.
			if _, err = m.runtime.Query(wctx, "show info"); err == nil {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("haproxy exited during start-up: %s", cmd.ProcessState)
		case <-wctx.Done():
			// Kill what did not come up, so that the next attempt starts afresh.
			m.mu.Lock()
			m.cur = nil
			m.mu.Unlock()
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			return fmt.Errorf("waiting for haproxy's first worker: %w (last error: %v)", wctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// reload asks the master to reload and waits for the outcome. HAProxy 2.7 and later answer
// `reload` with it once the new worker is up or has failed; 3.1 and later refuse a reload while a
// worker is still loading, so the request is repeated. HAProxy 2.6 answers nothing: success is
// read from `show proc`, where the reload counter goes up and the failure counter stays at zero.
func (m *Master) reload(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	m.mu.Lock()
	cur := m.cur
	m.mu.Unlock()
	if cur == nil {
		return fmt.Errorf("haproxy is not running")
	}
	done := cur.done
	// Stop waiting as soon as haproxy dies: the next pass restarts it.
	go func() {
		select {
		case <-done:
			cancel()
		case <-ctx.Done():
		}
	}()
	before, err := m.cli.showProc(ctx)
	if err != nil {
		return fmt.Errorf("reading reload counter: %w", err)
	}
	reply, err := m.requestReload(ctx, done)
	if err != nil {
		return err
	}
	switch reply.outcome {
	case reloadSucceeded:
		return nil
	case reloadFailed:
		return fmt.Errorf("haproxy rejected the new configuration, the previous one keeps serving: %s", reply.reason())
	}
	for {
		st, err := m.cli.showProc(ctx)
		if err == nil && st.reloads > before.reloads {
			if st.failed > 0 {
				return fmt.Errorf("haproxy rejected the new configuration (see its log); the previous one keeps serving")
			}
			if len(st.workers) > 0 {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("haproxy exited during the reload")
		case <-ctx.Done():
			return fmt.Errorf("waiting for reload: %w (last error: %v)", ctx.Err(), err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// requestReload sends `reload` until the master takes it: HAProxy 3.1 and later refuse it while
// a worker is still loading its configuration.
func (m *Master) requestReload(ctx context.Context, done <-chan struct{}) (reloadReply, error) {
	for {
		reply, err := m.cli.reload(ctx)
		if err != nil {
			return reloadReply{}, fmt.Errorf("requesting reload: %w", err)
		}
		if reply.outcome != reloadBusy {
			return reply, nil
		}
		select {
		case <-done:
			return reloadReply{}, fmt.Errorf("haproxy exited during the reload")
		case <-ctx.Done():
			return reloadReply{}, fmt.Errorf("requesting reload: %w (haproxy kept answering %q)", ctx.Err(), busyMessage)
		case <-time.After(reloadBusyRetry):
		}
	}
}

// reloadBusyRetry is how long requestReload waits before asking again after a busy answer.
const reloadBusyRetry = 50 * time.Millisecond

// Stop shuts haproxy down: a soft stop (SIGUSR1) lets workers finish their requests, then it is
// killed after the stop timeout.
func (m *Master) Stop() {
	m.mu.Lock()
	p := m.cur
	m.cur = nil
	m.mu.Unlock()
	if p == nil {
		return
	}
	m.stop(p, m.opts.StopTimeout)
	m.log.Info("haproxy stopped")
}

// stop soft-stops a master and waits until it has exited, killing its process group after
// timeout.
func (m *Master) stop(p *proc, timeout time.Duration) {
	// HAProxy 2.6 loses a signal that reaches the master while it re-executes itself for a
	// reload, as happens when the controller stops during a reload: repeat the soft stop until
	// the master is gone. A repeated SIGUSR1 does nothing more to workers already stopping.
	_ = p.signal(syscall.SIGUSR1)
	resend := time.NewTicker(stopResendInterval)
	defer resend.Stop()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-resend.C:
			_ = p.signal(syscall.SIGUSR1)
		case <-deadline.C:
			m.log.Info("haproxy did not stop in time; killing it", "pid", p.pid)
			_ = syscall.Kill(-p.pid, syscall.SIGKILL)
			// An adopted master might not lead its process group.
			_ = p.signal(syscall.SIGKILL)
			<-p.done
			return
		}
	}
}

// stopResendInterval is how often Stop repeats the soft-stop signal; a master re-executing for
// a reload is deaf to signals for some tens of milliseconds.
const stopResendInterval = 250 * time.Millisecond

// lineLogger turns haproxy's output into log lines.
type lineLogger struct {
	log logr.Logger
	mu  sync.Mutex
	buf []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := strings.IndexByte(string(l.buf), '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimSpace(string(l.buf[:i])); line != "" {
			l.log.Info("output", "line", line)
		}
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}
