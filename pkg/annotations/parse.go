package annotations

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// Parsers. Each one is built from a closed character set or a closed vocabulary; none passes
// anything through unchecked. The character sets, limits and grammars of everything that reaches
// HAProxy's configuration are those of package limits, which the renderer checks again: a value
// parsed here always renders. Errors are lower-case reasons for a Problem; they quote user input
// only through Clip.

// durationIn accepts a duration from lo to hi. It must be a whole number of milliseconds
// (limits.CheckDuration): HAProxy counts time in milliseconds, and a finer value such as "1500us"
// is refused rather than rounded.
func durationIn(lo, hi time.Duration) parser[time.Duration] {
	return parser[time.Duration]{
		kind: fmt.Sprintf("duration with a unit (us, ms, s, m, h or d) in whole milliseconds, %s to %s", FormatDuration(lo), FormatDuration(hi)),
		parse: func(s string) (time.Duration, error) {
			return parseDuration(s, lo, hi)
		},
		format: FormatDuration,
	}
}

// timerIn is durationIn for a timeout or timer of HAProxy, whose longest value is
// limits.MaxTimer.
func timerIn(lo, hi time.Duration) parser[time.Duration] {
	if hi > limits.MaxTimer {
		panic(fmt.Sprintf("annotations: timer maximum %s beyond HAProxy's %s", hi, limits.MaxTimer))
	}
	return durationIn(lo, hi)
}

// parseDuration reads HAProxy's time format restricted to digits followed by a unit (us, ms, s,
// m, h, d). A bare number, which HAProxy would read as milliseconds, is refused as ambiguous.
func parseDuration(s string, lo, hi time.Duration) (time.Duration, error) {
	i := 0
	for i < len(s) && limits.IsDigit(s[i]) {
		i++
	}
	if i == 0 || i == len(s) || i > 12 {
		return 0, errors.New("want a number of at most 12 digits followed by a unit: us, ms, s, m, h or d")
	}
	unit := s[i:]
	ui := slices.IndexFunc(durationUnits, func(u timeUnit) bool { return u.name == unit })
	if ui < 0 {
		return 0, errors.New("unknown unit: want us, ms, s, m, h or d")
	}
	u := durationUnits[ui].d
	n, _ := strconv.ParseInt(s[:i], 10, 64) // at most 12 digits: cannot fail
	if n > int64(hi/u) {
		return 0, fmt.Errorf("more than the maximum of %s", FormatDuration(hi))
	}
	d := time.Duration(n) * u
	if d < lo {
		return 0, fmt.Errorf("less than the minimum of %s", FormatDuration(lo))
	}
	if err := limits.CheckDuration(d); err != nil {
		return 0, err
	}
	return d, nil
}

func intIn(lo, hi int) parser[int] {
	return parser[int]{
		kind: fmt.Sprintf("integer, %d to %d", lo, hi),
		parse: func(s string) (int, error) {
			n, err := parseUint(s)
			if err != nil {
				return 0, err
			}
			if n < lo || n > hi {
				return 0, fmt.Errorf("out of range: want %d to %d", lo, hi)
			}
			return n, nil
		},
		format: strconv.Itoa,
	}
}

// parseUint reads 1 to 9 decimal digits.
func parseUint(s string) (int, error) {
	if s == "" || len(s) > 9 || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, errors.New("want a whole number of at most 9 digits")
	}
	n, err := strconv.Atoi(s)
	return n, err
}

// statusIn accepts one of the given HTTP status codes.
func statusIn(codes ...int) parser[int] {
	list := make([]string, len(codes))
	for i, c := range codes {
		list[i] = strconv.Itoa(c)
	}
	want := strings.Join(list, ", ")
	return parser[int]{
		kind: "HTTP status, one of " + want,
		parse: func(s string) (int, error) {
			n, err := parseUint(s)
			if err != nil || !slices.Contains(codes, n) {
				return 0, errors.New("want one of " + want)
			}
			return n, nil
		},
		format: strconv.Itoa,
	}
}

// boolean accepts true/false and haproxytech's enabled/disabled, in any ASCII case.
var boolean = parser[bool]{
	kind: "boolean: true or false",
	parse: func(s string) (bool, error) {
		switch limits.ASCIILower(s) {
		case "true", "enabled":
			return true, nil
		case "false", "disabled":
			return false, nil
		}
		return false, errors.New("want true or false")
	},
	format: strconv.FormatBool,
}

// oneOf accepts exactly one of the given words.
func oneOf[T ~string](words ...T) parser[T] {
	list := make([]string, len(words))
	for i, w := range words {
		list[i] = string(w)
	}
	want := strings.Join(list, ", ")
	return parser[T]{
		kind: "one of " + want,
		parse: func(s string) (T, error) {
			if i := slices.Index(list, s); i >= 0 {
				return words[i], nil
			}
			return "", errors.New("want one of " + want)
		},
		format: func(v T) string { return string(v) },
	}
}

// proxyProtocol accepts haproxytech's spellings; "proxy" means "proxy-v1".
var proxyProtocol = parser[ProxyProtocol]{
	kind: "one of none, proxy, proxy-v1, proxy-v2, proxy-v2-ssl, proxy-v2-ssl-cn",
	parse: func(s string) (ProxyProtocol, error) {
		switch p := ProxyProtocol(s); p {
		case "proxy":
			return ProxyV1, nil
		case ProxyNone, ProxyV1, ProxyV2, ProxyV2SSL, ProxyV2SSLCN:
			return p, nil
		}
		return "", errors.New("want one of none, proxy, proxy-v1, proxy-v2, proxy-v2-ssl, proxy-v2-ssl-cn")
	},
	format: func(p ProxyProtocol) string { return string(p) },
}

// balance accepts an algorithm and the options listed in Balance, separated by spaces.
var balance = parser[Balance]{
	kind: "balance algorithm: roundrobin, static-rr, leastconn, first, source, random[(draws)], " +
		"uri [whole] [path-only] [len N] [depth N], url_param <name>, hdr(<name>) [use_domain_only]",
	parse:  parseBalance,
	format: Balance.String,
}

func parseBalance(s string) (Balance, error) {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' })
	if len(f) == 0 {
		return Balance{}, errors.New("empty value")
	}
	algo, args := f[0], f[1:]
	b := Balance{Algorithm: algo}
	noArgs := func() (Balance, error) {
		if len(args) > 0 {
			return Balance{}, fmt.Errorf("%s takes no options", algo)
		}
		return b, nil
	}
	switch {
	case algo == "roundrobin", algo == "static-rr", algo == "leastconn", algo == "first",
		algo == "source", algo == "random":
		return noArgs()
	case strings.HasPrefix(algo, "random(") && strings.HasSuffix(algo, ")"):
		n, err := parseUint(algo[len("random(") : len(algo)-1])
		if err != nil || n < 1 || n > limits.MaxRandomDraws {
			return Balance{}, fmt.Errorf("random(<draws>) takes 1 to %d draws", limits.MaxRandomDraws)
		}
		b = Balance{Algorithm: "random", Draws: n}
		algo = "random"
		return noArgs()
	case algo == "uri":
		for i := 0; i < len(args); i++ {
			switch opt := args[i]; opt {
			case "whole", "path-only":
				if (opt == "whole" && b.URIWhole) || (opt == "path-only" && b.URIPathOnly) {
					return Balance{}, errors.New("uri option given twice")
				}
				b.URIWhole = b.URIWhole || opt == "whole"
				b.URIPathOnly = b.URIPathOnly || opt == "path-only"
			case "len", "depth":
				if i+1 == len(args) {
					return Balance{}, fmt.Errorf("uri option %s needs a number", opt)
				}
				i++
				n, err := parseUint(args[i])
				if err != nil || n < 1 || n > limits.MaxURIHashLen {
					return Balance{}, fmt.Errorf("uri option %s takes 1 to %d", opt, limits.MaxURIHashLen)
				}
				p := &b.URILen
				if opt == "depth" {
					p = &b.URIDepth
				}
				if *p != 0 {
					return Balance{}, errors.New("uri option given twice")
				}
				*p = n
			default:
				return Balance{}, errors.New("uri options are whole, path-only, len N and depth N")
			}
		}
		return b, nil
	case algo == "url_param":
		if len(args) != 1 || limits.CheckToken(args[0]) != nil {
			return Balance{}, fmt.Errorf("url_param takes one parameter name of [A-Za-z0-9_.-], at most %d bytes", limits.MaxNameLen)
		}
		b.Param = args[0]
		return b, nil
	case strings.HasPrefix(algo, "hdr(") && strings.HasSuffix(algo, ")"):
		name, err := parseHeaderName(algo[len("hdr(") : len(algo)-1])
		if err != nil {
			return Balance{}, fmt.Errorf("hdr(<name>): %w", err)
		}
		b = Balance{Algorithm: "hdr", Param: string(name)}
		switch {
		case len(args) == 1 && args[0] == "use_domain_only":
			b.UseDomainOnly = true
		case len(args) > 0:
			return Balance{}, errors.New("hdr(<name>) takes only the option use_domain_only")
		}
		return b, nil
	}
	return Balance{}, errors.New("unknown algorithm: want roundrobin, static-rr, leastconn, first, source, random, uri, url_param or hdr(<name>)")
}

// cidrList accepts IPv4 and IPv6 addresses and prefixes separated by commas and/or spaces. Each
// is normalised (host bits cleared, an address becomes a /32 or /128); the list is sorted and
// duplicates are dropped.
var cidrList = parser[[]netip.Prefix]{
	kind:   fmt.Sprintf("list of IP addresses or CIDR prefixes separated by commas, at most %d", limits.MaxNetworks),
	parse:  parseCIDRList,
	format: cidrString,
}

func parseCIDRList(s string) ([]netip.Prefix, error) {
	items := splitList(s)
	if len(items) == 0 {
		return nil, errors.New("empty list")
	}
	if len(items) > limits.MaxNetworks {
		return nil, fmt.Errorf("more than %d entries", limits.MaxNetworks)
	}
	out := make([]netip.Prefix, 0, len(items))
	for i, it := range items {
		if !limits.AllBytes(it, func(c byte) bool { return limits.IsHexDigit(c) || c == '.' || c == ':' || c == '/' }) {
			return nil, fmt.Errorf("entry %d: want an IP address or CIDR prefix", i+1)
		}
		var p netip.Prefix
		if strings.Contains(it, "/") {
			var err error
			if p, err = netip.ParsePrefix(it); err != nil {
				return nil, fmt.Errorf("entry %d: want an IP address or CIDR prefix", i+1)
			}
		} else {
			a, err := netip.ParseAddr(it)
			if err != nil {
				return nil, fmt.Errorf("entry %d: want an IP address or CIDR prefix", i+1)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	slices.SortFunc(out, comparePrefix)
	return slices.Compact(out), nil
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Bits(), b.Bits())
}

// splitList splits on commas and spaces, dropping empty items.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// urlPath accepts a Path.
var urlPath = parser[Path]{
	kind:   "URL path: / followed by [A-Za-z0-9-._~!&()*+,;=:@/]",
	parse:  parsePath,
	format: func(p Path) string { return string(p) },
}

func parsePath(s string) (Path, error) {
	if err := limits.CheckPath(s); err != nil {
		return "", err
	}
	return Path(s), nil
}

// rewrite accepts "<from> <to>": two paths separated by spaces.
var rewrite = parser[PathRewrite]{
	kind:   "two paths separated by a space: prefix to replace, replacement",
	parse:  parsePathRewrite,
	format: PathRewrite.String,
}

func parsePathRewrite(s string) (PathRewrite, error) {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' })
	if len(f) != 2 {
		return PathRewrite{}, errors.New(`want "<from> <to>": two paths separated by a space (regular expressions are not supported)`)
	}
	var r PathRewrite
	for i, dst := range []*Path{&r.From, &r.To} {
		p, err := parsePath(f[i])
		if err != nil {
			return PathRewrite{}, fmt.Errorf("%s: %w", []string{"from", "to"}[i], err)
		}
		if len(p) > 1 {
			p = Path(strings.TrimSuffix(string(p), "/"))
		}
		*dst = p
	}
	return r, nil
}

// redirectTarget accepts an absolute http(s) URL without user info, query or fragment.
var redirectTarget = parser[RedirectTarget]{
	kind:   "http or https URL: scheme://host[:port][/path]",
	parse:  parseRedirectTarget,
	format: RedirectTarget.String,
}

func parseRedirectTarget(s string) (RedirectTarget, error) {
	if len(s) > limits.MaxURLLen {
		return RedirectTarget{}, fmt.Errorf("longer than %d bytes", limits.MaxURLLen)
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || (scheme != "http" && scheme != "https") {
		return RedirectTarget{}, errors.New("want an URL starting with http:// or https://")
	}
	authority, p := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, p = rest[:i], rest[i:]
	}
	host, port, err := parseHostPort(authority, defaultPort(scheme))
	if err != nil {
		return RedirectTarget{}, err
	}
	t := RedirectTarget{Scheme: scheme, Host: host, Port: port}
	if p != "" {
		pp, err := parsePath(p)
		if err != nil {
			return RedirectTarget{}, fmt.Errorf("path: %w", err)
		}
		t.Path = Path(strings.TrimSuffix(string(pp), "/"))
	}
	if err := limits.CheckRedirectURL(t.String()); err != nil {
		return RedirectTarget{}, err
	}
	return t, nil
}

func defaultPort(scheme string) uint16 {
	if scheme == "https" {
		return 443
	}
	return 80
}

// origins accepts "*" or a list of origins.
var origins = wildcardOf("origins (scheme://host[:port])", limits.MaxOrigins, 0, parseOrigin, limits.CheckOrigins)

func parseOrigin(s string) (Origin, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || (scheme != "http" && scheme != "https") {
		return Origin{}, errors.New("want an origin: http:// or https:// followed by host[:port]")
	}
	host, port, err := parseHostPort(rest, defaultPort(scheme))
	if err != nil {
		return Origin{}, err
	}
	o := Origin{Scheme: scheme, Host: host, Port: port}
	if err := limits.CheckOrigin(o.String()); err != nil {
		return Origin{}, err
	}
	return o, nil
}

// methods accepts "*" or a list of HTTP methods.
var methods = wildcardOf("HTTP methods", limits.MaxMethods, limits.MaxHeaderValueLen, func(s string) (Method, error) {
	if err := limits.CheckMethod(s); err != nil {
		return "", err
	}
	return Method(s), nil
}, limits.CheckMethods)

// headerNames accepts "*" or a list of header names, sent as one header value.
var headerNames = wildcardOf("header names", limits.MaxHeaderNames, limits.MaxHeaderValueLen, parseHeaderName, limits.CheckHeaderNames)

// wildcardOf builds the parser of a Wildcard list of at most max items and, unless maxLen is 0,
// at most maxLen bytes as String writes it. That form must pass check, the renderer's grammar of
// the list (which bounds the items and, for a list sent as a header value, the length).
func wildcardOf[T fmt.Stringer](what string, max, maxLen int, item func(string) (T, error), check func(string) error) parser[Wildcard[T]] {
	kind := fmt.Sprintf("* or a list of %s separated by commas, at most %d", what, max)
	if maxLen > 0 {
		kind += fmt.Sprintf(" and %d bytes in all", maxLen)
	}
	return parser[Wildcard[T]]{
		kind: kind,
		parse: func(s string) (Wildcard[T], error) {
			if s == "*" {
				return Wildcard[T]{Any: true}, nil
			}
			items := splitList(s)
			if len(items) == 0 {
				return Wildcard[T]{}, errors.New("empty list")
			}
			if len(items) > max {
				return Wildcard[T]{}, fmt.Errorf("more than %d entries", max)
			}
			var w Wildcard[T]
			seen := map[string]bool{}
			for i, it := range items {
				if it == "*" {
					return Wildcard[T]{}, errors.New("* must stand alone")
				}
				v, err := item(it)
				if err != nil {
					return Wildcard[T]{}, fmt.Errorf("entry %d: %w", i+1, err)
				}
				if k := limits.ASCIILower(v.String()); !seen[k] {
					seen[k] = true
					w.Items = append(w.Items, v)
				}
			}
			if err := check(w.String()); err != nil {
				return Wildcard[T]{}, err
			}
			return w, nil
		},
		format: Wildcard[T].String,
	}
}

// parseHostPort reads host[:port] where host is a DNS name, an IPv4 address or a bracketed IPv6
// address. A port equal to dflt is dropped (returned as 0).
func parseHostPort(s string, dflt uint16) (string, uint16, error) {
	host, portStr, hasPort := s, "", false
	if strings.HasPrefix(s, "[") {
		j := strings.IndexByte(s, ']')
		if j < 0 {
			return "", 0, errors.New("unterminated [IPv6 address]")
		}
		host = s[:j+1]
		switch rest := s[j+1:]; {
		case rest == "":
		case rest[0] == ':':
			portStr, hasPort = rest[1:], true
		default:
			return "", 0, errors.New("want [IPv6 address] or [IPv6 address]:port")
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, portStr, hasPort = s[:i], s[i+1:], true
	}
	h, err := parseHost(host)
	if err != nil {
		return "", 0, err
	}
	var port uint16
	if hasPort {
		n, err := parseUint(portStr)
		if err != nil || n < 1 || n > 65535 {
			return "", 0, errors.New("port must be 1 to 65535")
		}
		if uint16(n) != dflt {
			port = uint16(n)
		}
	}
	return h, port, nil
}

// parseHost validates a host (limits.CheckHost): a bracketed IPv6 address without zone, an IPv4
// address, or a DNS name in any case. It returns the canonical form: the DNS name lower-cased,
// the IPv6 address as netip writes it.
func parseHost(s string) (string, error) {
	h := limits.ASCIILower(s)
	if inner, ok := strings.CutPrefix(h, "["); ok {
		inner, ok = strings.CutSuffix(inner, "]")
		// ParseAddr also reads a zone ("%eth0"): the character set keeps it out.
		if ok && limits.AllBytes(inner, func(c byte) bool { return limits.IsHexDigit(c) || c == ':' || c == '.' }) {
			if a, err := netip.ParseAddr(inner); err == nil && a.Is6() {
				h = "[" + a.String() + "]"
			}
		}
	}
	if err := limits.CheckHost(h); err != nil {
		return "", err
	}
	return h, nil
}

func validLabel(l string, max int) bool {
	return l != "" && len(l) <= max && l[0] != '-' && l[len(l)-1] != '-' &&
		limits.AllBytes(l, func(c byte) bool { return limits.IsLower(c) || limits.IsDigit(c) || c == '-' })
}

// secretName accepts a Kubernetes object name (DNS-1123 subdomain).
var secretName = parser[string]{
	kind: "Secret name (DNS-1123 subdomain) in the same namespace",
	parse: func(s string) (string, error) {
		if strings.Contains(s, "/") {
			return "", errors.New("want the name of a Secret in the same namespace, without namespace/")
		}
		if len(s) > 253 {
			return "", errors.New("longer than 253 bytes")
		}
		for _, l := range strings.Split(s, ".") {
			if !validLabel(l, 253) {
				return "", errors.New("want a DNS-1123 subdomain: lower-case letters, digits, '-' and '.'")
			}
		}
		return s, nil
	},
	format: func(s string) string { return s },
}

// cookieName accepts a cookie name (limits.CheckToken).
var cookieName = parser[string]{
	kind: fmt.Sprintf("cookie name: [A-Za-z0-9_.-], at most %d bytes", limits.MaxNameLen),
	parse: func(s string) (string, error) {
		if err := limits.CheckToken(s); err != nil {
			return "", fmt.Errorf("cookie name: %w", err)
		}
		return s, nil
	},
	format: func(s string) string { return s },
}

// serviceRef accepts "name", "name:port-number" or "name:port-name".
var serviceRef = parser[ServiceRef]{
	kind:   "Service name in the same namespace, optionally :port (number or name)",
	parse:  parseServiceRef,
	format: ServiceRef.String,
}

func parseServiceRef(s string) (ServiceRef, error) {
	name, port, hasPort := strings.Cut(s, ":")
	if !validLabel(name, 63) || !limits.IsLower(name[0]) {
		return ServiceRef{}, errors.New("want a Service name (DNS-1035 label: a-z, 0-9 and -, starting with a letter)")
	}
	r := ServiceRef{Name: name}
	switch {
	case !hasPort:
	case port != "" && limits.AllBytes(port, limits.IsDigit):
		n, err := parseUint(port)
		if err != nil || n < 1 || n > 65535 {
			return ServiceRef{}, errors.New("port number must be 1 to 65535")
		}
		r.Port = uint16(n)
	case validLabel(port, 15) && !strings.Contains(port, "--"):
		r.PortName = port
	default:
		return ServiceRef{}, errors.New("want a port number or a port name (a-z, 0-9 and -, at most 15 bytes)")
	}
	return r, nil
}

// logTarget accepts "stdout" or host[:port] (port 514 by default).
var logTarget = parser[LogTarget]{
	kind:   "stdout, or host[:port] of a syslog server (port 514 by default)",
	parse:  parseLogTarget,
	format: LogTarget.String,
}

func parseLogTarget(s string) (LogTarget, error) {
	if s == "stdout" {
		return LogTarget{Stdout: true}, nil
	}
	host, port, err := parseHostPort(s, 0)
	if err != nil {
		return LogTarget{}, err
	}
	if port == 0 {
		port = 514
	}
	t := LogTarget{Host: host, Port: port}
	if err := limits.CheckHostPort(t.String(), true); err != nil {
		return LogTarget{}, err
	}
	return t, nil
}

// ciphers accepts an OpenSSL cipher list (limits.CheckCipherList).
var ciphers = parser[Ciphers]{
	kind: fmt.Sprintf("OpenSSL cipher list: [A-Za-z0-9:+!_.-], at most %d bytes", limits.MaxCipherListLen),
	parse: func(s string) (Ciphers, error) {
		if err := limits.CheckCipherList(s); err != nil {
			return "", err
		}
		return Ciphers(s), nil
	},
	format: func(c Ciphers) string { return string(c) },
}

// cipherSuites accepts a TLS 1.3 cipher-suite list (limits.CheckCipherSuites): OpenSSL knows no
// other suites, and an unknown one makes HAProxy refuse the whole configuration.
var cipherSuites = parser[Ciphers]{
	kind: "TLS 1.3 cipher suites separated by colons: " + strings.Join(limits.TLS13CipherSuites(), ", "),
	parse: func(s string) (Ciphers, error) {
		if err := limits.CheckCipherSuites(s); err != nil {
			return "", err
		}
		return Ciphers(s), nil
	},
	format: func(c Ciphers) string { return string(c) },
}

// headerName accepts a HeaderName (limits.CheckHeaderName).
func parseHeaderName(s string) (HeaderName, error) {
	if err := limits.CheckHeaderName(s); err != nil {
		return "", err
	}
	return HeaderName(s), nil
}

// headerValue accepts a HeaderValue (limits.CheckQuoted).
var headerValue = parser[HeaderValue]{
	kind:   fmt.Sprintf("text: A-Z a-z 0-9, space and !*+,-./:;<=>?@^_`|~()&, at most %d bytes", limits.MaxHeaderValueLen),
	parse:  parseHeaderValue,
	format: HeaderValue.String,
}

func parseHeaderValue(s string) (HeaderValue, error) {
	if err := limits.CheckQuoted(s); err != nil {
		return "", err
	}
	return HeaderValue(s), nil
}

// headers accepts one "Name value" per line; the value may be in double quotes (haproxytech's
// form), which are removed. Headers that frame or route the message (limits.IsFramingHeader) are
// refused: setting them could desynchronise HAProxy and the backend (request smuggling).
var headers = parser[[]Header]{
	kind:   fmt.Sprintf("one header per line, \"Name value\", at most %d", limits.MaxHeaders),
	parse:  parseHeaders,
	format: formatHeaders,
}

func parseHeaders(s string) ([]Header, error) {
	var out []Header
	seen := map[string]bool{}
	for i, line := range strings.Split(s, "\n") {
		line = strings.Trim(line, " ")
		if line == "" {
			continue
		}
		if len(out) == limits.MaxHeaders {
			return nil, fmt.Errorf("more than %d headers", limits.MaxHeaders)
		}
		n, v, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf(`line %d: want "Name value"`, i+1)
		}
		name, err := parseHeaderName(n)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		lower := limits.ASCIILower(n)
		if limits.IsFramingHeader(n) {
			return nil, fmt.Errorf("line %d: header %s is managed by the proxy", i+1, n)
		}
		if seen[lower] {
			return nil, fmt.Errorf("line %d: header %s set twice", i+1, n)
		}
		seen[lower] = true
		v = strings.TrimLeft(v, " ")
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		value, err := parseHeaderValue(v)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		out = append(out, Header{Name: name, Value: value})
	}
	if len(out) == 0 {
		return nil, errors.New("no header")
	}
	return out, nil
}

func formatHeaders(hs []Header) string {
	lines := make([]string, len(hs))
	for i, h := range hs {
		lines[i] = string(h.Name) + " " + string(h.Value)
	}
	return strings.Join(lines, "\n")
}

// rewriteTarget accepts a RewriteTarget.
var rewriteTarget = parser[RewriteTarget]{
	kind:   "path with $1 to $9 for the groups captured by the path's regular expression",
	parse:  parseRewriteTarget,
	format: func(t RewriteTarget) string { return string(t) },
}

func parseRewriteTarget(s string) (RewriteTarget, error) {
	t := RewriteTarget(s)
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			return "", errors.New("a backslash is not allowed; groups are written $1 to $9")
		}
	}
	if err := limits.CheckRewriteTarget(t.HAProxy()); err != nil {
		return "", errors.New(strings.ReplaceAll(err.Error(), `\1 to \9`, "$1 to $9"))
	}
	return t, nil
}

// byteSize accepts a number of bytes with an optional unit k, m or g (1024-based, as nginx reads
// sizes, in either case), at most limits.MaxBodySize.
var byteSize = parser[ByteSize]{
	kind:   "size in bytes, optionally followed by k, m or g (1024-based), at most 1g x 1024",
	parse:  parseByteSize,
	format: ByteSize.String,
}

func parseByteSize(s string) (ByteSize, error) {
	num, mult := s, int64(1)
	if n := len(s); n > 1 {
		switch s[n-1] {
		case 'k', 'K':
			num, mult = s[:n-1], 1<<10
		case 'm', 'M':
			num, mult = s[:n-1], 1<<20
		case 'g', 'G':
			num, mult = s[:n-1], 1<<30
		}
	}
	n, err := parseUint(num)
	if err != nil {
		return 0, errors.New("want a number of bytes, optionally followed by k, m or g")
	}
	if int64(n) > limits.MaxBodySize/mult {
		return 0, fmt.Errorf("more than the maximum of %s", ByteSize(limits.MaxBodySize))
	}
	return ByteSize(int64(n) * mult), nil
}

// headerNameValue accepts a HeaderName (limits.CheckHeaderName).
var headerNameValue = parser[HeaderName]{
	kind:   fmt.Sprintf("header name: [A-Za-z0-9_-], at most %d bytes", limits.MaxNameLen),
	parse:  parseHeaderName,
	format: func(h HeaderName) string { return string(h) },
}

// regexValue accepts a Regex (limits.CheckRegex).
var regexValue = parser[Regex]{
	kind: fmt.Sprintf("regular expression: RE2 of printable ASCII without space, quote, # or %%, at most %d bytes", limits.MaxRegexLen),
	parse: func(s string) (Regex, error) {
		if strings.IndexByte(s, '%') >= 0 {
			return "", errors.New("character '%' not allowed in a regular expression (write [%] as \\x25)")
		}
		return Regex(s), limits.CheckRegex(s)
	},
	format: func(r Regex) string { return string(r) },
}

// redirectURL accepts a RedirectURL (limits.CheckRedirectURL).
var redirectURL = parser[RedirectURL]{
	kind:   "URL: http(s)://host[:port][/path], without query or fragment",
	parse:  func(s string) (RedirectURL, error) { return RedirectURL(s), limits.CheckRedirectURL(s) },
	format: func(u RedirectURL) string { return string(u) },
}

// cookiePathValue accepts the Path of a cookie (limits.CheckCookiePath).
var cookiePathValue = parser[CookiePath]{
	kind:   "URL path without ';'",
	parse:  func(s string) (CookiePath, error) { return CookiePath(s), limits.CheckCookiePath(s) },
	format: func(p CookiePath) string { return string(p) },
}

// errorStatuses accepts a list of the statuses Portcullis has an error page for
// (limits.ErrorPageStatuses), sorted, without duplicates.
var errorStatuses = parser[[]int]{
	kind: "list of statuses among 400, 403, 404, 408, 500, 502, 503 and 504, separated by commas",
	parse: func(s string) ([]int, error) {
		var out []int
		for _, item := range splitList(s) {
			n, err := parseUint(item)
			if err != nil || !slices.Contains(limits.ErrorPageStatuses(), n) {
				return nil, fmt.Errorf("%q: want one of 400, 403, 404, 408, 500, 502, 503 and 504", Clip(item))
			}
			out = append(out, n)
		}
		if len(out) == 0 {
			return nil, errors.New("empty list")
		}
		slices.Sort(out)
		return slices.Compact(out), nil
	},
	format: func(v []int) string {
		parts := make([]string, len(v))
		for i, n := range v {
			parts[i] = strconv.Itoa(n)
		}
		return strings.Join(parts, ", ")
	},
}
