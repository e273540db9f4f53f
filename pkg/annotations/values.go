package annotations

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// The value types below are what the parsers produce. Each documents the characters it can
// contain; none can contain a control character, a non-ASCII byte, or any of # % $ " ' \.
// Only HeaderValue and Wildcard can contain a space, and they must be rendered with Quoted (or
// an equivalent double-quoting), which is always safe for them.

// FormatDuration renders d in HAProxy's time format with the largest unit that represents it
// exactly: "50s", "1500ms", "1h", "7d". It is the inverse of the duration parsers. Durations
// below a microsecond are rounded down; zero and negative durations render as "0s".
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	for _, u := range durationUnits {
		if d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(d/time.Microsecond), 10) + "us"
}

type timeUnit struct {
	name string
	d    time.Duration
}

// durationUnits are HAProxy's time units, largest first.
var durationUnits = []timeUnit{
	{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second},
	{"ms", time.Millisecond}, {"us", time.Microsecond},
}

// Balance is a load-balancing algorithm with its options: the model's type, so that the value the
// parser builds is the one the renderer writes. String gives HAProxy's syntax.
type Balance = model.Balance

// ProxyProtocol is the PROXY protocol variant sent to backend servers.
type ProxyProtocol string

const (
	ProxyNone    ProxyProtocol = "none"
	ProxyV1      ProxyProtocol = "proxy-v1"
	ProxyV2      ProxyProtocol = "proxy-v2"
	ProxyV2SSL   ProxyProtocol = "proxy-v2-ssl"
	ProxyV2SSLCN ProxyProtocol = "proxy-v2-ssl-cn"
)

// ServerKeyword is HAProxy's server keyword for p ("send-proxy-v2", ...), empty for ProxyNone.
func (p ProxyProtocol) ServerKeyword() string {
	switch p {
	case ProxyV1:
		return "send-proxy"
	case ProxyV2, ProxyV2SSL, ProxyV2SSLCN:
		return "send-" + string(p)
	}
	return ""
}

// Path is an absolute URL path: "/" followed by RFC 3986 path characters without
// percent-encoding, "$" and "'" ([A-Za-z0-9-._~!&()*+,;=:@/]), no "//", no "." or ".."
// segment, at most 1024 bytes.
type Path string

// PathRewrite replaces the path prefix From with To. Matching is element-wise, like an Ingress
// Prefix path: From "/old" matches "/old" and "/old/x" but not "/older". Neither path ends in
// "/" unless it is "/". Paths may contain characters special in regular expressions
// (. ( ) * +): a renderer that builds a regular expression from From must escape them, e.g. as
// [.], which needs no backslash.
type PathRewrite struct {
	From, To Path
}

// String is the annotation form, "<from> <to>".
func (r PathRewrite) String() string { return string(r.From) + " " + string(r.To) }

// Apply returns the rewritten path and true when path starts with From, else path and false.
// It is the reference semantics for the renderer's rules.
func (r PathRewrite) Apply(path string) (string, bool) {
	from := strings.TrimSuffix(string(r.From), "/")
	var rest string
	switch {
	case from == "":
		rest = path
	case path == from:
		rest = ""
	case strings.HasPrefix(path, from+"/"):
		rest = path[len(from):]
	default:
		return path, false
	}
	out := strings.TrimSuffix(string(r.To), "/") + rest
	if out == "" {
		out = "/"
	}
	return out, true
}

// RedirectTarget is where request-redirect sends clients: an http or https origin with an
// optional path prefix. The request's path and query are appended (HAProxy's redirect prefix).
type RedirectTarget struct {
	// Scheme is "http" or "https".
	Scheme string
	// Host is a lower-case DNS name, an IPv4 address or a bracketed IPv6 address.
	Host string
	// Port is 0 for the scheme's default port.
	Port uint16
	// Path is empty or a Path without a trailing slash.
	Path Path
}

// String is the URL, e.g. "https://example.com:8443/base".
func (r RedirectTarget) String() string {
	return originString(r.Scheme, r.Host, r.Port) + string(r.Path)
}

// Origin is a CORS origin: scheme, host and port only.
type Origin struct {
	// Scheme is "http" or "https".
	Scheme string
	// Host is a lower-case DNS name, an IPv4 address or a bracketed IPv6 address.
	Host string
	// Port is 0 for the scheme's default port.
	Port uint16
}

// String is the origin as browsers send it, e.g. "https://app.example.com".
func (o Origin) String() string { return originString(o.Scheme, o.Host, o.Port) }

func originString(scheme, host string, port uint16) string {
	s := scheme + "://" + host
	if port != 0 {
		s += ":" + strconv.Itoa(int(port))
	}
	return s
}

// Method is an HTTP method: an upper-case letter followed by upper-case letters and hyphens,
// at most 32 bytes.
type Method string

func (m Method) String() string { return string(m) }

// HeaderName is an HTTP header name restricted to [A-Za-z0-9_-] (a subset of the RFC 7230 token
// characters without those special to HAProxy), starting with a letter or digit, at most 64
// bytes.
type HeaderName string

func (h HeaderName) String() string { return string(h) }

// HeaderValue is an HTTP header value guaranteed to contain only
// [A-Za-z0-9 !*+,-./:;<=>?@^_`|~()&], with no leading or trailing space, at most 1024 bytes.
// In particular it has no control character, no double quote, backslash, dollar (environment
// expansion in HAProxy double quotes), percent (log-format sample fetches), single quote or hash.
// It may contain spaces: render it with Quoted.
type HeaderValue string

func (h HeaderValue) String() string { return string(h) }

// Quoted is the value in HAProxy double quotes: one configuration word, taken literally.
func (h HeaderValue) Quoted() string { return `"` + string(h) + `"` }

// Header is a header to set on requests or responses.
type Header struct {
	Name  HeaderName
	Value HeaderValue
}

// Wildcard is either "*" (Any) or an explicit, non-empty list without duplicates.
type Wildcard[T fmt.Stringer] struct {
	Any   bool
	Items []T
}

// String is "*" or the items separated by ", ": an HTTP header list. It may contain spaces:
// render it with Quoted.
func (w Wildcard[T]) String() string {
	if w.Any {
		return "*"
	}
	s := make([]string, len(w.Items))
	for i, it := range w.Items {
		s[i] = it.String()
	}
	return strings.Join(s, ", ")
}

// Quoted is String in HAProxy double quotes.
func (w Wildcard[T]) Quoted() string { return `"` + w.String() + `"` }

// ServiceRef names a Service in the Ingress's namespace and optionally one of its ports.
type ServiceRef struct {
	// Name is a DNS-1035 label.
	Name string
	// Port is the port number; 0 when PortName is set or no port was given.
	Port uint16
	// PortName is the name of the port (an IANA service name), empty when Port is set or no port
	// was given. With neither, the port of the Ingress backend the canary accompanies is used.
	PortName string
}

// String is the annotation form, "name", "name:8080" or "name:http".
func (r ServiceRef) String() string {
	switch {
	case r.Port != 0:
		return r.Name + ":" + strconv.Itoa(int(r.Port))
	case r.PortName != "":
		return r.Name + ":" + r.PortName
	}
	return r.Name
}

// LogTarget is where HAProxy sends traffic logs: its standard output or a syslog server.
type LogTarget struct {
	// Stdout: log to HAProxy's standard output.
	Stdout bool
	// Host is an IPv4 address, a bracketed IPv6 address or a lower-case DNS name.
	Host string
	// Port is the syslog port (514 unless given).
	Port uint16
}

// String is "stdout" or "host:port", as HAProxy's log keyword takes it; empty when unset.
func (t LogTarget) String() string {
	switch {
	case t.Stdout:
		return "stdout"
	case t.Host == "":
		return ""
	}
	return t.Host + ":" + strconv.Itoa(int(t.Port))
}

// LogFormat names one of the controller's built-in traffic log formats; raw format strings are
// not accepted because HAProxy evaluates them.
type LogFormat string

const (
	LogFormatDefault LogFormat = "default"
	LogFormatJSON    LogFormat = "json"
	LogFormatCLF     LogFormat = "clf"
)

// TLSVersion is a minimum TLS protocol version, in HAProxy's spelling.
type TLSVersion string

const (
	TLSv12 TLSVersion = "TLSv1.2"
	TLSv13 TLSVersion = "TLSv1.3"
)

// Ciphers is an OpenSSL cipher list or TLS 1.3 cipher-suite list: [A-Za-z0-9:+!_.-] only, at
// most 2048 bytes. It renders as one configuration word.
type Ciphers string

// cidrString is the canonical form of a CIDR list, as its parser accepts it.
func cidrString(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// RewriteTarget is the path that replaces a request's path when it matches the route's regular
// expression: IsPathChar characters and $1 to $9, which stand for the groups the expression
// captures, at most 1024 bytes, starting with "/" or a group.
type RewriteTarget string

// HAProxy is the target in HAProxy's replace format: \1 for $1.
func (t RewriteTarget) HAProxy() string {
	return strings.ReplaceAll(string(t), "$", `\`)
}

// ByteSize is a number of bytes.
type ByteSize int64

// String is the size with the largest unit (k, m or g, 1024-based) that represents it exactly.
func (b ByteSize) String() string {
	for _, u := range []struct {
		s string
		n int64
	}{{"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}} {
		if b != 0 && int64(b)%u.n == 0 {
			return strconv.FormatInt(int64(b)/u.n, 10) + u.s
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// Regex is a regular expression limits.CheckRegex accepts: printable ASCII without space,
// quotes or '#'; it may contain backslashes, which a renderer writing it as one configuration
// word must double.
type Regex string

// RedirectURL is http(s)://host[:port][/path] as limits.CheckRedirectURL accepts it: URL path
// characters, no space, quote, percent or backslash.
type RedirectURL string

// CookiePath is a Path without ';' (limits.CheckCookiePath).
type CookiePath string

// The values of error-pages.
const (
	ErrorPagesHAProxy    = "haproxy"
	ErrorPagesPortcullis = "portcullis"
)
