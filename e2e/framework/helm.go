package framework

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// helmTimeout bounds one helm command. Without a kubelet nothing is waited for, so installs take
// about a second.
const helmTimeout = 2 * time.Minute

// Helm runs the helm binary that e2e/tools/install-deps.sh builds into $PORTCULLIS_BIN (default
// <repo>/.cache/bin) against the test cluster. Its cache, configuration and data live in
// temporary directories of the test, so nothing outside the test is read or written.
type Helm struct {
	bin string
	env []string
}

// NewHelm finds helm, failing the test (never skipping it) when it is missing.
func NewHelm(t testing.TB) *Helm {
	t.Helper()
	bin, err := findHelm()
	if err != nil {
		t.Fatalf("%v\nrun e2e/tools/install-deps.sh", err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HELM_") && !strings.HasPrefix(kv, "KUBECONFIG=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	env = append(env,
		// client-go's discovery cache goes to $HOME/.kube/cache.
		"HOME="+t.TempDir(),
		"HELM_CACHE_HOME="+t.TempDir(),
		"HELM_CONFIG_HOME="+t.TempDir(),
		"HELM_DATA_HOME="+t.TempDir(),
	)
	return &Helm{bin: bin, env: env}
}

// findHelm returns the helm binary in $PORTCULLIS_BIN or <repo>/.cache/bin.
func findHelm() (string, error) {
	binDir := os.Getenv(envBin)
	if binDir == "" {
		root, err := repoRoot()
		if err != nil {
			return "", err
		}
		binDir = filepath.Join(root, ".cache", "bin")
	}
	path := filepath.Join(binDir, "helm")
	if err := checkExecutable(path); err != nil {
		return "", fmt.Errorf("finding helm: %w", err)
	}
	return path, nil
}

// ChartDir returns the directory of the chart deploy/helm/<name> of this repository.
func ChartDir(t testing.TB, name string) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "deploy", "helm", name)
	if _, err := os.Stat(filepath.Join(dir, "Chart.yaml")); err != nil {
		t.Fatalf("finding chart %s: %v", name, err)
	}
	return dir
}

// TryRun runs helm with args and returns its standard output; the error carries standard error.
func (h *Helm) TryRun(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, helmTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin, args...)
	cmd.Env = h.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// Run runs helm with args, failing the test on error, and returns its standard output.
func (h *Helm) Run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := h.TryRun(t.Context(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// valuesFile writes values (anything encoding/json accepts: JSON is YAML) to a file for -f.
func valuesFile(t testing.TB, values any) string {
	t.Helper()
	data, err := json.MarshalIndent(values, "", "  ")
	if err != nil {
		t.Fatalf("encoding helm values: %v", err)
	}
	path := filepath.Join(t.TempDir(), "values.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("writing helm values: %v", err)
	}
	return path
}

// Install installs chart as release into namespace (which must exist) on the test cluster, with
// values, and uninstalls it when the test ends, which also removes its cluster-scoped objects.
// It does not wait for pods: no kubelet runs them.
func (h *Helm) Install(t testing.TB, release, namespace, chart string, values any) string {
	t.Helper()
	return h.InstallFiles(t, release, namespace, chart, valuesFile(t, values))
}

// ValuesFile writes values (anything encoding/json accepts) to a file of the test for -f.
func ValuesFile(t testing.TB, values any) string {
	t.Helper()
	return valuesFile(t, values)
}

// InstallFiles installs like Install, with values files given to helm in order (-f, later files
// win).
func (h *Helm) InstallFiles(t testing.TB, release, namespace, chart string, files ...string) string {
	t.Helper()
	args := []string{"install", release, chart, "--kubeconfig", KubeconfigPath(), "--namespace", namespace}
	for _, f := range files {
		args = append(args, "-f", f)
	}
	out := h.Run(t, args...)
	t.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		if _, err := h.TryRun(ctx, "uninstall", release, "--kubeconfig", KubeconfigPath(), "--namespace", namespace); err != nil {
			t.Errorf("uninstalling %s: %v", release, err)
		}
	})
	return out
}

// Template renders chart as release in namespace with values, without a cluster, and returns
// the objects.
func (h *Helm) Template(t testing.TB, release, namespace, chart string, values any) []*unstructured.Unstructured {
	t.Helper()
	out := h.Run(t, "template", release, chart, "--namespace", namespace, "-f", valuesFile(t, values))
	objs, err := DecodeObjects(out)
	if err != nil {
		t.Fatalf("decoding the output of helm template: %v\n%s", err, out)
	}
	return objs
}

// TryTemplate renders like Template and returns helm's error instead of failing the test.
func (h *Helm) TryTemplate(t testing.TB, release, namespace, chart string, values any) error {
	t.Helper()
	_, err := h.TryRun(t.Context(), "template", release, chart, "--namespace", namespace, "-f", valuesFile(t, values))
	return err
}

// DecodeObjects splits a multi-document YAML stream into objects, skipping empty documents.
func DecodeObjects(manifests string) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifests), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

// FromUnstructured converts an object decoded by DecodeObjects into a typed one, such as
// *appsv1.Deployment.
func FromUnstructured(t testing.TB, u *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		t.Fatalf("converting %s %s: %v", u.GetKind(), u.GetName(), err)
	}
}

// ServiceAccountKubeconfig writes a kubeconfig for the test cluster that authenticates as
// ServiceAccount namespace/name with a fresh token, so that a controller started with it has
// exactly that account's RBAC permissions.
func ServiceAccountKubeconfig(t testing.TB, namespace, name string) string {
	t.Helper()
	expiry := int64(3600)
	tr, err := Kube().CoreV1().ServiceAccounts(namespace).CreateToken(t.Context(), name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}},
		metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("requesting a token for service account %s/%s: %v", namespace, name, err)
	}
	admin, err := clientcmd.LoadFromFile(KubeconfigPath())
	if err != nil {
		t.Fatalf("loading the admin kubeconfig: %v", err)
	}
	cluster := admin.Clusters[admin.Contexts[admin.CurrentContext].Cluster]
	config := clientcmdapi.NewConfig()
	config.Clusters["e2e"] = cluster
	config.AuthInfos["sa"] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	config.Contexts["sa"] = &clientcmdapi.Context{Cluster: "e2e", AuthInfo: "sa"}
	config.CurrentContext = "sa"
	path := filepath.Join(t.TempDir(), "kubeconfig-"+name)
	if err := clientcmd.WriteToFile(*config, path); err != nil {
		t.Fatalf("writing the service account kubeconfig: %v", err)
	}
	return path
}
