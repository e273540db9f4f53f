// Package helm holds the tests of the chart's sources that need no cluster: the values reference
// page, generated from values.yaml and values.schema.json, and the schema's closedness. The chart
// is rendered and installed by e2e/helm_test.go.
package helm

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite documentation/helm-values.md from the chart")

var (
	chartDir   = "portcullis"
	valuesDoc  = filepath.Join("..", "..", "documentation", "helm-values.md")
	htPrefix   = "haproxytech: "
	docComment = "# --"
)

// valuesDocHeader opens the generated page. It holds no value from the chart.
const valuesDocHeader = `# Helm chart values

<!-- Generated from deploy/helm/portcullis/values.yaml (its "# --" comments and defaults) and
     values.schema.json by ` + "`make docs`" + ` (go test ./deploy/helm -update). Do not edit by hand. -->

Every value of the chart ` + "`deploy/helm/portcullis`" + `. The schema (values.schema.json) knows every key
at every level and refuses others at ` + "`helm install`" + `, naming them: a misspelt key fails the install
instead of being dropped. The chart's [README](../deploy/helm/portcullis/README.md) says which
value sets which controller flag ([flags.md](flags.md)).

`

const haproxytechHeader = `
## haproxytech's names

Values files written for haproxytech's kubernetes-ingress chart carry over: its keys are accepted
under their own names where Portcullis has the concept, and become what is said here (an alias
set next to its Portcullis key wins, unless its row says otherwise). A key whose value asks for what Portcullis does not do
(QUIC, KEDA, PodSecurityPolicies, a raw HAProxy configuration, haproxytech-only controller flags in
` + "`controller.extraArgs`" + `, ...) fails the install with one message naming every such key and what to
use instead. See also [migrating.md](migrating.md#helm-values).

| Key | Accepted as |
|---|---|
`

type row struct{ key, def, desc string }

// schemaNode is one node of values.schema.json, as far as the page needs it.
type schemaNode struct {
	Type                 any                    `json:"type"`
	Description          string                 `json:"description"`
	Properties           map[string]*schemaNode `json:"properties"`
	AdditionalProperties any                    `json:"additionalProperties"`
	Ref                  string                 `json:"$ref"`
	Enum                 []any                  `json:"enum"`
}

func loadSchema(t *testing.T) *schemaNode {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s schemaNode
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("values.schema.json: %v", err)
	}
	return &s
}

func loadValues(t *testing.T) *yaml.Node {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("values.yaml: %v", err)
	}
	return doc.Content[0]
}

// docOf returns the "# --" comment above a key, joined into one line.
func docOf(key *yaml.Node) string {
	lines := strings.Split(key.HeadComment, "\n")
	start := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), docComment) })
	if start < 0 {
		return ""
	}
	var words []string
	for i, l := range lines[start:] {
		l = strings.TrimSpace(l)
		if i == 0 {
			l = strings.TrimPrefix(l, docComment)
		} else {
			l = strings.TrimPrefix(l, "#")
		}
		words = append(words, strings.Fields(l)...)
	}
	return strings.Join(words, " ")
}

// defaultOf renders a default value as compact JSON (YAML flow style for the reader).
func defaultOf(t *testing.T, n *yaml.Node) string {
	t.Helper()
	var v any
	if err := n.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if v == nil {
		return "unset"
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return "`" + string(data) + "`"
}

// collect walks values.yaml alongside the schema: a mapping whose schema node lists properties is
// descended into; anything else is one row. Keys the schema does not have are problems.
func collect(t *testing.T, prefix string, n *yaml.Node, s *schemaNode, rows *[]row, problems *[]string) {
	t.Helper()
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		path := prefix + k.Value
		child := s.Properties[k.Value]
		if child == nil {
			*problems = append(*problems, fmt.Sprintf("values.yaml key %s is not in values.schema.json", path))
			continue
		}
		desc := docOf(k)
		if v.Kind == yaml.MappingNode && len(v.Content) > 0 && child.Properties != nil {
			if desc != "" {
				*rows = append(*rows, row{path, "", desc})
			}
			collect(t, path+".", v, child, rows, problems)
			continue
		}
		if desc == "" {
			desc = child.Description
		}
		*rows = append(*rows, row{path, defaultOf(t, v), desc})
	}
}

// inValues reports whether path (dot-separated) is a key of values.yaml.
func inValues(n *yaml.Node, path []string) bool {
	for _, p := range path {
		if n.Kind != yaml.MappingNode {
			return false
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == p {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return false
		}
		n = next
	}
	return true
}

// schemaRows walks the schema for the keys values.yaml does not have: haproxytech's names, and
// keys with no default. It also reports objects that are not closed, except below a haproxytech
// key, whose description covers its sub-keys (keda, sync, ... accept all of haproxytech's, and
// refuse what they ask for in the templates). covered: a parent row documents these keys.
func schemaRows(prefix []string, s *schemaNode, values *yaml.Node, covered bool, ht, others *[]row, problems *[]string) {
	if s.Properties != nil && s.AdditionalProperties != false && !covered {
		*problems = append(*problems, fmt.Sprintf("schema object %q lists properties but does not refuse others (additionalProperties: false)", strings.Join(prefix, ".")))
	}
	names := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		child := s.Properties[k]
		path := append(slices.Clone(prefix), k)
		key := strings.Join(path, ".")
		childCovered := covered
		switch {
		case strings.HasPrefix(child.Description, htPrefix):
			*ht = append(*ht, row{key, "", strings.TrimPrefix(child.Description, htPrefix)})
			childCovered = true
		case inValues(values, path):
			// Its row (or its sub-keys' rows) come from values.yaml; a key that is a leaf
			// there, such as an empty map, documents its sub-keys.
			childCovered = covered || isLeaf(values, path)
		case !covered:
			if child.Description == "" {
				*problems = append(*problems, fmt.Sprintf("schema key %s is neither in values.yaml nor described", key))
			}
			*others = append(*others, row{key, "unset", child.Description})
		}
		schemaRows(path, child, values, childCovered, ht, others, problems)
	}
}

// isLeaf reports whether path is a key of values.yaml whose value has no keys of its own.
func isLeaf(n *yaml.Node, path []string) bool {
	for _, p := range path {
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == p {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n.Kind != yaml.MappingNode || len(n.Content) == 0
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// renderValuesDoc renders the page and lists the inconsistencies between values.yaml and the
// schema.
func renderValuesDoc(t *testing.T) ([]byte, []string) {
	t.Helper()
	schema, values := loadSchema(t), loadValues(t)
	var rows, ht, others []row
	var problems []string
	collect(t, "", values, schema, &rows, &problems)
	schemaRows(nil, schema, values, false, &ht, &others, &problems)
	rows = append(rows, others...)
	var b bytes.Buffer
	b.WriteString(valuesDocHeader)
	b.WriteString("| Key | Default | Description |\n|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", r.key, cell(r.def), cell(r.desc))
	}
	b.WriteString(haproxytechHeader)
	for _, r := range ht {
		fmt.Fprintf(&b, "| `%s` | %s |\n", r.key, cell(r.desc))
	}
	return b.Bytes(), problems
}

// TestValuesDoc checks that documentation/helm-values.md matches the chart, that every key of
// values.yaml is in the schema, and that every schema object refuses unknown keys;
// `go test ./deploy/helm -update` (or `make docs`) rewrites the page.
func TestValuesDoc(t *testing.T) {
	got, problems := renderValuesDoc(t)
	for _, p := range problems {
		t.Error(p)
	}
	if *update {
		if err := os.WriteFile(valuesDoc, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(valuesDoc)
	if err != nil {
		t.Fatalf("reading %s (run `make docs` to generate it): %v", valuesDoc, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date with the chart; run `make docs`.\n--- generated:\n%s", valuesDoc, got)
	}
}

// TestValuesDocCatches shows that the checks fail on an unclosed object and on a key missing
// from the schema.
func TestValuesDocCatches(t *testing.T) {
	var values yaml.Node
	if err := yaml.Unmarshal([]byte("a:\n  b: 1\nc: 2\n"), &values); err != nil {
		t.Fatal(err)
	}
	schema := &schemaNode{AdditionalProperties: false, Properties: map[string]*schemaNode{
		"a": {Properties: map[string]*schemaNode{"b": {}}},
	}}
	var rows, ht, others []row
	var problems []string
	collect(t, "", values.Content[0], schema, &rows, &problems)
	schemaRows(nil, schema, values.Content[0], false, &ht, &others, &problems)
	want := []string{"values.yaml key c is not in values.schema.json", `schema object "a" lists properties but does not refuse others (additionalProperties: false)`}
	if fmt.Sprint(problems) != fmt.Sprint(want) {
		t.Errorf("problems: got %q, want %q", problems, want)
	}
}
