package haproxy_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/haproxytest"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// policyConfig is validConfig with a slot step of one, so that its backend has two server slots
// (one used, one disabled), the backend policy bp and, on both routes, the route policy rp. Both
// routes share one section.
func policyConfig(bp model.BackendPolicy, rp model.RoutePolicy) model.Config {
	c := validConfig()
	c.Backends[0].SlotStep = 1
	c.Backends[0].Policy = bp
	for i := range c.HTTPRoutes {
		c.HTTPRoutes[i].Policy = rp
	}
	return c
}

// sectionName is the name of the backend section of c's first route.
func sectionName(t *testing.T, c model.Config) string {
	t.Helper()
	_, routes, _ := haproxy.Sections(c)
	if len(routes) == 0 || routes[0] == "" {
		t.Fatalf("the first route has no section")
	}
	return routes[0]
}

// hashedSection matches the name of a section that is a backend with a route policy, or
// several backends: the first backend's name and 8 hex digits.
var hashedSection = regexp.MustCompile(`^[a-z0-9_-]+_[0-9a-f]{8}$`)

// section returns the lines of the section of haproxy.cfg whose header line is header,
// without the header and without indentation; nil when there is no such section.
func section(cfg []byte, header string) []string {
	var out []string
	in := false
	for _, l := range strings.Split(string(cfg), "\n") {
		switch {
		case l == header:
			in = true
		case in && strings.TrimSpace(l) == "":
			return out
		case in:
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}

func compareLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot\n  %s\nwant\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// haproxyCheck runs the real haproxy -c on files (see haproxytest.Check, which the tests of other
// packages share).
func haproxyCheck(t *testing.T, files haproxy.Files) {
	t.Helper()
	haproxytest.Check(t, files)
}

// testCert is a self-signed certificate, so that TLS settings meet an SSL bind in haproxy -c: the
// one certFor makes for example.com, without SNI names of its own.
func testCert() model.Certificate {
	c := certFor("example.com")
	c.SNI = nil
	return c
}

func withHTTPS(c model.Config) model.Config {
	c.Listeners = append(slices.Clone(c.Listeners), httpsListener())
	return c
}

// httpsListener terminates TLS on port 8443 with testCert as its default certificate.
func httpsListener() model.Listener {
	return model.Listener{Name: "https", Bind: model.Bind{Address: anyAddr, Port: 8443}, Protocol: model.HTTPS,
		TLS: &model.ListenerTLS{Default: testCert()}}
}

// zeroBackend is the backend section of policyConfig's backend with the zero policy, as rendered
// before policies existed.
var zeroBackend = []string{
	"mode http",
	"balance roundrobin",
	"server s1 10.0.0.1:8080",
	"server s2 127.0.0.1:1 disabled",
}

// zeroPolicyConfig is the whole haproxy.cfg of policyConfig with zero policies, byte for byte as
// rendered before Policy and Global existed: their zero values must not change a configuration.
const zeroPolicyConfig = `
global
  master-worker
  stats socket /run/portcullis/admin.sock mode 600 level admin
  stats timeout 2m
  hard-stop-after 30s

defaults unnamed_defaults_1
  mode http
  option idle-close-on-response
  timeout http-request 10s
  timeout connect 5s
  timeout client 50s
  timeout server 50s
  timeout http-keep-alive 60s

frontend http
  mode http
  bind 0.0.0.0:8080 name http
  http-request set-var(txn.host) req.hdr(host),field(1,:),lower
  http-request set-var(txn.path) path
  http-request deny deny_status 400 if { var(txn.host) -m sub / }
  http-request set-var(txn.hostpath) var(txn.host),concat(,txn.path,)
  http-request set-var(txn.backend) var(txn.hostpath),map_str(maps/path-exact.map)
  http-request set-var(txn.backend) var(txn.hostpath),map_beg(maps/path-prefix.map) unless { var(txn.backend) -m found }
  http-request set-var(txn.backend) var(txn.path),map_str(maps/path-exact.map) unless { var(txn.backend) -m found }
  http-request set-var(txn.backend) var(txn.path),map_beg(maps/path-prefix.map) unless { var(txn.backend) -m found }
  use_backend %[var(txn.backend)] if { var(txn.backend) -m found }
  default_backend portcullis_default
  http-after-response set-header Server portcullis unless { res.hdr(server) -m found }

backend ns_web_80
  mode http
  balance roundrobin
  server s1 10.0.0.1:8080
  server s2 127.0.0.1:1 disabled

backend portcullis_default
  mode http
  http-request return status 404 content-type text/plain string "404 page not found"
`

func TestRenderZeroPolicyAndGlobalChangeNothing(t *testing.T) {
	files, err := haproxy.Render(policyConfig(model.BackendPolicy{}, model.RoutePolicy{}), testEnv)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if got := string(files[haproxy.ConfigFile]); got != zeroPolicyConfig {
		t.Errorf("haproxy.cfg:\ngot\n%s\nwant\n%s", got, zeroPolicyConfig)
	}
}

// list is a model.List of items; anyOrigin is "*".
func list(items ...string) model.List { return model.List{Items: items} }

var anyOrigin = model.List{Any: true}

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// The request rules of a client-certificate check that do not depend on its settings.
const (
	clientAuth421 = `http-request return status 421 content-type text/plain string "421 misdirected request: connect with this host as TLS server name (SNI)" ` +
		`unless { var(txn.host),strcmp(txn.sni) eq 0 }`
	clientAuthLookup     = "http-request set-var(txn.client_auth) so_name,concat(/,txn.host,),map_str(maps/client-auth.map)"
	clientAuthWildLookup = "http-request set-var(txn.client_auth) so_name,concat(/,txn.wildhost,),map_str(maps/client-auth.map) unless { var(txn.client_auth) -m found }"
)

// with returns zeroBackend with lines inserted after "mode http" and serverOpts appended to both
// server lines, SLOT standing for the slot's name. http-response rules go after the servers,
// where config-parser writes them.
func with(lines []string, serverOpts string) []string {
	out := []string{"mode http"}
	var responses []string
	for _, l := range lines {
		if strings.HasPrefix(l, "http-response ") {
			responses = append(responses, l)
		} else {
			out = append(out, l)
		}
	}
	if serverOpts != "" {
		serverOpts = " " + serverOpts
	}
	out = append(out,
		"server s1 10.0.0.1:8080"+strings.ReplaceAll(serverOpts, "SLOT", "s1"),
		"server s2 127.0.0.1:1 disabled"+strings.ReplaceAll(serverOpts, "SLOT", "s2"))
	return append(out, responses...)
}

func TestRenderPolicy(t *testing.T) {
	manyNets := make([]netip.Prefix, 40)
	var manyNetStrings []string
	for i := range manyNets {
		manyNets[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 0, 0}), 16)
		manyNetStrings = append(manyNetStrings, manyNets[i].String())
	}
	users := []model.User{
		{Name: "alice", Hash: "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"},
		{Name: "bob.smith", Hash: "$5$rounds=5000$salt$abcdefghijklmnopqrstuvwxyz0123456789ABCDEF."},
	}
	everything := with([]string{
		"balance leastconn",
		"acl allow_list src 10.0.0.0/8",
		"acl deny_list src 10.9.0.0/16",
		"option forwardfor",
		"option httpchk GET /ready",
		"timeout server 60s",
		"http-request set-var(txn.sni) ssl_fc_sni,lower",
		clientAuth421,
		clientAuthLookup,
		clientAuthWildLookup,
		`http-request return status 403 content-type text/plain string "403 a valid client certificate for this host is required" unless { var(txn.client_auth) -m str ` + testCert().Name + `:required }`,
		`http-request return status 403 content-type text/plain string "403 a valid client certificate for this host is required" unless { ssl_c_used } { ssl_c_verify 0 }`,
		"http-request deny deny_status 403 unless allow_list",
		"http-request deny deny_status 403 if deny_list",
		"http-request track-sc0 src",
		"http-request deny deny_status 503 if { sc_http_req_rate(0) gt 5 }",
		`http-request return status 204 hdr Access-Control-Allow-Origin "*" hdr Access-Control-Allow-Methods "GET" hdr Access-Control-Allow-Headers "X-A" hdr Access-Control-Max-Age "1" if { method OPTIONS } { req.hdr(origin) -m found } { req.hdr(access-control-request-method) -m found }`,
		`http-request auth realm "Staff" unless { http_auth(SECTION_users) }`,
		"http-request redirect prefix https://example.org code 302",
		"http-request redirect location /app code 302 if { path / }",
		`http-request replace-path ^/old(/.*)?$ /new\1`,
		`http-request set-header X-In "1"`,
		"cookie SRV indirect nocache insert",
		"stick-table type ipv6 size 100k expire 1500ms store http_req_rate(1500ms)",
		`http-response set-header Access-Control-Allow-Origin "*"`,
		`http-response set-header X-Out "2"`,
		`http-response set-header Strict-Transport-Security "max-age=3600" if { ssl_fc }`,
	}, "check inter 3s cookie SLOT send-proxy")
	tests := []struct {
		name    string
		backend model.BackendPolicy
		route   model.RoutePolicy
		// want are the lines of the backend section, SECTION standing for its name.
		want     []string
		userlist []string // lines of the section's userlist; nil: no such userlist
	}{
		{name: "the zero policy renders as before policies existed", want: zeroBackend},
		{name: "an explicit roundrobin is the default", backend: model.BackendPolicy{Balance: model.Balance{Algorithm: "roundrobin"}}, want: zeroBackend},
		{name: "leastconn", backend: model.BackendPolicy{Balance: model.Balance{Algorithm: "leastconn"}}, want: with([]string{"balance leastconn"}, "")},
		{name: "static-rr", backend: model.BackendPolicy{Balance: model.Balance{Algorithm: "static-rr"}}, want: with([]string{"balance static-rr"}, "")},
		{name: "first", backend: model.BackendPolicy{Balance: model.Balance{Algorithm: "first"}}, want: with([]string{"balance first"}, "")},
		{name: "random with a number of draws, which does not hash", backend: model.BackendPolicy{Balance: model.Balance{Algorithm: "random", Draws: 3}},
			want: with([]string{"balance random(3)"}, "")},
		{name: "source hashes consistently, so a runtime server change moves few clients", backend: model.BackendPolicy{Balance: model.Balance{Algorithm: "source"}},
			want: with([]string{"hash-type consistent", "balance source"}, "")},
		{name: "uri with all its options hashes consistently", backend: model.BackendPolicy{Balance: model.Balance{Algorithm: "uri", URIWhole: true, URIPathOnly: true, URILen: 10, URIDepth: 2}},
			want: with([]string{"hash-type consistent", "balance uri depth 2 len 10 whole path-only"}, "")},
		{name: "url_param hashes consistently", backend: model.BackendPolicy{Balance: model.Balance{Algorithm: "url_param", Param: "session_id"}},
			want: with([]string{"hash-type consistent", "balance url_param session_id"}, "")},
		{name: "hdr with use_domain_only hashes consistently", backend: model.BackendPolicy{Balance: model.Balance{Algorithm: "hdr", Param: "Host", UseDomainOnly: true}},
			want: with([]string{"hash-type consistent", "balance hdr(Host) use_domain_only"}, "")},
		{name: "timeouts in whole seconds render in seconds, others in milliseconds",
			backend: model.BackendPolicy{TimeoutServer: 2 * time.Minute, TimeoutConnect: 1500 * time.Millisecond, TimeoutQueue: 30 * time.Second, TimeoutTunnel: time.Hour},
			want:    with([]string{"balance roundrobin", "timeout queue 30s", "timeout tunnel 3600s", "timeout server 120s", "timeout connect 1500ms"}, "")},
		{name: "TCP health checks put check and inter on every slot", backend: model.BackendPolicy{Check: true, CheckInterval: 5 * time.Second},
			want: with([]string{"balance roundrobin"}, "check inter 5s")},
		{name: "health checks without an interval use HAProxy's", backend: model.BackendPolicy{Check: true},
			want: with([]string{"balance roundrobin"}, "check")},
		{name: "HTTP health checks GET the check path", backend: model.BackendPolicy{Check: true, CheckInterval: 500 * time.Millisecond, CheckPath: "/healthz"},
			want: with([]string{"balance roundrobin", "option httpchk GET /healthz"}, "check inter 500ms")},
		{name: "a check path without checks renders nothing", backend: model.BackendPolicy{CheckPath: "/healthz"}, want: zeroBackend},
		{name: "cookie persistence inserts a cookie naming each slot", backend: model.BackendPolicy{Cookie: "SERVERID"},
			want: with([]string{"balance roundrobin", "cookie SERVERID indirect nocache insert"}, "cookie SLOT")},
		{name: "the PROXY protocol keyword on every slot", backend: model.BackendPolicy{SendProxy: "send-proxy-v2"},
			want: with([]string{"balance roundrobin"}, "send-proxy-v2")},
		{name: "PROXY protocol v1", backend: model.BackendPolicy{SendProxy: "send-proxy"},
			want: with([]string{"balance roundrobin"}, "send-proxy")},
		{name: "all server options together", backend: model.BackendPolicy{Check: true, CheckInterval: 2 * time.Second, Cookie: "SRV", SendProxy: "send-proxy-v2-ssl-cn"},
			want: with([]string{"balance roundrobin", "cookie SRV indirect nocache insert"}, "check inter 2s cookie SLOT send-proxy-v2-ssl-cn")},
		{name: "forwarded-for", backend: model.BackendPolicy{ForwardedFor: true},
			want: with([]string{"balance roundrobin", "option forwardfor"}, "")},
		{name: "a path rewrite replaces the prefix element-wise",
			route: model.RoutePolicy{PathRewrite: &model.Rewrite{From: "/old", To: "/new"}},
			want:  with([]string{"balance roundrobin", `http-request replace-path ^/old(/.*)?$ /new\1`}, "")},
		{name: "a path rewrite to the root strips the prefix",
			route: model.RoutePolicy{PathRewrite: &model.Rewrite{From: "/api", To: "/"}},
			want:  with([]string{"balance roundrobin", `http-request replace-path ^/api(/(.*))?$ /\2`}, "")},
		{name: "a path rewrite from the root prefixes every path",
			route: model.RoutePolicy{PathRewrite: &model.Rewrite{From: "/", To: "/base"}},
			want:  with([]string{"balance roundrobin", `http-request replace-path ^(/.*)?$ /base\1`}, "")},
		{name: "a path rewrite escapes regular expression characters without backslashes",
			route: model.RoutePolicy{PathRewrite: &model.Rewrite{From: "/v1.0/a+b(c)*", To: "/v2"}},
			want:  with([]string{"balance roundrobin", `http-request replace-path ^/v1[.]0/a[+]b[(]c[)][*](/.*)?$ /v2\1`}, "")},
		{name: "a redirect keeps path and query",
			route: model.RoutePolicy{Redirect: &model.Redirect{Location: "https://new.example.com:8443/base", Code: 301}},
			want:  with([]string{"balance roundrobin", "http-request redirect prefix https://new.example.com:8443/base code 301"}, "")},
		{name: "a redirect to an IPv6 origin",
			route: model.RoutePolicy{Redirect: &model.Redirect{Location: "http://[fd00::1]:8080", Code: 308}},
			want:  with([]string{"balance roundrobin", "http-request redirect prefix http://[fd00::1]:8080 code 308"}, "")},
		{name: "an app root redirects the root only", route: model.RoutePolicy{AppRoot: "/app"},
			want: with([]string{"balance roundrobin", "http-request redirect location /app code 302 if { path / }"}, "")},
		{name: "an allow list denies every other client", route: model.RoutePolicy{AllowList: prefixes("10.0.0.0/8", "192.168.1.10/32", "fd00::/8")},
			want: with([]string{"balance roundrobin", "acl allow_list src 10.0.0.0/8 192.168.1.10/32 fd00::/8",
				"http-request deny deny_status 403 unless allow_list"}, "")},
		{name: "a deny list denies its clients", route: model.RoutePolicy{DenyList: prefixes("203.0.113.0/24")},
			want: with([]string{"balance roundrobin", "acl deny_list src 203.0.113.0/24", "http-request deny deny_status 403 if deny_list"}, "")},
		{name: "host bits of a network are cleared", route: model.RoutePolicy{DenyList: []netip.Prefix{netip.PrefixFrom(netip.MustParseAddr("10.1.2.3"), 8)}},
			want: with([]string{"balance roundrobin", "acl deny_list src 10.0.0.0/8", "http-request deny deny_status 403 if deny_list"}, "")},
		{name: "a long list is split over acl lines of 32, below HAProxy's 64 words a line", route: model.RoutePolicy{AllowList: manyNets},
			want: with([]string{"balance roundrobin",
				"acl allow_list src " + strings.Join(manyNetStrings[:32], " "),
				"acl allow_list src " + strings.Join(manyNetStrings[32:], " "),
				"http-request deny deny_status 403 unless allow_list"}, "")},
		{name: "allow and deny lists together, allow first", route: model.RoutePolicy{AllowList: prefixes("10.0.0.0/8"), DenyList: prefixes("10.9.0.0/16")},
			want: with([]string{"balance roundrobin", "acl allow_list src 10.0.0.0/8", "acl deny_list src 10.9.0.0/16",
				"http-request deny deny_status 403 unless allow_list", "http-request deny deny_status 403 if deny_list"}, "")},
		{name: "a rate limit tracks clients in an IPv4 and IPv6 table",
			route: model.RoutePolicy{RateLimit: &model.RateLimit{Requests: 100, Period: time.Minute, Status: 429}},
			want: with([]string{"balance roundrobin",
				"http-request track-sc0 src",
				"http-request deny deny_status 429 if { sc_http_req_rate(0) gt 100 }",
				"stick-table type ipv6 size 100k expire 60s store http_req_rate(60s)"}, "")},
		{name: "basic auth with a realm of several words",
			route: model.RoutePolicy{BasicAuth: &model.BasicAuth{Realm: "Protected Content", Users: users}},
			want: with([]string{"balance roundrobin",
				`http-request auth realm "Protected Content" unless { http_auth(SECTION_users) }`}, ""),
			userlist: []string{"user alice password " + users[0].Hash, "user bob.smith password " + users[1].Hash}},
		{name: "basic auth without users refuses everyone",
			route: model.RoutePolicy{BasicAuth: &model.BasicAuth{Realm: "Staff"}},
			want: with([]string{"balance roundrobin",
				`http-request auth realm "Staff" unless { http_auth(SECTION_users) }`}, ""),
			userlist: []string{}},
		{name: "basic auth without a realm uses HAProxy's",
			route:    model.RoutePolicy{BasicAuth: &model.BasicAuth{Users: users[:1]}},
			want:     with([]string{"balance roundrobin", `http-request auth unless { http_auth(SECTION_users) }`}, ""),
			userlist: []string{"user alice password " + users[0].Hash}},
		{name: "CORS for any origin",
			route: model.RoutePolicy{CORS: &model.CORS{Origins: anyOrigin, Methods: list("GET", "POST"), Headers: model.List{Any: true}, MaxAge: 90 * time.Second}},
			want: with([]string{"balance roundrobin",
				`http-request return status 204 hdr Access-Control-Allow-Origin "*" hdr Access-Control-Allow-Methods "GET, POST" hdr Access-Control-Allow-Headers "*" hdr Access-Control-Max-Age "90" if { method OPTIONS } { req.hdr(origin) -m found } { req.hdr(access-control-request-method) -m found }`,
				`http-response set-header Access-Control-Allow-Origin "*"`}, "")},
		{name: "CORS for any origin with credentials, a max age rounded down and no methods or headers",
			route: model.RoutePolicy{CORS: &model.CORS{Origins: anyOrigin, Credentials: true, MaxAge: 1500 * time.Millisecond}},
			want: with([]string{"balance roundrobin",
				`http-request return status 204 hdr Access-Control-Allow-Origin "*" hdr Access-Control-Max-Age "1" hdr Access-Control-Allow-Credentials "true" if { method OPTIONS } { req.hdr(origin) -m found } { req.hdr(access-control-request-method) -m found }`,
				`http-response set-header Access-Control-Allow-Origin "*"`,
				`http-response set-header Access-Control-Allow-Credentials "true"`}, "")},
		{name: "CORS for a list of origins echoes the request's origin only when listed",
			route: model.RoutePolicy{CORS: &model.CORS{Origins: list("https://a.example.com", "http://b.example.com:8080"), Methods: model.List{Any: true}, Headers: list("Authorization", "X-Token"), Credentials: true, MaxAge: 5 * time.Second}},
			want: with([]string{"balance roundrobin",
				"acl cors_origin var(txn.cors_origin) -m str https://a.example.com http://b.example.com:8080",
				"http-request set-var(txn.cors_origin) req.fhdr(origin)",
				`http-request return status 204 hdr Access-Control-Allow-Origin "%[var(txn.cors_origin)]" hdr Vary "Origin" hdr Access-Control-Allow-Methods "*" hdr Access-Control-Allow-Headers "Authorization, X-Token" hdr Access-Control-Max-Age "5" hdr Access-Control-Allow-Credentials "true" if cors_origin { method OPTIONS } { req.hdr(access-control-request-method) -m found }`,
				`http-response set-header Access-Control-Allow-Origin "%[var(txn.cors_origin)]" if cors_origin`,
				`http-response set-header Access-Control-Allow-Credentials "true" if cors_origin`,
				`http-response add-header Vary "Origin"`}, "")},
		{name: "request and response headers are set with double-quoted values",
			route: model.RoutePolicy{
				RequestHeaders:  []model.Header{{Name: "X-Env", Value: "prod (eu) a=b;c&d"}, {Name: "X_Under", Value: "`|~^<>?@!*"}},
				ResponseHeaders: []model.Header{{Name: "Cache-Control", Value: "no-store"}},
			},
			want: with([]string{"balance roundrobin",
				`http-request set-header X-Env "prod (eu) a=b;c&d"`,
				"http-request set-header X_Under \"`|~^<>?@!*\"",
				`http-response set-header Cache-Control "no-store"`}, "")},
		{name: "HSTS on HTTPS responses, in whole seconds", route: model.RoutePolicy{HSTS: 365 * 24 * time.Hour},
			want: with([]string{"balance roundrobin",
				`http-response set-header Strict-Transport-Security "max-age=31536000" if { ssl_fc }`}, "")},
		{name: "a required client certificate: the connection's SNI is the host, its crt-list line has the CA, a certificate verified",
			route: model.RoutePolicy{ClientAuth: &model.ClientAuth{CA: testCert().Name}},
			want: with([]string{"balance roundrobin",
				"http-request set-var(txn.sni) ssl_fc_sni,lower",
				clientAuth421,
				clientAuthLookup,
				clientAuthWildLookup,
				`http-request return status 403 content-type text/plain string "403 a valid client certificate for this host is required" unless { var(txn.client_auth) -m str ` + testCert().Name + `:required }`,
				`http-request return status 403 content-type text/plain string "403 a valid client certificate for this host is required" unless { ssl_c_used } { ssl_c_verify 0 }`,
			}, "")},
		{name: "an optional client certificate: the same, but a connection without one passes",
			route: model.RoutePolicy{ClientAuth: &model.ClientAuth{CA: testCert().Name, Optional: true}},
			want: with([]string{"balance roundrobin",
				"http-request set-var(txn.sni) ssl_fc_sni,lower",
				clientAuth421,
				clientAuthLookup,
				clientAuthWildLookup,
				`http-request return status 403 content-type text/plain string "403 a valid client certificate for this host is required" unless { var(txn.client_auth) -m str ` + testCert().Name + `:optional }`,
				`http-request return status 403 content-type text/plain string "403 a valid client certificate for this host is required" if { ssl_c_used } !{ ssl_c_verify 0 }`,
			}, "")},
		{name: "everything together, request rules in their order",
			backend: model.BackendPolicy{
				Balance: model.Balance{Algorithm: "leastconn"}, TimeoutServer: time.Minute, Check: true, CheckInterval: 3 * time.Second, CheckPath: "/ready",
				Cookie: "SRV", SendProxy: "send-proxy", ForwardedFor: true,
			},
			route: model.RoutePolicy{
				PathRewrite: &model.Rewrite{From: "/old", To: "/new"},
				Redirect:    &model.Redirect{Location: "https://example.org", Code: 302},
				AppRoot:     "/app",
				AllowList:   prefixes("10.0.0.0/8"), DenyList: prefixes("10.9.0.0/16"),
				RateLimit:      &model.RateLimit{Requests: 5, Period: 1500 * time.Millisecond, Status: 503},
				BasicAuth:      &model.BasicAuth{Realm: "Staff", Users: users[:1]},
				CORS:           &model.CORS{Origins: anyOrigin, Methods: list("GET"), Headers: list("X-A"), MaxAge: time.Second},
				RequestHeaders: []model.Header{{Name: "X-In", Value: "1"}}, ResponseHeaders: []model.Header{{Name: "X-Out", Value: "2"}},
				HSTS:       time.Hour,
				ClientAuth: &model.ClientAuth{CA: testCert().Name},
			},
			want:     everything,
			userlist: []string{"user alice password " + users[0].Hash}},
	}

	for _, tt := range tests {
		c := policyConfig(tt.backend, tt.route)
		files, err := haproxy.Render(c, testEnv)
		t.Run(tt.name, func(t *testing.T) {
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			t.Parallel()
			// A backend with no route policy is a section of its own name; a route policy
			// makes a section named after the backend and a hash of the policy.
			name := sectionName(t, c)
			switch {
			case tt.route.IsZero() && name != "ns_web_80":
				t.Errorf("section %q, want ns_web_80", name)
			case !tt.route.IsZero() && (!hashedSection.MatchString(name) || !strings.HasPrefix(name, "ns_web_80_")):
				t.Errorf("section %q, want ns_web_80_ and 8 hex digits", name)
			}
			cfg := files[haproxy.ConfigFile]
			want := make([]string, len(tt.want))
			for i, l := range tt.want {
				want[i] = strings.ReplaceAll(l, "SECTION", name)
			}
			compareLines(t, "backend "+name, section(cfg, "backend "+name), want)
			ul := section(cfg, "userlist "+name+"_users")
			switch {
			case tt.userlist == nil && ul != nil:
				t.Errorf("unexpected userlist: %q", ul)
			case tt.userlist != nil:
				if !bytes.Contains(cfg, []byte("\nuserlist "+name+"_users\n")) {
					t.Errorf("no userlist section:\n%s", cfg)
				}
				compareLines(t, "userlist "+name+"_users", ul, tt.userlist)
			}
			haproxyCheck(t, files)
		})
	}
}

func TestRenderGlobal(t *testing.T) {
	baseGlobal := []string{"master-worker", "stats socket /run/portcullis/admin.sock mode 600 level admin", "stats timeout 2m", "hard-stop-after 30s"}
	baseDefaults := []string{"mode http", "option idle-close-on-response", "timeout http-request 10s", "timeout connect 5s",
		"timeout client 50s", "timeout server 50s", "timeout http-keep-alive 60s"}
	tests := []struct {
		name         string
		global       model.Global
		https        bool
		wantGlobal   []string
		wantDefaults []string
	}{
		{name: "zero values keep the base configuration", wantGlobal: baseGlobal, wantDefaults: baseDefaults},
		{name: "maxconn and nbthread", global: model.Global{MaxConn: 50000, NbThread: 4},
			wantGlobal:   []string{"master-worker", "nbthread 4", "maxconn 50000", "stats socket /run/portcullis/admin.sock mode 600 level admin", "stats timeout 2m", "hard-stop-after 30s"},
			wantDefaults: baseDefaults},
		{name: "every default timeout, in seconds or milliseconds",
			global: model.Global{TimeoutClient: time.Minute, TimeoutConnect: 2500 * time.Millisecond, TimeoutServer: 2 * time.Minute,
				TimeoutHTTPRequest: 5 * time.Second, TimeoutHTTPKeepAlive: 10 * time.Second, TimeoutQueue: 30 * time.Second, TimeoutTunnel: 12 * time.Hour},
			wantGlobal: baseGlobal,
			wantDefaults: []string{"mode http", "option idle-close-on-response", "timeout http-request 5s", "timeout connect 2500ms",
				"timeout client 60s", "timeout queue 30s", "timeout server 120s", "timeout tunnel 43200s", "timeout http-keep-alive 10s"}},
		{name: "hard-stop-after", global: model.Global{HardStopAfter: 30 * time.Minute},
			wantGlobal:   []string{"master-worker", "stats socket /run/portcullis/admin.sock mode 600 level admin", "stats timeout 2m", "hard-stop-after 1800s"},
			wantDefaults: baseDefaults},
		{name: "logging to stdout in HAProxy's HTTP format", global: model.Global{LogTarget: "stdout", LogFormat: "default"},
			wantGlobal:   append(slices.Clone(baseGlobal), "log stdout format raw local0"),
			wantDefaults: slices.Insert(slices.Clone(baseDefaults), 1, "log global", "option httplog")},
		{name: "logging without a format is HAProxy's HTTP format", global: model.Global{LogTarget: "stdout"},
			wantGlobal:   append(slices.Clone(baseGlobal), "log stdout format raw local0"),
			wantDefaults: slices.Insert(slices.Clone(baseDefaults), 1, "log global", "option httplog")},
		{name: "logging to a syslog server in Common Log Format", global: model.Global{LogTarget: "10.0.0.5:514", LogFormat: "clf"},
			wantGlobal:   append(slices.Clone(baseGlobal), "log 10.0.0.5:514 local0"),
			wantDefaults: slices.Insert(slices.Clone(baseDefaults), 1, "log global", "option httplog clf")},
		{name: "logging to an IPv6 syslog server in JSON, a fixed log-format without option httplog",
			global:       model.Global{LogTarget: "[fd00::5]:1514", LogFormat: "json"},
			wantGlobal:   append(slices.Clone(baseGlobal), "log [fd00::5]:1514 local0"),
			wantDefaults: slices.Insert(slices.Clone(baseDefaults), 1, "log global", "log-format "+haproxy.JSONLogFormat)},
		{name: "a log format without a log target logs nothing", global: model.Global{LogFormat: "json"},
			wantGlobal: baseGlobal, wantDefaults: baseDefaults},
		{name: "TLS version and ciphers apply to the HTTPS bind", https: true,
			global: model.Global{SSLMinVer: "TLSv1.2", SSLCiphers: "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:!aNULL",
				SSLCipherSuites: "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384"},
			wantGlobal: []string{"master-worker", "stats socket /run/portcullis/admin.sock mode 600 level admin", "stats timeout 2m",
				"ssl-default-bind-options ssl-min-ver TLSv1.2",
				"ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:!aNULL",
				"ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384",
				"hard-stop-after 30s"},
			wantDefaults: baseDefaults},
		{name: "TLS 1.3 only", https: true, global: model.Global{SSLMinVer: "TLSv1.3"},
			wantGlobal: []string{"master-worker", "stats socket /run/portcullis/admin.sock mode 600 level admin", "stats timeout 2m",
				"ssl-default-bind-options ssl-min-ver TLSv1.3", "hard-stop-after 30s"},
			wantDefaults: baseDefaults},
	}
	for _, tt := range tests {
		cfg := policyConfig(model.BackendPolicy{}, model.RoutePolicy{})
		cfg.Global = tt.global
		if tt.https {
			cfg = withHTTPS(cfg)
		}
		files, err := haproxy.Render(cfg, testEnv)
		t.Run(tt.name, func(t *testing.T) {
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			t.Parallel()
			compareLines(t, "global", section(files[haproxy.ConfigFile], "global"), tt.wantGlobal)
			compareLines(t, "defaults", section(files[haproxy.ConfigFile], "defaults unnamed_defaults_1"), tt.wantDefaults)
			haproxyCheck(t, files)
		})
	}
}

// stringField is a string of a backend policy, a route policy or Global with a valid value.
type stringField struct {
	name  string
	valid string
	set   func(*model.Config, string)
	// dollarOK: the value is rendered as a bare word, where HAProxy reads '$' literally.
	dollarOK bool
}

func backendField(name, valid string, set func(*model.BackendPolicy, string)) stringField {
	return stringField{name: name, valid: valid, set: func(c *model.Config, v string) { set(&c.Backends[0].Policy, v) }}
}

// routeField sets the value in the policy of every route, which keeps them in one section.
func routeField(name, valid string, set func(*model.RoutePolicy, string)) stringField {
	return stringField{name: name, valid: valid, set: func(c *model.Config, v string) {
		for i := range c.HTTPRoutes {
			set(&c.HTTPRoutes[i].Policy, v)
		}
	}}
}

func globalField(name, valid string, set func(*model.Global, string)) stringField {
	return stringField{name: name, valid: valid, set: func(c *model.Config, v string) { set(&c.Global, v) }}
}

var stringFields = []stringField{
	// The balance algorithm itself is a closed vocabulary; its free-form options are names.
	backendField("balance url_param", "session_id", func(p *model.BackendPolicy, v string) {
		p.Balance = model.Balance{Algorithm: "url_param", Param: v}
	}),
	backendField("balance hdr", "X-Session", func(p *model.BackendPolicy, v string) {
		p.Balance = model.Balance{Algorithm: "hdr", Param: v}
	}),
	backendField("balance algorithm", "leastconn", func(p *model.BackendPolicy, v string) { p.Balance = model.Balance{Algorithm: v} }),
	backendField("check path", "/healthz", func(p *model.BackendPolicy, v string) { p.Check, p.CheckPath = true, v }),
	backendField("cookie", "SERVERID", func(p *model.BackendPolicy, v string) { p.Cookie = v }),
	backendField("PROXY protocol keyword", "send-proxy", func(p *model.BackendPolicy, v string) { p.SendProxy = v }),
	routeField("rewrite prefix", "/old", func(p *model.RoutePolicy, v string) { p.PathRewrite = &model.Rewrite{From: v, To: "/new"} }),
	routeField("rewrite replacement", "/new", func(p *model.RoutePolicy, v string) { p.PathRewrite = &model.Rewrite{From: "/old", To: v} }),
	routeField("redirect location", "https://example.com/base", func(p *model.RoutePolicy, v string) {
		p.Redirect = &model.Redirect{Location: v, Code: 302}
	}),
	routeField("app root", "/app", func(p *model.RoutePolicy, v string) { p.AppRoot = v }),
	routeField("realm", "Protected Content", func(p *model.RoutePolicy, v string) { p.BasicAuth = &model.BasicAuth{Realm: v} }),
	routeField("user name", "alice", func(p *model.RoutePolicy, v string) {
		p.BasicAuth = &model.BasicAuth{Users: []model.User{{Name: v, Hash: "$6$salt$abcdefghijklmnop"}}}
	}),
	{name: "password hash", valid: "$6$salt$abcdefghijklmnop", dollarOK: true, set: func(c *model.Config, v string) {
		for i := range c.HTTPRoutes {
			c.HTTPRoutes[i].Policy.BasicAuth = &model.BasicAuth{Users: []model.User{{Name: "alice", Hash: v}}}
		}
	}},
	routeField("CORS origin", "https://a.example.com", func(p *model.RoutePolicy, v string) {
		p.CORS = &model.CORS{Origins: list("https://b.example.com", v)}
	}),
	routeField("CORS method", "POST", func(p *model.RoutePolicy, v string) {
		p.CORS = &model.CORS{Origins: anyOrigin, Methods: list("GET", v)}
	}),
	routeField("CORS header", "X-Token", func(p *model.RoutePolicy, v string) {
		p.CORS = &model.CORS{Origins: anyOrigin, Headers: list("Authorization", v)}
	}),
	routeField("request header name", "X-Env", func(p *model.RoutePolicy, v string) { p.RequestHeaders = []model.Header{{Name: v, Value: "x"}} }),
	routeField("request header value", "production (eu)", func(p *model.RoutePolicy, v string) {
		p.RequestHeaders = []model.Header{{Name: "X-Env", Value: v}}
	}),
	routeField("response header name", "X-Env", func(p *model.RoutePolicy, v string) { p.ResponseHeaders = []model.Header{{Name: v, Value: "x"}} }),
	routeField("response header value", "no-store, max-age=0", func(p *model.RoutePolicy, v string) {
		p.ResponseHeaders = []model.Header{{Name: "Cache-Control", Value: v}}
	}),
	globalField("log target", "10.0.0.5:514", func(g *model.Global, v string) { g.LogTarget = v }),
	globalField("log format", "json", func(g *model.Global, v string) { g.LogTarget, g.LogFormat = "stdout", v }),
	globalField("TLS version", "TLSv1.2", func(g *model.Global, v string) { g.SSLMinVer = v }),
	globalField("ciphers", "ECDHE-RSA-AES128-GCM-SHA256:!aNULL", func(g *model.Global, v string) { g.SSLCiphers = v }),
	globalField("cipher suites", "TLS_AES_128_GCM_SHA256", func(g *model.Global, v string) { g.SSLCipherSuites = v }),
}

// unsafeVariants turn a valid value into one that would add a line, a word, a comment, an
// environment variable or a sample fetch to the configuration.
var unsafeVariants = []struct {
	name   string
	change func(string) string
}{
	{"a newline and a directive", func(v string) string { return v + "\n  lua-load /tmp/x.lua" }},
	{"a carriage return", func(v string) string { return v + "\r" }},
	{"a NUL byte", func(v string) string { return v + "\x00" }},
	{"a tab", func(v string) string { return v + "\tx" }},
	{"a sample fetch", func(v string) string { return v + "%[env(HOME)]" }},
	{"a log-format alias", func(v string) string { return v + "%ci" }},
	{"an environment variable", func(v string) string { return v + "$HOME" }},
	{"a braced environment variable", func(v string) string { return v + "${HOME}" }},
	{"a double quote", func(v string) string { return v + `"` }},
	{"a double quote closing the value", func(v string) string { return v + `" if TRUE` }},
	{"a single quote", func(v string) string { return v + "'" }},
	{"a backslash", func(v string) string { return v + `\` }},
	{"a comment", func(v string) string { return v + "#x" }},
	{"a leading space", func(v string) string { return " " + v }},
	{"a trailing space", func(v string) string { return v + " " }},
	{"non-ASCII letters", func(v string) string { return v + "\u00e9" }},
	{"a Unicode line separator", func(v string) string { return v + "\u2028" }},
}

func TestRenderAcceptsValidPolicyAndGlobalStrings(t *testing.T) {
	for _, f := range stringFields {
		cfg := policyConfig(model.BackendPolicy{}, model.RoutePolicy{})
		f.set(&cfg, f.valid)
		files, err := haproxy.Render(cfg, testEnv)
		t.Run(f.name, func(t *testing.T) {
			if err != nil {
				t.Fatalf("Render of %q: %v", f.valid, err)
			}
			t.Parallel()
			haproxyCheck(t, files)
		})
	}
}

func TestRenderRejectsUnsafePolicyAndGlobalStrings(t *testing.T) {
	for _, f := range stringFields {
		for _, u := range unsafeVariants {
			v := u.change(f.valid)
			if f.dollarOK && !strings.ContainsAny(v, "{}") && strings.Count(v, "$") > strings.Count(f.valid, "$") {
				continue // see TestRenderWritesPasswordHashesAsBareWords
			}
			t.Run(f.name+" with "+u.name, func(t *testing.T) {
				cfg := policyConfig(model.BackendPolicy{}, model.RoutePolicy{})
				f.set(&cfg, v)
				if files, err := haproxy.Render(cfg, testEnv); err == nil {
					t.Errorf("Render accepted %q; haproxy.cfg:\n%s", v, files[haproxy.ConfigFile])
				}
			})
		}
	}
}

// A crypt(3) hash holds '$'. HAProxy expands environment variables only between double quotes,
// so the hash is written as a bare word and "$6$HOME$..." stays literal (checked by hand against
// haproxy 2.6: a user whose password is literally "$HOME" authenticates with it).
func TestRenderWritesPasswordHashesAsBareWords(t *testing.T) {
	const hash = "$6$HOME$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"
	c := policyConfig(model.BackendPolicy{}, model.RoutePolicy{BasicAuth: &model.BasicAuth{Users: []model.User{{Name: "alice", Hash: hash}}}})
	files, err := haproxy.Render(c, testEnv)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	compareLines(t, "userlist", section(files[haproxy.ConfigFile], "userlist "+sectionName(t, c)+"_users"), []string{"user alice password " + hash})
	haproxyCheck(t, files)
}

func TestRenderRejectsInvalidPolicyAndGlobalValues(t *testing.T) {
	pol := func(change func(*model.BackendPolicy)) func(*model.Config) {
		return func(c *model.Config) { change(&c.Backends[0].Policy) }
	}
	// rpol changes the policy of the first route only: a bad route policy is refused even when
	// another route to the same backend has a good one.
	rpol := func(change func(*model.RoutePolicy)) func(*model.Config) {
		return func(c *model.Config) { change(&c.HTTPRoutes[0].Policy) }
	}
	glob := func(change func(*model.Global)) func(*model.Config) {
		return func(c *model.Config) { change(&c.Global) }
	}
	tests := []struct {
		name   string
		change func(*model.Config)
	}{
		{"an unknown balance algorithm", pol(func(p *model.BackendPolicy) { p.Balance = model.Balance{Algorithm: "hash"} })},
		{"a balance algorithm with options in its name", pol(func(p *model.BackendPolicy) { p.Balance = model.Balance{Algorithm: "uri whole"} })},
		{"a balance algorithm with an option it does not take", pol(func(p *model.BackendPolicy) {
			p.Balance = model.Balance{Algorithm: "roundrobin", URIWhole: true}
		})},
		{"source with a parameter", pol(func(p *model.BackendPolicy) { p.Balance = model.Balance{Algorithm: "source", Param: "x"} })},
		{"uri with a negative len", pol(func(p *model.BackendPolicy) { p.Balance = model.Balance{Algorithm: "uri", URILen: -1} })},
		{"uri with a depth too deep", pol(func(p *model.BackendPolicy) { p.Balance = model.Balance{Algorithm: "uri", URIDepth: 4097} })},
		{"uri with draws", pol(func(p *model.BackendPolicy) { p.Balance = model.Balance{Algorithm: "uri", Draws: 2} })},
		{"random of a negative number of draws", pol(func(p *model.BackendPolicy) { p.Balance = model.Balance{Algorithm: "random", Draws: -1} })},
		{"random of 101 draws", pol(func(p *model.BackendPolicy) { p.Balance = model.Balance{Algorithm: "random", Draws: 101} })},
		{"url_param without a name", pol(func(p *model.BackendPolicy) { p.Balance = model.Balance{Algorithm: "url_param"} })},
		{"url_param with a name holding a space", pol(func(p *model.BackendPolicy) { p.Balance = model.Balance{Algorithm: "url_param", Param: "a b"} })},
		{"hdr with a name holding a parenthesis", pol(func(p *model.BackendPolicy) { p.Balance = model.Balance{Algorithm: "hdr", Param: "a)b"} })},
		{"hdr with an option it does not take", pol(func(p *model.BackendPolicy) {
			p.Balance = model.Balance{Algorithm: "hdr", Param: "Host", URIWhole: true}
		})},
		{"a negative timeout", pol(func(p *model.BackendPolicy) { p.TimeoutServer = -time.Second })},
		{"a timeout below a millisecond", pol(func(p *model.BackendPolicy) { p.TimeoutConnect = 1500 * time.Microsecond })},
		{"a timeout longer than HAProxy can hold", pol(func(p *model.BackendPolicy) { p.TimeoutTunnel = 25 * 24 * time.Hour })},
		{"a check interval below a millisecond", pol(func(p *model.BackendPolicy) { p.Check, p.CheckInterval = true, time.Nanosecond })},
		{"a check path with a query", pol(func(p *model.BackendPolicy) { p.Check, p.CheckPath = true, "/health?x=1" })},
		{"a relative check path", pol(func(p *model.BackendPolicy) { p.Check, p.CheckPath = true, "health" })},
		{"a check path with a dot-dot segment", pol(func(p *model.BackendPolicy) { p.Check, p.CheckPath = true, "/a/../b" })},
		{"a cookie name of 65 bytes", pol(func(p *model.BackendPolicy) { p.Cookie = strings.Repeat("a", 65) })},
		{"an unknown PROXY protocol keyword", pol(func(p *model.BackendPolicy) { p.SendProxy = "send-proxy-v3" })},
		{"a PROXY protocol keyword that is another server option", pol(func(p *model.BackendPolicy) { p.SendProxy = "backup" })},
		{"a rewrite with an empty prefix", rpol(func(p *model.RoutePolicy) { p.PathRewrite = &model.Rewrite{From: "", To: "/"} })},
		{"a rewrite with a regular expression", rpol(func(p *model.RoutePolicy) { p.PathRewrite = &model.Rewrite{From: "/a[0-9]", To: "/"} })},
		{"a redirect without a scheme", rpol(func(p *model.RoutePolicy) { p.Redirect = &model.Redirect{Location: "example.com", Code: 302} })},
		{"a redirect to another scheme", rpol(func(p *model.RoutePolicy) { p.Redirect = &model.Redirect{Location: "ftp://example.com", Code: 302} })},
		{"a redirect with a query", rpol(func(p *model.RoutePolicy) {
			p.Redirect = &model.Redirect{Location: "https://example.com/?a=b", Code: 302}
		})},
		{"a redirect with user info", rpol(func(p *model.RoutePolicy) { p.Redirect = &model.Redirect{Location: "https://u@example.com", Code: 302} })},
		{"a redirect with an empty port", rpol(func(p *model.RoutePolicy) { p.Redirect = &model.Redirect{Location: "https://example.com:", Code: 302} })},
		{"a redirect to an upper-case host", rpol(func(p *model.RoutePolicy) { p.Redirect = &model.Redirect{Location: "https://Example.com", Code: 302} })},
		{"a redirect with code 200", rpol(func(p *model.RoutePolicy) { p.Redirect = &model.Redirect{Location: "https://example.com", Code: 200} })},
		{"an app root with a query", rpol(func(p *model.RoutePolicy) { p.AppRoot = "/app?x" })},
		{"a client CA that is not a certificate file name", rpol(func(p *model.RoutePolicy) {
			p.ClientAuth = &model.ClientAuth{CA: "ca.pem:required } or { always_true"}
		})},
		{"an invalid network", rpol(func(p *model.RoutePolicy) { p.AllowList = []netip.Prefix{{}} })},
		{"a rate limit of zero requests", rpol(func(p *model.RoutePolicy) {
			p.RateLimit = &model.RateLimit{Requests: 0, Period: time.Second, Status: 429}
		})},
		{"a rate limit over no period", rpol(func(p *model.RoutePolicy) { p.RateLimit = &model.RateLimit{Requests: 1, Status: 429} })},
		{"a rate limit answered with 200", rpol(func(p *model.RoutePolicy) {
			p.RateLimit = &model.RateLimit{Requests: 1, Period: time.Second, Status: 200}
		})},
		{"a user listed twice", rpol(func(p *model.RoutePolicy) {
			u := model.User{Name: "alice", Hash: "$6$salt$abcdefghijklmnop"}
			p.BasicAuth = &model.BasicAuth{Users: []model.User{u, u}}
		})},
		{"a plain-text password", rpol(func(p *model.RoutePolicy) {
			p.BasicAuth = &model.BasicAuth{Users: []model.User{{Name: "alice", Hash: "secret"}}}
		})},
		{"a CORS origin with a path", rpol(func(p *model.RoutePolicy) { p.CORS = &model.CORS{Origins: list("https://a.example.com/x")} })},
		{"a CORS origin list holding *", rpol(func(p *model.RoutePolicy) { p.CORS = &model.CORS{Origins: list("*", "https://a.example.com")} })},
		{"CORS origins both any and listed", rpol(func(p *model.RoutePolicy) {
			p.CORS = &model.CORS{Origins: model.List{Any: true, Items: []string{"https://a.example.com"}}}
		})},
		{"an empty CORS origin", rpol(func(p *model.RoutePolicy) { p.CORS = &model.CORS{} })},
		{"an empty CORS origin in a list", rpol(func(p *model.RoutePolicy) { p.CORS = &model.CORS{Origins: list("https://a.example.com", "")} })},
		{"lower-case CORS methods", rpol(func(p *model.RoutePolicy) { p.CORS = &model.CORS{Origins: anyOrigin, Methods: list("get")} })},
		{"CORS methods both any and listed", rpol(func(p *model.RoutePolicy) {
			p.CORS = &model.CORS{Origins: anyOrigin, Methods: model.List{Any: true, Items: []string{"GET"}}}
		})},
		{"an empty item in CORS headers", rpol(func(p *model.RoutePolicy) { p.CORS = &model.CORS{Origins: anyOrigin, Headers: list("X-A", "", "X-B")} })},
		{"a CORS header holding a comma", rpol(func(p *model.RoutePolicy) { p.CORS = &model.CORS{Origins: anyOrigin, Headers: list("X-A,X-B")} })},
		{"a negative CORS max age", rpol(func(p *model.RoutePolicy) { p.CORS = &model.CORS{Origins: anyOrigin, MaxAge: -time.Second} })},
		{"a framing request header", rpol(func(p *model.RoutePolicy) { p.RequestHeaders = []model.Header{{Name: "Content-Length", Value: "0"}} })},
		{"a framing response header in another case", rpol(func(p *model.RoutePolicy) {
			p.ResponseHeaders = []model.Header{{Name: "transfer-ENCODING", Value: "chunked"}}
		})},
		{"a header name starting with a hyphen", rpol(func(p *model.RoutePolicy) { p.RequestHeaders = []model.Header{{Name: "-X", Value: "1"}} })},
		{"an empty header name", rpol(func(p *model.RoutePolicy) { p.RequestHeaders = []model.Header{{Value: "1"}} })},
		{"an empty header value, which HAProxy would read as no word", rpol(func(p *model.RoutePolicy) {
			p.ResponseHeaders = []model.Header{{Name: "X-A"}}
		})},
		{"a header value of 1025 bytes", rpol(func(p *model.RoutePolicy) {
			p.RequestHeaders = []model.Header{{Name: "X-A", Value: strings.Repeat("a", 1025)}}
		})},
		{"a negative HSTS max-age", rpol(func(p *model.RoutePolicy) { p.HSTS = -time.Second })},
		{"a negative maxconn", glob(func(g *model.Global) { g.MaxConn = -1 })},
		{"a negative nbthread", glob(func(g *model.Global) { g.NbThread = -1 })},
		{"a negative default timeout", glob(func(g *model.Global) { g.TimeoutClient = -time.Second })},
		{"a default timeout below a millisecond", glob(func(g *model.Global) { g.TimeoutQueue = time.Microsecond })},
		{"a hard-stop-after longer than HAProxy can hold", glob(func(g *model.Global) { g.HardStopAfter = 30 * 24 * time.Hour })},
		{"a log target without a port", glob(func(g *model.Global) { g.LogTarget = "10.0.0.5" })},
		{"a log target on port 0", glob(func(g *model.Global) { g.LogTarget = "10.0.0.5:0" })},
		{"a log target on port 65536", glob(func(g *model.Global) { g.LogTarget = "10.0.0.5:65536" })},
		{"a log target that is a file", glob(func(g *model.Global) { g.LogTarget = "/dev/log" })},
		{"a log target with an address family prefix", glob(func(g *model.Global) { g.LogTarget = "ipv4@10.0.0.5:514" })},
		{"a log target with an unbracketed IPv6 address", glob(func(g *model.Global) { g.LogTarget = "fd00::5:514" })},
		{"a log target with a zoned IPv6 address", glob(func(g *model.Global) { g.LogTarget = "[fe80::1%eth0]:514" })},
		{"a log target that is a malformed IPv4 address", glob(func(g *model.Global) { g.LogTarget = "10.0.5:514" })},
		{"stderr as log target", glob(func(g *model.Global) { g.LogTarget = "stderr" })},
		{"a raw log format", glob(func(g *model.Global) { g.LogTarget, g.LogFormat = "stdout", "%ci %[env(HOME)]" })},
		{"TLS 1.1", glob(func(g *model.Global) { g.SSLMinVer = "TLSv1.1" })},
		{"ciphers of 2049 bytes", glob(func(g *model.Global) { g.SSLCiphers = strings.Repeat("A", 2049) })},
		{"an unknown TLS 1.3 cipher suite", glob(func(g *model.Global) { g.SSLCipherSuites = "TLS_AES_128_GCM_SHA256:TLS_FOO" })},
		{"more threads than HAProxy runs", glob(func(g *model.Global) { g.NbThread = limits.MaxThreads + 1 })},
		{"a maxconn over the limit", glob(func(g *model.Global) { g.MaxConn = limits.MaxConnections + 1 })},
		{"a rate limit over the limit", rpol(func(p *model.RoutePolicy) {
			p.RateLimit = &model.RateLimit{Requests: limits.MaxRateLimitRequests + 1, Period: time.Second, Status: 429}
		})},
		{"a rate limit period below a millisecond", rpol(func(p *model.RoutePolicy) {
			p.RateLimit = &model.RateLimit{Requests: 1, Period: 1500 * time.Microsecond, Status: 429}
		})},
		{"an Apache MD5 hash, which crypt(3) cannot check", rpol(func(p *model.RoutePolicy) {
			p.BasicAuth = &model.BasicAuth{Users: []model.User{{Name: "alice", Hash: "$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/"}}}
		})},
		{"more CORS origins than one acl line holds", rpol(func(p *model.RoutePolicy) {
			var origins []string
			for i := range limits.MaxOrigins + 1 {
				origins = append(origins, fmt.Sprintf("https://a%d.example.com", i))
			}
			p.CORS = &model.CORS{Origins: model.List{Items: origins}}
		})},
		{"a CORS origin with a space", rpol(func(p *model.RoutePolicy) {
			p.CORS = &model.CORS{Origins: model.List{Items: []string{"https://a.example.com https://b.example.com"}}}
		})},
		{"CORS headers longer than a header value", rpol(func(p *model.RoutePolicy) {
			var names []string
			for range 40 {
				names = append(names, strings.Repeat("h", 30))
			}
			p.CORS = &model.CORS{Origins: model.List{Any: true}, Headers: model.List{Items: names}}
		})},
		{"a CORS max age below a millisecond", rpol(func(p *model.RoutePolicy) {
			p.CORS = &model.CORS{Origins: model.List{Any: true}, MaxAge: time.Microsecond}
		})},
		{"more request headers than allowed", rpol(func(p *model.RoutePolicy) {
			for i := range limits.MaxHeaders + 1 {
				p.RequestHeaders = append(p.RequestHeaders, model.Header{Name: fmt.Sprintf("X-%d", i), Value: "1"})
			}
		})},
		{"an HSTS max-age below a millisecond", rpol(func(p *model.RoutePolicy) { p.HSTS = time.Microsecond })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := policyConfig(model.BackendPolicy{}, model.RoutePolicy{})
			tt.change(&cfg)
			if files, err := haproxy.Render(cfg, testEnv); err == nil {
				t.Errorf("Render accepted it; haproxy.cfg:\n%s", files[haproxy.ConfigFile])
			}
		})
	}
}

// haproxyWords splits a configuration line into words the way HAProxy's parser does: blanks
// separate words outside quotes, '#' outside quotes starts a comment, a backslash outside single
// quotes escapes the next byte. It reports a quote left open.
func haproxyWords(line string) (words int, open bool) {
	inWord, dq, sq := false, false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case sq:
			sq = c != '\''
			continue
		case dq:
			switch c {
			case '\\':
				i++
			case '"':
				dq = false
			}
			continue
		}
		switch c {
		case ' ', '\t':
			inWord = false
			continue
		case '#':
			return words, false
		}
		if !inWord {
			words++
			inWord = true
		}
		switch c {
		case '\\':
			i++
		case '"':
			dq = true
		case '\'':
			sq = true
		}
	}
	return words, dq || sq
}

func TestHAProxyWords(t *testing.T) {
	tests := []struct {
		line  string
		words int
		open  bool
	}{
		{"  http-request set-header X-A \"a b\" if TRUE", 6, false},
		{"log-format '{\"a\":\"%ci\"}'", 2, false},
		{"a b#c d", 2, false},
		{"a \"b#c\" d", 3, false},
		{`a b\ c`, 2, false},
		{`a "b`, 2, true},
		{"a 'b", 2, true},
	}
	for _, tt := range tests {
		if w, o := haproxyWords(tt.line); w != tt.words || o != tt.open {
			t.Errorf("haproxyWords(%q) = %d, %v; want %d, %v", tt.line, w, o, tt.words, tt.open)
		}
	}
}

// fuzzValues puts each fuzzed value in its place: a request and a response header, the cookie,
// the check path, the realm, a user, the CORS origins (split at commas, "*" for any) and the log
// target.
type fuzzValues struct {
	headerName, headerValue, cookie, checkPath, realm, userName, userHash, corsOrigin, logTarget string
}

func (v fuzzValues) origins() model.List {
	if v.corsOrigin == "*" {
		return anyOrigin
	}
	return list(strings.Split(v.corsOrigin, ",")...)
}

func (v fuzzValues) config() model.Config {
	c := policyConfig(model.BackendPolicy{
		Check: v.checkPath != "", CheckPath: v.checkPath,
		Cookie: v.cookie,
	}, model.RoutePolicy{
		BasicAuth:       &model.BasicAuth{Realm: v.realm, Users: []model.User{{Name: v.userName, Hash: v.userHash}}},
		CORS:            &model.CORS{Origins: v.origins(), Methods: list("GET"), Headers: list("X-A"), MaxAge: time.Second},
		RequestHeaders:  []model.Header{{Name: v.headerName, Value: v.headerValue}},
		ResponseHeaders: []model.Header{{Name: v.headerName, Value: v.headerValue}},
	})
	c.Global.LogTarget = v.logTarget
	return c
}

// benign gives values of the same shape as v (empty where v is empty, as many origins, the same
// kind of log target) made of plain letters, so that both render to the same words.
func (v fuzzValues) benign() fuzzValues {
	pick := func(fuzzed, plain string) string {
		if fuzzed == "" {
			return ""
		}
		return plain
	}
	b := fuzzValues{
		headerName: "X-Benign", headerValue: pick(v.headerValue, "benign"), cookie: pick(v.cookie, "BENIGN"),
		checkPath: pick(v.checkPath, "/benign"), realm: pick(v.realm, "Benign"), userName: "benign",
		userHash: "$6$benign$benignbenignbenign", corsOrigin: "*", logTarget: pick(v.logTarget, "127.0.0.1:514"),
	}
	if v.logTarget == "stdout" {
		b.logTarget = "stdout"
	}
	if v.corsOrigin != "*" {
		var origins []string
		for i := range v.origins().Items {
			origins = append(origins, fmt.Sprintf("https://o%d.example.com", i))
		}
		b.corsOrigin = strings.Join(origins, ",")
	}
	return b
}

// FuzzRenderPolicyNoInjection checks that no header name or value, cookie, check path, realm,
// user name or hash, CORS origin or log target can add a line, a word or a comment to
// haproxy.cfg: either Render refuses the values, or every line has as many HAProxy words as with
// benign values of the same shape, no quote is left open, and the values hold nothing HAProxy
// would expand or evaluate.
func FuzzRenderPolicyNoInjection(f *testing.F) {
	valid := fuzzValues{"X-Env", "prod (eu)", "SRV", "/healthz", "Protected Content", "alice",
		"$6$salt$abcdefghijklmnop", "https://a.example.com,http://b.example.com:8080", "stdout"}
	add := func(v fuzzValues) {
		f.Add(v.headerName, v.headerValue, v.cookie, v.checkPath, v.realm, v.userName, v.userHash, v.corsOrigin, v.logTarget)
	}
	add(valid)
	add(fuzzValues{"X-A", "", "", "", "", "bob", "$1$x$yyyyyyyyyyyyyyyyyyyyyy", "*", ""})
	add(fuzzValues{"X-A", "a", "C", "/", "R", "u", "abcdefghijklm", "http://[fd00::1]:8080", "[fd00::5]:514"})
	for _, u := range unsafeVariants {
		for i := range 9 {
			v := valid
			fields := []*string{&v.headerName, &v.headerValue, &v.cookie, &v.checkPath, &v.realm, &v.userName, &v.userHash, &v.corsOrigin, &v.logTarget}
			*fields[i] = u.change(*fields[i])
			add(v)
		}
	}
	add(fuzzValues{"X-A", `a" if TRUE #`, "SRV", "/h", "R", "u", "$6$salt$abcdefghijklmnop", "*", "stdout"})
	add(fuzzValues{"X-A", "a", "SRV", "/h", `R" unless TRUE`, "u", "$6$salt$abcdefghijklmnop", "*", "stdout"})
	add(fuzzValues{"X-A", "a", "SRV insert", "/h", "R", "u insecure-password x", "$6$salt$abc def ghijklmnop", "*", "stdout format raw"})
	add(fuzzValues{"X-A", "a", "SRV", "/h HTTP/1.1", "R", "u", "$6$salt$abcdefghijklmnop", "https://a.com if TRUE", "1.2.3.4:514 local7"})

	f.Fuzz(func(t *testing.T, headerName, headerValue, cookie, checkPath, realm, userName, userHash, corsOrigin, logTarget string) {
		v := fuzzValues{headerName, headerValue, cookie, checkPath, realm, userName, userHash, corsOrigin, logTarget}
		files, err := haproxy.Render(v.config(), testEnv)
		if err != nil {
			return
		}
		benign, err := haproxy.Render(v.benign().config(), testEnv)
		if err != nil {
			t.Fatalf("%+v accepted, but not its benign form %+v: %v", v, v.benign(), err)
		}
		got := strings.Split(string(files[haproxy.ConfigFile]), "\n")
		want := strings.Split(string(benign[haproxy.ConfigFile]), "\n")
		if len(got) != len(want) {
			t.Fatalf("%+v: haproxy.cfg has %d lines, %d with benign values:\n%s", v, len(got), len(want), files[haproxy.ConfigFile])
		}
		for i := range got {
			gw, gopen := haproxyWords(got[i])
			ww, _ := haproxyWords(want[i])
			if gw != ww || gopen {
				t.Fatalf("%+v: line %d %q has %d words (quote left open: %v), %d with benign values: %q",
					v, i+1, got[i], gw, gopen, ww, want[i])
			}
		}
		for name, s := range map[string]string{
			"header name": headerName, "header value": headerValue, "cookie": cookie, "check path": checkPath,
			"realm": realm, "user name": userName, "CORS origin": corsOrigin, "log target": logTarget, "hash": userHash,
		} {
			forbidden := "%$\"'\\#\t"
			if name == "hash" {
				forbidden = "%\"'\\#\t "
			}
			for _, c := range []byte(s) {
				if c < 0x20 || c >= 0x7f || strings.IndexByte(forbidden, c) >= 0 {
					t.Errorf("%s %q accepted with byte %q", name, s, c)
				}
			}
		}
	})
}
