package tcpservices

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
)

// haproxyCheck runs the real haproxy -c on rendered files; a missing haproxy fails.
func haproxyCheck(t *testing.T, files haproxy.Files) {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatalf("haproxy is not on PATH (%v): run e2e/tools/install-deps.sh", err)
	}
	dir := t.TempDir()
	for name, b := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command(bin, "-c", "-q", "-C", dir, "-f", haproxy.ConfigFile).CombinedOutput(); err != nil {
		t.Errorf("haproxy -c: %v\n%s\n%s", err, out, files[haproxy.ConfigFile])
	}
}
