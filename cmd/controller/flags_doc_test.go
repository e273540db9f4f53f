package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

var update = flag.Bool("update", false, "rewrite documentation/flags.md and the chart's flag list from the flag set")

// flagsDocPath is the generated flag reference, relative to this package.
var flagsDocPath = filepath.Join("..", "..", "documentation", "flags.md")

// chartFlagsPath is the chart's list of the controller's flags, with which it checks
// controller.extraArgs at install time.
var chartFlagsPath = filepath.Join("..", "..", "deploy", "helm", "portcullis", "templates", "_flags.tpl")

// renderChartFlags renders the chart template that lists the flag names, space-separated.
func renderChartFlags(fs *pflag.FlagSet) []byte {
	var names []string
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	var b bytes.Buffer
	b.WriteString("{{/* Generated from the controller's flag set by `make docs` (go test ./cmd/controller -run\n")
	b.WriteString("TestFlagsDoc -update). Do not edit by hand. The names of the controller's flags: controller.extraArgs\n")
	b.WriteString("may only use these. */}}\n")
	b.WriteString("{{- define \"portcullis.controllerFlags\" -}}\n")
	b.WriteString(strings.Join(names, " "))
	b.WriteString("\n{{- end -}}\n")
	return b.Bytes()
}

// flagsDocHeader opens the generated reference. It holds no value from the flag set.
const flagsDocHeader = `# Command-line flags

<!-- Generated from the controller's flag set by ` + "`make docs`" + `
     (go test ./cmd/controller -run TestFlagsDoc -update). Do not edit by hand. -->

Every flag of the controller, as ` + "`--flag=value`" + `. Unknown flags and stray arguments are errors:
the controller refuses to start rather than ignore them. Where haproxytech's kubernetes-ingress
controller has the same concept, the flag has the same name (see [migrating.md](migrating.md)).

The Helm chart (` + "`deploy/helm/portcullis`" + `) builds the command line from its values; its README
lists which value sets which flag.

`

// renderFlagsDoc renders the Markdown reference of a flag set: one table row per flag, sorted by
// name.
func renderFlagsDoc(fs *pflag.FlagSet) []byte {
	var b bytes.Buffer
	b.WriteString(flagsDocHeader)
	b.WriteString("| Flag | Type | Default | Description |\n")
	b.WriteString("|---|---|---|---|\n")
	fs.VisitAll(func(f *pflag.Flag) {
		name := "`--" + f.Name + "`"
		if f.Shorthand != "" {
			name = "`-" + f.Shorthand + "`, " + name
		}
		def := ""
		if f.DefValue != "" && f.DefValue != "[]" {
			def = "`" + f.DefValue + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, f.Value.Type(), def, markdownCell(f.Usage))
	})
	return b.Bytes()
}

// markdownCell keeps text inside one table cell.
func markdownCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.Join(strings.Fields(s), " ")
}

// TestFlagsDoc checks that documentation/flags.md matches the flag set; `go test ./cmd/controller
// -run TestFlagsDoc -update` (or `make docs`) rewrites it.
// The chart's list of flag names (deploy/helm/portcullis/templates/_flags.tpl) and the table of
// haproxytech's flags in documentation/migrating.md are checked and rewritten with it.
func TestFlagsDoc(t *testing.T) {
	migrating, err := os.ReadFile(migratingPath)
	if err != nil {
		t.Fatal(err)
	}
	migrating, err = spliceGenerated(migrating, peerFlagsBegin, peerFlagsEnd, renderPeerFlags(t, newFlagSet(&rawFlags{})))
	if err != nil {
		t.Fatalf("%s: %v", migratingPath, err)
	}
	for _, f := range []struct {
		path string
		got  []byte
	}{
		{flagsDocPath, renderFlagsDoc(newFlagSet(&rawFlags{}))},
		{chartFlagsPath, renderChartFlags(newFlagSet(&rawFlags{}))},
		{migratingPath, migrating},
	} {
		if *update {
			if err := os.WriteFile(f.path, f.got, 0o644); err != nil {
				t.Fatalf("writing %s: %v", f.path, err)
			}
			continue
		}
		want, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatalf("reading %s (run `make docs` to generate it): %v", f.path, err)
		}
		if !bytes.Equal(f.got, want) {
			t.Errorf("%s is out of date with the flag set; run `make docs`.\n--- generated:\n%s", f.path, f.got)
		}
	}
}

// TestFlagsDocCoversEveryFlag checks that the reference has a row for each flag, with its
// default.
func TestFlagsDocCoversEveryFlag(t *testing.T) {
	fs := newFlagSet(&rawFlags{})
	doc := string(renderFlagsDoc(fs))
	n := 0
	fs.VisitAll(func(f *pflag.Flag) {
		n++
		if !strings.Contains(doc, "| `--"+f.Name+"` | "+f.Value.Type()+" | ") {
			t.Errorf("no row for --%s of type %s", f.Name, f.Value.Type())
		}
		if f.DefValue != "" && f.DefValue != "[]" && !strings.Contains(doc, "`"+f.DefValue+"`") {
			t.Errorf("the default %q of --%s is missing", f.DefValue, f.Name)
		}
	})
	if rows := strings.Count(doc, "\n| `--"); rows != n {
		t.Errorf("got %d flag rows, want %d", rows, n)
	}
}

// validArgs returns a command line that parseFlags accepts, followed by extra: --program is set
// to an executable that exists, so that the tests do not depend on haproxy being installed.
func validArgs(t *testing.T, extra ...string) []string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatalf("finding the test binary: %v", err)
	}
	return append([]string{"--program=" + self}, extra...)
}

func TestParseFlagsAcceptsAValidCommandLine(t *testing.T) {
	args := validArgs(t,
		"--ingress.class=haproxy", "--controller-name=portcullis.io/ingress-controller",
		"--configmap=portcullis/portcullis", "--http-bind-port=8080", "--https-bind-port=8443",
		"--controller-port=6060", "--config-dir=/etc/portcullis", "--runtime-dir=/run/portcullis",
		"--log=debug", "--log-format=json", "--default-backend-service=default/fallback",
		"--namespace-whitelist=a,b", "--empty-ingress-class")
	c, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags: %v", err)
	}
	if c.configMap.Namespace != "portcullis" || c.configMap.Name != "portcullis" {
		t.Errorf("configmap: got %v, want portcullis/portcullis", c.configMap)
	}
	if c.defaultBackend.Namespace != "default" || c.defaultBackend.Name != "fallback" {
		t.Errorf("default backend: got %v, want default/fallback", c.defaultBackend)
	}
	if len(c.namespaces) != 2 || c.namespaces[0] != "a" || c.namespaces[1] != "b" {
		t.Errorf("namespaces: got %v, want [a b]", c.namespaces)
	}
	if !c.emptyIngressClass || c.httpPort != 8080 || c.httpsPort != 8443 || c.controllerPort != 6060 {
		t.Errorf("got %+v", c)
	}
}

// TestParseFlagsRejectsUnknownFlags checks that a flag the controller does not have stops it,
// instead of being ignored as haproxytech's controller does. The planned flags the chart can emit
// are among them until they are implemented.
func TestParseFlagsRejectsUnknownFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		arg  string
		want string
	}{
		{"a misspelt flag", "--ingress-class=haproxy", "unknown flag: --ingress-class"},
		{"a flag of haproxytech's controller only", "--sync-period=5s", "unknown flag: --sync-period"},
		{"an unknown shorthand", "-x", "unknown shorthand flag: 'x'"},
		{"a stray argument", "haproxy", "unexpected arguments: haproxy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseFlags(validArgs(t, tc.arg), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseFlags(%q): got error %v, want one containing %q", tc.arg, err, tc.want)
			}
		})
	}
}

func TestParseFlagsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string // every substring the error must contain
	}{
		{
			name: "a configmap without a namespace",
			args: []string{"--configmap=portcullis"},
			want: []string{`--configmap "portcullis" must be namespace/name`},
		},
		{
			name: "a configmap with an empty namespace",
			args: []string{"--configmap=/portcullis"},
			want: []string{`--configmap "/portcullis" must be namespace/name`},
		},
		{
			name: "a configmap with two slashes",
			args: []string{"--configmap=a/b/c"},
			want: []string{`--configmap "a/b/c" must be namespace/name`},
		},
		{
			name: "a default backend service without a name",
			args: []string{"--default-backend-service=default/"},
			want: []string{`--default-backend-service "default/" must be namespace/name`},
		},
		{
			name: "the same port for HTTP and HTTPS",
			args: []string{"--http-bind-port=8080", "--https-bind-port=8080"},
			want: []string{"--http-bind-port and --https-bind-port must be distinct and non-zero"},
		},
		{
			name: "a zero HTTP port",
			args: []string{"--http-bind-port=0"},
			want: []string{"--http-bind-port and --https-bind-port must be distinct and non-zero"},
		},
		{
			name: "a port out of range",
			args: []string{"--https-bind-port=65536"},
			want: []string{`invalid argument "65536" for "--https-bind-port"`},
		},
		{
			name: "an unknown log level",
			args: []string{"--log=verbose"},
			want: []string{`--log "verbose" must be one of error, warning, info, debug, trace`},
		},
		{
			name: "an unknown log format",
			args: []string{"--log-format=xml"},
			want: []string{`--log-format "xml" must be text or json`},
		},
		{
			name: "an IPv6 bind address",
			args: []string{"--ipv4-bind-address=::1"},
			want: []string{`--ipv4-bind-address "::1" is not an IPv4 address`},
		},
		{
			name: "a config dir with a space",
			args: []string{"--config-dir=/etc/port cullis"},
			want: []string{`--config-dir "/etc/port cullis" must be a path without spaces or quotes`},
		},
		{
			name: "a haproxy binary that does not exist",
			args: []string{"--program=/nonexistent/haproxy"},
			want: []string{"--program:"},
		},
		{
			name: "several mistakes at once are all reported",
			args: []string{"--configmap=bad", "--log=loud", "--http-bind-port=8443"},
			want: []string{
				`--configmap "bad" must be namespace/name`,
				`--log "loud" must be one of`,
				"--http-bind-port and --https-bind-port must be distinct",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseFlags(validArgs(t, tc.args...), io.Discard)
			if err == nil {
				t.Fatalf("parseFlags(%q): no error, want one containing %q", tc.args, tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("parseFlags(%q): got error %q, want it to contain %q", tc.args, err, w)
				}
			}
		})
	}
}
