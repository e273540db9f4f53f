// Package haproxytest checks rendered configurations with the real haproxy, for the tests of
// the renderer and of the packages whose values it renders.
package haproxytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
)

// Check writes files to a temporary directory and runs the real `haproxy -c` on them. A missing
// haproxy fails the test rather than skipping it: run e2e/tools/install-deps.sh.
func Check(t testing.TB, files haproxy.Files) {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatalf("haproxy is not on PATH (%v): run e2e/tools/install-deps.sh", err)
	}
	dir := t.TempDir()
	for name, b := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(bin, "-c", "-q", "-C", dir, "-f", haproxy.ConfigFile).CombinedOutput()
	if err != nil {
		t.Errorf("haproxy -c: %v\n%s\nhaproxy.cfg:\n%s", err, out, files[haproxy.ConfigFile])
	}
}
