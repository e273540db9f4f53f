package framework

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Tool returns the path of a binary that e2e/tools/install-deps.sh builds into $PORTCULLIS_BIN
// (default <repo>/.cache/bin), such as "kwok" or "echo-basic-v1.6.3/echo-basic". A missing binary
// fails the test: run install-deps.sh with the binary's name.
func Tool(t testing.TB, name string) string {
	t.Helper()
	path := filepath.Join(cluster().tools.binDir, name)
	if err := checkExecutable(path); err != nil {
		t.Fatalf("finding %s: %v\nrun e2e/tools/install-deps.sh", name, err)
	}
	return path
}

// Daemon is a helper process that runs for the whole of a test next to the control plane, such as
// kube-controller-manager or kwok. Its output goes to a log file.
type Daemon struct {
	Name    string
	LogPath string
	proc    *process
}

// StartDaemon starts bin with args (in the test's environment) and stops it at cleanup: SIGTERM,
// then SIGKILL after 5 s. A daemon that exits before the cleanup fails the test, and its log tail
// is printed whenever the test fails.
func StartDaemon(t testing.TB, name, bin string, args ...string) *Daemon {
	t.Helper()
	d := &Daemon{Name: name, LogPath: filepath.Join(t.TempDir(), name+".log")}
	proc, err := startProcess(name, bin, args, nil, d.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	d.proc = proc
	t.Cleanup(func() {
		if proc.exited() {
			t.Errorf("%s exited before the end of the test: %v", name, proc.exitError())
		} else {
			proc.stop(5 * time.Second)
		}
		if t.Failed() {
			t.Logf("%s log (%s):\n%s", name, d.LogPath, tailFile(d.LogPath, 16<<10))
		}
	})
	t.Logf("%s: %s %v (log %s)", name, bin, args, d.LogPath)
	return d
}

// Err returns an error describing the daemon's exit if it has exited, nil while it runs.
func (d *Daemon) Err() error {
	if !d.proc.exited() {
		return nil
	}
	return fmt.Errorf("%w\n--- last lines of %s ---\n%s", d.proc.exitError(), d.LogPath, tailFile(d.LogPath, 4<<10))
}

// TempDir returns a directory that outlives the test when PORTCULLIS_E2E_KEEP=1, and is removed at
// cleanup otherwise; for state a developer wants to read after a failed run (logs, files).
func TempDir(t testing.TB, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "portcullis-"+name+"-")
	if err != nil {
		t.Fatalf("creating %s: %v", name, err)
	}
	t.Cleanup(func() {
		if keep() {
			t.Logf("kept %s", dir)
			return
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	return dir
}
