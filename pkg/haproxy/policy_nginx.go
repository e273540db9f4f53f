package haproxy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	parser "github.com/haproxytech/client-native/v5/config-parser"
	httpactions "github.com/haproxytech/client-native/v5/config-parser/parsers/http/actions"
	"github.com/haproxytech/client-native/v5/config-parser/types"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// This file renders the route policies that came with ingress-nginx's annotations (see
// model/policy_nginx.go), and checks their values against package limits, as the annotation
// parsers do.

// nginxEarly renders the rules that answer before any other policy of the route: the redirects
// (redirect-to, the host redirect, then the one to HTTPS: ingress-nginx redirects before it
// authenticates) and the body size limit.
func (r *renderer) nginxEarly(name string, p model.RoutePolicy) {
	req := func(a types.Action) { r.insert(parser.Backends, name, "http-request", a) }
	if rd := p.RedirectTo; rd != nil {
		req(&httpactions.Redirect{Type: "location", Value: rd.Location, Code: strconv.Itoa(rd.Code)})
	}
	if h := p.HostRedirect; h != nil {
		code := strconv.Itoa(h.Code)
		req(&httpactions.Redirect{Type: "prefix", Value: "https://" + h.Host, Code: code, Cond: "if", CondTest: "{ ssl_fc }"})
		req(&httpactions.Redirect{Type: "prefix", Value: "http://" + h.Host, Code: code, Cond: "unless", CondTest: "{ ssl_fc }"})
	}
	if p.ForceHTTPS != 0 {
		// A load balancer that ends TLS says so in X-Forwarded-Proto.
		req(&httpactions.Redirect{Type: "scheme", Value: "https", Code: strconv.Itoa(p.ForceHTTPS),
			Cond: "if", CondTest: "!{ ssl_fc } !{ req.hdr(x-forwarded-proto) -i https }"})
	}
	if p.MaxBodySize > 0 {
		req(&httpactions.Return{Status: ptr(int64(413)), ContentType: "text/plain", ContentFormat: "string",
			Content: quote("413 request body too large"), Cond: "if",
			CondTest: fmt.Sprintf("{ req.hdr_val(content-length) gt %d }", p.MaxBodySize)})
	}
}

// nginxLate renders the rules that change the request last: the rewrite by regular expression,
// after every rule that reads the path as the client sent it.
func (r *renderer) nginxLate(name string, p model.RoutePolicy) {
	if rw := p.RegexRewrite; rw != nil {
		r.insert(parser.Backends, name, "http-request", &httpactions.ReplacePath{MatchRegex: configRegex(rw.Regex), ReplaceFmt: rw.Replace})
	}
	r.interceptErrors(name, p)
}

// checkNginxPolicy checks the values of nginxEarly's and nginxLate's rules.
func checkNginxPolicy(where string, p model.RoutePolicy) []error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{where}, a...)...))
	}
	if rw := p.RegexRewrite; rw != nil {
		if err := limits.CheckRegex(rw.Regex); err != nil {
			bad("rewrite expression %q: %v", rw.Regex, err)
		}
		if err := limits.CheckRewriteTarget(rw.Replace); err != nil {
			bad("rewrite target %q: %v", rw.Replace, err)
		}
	}
	if p.ForceHTTPS != 0 && !limits.IsRedirectStatus(p.ForceHTTPS) {
		bad("HTTPS redirect code %d is not a redirect", p.ForceHTTPS)
	}
	if rd := p.RedirectTo; rd != nil {
		if err := limits.CheckRedirectURL(rd.Location); err != nil {
			bad("redirect location %q: %v", rd.Location, err)
		}
		if !limits.IsRedirectStatus(rd.Code) {
			bad("redirect code %d is not a redirect", rd.Code)
		}
	}
	if h := p.HostRedirect; h != nil {
		if err := limits.CheckDNSName(h.Host); err != nil {
			bad("host redirect to %q: %v", h.Host, err)
		}
		if !limits.IsRedirectStatus(h.Code) {
			bad("host redirect code %d is not a redirect", h.Code)
		}
	}
	errs = append(errs, checkInterceptErrors(where, p)...)
	if p.MaxConnections < 0 || p.MaxConnections > limits.MaxConnections {
		bad("connection limit %d out of range", p.MaxConnections)
	}
	if p.MaxBodySize < 0 || p.MaxBodySize > limits.MaxBodySize {
		bad("body size limit %d out of range", p.MaxBodySize)
	}
	return errs
}

// cookieAttrs are the attr words of a persistence cookie: HAProxy appends each to the cookie it
// inserts, after its own "path=/", so that a Path of ours is the last and the one browsers use.
func cookieAttrs(a *model.CookieAttributes) []string {
	if a == nil {
		return nil
	}
	var out []string
	if a.MaxAge > 0 {
		out = append(out, "Max-Age="+strconv.FormatInt(int64(a.MaxAge/time.Second), 10))
	}
	if a.SameSite != "" {
		out = append(out, "SameSite="+a.SameSite)
	}
	if a.Path != "" {
		out = append(out, "Path="+a.Path)
	}
	return out
}

// checkCookieAttrs checks the values of cookieAttrs.
func checkCookieAttrs(where string, a *model.CookieAttributes) []error {
	if a == nil {
		return nil
	}
	var errs []error
	if a.MaxAge < 0 || a.MaxAge > limits.MaxCookieMaxAge {
		errs = append(errs, fmt.Errorf("%s: cookie max-age %s out of range", where, a.MaxAge))
	}
	if !slices.Contains([]string{"", "None", "Lax", "Strict"}, a.SameSite) {
		errs = append(errs, fmt.Errorf("%s: cookie SameSite %q is not None, Lax or Strict", where, a.SameSite))
	}
	if a.Path != "" {
		if err := limits.CheckCookiePath(a.Path); err != nil {
			errs = append(errs, fmt.Errorf("%s: cookie path %q: %w", where, a.Path, err))
		}
	}
	return errs
}

// clientTable is the stick table that counts each client address of a route section, for the
// rate limit and the connection limit, both tracked by counter 0 (tracking one entry with two
// counters would count each request twice in conn_cur); nil without either.
func clientTable(p model.RoutePolicy) *types.StickTable {
	var store []string
	expire := "1m"
	if rl := p.RateLimit; rl != nil {
		expire = formatDuration(rl.Period)
		store = append(store, "http_req_rate("+expire+")")
	}
	if p.MaxConnections > 0 {
		store = append(store, "conn_cur")
	}
	if len(store) == 0 {
		return nil
	}
	return &types.StickTable{Type: "ipv6", Size: rateLimitTableSize, Expire: expire, Store: strings.Join(store, ",")}
}

// connectionLimit answers 503 to a request whose client address already has MaxConnections
// requests in progress on the section: counter 0, tracked by the request, counts the request
// itself until it ends (ingress-nginx's limit-connections counts connections with a request in
// progress).
func (r *renderer) connectionLimit(name string, p model.RoutePolicy) {
	if p.MaxConnections > 0 {
		r.insert(parser.Backends, name, "http-request", &httpactions.Deny{Status: ptr(int64(503)), Cond: "if",
			CondTest: fmt.Sprintf("{ sc_conn_cur(0) gt %d }", p.MaxConnections)})
	}
}
