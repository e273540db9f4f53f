package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// migratingPath is the migration guide, whose table of haproxytech's flags is generated between
// two markers.
var migratingPath = filepath.Join("..", "..", "documentation", "migrating.md")

const (
	peerFlagsBegin = "<!-- BEGIN haproxytech flags: generated from the controller's flag set by `make docs`; do not edit. -->\n"
	peerFlagsEnd   = "<!-- END haproxytech flags -->\n"
)

// peerFlag is a row of the table: flags of haproxytech/kubernetes-ingress's controller, and what
// Portcullis has. A flag Portcullis has under the same name is found in the flag set; note then
// adds to "same", and otherwise says what to use instead (or "none").
type peerFlag struct {
	// names are the long names, without dashes; shorthands are written in short.
	names []string
	short string
	note  string
}

// haproxytechFlags are the flags of haproxytech's controller (its documentation/controller.md),
// grouped where one answer fits them.
var haproxytechFlags = []peerFlag{
	{names: []string{"ingress.class"}, note: "the value of the legacy `kubernetes.io/ingress.class` annotation served"},
	{names: []string{"empty-ingress-class"}},
	{names: []string{"configmap"}, note: "keys: [configmap.md](configmap.md), haproxytech's in [haproxytech.md](haproxytech.md)"},
	{names: []string{"configmap-tcp-services"}, note: "haproxytech's format; `:ssl` entries are refused"},
	{names: []string{"default-backend-service"}, note: "the Service's first port is used"},
	{names: []string{"default-ssl-certificate"}, note: "without it, a self-signed certificate generated at start, not a Secret"},
	{names: []string{"publish-service"}, note: "plus `--publish-status-address` (fixed addresses) and `--status-address-type` (the node address of a NodePort Service)"},
	{names: []string{"disable-ingress-status-update"}, note: "leave out `--publish-service`"},
	{names: []string{"namespace-whitelist"}},
	{names: []string{"namespace-blacklist"}, note: "none"},
	{names: []string{"ipv4-bind-address"}},
	{names: []string{"ipv6-bind-address", "disable-ipv4", "disable-ipv6"}, note: "none (IPv4 listeners only)"},
	{names: []string{"http-bind-port", "https-bind-port"}},
	{names: []string{"disable-http", "disable-https", "http-bind-thread", "https-bind-thread"}, note: "none"},
	{names: []string{"controller-port"}, note: "`/healthz`, `/readyz`, `/metrics`; no pprof"},
	{names: []string{"prometheus"}, note: "none: the controller's metrics are always served"},
	{names: []string{"pprof"}, short: "p", note: "none: pprof is not offered"},
	{names: []string{"healthz-bind-port", "stats-bind-port"}},
	{names: []string{"localpeer-port", "default-backend-port"}, note: "none"},
	{names: []string{"log"}, note: "the same levels; plus `--log-format`"},
	{names: []string{"program", "config-dir", "runtime-dir"}},
	{names: []string{"kubeconfig"}, note: "without it, `$KUBECONFIG`, then the in-cluster configuration"},
	{names: []string{"external"}, short: "e", note: "none: outside a cluster, give `--kubeconfig`"},
	{names: []string{"sync-period", "initial-sync-period", "cache-resync-period", "channel-size"}, note: "none: changes are applied as events arrive, with no periodic resync"},
	{names: []string{"with-s6-overlay", "with-pebble"}, note: "none: the controller runs HAProxy's master process itself"},
	{names: []string{"configmap-errorfiles", "configmap-patternfiles"}, note: "none"},
	{names: []string{"gateway-controller-name"}, note: "see [gateway-api.md](gateway-api.md)"},
	{names: []string{"job-check-crd", "custom-validation-rules", "enable-custom-annotations-on-ingress", "disable-config-snippets", "experimental"}, note: "none"},
}

// renderPeerFlags renders the table of haproxytech's flags against the flag set fs.
func renderPeerFlags(t *testing.T, fs *pflag.FlagSet) string {
	var b strings.Builder
	b.WriteString(peerFlagsBegin)
	b.WriteString("| haproxytech flag | Portcullis |\n|---|---|\n")
	peer := map[string]bool{}
	for _, r := range haproxytechFlags {
		var names, defaults []string
		ours := 0
		for _, n := range r.names {
			peer[n] = true
			names = append(names, "`--"+n+"`")
			if f := fs.Lookup(n); f != nil {
				ours++
				if f.DefValue != "" && f.DefValue != "[]" && f.DefValue != "false" {
					defaults = append(defaults, "`"+f.DefValue+"`")
				}
			}
		}
		if r.short != "" {
			names[0] = "`-" + r.short + "`, " + names[0]
		}
		var cell string
		switch ours {
		case len(r.names):
			cell = "same"
			if len(defaults) == 1 {
				cell += ", default " + defaults[0]
			} else if len(defaults) > 1 {
				cell += ", defaults " + strings.Join(defaults, ", ")
			}
			if r.note != "" {
				cell += "; " + r.note
			}
		case 0:
			if r.note == "" {
				t.Errorf("haproxytech flags %v: not in the flag set, and no note says what to use", r.names)
			}
			cell = r.note
		default:
			t.Errorf("haproxytech flags %v: some are in the flag set, some not; give them rows of their own", r.names)
		}
		fmt.Fprintf(&b, "| %s | %s |\n", strings.Join(names, ", "), cell)
	}
	var only []string
	fs.VisitAll(func(f *pflag.Flag) {
		if !peer[f.Name] {
			only = append(only, "`--"+f.Name+"`")
		}
	})
	fmt.Fprintf(&b, "| — | Portcullis only: %s |\n", strings.Join(only, ", "))
	b.WriteString(peerFlagsEnd)
	return b.String()
}

// spliceGenerated replaces the text between the markers begin and end (both included) of doc.
func spliceGenerated(doc []byte, begin, end, body string) ([]byte, error) {
	i := bytes.Index(doc, []byte(begin))
	j := bytes.Index(doc, []byte(end))
	if i < 0 || j < i {
		return nil, fmt.Errorf("the markers %q and %q are missing or out of order", strings.TrimSpace(begin), strings.TrimSpace(end))
	}
	out := append([]byte{}, doc[:i]...)
	out = append(out, body...)
	return append(out, doc[j+len(end):]...), nil
}

func TestSpliceGenerated(t *testing.T) {
	got, err := spliceGenerated([]byte("a\n<b>\nold\n</b>\nc\n"), "<b>\n", "</b>\n", "<b>\nnew\n</b>\n")
	if err != nil || string(got) != "a\n<b>\nnew\n</b>\nc\n" {
		t.Errorf("got %q, %v", got, err)
	}
	if _, err := spliceGenerated([]byte("no markers"), "<b>\n", "</b>\n", ""); err == nil {
		t.Error("no error without markers")
	}
}
