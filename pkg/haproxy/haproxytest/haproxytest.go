// Package haproxytest checks rendered configurations with the real haproxy, for the tests of
// the renderer and of the packages whose values it renders, and tells every test which haproxy
// binary to run.
package haproxytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
)

// EnvBinary names the haproxy binary the tests run, so that one test run covers one HAProxy
// version: `make test` sets it to Debian's 2.6 and to the HAProxy 3.0 that
// e2e/tools/install-deps.sh builds. Unset, tests run the haproxy on PATH.
const EnvBinary = "PORTCULLIS_HAPROXY"

// Binary returns the haproxy binary to test against: $PORTCULLIS_HAPROXY if set, otherwise
// haproxy on PATH. A missing or unusable binary fails the test rather than skipping it.
func Binary(t testing.TB) string {
	t.Helper()
	name := "haproxy"
	if bin := os.Getenv(EnvBinary); bin != "" {
		name = bin
	}
	// A path is checked for being an executable file; a bare name is looked up on PATH.
	bin, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("no haproxy to test (%v): run e2e/tools/install-deps.sh, or set %s", err, EnvBinary)
	}
	return bin
}

// Check writes files to a temporary directory and runs the real `haproxy -c` on them. A missing
// haproxy fails the test rather than skipping it: run e2e/tools/install-deps.sh.
func Check(t testing.TB, files haproxy.Files) {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	WriteFiles(t, dir, files)
	out, err := exec.Command(bin, "-c", "-q", "-C", dir, "-f", haproxy.ConfigFile).CombinedOutput()
	if err != nil {
		t.Errorf("haproxy -c: %v\n%s\nhaproxy.cfg:\n%s", err, out, files[haproxy.ConfigFile])
	}
}

// WriteFiles writes rendered files under dir, as the controller lays them out.
func WriteFiles(t testing.TB, dir string, files haproxy.Files) {
	t.Helper()
	for name, b := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
