package gateway

import (
	"fmt"
	"strings"
	"time"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// translatedRules are an HTTPRoute's rules, translated once whatever the number of parents.
type translatedRules struct {
	rules []rule
	// valid counts the rules that can be served; the others are left out, the first reason
	// and message saying why.
	valid         int
	invalidReason gatewayv1.RouteConditionReason
	invalidMsg    string
	refsOK        bool
	refsReason    gatewayv1.RouteConditionReason
	refsMsg       string
}

// rule is one servable rule: its matches (routes without table and host), its policy, and its
// backends. A RequestRedirect depends on the listener (its port) and is made per listener.
type rule struct {
	index    int
	matches  []model.HTTPRoute
	policy   model.RoutePolicy
	redirect *gatewayv1.HTTPRequestRedirectFilter
	backends []model.WeightedBackend
}

// unservable is a rule that cannot be served, with the route condition reason.
type unservable struct {
	reason gatewayv1.RouteConditionReason
	msg    string
}

func (u *unservable) Error() string { return u.msg }

func unsupported(format string, a ...any) *unservable {
	return &unservable{reason: gatewayv1.RouteReasonUnsupportedValue, msg: fmt.Sprintf(format, a...)}
}

// translateRules translates the rules of a route. A rule with a value that cannot be rendered is
// left out with a problem on the route.
func (t *translator) translateRules(r *gatewayv1.HTTPRoute, src diag.Object) *translatedRules {
	out := &translatedRules{refsOK: true}
	var bad []string
	for i := range r.Spec.Rules {
		rl, err := t.translateRule(r, src, i, out)
		if err != nil {
			if out.invalidReason == "" {
				out.invalidReason, out.invalidMsg = err.reason, err.msg
			}
			bad = append(bad, err.msg)
			continue
		}
		out.valid++
		out.rules = append(out.rules, rl)
	}
	if len(bad) > 0 {
		t.problem(src, diag.Warning, string(out.invalidReason), "%s; these rules are not served", strings.Join(bad, "; "))
	}
	return out
}

func (t *translator) translateRule(r *gatewayv1.HTTPRoute, src diag.Object, i int, tr *translatedRules) (rule, *unservable) {
	spec := &r.Spec.Rules[i]
	where := fmt.Sprintf("spec.rules[%d]", i)
	rl := rule{index: i}
	matches := spec.Matches
	if len(matches) == 0 {
		matches = []gatewayv1.HTTPRouteMatch{{}}
	}
	prefixOnly := true
	for j, m := range matches {
		rt, err := translateMatch(m, fmt.Sprintf("%s.matches[%d]", where, j))
		if err != nil {
			return rule{}, err
		}
		if rt.Match.Kind != model.MatchPrefix {
			prefixOnly = false
		}
		rl.matches = append(rl.matches, rt)
	}
	if err := t.filters(spec.Filters, where, prefixOnly, &rl); err != nil {
		return rule{}, err
	}
	if err := timeouts(spec.Timeouts, where, &rl.policy); err != nil {
		return rule{}, err
	}
	if spec.Retry != nil {
		return rule{}, unsupported("%s.retry is not supported", where)
	}
	if spec.SessionPersistence != nil {
		return rule{}, unsupported("%s.sessionPersistence is not supported", where)
	}
	for j, b := range spec.BackendRefs {
		if len(b.Filters) > 0 {
			return rule{}, unsupported("%s.backendRefs[%d].filters: filters on a backend are not supported", where, j)
		}
	}
	if rl.redirect == nil {
		rl.backends = t.backendRefs(src, spec.BackendRefs, where, tr)
	} else {
		// Every route has a backend; a redirect answers before one is chosen.
		rl.backends = []model.WeightedBackend{{Name: "", Weight: 1}}
	}
	return rl, nil
}

// translateMatch checks one match and makes its route, without table and host.
func translateMatch(m gatewayv1.HTTPRouteMatch, where string) (model.HTTPRoute, *unservable) {
	var rt model.HTTPRoute
	typ, value := gatewayv1.PathMatchPathPrefix, "/"
	if m.Path != nil {
		if m.Path.Type != nil {
			typ = *m.Path.Type
		}
		if m.Path.Value != nil {
			value = *m.Path.Value
		}
	}
	switch typ {
	case gatewayv1.PathMatchExact, gatewayv1.PathMatchPathPrefix:
		if !model.ValidMapPath(value) {
			return rt, unsupported("%s.path: %q must start with / and contain only URL path characters, at most %d bytes", where, clip(value), limits.MaxURLLen)
		}
		rt.Match.Kind, rt.Match.Path = model.MatchExact, value
		if typ == gatewayv1.PathMatchPathPrefix {
			rt.Match.Kind = model.MatchPrefix
			if p := strings.TrimRight(value, "/"); p != "" {
				rt.Match.Path = p
			} else {
				rt.Match.Path = "/"
			}
		}
	case gatewayv1.PathMatchRegularExpression:
		if err := limits.CheckRegex(value); err != nil {
			return rt, unsupported("%s.path: regular expression %q: %v", where, clip(value), err)
		}
		rt.Match.Kind, rt.Match.Path = model.MatchRegex, value
	default:
		return rt, unsupported("%s.path: type %q is not supported", where, clip(string(typ)))
	}
	if len(m.Headers)+len(m.QueryParams) > limits.MaxRouteConditions {
		return rt, unsupported("%s: more than %d header and query parameter matches", where, limits.MaxRouteConditions)
	}
	seen := map[string]bool{}
	for k, h := range m.Headers {
		name := string(h.Name)
		if err := limits.CheckHeaderName(name); err != nil {
			return rt, unsupported("%s.headers[%d].name %q: %v", where, k, clip(name), err)
		}
		if seen[strings.ToLower(name)] {
			continue // the first match of a name counts (Gateway API)
		}
		seen[strings.ToLower(name)] = true
		vm, err := valueMatch(name, h.Value, h.Type != nil && *h.Type == gatewayv1.HeaderMatchRegularExpression)
		if err != nil {
			return rt, unsupported("%s.headers[%d] (%s): %v", where, k, name, err)
		}
		rt.Headers = append(rt.Headers, vm)
	}
	seen = map[string]bool{}
	for k, q := range m.QueryParams {
		name := string(q.Name)
		if err := limits.CheckToken(name); err != nil {
			return rt, unsupported("%s.queryParams[%d].name %q: %v", where, k, clip(name), err)
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		vm, err := valueMatch(name, q.Value, q.Type != nil && *q.Type == gatewayv1.QueryParamMatchRegularExpression)
		if err != nil {
			return rt, unsupported("%s.queryParams[%d] (%s): %v", where, k, name, err)
		}
		rt.Query = append(rt.Query, vm)
	}
	if m.Method != nil {
		method := string(*m.Method)
		if err := limits.CheckMethod(method); err != nil {
			return rt, unsupported("%s.method %q: %v", where, clip(method), err)
		}
		rt.Method = method
	}
	return rt, nil
}

func valueMatch(name, value string, regex bool) (model.ValueMatch, error) {
	if regex {
		if err := limits.CheckRegex(value); err != nil {
			return model.ValueMatch{}, fmt.Errorf("regular expression %q: %w", clip(value), err)
		}
	} else if err := limits.CheckQuoted(value); err != nil {
		return model.ValueMatch{}, fmt.Errorf("value %q: %w", clip(value), err)
	}
	return model.ValueMatch{Name: name, Value: value, Regex: regex}, nil
}

// filters reads a rule's filters into its policy. prefixOnly says every match of the rule is a
// PathPrefix match, which ReplacePrefixMatch needs.
func (t *translator) filters(fs []gatewayv1.HTTPRouteFilter, where string, prefixOnly bool, rl *rule) *unservable {
	var rewrite bool
	for i, f := range fs {
		at := fmt.Sprintf("%s.filters[%d]", where, i)
		switch f.Type {
		case gatewayv1.HTTPRouteFilterRequestHeaderModifier:
			if f.RequestHeaderModifier == nil {
				return unsupported("%s: requestHeaderModifier is missing", at)
			}
			set, add, remove, err := headerFilter(f.RequestHeaderModifier, at+".requestHeaderModifier")
			if err != nil {
				return err
			}
			rl.policy.RequestHeaders = append(rl.policy.RequestHeaders, set...)
			rl.policy.AddRequestHeaders = append(rl.policy.AddRequestHeaders, add...)
			rl.policy.RemoveRequestHeaders = append(rl.policy.RemoveRequestHeaders, remove...)
		case gatewayv1.HTTPRouteFilterResponseHeaderModifier:
			if f.ResponseHeaderModifier == nil {
				return unsupported("%s: responseHeaderModifier is missing", at)
			}
			set, add, remove, err := headerFilter(f.ResponseHeaderModifier, at+".responseHeaderModifier")
			if err != nil {
				return err
			}
			rl.policy.ResponseHeaders = append(rl.policy.ResponseHeaders, set...)
			rl.policy.AddResponseHeaders = append(rl.policy.AddResponseHeaders, add...)
			rl.policy.RemoveResponseHeaders = append(rl.policy.RemoveResponseHeaders, remove...)
		case gatewayv1.HTTPRouteFilterRequestRedirect:
			rd := f.RequestRedirect
			if rd == nil {
				return unsupported("%s: requestRedirect is missing", at)
			}
			if rewrite || rl.redirect != nil {
				return &unservable{reason: gatewayv1.RouteReasonIncompatibleFilters, msg: at + ": a rule takes one RequestRedirect, and not with a URLRewrite"}
			}
			if err := checkRedirect(rd, at+".requestRedirect", prefixOnly); err != nil {
				return err
			}
			rl.redirect = rd
		case gatewayv1.HTTPRouteFilterURLRewrite:
			rw := f.URLRewrite
			if rw == nil {
				return unsupported("%s: urlRewrite is missing", at)
			}
			if rewrite || rl.redirect != nil {
				return &unservable{reason: gatewayv1.RouteReasonIncompatibleFilters, msg: at + ": a rule takes one URLRewrite, and not with a RequestRedirect"}
			}
			u := &model.URLRewrite{}
			if rw.Hostname != nil {
				h := strings.ToLower(string(*rw.Hostname))
				if err := limits.CheckDNSName(h); err != nil {
					return unsupported("%s.urlRewrite.hostname %q: %v", at, clip(h), err)
				}
				u.Hostname = h
			}
			if rw.Path != nil {
				if err := checkPathModifier(rw.Path, at+".urlRewrite.path", prefixOnly); err != nil {
					return err
				}
				u.Path = pathModifier(rw.Path)
			}
			rewrite = true
			rl.policy.URLRewrite = u
		default:
			return unsupported("%s: filter type %q is not supported", at, clip(string(f.Type)))
		}
	}
	for _, l := range [][]model.Header{rl.policy.RequestHeaders, rl.policy.AddRequestHeaders, rl.policy.ResponseHeaders, rl.policy.AddResponseHeaders} {
		if len(l) > limits.MaxHeaders {
			return unsupported("%s: more than %d headers set or added on requests or on responses", where, limits.MaxHeaders)
		}
	}
	return nil
}

// headerFilter checks a header modifier.
func headerFilter(f *gatewayv1.HTTPHeaderFilter, at string) (set, add []model.Header, remove []string, err *unservable) {
	conv := func(hs []gatewayv1.HTTPHeader, what string) ([]model.Header, *unservable) {
		var out []model.Header
		for i, h := range hs {
			name := string(h.Name)
			if e := limits.CheckHeaderName(name); e != nil {
				return nil, unsupported("%s.%s[%d].name %q: %v", at, what, i, clip(name), e)
			}
			if limits.IsFramingHeader(name) {
				return nil, unsupported("%s.%s[%d].name %q: a header that frames the message cannot be changed", at, what, i, name)
			}
			if e := limits.CheckQuoted(h.Value); e != nil {
				return nil, unsupported("%s.%s[%d] (%s): value %q: %v", at, what, i, name, clip(h.Value), e)
			}
			out = append(out, model.Header{Name: name, Value: h.Value})
		}
		return out, nil
	}
	if set, err = conv(f.Set, "set"); err != nil {
		return
	}
	if add, err = conv(f.Add, "add"); err != nil {
		return
	}
	if len(f.Remove) > limits.MaxHeaders {
		return nil, nil, nil, unsupported("%s.remove: more than %d headers", at, limits.MaxHeaders)
	}
	for i, name := range f.Remove {
		if e := limits.CheckHeaderName(name); e != nil {
			return nil, nil, nil, unsupported("%s.remove[%d] %q: %v", at, i, clip(name), e)
		}
		if limits.IsFramingHeader(name) {
			return nil, nil, nil, unsupported("%s.remove[%d] %q: a header that frames the message cannot be removed", at, i, name)
		}
		remove = append(remove, name)
	}
	return set, add, remove, nil
}

// checkRedirect checks a RequestRedirect filter's values.
func checkRedirect(rd *gatewayv1.HTTPRequestRedirectFilter, at string, prefixOnly bool) *unservable {
	if rd.Scheme != nil && *rd.Scheme != "http" && *rd.Scheme != "https" {
		return unsupported("%s.scheme %q: want http or https", at, clip(*rd.Scheme))
	}
	if rd.Hostname != nil {
		if err := limits.CheckDNSName(strings.ToLower(string(*rd.Hostname))); err != nil {
			return unsupported("%s.hostname %q: %v", at, clip(string(*rd.Hostname)), err)
		}
	}
	if rd.Port != nil && (*rd.Port < 1 || *rd.Port > 65535) {
		return unsupported("%s.port %d: want 1 to 65535", at, *rd.Port)
	}
	if rd.StatusCode != nil && !limits.IsRedirectStatus(*rd.StatusCode) {
		return unsupported("%s.statusCode %d: want one of %v", at, *rd.StatusCode, limits.RedirectStatuses())
	}
	if rd.Path != nil {
		return checkPathModifier(rd.Path, at+".path", prefixOnly)
	}
	return nil
}

// checkPathModifier checks a path modifier: a full path, or a prefix replacement for rules whose
// matches are all PathPrefix matches.
func checkPathModifier(p *gatewayv1.HTTPPathModifier, at string, prefixOnly bool) *unservable {
	var value string
	switch p.Type {
	case gatewayv1.FullPathHTTPPathModifier:
		if p.ReplaceFullPath == nil {
			return unsupported("%s: replaceFullPath is missing", at)
		}
		value = *p.ReplaceFullPath
	case gatewayv1.PrefixMatchHTTPPathModifier:
		if p.ReplacePrefixMatch == nil {
			return unsupported("%s: replacePrefixMatch is missing", at)
		}
		if !prefixOnly {
			return unsupported("%s: ReplacePrefixMatch needs PathPrefix matches only", at)
		}
		value = *p.ReplacePrefixMatch
	default:
		return unsupported("%s: type %q is not supported", at, clip(string(p.Type)))
	}
	if err := limits.CheckPath(value); err != nil {
		return unsupported("%s: %q: %v", at, clip(value), err)
	}
	return nil
}

// timeouts reads a rule's timeouts: the shorter of request and backendRequest bounds the wait for
// the server's answer. Zero ("0s") means no timeout of its own.
func timeouts(to *gatewayv1.HTTPRouteTimeouts, where string, p *model.RoutePolicy) *unservable {
	if to == nil {
		return nil
	}
	for _, d := range []struct {
		name string
		v    *gatewayv1.Duration
	}{{"request", to.Request}, {"backendRequest", to.BackendRequest}} {
		if d.v == nil {
			continue
		}
		v, err := time.ParseDuration(string(*d.v))
		if err == nil {
			err = limits.CheckTimer(v)
		}
		if err != nil {
			return unsupported("%s.timeouts.%s %q: %v", where, d.name, clip(string(*d.v)), err)
		}
		if v > 0 && (p.Timeout == 0 || v < p.Timeout) {
			p.Timeout = v
		}
	}
	return nil
}
