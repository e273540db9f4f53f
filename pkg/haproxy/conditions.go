package haproxy

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// Conditional routes (header, query or method conditions, or a regular-expression path) cannot be
// map entries. The routes of a host that has any are written as frontend rules instead, in
// precedence order, each setting the section when it matches. They run in the stage of their
// host's kind (exact host, one-label wildcard, each multi-label wildcard, no host), before that
// stage's map look-ups, which hold the other hosts: a request is still matched host first, then
// by precedence among its host's routes.

// routeRule is a conditional route as a frontend rule.
type routeRule struct {
	// stage is the stage of the route's host (see stageOf).
	stage int
	// host is the route's host as a map key (see mapHost), compared with the stage's host
	// variable; empty for routes without a host.
	host    string
	cond    string
	section string
}

// The stages of the routing look-ups of an HTTP frontend, in order: the exact host, its one-label
// wildcard form (Ingress "*."), the multi-label wildcards that match it, longest first (Gateway
// API "*."), and the routes without a host.
const (
	stageExact = iota
	stageWildcard
	stageMultiLabel
	stageHostless
)

// stageOf is the look-up stage of a route's host.
func stageOf(m model.HTTPMatch) int {
	switch {
	case m.Host == "":
		return stageHostless
	case !strings.HasPrefix(m.Host, "*."):
		return stageExact
	case m.MultiLabel:
		return stageMultiLabel
	}
	return stageWildcard
}

// mapHost is a route's host in the keys of the route maps: its Host, with one more "*" for a
// multi-label wildcard ("**.example.com"), so that it differs from the one-label wildcard of the
// same name.
func mapHost(m model.HTTPMatch) string {
	if stageOf(m) == stageMultiLabel {
		return "*" + m.Host
	}
	return m.Host
}

// conditionalHosts lists the hosts (as map keys, see mapHost) of a route table that have a
// conditional route.
func conditionalHosts(routes []model.HTTPRoute, table string) map[string]bool {
	hosts := map[string]bool{}
	for _, rt := range routes {
		if rt.Match.Table == table && rt.Conditional() {
			hosts[mapHost(rt.Match)] = true
		}
	}
	return hosts
}

// conditionalRules renders the routes of the conditional hosts of a route table as rules, in stage
// order and, within a host, in the precedence of the Gateway API: an exact path, then a regular
// expression, then the longest prefix; then a method condition; then the most header conditions;
// then the most query conditions.
func conditionalRules(routes []model.HTTPRoute, sections []string, table string) []routeRule {
	hosts := conditionalHosts(routes, table)
	if len(hosts) == 0 {
		return nil
	}
	var idx []int
	for i, rt := range routes {
		if rt.Match.Table == table && hosts[mapHost(rt.Match)] && sections[i] != "" {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ra, rb := routes[a], routes[b]
		if c := cmp.Compare(stageOf(ra.Match), stageOf(rb.Match)); c != 0 {
			return c
		}
		if c := cmp.Compare(ra.Match.Host, rb.Match.Host); c != 0 {
			return c
		}
		if c := cmp.Compare(pathRank(ra.Match.Kind), pathRank(rb.Match.Kind)); c != 0 {
			return c
		}
		if ra.Match.Kind == model.MatchPrefix {
			if c := cmp.Compare(len(rb.Match.Path), len(ra.Match.Path)); c != 0 {
				return c
			}
		}
		if c := cmp.Compare(boolRank(rb.Method != ""), boolRank(ra.Method != "")); c != 0 {
			return c
		}
		if c := cmp.Compare(len(rb.Headers), len(ra.Headers)); c != 0 {
			return c
		}
		if c := cmp.Compare(len(rb.Query), len(ra.Query)); c != 0 {
			return c
		}
		return cmp.Compare(ra.Rank, rb.Rank)
	})
	out := make([]routeRule, 0, len(idx))
	for _, i := range idx {
		m := routes[i].Match
		out = append(out, routeRule{stage: stageOf(m), host: mapHost(m), cond: routeCondition(routes[i]), section: sections[i]})
	}
	return out
}

// condition is the rule's whole ACL condition, its host compared with hostVar, the variable
// holding the request's host in the rule's stage (none for routes without a host).
func (rl routeRule) condition(hostVar string) string {
	if rl.stage == stageHostless {
		return rl.cond
	}
	h := "{ var(" + hostVar + ") -m str " + rl.host + " }"
	if rl.cond == "TRUE" {
		return h
	}
	return h + " " + rl.cond
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

func pathRank(k model.PathMatch) int {
	switch k {
	case model.MatchExact:
		return 0
	case model.MatchRegex:
		return 1
	}
	return 2
}

// routeCondition is the ACL condition of a route but its host (see routeRule.condition); every
// part has been checked by checkConditions.
func routeCondition(rt model.HTTPRoute) string {
	var parts []string
	switch p := rt.Match.Path; rt.Match.Kind {
	case model.MatchExact:
		parts = append(parts, "{ var(txn.path) -m str "+p+" }")
	case model.MatchRegex:
		parts = append(parts, "{ var(txn.path) -m reg "+configRegex(p)+" }")
	default:
		if p != "/" {
			parts = append(parts, "{ var(txn.path) -m reg ^"+regexpLiteral(p)+"(/|$) }")
		}
	}
	if rt.Method != "" {
		parts = append(parts, "{ method "+rt.Method+" }")
	}
	for _, m := range rt.Headers {
		parts = append(parts, valueCondition("req.hdr("+m.Name+")", m))
	}
	for _, m := range rt.Query {
		parts = append(parts, valueCondition("url_param("+m.Name+")", m))
	}
	if len(parts) == 0 {
		return "TRUE"
	}
	return strings.Join(parts, " ")
}

func valueCondition(fetch string, m model.ValueMatch) string {
	not := ""
	if m.Negate {
		not = "!"
	}
	if m.Regex {
		return not + "{ " + fetch + " -m reg " + configRegex(m.Value) + " }"
	}
	return not + "{ " + fetch + " -m str " + quote(m.Value) + " }"
}

// configRegex writes a checked regular expression as one configuration word: HAProxy reads a
// backslash as an escape, so each is doubled.
func configRegex(re string) string { return strings.ReplaceAll(re, `\`, `\\`) }

// Limits of route conditions.
const (
	maxConditions = 16
	maxRegexLen   = 1024
)

// checkConditions checks what a conditional route would write into the configuration.
func checkConditions(where string, rt model.HTTPRoute) []error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{where}, a...)...))
	}
	if rt.Match.Kind == model.MatchRegex && !validRegex(rt.Match.Path) {
		bad("path regular expression %q: want at most %d bytes of printable ASCII without space, quote or '#', valid as RE2", rt.Match.Path, maxRegexLen)
	}
	if rt.Method != "" {
		if err := limits.CheckMethod(rt.Method); err != nil {
			bad("method %q: %v", rt.Method, err)
		}
	}
	if len(rt.Headers)+len(rt.Query) > maxConditions {
		bad("more than %d header and query conditions", maxConditions)
	}
	for _, l := range []struct {
		what string
		ms   []model.ValueMatch
		name func(string) error
	}{{"header", rt.Headers, limits.CheckHeaderName}, {"query parameter", rt.Query, limits.CheckToken}} {
		for _, m := range l.ms {
			if err := l.name(m.Name); err != nil {
				bad("%s name %q: %v", l.what, m.Name, err)
			}
			if m.Regex {
				if !validRegex(m.Value) {
					bad("%s %s: regular expression %q is not valid or not safe to write", l.what, m.Name, m.Value)
				}
			} else if err := limits.CheckQuoted(m.Value); err != nil {
				bad("%s %s: value %q: %v", l.what, m.Name, m.Value, err)
			}
		}
	}
	return errs
}

// validRegex accepts an RE2 regular expression (so that the producer and HAProxy's PCRE read it
// alike) of printable ASCII without space, quotes or '#' (a comment), that is not a word the
// configuration parser would take for an operator or a brace of its own.
func validRegex(s string) bool {
	if s == "" || len(s) > maxRegexLen || s == "{" || s == "}" || s == "||" || strings.HasPrefix(s, "!") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("\"'#", c) >= 0 {
			return false
		}
	}
	_, err := regexp.Compile(s)
	return err == nil
}
