// Package limits is the one set of limits, character classes and value grammars that decides
// what may reach HAProxy's configuration.
//
// The annotation parsers (pkg/annotations) accept a value only when these checks accept its
// canonical form, and the renderer (pkg/haproxy) runs the same checks again on every value of the
// model before it writes a file. Both sides share this one grammar, so a value that the parsers
// accept always renders.
//
// A check takes the canonical form of a value (what a parser produces: a lower-case host, a
// port without leading zeros, a list written "a, b") and returns nil or an error. The error is a
// lower-case reason that never quotes the value: callers show the value themselves, clipped or
// quoted as they need.
//
// Every character class is ASCII only and excludes control characters, quotes, backslashes, '#',
// '%' and '$' (the crypt-hash class alone admits '$', see IsCryptChar), so that no value can end
// a line, start a comment, break out of quotes, expand an environment variable or become a
// log-format expression. Only IsQuotedChar contains a space, and its values are always written
// between double quotes.
//
// The package imports the standard library only.
package limits

import "time"

// HAProxy's configuration parser.
const (
	// MaxLineWords is the most words HAProxy reads on one configuration line (MAX_LINE_ARGS
	// in its source): a longer line is refused. Lists of patterns are therefore split over
	// several lines (see PatternsPerLine).
	MaxLineWords = 64
	// PatternsPerLine is how many patterns the renderer writes on one acl line: half of
	// MaxLineWords, which leaves room for the words around them ("acl", the name, the
	// criterion and its flags).
	PatternsPerLine = MaxLineWords / 2
)

// Lengths, in bytes.
const (
	// MaxNameLen bounds a name written as one bare word: a cookie name, a basic-auth user
	// name, a url_param name, a header name. HAProxy has no limit of its own; 64 bytes is
	// longer than any name in real use and keeps a list of MaxHeaderNames names close to
	// MaxHeaderValueLen.
	MaxNameLen = 64
	// MaxHeaderValueLen bounds a text written between double quotes: a header value, a
	// realm, the CORS lists sent as headers. HAProxy adds these headers to every message, and
	// all headers of a message share one buffer (tune.bufsize, 16 kB by default); 1 kB per
	// value keeps the added headers well inside it.
	MaxHeaderValueLen = 1024
	// MaxPathLen bounds a path given in an annotation (health-check path, rewrite prefix,
	// application root, redirect prefix). Such paths are prefixes, not user URLs; a rewrite
	// prefix also becomes a regular expression of up to three bytes per character, which
	// this keeps small.
	MaxPathLen = 1024
	// MaxURLLen bounds a URL (a redirect target) and a route path from an Ingress: 2 kB is
	// the longest URL that browsers, proxies and servers reliably handle.
	MaxURLLen = 2048
	// MaxCipherListLen bounds an OpenSSL cipher list. Every TLS 1.2 cipher that OpenSSL 3
	// knows, spelled out, takes about 1.6 kB.
	MaxCipherListLen = 2048
	// MaxHostLen and MaxLabelLen are the DNS limits of RFC 1035: a name of at most 253
	// bytes (written without the final dot), made of labels of at most 63.
	MaxHostLen  = 253
	MaxLabelLen = 63
	// MinCryptHashLen and MaxCryptHashLen bound a crypt(3) password hash: the shortest is
	// traditional DES (13 bytes); SHA-512 crypt with "rounds=" and yescrypt stay well under
	// 256.
	MinCryptHashLen = 13
	MaxCryptHashLen = 256
	// MaxMethodLen bounds an HTTP method name. Methods are tokens of any length (RFC 9110);
	// the longest registered one has 17 bytes.
	MaxMethodLen = 32
	// MaxOriginLen is the longest origin: "https://", a host of MaxHostLen, ":65535".
	MaxOriginLen = len("https://") + MaxHostLen + len(":65535")
	// MaxBackendNameLen bounds a backend name. HAProxy has no limit on proxy names; the
	// longest name translation composes is 223 bytes (namespace 63, "_", Service 63, "_",
	// port name 15, "_canary_", canary Service 63, "_" and an 8-digit policy hash), which
	// this leaves room for; the userlist of a backend adds "_users".
	MaxBackendNameLen = 255
)

// Item counts of lists.
const (
	// MaxNetworks bounds an allow or deny list. HAProxy matches address patterns through a
	// tree, so the cost per request stays small, but the list is written into haproxy.cfg,
	// PatternsPerLine per line.
	MaxNetworks = 1000
	// MaxOrigins bounds a CORS origin list: it is matched per request and written as one acl
	// line (PatternsPerLine).
	MaxOrigins = PatternsPerLine
	// MaxMethods bounds a CORS method list: browsers let scripts send fewer methods than
	// that.
	MaxMethods = 16
	// MaxHeaderNames bounds a CORS header list; the list must also fit MaxHeaderValueLen.
	MaxHeaderNames = 64
	// MaxHeaders bounds the headers set on requests or on responses: each is one rule,
	// evaluated for every message.
	MaxHeaders = 32
)

// Numbers.
const (
	// MaxTimer is the longest timeout or timer HAProxy accepts: it keeps them as a signed
	// 32-bit number of milliseconds, 2^31-1 ms (about 24.8 days), and refuses longer ones.
	MaxTimer = (1<<31 - 1) * time.Millisecond
	// TimerResolution is the unit of HAProxy's timers: it counts whole milliseconds, so
	// every duration written to the configuration is a whole number of them.
	TimerResolution = time.Millisecond
	// MaxThreads is the most threads HAProxy 2.6 runs (MAX_THREADS: one bit per thread in
	// a 64-bit mask); "nbthread" above it is refused.
	MaxThreads = 64
	// MaxConnections bounds maxconn. HAProxy takes any positive int, but a process needs
	// two file descriptors per connection and Linux allows a process about a million
	// (fs.nr_open) unless raised; ten million is beyond any real host.
	MaxConnections = 10_000_000
	// FileReserve is the file descriptors HAProxy needs besides two per connection: listeners,
	// the sockets of health checks, the master CLI, logs, maps and certificates being loaded.
	FileReserve = 1024
	// MaxRateLimitRequests bounds the requests per period of a rate limit: a larger limit
	// per client address would not limit anything.
	MaxRateLimitRequests = 1_000_000
	// MaxRandomDraws bounds the draws of "balance random(<draws>)": HAProxy defaults to 2,
	// and more than a few draws only approach leastconn.
	MaxRandomDraws = 100
	// MaxURIHashLen bounds "balance uri len N" and "depth N". HAProxy takes any positive
	// number; 4096 is twice MaxURLLen, so a larger one would change nothing on any URL that
	// a browser sends.
	MaxURIHashLen = 4096
)

// What one object may make the controller and HAProxy spend. A tenant that can write Ingresses,
// Services or Secrets in one namespace must not be able to make translation, the configuration or
// HAProxy's memory grow without bound; what exceeds these limits is refused with a problem on the
// object, and the rest of the object is served.
const (
	// MaxAnnotationValueLen bounds any annotation or ConfigMap value before a parser sees it;
	// each parser has a smaller bound of its own. The largest legitimate values are allow and
	// deny lists of MaxNetworks networks (about 45 kB for IPv6); a larger value costs no more
	// than this length check. (Kubernetes bounds all the annotations of an object together to
	// 256 kB.)
	MaxAnnotationValueLen = 64 << 10
	// MaxHostsPerIngress bounds the distinct hosts of one Ingress, in its rules and spec.tls
	// together: each is map entries and SNI names. Hosts beyond it are refused, the first ones
	// served.
	MaxHostsPerIngress = 1000
	// MaxPathsPerIngress bounds the paths of one Ingress, over all its rules: each is a route,
	// and may be a backend section of its own. Paths beyond it are refused, the first ones
	// served.
	MaxPathsPerIngress = 1000
	// MaxUsersPerSecret bounds the users of one basic-auth Secret. They are written into
	// haproxy.cfg once per section that uses them; ten thousand is beyond any list managed by
	// hand (larger user bases belong in an external authentication service). Users beyond it
	// are ignored, with one problem for the Secret.
	MaxUsersPerSecret = 10_000
	// MaxServerSlots bounds the server-slot step (server-slots) in the controller's ConfigMap,
	// the operator's default for every backend. Each slot is a server line that HAProxy
	// allocates in every worker, about 4 kB each (see DefaultSlotBudget).
	MaxServerSlots = 1000
	// MaxServerSlotsAnnotation bounds the server-slot step that an Ingress or a Service may ask
	// for its backends: larger values are clamped to it, with a problem on the object. 64 slots
	// absorb a scale-up of 32 pods without a reload; one object with MaxPathsPerIngress paths
	// asks for at most 64,000 slots, which DefaultSlotBudget bounds further.
	MaxServerSlotsAnnotation = 64
	// DefaultSlotBudget is the default of the controller's total budget of server slots
	// (--server-slot-budget) beyond what the endpoints need. Each backend section has room for
	// its endpoints in steps of at most DefaultSlotStep at any rate; a larger step (server-slots)
	// is granted oldest object first while the configuration's slots stay within the budget, and
	// clamped to DefaultSlotStep after that, with a problem on the object that asked. HAProxy
	// 2.6 checks a configuration of 50,000 server lines in about 0.25 s and 220 MB (100,000:
	// 0.5 s and 425 MB; 6,400: 0.04 s and 41 MB), and each worker holds them.
	DefaultSlotBudget = 50_000
	// DefaultSlotStep is the server-slot step of a backend that sets none, and the step every
	// backend gets when the slot budget is spent.
	DefaultSlotStep = 8
	// DefaultSpareBackends is the default number of spare backend sections
	// (--spare-backends): new Services take one at runtime instead of a reload, and a reload
	// refills the pool once fewer than a quarter are left. Each spare has twice the slot step's
	// server slots (16 by default), which count against the slot budget.
	DefaultSpareBackends = 16
	// MaxSpareBackends bounds --spare-backends.
	MaxSpareBackends = 1000
)

// FilesForConnections is the number of file descriptors a maxconn of n needs: two per
// connection (client and server side) and FileReserve. 0 for n <= 0 (HAProxy then sizes maxconn
// from the limit itself).
func FilesForConnections(n int) uint64 {
	if n <= 0 {
		return 0
	}
	return 2*uint64(n) + FileReserve
}
