package ingress_test

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/haproxytest"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/ingress"
)

var update = flag.Bool("update", false, "rewrite the expected files of the golden tests")

// goldenDir holds one directory per case: input.yaml (and optionally options.yaml) as input, and
// the expected outputs next to them.
const goldenDir = "testdata/golden"

// Expected outputs besides the rendered files.
const (
	problemsFile = "problems.txt"
	ownedFile    = "owned.txt"
)

// Inputs of a case.
const (
	inputFile   = "input.yaml"
	optionsFile = "options.yaml"
)

// goldenEnv is the environment every golden case renders for.
var goldenEnv = haproxy.Env{RuntimeDir: "/run/portcullis"}

// TestGolden translates and renders every case under testdata/golden and compares the result
// with the expected files; `go test ./pkg/ingress -run TestGolden -update` rewrites them. Every
// expected haproxy.cfg, with its maps, is also checked by the real `haproxy -c`.
func TestGolden(t *testing.T) {
	// Every expected haproxy.cfg is checked with the real haproxy.
	haproxyBin := haproxytest.Binary(t)
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatalf("reading golden cases: %v", err)
	}
	cases := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		cases++
		dir := filepath.Join(goldenDir, e.Name())
		// Sequential: haproxy.Render is not safe for concurrent use yet (config-parser v5 writes
		// a package variable while parsing; see TestRenderIsSafeForConcurrentUse).
		t.Run(e.Name(), func(t *testing.T) {
			runGoldenCase(t, dir, haproxyBin)
		})
	}
	if cases == 0 {
		t.Fatalf("no golden cases under %s", goldenDir)
	}
}

func runGoldenCase(t *testing.T, dir, haproxyBin string) {
	state := readState(t, filepath.Join(dir, inputFile))
	opts := readOptions(t, filepath.Join(dir, optionsFile))

	res := ingress.Translate(state, opts)
	// What translation emits always passes the renderer's checks: the parsers and the renderer
	// share their limits, so the backstop finds nothing to leave out.
	if _, rej := haproxy.Prune(res.Config); len(rej) > 0 {
		t.Errorf("Prune leaves out parts of the translation: %v", rej)
	}
	files, err := haproxy.Render(res.Config, goldenEnv)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}

	got := map[string][]byte{
		problemsFile: formatProblems(res.Problems),
		ownedFile:    formatOwned(res.Owned),
	}
	for name, b := range files {
		if _, clash := got[name]; clash || name == inputFile || name == optionsFile {
			t.Fatalf("rendered file %q clashes with a golden file name", name)
		}
		if strings.HasPrefix(name, haproxy.ErrorPageDir+"/") {
			// The same pages in every case: pkg/haproxy's tests check them (and haproxy.cfg
			// says which are used).
			continue
		}
		got[name] = b
	}

	if *update {
		for name, b := range got {
			path := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Every file in the case directory is either an input or an expected output, so that a
	// file the renderer stopped producing does not linger as an unchecked golden file.
	onDisk := caseFiles(t, dir)
	for _, name := range onDisk {
		if name == inputFile || name == optionsFile {
			continue
		}
		if _, ok := got[name]; !ok {
			if *update {
				if err := os.Remove(filepath.Join(dir, filepath.FromSlash(name))); err != nil {
					t.Fatal(err)
				}
				continue
			}
			t.Errorf("%s: stale golden file, not produced any more (run with -update)", name)
		}
	}

	names := make([]string, 0, len(got))
	for name := range got {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		want, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("%s: %v (run with -update to create it)", name, err)
			continue
		}
		if !bytes.Equal(got[name], want) {
			t.Errorf("%s differs from the golden file (run with -update to accept; - want, + got):\n%s",
				name, lineDiff(string(want), string(got[name])))
		}
	}

	checkWithHAProxy(t, dir, haproxyBin, files)
}

// checkWithHAProxy runs `haproxy -c` on the expected haproxy.cfg and maps of a case, as stored
// in the case directory. Only configurations produced by the renderer reach here.
func checkWithHAProxy(t *testing.T, dir, haproxyBin string, rendered haproxy.Files) {
	t.Helper()
	tmp := t.TempDir()
	for name, content := range rendered {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if strings.HasPrefix(name, haproxy.ErrorPageDir+"/") {
			b, err = content, nil // the same in every case: not kept with each
		}
		if err != nil {
			t.Errorf("haproxy -c: %v", err)
			return
		}
		path := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(haproxyBin, "-c", "-q", "-C", tmp, "-f", haproxy.ConfigFile)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("haproxy -c rejects the golden %s: %v\n%s", haproxy.ConfigFile, err, out)
	}
}

func caseFiles(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// readState decodes a multi-document YAML file of Kubernetes objects, documents separated by
// lines that are exactly "---".
func readState(t *testing.T, path string) ingress.State {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var state ingress.State
	decoder := scheme.Codecs.UniversalDeserializer()
	for i, doc := range splitYAML(string(raw)) {
		obj, gvk, err := decoder.Decode([]byte(doc), nil, nil)
		if err != nil {
			t.Fatalf("%s: document %d: %v", path, i+1, err)
		}
		switch o := obj.(type) {
		case *networkingv1.Ingress:
			state.Ingresses = append(state.Ingresses, o)
		case *networkingv1.IngressClass:
			state.IngressClasses = append(state.IngressClasses, o)
		case *corev1.Service:
			state.Services = append(state.Services, o)
		case *discoveryv1.EndpointSlice:
			state.EndpointSlices = append(state.EndpointSlices, o)
		case *corev1.Secret:
			// stringData keeps PEM and htpasswd inputs readable; the API server merges it into
			// data, which is all that translation reads.
			for k, v := range o.StringData {
				if o.Data == nil {
					o.Data = map[string][]byte{}
				}
				o.Data[k] = []byte(v)
			}
			o.StringData = nil
			state.Secrets = append(state.Secrets, o)
		case *corev1.ConfigMap:
			if state.ConfigMap != nil {
				t.Fatalf("%s: document %d: a second ConfigMap; the controller reads one", path, i+1)
			}
			state.ConfigMap = o
		default:
			t.Fatalf("%s: document %d: unsupported kind %s", path, i+1, gvk)
		}
	}
	return state
}

// splitYAML splits on lines equal to "---" and drops documents that hold only blank lines and
// comments.
func splitYAML(s string) []string {
	var docs []string
	var cur strings.Builder
	flush := func() {
		doc := cur.String()
		cur.Reset()
		for _, line := range strings.Split(doc, "\n") {
			if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
				docs = append(docs, doc)
				return
			}
		}
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimRight(line, "\r") == "---" {
			flush()
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	flush()
	return docs
}

// defaultOptions are the options of every case; options.yaml may override some of them.
func defaultOptions() ingress.Options {
	return ingress.Options{
		ControllerName: "portcullis.io/ingress-controller",
		ClassName:      "haproxy",
		HTTP:           model.Bind{Address: netip.MustParseAddr("0.0.0.0"), Port: 8080},
	}
}

// fallbackFile is the fallback certificate (chain and key) of every case with HTTPS: the
// controller generates a self-signed one at start, the golden cases use this fixed one.
const fallbackFile = "fallback.pem"

// readOptions reads the optional options.yaml of a case: flat "key: value" lines, "#" comments.
// Keys: controllerName, className, watchWithoutClass (true|false), defaultBackendService
// (namespace/name), httpsPort (turns HTTPS on at 0.0.0.0:<port>, with the fallback certificate
// of fallbackFile), defaultCertificate (namespace/name of a TLS Secret).
func readOptions(t *testing.T, path string) ingress.Options {
	t.Helper()
	opts := defaultOptions()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return opts
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("%s:%d: want \"key: value\", got %q", path, n, line)
		}
		key, value = strings.TrimSpace(key), strings.Trim(strings.TrimSpace(value), `"`)
		switch key {
		case "controllerName":
			opts.ControllerName = value
		case "className":
			opts.ClassName = value
		case "watchWithoutClass":
			b, err := strconv.ParseBool(value)
			if err != nil {
				t.Fatalf("%s:%d: %s: %v", path, n, key, err)
			}
			opts.WatchWithoutClass = b
		case "defaultBackendService":
			ns, name, ok := strings.Cut(value, "/")
			if !ok || ns == "" || name == "" {
				t.Fatalf("%s:%d: %s: want namespace/name, got %q", path, n, key, value)
			}
			opts.DefaultBackendService = types.NamespacedName{Namespace: ns, Name: name}
		case "httpsPort":
			port, err := strconv.ParseUint(value, 10, 16)
			if err != nil || port == 0 {
				t.Fatalf("%s:%d: %s: want a port, got %q", path, n, key, value)
			}
			fallback, err := os.ReadFile(filepath.Join(goldenDir, fallbackFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := ingress.ParseFallbackPEM(fallback); err != nil {
				t.Fatalf("%s: %v", fallbackFile, err)
			}
			opts.TLS.HTTPS = model.Bind{Address: netip.MustParseAddr("0.0.0.0"), Port: uint16(port)}
			opts.TLS.FallbackPEM = fallback
		case "spareBackends":
			count, err := strconv.Atoi(value)
			if err != nil {
				t.Fatalf("%s:%d: %s: %v", path, n, key, err)
			}
			opts.SpareBackends = count
		case "defaultCertificate":
			ns, name, ok := strings.Cut(value, "/")
			if !ok || ns == "" || name == "" {
				t.Fatalf("%s:%d: %s: want namespace/name, got %q", path, n, key, value)
			}
			opts.TLS.DefaultCertificate = types.NamespacedName{Namespace: ns, Name: name}
		default:
			t.Fatalf("%s:%d: unknown option %q", path, n, key)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return opts
}

// formatProblems writes one line per problem, in the order Translate reports them:
// "<Kind> <ns>/<name> <Severity> <Reason>: <Message>".
func formatProblems(problems []ingress.Problem) []byte {
	var b bytes.Buffer
	for _, p := range problems {
		fmt.Fprintf(&b, "%s %s/%s %s %s: %s\n", p.Object.Kind, p.Object.Namespace, p.Object.Name, p.Severity, p.Reason, p.Message)
	}
	return b.Bytes()
}

// formatOwned writes one "namespace/name" line per owned Ingress.
func formatOwned(owned []types.NamespacedName) []byte {
	var b bytes.Buffer
	for _, o := range owned {
		fmt.Fprintf(&b, "%s/%s\n", o.Namespace, o.Name)
	}
	return b.Bytes()
}

// lineDiff is a small longest-common-subsequence line diff: "-" lines are only in want, "+"
// lines only in got, " " lines in both.
func lineDiff(want, got string) string {
	a, b := strings.SplitAfter(want, "\n"), strings.SplitAfter(got, "\n")
	// lcs[i][j] is the length of the longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	line := func(prefix, s string) {
		if s == "" {
			return
		}
		out.WriteString(prefix)
		out.WriteString(strings.TrimSuffix(s, "\n"))
		if !strings.HasSuffix(s, "\n") {
			out.WriteString(" (no newline at end)")
		}
		out.WriteByte('\n')
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			line(" ", a[i])
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			line("-", a[i])
			i++
		default:
			line("+", b[j])
			j++
		}
	}
	for ; i < len(a); i++ {
		line("-", a[i])
	}
	for ; j < len(b); j++ {
		line("+", b[j])
	}
	return out.String()
}
