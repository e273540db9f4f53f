package annotations

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// Samples and Edges serve the property tests of renders_test.go, which prove that every value
// Parse accepts renders. Those tests translate and render, and the packages that do so import
// this one: they live in the external test package, and reach each setting's grammar through
// these two functions.

// Samples returns values to try for the setting called name: its example and default with junk
// around them, the probe catalogue, the seeds of the fuzz target of its parser, the seeds of the
// renderer's fuzz target that fall to it, its Edges, and n values drawn with r from its grammar.
// Many are refused by Parse; the tests keep those it accepts.
func Samples(name string, r *rand.Rand, n int) []string {
	s, ok := byName[name]
	if !ok {
		panic("Samples: no setting " + name)
	}
	d := s.definition()
	g := grammarOf(s)
	out := append([]string{d.Example, d.Default}, probeCatalogue()...)
	for _, base := range []string{d.Example, d.Default} {
		for _, j := range junk {
			out = append(out, base+j, j+base)
		}
	}
	out = append(out, g.seeds...)
	for _, v := range renderSeeds[name] {
		out = append(out, v)
		for _, j := range junk {
			out = append(out, v+j)
		}
	}
	out = append(out, g.edges()...)
	for range n {
		out = append(out, g.gen(r))
	}
	return out
}

// Edges returns values at the limits of the grammar of the setting called name: the smallest
// and the largest value it accepts, the longest text, the longest list of the longest items, and
// values just beyond each.
func Edges(name string) []string {
	s, ok := byName[name]
	if !ok {
		panic("Edges: no setting " + name)
	}
	return grammarOf(s).edges()
}

// renderSeeds are the valid values of the seed corpus of FuzzRenderPolicyNoInjection
// (pkg/haproxy/policy_render_test.go), written as the settings that produce them.
var renderSeeds = map[string][]string{
	"request-set-header":  {"X-Env prod (eu)", "X-A a", `X-A "a"`},
	"response-set-header": {"X-Env prod (eu)", "X-A a"},
	"cookie-persistence":  {"SRV", "C", "SRV insert"},
	"check-http":          {"/healthz", "/", "/h HTTP/1.1"},
	"auth-realm":          {"Protected Content", "R", `R" unless TRUE`},
	"cors-allow-origin":   {"https://a.example.com, http://b.example.com:8080", "*", "http://[fd00::1]:8080", "https://a.com if TRUE"},
	"syslog-server":       {"stdout", "[fd00::5]:514", "stdout format raw", "1.2.3.4:514 local7"},
}

// grammar is how to draw values of one setting.
type grammar struct {
	// seeds are the seeds of the fuzz target of the setting's parser.
	seeds []string
	// edges lists values at the limits of the grammar.
	edges func() []string
	// gen draws a value, mostly from what the parser accepts.
	gen func(r *rand.Rand) string
}

// grammarOf returns the grammar of a setting, from the type of its values and, where several
// settings share a type, from the setting itself.
func grammarOf(e entry) grammar {
	switch s := e.(type) {
	case *setting[time.Duration]:
		return grammar{durationSeeds, func() []string { return durationEdges(s.parser.parse) }, genDuration}
	case *setting[int]:
		return grammar{slices.Concat(intSeeds, statusSeeds), func() []string { return intEdges(s.parser.parse) }, genInt}
	case *setting[bool]:
		return grammar{booleanSeeds, words("true", "false", "enabled", "disabled"), genWord}
	case *setting[LogFormat]:
		return grammar{logFormatSeeds, words(string(LogFormatDefault), string(LogFormatJSON), string(LogFormatCLF)), genWord}
	case *setting[TLSVersion]:
		return grammar{tlsVersionSeeds, words(string(TLSv12), string(TLSv13)), genWord}
	case *setting[ProxyProtocol]:
		return grammar{proxyProtocolSeeds, words("none", "proxy", "proxy-v1", "proxy-v2", "proxy-v2-ssl", "proxy-v2-ssl-cn"), genWord}
	case *setting[Balance]:
		return grammar{balanceSeeds, balanceEdges, genBalance}
	case *setting[[]netip.Prefix]:
		return grammar{cidrSeeds, cidrEdges, genCIDRs}
	case *setting[Path]:
		return grammar{pathSeeds, pathEdges, genPath}
	case *setting[PathRewrite]:
		return grammar{rewriteSeeds, rewriteEdges, func(r *rand.Rand) string { return genPath(r) + " " + genPath(r) }}
	case *setting[RedirectTarget]:
		return grammar{redirectSeeds, redirectEdges, genRedirect}
	case *setting[Wildcard[Origin]]:
		return grammar{originSeeds, originEdges, func(r *rand.Rand) string { return genList(r, limits.MaxOrigins, genOrigin) }}
	case *setting[Wildcard[Method]]:
		return grammar{methodSeeds, methodEdges, func(r *rand.Rand) string { return genList(r, limits.MaxMethods, genMethod) }}
	case *setting[Wildcard[HeaderName]]:
		return grammar{headerNameSeeds, headerNameEdges, func(r *rand.Rand) string { return genList(r, limits.MaxHeaderNames, genHeaderName) }}
	case *setting[HeaderName]:
		return grammar{cookieNameSeeds, tokenEdges, genHeaderName}
	case *setting[[]int]:
		return grammar{[]string{"404, 503", "503,503", "415", "404,", " 404 "}, words("400, 403, 404, 408, 500, 502, 503, 504", "400", "401", "504"),
			func(r *rand.Rand) string {
				return genList(r, 8, func(r *rand.Rand) string { return strconv.Itoa(400 + r.IntN(105)) })
			}}
	case *setting[CookiePath]:
		return grammar{pathSeeds, pathEdges, genPath}
	case *setting[RedirectURL]:
		return grammar{redirectSeeds, redirectEdges, genRedirect}
	case *setting[Regex]:
		return grammar{regexSeeds, regexEdges, genRegex}
	case *setting[HeaderValue]:
		return grammar{headerValueSeeds, headerValueEdges, genHeaderValue}
	case *setting[[]Header]:
		return grammar{headersSeeds, headersEdges, genHeaders}
	case *setting[ServiceRef]:
		return grammar{serviceRefSeeds, serviceRefEdges, genServiceRef}
	case *setting[RewriteTarget]:
		return grammar{rewriteTargetSeeds, rewriteTargetEdges, genRewriteTarget}
	case *setting[ByteSize]:
		return grammar{byteSizeSeeds, byteSizeEdges, genByteSize}
	case *setting[LogTarget]:
		return grammar{logTargetSeeds, logTargetEdges, genLogTarget}
	case *setting[Ciphers]:
		if s == sslCipherSuites {
			return grammar{cipherSuiteSeeds, cipherSuiteEdges, genCipherSuites}
		}
		return grammar{cipherSeeds, cipherEdges, genCiphers}
	case *setting[string]:
		switch s {
		case cookiePersistence, canaryByCookie:
			return grammar{cookieNameSeeds, tokenEdges, func(r *rand.Rand) string { return genFrom(r, tokenChars, limits.MaxNameLen) }}
		case authType, serverProto, defaultsProfile, cookieSameSite, errorPagesSetting:
			return grammar{nil, words("basic-auth", "h1", "h2", "none", ProfileIngressNginx, "None", "Lax", "Strict", ErrorPagesHAProxy, ErrorPagesPortcullis), genWord}
		}
		return grammar{secretNameSeeds, secretNameEdges, genSecretName}
	}
	panic(fmt.Sprintf("grammarOf: no grammar for %s (%T): add one", e.definition().Name, e))
}

// Character sets of the grammars, from package limits.
var (
	tokenChars      = charsOf(limits.IsTokenChar)
	headerNameChars = charsOf(limits.IsHeaderNameChar)
	pathChars       = charsOf(func(c byte) bool { return limits.IsPathChar(c) && c != '/' })
	quotedChars     = charsOf(limits.IsQuotedChar)
	labelChars      = "abcdefghijklmnopqrstuvwxyz0123456789-"
)

func charsOf(in func(byte) bool) string {
	var b strings.Builder
	for c := range 128 {
		if in(byte(c)) {
			b.WriteByte(byte(c))
		}
	}
	return b.String()
}

// size draws a length of at least 1: mostly short, sometimes around max, just beyond it.
func size(r *rand.Rand, most int) int {
	switch r.IntN(10) {
	case 0:
		return max(1, most-2+r.IntN(4))
	case 1, 2:
		return 1 + r.IntN(most)
	}
	return 1 + r.IntN(min(most, 12))
}

// genFrom draws a string of size(most) bytes of chars.
func genFrom(r *rand.Rand, chars string, most int) string {
	b := make([]byte, size(r, most))
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return string(b)
}

// vocabulary holds the words of every closed vocabulary of the registry, and near misses.
var vocabulary = []string{"true", "false", "TRUE", "False", "enabled", "disabled", "yes", "1", "basic-auth", "h1", "h2", "h3",
	"default", "json", "clf", "JSON", "TLSv1.2", "TLSv1.3", "TLSv1.1", "none", "proxy", "proxy-v1", "proxy-v2",
	"proxy-v2-ssl", "proxy-v2-ssl-cn", "send-proxy"}

func genWord(r *rand.Rand) string { return vocabulary[r.IntN(len(vocabulary))] }

func words(ws ...string) func() []string { return func() []string { return ws } }

var durationUnitNames = []string{"us", "ms", "s", "m", "h", "d"}

func genDuration(r *rand.Rand) string {
	digits := 1 + r.IntN(12)
	return strconv.FormatInt(r.Int64N(pow10(digits)), 10) + durationUnitNames[r.IntN(len(durationUnitNames))]
}

func genInt(r *rand.Rand) string { return strconv.FormatInt(r.Int64N(pow10(1+r.IntN(9))), 10) }

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

// accepted reports whether parse accepts s.
func accepted[T any](parse func(string) (T, error), s string) bool {
	_, err := parse(s)
	return err == nil
}

// rangeEdges finds the range of n that parse accepts as format(n), around a value it accepts
// (the ranges of the registry have no holes), by bisection in [0, top].
func rangeEdges[T any](parse func(string) (T, error), format func(int64) string, top int64) (lo, hi int64, ok bool) {
	inside := int64(-1)
	for _, n := range []int64{1, 0, 100, 1000, 60000, 86400000, 100000000} {
		if n <= top && accepted(parse, format(n)) {
			inside = n
			break
		}
	}
	if inside < 0 {
		return 0, 0, false
	}
	lo, hi = inside, inside
	for a, b := int64(0), inside; a < b; { // smallest accepted in [a, b]
		m := a + (b-a)/2
		if accepted(parse, format(m)) {
			b = m
		} else {
			a = m + 1
		}
		lo = b
	}
	for a, b := inside, top; a < b; { // largest accepted in [a, b]
		m := a + (b-a+1)/2
		if accepted(parse, format(m)) {
			a = m
		} else {
			b = m - 1
		}
		hi = a
	}
	return lo, hi, true
}

func durationEdges(parse func(string) (time.Duration, error)) []string {
	ms := func(n int64) string { return strconv.FormatInt(n, 10) + "ms" }
	lo, hi, ok := rangeEdges(parse, ms, 999999999999)
	if !ok {
		return nil
	}
	var out []string
	for _, n := range []int64{lo, hi} {
		d := time.Duration(n) * time.Millisecond
		out = append(out, FormatDuration(d), ms(n), strconv.FormatInt(n*1000, 10)+"us",
			strconv.FormatInt(n*1000+500, 10)+"us", ms(n+1))
		if n > 0 {
			out = append(out, ms(n-1), strconv.FormatInt(n*1000-1, 10)+"us")
		}
	}
	return out
}

func intEdges(parse func(string) (int, error)) []string {
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	lo, hi, ok := rangeEdges(parse, itoa, 999999999)
	if !ok {
		// A set of statuses: its members are within 100 to 599.
		var out []string
		for n := int64(100); n < 600; n++ {
			if accepted(parse, itoa(n)) {
				out = append(out, itoa(n), "0"+itoa(n))
			}
		}
		return out
	}
	out := []string{itoa(lo), itoa(hi), itoa(hi + 1), fmt.Sprintf("%09d", hi)}
	if lo > 0 {
		out = append(out, itoa(lo-1))
	}
	return out
}

// repeatTo repeats pattern and cuts it at n bytes.
func repeatTo(pattern string, n int) string {
	return strings.Repeat(pattern, n/len(pattern)+1)[:n]
}

// longHost is a lower-case DNS name of exactly limits.MaxHostLen bytes whose last label starts
// with tag, so that hosts of different tags differ.
func longHost(tag string) string {
	label := func(c string) string { return strings.Repeat(c, limits.MaxLabelLen) }
	last := tag + strings.Repeat("d", limits.MaxHostLen-3*(limits.MaxLabelLen+1)-len(tag))
	return label("a") + "." + label("b") + "." + label("c") + "." + last
}

const longIPv6 = "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]"

// longPath is an absolute path of n bytes holding every path character, without an empty, "."
// or ".." segment.
func longPath(n int) string {
	p := "/" + repeatTo("a-b._~c!&(d)*+e,;f=:@g/", n-1)
	if p[len(p)-1] == '/' || p[len(p)-1] == '.' {
		p = p[:len(p)-1] + "h"
	}
	return p
}

func balanceEdges() []string {
	token := strings.Repeat("p", limits.MaxNameLen)
	return []string{
		"random(1)", fmt.Sprintf("random(%d)", limits.MaxRandomDraws), fmt.Sprintf("random(%d)", limits.MaxRandomDraws+1),
		fmt.Sprintf("uri whole path-only len %d depth %d", limits.MaxURIHashLen, limits.MaxURIHashLen),
		fmt.Sprintf("uri len %d", limits.MaxURIHashLen+1), "uri len 1 depth 1",
		"url_param " + token, "url_param " + token + "p", "url_param a.b-c_d",
		"hdr(" + strings.Repeat("H", limits.MaxNameLen) + ") use_domain_only", "hdr(" + strings.Repeat("H", limits.MaxNameLen+1) + ")",
		"roundrobin", "static-rr", "leastconn", "first", "source", "random",
	}
}

func genBalance(r *rand.Rand) string {
	num := func() string { return strconv.Itoa(r.IntN(limits.MaxURIHashLen + 2)) }
	switch r.IntN(6) {
	case 0:
		return []string{"roundrobin", "static-rr", "leastconn", "first", "source", "random"}[r.IntN(6)]
	case 1:
		return "random(" + strconv.Itoa(r.IntN(limits.MaxRandomDraws+2)) + ")"
	case 2:
		s := "uri"
		for range r.IntN(5) {
			s += " " + []string{"whole", "path-only", "len " + num(), "depth " + num()}[r.IntN(4)]
		}
		return s
	case 3:
		return "url_param " + genFrom(r, tokenChars, limits.MaxNameLen)
	case 4:
		s := "hdr(" + genHeaderName(r) + ")"
		if r.IntN(2) == 0 {
			s += " use_domain_only"
		}
		return s
	}
	return "uri  whole   len " + num()
}

func cidrEdges() []string {
	var most []string
	for i := range limits.MaxNetworks {
		most = append(most, fmt.Sprintf("ffff:ffff:ffff:ffff:ffff:ffff:ffff:%x/128", i))
	}
	return []string{
		strings.Join(most, ", "), strings.Join(most, ",") + ", ::1", strings.Join(most[:100], " "),
		"0.0.0.0/0", "::/0", "255.255.255.255/32", "::ffff:10.0.0.1/128",
	}
}

func genCIDRs(r *rand.Rand) string {
	items := make([]string, 1+r.IntN(20))
	for i := range items {
		var a netip.Addr
		if r.IntN(2) == 0 {
			a = netip.AddrFrom4([4]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
		} else {
			var b [16]byte
			for j := range b {
				b[j] = byte(r.IntN(256))
			}
			a = netip.AddrFrom16(b)
		}
		items[i] = a.String()
		if r.IntN(2) == 0 {
			items[i] += "/" + strconv.Itoa(r.IntN(a.BitLen()+2))
		}
	}
	return strings.Join(items, []string{", ", ",", " "}[r.IntN(3)])
}

func pathEdges() []string {
	return []string{longPath(limits.MaxPathLen), longPath(limits.MaxPathLen + 1), "/", "/" + repeatTo("(.)*+", limits.MaxPathLen-1)}
}

func genPath(r *rand.Rand) string {
	segs := make([]string, 1+r.IntN(4))
	for i := range segs {
		segs[i] = genFrom(r, pathChars, limits.MaxPathLen/len(segs))
	}
	p := "/" + strings.Join(segs, "/")
	if r.IntN(4) == 0 {
		p += "/"
	}
	return p
}

func rewriteEdges() []string {
	regexpBait := "/" + repeatTo("(.)*+", limits.MaxPathLen-1)
	return []string{
		regexpBait + " " + longPath(limits.MaxPathLen), longPath(limits.MaxPathLen) + " /", "/ " + regexpBait,
		longPath(limits.MaxPathLen+1) + " /",
	}
}

func genHost(r *rand.Rand) string {
	switch r.IntN(5) {
	case 0:
		return fmt.Sprintf("%d.%d.%d.%d", r.IntN(260), r.IntN(256), r.IntN(256), r.IntN(256))
	case 1:
		var b [16]byte
		for j := range b {
			b[j] = byte(r.IntN(256))
		}
		return "[" + netip.AddrFrom16(b).String() + "]"
	case 2:
		return longHost(genFrom(r, "abc", 3))
	}
	labels := make([]string, 1+r.IntN(4))
	for i := range labels {
		labels[i] = genFrom(r, labelChars+"ABC", limits.MaxLabelLen)
	}
	return strings.Join(labels, ".")
}

func genPort(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return ""
	}
	return ":" + strconv.Itoa(r.IntN(65540))
}

func genOrigin(r *rand.Rand) string {
	return []string{"http", "https", "HTTPS"}[r.IntN(3)] + "://" + genHost(r) + genPort(r)
}

func genRedirect(r *rand.Rand) string {
	u := genOrigin(r)
	if r.IntN(2) == 0 {
		u += genPath(r)
	}
	return u
}

func redirectEdges() []string {
	longest := "https://" + longHost("r") + ":65535" + longPath(limits.MaxPathLen)
	return []string{
		longest, "http://" + longIPv6 + ":65535" + longPath(limits.MaxPathLen), "https://" + longHost("r") + ":443/",
		longest + strings.Repeat("/a", (limits.MaxURLLen-len(longest))/2+1),
	}
}

// genList draws "*" or a list of at most max+1 items separated by commas and spaces.
func genList(r *rand.Rand, most int, item func(*rand.Rand) string) string {
	if r.IntN(8) == 0 {
		return "*"
	}
	items := make([]string, size(r, most))
	for i := range items {
		items[i] = item(r)
	}
	return strings.Join(items, []string{", ", ",", " "}[r.IntN(3)])
}

func originEdges() []string {
	var most []string
	for i := range limits.MaxOrigins {
		most = append(most, "https://"+longHost(strconv.Itoa(i))+":6553"+strconv.Itoa(i%6))
	}
	return []string{strings.Join(most, ", "), strings.Join(most, ", ") + ", https://one.more", "*", "http://" + longIPv6 + ":65535"}
}

func genMethod(r *rand.Rand) string {
	return genFrom(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 1) + genFrom(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ-", limits.MaxMethodLen)
}

func methodEdges() []string {
	var most []string
	for i := range limits.MaxMethods {
		most = append(most, strings.Repeat("M", limits.MaxMethodLen-1)+string(rune('A'+i)))
	}
	return []string{strings.Join(most, ", "), strings.Join(most, ", ") + ", GET", strings.Repeat("M", limits.MaxMethodLen+1)}
}

func genHeaderName(r *rand.Rand) string {
	return genFrom(r, "abcXYZ019", 1) + genFrom(r, headerNameChars, limits.MaxNameLen-1)
}

func headerNameEdges() []string {
	fifteen := headerList(15, limits.MaxNameLen)
	longest := fifteen + ", " + strings.Repeat("z", limits.MaxHeaderValueLen-len(fifteen)-2)
	return []string{
		longest, longest + "z", headerList(limits.MaxHeaderNames, 2), headerList(limits.MaxHeaderNames+1, 2),
		headerList(limits.MaxHeaderNames, limits.MaxNameLen),
	}
}

func headerValueEdges() []string {
	return []string{repeatTo("a !*+,-./:;<=>?@^_`|~()&", limits.MaxHeaderValueLen-1) + "z", strings.Repeat("v", limits.MaxHeaderValueLen+1), "v"}
}

func genHeaderValue(r *rand.Rand) string {
	return strings.Trim(genFrom(r, quotedChars, limits.MaxHeaderValueLen), " ") + "v"
}

func headersEdges() []string {
	var most, quoted []string
	for i, name := range strings.Split(headerList(limits.MaxHeaders, limits.MaxNameLen), ", ") {
		value := headerValueEdges()[0]
		most = append(most, "X"+name[1:]+" "+value)
		quoted = append(quoted, fmt.Sprintf("X-%d %s", i, `"`+value+`"`))
	}
	return []string{
		strings.Join(most, "\n"), strings.Join(quoted, "\n") + "\n", strings.Join(most, "\n") + "\nX-One-More 1",
		"Strict-Transport-Security max-age=1", "Server portcullis",
	}
}

func genHeaders(r *rand.Rand) string {
	lines := make([]string, 1+r.IntN(5))
	for i := range lines {
		v := genHeaderValue(r)
		if r.IntN(4) == 0 {
			v = `"` + v + `"`
		}
		lines[i] = genHeaderName(r) + " " + v
	}
	return strings.Join(lines, "\n")
}

func serviceRefEdges() []string {
	name := "s" + strings.Repeat("v", 62)
	return []string{name, name + ":" + "p" + strings.Repeat("-p", 7), name + ":65535", name + ":1", name + "v", name + ":65536"}
}

func genServiceRef(r *rand.Rand) string {
	s := genFrom(r, "abc", 1) + genFrom(r, labelChars, 62)
	switch r.IntN(3) {
	case 0:
		s += ":" + strconv.Itoa(r.IntN(65540))
	case 1:
		s += ":" + genFrom(r, "abc", 1) + genFrom(r, labelChars, 15)
	}
	return s
}

func logTargetEdges() []string {
	return []string{longHost("l") + ":65535", longIPv6 + ":65535", "255.255.255.255:65535", "localhost:1", "localhost", "stdout"}
}

func genLogTarget(r *rand.Rand) string {
	if r.IntN(4) == 0 {
		return "stdout"
	}
	return genHost(r) + genPort(r)
}

// tls12Ciphers are cipher names that OpenSSL knows.
var tls12Ciphers = []string{"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
	"ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305", "HIGH", "!aNULL", "!MD5", "+AESGCM", "-RC4"}

func cipherEdges() []string {
	// The longest list: known names, then an unknown one (OpenSSL skips it) up to the limit.
	known := strings.Join(tls12Ciphers[:6], ":")
	list := strings.Repeat(known+":", (limits.MaxCipherListLen-100)/(len(known)+1))
	list += strings.Repeat("Z", limits.MaxCipherListLen-len(list))
	return []string{list, list + "Z", tls12Ciphers[0]}
}

func genCiphers(r *rand.Rand) string {
	items := make([]string, 1+r.IntN(8))
	for i := range items {
		items[i] = tls12Ciphers[r.IntN(len(tls12Ciphers))]
	}
	return strings.Join(items, ":")
}

func cipherSuiteEdges() []string {
	all := limits.TLS13CipherSuites()
	return append([]string{strings.Join(all, ":"), strings.Join(all, ":") + ":TLS_AES_256_GCM_SHA512"}, all...)
}

func genCipherSuites(r *rand.Rand) string {
	all := append(limits.TLS13CipherSuites(), "TLS_FOO", "ECDHE-RSA-AES128-GCM-SHA256")
	items := make([]string, 1+r.IntN(5))
	for i := range items {
		items[i] = all[r.IntN(len(all))]
	}
	return strings.Join(items, ":")
}

func tokenEdges() []string {
	return []string{strings.Repeat("c", limits.MaxNameLen), strings.Repeat("c", limits.MaxNameLen+1), "a.b-c_d"}
}

func secretNameEdges() []string {
	label := strings.Repeat("s", limits.MaxLabelLen)
	name := label + "." + label + "." + label + "." + strings.Repeat("s", 61)
	return []string{name, name + "s", "a"}
}

func genSecretName(r *rand.Rand) string {
	labels := make([]string, 1+r.IntN(3))
	for i := range labels {
		labels[i] = genFrom(r, "abc", 1) + genFrom(r, labelChars, limits.MaxLabelLen)
	}
	return strings.Join(labels, ".")
}

var rewriteTargetSeeds = []string{"/$2", "/", "$1", "/a/$1/b$2", `/\\1`, "/$0", "/$", "/%[src]", "/a b"}

func rewriteTargetEdges() []string {
	long := "/" + repeatTo("a-b._~c!&(d)*+e,;f=:@g/$1", limits.MaxPathLen-1)
	for len(long) > 0 && long[len(long)-1] == '$' {
		long = long[:len(long)-1]
	}
	return []string{long, long + "a", "$9", "/$9$1"}
}

func genRewriteTarget(r *rand.Rand) string {
	s := genPath(r)
	for range r.IntN(3) {
		s += "$" + strconv.Itoa(r.IntN(11))
	}
	return s
}

var byteSizeSeeds = []string{"0", "1", "8m", "8M", "1g", "1024k", "1t", "-1", "1.5m", "m", "1024g", "1025g"}

func byteSizeEdges() []string {
	return []string{"0", "1024g", "1025g", strconv.FormatInt(limits.MaxBodySize, 10), strconv.FormatInt(limits.MaxBodySize+1, 10), "1099511627776k"}
}

func genByteSize(r *rand.Rand) string {
	return genInt(r) + []string{"", "k", "m", "g", "K", "M", "G", "b"}[r.IntN(8)]
}

var regexSeeds = []string{"^(beta|alpha)$", `^v\d+$`, "a b", "!a", "(", "#", "{", "||"}

func regexEdges() []string {
	return []string{repeatTo(`(a|\d)+`, limits.MaxRegexLen), repeatTo("a", limits.MaxRegexLen+1), "a", `\`}
}

func genRegex(r *rand.Rand) string {
	return genFrom(r, "abc^$()|[]*+?.019\\", 64) + "z"
}
