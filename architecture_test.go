// Architecture tests: the package boundaries of the engineering guide (GUIDE.md §2, with §3's
// package names and §4's contexts), checked on the module's import graph as `go list` reports it
// and on the source of the pure packages. A failure names the importer, the import (and the
// project packages it came through) and the rule.
//
// The rules live in archRules and sourceRules below; TestArchitectureRulesCatch shows on small
// made-up graphs and sources what each kind of rule catches, so that a green run means something.
package portcullis_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The pure packages decide and do nothing else (GUIDE §1, §2): pkg/haproxy itself but not its
// sub-packages process and runtimeapi, which do the I/O. The translators of other sources
// (pkg/tcpservices, pkg/gateway) and the shared resolution (pkg/resolve) are pure too (GUIDE §1).
var pure = own("pkg/ingress/...", "pkg/haproxy", "pkg/haproxy/model/...", "pkg/annotations/...",
	"pkg/tcpservices/...", "pkg/gateway/...", "pkg/resolve/...")

// The translators: Ingress, other sources, and the resolution they share.
var translators = own("pkg/ingress/...", "pkg/tcpservices/...", "pkg/gateway/...", "pkg/resolve/...")

// Small leaf packages that any package may use.
var leaves = own("pkg/limits/...", "pkg/diag/...")

var (
	ioPackages = ext("os/...", "syscall", "golang.org/x/sys/...", "net", "net/http/...", "net/rpc/...", "net/smtp", "io/ioutil", "plugin")
	loggers    = ext("log/...", "github.com/go-logr/logr/...", "k8s.io/klog/...")
	random     = ext("math/rand/...", "crypto/rand")
	clientGo   = ext("k8s.io/client-go/...")
)

// archRules are the import rules. Paths in own(...) are relative to the module; "x/..." is x and
// everything below it.
var archRules = []rule{
	{
		name:    "pkg/haproxy/model is a leaf: it imports only the standard library (and the leaves pkg/limits and pkg/diag)",
		applies: own("pkg/haproxy/model/..."),
		forbids: not(anyOf(stdlib, leaves, own("pkg/haproxy/model/..."))),
	},
	{
		name:     "pkg/limits and pkg/diag are leaves: they import only the standard library (and each other)",
		applies:  leaves,
		forbids:  not(anyOf(stdlib, leaves)),
		optional: true, // being added
	},
	{
		name:    "pkg/annotations imports no project package but pkg/haproxy/model, pkg/limits and pkg/diag",
		applies: own("pkg/annotations/..."),
		forbids: allOf(project, not(anyOf(leaves, own("pkg/annotations/...", "pkg/haproxy/model/...")))),
	},
	{
		name:    "pure packages import no Kubernetes client (client-go)",
		applies: pure,
		forbids: clientGo,
	},
	{
		name:    "pure packages do no I/O: no os, os/exec, syscall, net or net/http (net/netip is fine)",
		applies: pure,
		forbids: ioPackages,
	},
	{
		name:    "pure packages do not log, they return problems: no log, log/slog, logr or klog",
		applies: pure,
		forbids: loggers,
	},
	{
		name:    "pure packages are deterministic: no math/rand or crypto/rand",
		applies: pure,
		forbids: random,
	},
	{
		name:    "pkg/ingress (and pkg/tcpservices, pkg/gateway, pkg/resolve) only translate: they import none of pkg/k8s, pkg/reconcile, pkg/haproxy/process, pkg/haproxy/runtimeapi",
		applies: translators,
		forbids: own("pkg/k8s/...", "pkg/reconcile/...", "pkg/haproxy/process/...", "pkg/haproxy/runtimeapi/..."),
	},
	{
		name:    "pkg/haproxy renders the model, never Kubernetes objects: no k8s.io/api or k8s.io/apimachinery",
		applies: own("pkg/haproxy"),
		forbids: ext("k8s.io/api/...", "k8s.io/apimachinery/..."),
	},
	{
		name:    "the graph flows one way: pkg/haproxy imports none of the sources (pkg/ingress, pkg/tcpservices, pkg/gateway), pkg/k8s, pkg/reconcile, nor its sub-packages process and runtimeapi",
		applies: own("pkg/haproxy"),
		forbids: own("pkg/ingress/...", "pkg/tcpservices/...", "pkg/gateway/...", "pkg/k8s/...", "pkg/reconcile/...", "pkg/haproxy/process/...", "pkg/haproxy/runtimeapi/..."),
	},
	{
		name:    "pkg/k8s feeds the loop and decides no routing: it imports none of pkg/ingress, pkg/reconcile, pkg/haproxy/...",
		applies: own("pkg/k8s/..."),
		forbids: own("pkg/ingress/...", "pkg/reconcile/...", "pkg/haproxy/..."),
	},
	{
		name:    "e2e/ is test code: nothing under pkg/ or cmd/ imports it, tests included",
		applies: own("pkg/...", "cmd/..."),
		forbids: own("e2e/..."),
		tests:   true,
	},
	{
		name:    "cmd/ holds the binaries: nothing under pkg/ imports it, tests included",
		applies: own("pkg/..."),
		forbids: own("cmd/..."),
		tests:   true,
	},
	{
		name:    "e2e/ is black-box: it imports nothing under pkg/, tests included",
		applies: own("e2e/..."),
		forbids: own("pkg/..."),
		tests:   true,
	},
}

// sourceRules forbid calls that an import rule cannot see, in the non-test files of a package.
var sourceRules = []sourceRule{
	{
		name:    "pure packages read no clock: the caller passes the time in",
		applies: pure,
		forbids: map[string][]string{"time": {"Now", "Since", "Until", "Sleep", "After", "AfterFunc", "Tick", "NewTicker", "NewTimer"}},
	},
	{
		name:    "no context.Background or context.TODO below main: a context comes from the caller",
		applies: own("pkg/..."),
		forbids: map[string][]string{"context": {"Background", "TODO"}},
	},
}

// badNames are package names that say nothing about what the package provides (GUIDE §3).
var badNames = []string{"utils", "util", "common", "types", "helpers", "helper", "misc"}

func TestArchitecture(t *testing.T) {
	g, err := loadGraph(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range archRules {
		if !r.optional && !slices.ContainsFunc(g.own, func(p string) bool { return r.applies(g.ref(p)) }) {
			t.Errorf("rule %q applies to no package: update it to the package map", r.name)
		}
	}
	for _, v := range checkImports(g, archRules) {
		t.Error(v)
	}
	for _, r := range sourceRules {
		for _, p := range g.own {
			if !r.applies(g.ref(p)) {
				continue
			}
			info := g.pkgs[p]
			for _, f := range nonTestFiles(info) {
				src, err := os.ReadFile(filepath.Join(info.Dir, f))
				if err != nil {
					t.Fatal(err)
				}
				found, err := forbiddenCalls(filepath.Join(g.rel(p), f), src, r)
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range found {
					t.Error(v)
				}
			}
		}
	}
	std, err := stdNames()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range checkNames(g, std) {
		t.Error(v)
	}
}

// TestArchitectureRulesCatch runs the checks on made-up graphs and sources: each case says what
// must be reported.
func TestArchitectureRulesCatch(t *testing.T) {
	const mod = "example.com/m"
	pkg := func(path string, imports ...string) *pkgInfo {
		return &pkgInfo{ImportPath: path, Name: filepath.Base(path), Imports: imports}
	}
	graphOf := func(pkgs ...*pkgInfo) *graph {
		g := &graph{module: mod, pkgs: map[string]*pkgInfo{}}
		for _, p := range pkgs {
			if strings.HasPrefix(p.ImportPath, mod+"/") {
				g.own = append(g.own, p.ImportPath)
			} else {
				p.Standard = !strings.Contains(strings.Split(p.ImportPath, "/")[0], ".")
			}
			g.pkgs[p.ImportPath] = p
		}
		slices.Sort(g.own)
		return g
	}
	logr := "github.com/go-logr/logr"

	importCases := []struct {
		name  string
		graph *graph
		want  []string
	}{
		{
			name:  "a pure package importing os directly is reported",
			graph: graphOf(pkg(mod+"/pkg/ingress", "os", "net/netip"), pkg("os"), pkg("net/netip")),
			want:  []string{"pkg/ingress imports os: pure packages do no I/O"},
		},
		{
			name: "client-go reached through another project package is reported with the path",
			graph: graphOf(pkg(mod+"/pkg/ingress", mod+"/pkg/ingress/secrets"),
				pkg(mod+"/pkg/ingress/secrets", mod+"/pkg/store"),
				pkg(mod+"/pkg/store", "k8s.io/client-go/kubernetes"), pkg("k8s.io/client-go/kubernetes")),
			want: []string{
				"pkg/ingress/secrets imports k8s.io/client-go/kubernetes (through pkg/store): pure packages import no Kubernetes client",
			},
		},
		{
			name: "a logger reached only through a third-party module is not the package's doing",
			graph: graphOf(pkg(mod+"/pkg/ingress", "k8s.io/api/core/v1"), pkg("k8s.io/api/core/v1", "k8s.io/klog/v2"),
				pkg("k8s.io/klog/v2", logr), pkg(logr)),
		},
		{
			name: "the model importing a leaf is fine, importing anything else is not",
			graph: graphOf(pkg(mod+"/pkg/haproxy/model", mod+"/pkg/limits", "k8s.io/api/core/v1"),
				pkg(mod+"/pkg/limits", "strings"), pkg("strings"), pkg("k8s.io/api/core/v1")),
			want: []string{"pkg/haproxy/model imports k8s.io/api/core/v1: pkg/haproxy/model is a leaf"},
		},
		{
			name:  "pkg/k8s importing pkg/ingress is reported",
			graph: graphOf(pkg(mod+"/pkg/k8s", mod+"/pkg/ingress"), pkg(mod+"/pkg/ingress")),
			want:  []string{"pkg/k8s imports pkg/ingress: pkg/k8s feeds the loop and decides no routing"},
		},
		{
			name: "a test of a pure package may do I/O, but no test under pkg/ imports e2e/",
			graph: func() *graph {
				g := graphOf(pkg(mod+"/pkg/ingress"), pkg(mod+"/e2e/framework"), pkg("os"))
				g.pkgs[mod+"/pkg/ingress"].XTestImports = []string{"os", mod + "/e2e/framework"}
				return g
			}(),
			want: []string{"pkg/ingress (tests) imports e2e/framework: e2e/ is test code"},
		},
	}
	for _, tc := range importCases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, v := range checkImports(tc.graph, archRules) {
				got = append(got, v.Error())
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d violations, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			for i, want := range tc.want {
				if !strings.HasPrefix(got[i], want) {
					t.Errorf("violation %d:\n got: %s\nwant: %s...", i, got[i], want)
				}
			}
		})
	}

	clock := sourceRules[0]
	sourceCases := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "a call to time.Now is reported",
			src:  "package p\nimport \"time\"\nfunc f() time.Time { return time.Now() }\n",
			want: []string{"p.go:3: time.Now"},
		},
		{
			name: "a renamed import and a function value are both seen",
			src:  "package p\nimport clock \"time\"\nvar now = clock.Now\nfunc f() { clock.Sleep(1) }\n",
			want: []string{"p.go:3: time.Now", "p.go:4: time.Sleep"},
		},
		{
			name: "a dot import of time cannot be checked and is reported",
			src:  "package p\nimport . \"time\"\nvar d Duration\n",
			want: []string{"p.go:2: dot import of time"},
		},
		{
			name: "durations, parsing and formatting are not the clock",
			src:  "package p\nimport \"time\"\nvar d = time.Second\nfunc f(s string) (time.Duration, error) { return time.ParseDuration(s) }\n",
		},
	}
	for _, tc := range sourceCases {
		t.Run(tc.name, func(t *testing.T) {
			found, err := forbiddenCalls("p.go", []byte(tc.src), clock)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range found {
				got = append(got, v.Error())
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d violations, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			for i, want := range tc.want {
				if !strings.HasPrefix(got[i], want) {
					t.Errorf("violation %d:\n got: %s\nwant: %s...", i, got[i], want)
				}
			}
		})
	}

	t.Run("a package named utils or after a standard-library package is reported", func(t *testing.T) {
		g := graphOf(pkg(mod+"/pkg/utils"), pkg(mod+"/pkg/http"), pkg(mod+"/pkg/ingress"))
		var got []string
		for _, v := range checkNames(g, map[string]bool{"http": true}) {
			got = append(got, v.Error())
		}
		want := []string{
			`pkg/http: package name "http" is a standard-library package name`,
			`pkg/utils: package name "utils" says nothing about what it provides`,
		}
		if !slices.Equal(got, want) {
			t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// pkgInfo is what the checks use of `go list -json`.
type pkgInfo struct {
	ImportPath     string
	Name           string
	Dir            string
	Standard       bool
	GoFiles        []string
	CgoFiles       []string
	IgnoredGoFiles []string
	Imports        []string
	TestImports    []string
	XTestImports   []string
	Module         *struct {
		Path string
		Main bool
	}
}

// graph is the build's import graph.
type graph struct {
	module string              // the main module's path
	pkgs   map[string]*pkgInfo // every package of the build, by import path
	own    []string            // the main module's packages, sorted
}

// loadGraph lists the packages of the module in dir and all their dependencies.
func loadGraph(dir string) (*graph, error) {
	cmd := exec.Command("go", "list", "-deps", "-json", "./...")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing packages: %w: %s", err, stderr.Bytes())
	}
	g := &graph{pkgs: map[string]*pkgInfo{}}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkgInfo
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("decoding go list: %w", err)
		}
		g.pkgs[p.ImportPath] = &p
		if p.Module != nil && p.Module.Main {
			g.module = p.Module.Path
			g.own = append(g.own, p.ImportPath)
		}
	}
	if g.module == "" {
		return nil, errors.New("go list found no package of the main module")
	}
	slices.Sort(g.own)
	return g, nil
}

// ref is an import as the rules see it.
type ref struct {
	path    string // relative to the module for its own packages ("pkg/ingress"), else the import path
	project bool   // one of the module's packages
	std     bool   // a standard-library package
}

func (g *graph) rel(p string) string {
	if p == g.module {
		return "."
	}
	return strings.TrimPrefix(p, g.module+"/")
}

func (g *graph) isOwn(p string) bool { return p == g.module || strings.HasPrefix(p, g.module+"/") }

func (g *graph) ref(p string) ref {
	if g.isOwn(p) {
		return ref{path: g.rel(p), project: true}
	}
	std := false
	if info, ok := g.pkgs[p]; ok {
		std = info.Standard
	} else {
		// Imports of tests are not in the -deps graph: the go command reserves paths whose first
		// element has no dot for the standard library.
		std = !strings.Contains(strings.Split(p, "/")[0], ".")
	}
	return ref{path: p, std: std}
}

// set is a set of packages.
type set func(ref) bool

// matches reports whether path is pattern, or below it when pattern ends in "/...".
func matches(pattern, path string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}

// own is the module's packages matching one of the patterns (relative to the module).
func own(patterns ...string) set {
	return func(r ref) bool {
		return r.project && slices.ContainsFunc(patterns, func(p string) bool { return matches(p, r.path) })
	}
}

// ext is the standard-library or third-party packages matching one of the patterns.
func ext(patterns ...string) set {
	return func(r ref) bool {
		return !r.project && slices.ContainsFunc(patterns, func(p string) bool { return matches(p, r.path) })
	}
}

func stdlib(r ref) bool  { return r.std }
func project(r ref) bool { return r.project }

func not(s set) set { return func(r ref) bool { return !s(r) } }

func anyOf(sets ...set) set {
	return func(r ref) bool { return slices.ContainsFunc(sets, func(s set) bool { return s(r) }) }
}

func allOf(sets ...set) set {
	return func(r ref) bool {
		return !slices.ContainsFunc(sets, func(s set) bool { return !s(r) })
	}
}

// rule forbids the packages it applies to some imports.
type rule struct {
	name     string // the rule, as printed on failure
	applies  set    // the importing packages (of the module)
	forbids  set    // the imports they must not have
	tests    bool   // also the direct imports of their tests
	optional bool   // the packages it applies to may not exist yet
}

// violation is one import that breaks a rule.
type violation struct {
	importer string   // relative to the module; "(tests)" when the import is a test's
	imp      string   // the forbidden import
	through  []string // the project packages between importer and the forbidden import
	rule     string
}

func (v violation) Error() string {
	through := ""
	if len(v.through) > 0 {
		through = " (through " + strings.Join(v.through, " -> ") + ")"
	}
	return fmt.Sprintf("%s imports %s%s: %s", v.importer, v.imp, through, v.rule)
}

// checkImports applies the rules to the module's packages. A package breaks a rule by importing a
// forbidden package itself, or through other project packages to which the rule does not apply
// (those are checked on their own). Imports made inside third-party modules and the standard
// library are not the project's: fmt imports os, k8s.io/api imports klog.
func checkImports(g *graph, rules []rule) []violation {
	var out []violation
	for _, r := range rules {
		for _, p := range g.own {
			if !r.applies(g.ref(p)) {
				continue
			}
			out = append(out, reachable(g, p, r)...)
			if r.tests {
				info := g.pkgs[p]
				for _, imp := range slices.Concat(info.TestImports, info.XTestImports) {
					if imp != p && r.forbids(g.ref(imp)) {
						out = append(out, violation{importer: g.rel(p) + " (tests)", imp: g.rel(imp), rule: r.name})
					}
				}
			}
		}
	}
	return out
}

// reachable walks from p through the project packages that r does not apply to, breadth first,
// and reports each forbidden import once, by its shortest path.
func reachable(g *graph, p string, r rule) []violation {
	var out []violation
	parent := map[string]string{p: ""}
	reported := map[string]bool{}
	queue := []string{p}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		info, ok := g.pkgs[cur]
		if !ok {
			continue
		}
		for _, imp := range info.Imports {
			ir := g.ref(imp)
			if r.forbids(ir) && !reported[imp] {
				reported[imp] = true
				var through []string
				for c := cur; c != p; c = parent[c] {
					through = append([]string{g.rel(c)}, through...)
				}
				out = append(out, violation{importer: g.rel(p), imp: g.rel(imp), through: through, rule: r.name})
				continue
			}
			if _, seen := parent[imp]; seen || !ir.project || r.applies(ir) {
				continue
			}
			parent[imp] = cur
			queue = append(queue, imp)
		}
	}
	return out
}

// sourceRule forbids calls of package-level functions, by import path and name.
type sourceRule struct {
	name    string
	applies set
	forbids map[string][]string
}

type callViolation struct {
	pos  string // file:line
	what string // "time.Now"
	rule string
}

func (v callViolation) Error() string { return fmt.Sprintf("%s: %s: %s", v.pos, v.what, v.rule) }

// forbiddenCalls reports the uses of the functions r forbids in one file, whether called or taken
// as a value, under whatever name the file imports their package.
func forbiddenCalls(name string, src []byte, r sourceRule) ([]callViolation, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	local := map[string]string{} // the name in this file -> the import path
	var out []callViolation
	for _, spec := range f.Imports {
		path, _ := strconv.Unquote(spec.Path.Value)
		if _, ok := r.forbids[path]; !ok {
			continue
		}
		n := filepath.Base(path)
		if spec.Name != nil {
			n = spec.Name.Name
		}
		if n == "." {
			out = append(out, callViolation{pos: position(fset, spec.Pos()), what: "dot import of " + path, rule: r.name})
			continue
		}
		local[n] = path
	}
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		x, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		if path, ok := local[x.Name]; ok && slices.Contains(r.forbids[path], sel.Sel.Name) {
			out = append(out, callViolation{pos: position(fset, sel.Pos()), what: path + "." + sel.Sel.Name, rule: r.name})
		}
		return true
	})
	return out, nil
}

func position(fset *token.FileSet, p token.Pos) string {
	pos := fset.Position(p)
	return fmt.Sprintf("%s:%d", pos.Filename, pos.Line)
}

// nonTestFiles are the package's Go files outside tests, on every platform.
func nonTestFiles(p *pkgInfo) []string {
	var files []string
	for _, f := range slices.Concat(p.GoFiles, p.CgoFiles, p.IgnoredGoFiles) {
		if strings.HasSuffix(f, ".go") && !strings.HasSuffix(f, "_test.go") {
			files = append(files, f)
		}
	}
	return files
}

type nameViolation struct{ pkg, msg string }

func (v nameViolation) Error() string { return v.pkg + ": " + v.msg }

// checkNames reports packages named for nothing in particular or after a standard-library package
// (GUIDE §3).
func checkNames(g *graph, std map[string]bool) []nameViolation {
	var out []nameViolation
	for _, p := range g.own {
		name := g.pkgs[p].Name
		if name == "" || name == "main" || strings.HasSuffix(name, "_test") {
			continue
		}
		switch {
		case slices.Contains(badNames, name):
			out = append(out, nameViolation{g.rel(p), fmt.Sprintf("package name %q says nothing about what it provides", name)})
		case std[name]:
			out = append(out, nameViolation{g.rel(p), fmt.Sprintf("package name %q is a standard-library package name", name)})
		}
	}
	return out
}

// stdNames are the names of the standard library's public packages.
func stdNames() (map[string]bool, error) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{.Name}}", "std").Output()
	if err != nil {
		return nil, fmt.Errorf("listing the standard library: %w", err)
	}
	names := map[string]bool{}
	for line := range strings.Lines(string(out)) {
		path, name, _ := strings.Cut(strings.TrimSpace(line), " ")
		if !matches("internal/...", path) && !strings.Contains(path, "/internal") && !matches("vendor/...", path) {
			names[name] = true
		}
	}
	return names, nil
}
