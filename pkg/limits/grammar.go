package limits

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Character classes. Each reports whether one byte may appear in a kind of value.

// IsTokenChar: names written as a bare word (cookie, user and url_param names): [A-Za-z0-9_.-].
func IsTokenChar(c byte) bool { return IsAlnum(c) || c == '_' || c == '.' || c == '-' }

// IsHeaderNameChar: header names, [A-Za-z0-9_-], the RFC 9110 token characters without those
// that HAProxy or a shell would read specially.
func IsHeaderNameChar(c byte) bool { return IsAlnum(c) || c == '_' || c == '-' }

// IsMethodChar: HTTP method names, [A-Z-].
func IsMethodChar(c byte) bool { return IsUpper(c) || c == '-' }

// IsPathChar: URL paths, the RFC 3986 path characters without percent-encoding, dollar and
// single quote ([A-Za-z0-9-._~!&()*+,;=:@/]).
func IsPathChar(c byte) bool { return IsAlnum(c) || strings.IndexByte("-._~!&()*+,;=:@/", c) >= 0 }

// IsQuotedChar: text written between double quotes, [A-Za-z0-9 !*+,-./:;<=>?@^_`|~()&]: a space,
// but no double quote, backslash or dollar (special inside HAProxy's double quotes), no percent
// sign (log-format expressions: header values are evaluated), no '#' and no single quote.
func IsQuotedChar(c byte) bool {
	return IsAlnum(c) || strings.IndexByte(" !*+,-./:;<=>?@^_`|~()&", c) >= 0
}

// IsCipherChar: OpenSSL cipher lists, [A-Za-z0-9:+!_.-].
func IsCipherChar(c byte) bool { return IsAlnum(c) || strings.IndexByte(":+!_.-", c) >= 0 }

// IsCryptChar: crypt(3) hashes, [A-Za-z0-9./$=]. A hash is written as a bare word, where HAProxy
// reads '$' literally: it expands environment variables only between double quotes.
func IsCryptChar(c byte) bool { return IsAlnum(c) || strings.IndexByte("./$=", c) >= 0 }

// ASCII classes, for the grammars here and the parsers of pkg/annotations.

func IsDigit(c byte) bool    { return c >= '0' && c <= '9' }
func IsLower(c byte) bool    { return c >= 'a' && c <= 'z' }
func IsUpper(c byte) bool    { return c >= 'A' && c <= 'Z' }
func IsAlnum(c byte) bool    { return IsDigit(c) || IsLower(c) || IsUpper(c) }
func IsHexDigit(c byte) bool { return IsDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// AllBytes reports whether every byte of s is ok.
func AllBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// Names and text.

// CheckToken accepts a name written as a bare word: 1 to MaxNameLen bytes of IsTokenChar.
func CheckToken(s string) error {
	if s == "" || len(s) > MaxNameLen || !AllBytes(s, IsTokenChar) {
		return fmt.Errorf("want 1 to %d bytes of A-Z a-z 0-9 _ . -", MaxNameLen)
	}
	return nil
}

// CheckHeaderName accepts a header name: 1 to MaxNameLen bytes of IsHeaderNameChar, starting
// with a letter or a digit.
func CheckHeaderName(s string) error {
	if s == "" || len(s) > MaxNameLen || !IsAlnum(s[0]) || !AllBytes(s, IsHeaderNameChar) {
		return fmt.Errorf("want a header name of A-Z a-z 0-9 - _ starting with a letter or digit, at most %d bytes", MaxNameLen)
	}
	return nil
}

// framingHeaders frame or route a message: setting them could desynchronise HAProxy and the
// backend (request smuggling).
var framingHeaders = []string{"connection", "content-length", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}

// IsFramingHeader reports whether name, in any case, is a header that frames or routes the
// message (Content-Length, Transfer-Encoding, Connection, ...). Such headers are never set from
// a setting.
func IsFramingHeader(name string) bool {
	return slices.Contains(framingHeaders, ASCIILower(name))
}

// CheckMethod accepts an HTTP method: an upper-case letter followed by IsMethodChar, at most
// MaxMethodLen bytes.
func CheckMethod(s string) error {
	if s == "" || len(s) > MaxMethodLen || !IsUpper(s[0]) || !AllBytes(s, IsMethodChar) {
		return fmt.Errorf("want an upper-case HTTP method name such as GET (A-Z and -), at most %d bytes", MaxMethodLen)
	}
	return nil
}

// CheckQuoted accepts a text written between double quotes (a header value, a realm): 1 to
// MaxHeaderValueLen bytes of IsQuotedChar, without a leading or trailing space. HAProxy reads ""
// as no word at all, so the empty text cannot be written.
func CheckQuoted(s string) error {
	switch {
	case s == "":
		return errors.New("empty value")
	case len(s) > MaxHeaderValueLen:
		return fmt.Errorf("longer than %d bytes", MaxHeaderValueLen)
	case !AllBytes(s, IsQuotedChar):
		return errors.New("only A-Z a-z 0-9, space and ! * + , - . / : ; < = > ? @ ^ _ ` | ~ ( ) & are allowed")
	case s[0] == ' ' || s[len(s)-1] == ' ':
		return errors.New("leading or trailing space")
	}
	return nil
}

// CheckPath accepts an absolute URL path of IsPathChar, at most MaxPathLen bytes, without an
// empty ("//"), "." or ".." segment.
func CheckPath(s string) error {
	switch {
	case s == "" || s[0] != '/':
		return errors.New("want a path starting with /")
	case len(s) > MaxPathLen:
		return fmt.Errorf("longer than %d bytes", MaxPathLen)
	case !AllBytes(s, IsPathChar):
		return errors.New("only A-Z a-z 0-9 and - . _ ~ ! & ( ) * + , ; = : @ / are allowed (no percent-encoding)")
	case strings.Contains(s, "//"):
		return errors.New("empty path segment (//)")
	}
	for _, seg := range strings.Split(s, "/") {
		if seg == "." || seg == ".." {
			return errors.New(`"." and ".." segments are not allowed`)
		}
	}
	return nil
}

// CheckCryptHash accepts a crypt(3) password hash: MinCryptHashLen to MaxCryptHashLen bytes of
// IsCryptChar, and not Apache's MD5 ("$apr1$", htpasswd -m), which is no crypt(3) scheme:
// HAProxy could never match a password against it.
func CheckCryptHash(s string) error {
	switch {
	case len(s) < MinCryptHashLen || len(s) > MaxCryptHashLen || !AllBytes(s, IsCryptChar):
		return fmt.Errorf("want a crypt(3) hash: %d to %d bytes of A-Z a-z 0-9 . / $ =", MinCryptHashLen, MaxCryptHashLen)
	case strings.HasPrefix(s, "$apr1$"):
		return errors.New("an Apache MD5 hash ($apr1$) is not a crypt(3) hash")
	}
	return nil
}

// Lists.

// CheckList accepts items separated by a comma and optional spaces, as HTTP writes lists
// ("a, b,c"): 1 to maxItems items, each accepted by item, at most maxLen bytes in all, without
// a leading or trailing space.
func CheckList(s string, maxItems, maxLen int, item func(string) error) error {
	switch {
	case s == "":
		return errors.New("empty list")
	case len(s) > maxLen:
		return fmt.Errorf("longer than %d bytes", maxLen)
	case s[0] == ' ' || s[len(s)-1] == ' ':
		return errors.New("leading or trailing space")
	}
	items := strings.Split(s, ",")
	if len(items) > maxItems {
		return fmt.Errorf("more than %d entries", maxItems)
	}
	for i, it := range items {
		if err := item(strings.TrimLeft(it, " ")); err != nil {
			return fmt.Errorf("entry %d: %w", i+1, err)
		}
	}
	return nil
}

// CheckOrigins accepts a CORS origin setting: "*", or a list of at most MaxOrigins origins
// (CheckOrigin).
func CheckOrigins(s string) error {
	if s == "*" {
		return nil
	}
	return CheckList(s, MaxOrigins, MaxOrigins*(MaxOriginLen+len(", ")), CheckOrigin)
}

// CheckMethods accepts a CORS method setting, sent as a header: "*", or a list of at most
// MaxMethods methods (CheckMethod) of at most MaxHeaderValueLen bytes.
func CheckMethods(s string) error {
	if s == "*" {
		return nil
	}
	return CheckList(s, MaxMethods, MaxHeaderValueLen, CheckMethod)
}

// CheckHeaderNames accepts a CORS header-name setting, sent as a header: "*", or a list of at
// most MaxHeaderNames names (CheckHeaderName) of at most MaxHeaderValueLen bytes.
func CheckHeaderNames(s string) error {
	if s == "*" {
		return nil
	}
	return CheckList(s, MaxHeaderNames, MaxHeaderValueLen, CheckHeaderName)
}

// Hosts and URLs.

// CheckHost accepts a host: a lower-case DNS name (CheckDNSName), an IPv4 address in dotted
// decimal, or a bracketed IPv6 address without zone.
func CheckHost(s string) error {
	if strings.HasPrefix(s, "[") {
		inner, ok := strings.CutSuffix(s[1:], "]")
		if ok && AllBytes(inner, func(c byte) bool { return IsHexDigit(c) || c == ':' || c == '.' }) {
			if a, err := netip.ParseAddr(inner); err == nil && a.Is6() {
				return nil
			}
		}
		return errors.New("invalid IPv6 address")
	}
	if s != "" && AllBytes(s, func(c byte) bool { return IsDigit(c) || c == '.' }) {
		if a, err := netip.ParseAddr(s); err != nil || !a.Is4() {
			return errors.New("invalid IPv4 address")
		}
		return nil
	}
	if CheckDNSName(s) != nil {
		return errors.New("want a lower-case DNS name, an IPv4 address or an [IPv6 address]")
	}
	return nil
}

// CheckDNSName accepts a lower-case DNS name of at most MaxHostLen bytes whose labels are 1 to
// MaxLabelLen bytes of [a-z0-9-], neither starting nor ending with "-", and whose last label is
// not numeric (that would be a malformed IPv4 address).
func CheckDNSName(s string) error {
	bad := fmt.Errorf("want a lower-case DNS name of at most %d bytes", MaxHostLen)
	if s == "" || len(s) > MaxHostLen {
		return bad
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if l == "" || len(l) > MaxLabelLen || l[0] == '-' || l[len(l)-1] == '-' ||
			!AllBytes(l, func(c byte) bool { return IsLower(c) || IsDigit(c) || c == '-' }) {
			return bad
		}
	}
	if AllBytes(labels[len(labels)-1], IsDigit) {
		return bad
	}
	return nil
}

// CheckPort accepts a port number, 1 to 65535, without leading zeros.
func CheckPort(s string) error {
	if s == "" || len(s) > 5 || s[0] == '0' || !AllBytes(s, IsDigit) {
		return errors.New("port must be 1 to 65535")
	}
	if n, _ := strconv.Atoi(s); n > 65535 {
		return errors.New("port must be 1 to 65535")
	}
	return nil
}

// CheckHostPort accepts host:port (CheckHost, CheckPort), or a host alone unless portRequired.
func CheckHostPort(s string, portRequired bool) error {
	host, port, hasPort := s, "", false
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return errors.New("unterminated [IPv6 address]")
		}
		host = s[:end+1]
		switch rest := s[end+1:]; {
		case rest == "":
		case rest[0] == ':':
			port, hasPort = rest[1:], true
		default:
			return errors.New("want [IPv6 address] or [IPv6 address]:port")
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, port, hasPort = s[:i], s[i+1:], true
	}
	if err := CheckHost(host); err != nil {
		return err
	}
	switch {
	case hasPort:
		return CheckPort(port)
	case portRequired:
		return errors.New("want host:port")
	}
	return nil
}

// cutScheme splits an http or https URL after "://".
func cutScheme(s string) (rest string, ok bool) {
	if rest, ok = strings.CutPrefix(s, "https://"); !ok {
		rest, ok = strings.CutPrefix(s, "http://")
	}
	return rest, ok
}

// CheckOrigin accepts an origin: http:// or https:// followed by host[:port] (CheckHostPort).
func CheckOrigin(s string) error {
	rest, ok := cutScheme(s)
	if !ok {
		return errors.New("want an origin: http:// or https:// followed by host[:port]")
	}
	return CheckHostPort(rest, false)
}

// CheckRedirectURL accepts http(s)://host[:port][/path] (CheckHostPort, CheckPath) of at most
// MaxURLLen bytes: no user info, query or fragment.
func CheckRedirectURL(s string) error {
	if len(s) > MaxURLLen {
		return fmt.Errorf("longer than %d bytes", MaxURLLen)
	}
	rest, ok := cutScheme(s)
	if !ok {
		return errors.New("want a URL starting with http:// or https://")
	}
	authority, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	if err := CheckHostPort(authority, false); err != nil {
		return err
	}
	if path != "" {
		if err := CheckPath(path); err != nil {
			return fmt.Errorf("path: %w", err)
		}
	}
	return nil
}

// TLS.

// CheckCipherList accepts an OpenSSL cipher list: 1 to MaxCipherListLen bytes of IsCipherChar.
// Whether OpenSSL knows the ciphers it names is not checked: only OpenSSL can tell.
func CheckCipherList(s string) error {
	switch {
	case s == "" || len(s) > MaxCipherListLen:
		return fmt.Errorf("want 1 to %d bytes", MaxCipherListLen)
	case !AllBytes(s, IsCipherChar):
		return errors.New("only A-Z a-z 0-9 and : + ! _ . - are allowed")
	}
	return nil
}

// tls13CipherSuites are the cipher suites that TLS 1.3 defines (RFC 8446, appendix B.4).
var tls13CipherSuites = []string{
	"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
	"TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256",
}

// TLS13CipherSuites returns the cipher suites that TLS 1.3 defines (RFC 8446), the only names
// OpenSSL accepts in a TLS 1.3 cipher-suite list.
func TLS13CipherSuites() []string { return slices.Clone(tls13CipherSuites) }

// CheckCipherSuites accepts a TLS 1.3 cipher-suite list: names of TLS13CipherSuites separated
// by colons. OpenSSL refuses a list in which it knows no name, and HAProxy then refuses the
// configuration, so unknown names are refused here.
func CheckCipherSuites(s string) error {
	if s == "" {
		return errors.New("empty list")
	}
	for i, name := range strings.Split(s, ":") {
		if !slices.Contains(tls13CipherSuites, name) {
			return fmt.Errorf("entry %d is not a TLS 1.3 cipher suite; want %s", i+1, strings.Join(tls13CipherSuites, ", "))
		}
	}
	return nil
}

// Durations.

// CheckDuration accepts a duration that the configuration can hold: not negative, and a whole
// number of milliseconds (TimerResolution).
func CheckDuration(d time.Duration) error {
	switch {
	case d < 0:
		return errors.New("negative")
	case d%TimerResolution != 0:
		return errors.New("not a whole number of milliseconds, the resolution of HAProxy's timers")
	}
	return nil
}

// CheckTimer accepts a timeout or timer: CheckDuration, and at most MaxTimer. Zero passes: the
// model uses it for "unset", and a caller that needs a value refuses zero itself.
func CheckTimer(d time.Duration) error {
	if err := CheckDuration(d); err != nil {
		return err
	}
	if d > MaxTimer {
		return fmt.Errorf("longer than HAProxy's maximum of %s", MaxTimer)
	}
	return nil
}

// Statuses.

// RedirectStatuses returns the HTTP statuses of redirects: 301, 302, 303, 307 and 308.
func RedirectStatuses() []int { return []int{301, 302, 303, 307, 308} }

// IsRedirectStatus reports whether code is one of RedirectStatuses.
func IsRedirectStatus(code int) bool { return slices.Contains(RedirectStatuses(), code) }

// IsErrorPageStatus reports whether HAProxy has a built-in error page for code, which a deny
// rule can then answer with.
func IsErrorPageStatus(code int) bool {
	return slices.Contains([]int{400, 403, 404, 405, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504}, code)
}

// ASCIILower lower-cases ASCII letters only (strings.ToLower and EqualFold also fold some
// non-ASCII letters onto ASCII ones).
func ASCIILower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if IsUpper(c) {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Regular expressions and rewrites (ingress-nginx's use-regex and rewrite-target).

// MaxRegexLen bounds a regular expression written into the configuration (a path, header or
// query condition, a rewrite); MaxRouteConditions bounds the header and query conditions of one
// route. (The same bounds as the renderer's checks of conditional routes.)
const (
	MaxRegexLen        = 1024
	MaxRouteConditions = 16
)

// CheckRegex accepts a regular expression that producer and HAProxy read alike and that is
// safe to write as one configuration word (with its backslashes doubled): valid RE2 (a subset
// of the PCRE HAProxy uses), at most MaxRegexLen bytes of printable ASCII without space, quote
// or '#', and not a word the configuration parser would take for an operator or a brace.
func CheckRegex(s string) error {
	switch {
	case s == "":
		return errors.New("empty regular expression")
	case len(s) > MaxRegexLen:
		return fmt.Errorf("regular expression longer than %d bytes", MaxRegexLen)
	case s == "{" || s == "}" || s == "||" || strings.HasPrefix(s, "!"):
		return errors.New("regular expression that reads as a configuration operator")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("\"'#", c) >= 0 {
			return fmt.Errorf("character %q not allowed in a regular expression", c)
		}
	}
	if _, err := regexp.Compile(s); err != nil {
		return fmt.Errorf("invalid regular expression: %w", err)
	}
	return nil
}

// CheckRewriteTarget accepts the replacement of a regular-expression rewrite as the model holds
// it: a path (IsPathChar) in which \1 to \9 stand for the groups the expression captures, at
// most MaxPathLen bytes, starting with "/" or a group.
func CheckRewriteTarget(s string) error {
	if s == "" || len(s) > MaxPathLen {
		return fmt.Errorf("rewrite target must be 1 to %d bytes", MaxPathLen)
	}
	if s[0] != '/' && s[0] != '\\' {
		return errors.New("rewrite target must start with / or a group")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			if i+1 == len(s) || s[i+1] < '1' || s[i+1] > '9' {
				return errors.New(`a backslash must be followed by a group number 1 to 9`)
			}
			i++
			continue
		}
		if !IsPathChar(c) {
			return fmt.Errorf("character %q not allowed in a rewrite target", c)
		}
	}
	return nil
}

// MaxBodySize bounds a request body size limit: 1 TiB, beyond any request a proxy should take.
const MaxBodySize = 1 << 40

// Cookie attributes (ingress-nginx's session-cookie-*).

// MaxCookieMaxAge bounds the Max-Age of a persistence cookie: 400 days, which browsers cap it to.
const MaxCookieMaxAge = 400 * 24 * time.Hour

// CheckCookiePath accepts the Path attribute of a cookie: a path (CheckPath) without ';', which
// would end the attribute.
func CheckCookiePath(s string) error {
	if err := CheckPath(s); err != nil {
		return err
	}
	if strings.IndexByte(s, ';') >= 0 {
		return errors.New("character ';' not allowed in a cookie path")
	}
	return nil
}

// ErrorPageStatuses are the statuses Portcullis has an error page for.
func ErrorPageStatuses() []int { return []int{400, 403, 404, 408, 500, 502, 503, 504} }
