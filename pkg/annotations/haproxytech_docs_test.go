package annotations

import (
	"fmt"
	"go/ast"
	goparser "go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// e2eDir holds the e2e tests whose sources say which keys they set.
const e2eDir = "../../e2e"

// peerPage is documentation/haproxytech.md: the haproxytech keys and how Portcullis reads them.
func peerPage(t *testing.T) string {
	uses := scanE2E(t, e2eDir)
	var b strings.Builder
	b.WriteString("# haproxytech annotations and ConfigMap keys\n\n" + generated + "\n")
	b.WriteString("Portcullis reads the annotations of haproxytech/kubernetes-ingress on Ingresses and Services under " +
		"each of the prefixes haproxytech reads, `" + strings.Join(PeerPrefixes, "`, `") + "`, and its ConfigMap " +
		"keys, which carry no prefix, in the controller's ConfigMap. Each key of the table is read as the Portcullis " +
		"setting of the *Equivalent* column, whose values that setting's own parser checks " +
		"([annotations.md](annotations.md), [configmap.md](configmap.md)), on the objects that column names:\n\n" +
		"- **supported**: read as that setting, with haproxytech's values and meaning;\n" +
		"- **partial**: read as that setting, with the difference stated; a value outside Portcullis's syntax is " +
		"refused with an Event, and the next setting in precedence order applies;\n" +
		"- **refused**: not read, on purpose: a configuration snippet, or a key whose Portcullis setting of the same " +
		"name takes other values; the annotation gets a Warning Event naming the Portcullis key to use, and in the " +
		"ConfigMap, where the names meet, haproxytech's value fails the Portcullis parser and gets an Event;\n" +
		"- **not supported**: Portcullis has no such setting; an object carrying the key gets a Warning Event.\n\n" +
		"A key set on an object that the *Equivalent* column does not name (a ConfigMap-only key on an Ingress, say) " +
		"is refused with an Event too. When several keys set one setting on one object, `" + Prefix + "` wins, then `" +
		strings.Join(PeerPrefixes, "`, then `") + "`, then ingress-nginx's keys ([ingress-nginx.md](ingress-nginx.md)); " +
		"a key that loses with a different value gets a Warning Event. Durations keep haproxytech's syntax (`5s`, " +
		"`1m`), except that a bare number is refused as ambiguous.\n\n")
	b.WriteString("The *e2e* column is found by reading the sources of the e2e tests (`e2e/*_test.go`): a key is " +
		"**tested** when a test writes it as an annotation under one of haproxytech's prefixes (a string literal, or a " +
		"string constant plus a literal), or, for a key read under its Portcullis name, as a key of a " +
		"`map[string]string` literal, the form the tests give ConfigMap data in. The column names those tests: it " +
		"says that a test sets the key on a real object and checks an outcome (served requests, the rendered " +
		"configuration, an Event, or the ConfigMap the Helm chart makes of its values), not that it proves every value. An **untested** key is covered by unit tests " +
		"only; when the Portcullis key of its setting is tested, the column names those tests.\n\n")
	b.WriteString("| Key | Status | Equivalent | Difference | e2e |\n|---|---|---|---|---|\n")
	for _, k := range PeerKeys() {
		var by []string
		for _, p := range PeerPrefixes {
			by = append(by, uses[p+k.Name]...)
		}
		if k.Setting == k.Name && k.Status != CompatRefused {
			by = append(by, uses[k.Name]...)
		}
		tested := "untested"
		if by = sortedSet(by); len(by) > 0 {
			tested = "tested: " + strings.Join(by, ", ")
		} else if k.Setting != "" && k.Status != CompatRefused {
			if own := sortedSet(append(slices.Clone(uses[Prefix+k.Setting]), uses[k.Setting]...)); len(own) > 0 {
				tested = "untested; its setting is: " + strings.Join(own, ", ")
			}
		}
		diff := k.Difference
		if diff == "" {
			diff = "none"
			if k.Status == CompatNotSupported {
				diff = "—"
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", code(k.Name), k.Status, k.Equivalent,
			strings.ReplaceAll(diff, "|", `\|`), tested)
	}
	return b.String()
}

// scanE2E returns, for each key the e2e tests write, the functions that write it. Annotation
// keys are found with their prefix: a string literal such as "haproxy.org/check", or the sum of a
// string constant and a literal (peer+"check"), for any prefix. ConfigMap keys are the string
// literal keys of map[string]string literals, found bare.
func scanE2E(t *testing.T, dir string) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no e2e test sources in %s: %v", dir, err)
	}
	fset := token.NewFileSet()
	var parsed []*ast.File
	consts := map[string]string{}
	for _, f := range files {
		af, err := goparser.ParseFile(fset, f, nil, goparser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
		ast.Inspect(af, func(n ast.Node) bool {
			if g, ok := n.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, sp := range g.Specs {
					vs := sp.(*ast.ValueSpec)
					for i, name := range vs.Names {
						if i < len(vs.Values) {
							if s, ok := stringLit(vs.Values[i]); ok {
								consts[name.Name] = s
							}
						}
					}
				}
			}
			return true
		})
	}
	uses := map[string][]string{}
	for _, af := range parsed {
		for _, decl := range af.Decls {
			owner := ""
			switch d := decl.(type) {
			case *ast.FuncDecl:
				owner = d.Name.Name
			case *ast.GenDecl:
				if d.Tok != token.VAR {
					continue
				}
				owner = d.Specs[0].(*ast.ValueSpec).Names[0].Name
			}
			ast.Inspect(decl, func(n ast.Node) bool {
				switch e := n.(type) {
				case *ast.BasicLit:
					if s, ok := stringLit(e); ok && strings.Contains(s, "/") {
						uses[s] = append(uses[s], owner)
					}
				case *ast.BinaryExpr:
					if x, ok := e.X.(*ast.Ident); ok && e.Op == token.ADD {
						if s, ok := stringLit(e.Y); ok && consts[x.Name] != "" {
							uses[consts[x.Name]+s] = append(uses[consts[x.Name]+s], owner)
						}
					}
				case *ast.CompositeLit:
					if m, ok := e.Type.(*ast.MapType); ok && isIdent(m.Key, "string") && isIdent(m.Value, "string") {
						for _, el := range e.Elts {
							if kv, ok := el.(*ast.KeyValueExpr); ok {
								if s, ok := stringLit(kv.Key); ok {
									uses[s] = append(uses[s], owner)
								}
							}
						}
					}
				}
				return true
			})
		}
	}
	return uses
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func sortedSet(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// TestScanE2E checks the scanner on the forms it recognises and on those it must not count.
func TestScanE2E(t *testing.T) {
	dir := t.TempDir()
	src := `package e2e
const peer = "haproxy.org/"
func TestA(t *testing.T) {
	annotated(peer+"check", "true", "haproxy.com/load-balance", "uri")
	start(map[string]string{"maxconn": "10"})
	other("timeout-server")
	labels(map[string]int{"nbthread": 1})
}
var table = []string{peer + "whitelist"}
`
	if err := os.WriteFile(filepath.Join(dir, "a_test.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	uses := scanE2E(t, dir)
	for key, want := range map[string][]string{
		"haproxy.org/check": {"TestA"}, "haproxy.com/load-balance": {"TestA"}, "maxconn": {"TestA"},
		"haproxy.org/whitelist": {"table"}, "timeout-server": nil, "nbthread": nil,
	} {
		if got := uses[key]; !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", key, got, want)
		}
	}
}
