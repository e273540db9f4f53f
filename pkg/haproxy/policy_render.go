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
	aclChunk = 32
	// rateLimitTableSize is the number of client addresses a rate-limit table remembers.
	rateLimitTableSize = "100k"
	// logFacility is the syslog facility of traffic logs.
	logFacility = "local0"
)

// Limits of the values the renderer accepts.
const (
	// maxTimer is the longest time HAProxy accepts for a timeout or timer (INT_MAX ms).
	maxTimer       = 2147483647 * time.Millisecond
	maxHeaderValue = 1024
	maxNameLen     = 64
	maxPathLen     = 1024
	maxURLLen      = 2048
	maxCipherLen   = 2048
	maxListItems   = 1000
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
		be("cookie", &types.Cookie{Name: p.Cookie, Type: "insert", Indirect: true, Nocache: true})
	}
	if p.ForwardedFor && !tcp {
		be("option forwardfor", &types.OptionForwardFor{})
	}
}

func unavailable() types.Action {
	return &httpactions.Return{Status: ptr(int64(503)), ContentType: "text/plain", ContentFormat: "string", Content: `"503 backend unavailable, see the Ingress events"`}
}

// routePolicy renders the request side of a route policy. Request rules run in this order: access
// lists, rate limit, CORS preflight (browsers send no credentials with it), authentication,
// redirects, path rewrite, request headers.
func (r *renderer) routePolicy(name string, p model.RoutePolicy) {
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
	if len(p.AllowList) > 0 {
		acl(aclAllowList, "src", prefixStrings(p.AllowList))
		req(&httpactions.Deny{Status: ptr(int64(403)), Cond: "unless", CondTest: aclAllowList})
	}
	if len(p.DenyList) > 0 {
		acl(aclDenyList, "src", prefixStrings(p.DenyList))
		req(&httpactions.Deny{Status: ptr(int64(403)), Cond: "if", CondTest: aclDenyList})
	}
	if rl := p.RateLimit; rl != nil {
		period := formatDuration(rl.Period)
		// ipv6 keys hold IPv4 clients too (as mapped addresses); an ip table could not track
		// IPv6 clients at all.
		be("stick-table", &types.StickTable{Type: "ipv6", Size: rateLimitTableSize, Expire: period, Store: "http_req_rate(" + period + ")"})
		req(&actions.TrackSc{Type: actions.TrackScType, StickCounter: 0, Key: "src"})
		req(&httpactions.Deny{Status: ptr(int64(rl.Status)), Cond: "if", CondTest: fmt.Sprintf("{ sc_http_req_rate(0) gt %d }", rl.Requests)})
	}
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
	if rw := p.PathRewrite; rw != nil {
		match, replace := rewriteRule(rw.From, rw.To)
		req(&httpactions.ReplacePath{MatchRegex: match, ReplaceFmt: replace})
	}
	for _, h := range p.RequestHeaders {
		req(&httpactions.SetHeader{Name: h.Name, Fmt: quote(h.Value)})
	}
}

// responsePolicy renders the response side of a route policy.
func (r *renderer) responsePolicy(name string, p model.RoutePolicy) {
	res := func(a types.Action) { r.insert(parser.Backends, name, "http-response", a) }
	if c := p.CORS; c != nil {
		corsResponse(c, res)
	}
	for _, h := range p.ResponseHeaders {
		res(&httpactions.SetHeader{Name: h.Name, Fmt: quote(h.Value)})
	}
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
		if b.Draws < 0 || b.Draws > 100 || b.URIWhole || b.URIPathOnly || b.URILen != 0 || b.URIDepth != 0 || b.Param != "" || b.UseDomainOnly {
			return bad("takes 1 to 100 draws and no other option")
		}
	case "uri":
		if b.URILen < 0 || b.URILen > 4096 || b.URIDepth < 0 || b.URIDepth > 4096 || b.Draws != 0 || b.Param != "" || b.UseDomainOnly {
			return bad("len and depth take 0 to 4096; no other option")
		}
	case "url_param":
		if !validToken(b.Param, isParamChar) || b.Draws != 0 || b.URIWhole || b.URIPathOnly || b.URILen != 0 || b.URIDepth != 0 || b.UseDomainOnly {
			return bad("takes one parameter name of [A-Za-z0-9_.-]")
		}
	case "hdr":
		if !validHeaderName(b.Param) || b.Draws != 0 || b.URIWhole || b.URIPathOnly || b.URILen != 0 || b.URIDepth != 0 {
			return bad("takes a header name of [A-Za-z0-9_-] and use_domain_only")
		}
	default:
		return bad("unknown algorithm")
	}
	return nil
}

// smallInt reads 1 to 6 decimal digits.
func smallInt(s string) (int, bool) {
	if s == "" || len(s) > 6 || !allBytes(s, isDigit) {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// checkCORSOrigins accepts "*" or 1 to maxListItems origins.
func checkCORSOrigins(l model.List) error {
	if l.Any {
		if len(l.Items) > 0 {
			return fmt.Errorf("CORS origins: both * and a list")
		}
		return nil
	}
	if len(l.Items) == 0 || len(l.Items) > maxListItems {
		return fmt.Errorf("CORS origins: want * or 1 to %d origins", maxListItems)
	}
	for _, o := range l.Items {
		if !validOrigin(o) {
			return fmt.Errorf("CORS origin %q is not scheme://host[:port]", o)
		}
	}
	return nil
}

// checkList accepts "*", nothing, or items of ok whose rendering fits a header value.
func checkList(l model.List, ok func(byte) bool) bool {
	if l.Any {
		return len(l.Items) == 0
	}
	if len(l.String()) > maxHeaderValue {
		return false
	}
	for _, it := range l.Items {
		if !validToken(it, ok) {
			return false
		}
	}
	return true
}

// Checks. Each returns nil or errors naming the backend and the field.

var (
	sendProxyKeywords = []string{"send-proxy", "send-proxy-v2", "send-proxy-v2-ssl", "send-proxy-v2-ssl-cn"}
	// denyStatuses are the statuses HAProxy has a built-in error page for.
	denyStatuses    = []int{400, 403, 404, 405, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504}
	redirectCodes   = []int{301, 302, 303, 307, 308}
	logFormats      = []string{"", "default", "clf", "json"}
	tlsVersions     = []string{"", "TLSv1.2", "TLSv1.3"}
	hopByHopHeaders = []string{"connection", "content-length", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
)

func checkGlobal(g model.Global) []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("global: "+format, a...)) }
	if g.MaxConn < 0 || g.MaxConn > 1<<30 {
		bad("maxconn %d out of range", g.MaxConn)
	}
	if g.NbThread < 0 || g.NbThread > 4096 {
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
		if err := checkTimer(t.d, true); err != nil {
			bad("%s: %v", t.name, err)
		}
	}
	if g.LogTarget != "" && g.LogTarget != "stdout" && !validHostPort(g.LogTarget) {
		bad("log target %q is neither stdout nor host:port", g.LogTarget)
	}
	if !slices.Contains(logFormats, g.LogFormat) {
		bad("log format %q is not one of default, clf, json", g.LogFormat)
	}
	if !slices.Contains(tlsVersions, g.SSLMinVer) {
		bad("TLS version %q is not TLSv1.2 or TLSv1.3", g.SSLMinVer)
	}
	for _, c := range []struct{ name, v string }{{"ciphers", g.SSLCiphers}, {"cipher suites", g.SSLCipherSuites}} {
		if c.v != "" && (len(c.v) > maxCipherLen || !allBytes(c.v, isCipherChar)) {
			bad("TLS %s %q: want [A-Za-z0-9:+!_.-], at most %d bytes", c.name, c.v, maxCipherLen)
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
		if err := checkTimer(t.d, true); err != nil {
			bad("%s: %v", t.name, err)
		}
	}
	if p.CheckPath != "" && !validPath(p.CheckPath) {
		bad("check path %q is not a safe URL path", p.CheckPath)
	}
	if p.Cookie != "" && !validToken(p.Cookie, isParamChar) {
		bad("cookie name %q: want [A-Za-z0-9_.-], at most %d bytes", p.Cookie, maxNameLen)
	}
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
	if rw := p.PathRewrite; rw != nil && (!validPath(rw.From) || !validPath(rw.To)) {
		bad("path rewrite %q to %q: both must be safe URL paths", rw.From, rw.To)
	}
	if rd := p.Redirect; rd != nil {
		if !validRedirect(rd.Location) {
			bad("redirect location %q is not http(s)://host[:port][/path]", rd.Location)
		}
		if !slices.Contains(redirectCodes, rd.Code) {
			bad("redirect code %d is not a redirect", rd.Code)
		}
	}
	if p.AppRoot != "" && !validPath(p.AppRoot) {
		bad("app root %q is not a safe URL path", p.AppRoot)
	}
	for _, l := range []struct {
		name string
		ps   []netip.Prefix
	}{{"allow list", p.AllowList}, {"deny list", p.DenyList}} {
		if len(l.ps) > maxListItems {
			bad("%s has more than %d networks", l.name, maxListItems)
		}
		for _, pf := range l.ps {
			if !pf.IsValid() || pf.Addr().Zone() != "" {
				bad("%s: invalid network %s", l.name, pf)
			}
		}
	}
	if rl := p.RateLimit; rl != nil {
		if rl.Requests < 1 || rl.Requests > 1e9 {
			bad("rate limit of %d requests out of range", rl.Requests)
		}
		if err := checkTimer(rl.Period, false); err != nil {
			bad("rate limit period: %v", err)
		}
		if !slices.Contains(denyStatuses, rl.Status) {
			bad("rate limit status %d has no HAProxy error page", rl.Status)
		}
	}
	if a := p.BasicAuth; a != nil {
		if a.Realm != "" && !validQuoted(a.Realm) {
			bad("realm %q: want [A-Za-z0-9 !*+,-./:;<=>?@^_`|~()&] without leading or trailing space", a.Realm)
		}
		seen := map[string]bool{}
		for _, u := range a.Users {
			if !validToken(u.Name, isParamChar) {
				bad("user name %q: want [A-Za-z0-9_.-], at most %d bytes", u.Name, maxNameLen)
			}
			if seen[u.Name] {
				bad("user %q listed twice", u.Name)
			}
			seen[u.Name] = true
			if !validHash(u.Hash) {
				bad("password hash of user %q is not a crypt(3) hash of [A-Za-z0-9./$=]", u.Name)
			}
		}
	}
	if c := p.CORS; c != nil {
		if err := checkCORSOrigins(c.Origins); err != nil {
			bad("%v", err)
		}
		if !checkList(c.Methods, isMethodChar) {
			bad("CORS methods %q: want * or methods of [A-Z-], at most %d bytes in all", c.Methods.String(), maxHeaderValue)
		}
		if !checkList(c.Headers, isHeaderNameChar) {
			bad("CORS headers %q: want * or header names of [A-Za-z0-9_-], at most %d bytes in all", c.Headers.String(), maxHeaderValue)
		}
		if c.MaxAge < 0 {
			bad("CORS max age %s is negative", c.MaxAge)
		}
	}
	for _, hs := range []struct {
		dir string
		hs  []model.Header
	}{{"request", p.RequestHeaders}, {"response", p.ResponseHeaders}} {
		for _, h := range hs.hs {
			if !validHeaderName(h.Name) || slices.Contains(hopByHopHeaders, strings.ToLower(h.Name)) {
				bad("%s header name %q: want [A-Za-z0-9_-], not a framing header", hs.dir, h.Name)
			}
			// HAProxy reads "" as no word at all: an empty value cannot be written.
			if !validQuoted(h.Value) {
				bad("%s header %s: value %q: want [A-Za-z0-9 !*+,-./:;<=>?@^_`|~()&] without leading or trailing space", hs.dir, h.Name, h.Value)
			}
		}
	}
	if p.HSTS < 0 {
		bad("HSTS max-age %s is negative", p.HSTS)
	}
	return errs
}

// checkTimer accepts a whole number of milliseconds that HAProxy can hold; zero only when
// zeroOK.
func checkTimer(d time.Duration, zeroOK bool) error {
	switch {
	case d < 0:
		return fmt.Errorf("%s is negative", d)
	case d == 0 && !zeroOK:
		return errors.New("must not be zero")
	case d%time.Millisecond != 0:
		return fmt.Errorf("%s is not a whole number of milliseconds", d)
	case d > maxTimer:
		return fmt.Errorf("%s is longer than HAProxy's maximum of %s", d, maxTimer)
	}
	return nil
}

// Character classes, ASCII only. None contains a space unless said so, a control character,
// '"', '\'', '\\', '#', '%' or '$'.

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// isParamChar: cookie names, user names, url_param names.
func isParamChar(c byte) bool { return isAlnum(c) || c == '_' || c == '.' || c == '-' }

func isHeaderNameChar(c byte) bool { return isAlnum(c) || c == '_' || c == '-' }

func isMethodChar(c byte) bool { return c >= 'A' && c <= 'Z' || c == '-' }

// isPathChar: RFC 3986 path characters without percent, dollar and single quote.
func isPathChar(c byte) bool { return isAlnum(c) || strings.IndexByte("-._~!&()*+,;=:@/", c) >= 0 }

// isURLChar: what an http(s) URL without query, fragment or user info is made of, brackets of
// IPv6 literals included.
func isURLChar(c byte) bool { return isPathChar(c) || c == '[' || c == ']' }

func isCipherChar(c byte) bool { return isAlnum(c) || strings.IndexByte(":+!_.-", c) >= 0 }

// isQuotedChar: what may stand between double quotes, space included.
func isQuotedChar(c byte) bool {
	return isAlnum(c) || strings.IndexByte(" !*+,-./:;<=>?@^_`|~()&", c) >= 0
}

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func validToken(s string, ok func(byte) bool) bool {
	return s != "" && len(s) <= maxNameLen && allBytes(s, ok)
}

func validHeaderName(s string) bool {
	return validToken(s, isHeaderNameChar) && isAlnum(s[0])
}

// validQuoted accepts a value to render between double quotes.
func validQuoted(s string) bool {
	return s != "" && len(s) <= maxHeaderValue && allBytes(s, isQuotedChar) && s[0] != ' ' && s[len(s)-1] != ' '
}

// validPath accepts an absolute URL path without "//", "." or ".." segments.
func validPath(s string) bool {
	if !strings.HasPrefix(s, "/") || len(s) > maxPathLen || !allBytes(s, isPathChar) || strings.Contains(s, "//") {
		return false
	}
	for _, seg := range strings.Split(s, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// validList accepts items of ok separated by a comma and optional spaces.
func validList(s string, ok func(byte) bool) bool {
	if len(s) > maxHeaderValue || strings.Trim(s, " ") != s {
		return false
	}
	for _, it := range strings.Split(s, ",") {
		if !validToken(strings.TrimLeft(it, " "), ok) {
			return false
		}
	}
	return true
}

// validHash accepts a crypt(3) hash. It is rendered as a bare word, where HAProxy reads '$'
// literally.
func validHash(s string) bool {
	return len(s) >= 13 && len(s) <= 256 && allBytes(s, func(c byte) bool {
		return isAlnum(c) || c == '.' || c == '/' || c == '$' || c == '='
	})
}

// validOrigin accepts scheme://host[:port] with scheme http or https.
func validOrigin(s string) bool {
	rest, ok := strings.CutPrefix(s, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(s, "http://"); !ok {
			return false
		}
	}
	return validHostPortOpt(rest, false)
}

// validRedirect accepts http(s)://host[:port][/path].
func validRedirect(s string) bool {
	if len(s) > maxURLLen {
		return false
	}
	rest, ok := strings.CutPrefix(s, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(s, "http://"); !ok {
			return false
		}
	}
	authority, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	return validHostPortOpt(authority, false) && (path == "" || validPath(path))
}

// validHostPort accepts host:port.
func validHostPort(s string) bool { return validHostPortOpt(s, true) }

// validHostPortOpt accepts host[:port], the port required when needPort. The host is a
// lower-case DNS name, an IPv4 address or a bracketed IPv6 address without zone.
func validHostPortOpt(s string, needPort bool) bool {
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return false
		}
		host, port = s[:end+1], s[end+1:]
		if port != "" && port[0] != ':' {
			return false
		}
		port = strings.TrimPrefix(port, ":")
		a, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !a.Is6() || a.Zone() != "" || !allBytes(host[1:len(host)-1], func(c byte) bool { return isAlnum(c) || c == ':' || c == '.' }) {
			return false
		}
	} else {
		if i := strings.LastIndexByte(s, ':'); i >= 0 {
			host, port = s[:i], s[i+1:]
			if port == "" {
				return false
			}
		}
		if !validHost(host) {
			return false
		}
	}
	if port == "" {
		return !needPort && !strings.HasSuffix(s, ":")
	}
	n, ok := smallInt(port)
	return ok && n >= 1 && n <= 65535 && port[0] != '0'
}

// validHost accepts a lower-case DNS name or an IPv4 address.
func validHost(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Is4()
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' ||
			!allBytes(l, func(c byte) bool { return c >= 'a' && c <= 'z' || isDigit(c) || c == '-' }) {
			return false
		}
	}
	// A numeric last label would be a malformed IPv4 address, not a name.
	return !allBytes(labels[len(labels)-1], isDigit)
}
