package annotations

import (
	"fmt"
	"slices"
	"time"

	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// The registry: every setting, defined once. Each key string appears here and nowhere else.

const (
	scopeAll     = ScopeConfigMap | ScopeIngress | ScopeService
	scopeRoute   = ScopeConfigMap | ScopeIngress
	scopeIngress = ScopeIngress
	scopeGlobal  = ScopeConfigMap
)

// groups orders the sections of the reference documentation.
var groups = []string{
	"Load balancing and health checks", "Timeouts", "Routing and rewriting", "Access control",
	"Rate limiting", "Authentication", "CORS", "Headers", "TLS and HTTPS", "Canary", "Process and logging",
}

func groupRank(g string) int { return slices.Index(groups, g) }

const day = 24 * time.Hour

// Backend settings.
var (
	loadBalance = define(spec{
		name: "load-balance", peer: true, scopes: scopeAll, def: "roundrobin", example: "leastconn",
		group: "Load balancing and health checks",
		doc: "The algorithm that picks a server of the backend for each request: `roundrobin` (weighted turns), " +
			"`static-rr`, `leastconn` (fewest connections, for long sessions), `first`, `source` (hash of the client " +
			"address), `random` or `random(<draws>)`, `uri` with the options `whole`, `path-only`, `len N` and " +
			"`depth N`, `url_param <name>`, or `hdr(<name>)` with the option `use_domain_only`. Other HAProxy " +
			"algorithms and options are refused.",
	}, balance)

	check = define(spec{
		name: "check", peer: true, scopes: scopeAll, def: "false", example: "true",
		group: "Load balancing and health checks",
		doc: "Health-check the servers of the backend and send no traffic to a server that fails. The check is a " +
			"TCP connection unless `check-http` is set. Off by default: Kubernetes readiness already decides which " +
			"endpoints receive traffic, and an endpoint added at runtime is used at once.",
	}, boolean)

	checkInterval = define(spec{
		name: "check-interval", peer: true, scopes: scopeAll, def: "2s", example: "10s",
		group: "Load balancing and health checks",
		doc:   "Time between two health checks of a server (HAProxy's `inter`).",
	}, timerIn(100*time.Millisecond, time.Hour))

	checkHTTP = define(spec{
		name: "check-http", peer: true, scopes: scopeAll, example: "/healthz",
		group: "Load balancing and health checks",
		doc: "Path of an HTTP health check (`GET <path>`); a server passes with a 2xx or 3xx answer. Unset: a TCP " +
			"connect check. haproxytech's form with a method and an HTTP version is not accepted, only the path.",
	}, urlPath)

	cookiePersistence = define(spec{
		name: "cookie-persistence", peer: true, scopes: scopeAll, example: "SERVERID",
		group: "Load balancing and health checks",
		doc: "Name of a cookie that HAProxy inserts to pin each client to the server that answered its first " +
			"request (sticky sessions). Unset: no persistence.",
	}, cookieName)

	cookieMaxAge = define(spec{
		name: "cookie-max-age", scopes: scopeAll, example: "2d",
		group: "Load balancing and health checks",
		doc: "With `cookie-persistence`: how long browsers keep the cookie (its `Max-Age`, in whole seconds, at " +
			"most 400 days). Unset: the cookie lasts for the browser session.",
	}, durationIn(time.Second, limits.MaxCookieMaxAge))

	cookieSameSite = define(spec{
		name: "cookie-samesite", scopes: scopeAll, example: "Lax",
		group: "Load balancing and health checks",
		doc:   "With `cookie-persistence`: the cookie's `SameSite` attribute, `None`, `Lax` or `Strict`. Unset: none sent.",
	}, oneOf("None", "Lax", "Strict"))

	cookiePath = define(spec{
		name: "cookie-path", scopes: scopeAll, example: "/app",
		group: "Load balancing and health checks",
		doc:   "With `cookie-persistence`: the cookie's `Path`, a URL path without `;`. Unset: `/`.",
	}, cookiePathValue)

	sendProxyProtocol = define(spec{
		name: "send-proxy-protocol", peer: true, scopes: scopeAll, def: "none", example: "proxy-v2",
		group: "Load balancing and health checks",
		doc: "Speak the PROXY protocol to the servers of the backend, so they see the client address: `proxy` " +
			"or `proxy-v1` (text), `proxy-v2` (binary), `proxy-v2-ssl` and `proxy-v2-ssl-cn` (with TLS " +
			"information). The servers must expect it.",
	}, proxyProtocol)

	serverSlots = define(spec{
		name: "server-slots", peer: true, aliases: []string{"scale-server-slots", "servers-increment"},
		scopes: scopeAll, example: "16",
		group: "Load balancing and health checks",
		doc: fmt.Sprintf("Step in which server slots are provisioned for a backend: the backend has room for the next "+
			"multiple of this number of endpoints, so pods can come and go through the runtime API without a "+
			"reload. Unset: the controller's built-in step (%[1]d). In the ConfigMap it is the default of every "+
			"backend, up to %[2]d. An Ingress or a Service may ask for at most %[3]d: a larger value is clamped to "+
			"%[3]d, with a Warning Event `ServerSlotsClamped`. Steps above %[1]d also count against the controller's "+
			"slot budget (`--server-slot-budget`): once it is spent, the backends of newer objects get step %[1]d, "+
			"with the same Event on the object that asked.", limits.DefaultSlotStep, limits.MaxServerSlots, limits.MaxServerSlotsAnnotation),
	}, intIn(1, limits.MaxServerSlots))

	forwardedFor = define(spec{
		name: "forwarded-for", peer: true, scopes: scopeAll, def: "true", example: "false",
		group: "Load balancing and health checks",
		doc:   "Add the client address to the `X-Forwarded-For` request header (HAProxy's `option forwardfor`).",
	}, boolean)

	clientCA = define(spec{
		name: "client-ca", peer: true, scopes: scopeIngress, example: "clients-ca",
		group: "TLS and HTTPS",
		doc: "Require TLS clients of the Ingress's `spec.tls` hosts to present a certificate signed by a CA of " +
			"this Secret's `ca.crt` (in the Ingress's namespace). Clients without one fail the handshake, unless " +
			"`client-crt-optional` is set. The setting applies to this Ingress's hosts only, even when another " +
			"Ingress uses the same certificate. Every path of the Ingress also checks each request: its " +
			"connection's SNI name must be the request's host (else 421; no SNI, or plain HTTP, is refused too), " +
			"that name's TLS settings must be this Ingress's (else 403, with a `ClientAuthConflict` Event), and the " +
			"certificate must have verified (else 403). A missing or invalid Secret makes the paths answer 503. " +
			"See [routing.md](routing.md#client-certificates-client-ca-client-crt-optional).",
	}, secretName)

	clientCrtOptional = define(spec{
		name: "client-crt-optional", peer: true, scopes: scopeIngress, def: "false", example: "true",
		group: "TLS and HTTPS",
		doc: "With `client-ca`, let clients without a certificate through; a certificate that is presented must " +
			"still be valid, in the handshake and on every request. It applies to this Ingress's hosts only: " +
			"another Ingress using the same certificate keeps its own setting.",
	}, boolean)

	serverSSL = define(spec{
		name: "server-ssl", peer: true, scopes: scopeAll, def: "false", example: "true",
		group: "TLS and HTTPS",
		doc: "Connect to the servers of the backend over TLS. Without `server-ca` the server certificate is not " +
			"verified. A Service port's `appProtocol` `kubernetes.io/wss` means `true`, `kubernetes.io/h2c` and " +
			"`kubernetes.io/ws` mean `false`; it wins over the Ingress and the ConfigMap, not over the Service's " +
			"annotation.",
	}, boolean)

	serverCA = define(spec{
		name: "server-ca", peer: true, scopes: scopeAll, example: "backend-ca",
		group: "TLS and HTTPS",
		doc: "Name of a Secret in the Ingress's namespace whose `ca.crt` holds the CA certificates that the " +
			"servers' certificates must chain to; with it, `server-ssl` verifies the servers.",
	}, secretName)

	serverCrt = define(spec{
		name: "server-crt", peer: true, scopes: scopeAll, example: "client-tls",
		group: "TLS and HTTPS",
		doc: "Name of a `kubernetes.io/tls` Secret in the Ingress's namespace whose certificate and key HAProxy " +
			"presents to the servers as a TLS client certificate.",
	}, secretName)

	serverProto = define(spec{
		name: "server-proto", peer: true, scopes: scopeAll, def: "h1", example: "h2",
		group: "TLS and HTTPS",
		doc: "HTTP version spoken to the servers: `h1`, or `h2` (over TLS negotiated with ALPN when `server-ssl` " +
			"is on, else cleartext HTTP/2). A Service port's `appProtocol` `kubernetes.io/h2c` means `h2`, " +
			"`kubernetes.io/ws` and `kubernetes.io/wss` mean `h1`; it wins over the Ingress and the ConfigMap, " +
			"not over the Service's annotation.",
	}, oneOf("h1", "h2"))
)

// Timeouts. Server, connect, queue and tunnel timeouts apply per backend and, from the
// ConfigMap, as defaults; the others are ConfigMap only.
var (
	timeoutServer = define(spec{
		name: "timeout-server", peer: true, scopes: scopeAll, def: "50s", example: "2m",
		group: "Timeouts",
		doc:   "Longest time a server may stay silent while HAProxy waits for (more of) its response.",
	}, timerIn(time.Millisecond, day))

	timeoutConnect = define(spec{
		name: "timeout-connect", peer: true, scopes: scopeAll, def: "5s", example: "2s",
		group: "Timeouts",
		doc:   "Longest time to wait for a connection to a server to be established.",
	}, timerIn(time.Millisecond, day))

	timeoutQueue = define(spec{
		name: "timeout-queue", peer: true, scopes: scopeAll, def: "5s", example: "30s",
		group: "Timeouts",
		doc:   "Longest time a request may wait in the queue for a free server before it is answered with 503.",
	}, timerIn(time.Millisecond, day))

	timeoutTunnel = define(spec{
		name: "timeout-tunnel", peer: true, scopes: scopeAll, def: "1h", example: "12h",
		group: "Timeouts",
		doc: "Longest idle time of a tunnel (WebSocket, CONNECT) in both directions; it replaces the client and " +
			"server timeouts once the tunnel is open.",
	}, timerIn(time.Millisecond, 7*day))

	timeoutClient = define(spec{
		name: "timeout-client", peer: true, scopes: scopeGlobal, def: "50s", example: "1m",
		group: "Timeouts",
		doc:   "Longest time a client may stay silent while HAProxy expects it to send data.",
	}, timerIn(time.Millisecond, day))

	timeoutHTTPRequest = define(spec{
		name: "timeout-http-request", peer: true, scopes: scopeGlobal, def: "5s", example: "10s",
		group: "Timeouts",
		doc:   "Longest time a client may take to send a complete request head (protection against slow clients).",
	}, timerIn(time.Millisecond, day))

	timeoutHTTPKeepAlive = define(spec{
		name: "timeout-http-keep-alive", peer: true, scopes: scopeGlobal, def: "1m", example: "10s",
		group: "Timeouts",
		doc:   "Longest idle time of a kept-alive client connection between two requests.",
	}, timerIn(time.Millisecond, day))

	hardStopAfter = define(spec{
		name: "hard-stop-after", peer: true, scopes: scopeGlobal, def: "30m", example: "2h",
		group: "Timeouts",
		doc: "After a reload, how long the old HAProxy process may keep serving its open connections before " +
			"it is stopped. Long-lived connections (WebSockets) are cut when it elapses.",
	}, timerIn(time.Second, 7*day))
)

// Routing settings of an Ingress's paths.
var (
	pathRewrite = define(spec{
		name: "path-rewrite", scopes: scopeIngress, example: "/old /new",
		group: "Routing and rewriting",
		doc: "Replace a path prefix before the request reaches the backend: `\"<from> <to>\"`, two paths " +
			"separated by a space. The prefix matches element-wise (`/old` matches `/old` and `/old/x`, not " +
			"`/older`), so `/old /new` turns `/old/x?y` into `/new/x?y`, and `/api /` strips `/api`. Regular " +
			"expressions are not accepted; haproxytech's `path-rewrite`, which takes one, is therefore not an alias.",
	}, rewrite)

	requestRedirect = define(spec{
		name: "request-redirect", scopes: scopeIngress, example: "https://www.example.com",
		group: "Routing and rewriting",
		doc: "Redirect every request of the Ingress to another origin, keeping its path and query: the value is " +
			"`http(s)://host[:port][/prefix]`, and `https://new.example.com/v2` sends `/a?b` to " +
			"`https://new.example.com/v2/a?b`. The status is `request-redirect-code`. haproxytech's form " +
			"(`host[:port]` only) is not an alias.",
	}, redirectTarget)

	requestRedirectCode = define(spec{
		name: "request-redirect-code", peer: true, scopes: scopeRoute, def: "302", example: "301",
		group: "Routing and rewriting",
		doc:   "HTTP status of the redirects made by `request-redirect`.",
	}, statusIn(limits.RedirectStatuses()...))

	pathRegex = define(spec{
		name: "path-regex", scopes: scopeIngress, def: "false", example: "true",
		group: "Routing and rewriting",
		doc: "Read the Ingress's paths as regular expressions, matched case-insensitively from the start of the " +
			"request path, as ingress-nginx's `use-regex`: `/api/v[0-9]+` matches `/api/v2/users` and `/API/V2`, " +
			"whatever the `pathType`. The syntax is RE2 (which HAProxy's PCRE reads alike), without spaces, quotes " +
			"or `#`; a path that is not such an expression is refused with an Event. Such paths are rules tried " +
			"in turn for their host, after its exact paths, and changing them takes a reload. `rewrite-target` " +
			"turns this on too.",
	}, boolean)

	rewriteTargetPath = define(spec{
		name: "rewrite-target", scopes: scopeIngress, example: "/$2",
		group: "Routing and rewriting",
		doc: "Replace the whole path of each request by this one before it reaches the backend, `$1` to `$9` " +
			"standing for the groups that the path's regular expression captured, as ingress-nginx's " +
			"`rewrite-target`. It makes the Ingress's paths regular expressions (`path-regex`): with the path " +
			"`/something(/|$)(.*)`, `/$2` turns `/something/new?x=1` into `/new?x=1` (the query string is kept), " +
			"and `/` without groups sends every request to `/`.",
	}, rewriteTarget)

	redirectTo = define(spec{
		name: "redirect-to", scopes: scopeIngress, example: "https://www.example.com/new",
		group: "Routing and rewriting",
		doc: "Answer every request of the Ingress's paths with a redirect to exactly this URL, " +
			"`http(s)://host[:port][/path]`, without the request's path or query (unlike `request-redirect`), as " +
			"ingress-nginx's `permanent-redirect` and `temporal-redirect`. The status is `redirect-to-code`.",
	}, redirectURL)

	redirectToCode = define(spec{
		name: "redirect-to-code", scopes: scopeRoute, def: "301", example: "302",
		group: "Routing and rewriting",
		doc:   "HTTP status of the redirects made by `redirect-to`.",
	}, statusIn(limits.RedirectStatuses()...))

	wwwRedirect = define(spec{
		name: "www-redirect", scopes: scopeIngress, def: "false", example: "true",
		group: "Routing and rewriting",
		doc: "Redirect requests for the other form of each of the Ingress's hosts, with or without `www.`, to the " +
			"host itself, keeping the scheme, path and query, as ingress-nginx's `from-to-www-redirect`: with the " +
			"host `www.example.com`, `http://example.com/a` goes to `http://www.example.com/a`. The status is " +
			"`ssl-redirect-code`. A host that an Ingress serves itself is not redirected.",
	}, boolean)

	interceptErrors = define(spec{
		name: "intercept-errors", scopes: scopeRoute, example: "404, 503",
		group: "Routing and rewriting",
		doc: "Statuses of the backend's responses that are replaced by Portcullis's error page for the status (see " +
			"`error-pages`), so that an application's own error pages are not shown: a list of 400, 403, 404, 408, " +
			"500, 502, 503 and 504, separated by commas.",
	}, errorStatuses)

	appRoot = define(spec{
		name: "app-root", scopes: scopeIngress, example: "/app",
		group: "Routing and rewriting",
		doc:   "Redirect requests for exactly `/` to this path (status 302), for applications that do not live at the root.",
	}, urlPath)
)

// Access control.
var (
	acceptProxy = define(spec{
		name: "proxy-protocol", peer: true, scopes: scopeGlobal, example: "10.0.0.0/8",
		group: "Access control",
		doc: "Networks of the load balancers in front of HAProxy that send the PROXY protocol (v1 or v2): their " +
			"connections to the HTTP, HTTPS, TCP-service and health-check ports must start with a PROXY header, whose client " +
			"address then counts for allow and deny lists, rate limits, `source` balancing, logs and " +
			"X-Forwarded-For. Connections from other networks are served as they are, without a header: so a " +
			"client that reaches the ports directly is still served, but cannot pose as another with a header. " +
			"Same format as `allow-list`.",
	}, cidrList)

	allowList = define(spec{
		name: "allow-list", peer: true, aliases: []string{"whitelist"}, scopes: scopeRoute,
		example: "10.0.0.0/8, 192.168.1.10",
		group:   "Access control",
		doc: "Only clients whose address is in one of these networks may use the Ingress's paths; others get " +
			"403. IPv4 and IPv6 addresses and CIDR prefixes, separated by commas; host bits are cleared. " +
			"haproxytech's pattern files (`patterns/...`) are not accepted.",
	}, cidrList)

	denyList = define(spec{
		name: "deny-list", peer: true, aliases: []string{"blacklist"}, scopes: scopeRoute,
		example: "203.0.113.0/24",
		group:   "Access control",
		doc:     "Clients whose address is in one of these networks get 403. Same format as `allow-list`, which is checked first.",
	}, cidrList)
)

// Rate limiting.
var (
	bodySizeLimit = define(spec{
		name: "body-size-limit", scopes: scopeRoute, example: "8m",
		group: "Access control",
		doc: "Largest request body the Ingress's paths accept, in bytes or with a unit `k`, `m` or `g` (1024-based, " +
			"as ingress-nginx's `proxy-body-size`); a request announcing a larger `Content-Length` is answered " +
			"413. `0` or unset: no limit. A chunked body, which announces no length, is not counted.",
	}, byteSize)

	rateLimitRequests = define(spec{
		name: "rate-limit-requests", peer: true, scopes: scopeRoute, example: "100",
		group: "Rate limiting",
		doc: "Number of requests a client address may send per `rate-limit-period` to a backend: the counter " +
			"is kept per HAProxy backend section, which every route to the same Service port with the same settings " +
			"shares (paths of other Ingresses too), while the Ingress's paths to other Services count apart. " +
			"Further requests are answered with `rate-limit-status-code`. Unset: no limit.",
	}, intIn(1, limits.MaxRateLimitRequests))

	rateLimitPeriod = define(spec{
		name: "rate-limit-period", peer: true, scopes: scopeRoute, def: "1s", example: "1m",
		group: "Rate limiting",
		doc:   "Window over which `rate-limit-requests` is counted.",
	}, timerIn(time.Second, day))

	rateLimitConnections = define(spec{
		name: "rate-limit-connections", scopes: scopeRoute, example: "10",
		group: "Rate limiting",
		doc: "Number of requests a client address may have in progress at once on the Ingress's paths, as " +
			"ingress-nginx's `limit-connections` counts connections with a request in progress; further requests " +
			"are answered 503. Counted per backend section, like `rate-limit-requests`. Unset: no limit.",
	}, intIn(1, limits.MaxConnections))

	rateLimitStatusCode = define(spec{
		name: "rate-limit-status-code", peer: true, scopes: scopeRoute, def: "429", example: "503",
		group: "Rate limiting",
		doc:   "HTTP status answered to clients over the rate limit. haproxytech's default is 403.",
	}, statusIn(403, 429, 503))
)

// Authentication.
var (
	authType = define(spec{
		name: "auth-type", peer: true, scopes: scopeRoute, def: "basic-auth", example: "basic-auth",
		group: "Authentication",
		doc: "The authentication scheme. Only `basic-auth` exists; it is switched on by `auth-secret`. Accepted " +
			"for compatibility with haproxytech, which requires it.",
	}, oneOf("basic-auth"))

	authSecret = define(spec{
		name: "auth-secret", peer: true, scopes: scopeIngress, example: "web-users",
		group: "Authentication",
		doc: "Require HTTP basic authentication on the Ingress's paths, with the users of this Secret in the " +
			"Ingress's namespace: either the key `auth` holding htpasswd lines `user:hash` (as ingress-nginx), " +
			"or one key per user whose value is the hash (as haproxytech). Hashes are crypt(3), such as SHA-512 " +
			"crypt (`openssl passwd -6`); plain-text passwords are refused. Clients without valid credentials get " +
			"401; a missing or unusable Secret refuses everyone.",
	}, secretName)

	authRealm = define(spec{
		name: "auth-realm", peer: true, scopes: scopeRoute, def: "Protected Content", example: "Staff only",
		group: "Authentication",
		doc:   "Realm shown by browsers when they ask for basic-auth credentials.",
	}, headerValue)
)

// CORS.
var (
	corsEnable = define(spec{
		name: "cors-enable", peer: true, scopes: scopeRoute, def: "false", example: "true",
		group: "CORS",
		doc: "Answer CORS preflight requests (`OPTIONS` with `Access-Control-Request-Method`) with 204 and " +
			"add the `Access-Control-Allow-*` headers from the other `cors-*` settings to responses.",
	}, boolean)

	corsAllowOrigin = define(spec{
		name: "cors-allow-origin", peer: true, scopes: scopeRoute, def: "*",
		example: "https://example.com, https://app.example.com",
		group:   "CORS",
		doc: "Origins allowed to call the Ingress's paths: `*` or a list of `scheme://host[:port]`. With a list, " +
			"a request's `Origin` is echoed in `Access-Control-Allow-Origin` when it is in the list. " +
			"haproxytech's regular expressions are not accepted.",
	}, origins)

	corsAllowMethods = define(spec{
		name: "cors-allow-methods", peer: true, scopes: scopeRoute, def: "*", example: "GET, POST, PUT",
		group: "CORS",
		doc:   "Value of `Access-Control-Allow-Methods`: `*` or a list of upper-case methods.",
	}, methods)

	corsAllowHeaders = define(spec{
		name: "cors-allow-headers", peer: true, scopes: scopeRoute, def: "*", example: "Authorization, Content-Type",
		group: "CORS",
		doc:   "Value of `Access-Control-Allow-Headers`: `*` or a list of header names.",
	}, headerNames)

	corsAllowCredentials = define(spec{
		name: "cors-allow-credentials", peer: true, scopes: scopeRoute, def: "false", example: "true",
		group: "CORS",
		doc:   "Send `Access-Control-Allow-Credentials: true`. Browsers ignore it together with the origin `*`.",
	}, boolean)

	corsMaxAge = define(spec{
		name: "cors-max-age", peer: true, scopes: scopeRoute, def: "5s", example: "1h",
		group: "CORS",
		doc:   "Value of `Access-Control-Max-Age`, in whole seconds (rounded down): how long browsers may cache a preflight answer.",
	}, durationIn(0, day))
)

// Headers.
var (
	requestSetHeader = define(spec{
		name: "request-set-header", peer: true, scopes: scopeRoute, example: "X-Env production",
		group: "Headers",
		doc: "Headers set on requests before they reach the backend, one `Name value` per line (a YAML block " +
			"`|` for several). The value is literal text: it may be enclosed in double quotes, and may contain " +
			"letters, digits, spaces and `` !*+,-./:;<=>?@^_`|~()& ``, but not `%`, `$`, quotes, backslashes or `#`, so " +
			"HAProxy sample fetches and variables cannot be used. Framing headers (`Content-Length`, " +
			"`Transfer-Encoding`, `Connection`, ...) are refused.",
	}, headers)

	responseSetHeader = define(spec{
		name: "response-set-header", peer: true, scopes: scopeRoute, example: "Cache-Control no-store",
		group: "Headers",
		doc:   "Headers set on responses before they reach the client; same format and limits as `request-set-header`.",
	}, headers)
)

// TLS and HTTPS.
var (
	sslRedirect = define(spec{
		name: "ssl-redirect", peer: true, scopes: scopeRoute, def: "true", example: "false",
		group: "TLS and HTTPS",
		doc: "Redirect plain-HTTP requests for the hosts of an Ingress's `spec.tls` to HTTPS, with " +
			"`ssl-redirect-code` and `ssl-redirect-port`. Hosts without TLS are never redirected. In the ConfigMap " +
			"it is the default for all Ingresses.",
	}, boolean)

	forceSSLRedirect = define(spec{
		name: "force-ssl-redirect", scopes: scopeRoute, def: "false", example: "true",
		group: "TLS and HTTPS",
		doc: "Redirect plain-HTTP requests of the Ingress's paths to HTTPS, with `ssl-redirect-code`, whether the " +
			"Ingress has `spec.tls` or not: for TLS ended by a load balancer in front of HAProxy. A request that " +
			"arrives with `X-Forwarded-Proto: https` (as that load balancer sends it) is not redirected. The " +
			"Location keeps the request's host and URI.",
	}, boolean)

	sslRedirectCode = define(spec{
		name: "ssl-redirect-code", peer: true, scopes: scopeRoute, def: "302", example: "301",
		group: "TLS and HTTPS",
		doc:   "HTTP status of the HTTPS redirect.",
	}, statusIn(limits.RedirectStatuses()...))

	sslRedirectPort = define(spec{
		name: "ssl-redirect-port", peer: true, scopes: scopeRoute, def: "443", example: "8443",
		group: "TLS and HTTPS",
		doc: "HTTPS port the redirect points clients at, as they reach it (which may differ from the port " +
			"HAProxy binds behind a load balancer).",
	}, intIn(1, 65535))

	sslMinVer = define(spec{
		name: "ssl-min-ver", scopes: scopeGlobal, def: "TLSv1.2", example: "TLSv1.3",
		group: "TLS and HTTPS",
		doc:   "Oldest TLS version accepted from clients.",
	}, oneOf(TLSv12, TLSv13))

	sslCiphers = define(spec{
		name: "ssl-ciphers", scopes: scopeGlobal,
		def:     "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305",
		example: "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384",
		group:   "TLS and HTTPS",
		doc: "OpenSSL cipher list offered to clients for TLS 1.2 (HAProxy's `ssl-default-bind-ciphers`). The " +
			"default is Mozilla's intermediate list.",
	}, ciphers)

	sslCipherSuites = define(spec{
		name: "ssl-ciphersuites", scopes: scopeGlobal,
		def:     "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
		example: "TLS_AES_256_GCM_SHA384",
		group:   "TLS and HTTPS",
		doc: "TLS 1.3 cipher suites offered to clients (HAProxy's `ssl-default-bind-ciphersuites`). Only the five " +
			"suites that TLS 1.3 defines exist: any other name is refused, because OpenSSL, and with it HAProxy, would " +
			"refuse the whole configuration.",
	}, cipherSuites)

	hsts = define(spec{
		name: "hsts", scopes: scopeGlobal, def: "false", example: "true",
		group: "TLS and HTTPS",
		doc:   "Add `Strict-Transport-Security` to HTTPS responses, telling browsers to use HTTPS only for the host.",
	}, boolean)

	sslPassthrough = define(spec{
		name: "ssl-passthrough", peer: true, scopes: scopeIngress, def: "false", example: "true",
		group: "TLS and HTTPS",
		doc: "Send the TLS connections of the Ingress's hosts, chosen by their SNI, to the backend of each host's " +
			"first path without terminating them: the backend presents its own certificate. It shares the HTTPS " +
			"port with terminated hosts. Paths, `spec.tls` and the settings of HTTP routes do not apply to these " +
			"hosts, and their plain-HTTP requests are not served.",
	}, boolean)

	hstsMaxAge = define(spec{
		name: "hsts-max-age", scopes: scopeGlobal, def: "365d", example: "730d",
		group: "TLS and HTTPS",
		doc: "`max-age` of the `Strict-Transport-Security` header, rounded down to whole seconds. At least `1s`: " +
			"`max-age=0`, which tells browsers to forget the policy, cannot be sent.",
	}, durationIn(time.Second, 730*day))
)

// Canary.
var (
	canaryService = define(spec{
		name: "canary-service", scopes: scopeIngress, example: "web-canary:http",
		group: "Canary",
		doc: "A second Service, in the Ingress's namespace, that receives `canary-weight` percent of the " +
			"requests of every path of the Ingress: `name`, `name:port-number` or `name:port-name`; without a " +
			"port, the port of the path's own backend is used.",
	}, serviceRef)

	canaryWeight = define(spec{
		name: "canary-weight", scopes: scopeIngress, def: "0", example: "10",
		group: "Canary",
		doc: "Percentage of requests, 0 to 100, sent to `canary-service`; the rest go to the path's own backend. " +
			"On an Ingress with `canary`, the percentage of the requests of the other Ingress's route sent to this " +
			"Ingress's backend.",
	}, intIn(0, 100))

	canary = define(spec{
		name: "canary", scopes: scopeIngress, def: "false", example: "true",
		group: "Canary",
		doc: "Make the Ingress a canary, as ingress-nginx's `canary`: its paths claim no route of their own. For " +
			"each of its paths, the route that another Ingress serves with the same host, path and path type " +
			"sends to this path's Service the requests that `canary-by-header` or `canary-by-cookie` select, then " +
			"`canary-weight` percent of the others. The route keeps the settings of the Ingress that serves it. A " +
			"path whose route no other Ingress serves is ignored, with a Warning Event `CanaryWithoutRoute`.",
	}, boolean)

	canaryByHeader = define(spec{
		name: "canary-by-header", scopes: scopeIngress, example: "X-Canary",
		group: "Canary",
		doc: "With `canary`: a request header that chooses the canary. Without `canary-by-header-value` or " +
			"`-pattern`, the value `always` sends the request to the canary and `never` to the main backend; with " +
			"another value, or without the header, `canary-by-cookie` and then `canary-weight` decide.",
	}, headerNameValue)

	canaryByHeaderValue = define(spec{
		name: "canary-by-header-value", scopes: scopeIngress, example: "beta",
		group: "Canary",
		doc: "With `canary-by-header`: the request goes to the canary when the header has exactly this value " +
			"(case-sensitive); otherwise `canary-by-cookie` and then `canary-weight` decide.",
	}, headerValue)

	canaryByHeaderPattern = define(spec{
		name: "canary-by-header-pattern", scopes: scopeIngress, example: "^(beta|alpha)$",
		group: "Canary",
		doc: "With `canary-by-header` and without `canary-by-header-value`: the request goes to the canary when " +
			"the header matches this regular expression (unanchored, RE2 without spaces, quotes or `#`); otherwise " +
			"`canary-by-cookie` and then `canary-weight` decide.",
	}, regexValue)

	canaryByCookie = define(spec{
		name: "canary-by-cookie", scopes: scopeIngress, example: "canary_opt_in",
		group: "Canary",
		doc: "With `canary`: a cookie that chooses the canary when `canary-by-header` did not: the value `always` " +
			"sends the request to the canary and `never` to the main backend; with another value, or without the " +
			"cookie, `canary-weight` decides.",
	}, cookieName)
)

// Process and logging.
var (
	maxConn = define(spec{
		name: "maxconn", peer: true, scopes: scopeGlobal, example: "50000",
		group: "Process and logging",
		doc:   "Most concurrent connections HAProxy accepts. Unset: HAProxy derives it from the file-descriptor limit. A value that needs more file descriptors than the pod allows (two per connection plus 1,024, against the hard RLIMIT_NOFILE HAProxy inherits) is refused with a Warning on the ConfigMap and left to HAProxy, which would otherwise fail to start.",
	}, intIn(1, limits.MaxConnections))

	nbThread = define(spec{
		name: "nbthread", peer: true, scopes: scopeGlobal, example: "4",
		group: "Process and logging",
		doc:   "Number of HAProxy threads, at most 64 (the limit of HAProxy 2.6 builds). Unset: one per CPU available to the process.",
	}, intIn(1, limits.MaxThreads))

	syslogServer = define(spec{
		name: "syslog-server", scopes: scopeGlobal, example: "stdout",
		group: "Process and logging",
		doc: "Where traffic logs go: `stdout` (HAProxy's standard output, the container log) or the " +
			"`host[:port]` of a syslog server (UDP, port 514 by default). Unset: no traffic log. haproxytech's " +
			"comma-separated `address:..., facility:...` form is not accepted. HAProxy resolves a host name once, " +
			"when it loads its configuration, and refuses the configuration if the name does not resolve then: " +
			"prefer an IP address.",
	}, logTarget)

	defaultsProfile = define(spec{
		name: "defaults-profile", scopes: scopeGlobal, def: "none", example: ProfileIngressNginx,
		group: "Process and logging",
		doc: "A set of defaults for settings that neither the ConfigMap nor the objects set. `" + ProfileIngressNginx +
			"` gives ingress-nginx's, so that Ingresses moved from it behave as before: " + profileDoc() + ". " +
			"`none`: Portcullis's own defaults.",
	}, oneOf("none", ProfileIngressNginx))

	errorPagesSetting = define(spec{
		name: "error-pages", scopes: scopeGlobal, def: ErrorPagesPortcullis, example: ErrorPagesHAProxy,
		group: "Process and logging",
		doc: "Which pages answer the errors HAProxy makes itself (no route: 404; no server: 503; timeouts, refused " +
			"requests): `" + ErrorPagesPortcullis + "`, the HTML pages the image ships in `/usr/share/portcullis/errors` " +
			"(400, 403, 404, 408, 500, 502, 503, 504), or `" + ErrorPagesHAProxy + "`, HAProxy's built-in pages and a " +
			"plain-text `404 page not found`.",
	}, oneOf(ErrorPagesHAProxy, ErrorPagesPortcullis))

	logFormat = define(spec{
		name: "log-format", scopes: scopeGlobal, def: "default", example: "json",
		group: "Process and logging",
		doc: "Format of traffic log lines: `default` (HAProxy's HTTP log), `json` (one JSON object per request) " +
			"or `clf` (Common Log Format). Raw HAProxy log-format strings are not accepted, because HAProxy " +
			"evaluates them.",
	}, oneOf(LogFormatDefault, LogFormatJSON, LogFormatCLF))
)

// peerOnly are haproxytech settings with no Portcullis equivalent. They are listed so that the
// ConfigMap can report them as unsupported (a warning) rather than unknown (an error);
// annotations under PeerPrefix are recognised by their prefix.
var peerOnly = []string{
	"abortonclose", "backend-config-snippet", "clean-certs",
	"client-strict-sni", "cookie-persistence-no-dynamic", "cors-respond-to-options", "cr-backend",
	"cr-defaults", "cr-frontend-http", "cr-frontend-https", "cr-frontend-stats", "cr-global",
	"dontlognull", "frontend-config-snippet", "generate-certificates-signer", "global-config-snippet",
	"http-connection-mode", "http-keep-alive", "http-server-close", "ingress.class", "log-format-tcp",
	"logasap", "pod-maxconn", "prometheus-endpoint-auth-secret",
	"quic-alt-svc-max-age", "rate-limit-size", "rate-limit-whitelist", "request-capture",
	"request-capture-len", "route-acl",
	"set-host", "src-ip-header", "ssl-certificate", "standalone-backend",
	"stats-config-snippet", "timeout-check", "timeout-client-fin", "timeout-server-fin", "tls-alpn",
}
