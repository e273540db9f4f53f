package annotations

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// haproxytech/kubernetes-ingress compatibility: every key of haproxytech's annotations and
// ConfigMap, with how Portcullis reads it. The keys themselves come from the registry (the
// aliases of its settings, and peerOnly); this file adds what the registry cannot say: the
// settings haproxytech has under the same name with another value format, and how the settings
// read under haproxytech names differ from haproxytech's. documentation/haproxytech.md is
// generated from PeerKeys.
//
// haproxytech's keys are its own namespace: a key string here may also be a setting name or an
// alias in the registry, like the ingress-nginx keys of nginx.go.

// CompatNotSupported: a haproxytech key that Portcullis has no setting for; an object that
// carries it gets a Warning Event.
const CompatNotSupported Compat = "not supported"

// peerOtherFormat are the settings that haproxytech has under the same name, whose values
// Portcullis reads in another format: they are not aliases, so haproxytech's annotation is
// reported (pointing at the Portcullis key), and in the ConfigMap, where the names meet, a
// haproxytech value fails the Portcullis parser and is reported.
var peerOtherFormat = []entry{pathRewrite, requestRedirect, logFormat, syslogServer}

// peerNotes are the differences between a haproxytech key and the Portcullis setting it is read
// as (which makes the key partial), or, for a key Portcullis does not read, what to use instead.
// Each note is about the haproxytech key of that name.
var peerNotes = map[string]string{
	// Read, with a difference.
	"allow-list": "IPv4 and IPv6 addresses and CIDR prefixes only: haproxytech's pattern files (`patterns/...`) are refused with an Event.",
	"whitelist":  "IPv4 and IPv6 addresses and CIDR prefixes only: haproxytech's pattern files (`patterns/...`) are refused with an Event.",
	"deny-list":  "IPv4 and IPv6 addresses and CIDR prefixes only: haproxytech's pattern files (`patterns/...`) are refused with an Event.",
	"blacklist":  "IPv4 and IPv6 addresses and CIDR prefixes only: haproxytech's pattern files (`patterns/...`) are refused with an Event.",
	"auth-secret": "A Secret in the Ingress's namespace, on the Ingress only: haproxytech's `namespace/name` form and the " +
		"ConfigMap key are refused with an Event. The Secret may also hold ingress-nginx's `auth` key of htpasswd lines.",
	"check":      "Off by default (haproxytech: on): Kubernetes readiness already decides which endpoints receive traffic.",
	"check-http": "Only a path: haproxytech's form with a method and an HTTP version is refused with an Event.",
	"client-ca": "On an Ingress, for its own hosts only; haproxytech reads it in the ConfigMap, for every HTTPS " +
		"client, where Portcullis refuses it with an Event.",
	"client-crt-optional": "On an Ingress, with its `client-ca`; haproxytech reads it in the ConfigMap, where Portcullis " +
		"refuses it with an Event.",
	"cors-allow-origin": "`*` or a list of origins: haproxytech's regular expressions are refused with an Event.",
	"load-balance": "A closed list of algorithms and options (see the equivalent); haproxytech passes any HAProxy " +
		"`balance` line through.",
	"rate-limit-status-code": "Default 429 (haproxytech: 403); 403, 429 or 503 only.",
	"request-set-header": "Literal values only: HAProxy sample fetches and variables (`%[...]`), and framing headers " +
		"such as `Content-Length`, are refused with an Event.",
	"response-set-header": "Literal values only: HAProxy sample fetches and variables (`%[...]`), and framing headers " +
		"such as `Content-Length`, are refused with an Event.",
	"scale-server-slots": slotsNote,
	"server-slots":       slotsNote,
	"servers-increment":  slotsNote,
	"ssl-passthrough": "On an Ingress only; haproxytech also reads it in the ConfigMap and on Services, where " +
		"Portcullis refuses it with an Event.",
	"ssl-redirect-port": "Default 443 (haproxytech documents 8443).",

	// Same name, another format: not read as haproxytech writes it.
	"path-rewrite": "Portcullis's `path-rewrite` replaces a path prefix (`<from> <to>`); haproxytech's regular " +
		"expression forms are not read. ingress-nginx's `rewrite-target` covers captures.",
	"request-redirect": "Portcullis's `request-redirect` takes `http(s)://host[:port][/prefix]`; haproxytech's " +
		"`host[:port]` is not read.",
	"log-format": "Portcullis's `log-format` is `default`, `json` or `clf`: a raw HAProxy log-format string is refused " +
		"with an Event.",
	"syslog-server": "Portcullis's `syslog-server` is `stdout` or `host[:port]`: haproxytech's `address:..., " +
		"facility:...` form is refused with an Event.",

	// Not read: what to use instead.
	"ingress.class":     "The Ingress's `spec.ingressClassName`, or the `kubernetes.io/ingress.class` annotation matched against `--ingress.class`.",
	"ssl-certificate":   "The `--default-ssl-certificate` flag, and each Ingress's `spec.tls`.",
	"cr-backend":        "None: Portcullis has no custom resources.",
	"cr-defaults":       "None: Portcullis has no custom resources.",
	"cr-frontend-http":  "None: Portcullis has no custom resources.",
	"cr-frontend-https": "None: Portcullis has no custom resources.",
	"cr-frontend-stats": "None: Portcullis has no custom resources.",
	"cr-global":         "None: Portcullis has no custom resources.",
}

// slotsNote is the difference of haproxytech's names of server-slots.
var slotsNote = fmt.Sprintf("The step in which server slots grow (default %d; haproxytech: 42); an Ingress or a "+
	"Service may ask for at most %d (see the equivalent).", limits.DefaultSlotStep, limits.MaxServerSlotsAnnotation)

// PeerKey is one haproxytech/kubernetes-ingress key and how Portcullis reads it.
type PeerKey struct {
	// Name is the key: the annotation key after a PeerPrefixes prefix, and the ConfigMap key.
	Name   string
	Status Compat
	// Setting is the name of the Portcullis setting the key is read as (supported, partial) or
	// that has its name (refused); empty when Portcullis has none.
	Setting string
	// Equivalent says where Portcullis reads that setting, or what to use instead (Markdown).
	Equivalent string
	// Difference says how the key differs from haproxytech's, or why it is not read (Markdown).
	Difference string
}

// PeerKeys returns every haproxytech key the registry knows, ordered by name.
func PeerKeys() []PeerKey {
	var out []PeerKey
	for _, s := range registry {
		d := s.definition()
		for _, a := range d.Aliases {
			k := PeerKey{Name: a, Status: CompatSupported, Setting: d.Name, Equivalent: equivalent(d), Difference: peerNotes[a]}
			if k.Difference != "" {
				k.Status = CompatPartial
			}
			out = append(out, k)
		}
	}
	for _, s := range peerOtherFormat {
		d := s.definition()
		out = append(out, PeerKey{Name: d.Name, Status: CompatRefused, Setting: d.Name, Equivalent: equivalent(d), Difference: peerNotes[d.Name]})
	}
	for _, n := range peerOnly {
		k := PeerKey{Name: n, Status: CompatNotSupported, Equivalent: "none", Difference: peerNotes[n]}
		if isSnippet(n) {
			k.Status = CompatRefused
			k.Difference = "Raw configuration snippets are never accepted: they would let the author of an object inject " +
				"directives into the proxy that every tenant shares."
		}
		if k.Difference != "" && k.Status == CompatNotSupported {
			k.Equivalent, k.Difference = k.Difference, ""
		}
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b PeerKey) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// equivalent is where Portcullis reads d: its annotation and the objects that take it, and its
// ConfigMap key.
func equivalent(d *Definition) string {
	var parts []string
	if on := d.Scopes &^ ScopeConfigMap; on != 0 {
		parts = append(parts, "`"+d.Key()+"` ("+on.String()+")")
	}
	if d.Scopes&ScopeConfigMap != 0 {
		parts = append(parts, "ConfigMap `"+d.Name+"`")
	}
	return strings.Join(parts, "; ")
}
