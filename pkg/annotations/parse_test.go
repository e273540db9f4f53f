package annotations

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// parseCase is one row of a parser table: the input, and either the value wanted or, with
// fails set, a rejection.
type parseCase[T any] struct {
	name  string
	in    string
	want  T
	fails bool
}

func runParser[T any](t *testing.T, p parser[T], cases []parseCase[T]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := p.parse(tc.in)
			switch {
			case tc.fails && err == nil:
				t.Fatalf("parse(%q) = %#v, want an error", tc.in, got)
			case !tc.fails && err != nil:
				t.Fatalf("parse(%q) failed: %v", tc.in, err)
			case !tc.fails && !reflect.DeepEqual(got, tc.want):
				t.Fatalf("parse(%q) = %#v, want %#v", tc.in, got, tc.want)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	runParser(t, durationIn(time.Millisecond, day), []parseCase[time.Duration]{
		{name: "seconds", in: "50s", want: 50 * time.Second},
		{name: "milliseconds", in: "1500ms", want: 1500 * time.Millisecond},
		{name: "microseconds at the minimum", in: "1000us", want: time.Millisecond},
		{name: "microseconds making whole milliseconds", in: "1500000us", want: 1500 * time.Millisecond},
		{name: "microseconds that are not whole milliseconds, which HAProxy cannot hold", in: "1500us", fails: true},
		{name: "minutes", in: "2m", want: 2 * time.Minute},
		{name: "hours", in: "3h", want: 3 * time.Hour},
		{name: "one day, the maximum", in: "1d", want: day},
		{name: "leading zeros", in: "007s", want: 7 * time.Second},
		{name: "a bare number, which HAProxy reads as milliseconds", in: "5000", fails: true},
		{name: "more than the maximum", in: "25h", fails: true},
		{name: "less than the minimum", in: "999us", fails: true},
		{name: "zero below a minimum of 1ms", in: "0s", fails: true},
		{name: "an unknown unit", in: "5sec", fails: true},
		{name: "Go's compound form", in: "1h30m", fails: true},
		{name: "a fraction", in: "1.5s", fails: true},
		{name: "a sign", in: "-5s", fails: true},
		{name: "upper-case unit", in: "5S", fails: true},
		{name: "a leading space", in: " 5s", fails: true},
		{name: "a trailing newline", in: "5s\n", fails: true},
		{name: "thirteen digits", in: "1000000000000us", fails: true},
		{name: "a number that would overflow", in: "999999999999d", fails: true},
		{name: "a unit alone", in: "s", fails: true},
		{name: "empty", in: "", fails: true},
	})
	runParser(t, durationIn(0, day), []parseCase[time.Duration]{
		{name: "zero when the minimum is zero", in: "0s", want: 0},
	})
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want string
	}{
		{"zero", 0, "0s"},
		{"negative", -time.Second, "0s"},
		{"whole days", 7 * day, "7d"},
		{"hours", 36 * time.Hour, "36h"},
		{"minutes and seconds", 90 * time.Second, "90s"},
		{"milliseconds", 1500 * time.Millisecond, "1500ms"},
		{"microseconds", 1500 * time.Microsecond, "1500us"},
		{"nanoseconds rounded down", 1500 * time.Nanosecond, "1us"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatDuration(tt.in); got != tt.want {
				t.Errorf("FormatDuration(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestInt(t *testing.T) {
	runParser(t, intIn(1, 1000), []parseCase[int]{
		{name: "a number in range", in: "42", want: 42},
		{name: "the minimum", in: "1", want: 1},
		{name: "the maximum", in: "1000", want: 1000},
		{name: "below the range", in: "0", fails: true},
		{name: "above the range", in: "1001", fails: true},
		{name: "a sign", in: "+5", fails: true},
		{name: "negative", in: "-5", fails: true},
		{name: "hexadecimal", in: "0x10", fails: true},
		{name: "an underscore separator", in: "1_000", fails: true},
		{name: "ten digits", in: "0000000001", fails: true},
		{name: "a space", in: "4 2", fails: true},
		{name: "a non-ASCII digit", in: "\u0664\u0662", fails: true},
		{name: "empty", in: "", fails: true},
	})
}

func TestStatus(t *testing.T) {
	runParser(t, statusIn(301, 302, 303, 307, 308), []parseCase[int]{
		{name: "a permanent redirect", in: "308", want: 308},
		{name: "a status not in the set", in: "300", fails: true},
		{name: "a success status", in: "200", fails: true},
		{name: "a status with junk", in: "301 if TRUE", fails: true},
	})
}

func TestBoolean(t *testing.T) {
	runParser(t, boolean, []parseCase[bool]{
		{name: "true", in: "true", want: true},
		{name: "false", in: "false", want: false},
		{name: "upper case", in: "TRUE", want: true},
		{name: "haproxytech's enabled", in: "enabled", want: true},
		{name: "haproxytech's disabled", in: "disabled", want: false},
		{name: "a digit", in: "1", fails: true},
		{name: "yes", in: "yes", fails: true},
		{name: "a long s folding onto s", in: "fal\u017fe", fails: true},
		{name: "a trailing newline", in: "true\n", fails: true},
	})
}

func TestOneOf(t *testing.T) {
	runParser(t, oneOf(TLSv12, TLSv13), []parseCase[TLSVersion]{
		{name: "TLS 1.2", in: "TLSv1.2", want: TLSv12},
		{name: "TLS 1.3", in: "TLSv1.3", want: TLSv13},
		{name: "lower case", in: "tlsv1.3", fails: true},
		{name: "an older version", in: "TLSv1.1", fails: true},
		{name: "a valid value with junk", in: "TLSv1.3 lua-load /x", fails: true},
	})
	runParser(t, oneOf(LogFormatDefault, LogFormatJSON, LogFormatCLF), []parseCase[LogFormat]{
		{name: "the json preset", in: "json", want: LogFormatJSON},
		{name: "a raw HAProxy log-format", in: "%ci:%cp [%tr] %ft", fails: true},
	})
}

func TestProxyProtocol(t *testing.T) {
	runParser(t, proxyProtocol, []parseCase[ProxyProtocol]{
		{name: "none", in: "none", want: ProxyNone},
		{name: "proxy means version 1", in: "proxy", want: ProxyV1},
		{name: "version 2", in: "proxy-v2", want: ProxyV2},
		{name: "version 2 with the client certificate CN", in: "proxy-v2-ssl-cn", want: ProxyV2SSLCN},
		{name: "HAProxy's own keyword", in: "send-proxy-v2", fails: true},
		{name: "version 3", in: "proxy-v3", fails: true},
	})
	for p, want := range map[ProxyProtocol]string{ProxyNone: "", ProxyV1: "send-proxy", ProxyV2SSL: "send-proxy-v2-ssl"} {
		if got := p.ServerKeyword(); got != want {
			t.Errorf("%s.ServerKeyword() = %q, want %q", p, got, want)
		}
	}
}

func TestBalance(t *testing.T) {
	runParser(t, balance, []parseCase[Balance]{
		{name: "round robin", in: "roundrobin", want: Balance{Algorithm: "roundrobin"}},
		{name: "least connections", in: "leastconn", want: Balance{Algorithm: "leastconn"}},
		{name: "static round robin", in: "static-rr", want: Balance{Algorithm: "static-rr"}},
		{name: "source hashing", in: "source", want: Balance{Algorithm: "source"}},
		{name: "random", in: "random", want: Balance{Algorithm: "random"}},
		{name: "random with draws", in: "random(3)", want: Balance{Algorithm: "random", Draws: 3}},
		{name: "uri with options", in: "uri whole len 10 depth 2",
			want: Balance{Algorithm: "uri", URIWhole: true, URILen: 10, URIDepth: 2}},
		{name: "uri path-only", in: "uri path-only", want: Balance{Algorithm: "uri", URIPathOnly: true}},
		{name: "url_param", in: "url_param user_id", want: Balance{Algorithm: "url_param", Param: "user_id"}},
		{name: "hdr", in: "hdr(X-User)", want: Balance{Algorithm: "hdr", Param: "X-User"}},
		{name: "hdr with use_domain_only", in: "hdr(Host) use_domain_only",
			want: Balance{Algorithm: "hdr", Param: "Host", UseDomainOnly: true}},
		{name: "extra spaces between words", in: "uri  whole", want: Balance{Algorithm: "uri", URIWhole: true}},
		{name: "an unknown algorithm", in: "weighted", fails: true},
		{name: "an algorithm with a stray option", in: "roundrobin if TRUE", fails: true},
		{name: "random with zero draws", in: "random(0)", fails: true},
		{name: "random with too many draws", in: "random(101)", fails: true},
		{name: "uri len without a number", in: "uri len", fails: true},
		{name: "uri len twice", in: "uri len 1 len 2", fails: true},
		{name: "uri with an unknown option", in: "uri check_post", fails: true},
		{name: "url_param without a name", in: "url_param", fails: true},
		{name: "url_param with a fetch", in: "url_param %[env(HOME)]", fails: true},
		{name: "hdr with a quote", in: `hdr(X"Y)`, fails: true},
		{name: "hdr with an empty name", in: "hdr()", fails: true},
		{name: "hash with an expression", in: "hash req.cookie(id)", fails: true},
		{name: "a tab separator", in: "uri\twhole", fails: true},
		{name: "a newline and a directive", in: "roundrobin\nlua-load /tmp/x", fails: true},
		{name: "upper case", in: "RoundRobin", fails: true},
	})
	for in, want := range map[string]string{
		"uri whole len 10 depth 2":  "uri whole len 10 depth 2",
		"uri depth 2 path-only":     "uri path-only depth 2",
		"random(2)":                 "random(2)",
		"hdr(Host) use_domain_only": "hdr(Host) use_domain_only",
	} {
		b, err := parseBalance(in)
		if err != nil || b.String() != want {
			t.Errorf("parseBalance(%q).String() = %q, %v; want %q", in, b.String(), err, want)
		}
	}
}

func TestCIDRList(t *testing.T) {
	pfx := netip.MustParsePrefix
	runParser(t, cidrList, []parseCase[[]netip.Prefix]{
		{name: "one prefix", in: "10.0.0.0/8", want: []netip.Prefix{pfx("10.0.0.0/8")}},
		{name: "an address becomes a host prefix", in: "192.168.1.10", want: []netip.Prefix{pfx("192.168.1.10/32")}},
		{name: "IPv6", in: "2001:db8::/32, ::1", want: []netip.Prefix{pfx("::1/128"), pfx("2001:db8::/32")}},
		{name: "host bits are cleared", in: "10.1.2.3/8", want: []netip.Prefix{pfx("10.0.0.0/8")}},
		{name: "sorted and de-duplicated", in: "10.0.0.0/8 192.168.0.0/16,10.0.0.0/8",
			want: []netip.Prefix{pfx("10.0.0.0/8"), pfx("192.168.0.0/16")}},
		{name: "commas and spaces", in: " 10.0.0.0/8 ,, 10.0.0.1 ", want: []netip.Prefix{pfx("10.0.0.0/8"), pfx("10.0.0.1/32")}},
		{name: "an IPv6 zone", in: "fe80::1%eth0", fails: true},
		{name: "a prefix length too long", in: "10.0.0.0/33", fails: true},
		{name: "a host name", in: "example.com", fails: true},
		{name: "haproxytech's pattern file", in: "patterns/ips", fails: true},
		{name: "a leading zero", in: "010.0.0.1", fails: true},
		{name: "a newline separator", in: "10.0.0.0/8\n10.1.0.0/16", fails: true},
		{name: "a comment", in: "10.0.0.0/8 # office", fails: true},
		{name: "only separators", in: " , ", fails: true},
		{name: "more than the maximum", in: strings.Repeat("10.0.0.1,", limits.MaxNetworks+1), fails: true},
	})
}

func TestPath(t *testing.T) {
	runParser(t, urlPath, []parseCase[Path]{
		{name: "the root", in: "/", want: "/"},
		{name: "a path", in: "/healthz", want: "/healthz"},
		{name: "sub-delimiters and a trailing slash", in: "/a-b_c.d~e/f;g=h&i(j)*k+l,m:n@o!/", want: "/a-b_c.d~e/f;g=h&i(j)*k+l,m:n@o!/"},
		{name: "a relative path", in: "healthz", fails: true},
		{name: "percent-encoding", in: "/a%20b", fails: true},
		{name: "a query", in: "/a?b=c", fails: true},
		{name: "a fragment or comment", in: "/a#b", fails: true},
		{name: "a dollar", in: "/$HOME", fails: true},
		{name: "a single quote", in: "/a'b", fails: true},
		{name: "a space", in: "/a b", fails: true},
		{name: "a double slash", in: "//evil.example.com", fails: true},
		{name: "a dot-dot segment", in: "/a/../b", fails: true},
		{name: "a trailing dot segment", in: "/a/.", fails: true},
		{name: "a backslash", in: `/a\b`, fails: true},
		{name: "braces", in: "/a{b}", fails: true},
		{name: "non-ASCII", in: "/caf\u00e9", fails: true},
		{name: "longer than 1024 bytes", in: "/" + strings.Repeat("a", 1024), fails: true},
	})
}

func TestPathRewrite(t *testing.T) {
	runParser(t, rewrite, []parseCase[PathRewrite]{
		{name: "a prefix pair", in: "/old /new", want: PathRewrite{From: "/old", To: "/new"}},
		{name: "stripping a prefix", in: "/api /", want: PathRewrite{From: "/api", To: "/"}},
		{name: "trailing slashes are dropped", in: "/old/ /new/", want: PathRewrite{From: "/old", To: "/new"}},
		{name: "several spaces", in: "/a   /b", want: PathRewrite{From: "/a", To: "/b"}},
		{name: "one path, haproxytech's whole-path form", in: "/new", fails: true},
		{name: "a regular expression", in: `^/foo/(.*) /\1`, fails: true},
		{name: "three paths", in: "/a /b /c", fails: true},
		{name: "a log-format fetch in the target", in: "/a /%[env(HOME)]", fails: true},
	})
	apply := []struct {
		name   string
		rule   PathRewrite
		in     string
		want   string
		wantOK bool
	}{
		{"the prefix itself", PathRewrite{"/old", "/new"}, "/old", "/new", true},
		{"below the prefix", PathRewrite{"/old", "/new"}, "/old/x/y", "/new/x/y", true},
		{"a longer segment does not match", PathRewrite{"/old", "/new"}, "/older", "/older", false},
		{"another path", PathRewrite{"/old", "/new"}, "/x", "/x", false},
		{"stripping to the root", PathRewrite{"/api", "/"}, "/api", "/", true},
		{"stripping a prefix", PathRewrite{"/api", "/"}, "/api/users", "/users", true},
		{"adding a prefix to everything", PathRewrite{"/", "/v2"}, "/users", "/v2/users", true},
	}
	for _, tt := range apply {
		t.Run("apply "+tt.name, func(t *testing.T) {
			got, ok := tt.rule.Apply(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("%v.Apply(%q) = %q, %v; want %q, %v", tt.rule, tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestRedirectTarget(t *testing.T) {
	runParser(t, redirectTarget, []parseCase[RedirectTarget]{
		{name: "an https origin", in: "https://www.example.com", want: RedirectTarget{Scheme: "https", Host: "www.example.com"}},
		{name: "a port and a path", in: "http://example.com:8080/base/",
			want: RedirectTarget{Scheme: "http", Host: "example.com", Port: 8080, Path: "/base"}},
		{name: "the default port is dropped", in: "https://example.com:443/", want: RedirectTarget{Scheme: "https", Host: "example.com"}},
		{name: "upper-case host", in: "https://WWW.Example.COM", want: RedirectTarget{Scheme: "https", Host: "www.example.com"}},
		{name: "an IPv4 address", in: "http://192.0.2.1", want: RedirectTarget{Scheme: "http", Host: "192.0.2.1"}},
		{name: "an IPv6 address", in: "https://[2001:db8::1]:8443", want: RedirectTarget{Scheme: "https", Host: "[2001:db8::1]", Port: 8443}},
		{name: "haproxytech's host form", in: "example.com", fails: true},
		{name: "another scheme", in: "javascript://example.com", fails: true},
		{name: "user info", in: "https://user@example.com", fails: true},
		{name: "a query", in: "https://example.com/?a=b", fails: true},
		{name: "a fragment", in: "https://example.com/#x", fails: true},
		{name: "an empty host", in: "https:///path", fails: true},
		{name: "port zero", in: "https://example.com:0", fails: true},
		{name: "a port too large", in: "https://example.com:65536", fails: true},
		{name: "an IPv6 zone", in: "https://[fe80::1%25eth0]", fails: true},
		{name: "an unbracketed IPv6 address", in: "https://2001:db8::1", fails: true},
		{name: "a numeric top-level label", in: "https://1.2.3", fails: true},
		{name: "an underscore in the host", in: "https://a_b.example.com", fails: true},
		{name: "a space and a directive", in: "https://example.com code 301 if TRUE", fails: true},
		{name: "a log-format fetch", in: "https://%[req.hdr(host)]/", fails: true},
	})
}

func TestOrigins(t *testing.T) {
	runParser(t, origins, []parseCase[Wildcard[Origin]]{
		{name: "any origin", in: "*", want: Wildcard[Origin]{Any: true}},
		{name: "two origins", in: "https://example.com, http://localhost:3000",
			want: Wildcard[Origin]{Items: []Origin{{"https", "example.com", 0}, {"http", "localhost", 3000}}}},
		{name: "duplicates are dropped", in: "https://a.example https://A.example",
			want: Wildcard[Origin]{Items: []Origin{{"https", "a.example", 0}}}},
		{name: "a star in a list", in: "*, https://example.com", fails: true},
		{name: "a path", in: "https://example.com/", fails: true},
		{name: "haproxytech's regular expression", in: `^https://(.+\.)?example\.com$`, fails: true},
		{name: "no scheme", in: "example.com", fails: true},
		{name: "a wildcard host", in: "https://*.example.com", fails: true},
		{name: "more than 32 origins", in: strings.Repeat("https://a.example, ", 32) + "https://b.example", fails: true},
	})
	if got := (Wildcard[Origin]{Items: []Origin{{"https", "a.example", 0}, {"http", "b.example", 8080}}}).Quoted(); got != `"https://a.example, http://b.example:8080"` {
		t.Errorf("Quoted() = %s", got)
	}
}

func TestMethods(t *testing.T) {
	runParser(t, methods, []parseCase[Wildcard[Method]]{
		{name: "any method", in: "*", want: Wildcard[Method]{Any: true}},
		{name: "a list", in: "GET, POST,PUT", want: Wildcard[Method]{Items: []Method{"GET", "POST", "PUT"}}},
		{name: "a hyphenated method", in: "M-SEARCH", want: Wildcard[Method]{Items: []Method{"M-SEARCH"}}},
		{name: "lower case", in: "get", fails: true},
		{name: "a digit", in: "GET2", fails: true},
		{name: "more than 16", in: strings.Repeat("GET,", 17), fails: true},
		{name: "16 methods of 32 bytes", in: strings.Repeat(strings.Repeat("M", 32)+", ", 15) + strings.Repeat("N", 32),
			want: Wildcard[Method]{Items: []Method{Method(strings.Repeat("M", 32)), Method(strings.Repeat("N", 32))}}},
	})
}

func TestHeaderNames(t *testing.T) {
	runParser(t, headerNames, []parseCase[Wildcard[HeaderName]]{
		{name: "a list", in: "Authorization, Content-Type, X_Custom",
			want: Wildcard[HeaderName]{Items: []HeaderName{"Authorization", "Content-Type", "X_Custom"}}},
		{name: "a colon", in: "X-A:b", fails: true},
		{name: "a token character special to HAProxy", in: "X-%", fails: true},
		{name: "a leading hyphen", in: "-X", fails: true},
		{name: "a pseudo-header", in: ":authority", fails: true},
		{name: "a list of 1024 bytes, the longest header value", in: headerList(15, 64) + ", " + strings.Repeat("z", 1024-len(headerList(15, 64))-2),
			want: headerNameList(headerList(15, 64) + ", " + strings.Repeat("z", 1024-len(headerList(15, 64))-2))},
		{name: "64 names in more than 1024 bytes, which the header could not carry", in: headerList(64, 64), fails: true},
		{name: "more than 64 names", in: headerList(65, 1), fails: true},
	})
}

// headerList is n distinct header names of size bytes each, separated by ", ".
func headerList(n, size int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%0*d", size, i)
	}
	return strings.Join(names, ", ")
}

func headerNameList(s string) Wildcard[HeaderName] {
	var w Wildcard[HeaderName]
	for _, n := range strings.Split(s, ", ") {
		w.Items = append(w.Items, HeaderName(n))
	}
	return w
}

func TestSecretName(t *testing.T) {
	runParser(t, secretName, []parseCase[string]{
		{name: "a name", in: "web-users", want: "web-users"},
		{name: "a dotted name", in: "auth.v1", want: "auth.v1"},
		{name: "haproxytech's namespace/name form", in: "default/web-users", fails: true},
		{name: "upper case", in: "Web", fails: true},
		{name: "a path traversal", in: "../token", fails: true},
		{name: "a leading hyphen", in: "-a", fails: true},
		{name: "an empty label", in: "a..b", fails: true},
		{name: "254 bytes", in: strings.Repeat("a", 254), fails: true},
	})
}

func TestCookieName(t *testing.T) {
	runParser(t, cookieName, []parseCase[string]{
		{name: "a name", in: "SERVERID", want: "SERVERID"},
		{name: "64 bytes", in: strings.Repeat("c", 64), want: strings.Repeat("c", 64)},
		{name: "65 bytes", in: strings.Repeat("c", 65), fails: true},
		{name: "an equals sign", in: "a=b", fails: true},
		{name: "a space and a cookie option", in: "SRV insert indirect", fails: true},
		{name: "a semicolon", in: "a;b", fails: true},
	})
}

func TestServiceRef(t *testing.T) {
	runParser(t, serviceRef, []parseCase[ServiceRef]{
		{name: "a name", in: "web-canary", want: ServiceRef{Name: "web-canary"}},
		{name: "a port number", in: "web-canary:8080", want: ServiceRef{Name: "web-canary", Port: 8080}},
		{name: "a port name", in: "web-canary:http", want: ServiceRef{Name: "web-canary", PortName: "http"}},
		{name: "a namespace", in: "other/web", fails: true},
		{name: "a name starting with a digit", in: "1web", fails: true},
		{name: "port zero", in: "web:0", fails: true},
		{name: "an empty port", in: "web:", fails: true},
		{name: "a port name of 16 bytes", in: "web:" + strings.Repeat("p", 16), fails: true},
		{name: "a double hyphen in the port name", in: "web:a--b", fails: true},
		{name: "two ports", in: "web:80:81", fails: true},
	})
}

func TestLogTarget(t *testing.T) {
	runParser(t, logTarget, []parseCase[LogTarget]{
		{name: "standard output", in: "stdout", want: LogTarget{Stdout: true}},
		{name: "an address with the default port", in: "10.0.0.5", want: LogTarget{Host: "10.0.0.5", Port: 514}},
		{name: "a host and port", in: "syslog.logging.svc:1514", want: LogTarget{Host: "syslog.logging.svc", Port: 1514}},
		{name: "IPv6", in: "[2001:db8::5]:514", want: LogTarget{Host: "[2001:db8::5]", Port: 514}},
		{name: "haproxytech's form", in: "address:127.0.0.1, facility: local0", fails: true},
		{name: "a unix socket", in: "/dev/log", fails: true},
		{name: "a ring", in: "ring@buf", fails: true},
		{name: "a facility after the address", in: "10.0.0.5:514 local0", fails: true},
	})
}

func TestCiphers(t *testing.T) {
	runParser(t, ciphers, []parseCase[Ciphers]{
		{name: "a cipher list", in: "ECDHE+AESGCM:!aNULL:-RC4", want: "ECDHE+AESGCM:!aNULL:-RC4"},
		{name: "TLS 1.3 suites", in: "TLS_AES_128_GCM_SHA256", want: "TLS_AES_128_GCM_SHA256"},
		{name: "a security level", in: "DEFAULT@SECLEVEL=2", fails: true},
		{name: "a space", in: "HIGH MEDIUM", fails: true},
		{name: "a directive after a newline", in: "HIGH\nssl-engine x", fails: true},
		{name: "empty", in: "", fails: true},
	})
}

func TestCipherSuites(t *testing.T) {
	runParser(t, cipherSuites, []parseCase[Ciphers]{
		{name: "one suite", in: "TLS_AES_256_GCM_SHA384", want: "TLS_AES_256_GCM_SHA384"},
		{name: "every suite", in: "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256",
			want: "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"},
		{name: "an unknown suite, which OpenSSL and HAProxy refuse", in: "TLS_FOO", fails: true},
		{name: "a known and an unknown suite", in: "TLS_AES_256_GCM_SHA384:TLS_FOO", fails: true},
		{name: "a TLS 1.2 cipher", in: "ECDHE-RSA-AES128-GCM-SHA256", fails: true},
		{name: "an empty entry", in: "TLS_AES_256_GCM_SHA384::TLS_AES_128_GCM_SHA256", fails: true},
		{name: "lower case", in: "tls_aes_256_gcm_sha384", fails: true},
	})
}

func TestHeaderValue(t *testing.T) {
	runParser(t, headerValue, []parseCase[HeaderValue]{
		{name: "a word", in: "production", want: "production"},
		{name: "HSTS syntax", in: "max-age=31536000; includeSubDomains", want: "max-age=31536000; includeSubDomains"},
		{name: "every allowed punctuation", in: "a !*+,-./:;<=>?@^_`|~()& b", want: "a !*+,-./:;<=>?@^_`|~()& b"},
		{name: "a sample fetch", in: "%[env(HOME)]", fails: true},
		{name: "an escaped percent", in: "100%%", fails: true},
		{name: "an environment variable", in: "$HOME", fails: true},
		{name: "a braced environment variable", in: "${KUBERNETES_SERVICE_HOST}", fails: true},
		{name: "a double quote", in: `a"b`, fails: true},
		{name: "a single quote, as in CSP 'self'", in: "default-src 'self'", fails: true},
		{name: "a backslash", in: `a\b`, fails: true},
		{name: "a comment", in: "a #b", fails: true},
		{name: "braces", in: "{a}", fails: true},
		{name: "a leading space", in: " a", fails: true},
		{name: "a trailing space", in: "a ", fails: true},
		{name: "a tab", in: "a\tb", fails: true},
		{name: "CR LF", in: "a\r\nX-Injected: 1", fails: true},
		{name: "Latin-1", in: "caf\u00e9", fails: true},
		{name: "longer than 1024 bytes", in: strings.Repeat("a", 1025), fails: true},
	})
	if got := HeaderValue("a b").Quoted(); got != `"a b"` {
		t.Errorf("Quoted() = %s", got)
	}
}

func TestHeaders(t *testing.T) {
	runParser(t, headers, []parseCase[[]Header]{
		{name: "one header", in: "X-Env production", want: []Header{{"X-Env", "production"}}},
		{name: "a value with spaces", in: "Cache-Control no-store, no-cache", want: []Header{{"Cache-Control", "no-store, no-cache"}}},
		{name: "haproxytech's quoted value", in: `Cache-Control "no-store,no-cache,private"`,
			want: []Header{{"Cache-Control", "no-store,no-cache,private"}}},
		{name: "a YAML block with a trailing newline", in: "A 1\nB 2\n", want: []Header{{"A", "1"}, {"B", "2"}}},
		{name: "blank lines and indentation", in: "\n  A 1\n\n  B  2\n", want: []Header{{"A", "1"}, {"B", "2"}}},
		{name: "a name without a value", in: "X-Env", fails: true},
		{name: "a colon after the name", in: "X-Env: production", fails: true},
		{name: "an empty quoted value", in: `X-Env ""`, fails: true},
		{name: "a quote inside the quotes", in: `X-Env "a"b"`, fails: true},
		{name: "a sample fetch", in: "X-Secret %[env(SECRET)]", fails: true},
		{name: "a CR line ending", in: "A 1\r\nB 2", fails: true},
		{name: "a framing header", in: "Content-Length 0", fails: true},
		{name: "a framing header in another case", in: "transfer-ENCODING chunked", fails: true},
		{name: "a header set twice", in: "A 1\na 2", fails: true},
		{name: "only blank lines", in: "\n \n", fails: true},
		{name: "more than the maximum", in: strings.Repeat("X-A 1\n", 1) + manyHeaders(limits.MaxHeaders), fails: true},
	})
}

func manyHeaders(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("X-H" + strings.Repeat("a", i) + " 1\n")
	}
	return b.String()
}

func TestClip(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"a short value", "5x", `"5x"`},
		{"control characters", "a\nb\r\x00", `"a\nb\r\x00"`},
		{"exactly 64 bytes", strings.Repeat("a", 64), `"` + strings.Repeat("a", 64) + `"`},
		{"a long value", strings.Repeat("a", 100), `"` + strings.Repeat("a", 64) + `"... (100 bytes)`},
		{"a cut inside a character", strings.Repeat("a", 63) + "\u00e9tr", `"` + strings.Repeat("a", 63) + `"... (67 bytes)`},
		{"a line separator", "a\u2028b", `"a\u2028b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Clip(tt.in); got != tt.want {
				t.Errorf("Clip(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// TestValuesTheRendererRefusedAreProblems covers the values that Parse used to accept and the
// renderer refused, failing every reconcile pass: each is now a Problem naming the key, and the
// next source in precedence order applies.
func TestValuesTheRendererRefusedAreProblems(t *testing.T) {
	tests := []struct {
		name   string
		src    Source
		key    string
		value  string
		reason string
	}{
		{"a timeout in microseconds that are not whole milliseconds", SourceIngress, Prefix + "timeout-server", "1500us",
			"not a whole number of milliseconds"},
		{"the same in the ConfigMap", SourceConfigMap, "timeout-client", "2500us", "not a whole number of milliseconds"},
		{"CORS header names longer than a header value", SourceIngress, Prefix + "cors-allow-headers", headerList(64, 64),
			"longer than 1024 bytes"},
		{"an unknown TLS 1.3 cipher suite", SourceConfigMap, "ssl-ciphersuites", "TLS_AES_128_GCM_SHA256:TLS_FOO",
			"entry 2 is not a TLS 1.3 cipher suite"},
		{"an HSTS max-age of zero, which would send no header", SourceConfigMap, "hsts-max-age", "0s", "less than the minimum of 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, probs := Parse(tt.src, map[string]string{tt.key: tt.value})
			if len(probs) != 1 || probs[0].Key != tt.key || probs[0].Severity != Error || !strings.Contains(probs[0].Message, tt.reason) {
				t.Fatalf("problems %v; want one Error for %s saying %q", probs, tt.key, tt.reason)
			}
			if len(l.values) != 0 {
				t.Errorf("the value was kept: %v", l.values)
			}
		})
	}
}
