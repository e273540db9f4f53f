package annotations

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite documentation/annotations.md and documentation/configmap.md from the registry")

// TestDocsCurrent fails when the reference pages differ from what the registry generates. Run
// `go test ./pkg/annotations -run TestDocsCurrent -update` to rewrite them.
func TestDocsCurrent(t *testing.T) {
	pages := []struct {
		path string
		body string
	}{
		{"../../documentation/annotations.md", annotationsPage()},
		{"../../documentation/configmap.md", configMapPage()},
		{"../../documentation/ingress-nginx.md", nginxPage()},
		{"../../documentation/haproxytech.md", peerPage(t)},
	}
	for _, p := range pages {
		t.Run(p.path, func(t *testing.T) {
			if *update {
				if err := os.WriteFile(p.path, []byte(p.body), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			got, err := os.ReadFile(p.path)
			if err != nil {
				t.Fatalf("reading %s: %v (run with -update to generate it)", p.path, err)
			}
			if string(got) != p.body {
				t.Errorf("%s is out of date: run `go test ./pkg/annotations -run TestDocsCurrent -update`", p.path)
			}
		})
	}
}

const generated = "<!-- Generated from pkg/annotations by `go test ./pkg/annotations -run TestDocsCurrent -update`. Do not edit. -->\n"

func annotationsPage() string {
	var b strings.Builder
	b.WriteString("# Annotations reference\n\n" + generated + "\n")
	b.WriteString("Portcullis reads the annotations of Ingresses and Services whose keys start with `" + Prefix + "`. " +
		"The same settings can be given as defaults in the controller's ConfigMap, without the prefix " +
		"(see [configmap.md](configmap.md)).\n\n" +
		"- **Precedence:** Service annotation > Ingress annotation > ConfigMap > built-in default. Settings of " +
		"backends (a Service port) may be set on both; settings of routes apply to all paths of the Ingress. " +
		"A Service port's `appProtocol` (`kubernetes.io/h2c`, `kubernetes.io/ws`, `kubernetes.io/wss`) sets " +
		"`server-proto` and `server-ssl` for that port, just below the Service's annotations " +
		"([routing.md](routing.md#backends)).\n" +
		"- **haproxytech aliases:** where haproxytech/kubernetes-ingress has the same setting, its annotation " +
		"under `" + PeerPrefix + "` is accepted too, and so under `" + PeerPrefixes[1] + "` and `" + PeerPrefixes[2] +
		"`, which haproxytech reads alike. When several set one setting on one object, `" + Prefix + "` wins, then `" +
		strings.Join(PeerPrefixes, "`, then `") + "`; a key that loses with a different value gets a Warning Event. " +
		"Other annotations under these prefixes are reported as not supported.\n" +
		"- **ingress-nginx annotations** (`" + NginxPrefix + "`) on Ingresses are read as the settings listed in " +
		"[ingress-nginx.md](ingress-nginx.md), below every key above; those that cannot be honoured get a Warning Event.\n" +
		"- **Bad values** are never used: the object gets a Warning Event naming the key, the value and the " +
		"reason, and the next source in precedence order (or the default) applies. So do unknown `" + Prefix +
		"` keys and keys set on an object that does not allow them.\n" +
		"- **No raw configuration:** every value is checked against a closed syntax; nothing is copied into " +
		"the HAProxy configuration as written, and there are no configuration snippets.\n" +
		"- " + durationsNote + "\n\n")
	var defs []Definition
	for _, d := range Definitions() {
		if d.Scopes&(ScopeIngress|ScopeService) != 0 {
			defs = append(defs, d)
		}
	}
	b.WriteString("| Annotation | Ingress | Service | Default |\n|---|:-:|:-:|---|\n")
	for _, d := range defs {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s |\n", code(d.Key()), anchor(d.Key()),
			tick(d.Scopes&ScopeIngress != 0), tick(d.Scopes&ScopeService != 0), dflt(d.Default))
	}
	group := ""
	for _, d := range defs {
		if d.Group != group {
			group = d.Group
			fmt.Fprintf(&b, "\n## %s\n", group)
		}
		fmt.Fprintf(&b, "\n### %s\n\n%s\n\n", code(d.Key()), d.Doc)
		var on []string
		for _, s := range []Scope{ScopeIngress, ScopeService} {
			if d.Scopes&s != 0 {
				on = append(on, s.String())
			}
		}
		line := strings.Join(on, ", ")
		if d.Scopes&ScopeConfigMap != 0 {
			line += "; ConfigMap key " + code(d.Name)
		}
		fmt.Fprintf(&b, "- **Set on:** %s\n", line)
		if len(d.Aliases) > 0 {
			keys := make([]string, len(d.Aliases))
			for i, a := range d.Aliases {
				keys[i] = code(PeerPrefix + a)
			}
			fmt.Fprintf(&b, "- **Aliases:** %s\n", strings.Join(keys, ", "))
		}
		fmt.Fprintf(&b, "- **Type:** %s\n- **Default:** %s\n- **Example:** %s\n",
			text(d.Type), dflt(d.Default), code(d.Key()+": "+yamlString(d.Example)))
	}
	return b.String()
}

func configMapPage() string {
	var b strings.Builder
	b.WriteString("# ConfigMap reference\n\n" + generated + "\n")
	b.WriteString("The controller's ConfigMap holds process-wide settings and the defaults of the settings that " +
		"Ingress and Service annotations can override (see [annotations.md](annotations.md)). Keys carry no " +
		"prefix; haproxytech/kubernetes-ingress's key names are accepted where they mean the same.\n\n" +
		"A bad value is never used: it is reported (with the key, the value and the reason) and the " +
		"built-in default applies. Unknown keys are reported too, with a suggestion when one is close; " +
		"haproxytech keys that Portcullis does not support are reported as such.\n\n" + durationsNote + "\n\n")
	var defs []Definition
	for _, d := range Definitions() {
		if d.Scopes&ScopeConfigMap != 0 {
			defs = append(defs, d)
		}
	}
	b.WriteString("| Key | Overridable by annotation | Default |\n|---|---|---|\n")
	for _, d := range defs {
		over := "no"
		if d.Scopes&(ScopeIngress|ScopeService) != 0 {
			over = (d.Scopes &^ ScopeConfigMap).String()
		}
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s |\n", code(d.Name), anchor(d.Name), over, dflt(d.Default))
	}
	group := ""
	for _, d := range defs {
		if d.Group != group {
			group = d.Group
			fmt.Fprintf(&b, "\n## %s\n", group)
		}
		fmt.Fprintf(&b, "\n### %s\n\n%s\n\n", code(d.Name), d.Doc)
		if d.Scopes&(ScopeIngress|ScopeService) != 0 {
			fmt.Fprintf(&b, "- **Overridden by:** annotation %s on %s\n", code(d.Key()), (d.Scopes &^ ScopeConfigMap).String())
		}
		if len(d.Aliases) > 0 {
			keys := make([]string, 0, len(d.Aliases))
			for _, a := range d.Aliases {
				if a != d.Name {
					keys = append(keys, code(a))
				}
			}
			if len(keys) > 0 {
				fmt.Fprintf(&b, "- **Aliases:** %s\n", strings.Join(keys, ", "))
			}
		}
		fmt.Fprintf(&b, "- **Type:** %s\n- **Default:** %s\n- **Example:** %s\n",
			text(d.Type), dflt(d.Default), code(d.Name+": "+yamlString(d.Example)))
	}
	return b.String()
}

// durationsNote explains the one duration syntax of every page.
const durationsNote = "**Durations** are a number followed by a unit, `us`, `ms`, `s`, `m`, `h` or `d` (a bare number " +
	"is refused as ambiguous), and must be a whole number of milliseconds, the resolution of HAProxy's timers: " +
	"`1500ms` is accepted, `1500us` is refused rather than rounded."

// code is s as a Markdown code span.
func code(s string) string {
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

// text escapes s for Markdown prose and table cells.
func text(s string) string {
	return strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}

func dflt(s string) string {
	if s == "" {
		return "unset"
	}
	return code(s)
}

func tick(b bool) string {
	if b {
		return "✓"
	}
	return ""
}

// anchor is GitHub's heading anchor for a heading made of the code span s.
func anchor(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// yamlString is s as a double-quoted YAML scalar (examples contain only printable ASCII).
func yamlString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func nginxPage() string {
	var b strings.Builder
	b.WriteString("# ingress-nginx annotations\n\n" + generated + "\n")
	b.WriteString("Portcullis reads the annotations of ingress-nginx (`" + NginxPrefix + "`) on Ingresses, so that " +
		"Ingresses written for it keep working. Each is translated into the Portcullis settings of the " +
		"*Equivalent* column, whose values are checked by those settings' own parsers ([annotations.md](annotations.md)):\n\n" +
		"- **supported**: behaves as ingress-nginx documents;\n" +
		"- **partial**: honoured, with the difference stated;\n" +
		"- **refused**: not honoured; an Ingress carrying it gets a Warning Event naming the key and the reason.\n\n" +
		"Any other `" + NginxPrefix + "` key gets a Warning Event too, and every `*-snippet` key is refused: raw " +
		"configuration from an Ingress would let a tenant inject directives into the proxy shared by every tenant. " +
		"On one Ingress, a `" + Prefix + "` or haproxytech key for the same setting wins over an ingress-nginx key " +
		"(with a Warning Event when their values differ). Values the key's own syntax refuses (a timeout with a unit, " +
		"say) are refused with an Event, as ingress-nginx refuses them.\n\n")
	b.WriteString("The *e2e* column says whether [e2e/nginx_test.go](../e2e/nginx_test.go) proves the key with real " +
		"requests (or, for a refused key, its Event); the others are covered by unit tests only.\n\n")
	b.WriteString("| Annotation | Status | Equivalent | Difference | e2e |\n|---|---|---|---|---|\n")
	e2e, _ := os.ReadFile("../../e2e/nginx_test.go")
	for _, a := range NginxAnnotations() {
		tested := "untested"
		if strings.Contains(string(e2e), `nx+"`+a.Name+`"`) {
			tested = "tested"
		}
		eq := a.Equivalent
		if eq == "" {
			eq = "none"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", code(a.Key()), a.Status, eq, strings.ReplaceAll(a.Difference, "|", `\|`), tested)
	}
	return b.String()
}
