// Package annotations is the registry of every setting an operator can give Portcullis through
// Ingress and Service annotations and through the controller's ConfigMap.
//
// Each setting has one definition: its name, the haproxytech names accepted as aliases, the
// places it may be set (its scopes), the type of its value, a default, a parser and a paragraph of
// documentation. Reading settings happens in two steps:
//
//  1. Parse checks the annotations of one object (or the data of the ConfigMap) against the
//     registry and returns a Layer holding only the valid values, plus a Problem for everything
//     else: unknown keys, keys set in a scope that does not allow them, and bad values. Call it
//     once per object and attach its problems to that object.
//  2. ResolveBackend, ResolveRoute and ResolveGlobal combine layers with the precedence
//     Service > Ingress > ConfigMap > default, in one place, and return typed settings. Every
//     value says which key and which source it came from.
//
// A bad value is never used and never replaced by a guess: the layer simply lacks it, so the next
// source in precedence order (or the default) applies, and the Problem says so.
//
// Every parser accepts only a closed character set and rejects control characters (newlines, CR,
// NUL, ...), so no value can add a line, a token, a comment or a directive to the proxy
// configuration. The few value types that may contain a space (HeaderValue and the CORS lists)
// must be rendered double-quoted; they never contain a character that is special inside HAProxy
// double quotes (", \, $, %, ', #). The package is pure: no I/O, no clock, no logger.
package annotations

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// Prefix is the prefix of Portcullis annotation keys: the annotation of setting "load-balance"
// is "portcullis.io/load-balance". ConfigMap keys carry no prefix.
const Prefix = "portcullis.io/"

// PeerPrefix is the prefix of haproxytech/kubernetes-ingress annotations. Those of its keys that
// mean the same as one of ours are accepted as aliases, so that its users can move over.
const PeerPrefix = "haproxy.org/"

// PeerPrefixes are the prefixes haproxytech/kubernetes-ingress reads alike: PeerPrefix, then
// haproxy.com/ and ingress.kubernetes.io/. Portcullis reads the aliases under each of them.
// When two of them set the same setting on one object, the earlier prefix wins (and the
// canonical Prefix over all of them); a loser whose value differs is reported.
var PeerPrefixes = []string{PeerPrefix, "haproxy.com/", "ingress.kubernetes.io/"}

// rankStride separates the ranks of the keys of one setting under different prefixes: rank
// 0 is the canonical key, p*rankStride+1+i alias i under PeerPrefixes[p].
const rankStride = 1000

// Scope is a set of places where a setting may be given.
type Scope uint8

const (
	// ScopeConfigMap is the controller's ConfigMap: global settings and defaults for all Ingresses
	// and Services.
	ScopeConfigMap Scope = 1 << iota
	// ScopeIngress is the annotations of an Ingress: they apply to its paths and backends.
	ScopeIngress
	// ScopeService is the annotations of a Service: they apply to the backends made from it.
	ScopeService
)

// String lists the scopes in the set, e.g. "ConfigMap, Ingress".
func (s Scope) String() string {
	var names []string
	for _, src := range []Source{SourceConfigMap, SourceIngress, SourceService} {
		if s&src.scope() != 0 {
			names = append(names, src.String())
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Source says where a resolved value came from. Sources are ordered by precedence: a higher
// value wins.
type Source uint8

const (
	// SourceDefault is the built-in default of the setting.
	SourceDefault Source = iota
	// SourceConfigMap is the controller's ConfigMap.
	SourceConfigMap
	// SourceIngress is an annotation on the Ingress.
	SourceIngress
	// SourceService is an annotation on the Service.
	SourceService
)

func (s Source) String() string {
	switch s {
	case SourceConfigMap:
		return "ConfigMap"
	case SourceIngress:
		return "Ingress"
	case SourceService:
		return "Service"
	}
	return "Default"
}

// where is the source as a place in a sentence.
func (s Source) where() string {
	switch s {
	case SourceConfigMap:
		return "in the ConfigMap"
	case SourceIngress:
		return "on an Ingress"
	case SourceService:
		return "on a Service"
	}
	return "as a default"
}

func (s Source) scope() Scope {
	switch s {
	case SourceConfigMap:
		return ScopeConfigMap
	case SourceIngress:
		return ScopeIngress
	case SourceService:
		return ScopeService
	}
	return 0
}

// Severity of a Problem: the code base's one (pkg/diag).
type Severity = diag.Severity

const (
	// Warning: something was ignored that probably does not change what the operator wanted (an
	// unsupported haproxytech annotation, an alias shadowed by the canonical key).
	Warning = diag.Warning
	// Error: a setting the operator asked for is not applied (bad value, unknown key, wrong scope).
	Error = diag.Error
)

// ReasonInvalid is the Event reason of every problem Parse finds.
const ReasonInvalid = "InvalidAnnotation"

// Problem is the detail of a key or value that Parse could not honour: Parse knows the key, not
// the object. The caller, which knows the object, turns it into the code base's one problem type
// with For.
type Problem struct {
	// Key is the key as written on the object, e.g. "haproxy.org/timeout-server" or
	// "timeout-server" in the ConfigMap; quoted and shortened like Value if it is not a plain key.
	Key string
	// Value is the offending value, quoted, truncated to 64 bytes and with control characters
	// escaped, so it is safe to log. Empty when the problem is about the key itself.
	Value string
	// Message is the reason, in lower case, e.g. "unknown unit: want us, ms, s, m, h or d; the
	// value is ignored and the next setting in precedence order applies".
	Message  string
	Severity Severity
}

// For is the problem as a diag.Problem about obj.
func (p Problem) For(obj diag.Object) diag.Problem {
	return diag.Problem{Object: obj, Severity: p.Severity, Reason: ReasonInvalid, Message: p.String()}
}

// String is the problem as one line, suitable for an Event message.
func (p Problem) String() string {
	if p.Value == "" {
		return p.Key + ": " + p.Message
	}
	return p.Key + ": invalid value " + p.Value + ": " + p.Message
}

// Value is a resolved setting.
type Value[T any] struct {
	// Value is the parsed value. For a setting whose default is empty and that no source sets,
	// it is T's zero value, which each setting documents as "unset".
	Value T
	// Key is the key the value was read from, as written on the object (for example
	// "haproxy.org/load-balance" on a Service, or "load-balance" in the ConfigMap). For
	// SourceDefault it is the setting's bare name.
	Key string
	// Source is where the value came from.
	Source Source
}

// Definition describes one setting. It is what the reference documentation is generated from.
type Definition struct {
	// Name is the bare name: the ConfigMap key, and the annotation key after Prefix.
	Name string
	// Aliases are haproxytech names of the same setting, accepted as PeerPrefix+alias on objects
	// and as the bare alias in the ConfigMap. The canonical key wins over an alias, an earlier
	// alias over a later one.
	Aliases []string
	// Scopes are the places where the setting may be given.
	Scopes Scope
	// Type describes the accepted values.
	Type string
	// Default is the value used when no source sets it, in the same syntax as a user value; empty
	// means unset (the Go zero value).
	Default string
	// Example is a valid value, shown in the documentation.
	Example string
	// Group is the documentation section.
	Group string
	// Doc is one paragraph of documentation.
	Doc string
}

// Key is the annotation key, Prefix+Name.
func (d Definition) Key() string { return Prefix + d.Name }

// Definitions returns every setting, ordered by group then name.
func Definitions() []Definition {
	out := make([]Definition, 0, len(registry))
	for _, s := range registry {
		d := *s.definition()
		d.Aliases = slices.Clone(d.Aliases)
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Definition) int {
		if c := cmp.Compare(groupRank(a.Group), groupRank(b.Group)); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return out
}

// Layer holds the valid settings found on one object, ready for the Resolve functions. The zero
// Layer is empty: use it when there is no such object (no ConfigMap, no Ingress).
type Layer struct {
	source Source
	values map[string]found // by setting name
}

type found struct {
	key   string
	value any
}

// Source says which kind of object the layer was parsed from.
func (l Layer) Source() Source { return l.source }

// maxValueLen bounds any value before a parser sees it; each parser has a smaller bound of its
// own. It keeps megabyte-sized annotations from costing more than a length check.
const maxValueLen = limits.MaxAnnotationValueLen

// Parse validates the annotations of one object (src SourceIngress or SourceService) or the data
// of the ConfigMap (SourceConfigMap) and returns the valid settings. Annotations outside Prefix and
// PeerPrefix are not ours and are ignored. The problems are ordered by key.
func Parse(src Source, values map[string]string) (Layer, []Problem) {
	if src.scope() == 0 {
		panic("annotations.Parse: source must be ConfigMap, Ingress or Service")
	}
	l := Layer{source: src, values: map[string]found{}}
	var probs []Problem

	// Find the setting of every key; several keys may name the same setting.
	bySetting := map[string][]candidate{}
	nginx := map[string]string{}
	for _, k := range sortedKeys(values) {
		if name, ok := strings.CutPrefix(k, NginxPrefix); ok && src != SourceConfigMap {
			nginx[name] = values[k]
			continue
		}
		s, rank, p, ok := lookup(src, k)
		if !ok {
			if p != nil {
				probs = append(probs, *p)
			}
			continue
		}
		d := s.definition()
		if d.Scopes&src.scope() == 0 {
			probs = append(probs, Problem{Key: k, Severity: Error, Message: fmt.Sprintf(
				"not allowed %s; allowed in: %s", src.where(), d.Scopes)})
			continue
		}
		bySetting[d.Name] = append(bySetting[d.Name], candidate{key: k, rank: rank, raw: values[k]})
	}
	if len(nginx) > 0 {
		cands, nprobs := nginxCandidates(src, nginx)
		probs = append(probs, nprobs...)
		for _, c := range cands {
			bySetting[c.setting] = append(bySetting[c.setting], c)
		}
	}

	for _, name := range sortedKeys(bySetting) {
		cands := bySetting[name]
		slices.SortStableFunc(cands, func(a, b candidate) int { return cmp.Compare(a.rank, b.rank) })
		win := cands[0]
		v, err := byName[name].parseAny(win.raw)
		for _, c := range cands[1:] {
			if c.implied {
				continue // a default implied by an ingress-nginx key yields silently
			}
			if err == nil {
				if cv, cerr := byName[name].parseAny(c.raw); cerr == nil && reflect.DeepEqual(cv, v) {
					continue // the same value: nothing to say
				}
			}
			probs = append(probs, Problem{Key: c.key, Severity: Warning, Message: fmt.Sprintf(
				"ignored: %s is also set and takes precedence", win.key)})
		}
		if err != nil {
			probs = append(probs, Problem{Key: win.key, Value: Clip(win.from()), Severity: Error, Message: err.Error() +
				"; the value is ignored and the next setting in precedence order applies"})
			continue
		}
		l.values[name] = found{key: win.key, value: v}
	}
	if src == SourceConfigMap {
		applyProfile(l)
	}
	slices.SortStableFunc(probs, func(a, b Problem) int { return cmp.Compare(a.Key, b.Key) })
	return l, probs
}

// lookup finds the setting a key names, with the key's rank (0 for the canonical key, i+1 for
// alias i). When the key is not a setting it returns the problem to report, if any.
func lookup(src Source, k string) (s entry, rank int, p *Problem, ok bool) {
	if src == SourceConfigMap {
		if s, ok := byName[k]; ok {
			return s, 0, nil, true
		}
		if a, ok := byAlias[k]; ok {
			return a.entry, a.rank, nil, true
		}
		return nil, 0, unknownConfigMapKey(k), false
	}
	switch {
	case strings.HasPrefix(k, Prefix):
		name := k[len(Prefix):]
		if s, ok := byName[name]; ok {
			return s, 0, nil, true
		}
		msg := "unknown annotation"
		if sug := suggest(name); sug != "" {
			msg += "; did you mean " + Prefix + sug + "?"
		}
		return nil, 0, &Problem{Key: clipKey(k), Severity: Error, Message: msg}, false
	case peerPrefixOf(k) >= 0:
		pi := peerPrefixOf(k)
		name := k[len(PeerPrefixes[pi]):]
		if a, ok := byAlias[name]; ok {
			return a.entry, pi*rankStride + a.rank, nil, true
		}
		msg := "not supported by Portcullis"
		if _, ok := byName[name]; ok {
			msg += "; use " + Prefix + name + ", whose value format differs (see documentation/annotations.md)"
		} else if isSnippet(name) {
			msg += ": raw configuration snippets are never accepted"
		}
		return nil, 0, &Problem{Key: clipKey(k), Severity: Warning, Message: msg}, false
	}
	return nil, 0, nil, false
}

// peerPrefixOf is the index in PeerPrefixes of k's prefix, or -1.
func peerPrefixOf(k string) int {
	return slices.IndexFunc(PeerPrefixes, func(p string) bool { return strings.HasPrefix(k, p) })
}

// candidate is a key naming a setting, with its rank (lower wins) and its value in the syntax of
// the setting's parser.
type candidate struct {
	key     string
	setting string
	rank    int
	raw     string
	// orig is the value as written, when raw was converted from another syntax (ingress-nginx).
	orig *string
	// implied: a default that an ingress-nginx key brings along; it loses silently.
	implied bool
}

// from is the value as the user wrote it.
func (c candidate) from() string {
	if c.orig != nil {
		return *c.orig
	}
	return c.raw
}

func unknownConfigMapKey(k string) *Problem {
	if strings.HasPrefix(k, Prefix) {
		if _, ok := byName[k[len(Prefix):]]; ok {
			return &Problem{Key: clipKey(k), Severity: Error, Message: "ConfigMap keys carry no prefix: use " + k[len(Prefix):]}
		}
	}
	if slices.Contains(peerOnly, k) {
		msg := "haproxytech setting not supported by Portcullis"
		if isSnippet(k) {
			msg += ": raw configuration snippets are never accepted"
		}
		return &Problem{Key: k, Severity: Warning, Message: msg}
	}
	msg := "unknown ConfigMap key"
	if sug := suggest(k); sug != "" {
		msg += "; did you mean " + sug + "?"
	}
	return &Problem{Key: clipKey(k), Severity: Error, Message: msg}
}

func isSnippet(name string) bool { return strings.HasSuffix(name, "-snippet") }

// clipLen is how many bytes of a value a Problem shows.
const clipLen = 64

// Clip renders an untrusted value for a message: at most 64 bytes of it (cut at a character
// boundary), Go-quoted so that control characters, quotes and invalid UTF-8 are escaped, followed
// by "..." and the full length when it was cut.
func Clip(s string) string {
	if len(s) <= clipLen {
		return strconv.Quote(s)
	}
	cut := clipLen
	for cut > clipLen-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf("... (%d bytes)", len(s))
}

// clipKey returns k unchanged if it looks like an annotation key, else Clip(k): keys reaching an
// admission webhook have not been validated by the API server.
func clipKey(k string) string {
	if len(k) <= 253+63 && k != "" {
		plain := true
		for _, c := range []byte(k) {
			if !(limits.IsAlnum(c) || c == '-' || c == '_' || c == '.' || c == '/') {
				plain = false
				break
			}
		}
		if plain {
			return k
		}
	}
	return Clip(k)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
