package limits_test

import (
	"fmt"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// TestCharacterClassesExcludeSpecialBytes checks every byte against every class: none admits a
// control character, a non-ASCII byte or a byte that HAProxy's configuration parser reads
// specially, except '$' in crypt hashes (written as bare words, where HAProxy reads it
// literally) and the space in quoted text.
func TestCharacterClassesExcludeSpecialBytes(t *testing.T) {
	classes := []struct {
		name    string
		in      func(byte) bool
		allowed string
	}{
		{"token", limits.IsTokenChar, ""},
		{"header name", limits.IsHeaderNameChar, ""},
		{"method", limits.IsMethodChar, ""},
		{"path", limits.IsPathChar, ""},
		{"quoted", limits.IsQuotedChar, " "},
		{"cipher", limits.IsCipherChar, ""},
		{"crypt", limits.IsCryptChar, "$"},
	}
	for _, cl := range classes {
		t.Run(cl.name, func(t *testing.T) {
			for c := 0; c < 256; c++ {
				b := byte(c)
				if !cl.in(b) || strings.IndexByte(cl.allowed, b) >= 0 {
					continue
				}
				if b <= ' ' || b >= 0x7f || strings.IndexByte("\"'\\#%$", b) >= 0 {
					t.Errorf("class admits %q", b)
				}
			}
		})
	}
}

// check is one row of a checker table.
type check struct {
	name string
	in   string
	ok   bool
}

func runChecks(t *testing.T, f func(string) error, cases []check) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := f(tc.in)
			switch {
			case tc.ok && err != nil:
				t.Errorf("%q refused: %v", tc.in, err)
			case !tc.ok && err == nil:
				t.Errorf("%q accepted", tc.in)
			case err != nil && strings.Contains(err.Error(), tc.in) && len(tc.in) > 2:
				t.Errorf("the reason %q quotes the value", err)
			}
		})
	}
}

func TestCheckToken(t *testing.T) {
	runChecks(t, limits.CheckToken, []check{
		{"a cookie name", "SERVERID", true},
		{"dots, dashes and underscores", "a.b-c_d", true},
		{"the longest name", strings.Repeat("a", limits.MaxNameLen), true},
		{"one byte too long", strings.Repeat("a", limits.MaxNameLen+1), false},
		{"empty", "", false},
		{"an equals sign", "a=b", false},
		{"a space", "a b", false},
	})
}

func TestCheckHeaderName(t *testing.T) {
	runChecks(t, limits.CheckHeaderName, []check{
		{"a name", "X-Request_ID", true},
		{"a digit first", "1X", true},
		{"the longest name", strings.Repeat("x", limits.MaxNameLen), true},
		{"one byte too long", strings.Repeat("x", limits.MaxNameLen+1), false},
		{"a hyphen first", "-X", false},
		{"a dot", "X.Y", false},
		{"a colon", "X:", false},
		{"empty", "", false},
	})
	for _, h := range []string{"Content-Length", "transfer-ENCODING", "Connection", "TE"} {
		if !limits.IsFramingHeader(h) {
			t.Errorf("IsFramingHeader(%q) = false", h)
		}
	}
	if limits.IsFramingHeader("X-Content-Length") {
		t.Error("IsFramingHeader(X-Content-Length) = true")
	}
}

func TestCheckQuoted(t *testing.T) {
	runChecks(t, limits.CheckQuoted, []check{
		{"text with spaces", "no-store, max-age=0", true},
		{"every allowed punctuation", "a !*+,-./:;<=>?@^_`|~()& b", true},
		{"the longest text", strings.Repeat("a", limits.MaxHeaderValueLen), true},
		{"one byte too long", strings.Repeat("a", limits.MaxHeaderValueLen+1), false},
		{"empty, which HAProxy reads as no word", "", false},
		{"a leading space", " a", false},
		{"a trailing space", "a ", false},
		{"a double quote", `a"b`, false},
		{"a percent sign", "100%", false},
		{"a dollar", "$HOME", false},
		{"a tab", "a\tb", false},
	})
}

func TestCheckPath(t *testing.T) {
	runChecks(t, limits.CheckPath, []check{
		{"the root", "/", true},
		{"sub-delimiters and a trailing slash", "/a-b_c.d~e/f;g=h&i(j)*k+l,m:n@o!/", true},
		{"the longest path", "/" + strings.Repeat("a", limits.MaxPathLen-1), true},
		{"one byte too long", "/" + strings.Repeat("a", limits.MaxPathLen), false},
		{"relative", "a", false},
		{"empty", "", false},
		{"a double slash", "//a", false},
		{"a dot segment", "/a/./b", false},
		{"a dot-dot segment", "/a/..", false},
		{"percent-encoding", "/a%20b", false},
		{"a query", "/a?b", false},
	})
}

func TestCheckCryptHash(t *testing.T) {
	runChecks(t, limits.CheckCryptHash, []check{
		{"SHA-512 crypt", "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1", true},
		{"with rounds", "$5$rounds=5000$salt$abcdefghijklmnopqrstuvwxyz0123456789ABCDEF.", true},
		{"DES, the shortest", "abcdefghijklm", true},
		{"the longest hash", strings.Repeat("a", limits.MaxCryptHashLen), true},
		{"one byte too long", strings.Repeat("a", limits.MaxCryptHashLen+1), false},
		{"too short", "abcdefghijkl", false},
		{"Apache's MD5", "$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/", false},
		{"a space", "$6$salt$abc defghijklmnop", false},
	})
}

func TestCheckList(t *testing.T) {
	runChecks(t, limits.CheckMethods, []check{
		{"any method", "*", true},
		{"a list", "GET, POST,PUT", true},
		{"the most methods", strings.TrimSuffix(strings.Repeat("GET, ", limits.MaxMethods), ", "), true},
		{"one method too many", strings.TrimSuffix(strings.Repeat("GET, ", limits.MaxMethods+1), ", "), false},
		{"an empty item", "GET,,POST", false},
		{"a space before a comma", "GET ,POST", false},
		{"a leading space", " GET", false},
		{"a star in a list", "*, GET", false},
		{"lower case", "get", false},
	})
	name := func(i int) string { return fmt.Sprintf("%0*d", limits.MaxNameLen, i) }
	var names []string
	for i := range limits.MaxHeaderNames {
		names = append(names, name(i))
	}
	longest := strings.Join(names[:15], ", ") + ", " + strings.Repeat("z", limits.MaxHeaderValueLen-len(strings.Join(names[:15], ", "))-2)
	runChecks(t, limits.CheckHeaderNames, []check{
		{"any header", "*", true},
		{"a list", "Authorization, X-Token", true},
		{"a list of the longest header value", longest, true},
		{"a list one byte longer", longest + "z", false},
		{"the most names, too long for a header", strings.Join(names, ", "), false},
	})
	var origins []string
	for i := range limits.MaxOrigins {
		origins = append(origins, fmt.Sprintf("https://%s.%s.%s.%s:6553%d", strings.Repeat("a", 63), strings.Repeat("b", 63),
			strings.Repeat("c", 63), strings.Repeat("d", 61), i%6))
	}
	runChecks(t, limits.CheckOrigins, []check{
		{"any origin", "*", true},
		{"the most origins of the longest form", strings.Join(origins, ", "), true},
		{"one origin too many", strings.Join(origins, ", ") + ", https://a.example", false},
		{"an origin with a path", "https://a.example/", false},
	})
}

func TestCheckHostPort(t *testing.T) {
	hostPort := func(s string) error { return limits.CheckHostPort(s, true) }
	runChecks(t, hostPort, []check{
		{"an IPv4 address", "10.0.0.5:514", true},
		{"an IPv6 address", "[fd00::5]:1514", true},
		{"an IPv4-mapped IPv6 address", "[::ffff:10.0.0.5]:514", true},
		{"a DNS name", "syslog.logging.svc:514", true},
		{"the longest DNS name", strings.Repeat(strings.Repeat("a", 63)+".", 3) + strings.Repeat("a", 61) + ":65535", true},
		{"a name one byte too long", strings.Repeat(strings.Repeat("a", 63)+".", 3) + strings.Repeat("a", 62) + ":1", false},
		{"a label too long", strings.Repeat("a", 64) + ".example:1", false},
		{"no port", "10.0.0.5", false},
		{"port zero", "10.0.0.5:0", false},
		{"a leading zero", "10.0.0.5:0514", false},
		{"port 65536", "10.0.0.5:65536", false},
		{"an empty port", "10.0.0.5:", false},
		{"an unbracketed IPv6 address", "fd00::5:514", false},
		{"a zone", "[fe80::1%eth0]:514", false},
		{"a malformed IPv4 address", "10.0.5:514", false},
		{"upper case", "Syslog.example:514", false},
		{"an underscore", "a_b.example:514", false},
		{"a numeric last label", "a.123:514", false},
		{"an address family prefix", "ipv4@10.0.0.5:514", false},
	})
	if err := limits.CheckHostPort("example.com", false); err != nil {
		t.Errorf("a host without its optional port refused: %v", err)
	}
}

func TestCheckURLs(t *testing.T) {
	runChecks(t, limits.CheckOrigin, []check{
		{"https", "https://app.example.com", true},
		{"http with a port", "http://localhost:3000", true},
		{"IPv6", "https://[2001:db8::1]:8443", true},
		{"a path", "https://a.example/", false},
		{"another scheme", "ftp://a.example", false},
		{"user info", "https://u@a.example", false},
	})
	runChecks(t, limits.CheckRedirectURL, []check{
		{"an origin", "https://www.example.com", true},
		{"a port and a path", "http://example.com:8080/base", true},
		{"a query", "https://example.com/?a=b", false},
		{"a fragment", "https://example.com/#a", false},
		{"an empty port", "https://example.com:", false},
		{"no scheme", "example.com", false},
		{"a path with a dot-dot segment", "https://example.com/a/..", false},
	})
	host := strings.TrimSuffix(strings.Repeat(strings.Repeat("h", 62)+".", 4), ".")
	url := "https://" + host + ":65535/" + strings.Repeat("p", limits.MaxPathLen-1)
	if err := limits.CheckRedirectURL(url); err != nil {
		t.Errorf("the longest host and path refused: %v", err)
	}
	if err := limits.CheckRedirectURL(url + strings.Repeat("/p", limits.MaxURLLen)); err == nil {
		t.Error("a URL longer than the maximum accepted")
	}
}

func TestCheckCiphers(t *testing.T) {
	runChecks(t, limits.CheckCipherList, []check{
		{"a list", "ECDHE+AESGCM:!aNULL:-RC4", true},
		{"the longest list", strings.Repeat("A", limits.MaxCipherListLen), true},
		{"one byte too long", strings.Repeat("A", limits.MaxCipherListLen+1), false},
		{"a security level", "DEFAULT@SECLEVEL=2", false},
		{"a space", "HIGH MEDIUM", false},
	})
	runChecks(t, limits.CheckCipherSuites, []check{
		{"every suite", strings.Join(limits.TLS13CipherSuites(), ":"), true},
		{"an unknown suite", "TLS_FOO", false},
		{"a TLS 1.2 cipher", "ECDHE-RSA-AES128-GCM-SHA256", false},
		{"empty", "", false},
	})
}

func TestCheckTimer(t *testing.T) {
	tests := []struct {
		name   string
		d      time.Duration
		timer  bool // CheckTimer accepts it
		period bool // CheckDuration accepts it
	}{
		{"zero, which means unset", 0, true, true},
		{"a millisecond", time.Millisecond, true, true},
		{"1500 milliseconds", 1500 * time.Millisecond, true, true},
		{"HAProxy's longest timer", limits.MaxTimer, true, true},
		{"a millisecond more", limits.MaxTimer + time.Millisecond, false, true},
		{"two years, a max-age", 730 * 24 * time.Hour, false, true},
		{"1500 microseconds", 1500 * time.Microsecond, false, false},
		{"a nanosecond", time.Nanosecond, false, false},
		{"negative", -time.Second, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := limits.CheckTimer(tt.d); (err == nil) != tt.timer {
				t.Errorf("CheckTimer(%s) = %v", tt.d, err)
			}
			if err := limits.CheckDuration(tt.d); (err == nil) != tt.period {
				t.Errorf("CheckDuration(%s) = %v", tt.d, err)
			}
		})
	}
}

func TestStatuses(t *testing.T) {
	for _, c := range limits.RedirectStatuses() {
		if !limits.IsRedirectStatus(c) {
			t.Errorf("IsRedirectStatus(%d) = false", c)
		}
	}
	for _, c := range []int{200, 300, 304, 400} {
		if limits.IsRedirectStatus(c) {
			t.Errorf("IsRedirectStatus(%d) = true", c)
		}
	}
	for c, want := range map[int]bool{403: true, 429: true, 503: true, 200: false, 418: false} {
		if got := limits.IsErrorPageStatus(c); got != want {
			t.Errorf("IsErrorPageStatus(%d) = %v", c, got)
		}
	}
}

// TestStandardLibraryOnly keeps the package a leaf that every other package may import.
func TestStandardLibraryOnly(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			path := strings.Trim(imp.Path.Value, `"`)
			if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
				t.Errorf("%s imports %s, which is not in the standard library", f, path)
			}
		}
	}
}

func TestCheckRegex(t *testing.T) {
	runChecks(t, limits.CheckRegex, []check{
		{"a path pattern", "/re/[a-z]+(/.*)?", true},
		{"anchors and escapes", `^\d{2,3}$`, true},
		{"the longest", strings.Repeat("a", limits.MaxRegexLen), true},
		{"one byte too long", strings.Repeat("a", limits.MaxRegexLen+1), false},
		{"empty", "", false},
		{"a space", "a b", false},
		{"a quote", `a"b`, false},
		{"a comment", "a#b", false},
		{"a control byte", "a\tb", false},
		{"non-ASCII", "é", false},
		{"a brace word", "{", false},
		{"a negation", "!a", false},
		{"invalid RE2", "(a", false},
		{"a backreference (PCRE, not RE2)", `(a)\1`, false},
	})
}
