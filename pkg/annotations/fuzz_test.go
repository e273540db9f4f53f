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

func FuzzDuration(f *testing.F) {
	fuzzParser(f, durationIn(0, 730*day), "0s", "1us", "730d", "999999999999us", "9223372036854775807ns")
}

func FuzzInt(f *testing.F) { fuzzParser(f, intIn(0, 10000000), "0", "10000000", "999999999") }

func FuzzStatus(f *testing.F) { fuzzParser(f, statusIn(301, 302, 303, 307, 308), "301", "0301") }

func FuzzBoolean(f *testing.F) { fuzzParser(f, boolean, "TRUE", "Enabled") }

func FuzzOneOf(f *testing.F) {
	fuzzParser(f, oneOf(LogFormatDefault, LogFormatJSON, LogFormatCLF), "json", "clf ")
}

func FuzzTLSVersion(f *testing.F) { fuzzParser(f, oneOf(TLSv12, TLSv13), "TLSv1.3") }

func FuzzProxyProtocol(f *testing.F) { fuzzParser(f, proxyProtocol, "proxy", "proxy-v2-ssl-cn") }

func FuzzBalance(f *testing.F) {
	fuzzParser(f, balance, "uri whole path-only len 1 depth 4096", "hdr(X-A) use_domain_only", "url_param a.b-c_d", "random(100)")
}

func FuzzCIDRList(f *testing.F) {
	fuzzParser(f, cidrList, "10.0.0.1/8, ::ffff:10.0.0.1/128", "fe80::1%lo", "1.2.3.4/0")
}

func FuzzPath(f *testing.F) { fuzzParser(f, urlPath, "/", "/a/b/", "/a//b", "/./a") }

func FuzzPathRewrite(f *testing.F) { fuzzParser(f, rewrite, "/ /", "/a/ /b/", "/a /b /c") }

func FuzzRedirectTarget(f *testing.F) {
	fuzzParser(f, redirectTarget, "https://[::1]:443/", "http://A.B:80", "https://x.y/%2e%2e")
}

func FuzzOrigins(f *testing.F) { fuzzParser(f, origins, "*", "https://a.b:443, http://[::1]") }

func FuzzMethods(f *testing.F) { fuzzParser(f, methods, "*", "GET,GET") }

func FuzzHeaderNames(f *testing.F) { fuzzParser(f, headerNames, "*", "a, A") }

func FuzzSecretName(f *testing.F) { fuzzParser(f, secretName, "a.b-c", "a/b") }

func FuzzCookieName(f *testing.F) { fuzzParser(f, cookieName, "SERVERID", "a=b") }

func FuzzServiceRef(f *testing.F) { fuzzParser(f, serviceRef, "a:1", "a:http", "a:") }

func FuzzLogTarget(f *testing.F) { fuzzParser(f, logTarget, "stdout", "[::1]", "h:514") }

func FuzzCiphers(f *testing.F) { fuzzParser(f, ciphers, "HIGH:!aNULL", "DEFAULT@SECLEVEL=1") }

func FuzzHeaderValue(f *testing.F) { fuzzParser(f, headerValue, "a b", "a  b", "`") }

func FuzzHeaders(f *testing.F) {
	fuzzParser(f, headers, "A \"b c\"", "A  b\n\nB c\n", "A \"\"\"")
}

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
// timer (2^31-1 ms, about 24.8 days) except those rendered as header values (HSTS max-age).
func TestDurationBoundsOfRegistry(t *testing.T) {
	const haproxyMax = (1<<31 - 1) * time.Millisecond
	for _, s := range registry {
		ds, ok := s.(*setting[time.Duration])
		if !ok || ds == hstsMaxAge {
			continue
		}
		if _, err := ds.parser.parse(FormatDuration(haproxyMax.Truncate(time.Second) + time.Second)); err == nil {
			t.Errorf("%s accepts a duration beyond HAProxy's timer range", ds.def.Name)
		}
	}
}
