package haproxy

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	parser "github.com/haproxytech/client-native/v5/config-parser"
	"github.com/haproxytech/client-native/v5/config-parser/common"
	"github.com/haproxytech/client-native/v5/config-parser/params"
	"github.com/haproxytech/client-native/v5/config-parser/parsers/actions"
	httpactions "github.com/haproxytech/client-native/v5/config-parser/parsers/http/actions"
	tcptypes "github.com/haproxytech/client-native/v5/config-parser/parsers/tcp/types"
	"github.com/haproxytech/client-native/v5/config-parser/types"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// This file renders model.Global and model.Policy, and holds the checks of their values.
//
// Every string of a Policy or Global reaches haproxy.cfg in one of three forms, each with its own
// character set:
//
//   - a bare word (names, paths, origins, hashes): no space, quote, backslash, '#', '%' or '$'
//     (except in password hashes, where HAProxy reads '$' literally: it expands variables only
//     inside double quotes);
//   - a double-quoted word (header values, the realm): may contain spaces, but no '"', '\', '$'
//     (expanded in double quotes), '%' (log-format: header values and redirect targets are
//     evaluated), '#' or a single quote;
//   - nothing at all: log formats, TLS versions, algorithms and PROXY keywords come from closed
//     vocabularies and are rendered from the renderer's own constants.
//
// None of the sets contains a control character or a non-ASCII byte, so no value can end a line.

// JSONLogFormat is the log-format of LogFormat "json": one JSON object per request. It is a
// constant: no user text is ever evaluated as a log format. %{+E} escapes '"' and '\' in the
// request's own strings; HAProxy already encodes control characters in them.
const JSONLogFormat = `'{"time":"%tr","client_ip":"%ci","client_port":%cp,"frontend":"%f","backend":"%b",` +
	`"server":"%s","method":"%{+E}HM","uri":"%{+E}HU","version":"%{+E}HV","status":%ST,"bytes_read":%B,` +
	`"request_ms":%TR,"queue_ms":%Tw,"connect_ms":%Tc,"response_ms":%Tr,"total_ms":%Ta,` +
	`"termination_state":"%tsc","retries":%rc}'`

// JSONTCPLogFormat is the log-format of TCP frontends when LogFormat is "json": one JSON object
// per connection, with the fields that TCP has. HAProxy refuses JSONLogFormat there, whose
// request fields are reserved for HTTP mode.
const JSONTCPLogFormat = `'{"time":"%t","client_ip":"%ci","client_port":%cp,"frontend":"%f","backend":"%b",` +
	`"server":"%s","bytes_read":%B,"queue_ms":%Tw,"connect_ms":%Tc,"total_ms":%Tt,` +
	`"termination_state":"%ts","retries":%rc}'`

// Fixed names used in backend sections; none can clash with another name in the same scope.
const (
	aclAllowList  = "allow_list"
	aclDenyList   = "deny_list"
	aclCORSOrigin = "cors_origin"
	// corsOriginVar holds the request's Origin header for the CORS rules of a list of origins.
	corsOriginVar = "cors_origin"
	// aclChunk is the number of patterns per acl line: HAProxy refuses lines of more than 64
	// words (MAX_LINE_ARGS), so long lists are split over several lines of the same ACL.
	aclChunk = limits.PatternsPerLine
	// sniVar holds the TLS server name of the request's connection, lower-cased, and
	// clientAuthVar the client-certificate settings of the listener line that name selected
	// (see ClientAuthMap), for the client-certificate check of a route.
	sniVar        = "sni"
	clientAuthVar = "client_auth"
	// rateLimitTableSize is the number of client addresses a rate-limit table remembers.
	rateLimitTableSize = "100k"
	// logFacility is the syslog facility of traffic logs.
	logFacility = "local0"
)

// userlistName is the userlist holding the basic-auth users of a backend. Userlists and proxies
// are separate namespaces, so it cannot clash with a backend name.
func userlistName(backend string) string { return backend + "_users" }

// formatDuration renders a whole number of milliseconds in HAProxy's syntax: seconds when it is
// a whole number of seconds, else milliseconds.
func formatDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
}

// seconds is d in whole seconds, rounded down, for headers that count seconds.
func seconds(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }

// globalSettings renders the process-wide part of g into the global section.
func (r *renderer) globalSettings(g model.Global) {
	const gl = parser.GlobalSectionName
	if g.MaxConn > 0 {
		r.set(parser.Global, gl, "maxconn", &types.Int64C{Value: int64(g.MaxConn)})
	}
	if g.NbThread > 0 {
		r.set(parser.Global, gl, "nbthread", &types.Int64C{Value: int64(g.NbThread)})
	}
	if g.HardStopAfter > 0 {
		r.set(parser.Global, gl, "hard-stop-after", &types.StringC{Value: formatDuration(g.HardStopAfter)})
	}
	switch {
	case g.LogTarget == "stdout":
		r.insert(parser.Global, gl, "log", &types.Log{Address: "stdout", Format: "raw", Facility: logFacility})
	case g.LogTarget != "":
		r.insert(parser.Global, gl, "log", &types.Log{Address: g.LogTarget, Facility: logFacility})
	}
	if g.SSLMinVer != "" {
		r.set(parser.Global, gl, "ssl-default-bind-options", &types.StringC{Value: "ssl-min-ver " + g.SSLMinVer})
	}
	if g.SSLCiphers != "" {
		r.set(parser.Global, gl, "ssl-default-bind-ciphers", &types.StringC{Value: g.SSLCiphers})
	}
	if g.SSLCipherSuites != "" {
		r.set(parser.Global, gl, "ssl-default-bind-ciphersuites", &types.StringC{Value: g.SSLCipherSuites})
	}
}

// defaults renders the defaults-section part of g: timeouts and the traffic log.
func (r *renderer) defaults(g model.Global) {
	if r.err != nil {
		return
	}
	names, err := r.p.SectionsGet(parser.Defaults)
	if err != nil || len(names) != 1 {
		r.err = fmt.Errorf("finding the defaults section: %d sections: %w", len(names), err)
		return
	}
	def := names[0]
	r.errorPagesDefaults(def, g)
	for _, t := range []struct {
		name string
		d    time.Duration
	}{
		{"client", g.TimeoutClient},
		{"connect", g.TimeoutConnect},
		{"server", g.TimeoutServer},
		{"http-request", g.TimeoutHTTPRequest},
		{"http-keep-alive", g.TimeoutHTTPKeepAlive},
		{"queue", g.TimeoutQueue},
		{"tunnel", g.TimeoutTunnel},
	} {
		if t.d > 0 {
			r.set(parser.Defaults, def, "timeout "+t.name, &types.SimpleTimeout{Value: formatDuration(t.d)})
		}
	}
	if g.LogTarget == "" {
		return
	}
	r.insert(parser.Defaults, def, "log", &types.Log{Global: true})
	switch g.LogFormat {
	case "json":
		// A log-format replaces option httplog; both together draw a warning.
		r.set(parser.Defaults, def, "log-format", &types.StringC{Value: JSONLogFormat})
	case "clf":
		r.set(parser.Defaults, def, "option httplog", &types.OptionHTTPLog{Clf: true})
	default:
		r.set(parser.Defaults, def, "option httplog", &types.OptionHTTPLog{})
	}
}

// tcpLog renders the traffic log of a TCP frontend, which would otherwise inherit the defaults'
// HTTP format: TCP's own format, or JSONTCPLogFormat.
func (r *renderer) tcpLog(fe string, g model.Global) {
	switch {
	case g.LogTarget == "":
	case g.LogFormat == "json":
		r.set(parser.Frontends, fe, "log-format", &types.StringC{Value: JSONTCPLogFormat})
	default:
		r.set(parser.Frontends, fe, "option tcplog", &types.SimpleOption{})
	}
}

// userlist renders the basic-auth users of a section.
func (r *renderer) userlist(s Section) {
	if s.Route.BasicAuth == nil {
		return
	}
	name := userlistName(s.Name)
	r.section(parser.UserList, name)
	for _, u := range s.Route.BasicAuth.Users {
		r.insert(parser.UserList, name, "user", &types.User{Name: u.Name, Password: u.Hash})
	}
}

// backendPolicy renders the backend policy of a section, except its server options, which
// serverOptions completes.
func (r *renderer) backendPolicy(name string, p model.BackendPolicy, tcp bool) {
	be := func(attr string, data common.ParserData) { r.set(parser.Backends, name, attr, data) }
	if p.Unavailable {
		// Fail closed: a setting the backend needs could not be honoured.
		if tcp {
			r.insert(parser.Backends, name, "tcp-request", &tcptypes.Content{Action: &actions.Reject{}})
		} else {
			r.insert(parser.Backends, name, "http-request", unavailable())
		}
	}
	if p.Balance.Hashed() {
		// Consistent hashing moves only the keys of a changed server when the runtime API
		// changes a slot; map-based hashing would move almost all of them.
		be("hash-type", &types.HashType{Method: "consistent"})
	}
	be("balance", ptr(balanceOf(p.Balance)))

	for _, t := range []struct {
		name string
		d    time.Duration
	}{
		{"server", p.TimeoutServer}, {"connect", p.TimeoutConnect}, {"queue", p.TimeoutQueue}, {"tunnel", p.TimeoutTunnel},
	} {
		if t.d > 0 {
			be("timeout "+t.name, &types.SimpleTimeout{Value: formatDuration(t.d)})
		}
	}
	if p.Check && p.CheckPath != "" && !tcp {
		be("option httpchk", &types.OptionHttpchk{Method: "GET", URI: p.CheckPath})
	}
	if p.Cookie != "" && !tcp {
		be("cookie", &types.Cookie{Name: p.Cookie, Type: "insert", Indirect: true, Nocache: true, Attr: cookieAttrs(p.CookieAttrs)})
	}
	if p.ForwardedFor && !tcp {
		be("option forwardfor", &types.OptionForwardFor{})
	}
}

func unavailable() types.Action {
	return &httpactions.Return{Status: ptr(int64(503)), ContentType: "text/plain", ContentFormat: "string", Content: `"503 backend unavailable, see the Ingress events"`}
}

// routePolicy renders the request side of a route policy. Request rules run in this order:
// client certificate, access lists, rate limit, CORS preflight (browsers send no credentials with
// it), authentication, redirects, path rewrite, URL rewrite, request headers (remove, set, add),
// timeout. prefix is the path prefix the routes matched, which a path modifier may replace.
func (r *renderer) routePolicy(name string, p model.RoutePolicy, prefix string) {
	be := func(attr string, data common.ParserData) { r.set(parser.Backends, name, attr, data) }
	req := func(a types.Action) { r.insert(parser.Backends, name, "http-request", a) }
	acl := func(aclName, criterion string, patterns []string) {
		for chunk := range slices.Chunk(patterns, aclChunk) {
			r.insert(parser.Backends, name, "acl", &types.ACL{Name: aclName, Criterion: criterion, Value: strings.Join(chunk, " ")})
		}
	}
	if p.Unavailable {
		// Fail closed: a setting the route needs could not be honoured.
		req(unavailable())
	}
	r.nginxEarly(name, p)
	if ca := p.ClientAuth; ca != nil {
		clientAuthRules(ca, req)
	}
	if len(p.AllowList) > 0 {
		acl(aclAllowList, "src", prefixStrings(p.AllowList))
		req(&httpactions.Deny{Status: ptr(int64(403)), Cond: "unless", CondTest: aclAllowList})
	}
	if len(p.DenyList) > 0 {
		acl(aclDenyList, "src", prefixStrings(p.DenyList))
		req(&httpactions.Deny{Status: ptr(int64(403)), Cond: "if", CondTest: aclDenyList})
	}
	if st := clientTable(p); st != nil {
		// ipv6 keys hold IPv4 clients too (as mapped addresses); an ip table could not track
		// IPv6 clients at all.
		be("stick-table", st)
		req(&actions.TrackSc{Type: actions.TrackScType, StickCounter: 0, Key: "src"})
	}
	if rl := p.RateLimit; rl != nil {
		req(&httpactions.Deny{Status: ptr(int64(rl.Status)), Cond: "if", CondTest: fmt.Sprintf("{ sc_http_req_rate(0) gt %d }", rl.Requests)})
	}
	r.connectionLimit(name, p)
	if c := p.CORS; c != nil {
		corsRequest(c, acl, req)
	}
	if a := p.BasicAuth; a != nil {
		realm := ""
		if a.Realm != "" {
			realm = quote(a.Realm)
		}
		req(&httpactions.Auth{Realm: realm, Cond: "unless", CondTest: fmt.Sprintf("{ http_auth(%s) }", userlistName(name))})
	}
	if rd := p.Redirect; rd != nil {
		req(&httpactions.Redirect{Type: "prefix", Value: rd.Location, Code: strconv.Itoa(rd.Code)})
	}
	if p.AppRoot != "" {
		req(&httpactions.Redirect{Type: "location", Value: p.AppRoot, Code: "302", Cond: "if", CondTest: "{ path / }"})
	}
	if rr := p.RequestRedirect; rr != nil {
		requestRedirect(rr, prefix, req)
	}
	if rw := p.PathRewrite; rw != nil {
		match, replace := rewriteRule(rw.From, rw.To)
		req(&httpactions.ReplacePath{MatchRegex: match, ReplaceFmt: replace})
	}
	if u := p.URLRewrite; u != nil {
		urlRewrite(u, prefix, req)
	}
	headerRules(p.RemoveRequestHeaders, p.RequestHeaders, p.AddRequestHeaders, req)
	routeTimeout(p.Timeout, req)
	r.nginxLate(name, p)
}

// clientAuthRules admit a request to a route with a client-certificate check only when it holds
// on the request's own connection:
//
//  1. the connection's TLS server name (SNI) is the request's host, the very value routing used:
//     otherwise 421 Misdirected Request (also without TLS or SNI), which tells a client that
//     reused a connection made for another host (HTTP/2 coalescing) to open one for this host;
//  2. the listener line that this SNI name selected, looked up as HAProxy looks it up (exact
//     name, then wildcard) in ClientAuthMap, has the route's CA and verify mode: otherwise 403
//     (the name is served by another Ingress's line, or by none);
//  3. the connection carries a client certificate that verified; optional: or none at all.
//
// The handshake of that line has already checked the certificate against the CA; these rules
// make sure that no other host, connection or SNI name reaches the route without it.
func clientAuthRules(ca *model.ClientAuth, req func(types.Action)) {
	refuse := func(status int64, msg, cond, test string) {
		req(&httpactions.Return{Status: ptr(status), ContentType: "text/plain", ContentFormat: "string", Content: quote(msg), Cond: cond, CondTest: test})
	}
	const certRequired = "403 a valid client certificate for this host is required"
	req(&actions.SetVar{VarScope: "txn", VarName: sniVar, Expr: exprOf("ssl_fc_sni,lower")})
	// strcmp fails, and the rule refuses, when either variable is missing.
	refuse(421, "421 misdirected request: connect with this host as TLS server name (SNI)",
		"unless", "{ var(txn.host),strcmp(txn."+sniVar+") eq 0 }")
	lookup := func(hostVar, cond string) {
		a := &actions.SetVar{VarScope: "txn", VarName: clientAuthVar,
			Expr: exprOf("so_name,concat(/,txn." + hostVar + ",),map_str(" + ClientAuthMap + ")")}
		if cond != "" {
			a.Cond, a.CondTest = "unless", cond
		}
		req(a)
	}
	lookup("host", "")
	lookup("wildhost", "{ var(txn."+clientAuthVar+") -m found }")
	refuse(403, certRequired, "unless", "{ var(txn."+clientAuthVar+") -m str "+clientAuthProfile(ca)+" }")
	if ca.Optional {
		refuse(403, certRequired, "if", "{ ssl_c_used } !{ ssl_c_verify 0 }")
	} else {
		refuse(403, certRequired, "unless", "{ ssl_c_used } { ssl_c_verify 0 }")
	}
}

// clientAuthProfile is how ClientAuthMap writes client-certificate settings: "<CA file>:required",
// "<CA file>:optional", or "none".
func clientAuthProfile(ca *model.ClientAuth) string {
	switch {
	case ca == nil:
		return "none"
	case ca.Optional:
		return ca.CA + ":optional"
	}
	return ca.CA + ":required"
}

// responsePolicy renders the response side of a route policy.
func (r *renderer) responsePolicy(name string, p model.RoutePolicy) {
	res := func(a types.Action) { r.insert(parser.Backends, name, "http-response", a) }
	if c := p.CORS; c != nil {
		corsResponse(c, res)
	}
	headerRules(p.RemoveResponseHeaders, p.ResponseHeaders, p.AddResponseHeaders, res)
	if p.HSTS > 0 {
		res(&httpactions.SetHeader{Name: "Strict-Transport-Security", Fmt: quote("max-age=" + seconds(p.HSTS)),
			Cond: "if", CondTest: "{ ssl_fc }"})
	}
}

// corsRequest renders the request side of CORS: the preflight answer and, for a list of
// origins, the capture of the request's Origin, echoed only when it is in the list.
func corsRequest(c *model.CORS, acl func(string, string, []string), req func(types.Action)) {
	var hdrs []*httpactions.Hdr
	hdr := func(name, value string) { hdrs = append(hdrs, &httpactions.Hdr{Name: name, Fmt: quote(value)}) }
	preflight := "{ method OPTIONS } { req.hdr(origin) -m found } { req.hdr(access-control-request-method) -m found }"
	if c.Origins.Any {
		hdr("Access-Control-Allow-Origin", "*")
	} else {
		acl(aclCORSOrigin, "var(txn."+corsOriginVar+") -m str", c.Origins.Items)
		// req.fhdr takes the whole header line: a value is echoed only when it is exactly one
		// of the listed origins.
		req(&actions.SetVar{VarScope: "txn", VarName: corsOriginVar, Expr: exprOf("req.fhdr(origin)")})
		hdr("Access-Control-Allow-Origin", "%[var(txn."+corsOriginVar+")]")
		hdr("Vary", "Origin")
		preflight = aclCORSOrigin + " { method OPTIONS } { req.hdr(access-control-request-method) -m found }"
	}
	if !c.Methods.Empty() {
		hdr("Access-Control-Allow-Methods", c.Methods.String())
	}
	if !c.Headers.Empty() {
		hdr("Access-Control-Allow-Headers", c.Headers.String())
	}
	hdr("Access-Control-Max-Age", seconds(c.MaxAge))
	if c.Credentials {
		hdr("Access-Control-Allow-Credentials", "true")
	}
	req(&httpactions.Return{Status: ptr(int64(204)), Hdrs: hdrs, Cond: "if", CondTest: preflight})
}

// corsResponse renders the CORS headers of ordinary responses.
func corsResponse(c *model.CORS, res func(types.Action)) {
	if c.Origins.Any {
		res(&httpactions.SetHeader{Name: "Access-Control-Allow-Origin", Fmt: quote("*")})
		if c.Credentials {
			res(&httpactions.SetHeader{Name: "Access-Control-Allow-Credentials", Fmt: quote("true")})
		}
		return
	}
	res(&httpactions.SetHeader{Name: "Access-Control-Allow-Origin", Fmt: quote("%[var(txn." + corsOriginVar + ")]"),
		Cond: "if", CondTest: aclCORSOrigin})
	if c.Credentials {
		res(&httpactions.SetHeader{Name: "Access-Control-Allow-Credentials", Fmt: quote("true"), Cond: "if", CondTest: aclCORSOrigin})
	}
	// The answer depends on the Origin header, whether it matched or not.
	res(&httpactions.AddHeader{Name: "Vary", Fmt: quote("Origin")})
}

// serverOptions are the options the policy adds to every server slot of the backend.
func serverOptions(p model.BackendPolicy, slot int) []params.ServerOption {
	var opts []params.ServerOption
	if p.Check {
		opts = append(opts, &params.ServerOptionWord{Name: "check"})
		if p.CheckInterval > 0 {
			opts = append(opts, &params.ServerOptionValue{Name: "inter", Value: formatDuration(p.CheckInterval)})
		}
	}
	if p.Cookie != "" {
		opts = append(opts, &params.ServerOptionValue{Name: "cookie", Value: slotName(slot)})
	}
	if p.SendProxy != "" {
		opts = append(opts, &params.ServerOptionWord{Name: p.SendProxy})
	}
	if st := p.ServerTLS; st != nil {
		opts = append(opts, &params.ServerOptionWord{Name: "ssl"})
		if st.CA != nil {
			opts = append(opts,
				&params.ServerOptionValue{Name: "verify", Value: "required"},
				&params.ServerOptionValue{Name: "ca-file", Value: certPath(*st.CA)})
		} else {
			opts = append(opts, &params.ServerOptionValue{Name: "verify", Value: "none"})
		}
		if st.Client != nil {
			opts = append(opts, &params.ServerOptionValue{Name: "crt", Value: certPath(*st.Client)})
		}
		if p.ServerH2 {
			opts = append(opts, &params.ServerOptionValue{Name: "alpn", Value: "h2"})
		}
	} else if p.ServerH2 {
		opts = append(opts, &params.ServerOptionValue{Name: "proto", Value: "h2"})
	}
	return opts
}

// policyFiles lists the certificate files a backend policy needs.
func policyFiles(p model.BackendPolicy, files Files) {
	if st := p.ServerTLS; st != nil {
		for _, c := range []*model.Certificate{st.CA, st.Client} {
			if c != nil {
				files[certPath(*c)] = c.PEM
			}
		}
	}
}

func quote(s string) string { return `"` + s + `"` }

func exprOf(s string) common.Expression { return common.Expression{Expr: strings.Fields(s)} }

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Masked().String()
	}
	return out
}

// rewriteRule builds the replace-path arguments that replace the prefix from with to,
// element-wise: from "/old" matches "/old" and "/old/..." but not "/older"; from "/" matches
// every path. The result follows annotations.PathRewrite.Apply: the rest of the path is
// appended to to without its trailing slash, and an empty result is "/".
func rewriteRule(from, to string) (match, replace string) {
	from = strings.TrimSuffix(from, "/")
	to = strings.TrimSuffix(to, "/")
	if to == "" {
		// "/old" becomes "/", "/old/x" becomes "/x".
		return "^" + regexpLiteral(from) + "(/(.*))?$", `/\2`
	}
	return "^" + regexpLiteral(from) + "(/.*)?$", to + `\1`
}

// regexpLiteral escapes the characters of a checked path that are special in POSIX and PCRE
// regular expressions, as one-character bracket expressions: no backslash is needed, which
// HAProxy's configuration parser would interpret.
func regexpLiteral(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if strings.IndexByte(`.()*+?[]{}|^$\`, c) >= 0 {
			b.WriteByte('[')
			b.WriteByte(c)
			b.WriteByte(']')
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// balanceOf is config-parser's form of a balance algorithm; checkBalance has checked it.
func balanceOf(b model.Balance) types.Balance {
	switch b.Algorithm {
	case "", "roundrobin":
		return types.Balance{Algorithm: "roundrobin"}
	case "random":
		if b.Draws > 0 {
			return types.Balance{Algorithm: "random", Params: &params.BalanceRandom{Draws: int64(b.Draws)}}
		}
	case "uri":
		return types.Balance{Algorithm: "uri", Params: &params.BalanceURI{Whole: b.URIWhole, PathOnly: b.URIPathOnly, Len: int64(b.URILen), Depth: int64(b.URIDepth)}}
	case "url_param":
		return types.Balance{Algorithm: "url_param", Params: &params.BalanceURLParam{Param: b.Param}}
	case "hdr":
		return types.Balance{Algorithm: "hdr", Params: &params.BalanceHdr{Name: b.Param, UseDomainOnly: b.UseDomainOnly}}
	}
	return types.Balance{Algorithm: b.Algorithm}
}

// checkBalance accepts the algorithms and options HAProxy takes, with values that are safe to
// write.
func checkBalance(b model.Balance) error {
	bad := func(why string) error { return fmt.Errorf("balance %s: %s", b.Algorithm, why) }
	noOptions := b.Draws == 0 && !b.URIWhole && !b.URIPathOnly && b.URILen == 0 && b.URIDepth == 0 && b.Param == "" && !b.UseDomainOnly
	switch b.Algorithm {
	case "", "roundrobin", "static-rr", "leastconn", "first", "source":
		if !noOptions {
			return bad("takes no options")
		}
	case "random":
		if b.Draws < 0 || b.Draws > limits.MaxRandomDraws || b.URIWhole || b.URIPathOnly || b.URILen != 0 || b.URIDepth != 0 || b.Param != "" || b.UseDomainOnly {
			return bad(fmt.Sprintf("takes 1 to %d draws and no other option", limits.MaxRandomDraws))
		}
	case "uri":
		if b.URILen < 0 || b.URILen > limits.MaxURIHashLen || b.URIDepth < 0 || b.URIDepth > limits.MaxURIHashLen || b.Draws != 0 || b.Param != "" || b.UseDomainOnly {
			return bad(fmt.Sprintf("len and depth take 0 to %d; no other option", limits.MaxURIHashLen))
		}
	case "url_param":
		if limits.CheckToken(b.Param) != nil || b.Draws != 0 || b.URIWhole || b.URIPathOnly || b.URILen != 0 || b.URIDepth != 0 || b.UseDomainOnly {
			return bad("takes one parameter name of [A-Za-z0-9_.-]")
		}
	case "hdr":
		if limits.CheckHeaderName(b.Param) != nil || b.Draws != 0 || b.URIWhole || b.URIPathOnly || b.URILen != 0 || b.URIDepth != 0 {
			return bad("takes a header name of [A-Za-z0-9_-] and use_domain_only")
		}
	default:
		return bad("unknown algorithm")
	}
	return nil
}

// checkCORSOrigins accepts "*" or 1 to limits.MaxOrigins origins.
func checkCORSOrigins(l model.List) error {
	if l.Any {
		if len(l.Items) > 0 {
			return fmt.Errorf("CORS origins: both * and a list")
		}
		return nil
	}
	if len(l.Items) == 0 || len(l.Items) > limits.MaxOrigins {
		return fmt.Errorf("CORS origins: want * or 1 to %d origins", limits.MaxOrigins)
	}
	for _, o := range l.Items {
		if err := limits.CheckOrigin(o); err != nil {
			return fmt.Errorf("CORS origin %q: %w", o, err)
		}
	}
	return nil
}

// Checks. Each returns nil or errors naming the backend and the field. The limits and
// grammars are those of package limits, which the annotation parsers apply too.

var (
	sendProxyKeywords = []string{"send-proxy", "send-proxy-v2", "send-proxy-v2-ssl", "send-proxy-v2-ssl-cn"}
	logFormats        = []string{"", "default", "clf", "json"}
	tlsVersions       = []string{"", "TLSv1.2", "TLSv1.3"}
)

func checkGlobal(g model.Global) []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("global: "+format, a...)) }
	if g.MaxConn < 0 || g.MaxConn > limits.MaxConnections {
		bad("maxconn %d out of range", g.MaxConn)
	}
	if g.NbThread < 0 || g.NbThread > limits.MaxThreads {
		bad("nbthread %d out of range", g.NbThread)
	}
	for _, t := range []struct {
		name string
		d    time.Duration
	}{
		{"timeout client", g.TimeoutClient}, {"timeout connect", g.TimeoutConnect}, {"timeout server", g.TimeoutServer},
		{"timeout http-request", g.TimeoutHTTPRequest}, {"timeout http-keep-alive", g.TimeoutHTTPKeepAlive},
		{"timeout queue", g.TimeoutQueue}, {"timeout tunnel", g.TimeoutTunnel}, {"hard-stop-after", g.HardStopAfter},
	} {
		if err := limits.CheckTimer(t.d); err != nil {
			bad("%s %s: %v", t.name, t.d, err)
		}
	}
	if g.LogTarget != "" && g.LogTarget != "stdout" {
		if err := limits.CheckHostPort(g.LogTarget, true); err != nil {
			bad("log target %q is neither stdout nor host:port: %v", g.LogTarget, err)
		}
	}
	if !slices.Contains(logFormats, g.LogFormat) {
		bad("log format %q is not one of default, clf, json", g.LogFormat)
	}
	if !slices.Contains(tlsVersions, g.SSLMinVer) {
		bad("TLS version %q is not TLSv1.2 or TLSv1.3", g.SSLMinVer)
	}
	if g.SSLCiphers != "" {
		if err := limits.CheckCipherList(g.SSLCiphers); err != nil {
			bad("TLS ciphers %q: %v", g.SSLCiphers, err)
		}
	}
	if g.SSLCipherSuites != "" {
		if err := limits.CheckCipherSuites(g.SSLCipherSuites); err != nil {
			bad("TLS cipher suites %q: %v", g.SSLCipherSuites, err)
		}
	}
	return errs
}

func checkBackendPolicy(backend string, p model.BackendPolicy) []error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("backend %s: "+format, append([]any{backend}, a...)...))
	}
	if err := checkBalance(p.Balance); err != nil {
		bad("%v", err)
	}
	if st := p.ServerTLS; st != nil {
		for _, c := range []*model.Certificate{st.CA, st.Client} {
			if c != nil && (!model.ValidCertName(c.Name) || c.Name != model.CertName(c.PEM)) {
				bad("server certificate name %q is not the hash of its content", c.Name)
			}
		}
	}
	for _, t := range []struct {
		name string
		d    time.Duration
	}{
		{"timeout server", p.TimeoutServer}, {"timeout connect", p.TimeoutConnect},
		{"timeout queue", p.TimeoutQueue}, {"timeout tunnel", p.TimeoutTunnel}, {"check interval", p.CheckInterval},
	} {
		if err := limits.CheckTimer(t.d); err != nil {
			bad("%s %s: %v", t.name, t.d, err)
		}
	}
	if p.CheckPath != "" {
		if err := limits.CheckPath(p.CheckPath); err != nil {
			bad("check path %q: %v", p.CheckPath, err)
		}
	}
	if p.Cookie != "" {
		if err := limits.CheckToken(p.Cookie); err != nil {
			bad("cookie name %q: %v", p.Cookie, err)
		}
	}
	errs = append(errs, checkCookieAttrs("backend "+backend, p.CookieAttrs)...)
	if p.SendProxy != "" && !slices.Contains(sendProxyKeywords, p.SendProxy) {
		bad("PROXY protocol keyword %q is not one of %s", p.SendProxy, strings.Join(sendProxyKeywords, ", "))
	}
	return errs
}

// checkRoutePolicy checks the values of a route policy; where names the route.
func checkRoutePolicy(where string, p model.RoutePolicy) []error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{where}, a...)...))
	}
	if rw := p.PathRewrite; rw != nil {
		if err := errors.Join(limits.CheckPath(rw.From), limits.CheckPath(rw.To)); err != nil {
			bad("path rewrite %q to %q: %v", rw.From, rw.To, err)
		}
	}
	if rd := p.Redirect; rd != nil {
		if err := limits.CheckRedirectURL(rd.Location); err != nil {
			bad("redirect location %q: %v", rd.Location, err)
		}
		if !limits.IsRedirectStatus(rd.Code) {
			bad("redirect code %d is not a redirect", rd.Code)
		}
	}
	if p.AppRoot != "" {
		if err := limits.CheckPath(p.AppRoot); err != nil {
			bad("app root %q: %v", p.AppRoot, err)
		}
	}
	for _, l := range []struct {
		name string
		ps   []netip.Prefix
	}{{"allow list", p.AllowList}, {"deny list", p.DenyList}} {
		if len(l.ps) > limits.MaxNetworks {
			bad("%s has more than %d networks", l.name, limits.MaxNetworks)
		}
		for _, pf := range l.ps {
			if !pf.IsValid() || pf.Addr().Zone() != "" {
				bad("%s: invalid network %s", l.name, pf)
			}
		}
	}
	if rl := p.RateLimit; rl != nil {
		if rl.Requests < 1 || rl.Requests > limits.MaxRateLimitRequests {
			bad("rate limit of %d requests out of range", rl.Requests)
		}
		if err := limits.CheckTimer(rl.Period); err != nil {
			bad("rate limit period %s: %v", rl.Period, err)
		} else if rl.Period == 0 {
			bad("rate limit period is zero")
		}
		if !limits.IsErrorPageStatus(rl.Status) {
			bad("rate limit status %d has no HAProxy error page", rl.Status)
		}
	}
	if a := p.BasicAuth; a != nil {
		if a.Realm != "" {
			if err := limits.CheckQuoted(a.Realm); err != nil {
				bad("realm %q: %v", a.Realm, err)
			}
		}
		seen := map[string]bool{}
		for _, u := range a.Users {
			if err := limits.CheckToken(u.Name); err != nil {
				bad("user name %q: %v", u.Name, err)
			}
			if seen[u.Name] {
				bad("user %q listed twice", u.Name)
			}
			seen[u.Name] = true
			if err := limits.CheckCryptHash(u.Hash); err != nil {
				bad("password hash of user %q: %v", u.Name, err)
			}
		}
	}
	if c := p.CORS; c != nil {
		if err := checkCORSOrigins(c.Origins); err != nil {
			bad("%v", err)
		}
		// The lists are checked as they are written into the header, as the parser checks them.
		for _, l := range []struct {
			what        string
			list        model.List
			check, item func(string) error
		}{{"methods", c.Methods, limits.CheckMethods, limits.CheckMethod}, {"headers", c.Headers, limits.CheckHeaderNames, limits.CheckHeaderName}} {
			if l.list.Any && len(l.list.Items) > 0 {
				bad("CORS %s: both * and a list", l.what)
				continue
			}
			if l.list.Empty() {
				continue
			}
			if err := l.check(l.list.String()); err != nil {
				bad("CORS %s %q: %v", l.what, l.list.String(), err)
			}
			for _, it := range l.list.Items {
				if err := l.item(it); err != nil {
					bad("CORS %s: %q: %v", l.what, it, err)
				}
			}
		}
		if err := limits.CheckDuration(c.MaxAge); err != nil {
			bad("CORS max age %s: %v", c.MaxAge, err)
		}
	}
	for _, hs := range []struct {
		dir string
		hs  []model.Header
	}{{"request", p.RequestHeaders}, {"response", p.ResponseHeaders}} {
		if len(hs.hs) > limits.MaxHeaders {
			bad("more than %d %s headers", limits.MaxHeaders, hs.dir)
		}
		for _, h := range hs.hs {
			if err := limits.CheckHeaderName(h.Name); err != nil {
				bad("%s header name %q: %v", hs.dir, h.Name, err)
			} else if limits.IsFramingHeader(h.Name) {
				bad("%s header name %q: a framing header", hs.dir, h.Name)
			}
			if err := limits.CheckQuoted(h.Value); err != nil {
				bad("%s header %s: value %q: %v", hs.dir, h.Name, h.Value, err)
			}
		}
	}
	if err := limits.CheckDuration(p.HSTS); err != nil {
		bad("HSTS max-age %s: %v", p.HSTS, err)
	}
	if ca := p.ClientAuth; ca != nil && !model.ValidCertName(ca.CA) {
		bad("client CA %q is not a certificate file name", ca.CA)
	}
	return append(errs, checkNginxPolicy(where, p)...)
}
