package annotations

import (
	"reflect"
	"testing"
	"time"
)

// Fuzz targets: one per parser, plus Parse as a whole. Each asserts the render-safety property
// (checkSafe) on every accepted value, and that the canonical form of a value parses back to the
// same value. The seed corpus is the probe catalogue plus the registry's examples and defaults;
// `go test` runs it as ordinary tests, `go test -fuzz FuzzX` explores further.

func fuzzParser[T any](f *testing.F, p parser[T], seeds ...string) {
	f.Helper()
	for _, s := range probeCatalogue() {
		f.Add(s)
	}
	for _, d := range Definitions() {
		f.Add(d.Example)
		f.Add(d.Default)
		for _, j := range junk[:6] {
			f.Add(d.Example + j)
		}
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := p.parse(s)
		if err != nil {
			return
		}
		checkSafe(t, s, renderParts(t, v))
		canon := p.format(v)
		again, err := p.parse(canon)
		if err != nil {
			t.Fatalf("parse(%q) = %#v, whose canonical form %q does not parse: %v", s, v, canon, err)
		}
		if !reflect.DeepEqual(again, v) {
			t.Fatalf("parse(%q) = %#v, but its canonical form %q parses to %#v", s, v, canon, again)
		}
	})
}

// The seeds of the fuzz targets, one list per grammar. Samples (export_test.go) feeds them to
// the property tests of the whole pipeline too.
var (
	durationSeeds      = []string{"0s", "1us", "730d", "999999999999us", "9223372036854775807ns", "1500us", "1000us"}
	intSeeds           = []string{"0", "10000000", "999999999"}
	statusSeeds        = []string{"301", "0301"}
	booleanSeeds       = []string{"TRUE", "Enabled"}
	logFormatSeeds     = []string{"json", "clf "}
	tlsVersionSeeds    = []string{"TLSv1.3"}
	proxyProtocolSeeds = []string{"proxy", "proxy-v2-ssl-cn"}
	balanceSeeds       = []string{"uri whole path-only len 1 depth 4096", "hdr(X-A) use_domain_only", "url_param a.b-c_d", "random(100)"}
	cidrSeeds          = []string{"10.0.0.1/8, ::ffff:10.0.0.1/128", "fe80::1%lo", "1.2.3.4/0"}
	pathSeeds          = []string{"/", "/a/b/", "/a//b", "/./a"}
	rewriteSeeds       = []string{"/ /", "/a/ /b/", "/a /b /c"}
	redirectSeeds      = []string{"https://[::1]:443/", "http://A.B:80", "https://x.y/%2e%2e"}
	originSeeds        = []string{"*", "https://a.b:443, http://[::1]"}
	methodSeeds        = []string{"*", "GET,GET"}
	headerNameSeeds    = []string{"*", "a, A"}
	secretNameSeeds    = []string{"a.b-c", "a/b"}
	cookieNameSeeds    = []string{"SERVERID", "a=b"}
	serviceRefSeeds    = []string{"a:1", "a:http", "a:"}
	logTargetSeeds     = []string{"stdout", "[::1]", "h:514"}
	cipherSeeds        = []string{"HIGH:!aNULL", "DEFAULT@SECLEVEL=1"}
	cipherSuiteSeeds   = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256:TLS_FOO", "TLS_AES_128_CCM_8_SHA256:"}
	headerValueSeeds   = []string{"a b", "a  b", "`"}
	headersSeeds       = []string{"A \"b c\"", "A  b\n\nB c\n", "A \"\"\""}
)

func FuzzDuration(f *testing.F) { fuzzParser(f, durationIn(0, 730*day), durationSeeds...) }

func FuzzInt(f *testing.F) { fuzzParser(f, intIn(0, 10000000), intSeeds...) }

func FuzzStatus(f *testing.F) { fuzzParser(f, statusIn(301, 302, 303, 307, 308), statusSeeds...) }

func FuzzBoolean(f *testing.F) { fuzzParser(f, boolean, booleanSeeds...) }

func FuzzOneOf(f *testing.F) {
	fuzzParser(f, oneOf(LogFormatDefault, LogFormatJSON, LogFormatCLF), logFormatSeeds...)
}

func FuzzTLSVersion(f *testing.F) { fuzzParser(f, oneOf(TLSv12, TLSv13), tlsVersionSeeds...) }

func FuzzProxyProtocol(f *testing.F) { fuzzParser(f, proxyProtocol, proxyProtocolSeeds...) }

func FuzzBalance(f *testing.F) { fuzzParser(f, balance, balanceSeeds...) }

func FuzzCIDRList(f *testing.F) { fuzzParser(f, cidrList, cidrSeeds...) }

func FuzzPath(f *testing.F) { fuzzParser(f, urlPath, pathSeeds...) }

func FuzzPathRewrite(f *testing.F) { fuzzParser(f, rewrite, rewriteSeeds...) }

func FuzzRedirectTarget(f *testing.F) { fuzzParser(f, redirectTarget, redirectSeeds...) }

func FuzzOrigins(f *testing.F) { fuzzParser(f, origins, originSeeds...) }

func FuzzMethods(f *testing.F) { fuzzParser(f, methods, methodSeeds...) }

func FuzzHeaderNames(f *testing.F) { fuzzParser(f, headerNames, headerNameSeeds...) }

func FuzzSecretName(f *testing.F) { fuzzParser(f, secretName, secretNameSeeds...) }

func FuzzCookieName(f *testing.F) { fuzzParser(f, cookieName, cookieNameSeeds...) }

func FuzzServiceRef(f *testing.F) { fuzzParser(f, serviceRef, serviceRefSeeds...) }

func FuzzLogTarget(f *testing.F) { fuzzParser(f, logTarget, logTargetSeeds...) }

func FuzzCiphers(f *testing.F) { fuzzParser(f, ciphers, cipherSeeds...) }

func FuzzCipherSuites(f *testing.F) { fuzzParser(f, cipherSuites, cipherSuiteSeeds...) }

func FuzzHeaderValue(f *testing.F) { fuzzParser(f, headerValue, headerValueSeeds...) }

func FuzzHeaders(f *testing.F) { fuzzParser(f, headers, headersSeeds...) }

// FuzzParse feeds one arbitrary key and value to Parse in each scope: whatever is accepted must
// render safely, and every problem must be safe to log.
func FuzzParse(f *testing.F) {
	for _, d := range Definitions() {
		for _, src := range []Source{SourceConfigMap, SourceIngress, SourceService} {
			for _, k := range keyForms(d, src) {
				f.Add(k, d.Example, uint8(src))
				f.Add(k, d.Example+"\n#", uint8(src))
			}
		}
	}
	f.Add("portcullis.io/\n", "%[env(HOME)]", uint8(SourceIngress))
	f.Add("haproxy.org/x", "${A}", uint8(SourceService))
	f.Fuzz(func(t *testing.T, key, value string, src uint8) {
		s := Source(src%3 + 1)
		l, probs := Parse(s, map[string]string{key: value})
		for _, f := range l.values {
			checkSafe(t, value, renderParts(t, f.value))
		}
		for _, p := range probs {
			assertPrintable(t, p.String())
		}
		// Resolution never fails and never invents a source.
		if l.Source() != s {
			t.Fatalf("layer source %s, want %s", l.Source(), s)
		}
		_ = ResolveBackend(l, Layer{}, Layer{})
		_ = ResolveRoute(l, Layer{})
		_ = ResolveGlobal(l)
	})
}

// TestDurationBoundsOfRegistry checks that no registered duration can exceed HAProxy's largest
// timer (2^31-1 ms, about 24.8 days) except those rendered as header values (HSTS max-age, the
// persistence cookie's Max-Age).
func TestDurationBoundsOfRegistry(t *testing.T) {
	const haproxyMax = (1<<31 - 1) * time.Millisecond
	for _, s := range registry {
		ds, ok := s.(*setting[time.Duration])
		if !ok || ds == hstsMaxAge || ds == cookieMaxAge {
			continue
		}
		if _, err := ds.parser.parse(FormatDuration(haproxyMax.Truncate(time.Second) + time.Second)); err == nil {
			t.Errorf("%s accepts a duration beyond HAProxy's timer range", ds.def.Name)
		}
	}
}
