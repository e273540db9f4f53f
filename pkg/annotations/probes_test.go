package annotations

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// probeCatalogue is the bad-input catalogue of ../shared/notes/security-probes.md, section 4, as
// values: line breaks, argument splitting, comments, quote breakout, environment expansion,
// log-format sample fetches, braces, file names, code-loading keywords, traversal, unanchored
// regular-expression bait, backtracking, and sheer size.
func probeCatalogue() []string {
	return []string{
		"\n", "\r", "\r\n", "\x00", "\x0b", "\x0c", "\u0085", "\u2028", "\u2029",
		" ", "\t", "a b", "a\tb",
		"#", "# comment", "a#b",
		`"`, `'`, `\`, `\"`, `"quoted"`, `'single'`, `a\nb`,
		"$HOME", "${KUBERNETES_SERVICE_HOST}", `"$SECRET"`, "\\$HOME",
		"%[env(SECRET)]", "%[req.hdr(cookie)]", "%[ssl_c_der]", "%%", "%{+Q}", "%ci",
		"{", "}", ";", "{ }", "}\nlua-load /tmp/x.lua",
		"/var/run/secrets/kubernetes.io/serviceaccount/token", "/proc/self/environ", "/etc/haproxy/haproxy.cfg",
		"lua-load /tmp/x.lua", "lua-prepend-path /tmp/?.lua", "ssl-engine rdrand", "ssl-provider legacy",
		"external-check command /bin/sh", "program x", "setenv X y", "insecure-fork-wanted",
		"stats socket /tmp/s level admin", "expose-fd listeners",
		"../", "../../etc/passwd", "..", "/..", "a/../b", "\x00/etc/passwd",
		"GET\nX-Injected: 1", "on;x", "valid-value<junk>", "true\nhttp-request deny", "1s # trailing",
		"(a+)+$", "^(a|aa)+$",
		"http-request set-header X %[env(HOME)]", "if TRUE", " if !{ src 10.0.0.0/8 }",
		"\u00e9", "caf\u00e9", "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45", "\u202egnp.exe", "\xff\xfe", "\u0661",
		strings.Repeat("a", 253), strings.Repeat("a", 254), strings.Repeat("a.", 200),
		strings.Repeat("a", 64<<10), strings.Repeat("a", 1<<20), strings.Repeat("\n", 1000),
		strings.Repeat("10.0.0.1,", 2000), strings.Repeat("X-A 1\n", 100),
	}
}

// junk is appended to and prepended to valid values ("valid + junk"), to catch validators
// that check only a prefix or only that a good value is contained.
var junk = []string{
	"\n", "\r", "\r\nX-Injected: 1", "\x00", " ", "\t", " #", "#x", `"`, "'", `\`, "$HOME", "${VAR}",
	"%[env(HOME)]", "%%", "{", "}", ";", " if TRUE", "\nlua-load /tmp/x.lua", "\u2028", "\u0085",
	"\u00e9", "\xff",
}

// part is one piece of a value as a renderer would emit it: an unquoted configuration word, or
// text that goes inside double quotes.
type part struct {
	s      string
	quoted bool
}

// renderParts is how the renderer may emit each parsed value type. A new value type must be
// added here, or the probe and fuzz tests fail.
func renderParts(t *testing.T, v any) []part {
	t.Helper()
	word := func(s ...string) []part {
		out := make([]part, len(s))
		for i := range s {
			out[i] = part{s: s[i]}
		}
		return out
	}
	switch v := v.(type) {
	case time.Duration:
		return word(FormatDuration(v), strconv.FormatInt(v.Milliseconds(), 10))
	case int:
		return word(strconv.Itoa(v))
	case bool:
		return word(strconv.FormatBool(v))
	case string: // secret names, cookie names, auth type
		return word(v)
	case Balance:
		return word(strings.Fields(v.String())...)
	case ProxyProtocol:
		return word(string(v), v.ServerKeyword())
	case LogFormat:
		return word(string(v))
	case TLSVersion:
		return word(string(v))
	case Ciphers:
		return word(string(v))
	case Path:
		return word(string(v))
	case PathRewrite:
		return word(string(v.From), string(v.To))
	case RewriteTarget:
		// The group references \1 to \9 are the renderer's own syntax; the rest is the value.
		return word(regexp.MustCompile(`\$[1-9]`).ReplaceAllString(string(v), ""))
	case Regex:
		// Written as one unquoted word, where neither a backslash (doubled by the renderer, a
		// regular-expression escape) nor a dollar (an anchor; environment variables are expanded
		// in double quotes only) is special to the configuration parser.
		return word(strings.NewReplacer(`\`, "", "$", "").Replace(string(v)))
	case HeaderName:
		return word(string(v))
	case RedirectURL:
		return word(string(v))
	case CookiePath:
		return word(string(v))
	case []int:
		var out []part
		for _, n := range v {
			out = append(out, part{s: strconv.Itoa(n)})
		}
		return out
	case ByteSize:
		return word(strconv.FormatInt(int64(v), 10))
	case RedirectTarget:
		return word(v.String())
	case ServiceRef:
		return word(v.String())
	case LogTarget:
		return word(v.String())
	case []netip.Prefix:
		var out []part
		for _, p := range v {
			out = append(out, part{s: p.String()})
		}
		return out
	case HeaderValue:
		return []part{{s: string(v), quoted: true}}
	case []Header:
		var out []part
		for _, h := range v {
			out = append(out, part{s: string(h.Name)}, part{s: string(h.Value), quoted: true})
		}
		return out
	case Wildcard[Origin]:
		return []part{{s: v.String(), quoted: true}}
	case Wildcard[Method]:
		return []part{{s: v.String(), quoted: true}}
	case Wildcard[HeaderName]:
		return []part{{s: v.String(), quoted: true}}
	}
	t.Fatalf("renderParts: no rendering for %T", v)
	return nil
}

// checkSafe asserts the render-safety property: no part can add a line, a comment, a quote
// breakout, an environment expansion or a sample fetch, and unquoted parts are single words.
func checkSafe(t *testing.T, input string, parts []part) {
	t.Helper()
	for _, p := range parts {
		bad := ""
		switch {
		case p.s == "" && !p.quoted:
			// An empty word adds nothing; ServerKeyword of ProxyNone is empty.
		case strings.ContainsFunc(p.s, func(r rune) bool { return r < 0x20 || r >= 0x7f }):
			bad = "a control or non-ASCII character"
		case strings.ContainsAny(p.s, "#%$\"'\\"):
			bad = "one of # % $ \" ' \\"
		case !p.quoted && strings.Contains(p.s, " "):
			bad = "a space in an unquoted word"
		case p.quoted && (p.s == "" || p.s[0] == ' ' || p.s[len(p.s)-1] == ' '):
			bad = "an empty or space-padded quoted text"
		}
		if bad != "" {
			t.Fatalf("input %s parsed to a value rendering as %q, which contains %s", Clip(input), p.s, bad)
		}
	}
}

// keyForms are the keys under which d can be written in src.
func keyForms(d Definition, src Source) []string {
	if src == SourceConfigMap {
		return append([]string{d.Name}, d.Aliases...)
	}
	keys := []string{d.Key()}
	for _, a := range d.Aliases {
		keys = append(keys, PeerPrefix+a)
	}
	return keys
}

// TestProbeCatalogue runs every probe, and every valid example with junk around it, against
// every key in every scope. Each must be rejected with a Problem naming the key, or parse to a
// value that renders safely.
func TestProbeCatalogue(t *testing.T) {
	probes := probeCatalogue()
	for _, d := range Definitions() {
		values := append([]string(nil), probes...)
		for _, j := range junk {
			values = append(values, d.Example+j, j+d.Example, d.Example[:len(d.Example)/2]+j+d.Example[len(d.Example)/2:])
		}
		for _, src := range []Source{SourceConfigMap, SourceIngress, SourceService} {
			for _, key := range keyForms(d, src) {
				t.Run(fmt.Sprintf("%s %s", src, key), func(t *testing.T) {
					for _, v := range values {
						l, probs := Parse(src, map[string]string{key: v})
						f, ok := l.values[d.Name]
						if d.Scopes&src.scope() == 0 && ok {
							t.Fatalf("value %s accepted in a scope the key does not allow", Clip(v))
						}
						if !ok {
							if len(probs) != 1 || probs[0].Key != key {
								t.Fatalf("value %s rejected without a problem naming the key: %v", Clip(v), probs)
							}
							continue
						}
						if len(probs) != 0 {
							t.Fatalf("value %s accepted with problems %v", Clip(v), probs)
						}
						checkSafe(t, v, renderParts(t, f.value))
					}
				})
			}
		}
	}
}

// TestProblemsAreSafeToLog checks that no Problem carries a raw control character, whatever the
// input: problems become log lines and Kubernetes Events.
func TestProblemsAreSafeToLog(t *testing.T) {
	kv := map[string]string{}
	for i, p := range probeCatalogue() {
		kv[Prefix+"auth-realm"+strconv.Itoa(i)] = p // unknown keys
		kv["haproxy.org/"+p] = p
		kv[Prefix+p] = p
	}
	for _, d := range Definitions() {
		kv[d.Key()] = "\n\r\u2028%[env(HOME)]"
	}
	for _, src := range []Source{SourceConfigMap, SourceIngress, SourceService} {
		_, probs := Parse(src, kv)
		for _, p := range probs {
			assertPrintable(t, p.String())
		}
	}
}

func assertPrintable(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 }) {
		t.Fatalf("problem %q contains a control character or invalid UTF-8", s)
	}
}

// readSources returns the package's non-test Go code, without comment lines.
func readSources(t *testing.T, skip ...string) string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || slices.Contains(skip, f) {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "//") {
				b.WriteString(line + "\n")
			}
		}
	}
	return b.String()
}
