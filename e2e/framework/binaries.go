package framework

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// tools are the executables an e2e run needs.
type tools struct {
	binDir     string // $PORTCULLIS_BIN: where install-deps.sh puts what it builds
	etcd       string
	apiserver  string
	haproxy    string
	controller string // empty until ./cmd/controller holds Go files
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("finding the repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// findTools locates etcd and kube-apiserver in $PORTCULLIS_BIN (default <root>/.cache/bin), and
// haproxy at $PORTCULLIS_HAPROXY or else on PATH. It reports every missing binary at once.
func findTools(root string) (tools, error) {
	binDir := os.Getenv(envBin)
	if binDir == "" {
		binDir = filepath.Join(root, ".cache", "bin")
	}
	t := tools{binDir: binDir}
	var errs []error
	for _, b := range []struct {
		name string
		path *string
	}{{"etcd", &t.etcd}, {"kube-apiserver", &t.apiserver}} {
		path := filepath.Join(binDir, b.name)
		if err := checkExecutable(path); err != nil {
			errs = append(errs, fmt.Errorf("finding %s: %w", b.name, err))
			continue
		}
		*b.path = path
	}
	haproxy, err := haproxyBinary()
	if err != nil {
		errs = append(errs, err)
	}
	t.haproxy = haproxy
	return t, errors.Join(errs...)
}

// haproxyBinary returns $PORTCULLIS_HAPROXY if set (the same variable the unit tests read, so
// that one run tests one HAProxy version), otherwise haproxy on PATH or in an sbin directory.
func haproxyBinary() (string, error) {
	if bin := os.Getenv(envHAProxy); bin != "" {
		if err := checkExecutable(bin); err != nil {
			return "", fmt.Errorf("checking %s: %w", envHAProxy, err)
		}
		return bin, nil
	}
	return lookPathSbin("haproxy")
}

// haproxyVersion returns the first line of `haproxy -v`, for the run's log.
func haproxyVersion(bin string) string {
	out, err := exec.Command(bin, "-v").Output()
	if err != nil {
		return fmt.Sprintf("(haproxy -v: %v)", err)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return first
}

// checkExecutable returns an error unless path is an executable regular file.
func checkExecutable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}

// lookPathSbin finds an executable on PATH or in the sbin directories, which a non-root PATH
// often lacks.
func lookPathSbin(name string) (string, error) {
	if path, err := exec.LookPath(name); err == nil {
		return path, nil
	}
	for _, dir := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin"} {
		path := filepath.Join(dir, name)
		if checkExecutable(path) == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("finding %s: not on PATH nor in an sbin directory", name)
}

// controllerBinary returns the controller binary to test: $PORTCULLIS_CONTROLLER_BIN if set,
// otherwise ./cmd/controller built into a temporary directory (with -race when the tests run with
// it), or "" while that package holds no Go files yet. The returned cleanup removes what it built.
func controllerBinary(root string) (bin string, cleanup func(), err error) {
	noop := func() {}
	if bin := os.Getenv(envControllerBin); bin != "" {
		if err := checkExecutable(bin); err != nil {
			return "", noop, fmt.Errorf("checking %s: %w", envControllerBin, err)
		}
		return bin, noop, nil
	}
	sources, _ := filepath.Glob(filepath.Join(root, "cmd", "controller", "*.go"))
	if len(sources) == 0 {
		fatalf("./cmd/controller holds no Go files yet: tests that start the controller will fail")
		return "", noop, nil
	}
	dir, err := os.MkdirTemp("", "portcullis-e2e-bin-")
	if err != nil {
		return "", noop, fmt.Errorf("building the controller: %w", err)
	}
	cleanup = func() {
		if keep() {
			return
		}
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintf(os.Stderr, "e2e framework: removing the controller binary: %v\n", err)
		}
	}
	bin = filepath.Join(dir, "portcullis-controller")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "./cmd/controller")
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		cleanup()
		return "", noop, fmt.Errorf("building the controller: go %v: %w\n%s", args, err, out)
	}
	fmt.Fprintf(os.Stderr, "e2e framework: built the controller in %s\n", time.Since(start).Round(time.Millisecond))
	return bin, cleanup, nil
}
