package haproxy

import (
	"fmt"
	"strconv"
	"time"

	parser "github.com/haproxytech/client-native/v5/config-parser"
	httpactions "github.com/haproxytech/client-native/v5/config-parser/parsers/http/actions"
	"github.com/haproxytech/client-native/v5/config-parser/types"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// This file renders and checks the route-policy fields that the Gateway API's filters produce
// (header modifiers, RequestRedirect, URLRewrite, the route timeout) and the 500 answers of
// unresolved backends. routePolicy and responsePolicy call it at their place in the order of the
// rules.

// requestRedirect answers with a redirect built from the request's URL: its scheme, host (without
// port) and path with query, each replaced as the redirect says. A path modifier rewrites the
// request's path first (the request goes no further), so that the Location carries the new path
// with the query string as it came.
func requestRedirect(rr *model.RequestRedirect, prefix string, req func(types.Action)) {
	pathModifier(rr.Path, prefix, req)
	scheme := "%[ssl_fc,iif(https,http)]"
	if rr.Scheme != "" {
		scheme = rr.Scheme
	}
	host := "%[var(txn.host)]"
	if rr.Hostname != "" {
		host = rr.Hostname
	}
	port := ""
	if rr.Port != 0 {
		port = ":" + strconv.Itoa(int(rr.Port))
	}
	req(&httpactions.Redirect{Type: "location", Value: scheme + "://" + host + port + "%[pathq]", Code: strconv.Itoa(rr.Code)})
}

// urlRewrite replaces the Host header and the path of the request on its way to the backend.
func urlRewrite(u *model.URLRewrite, prefix string, req func(types.Action)) {
	if u.Hostname != "" {
		req(&httpactions.SetHeader{Name: "Host", Fmt: quote(u.Hostname)})
	}
	pathModifier(u.Path, prefix, req)
}

// pathModifier replaces the request's path, keeping its query string: the whole of it, or the
// prefix the route matched, element-wise (the Gateway API's ReplacePrefixMatch: with prefix
// "/foo", "/xyz" makes "/foo/bar" "/xyz/bar" and "/foo" "/xyz"; "/" or "" makes them "/bar" and
// "/").
func pathModifier(pm *model.PathModifier, prefix string, req func(types.Action)) {
	switch {
	case pm == nil:
	case pm.Full:
		req(&httpactions.SetPath{Fmt: pm.Value})
	default:
		match, replace := rewriteRule(prefix, pm.Value)
		req(&httpactions.ReplacePath{MatchRegex: match, ReplaceFmt: replace})
	}
}

// headerRules renders a header modifier's rules, in the order remove, set, add: set replaces
// every value the header had, add appends one.
func headerRules(remove []string, set, add []model.Header, rule func(types.Action)) {
	for _, name := range remove {
		rule(&httpactions.DelHeader{Name: name})
	}
	for _, h := range set {
		rule(&httpactions.SetHeader{Name: h.Name, Fmt: quote(h.Value)})
	}
	for _, h := range add {
		rule(&httpactions.AddHeader{Name: h.Name, Fmt: quote(h.Value)})
	}
}

// routeTimeout bounds the wait for the server's answer to the route's requests.
func routeTimeout(d time.Duration, req func(types.Action)) {
	if d > 0 {
		req(&httpactions.SetTimeout{Type: "server", Timeout: formatDuration(d)})
	}
}

// unresolvedRule answers the unresolved backends' share of a section's requests with 500: all of
// them, or a random share of Unresolved out of Total.
func (r *renderer) unresolvedRule(s Section) {
	if s.Total == 0 {
		return
	}
	a := &httpactions.Return{Status: ptr(int64(500)), ContentType: "text/plain", ContentFormat: "string",
		Content: `"500 the route's backend could not be resolved"`}
	if s.Unresolved < s.Total {
		a.Cond, a.CondTest = "if", fmt.Sprintf("{ rand(%d) lt %d }", s.Total, s.Unresolved)
	}
	r.insert(parser.Backends, s.Name, "http-request", a)
}

// checkGatewayPolicy checks the Gateway API fields of a route's policy; where names the route.
func checkGatewayPolicy(where string, rt model.HTTPRoute) []error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{where}, a...)...))
	}
	p := rt.Policy
	for _, hs := range []struct {
		what string
		hs   []model.Header
	}{{"added request", p.AddRequestHeaders}, {"added response", p.AddResponseHeaders}} {
		if len(hs.hs) > limits.MaxHeaders {
			bad("more than %d %s headers", limits.MaxHeaders, hs.what)
		}
		for _, h := range hs.hs {
			if err := checkModifiedHeader(h.Name); err != nil {
				bad("%s header name %q: %v", hs.what, h.Name, err)
			}
			if err := limits.CheckQuoted(h.Value); err != nil {
				bad("%s header %s: value %q: %v", hs.what, h.Name, h.Value, err)
			}
		}
	}
	for _, hs := range []struct {
		what  string
		names []string
	}{{"removed request", p.RemoveRequestHeaders}, {"removed response", p.RemoveResponseHeaders}} {
		if len(hs.names) > limits.MaxHeaders {
			bad("more than %d %s headers", limits.MaxHeaders, hs.what)
		}
		for _, n := range hs.names {
			if err := checkModifiedHeader(n); err != nil {
				bad("%s header name %q: %v", hs.what, n, err)
			}
		}
	}
	if rr := p.RequestRedirect; rr != nil {
		if rr.Scheme != "" && rr.Scheme != "http" && rr.Scheme != "https" {
			bad("redirect scheme %q is not http or https", rr.Scheme)
		}
		if rr.Hostname != "" {
			if err := limits.CheckHost(rr.Hostname); err != nil {
				bad("redirect hostname %q: %v", rr.Hostname, err)
			}
		}
		if !limits.IsRedirectStatus(rr.Code) {
			bad("redirect code %d is not a redirect", rr.Code)
		}
		errs = append(errs, checkPathModifier(where, "redirect", rr.Path, rt.Match)...)
	}
	if u := p.URLRewrite; u != nil {
		if u.Hostname != "" {
			if err := limits.CheckHost(u.Hostname); err != nil {
				bad("rewrite hostname %q: %v", u.Hostname, err)
			}
		}
		errs = append(errs, checkPathModifier(where, "rewrite", u.Path, rt.Match)...)
	}
	if p.RequestRedirect != nil && p.URLRewrite != nil {
		bad("a redirect and a URL rewrite on one route")
	}
	if err := limits.CheckTimer(p.Timeout); err != nil {
		bad("timeout %s: %v", p.Timeout, err)
	}
	return errs
}

// checkModifiedHeader accepts the name of a header that a route may add or remove: not one that
// frames the message, nor Host (a request has exactly one; URLRewrite replaces it).
func checkModifiedHeader(name string) error {
	if err := limits.CheckHeaderName(name); err != nil {
		return err
	}
	if limits.IsFramingHeader(name) || limits.ASCIILower(name) == "host" {
		return fmt.Errorf("a header that frames or routes the message")
	}
	return nil
}

// checkPathModifier checks a path replacement: a path, and for the matched prefix, a route that
// matches a prefix (an empty replacement is "/").
func checkPathModifier(where, what string, pm *model.PathModifier, m model.HTTPMatch) []error {
	switch {
	case pm == nil:
	case !pm.Full && m.Kind != model.MatchPrefix:
		return []error{fmt.Errorf("%s: %s replaces the matched prefix of a route that matches no prefix", where, what)}
	case !pm.Full && pm.Value == "":
	default:
		if err := limits.CheckPath(pm.Value); err != nil {
			return []error{fmt.Errorf("%s: %s path %q: %w", where, what, pm.Value, err)}
		}
	}
	return nil
}
