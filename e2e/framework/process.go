package framework

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// process is a child process whose combined output goes to a log file.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	done    chan struct{} // closed once the process has exited and been reaped
	err     error         // the result of cmd.Wait, valid once done is closed
}

// startProcess starts bin with args and env (nil means the current environment), writing its stdout
// and stderr to logPath. The child is killed if the thread that started it dies, so that a crashed
// test binary leaves nothing behind.
func startProcess(name, bin string, args, env []string, logPath string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating %s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close() // nothing was written to it
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, logFile: logFile, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		// The child wrote through its own descriptors, which are closed by now: closing ours
		// loses nothing.
		_ = logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitError describes how the process ended; call it only once exited reports true.
func (p *process) exitError() error {
	if p.err == nil {
		return fmt.Errorf("%s exited with status 0", p.name)
	}
	return fmt.Errorf("%s exited: %w", p.name, p.err)
}

// stop sends SIGTERM, waits up to grace for the process to exit, then sends SIGKILL and waits.
// It reports whether the process had to be killed.
func (p *process) stop(grace time.Duration) (killed bool) {
	if p.exited() {
		return false
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return false
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return true
}

// tailLog returns at most the last maxBytes of the process log, starting at a line boundary.
func (p *process) tailLog(maxBytes int) string {
	return tailFile(p.logPath, maxBytes)
}

// tailFile returns at most the last maxBytes of a file, starting at a line boundary.
func tailFile(path string, maxBytes int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "(no log file)"
		}
		return fmt.Sprintf("(reading %s: %v)", path, err)
	}
	if len(data) <= maxBytes {
		return string(data)
	}
	data = data[len(data)-maxBytes:]
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		data = data[i+1:]
	}
	return "[...]\n" + string(data)
}
