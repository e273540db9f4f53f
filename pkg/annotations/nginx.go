package annotations

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ingress-nginx compatibility: the annotations of ingress-nginx (NginxPrefix) that Portcullis
// reads, each translated into Portcullis settings, and those it refuses, each with the reason.
// This table is part of the registry; documentation/ingress-nginx.md is generated from it.
//
// An ingress-nginx key is converted into the syntax of the settings it stands for, and those
// settings' own parsers check the result: one grammar, one set of limits. Its rank is below
// every Portcullis and haproxytech key of the same setting on the same object, so a
// portcullis.io/ annotation overrides it (with a Warning when their values differ).

// NginxPrefix is the prefix of ingress-nginx annotations.
const NginxPrefix = "nginx.ingress.kubernetes.io/"

// The ingress-nginx keys that other keys read.
const (
	nxAuthType              = "auth-type"
	nxAuthSecret            = "auth-secret"
	nxSessionCookieName     = "session-cookie-name"
	nxAffinity              = "affinity"
	nxSessionCookieMaxAge   = "session-cookie-max-age"
	nxCanary                = "canary"
	nxPermanentRedirect     = "permanent-redirect"
	nxPermanentRedirectCode = "permanent-redirect-code"
	nxTemporalRedirect      = "temporal-redirect"
	nxTemporalRedirectCode  = "temporal-redirect-code"
	nxCanaryByHeader        = "canary-by-header"
	nxLimitRPS              = "limit-rps"
	nxXForwardedPrefix      = "x-forwarded-prefix"
	nxUpstreamVhost         = "upstream-vhost"
	nxProxyReadTimeout      = "proxy-read-timeout"
	nxProxySendTimeout      = "proxy-send-timeout"
)

// ProfileIngressNginx is the defaults-profile of ingress-nginx's defaults.
const ProfileIngressNginx = "ingress-nginx"

// nginxProfile holds ingress-nginx's defaults of the settings whose Portcullis defaults differ:
// proxy-read-timeout and proxy-send-timeout (60 s), proxy-body-size (1m), http-redirect-code
// (308) and limit-req-status-code (503).
var nginxProfile = []nginxSet{
	set(timeoutServer, "60s"), set(bodySizeLimit, "1m"), set(sslRedirectCode, "308"), set(rateLimitStatusCode, "503"),
}

func profileDoc() string {
	parts := make([]string, len(nginxProfile))
	for i, s := range nginxProfile {
		parts[i] = "`" + s.setting.definition().Name + "` " + s.value
	}
	return strings.Join(parts, ", ")
}

// applyProfile adds the defaults of the ConfigMap's defaults-profile to its layer, for the
// settings it does not set itself. Their key is that of the profile.
func applyProfile(l Layer) {
	f, ok := l.values[defaultsProfile.def.Name]
	if !ok || f.value.(string) != ProfileIngressNginx {
		return
	}
	for _, s := range nginxProfile {
		name := s.setting.definition().Name
		if _, set := l.values[name]; set {
			continue
		}
		v, err := s.setting.parseAny(s.value)
		if err != nil {
			panic("annotations: profile value of " + name + ": " + err.Error())
		}
		l.values[name] = found{key: f.key, value: v}
	}
}

// nginxRank is the rank of ingress-nginx keys; impliedRank that of the defaults they imply.
const (
	nginxRank   = 10 * rankStride
	impliedRank = 11 * rankStride
)

// Compat is how far Portcullis honours an ingress-nginx annotation.
type Compat string

const (
	// CompatSupported: the annotation behaves as ingress-nginx documents.
	CompatSupported Compat = "supported"
	// CompatPartial: honoured, with the difference the table states.
	CompatPartial Compat = "partial"
	// CompatRefused: not honoured; an Ingress that carries it gets a Warning Event saying why.
	CompatRefused Compat = "refused"
)

// NginxAnnotation is one row of the compatibility table.
type NginxAnnotation struct {
	// Name is the key after NginxPrefix.
	Name   string
	Status Compat
	// Equivalent names the Portcullis settings it is read as (Markdown), or what to use instead.
	Equivalent string
	// Difference says how the behaviour differs from ingress-nginx's, or why it is refused.
	Difference string
}

// Key is the annotation key, NginxPrefix+Name.
func (a NginxAnnotation) Key() string { return NginxPrefix + a.Name }

// nginxSet is one setting an ingress-nginx key sets, in the setting's own syntax.
type nginxSet struct {
	setting entry
	value   string
	// implied: a default ingress-nginx applies along with the key; any other source wins over
	// it silently.
	implied bool
}

// nginxObject reads the other ingress-nginx annotations of the object.
type nginxObject map[string]string

func (o nginxObject) get(name string) (string, bool) { v, ok := o[name]; return v, ok }

type nginxKey struct {
	NginxAnnotation
	// convert returns the settings the key's value stands for. Nil for a refused key and for
	// a key that is read by another one's convert (it returns nothing then).
	convert func(v string, o nginxObject) ([]nginxSet, error)
}

func set(s entry, v string) nginxSet { return nginxSet{setting: s, value: v} }

// nginxKeys is the table, in documentation order.
var nginxKeys = []nginxKey{
	// Rewriting.
	{NginxAnnotation{"rewrite-target", CompatSupported, "`rewrite-target`",
		"It makes the Ingress's paths case-insensitive regular expressions anchored at the start, as ingress-nginx does; " +
			"the syntax is RE2, the common part of RE2 and PCRE, without spaces, quotes or `#`."},
		func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(rewriteTargetPath, v)}, nil }},
	{NginxAnnotation{"use-regex", CompatSupported, "`path-regex`", "See `rewrite-target` for the syntax."},
		func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(pathRegex, v)}, nil }},

	// Timeouts.
	{NginxAnnotation{"proxy-connect-timeout", CompatSupported, "`timeout-connect`",
		"Whole seconds, as ingress-nginx writes them (`\"10\"` is 10 s)."},
		func(v string, _ nginxObject) ([]nginxSet, error) {
			s, err := nginxSeconds(v)
			return []nginxSet{set(timeoutConnect, s)}, err
		}},
	{NginxAnnotation{nxProxyReadTimeout, CompatPartial, "`timeout-server`",
		"HAProxy has one inactivity timeout for the server in both directions: with `proxy-send-timeout` " +
			"too, the larger of the two applies to both."},
		func(v string, o nginxObject) ([]nginxSet, error) { return serverTimeout(v, o, nxProxySendTimeout) }},
	{NginxAnnotation{nxProxySendTimeout, CompatPartial, "`timeout-server`",
		"See `proxy-read-timeout`: the larger of the two applies to both directions."},
		func(v string, o nginxObject) ([]nginxSet, error) { return serverTimeout(v, o, nxProxyReadTimeout) }},

	// Access control.
	{NginxAnnotation{"proxy-body-size", CompatPartial, "`body-size-limit`",
		"Checked against the `Content-Length` header: a chunked body, which announces no length, is not counted. " +
			"Unset, the limit is `body-size-limit` of the ConfigMap (none unless set; ingress-nginx's 1m with the " +
			"`ingress-nginx` defaults profile)."},
		func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(bodySizeLimit, v)}, nil }},
	{NginxAnnotation{"whitelist-source-range", CompatSupported, "`allow-list`", ""},
		func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(allowList, v)}, nil }},
	{NginxAnnotation{"allowlist-source-range", CompatSupported, "`allow-list`", ""},
		func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(allowList, v)}, nil }},
	{NginxAnnotation{"denylist-source-range", CompatSupported, "`deny-list`", ""},
		func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(denyList, v)}, nil }},

	// TLS.
	{NginxAnnotation{"ssl-redirect", CompatSupported, "`ssl-redirect`",
		"The status is `ssl-redirect-code` (302 unless set; ingress-nginx sends 308: see the " +
			"`ingress-nginx` defaults profile)."},
		func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(sslRedirect, v)}, nil }},
	{NginxAnnotation{"force-ssl-redirect", CompatSupported, "`force-ssl-redirect`",
		"Requests with `X-Forwarded-Proto: https` are not redirected, as ingress-nginx behind a load balancer that " +
			"ends TLS (`use-forwarded-headers`). The status is `ssl-redirect-code` (see `ssl-redirect`)."},
		func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(forceSSLRedirect, v)}, nil }},
	{NginxAnnotation{"ssl-passthrough", CompatSupported, "`ssl-passthrough`", ""},
		func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(sslPassthrough, v)}, nil }},
	{NginxAnnotation{"backend-protocol", CompatPartial, "`server-ssl`, `server-proto`",
		"`HTTP`, `HTTPS`, `GRPC`, `GRPCS` and `H2C` are honoured (gRPC is HTTP/2 to the servers); `AUTO_HTTP` and " +
			"`FCGI` are refused. HTTPS does not verify the server's certificate unless `server-ca` is set, as " +
			"ingress-nginx without `proxy-ssl-verify`."},
		backendProtocol},

	// Authentication.
	{NginxAnnotation{nxAuthType, CompatPartial, "`auth-type`",
		"`basic` is honoured; `digest` is refused."},
		func(v string, o nginxObject) ([]nginxSet, error) {
			if v != "basic" {
				return nil, errors.New("only basic is supported; digest authentication is not")
			}
			out := []nginxSet{set(authType, "basic-auth")}
			if s, ok := o.get(nxAuthSecret); ok {
				if strings.Contains(s, "/") {
					return nil, errors.New("auth-secret: a Secret of another namespace is not accepted; name one in the Ingress's namespace")
				}
				out = append(out, set(authSecret, s))
			}
			return out, nil
		}},
	{NginxAnnotation{nxAuthSecret, CompatPartial, "`auth-secret`",
		"Only `name`, a Secret in the Ingress's namespace: the `namespace/name` form is refused. Read with " +
			"`auth-type: basic` only, as ingress-nginx does."},
		func(_ string, o nginxObject) ([]nginxSet, error) {
			if _, ok := o.get(nxAuthType); !ok {
				return nil, errors.New("ignored without auth-type basic, as ingress-nginx ignores it; requests are not authenticated")
			}
			return nil, nil
		}},
	{NginxAnnotation{"auth-secret-type", CompatSupported, "(none)",
		"`auth-file` (the key `auth` holding htpasswd lines) and `auth-map` (one key per user) are both read, whichever is given."},
		func(v string, _ nginxObject) ([]nginxSet, error) {
			if v != "auth-file" && v != "auth-map" {
				return nil, errors.New("want auth-file or auth-map")
			}
			return nil, nil
		}},
	{NginxAnnotation{"auth-realm", CompatSupported, "`auth-realm`", ""},
		func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(authRealm, v)}, nil }},

	// CORS.
	{NginxAnnotation{"enable-cors", CompatPartial, "`cors-enable`",
		"The `cors-*` keys that are not set take ingress-nginx's defaults (methods `GET, PUT, POST, DELETE, PATCH, " +
			"OPTIONS`, its list of headers, credentials allowed), except the max-age: 1 day rather than 20 days " +
			"(browsers keep a preflight answer 2 to 24 hours anyway)."},
		enableCORS},
	{NginxAnnotation{"cors-allow-origin", CompatPartial, "`cors-allow-origin`",
		"Wildcard subdomains (`https://*.example.com`) are refused."},
		func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(corsAllowOrigin, v)}, nil }},
	{NginxAnnotation{"cors-allow-methods", CompatSupported, "`cors-allow-methods`", ""},
		func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(corsAllowMethods, v)}, nil }},
	{NginxAnnotation{"cors-allow-headers", CompatSupported, "`cors-allow-headers`", ""},
		func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(corsAllowHeaders, v)}, nil }},
	{NginxAnnotation{"cors-allow-credentials", CompatSupported, "`cors-allow-credentials`", ""},
		func(v string, _ nginxObject) ([]nginxSet, error) {
			return []nginxSet{set(corsAllowCredentials, v)}, nil
		}},
	{NginxAnnotation{"cors-max-age", CompatPartial, "`cors-max-age`",
		"Whole seconds; more than a day is sent as a day."},
		func(v string, _ nginxObject) ([]nginxSet, error) {
			n, err := parseUint(v)
			if err != nil {
				return nil, err
			}
			return []nginxSet{set(corsMaxAge, strconv.Itoa(min(n, 86400))+"s")}, nil
		}},
	{NginxAnnotation{"cors-expose-headers", CompatRefused, "", "No equivalent yet: `Access-Control-Expose-Headers` is not sent."}, nil},

	// Routing.
	{NginxAnnotation{"app-root", CompatSupported, "`app-root`", ""},
		func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(appRoot, v)}, nil }},
	{NginxAnnotation{nxPermanentRedirect, CompatPartial, "`redirect-to`, `redirect-to-code`",
		"The URL is `http(s)://host[:port][/path]`: no query and no nginx variables. With `temporal-redirect` too, " +
			"`temporal-redirect` applies, as in ingress-nginx."},
		func(v string, o nginxObject) ([]nginxSet, error) {
			if _, ok := o.get(nxTemporalRedirect); ok {
				return nil, errors.New("ignored: temporal-redirect is also set and applies")
			}
			return nginxRedirect(v, o, nxPermanentRedirectCode, "301")
		}},
	{NginxAnnotation{nxPermanentRedirectCode, CompatPartial, "`redirect-to-code`",
		"301, 302, 303, 307 or 308 (ingress-nginx also takes 300, 304, 305 and 306); read with `permanent-redirect`."},
		func(_ string, o nginxObject) ([]nginxSet, error) { return redirectCodeAlone(o, nxPermanentRedirect) }},
	{NginxAnnotation{nxTemporalRedirect, CompatPartial, "`redirect-to`, `redirect-to-code`",
		"As `permanent-redirect`, with the status 302 unless `temporal-redirect-code` is set."},
		func(v string, o nginxObject) ([]nginxSet, error) {
			return nginxRedirect(v, o, nxTemporalRedirectCode, "302")
		}},
	{NginxAnnotation{nxTemporalRedirectCode, CompatPartial, "`redirect-to-code`",
		"301, 302, 303, 307 or 308; read with `temporal-redirect`."},
		func(_ string, o nginxObject) ([]nginxSet, error) { return redirectCodeAlone(o, nxTemporalRedirect) }},
	{NginxAnnotation{"from-to-www-redirect", CompatPartial, "`www-redirect`",
		"The status is `ssl-redirect-code` (302 unless set; ingress-nginx sends its `http-redirect-code`, 308: see " +
			"the `ingress-nginx` defaults profile); a trailing `/` of the request's path is kept."},
		func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(wwwRedirect, v)}, nil }},
	{NginxAnnotation{"custom-http-errors", CompatPartial, "`intercept-errors`",
		"The backend's responses with these statuses are replaced by Portcullis's error page for the status, rather " +
			"than sent to a default backend; only 400, 403, 404, 408, 500, 502, 503 and 504 have a page."},
		func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(interceptErrors, v)}, nil }},
	{NginxAnnotation{"default-backend", CompatRefused, "`intercept-errors`, `error-pages`",
		"A Service that answers for the Ingress's errors or its missing endpoints is not supported: `custom-http-errors` " +
			"answers with Portcullis's error pages, and a path without endpoints answers 503 (the `error-pages` page)."}, nil},
	{NginxAnnotation{nxXForwardedPrefix, CompatSupported, "`request-set-header` (`X-Forwarded-Prefix`)",
		"A `request-set-header` annotation of Portcullis on the same Ingress replaces it."},
		func(v string, o nginxObject) ([]nginxSet, error) { return requestHeaders(o) }},
	{NginxAnnotation{nxUpstreamVhost, CompatSupported, "`request-set-header` (`Host`)",
		"A `request-set-header` annotation of Portcullis on the same Ingress replaces it."},
		func(v string, o nginxObject) ([]nginxSet, error) {
			if _, ok := o.get(nxXForwardedPrefix); ok {
				return nil, nil // x-forwarded-prefix sets both headers
			}
			return requestHeaders(o)
		}},

	// Rate limiting.
	{NginxAnnotation{nxLimitRPS, CompatPartial, "`rate-limit-requests`, `rate-limit-period` 1s",
		"Counted per client address over each second, without ingress-nginx's burst allowance " +
			"(`limit-burst-multiplier`). The status is `rate-limit-status-code` (429 unless set; ingress-nginx " +
			"sends 503: see the `ingress-nginx` defaults profile). With `limit-rpm` too, `limit-rps` applies."},
		func(v string, _ nginxObject) ([]nginxSet, error) {
			return []nginxSet{set(rateLimitRequests, v), set(rateLimitPeriod, "1s")}, nil
		}},
	{NginxAnnotation{"limit-rpm", CompatPartial, "`rate-limit-requests`, `rate-limit-period` 1m",
		"As `limit-rps`, over a minute. Ignored when `limit-rps` is set."},
		func(v string, o nginxObject) ([]nginxSet, error) {
			if _, ok := o.get(nxLimitRPS); ok {
				return nil, errors.New("ignored: limit-rps is also set and applies")
			}
			return []nginxSet{set(rateLimitRequests, v), set(rateLimitPeriod, "1m")}, nil
		}},
	{NginxAnnotation{"limit-connections", CompatPartial, "`rate-limit-connections`",
		"Requests in progress per client address, as ingress-nginx counts them, answered 503 beyond the limit " +
			"(ingress-nginx's `limit-conn-status-code` default); counted per backend section rather than per Ingress."},
		func(v string, _ nginxObject) ([]nginxSet, error) {
			return []nginxSet{set(rateLimitConnections, v)}, nil
		}},
	{NginxAnnotation{"limit-burst-multiplier", CompatRefused, "", "HAProxy counts requests over the period without a burst allowance."}, nil},

	// Canary.
	{NginxAnnotation{nxCanary, CompatSupported, "`canary`",
		"The canary Ingress must have the same host, path and path type as the Ingress it accompanies; the route " +
			"keeps that Ingress's settings, as in ingress-nginx."},
		func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(canary, v)}, nil }},
	{NginxAnnotation{"canary-weight", CompatSupported, "`canary-weight`", "Read with `canary: \"true\"`."},
		canaryKey(func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(canaryWeight, v)}, nil })},
	{NginxAnnotation{"canary-weight-total", CompatPartial, "(none)", "Only `100`, the default, is accepted: `canary-weight` is a percentage."},
		canaryKey(func(v string, _ nginxObject) ([]nginxSet, error) {
			if v != "100" {
				return nil, errors.New("only 100 is supported: canary-weight is a percentage")
			}
			return nil, nil
		})},
	{NginxAnnotation{nxCanaryByHeader, CompatSupported, "`canary-by-header`", "Read with `canary: \"true\"`."},
		canaryKey(func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(canaryByHeader, v)}, nil })},
	{NginxAnnotation{"canary-by-header-value", CompatSupported, "`canary-by-header-value`", ""},
		canaryKey(func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(canaryByHeaderValue, v)}, nil })},
	{NginxAnnotation{"canary-by-header-pattern", CompatPartial, "`canary-by-header-pattern`",
		"RE2 syntax (the common part of RE2 and PCRE), without spaces, quotes or `#`."},
		canaryKey(func(v string, _ nginxObject) ([]nginxSet, error) {
			return []nginxSet{set(canaryByHeaderPattern, v)}, nil
		})},
	{NginxAnnotation{"canary-by-cookie", CompatSupported, "`canary-by-cookie`", "Read with `canary: \"true\"`."},
		canaryKey(func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(canaryByCookie, v)}, nil })},

	// Balancing and affinity.
	{NginxAnnotation{"upstream-hash-by", CompatPartial, "`load-balance`",
		"`$request_uri` (uri whole), `$uri` (uri path-only), `$remote_addr` and `$binary_remote_addr` (source), " +
			"`$http_<name>` (hdr) and `$arg_<name>` (url_param), alone; other nginx variables and combinations are refused. " +
			"Consistent hashing, as `upstream-hash-by-subset` off."},
		func(v string, _ nginxObject) ([]nginxSet, error) {
			b, err := hashBy(v)
			return []nginxSet{set(loadBalance, b)}, err
		}},
	{NginxAnnotation{nxAffinity, CompatPartial, "`cookie-persistence`",
		"`cookie` only. The cookie names the server (HAProxy's `insert indirect nocache`), not a hash of it, " +
			"and lives for the browser session unless `session-cookie-max-age` or `-expires` is set."},
		func(v string, o nginxObject) ([]nginxSet, error) {
			if v != "cookie" {
				return nil, errors.New("only cookie affinity exists")
			}
			name, ok := o.get(nxSessionCookieName)
			if !ok {
				name = "INGRESSCOOKIE"
			}
			return []nginxSet{set(cookiePersistence, name)}, nil
		}},
	{NginxAnnotation{nxSessionCookieName, CompatSupported, "`cookie-persistence`", "Read with `affinity: cookie`."},
		func(string, nginxObject) ([]nginxSet, error) { return nil, nil }},
	{NginxAnnotation{nxSessionCookieMaxAge, CompatSupported, "`cookie-max-age`", "Whole seconds; read with `affinity: cookie`."},
		affinityKey(func(v string, _ nginxObject) ([]nginxSet, error) {
			s, err := nginxSeconds(v)
			return []nginxSet{set(cookieMaxAge, s)}, err
		})},
	{NginxAnnotation{"session-cookie-expires", CompatPartial, "`cookie-max-age`",
		"Sent as `Max-Age` rather than an `Expires` date, which browsers read alike; with `session-cookie-max-age` " +
			"too, that one applies (browsers prefer `Max-Age`)."},
		affinityKey(func(v string, o nginxObject) ([]nginxSet, error) {
			s, err := nginxSeconds(v)
			if _, ok := o.get(nxSessionCookieMaxAge); ok || err != nil {
				return nil, err
			}
			return []nginxSet{set(cookieMaxAge, s)}, nil
		})},
	{NginxAnnotation{"session-cookie-samesite", CompatPartial, "`cookie-samesite`",
		"`None`, `Lax` or `Strict`; `session-cookie-conditional-samesite-none` (leaving out `None` for old browsers) is not supported."},
		affinityKey(func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(cookieSameSite, v)}, nil })},
	{NginxAnnotation{"session-cookie-path", CompatPartial, "`cookie-path`",
		"Unset, the path is `/` (ingress-nginx uses the Ingress's path)."},
		affinityKey(func(v string, _ nginxObject) ([]nginxSet, error) { return []nginxSet{set(cookiePath, v)}, nil })},
	{NginxAnnotation{"affinity-mode", CompatPartial, "(none)", "`balanced` and `persistent` behave alike: a client stays on its server while it exists."},
		func(v string, _ nginxObject) ([]nginxSet, error) {
			if v != "balanced" && v != "persistent" {
				return nil, errors.New("want balanced or persistent")
			}
			return nil, nil
		}},

	// Refused: raw configuration.
	{NginxAnnotation{"configuration-snippet", CompatRefused, "", snippetRefusal}, nil},
	{NginxAnnotation{"server-snippet", CompatRefused, "", snippetRefusal}, nil},
	{NginxAnnotation{"auth-snippet", CompatRefused, "", snippetRefusal}, nil},
	{NginxAnnotation{"stream-snippet", CompatRefused, "", snippetRefusal}, nil},
	{NginxAnnotation{"modsecurity-snippet", CompatRefused, "", snippetRefusal}, nil},

	// Refused: not implemented.
	{NginxAnnotation{"service-upstream", CompatRefused, "", "Portcullis always balances over the Service's endpoints, which it updates without a reload."}, nil},
	{NginxAnnotation{"auth-url", CompatRefused, "", "External authentication is not supported; requests are not authenticated by it."}, nil},
	{NginxAnnotation{"auth-tls-secret", CompatRefused, "`client-ca`", "Use `portcullis.io/client-ca`, which takes a Secret in the Ingress's namespace."}, nil},
	{NginxAnnotation{"load-balance", CompatRefused, "`load-balance`", "Use `portcullis.io/load-balance`; `ewma` has no HAProxy equivalent."}, nil},
	{NginxAnnotation{"proxy-buffering", CompatRefused, "", "HAProxy streams responses; there is nothing to switch."}, nil},
	{NginxAnnotation{"proxy-buffer-size", CompatRefused, "", "HAProxy's buffers are process-wide."}, nil},
	{NginxAnnotation{"client-body-buffer-size", CompatRefused, "", "HAProxy's buffers are process-wide."}, nil},
	{NginxAnnotation{"enable-access-log", CompatRefused, "`syslog-server`", "Traffic logs are switched for the whole controller, in the ConfigMap."}, nil},
	{NginxAnnotation{"server-alias", CompatRefused, "", "List each host as a rule of the Ingress."}, nil},
	{NginxAnnotation{"mirror-target", CompatRefused, "", "Request mirroring is not supported."}, nil},
	{NginxAnnotation{"limit-rate", CompatRefused, "", "Bandwidth limits are not supported."}, nil},
	{NginxAnnotation{"limit-rate-after", CompatRefused, "", "Bandwidth limits are not supported."}, nil},
	{NginxAnnotation{"limit-whitelist", CompatRefused, "", "Exemptions from the rate limit are not supported."}, nil},
	{NginxAnnotation{"limit-allowlist", CompatRefused, "", "Exemptions from the rate limit are not supported."}, nil},
}

const snippetRefusal = "Raw nginx configuration from an Ingress would let any tenant inject directives into the " +
	"proxy that serves every tenant; Portcullis never copies configuration from objects."

var nginxByName = func() map[string]*nginxKey {
	m := map[string]*nginxKey{}
	for i := range nginxKeys {
		k := &nginxKeys[i]
		if _, dup := m[k.Name]; dup {
			panic("annotations: duplicate ingress-nginx key " + k.Name)
		}
		if (k.convert == nil) != (k.Status == CompatRefused) {
			panic("annotations: ingress-nginx key " + k.Name + ": refused keys, and only they, have no conversion")
		}
		m[k.Name] = k
	}
	return m
}()

// NginxAnnotations returns the compatibility table, in documentation order.
func NginxAnnotations() []NginxAnnotation {
	out := make([]NginxAnnotation, len(nginxKeys))
	for i, k := range nginxKeys {
		out[i] = k.NginxAnnotation
	}
	return out
}

// nginxCandidates converts the ingress-nginx annotations of an object (by name, without the
// prefix) into candidates for the settings they stand for.
func nginxCandidates(src Source, all map[string]string) ([]candidate, []Problem) {
	var cands []candidate
	var probs []Problem
	o := nginxObject(all)
	for _, name := range sortedKeys(all) {
		key := NginxPrefix + name
		v := all[name]
		if src != SourceIngress {
			probs = append(probs, Problem{Key: clipKey(key), Severity: Warning, Message: "ingress-nginx annotations are read on Ingresses only; ignored"})
			continue
		}
		k, ok := nginxByName[name]
		switch {
		case !ok && isSnippet(name):
			probs = append(probs, Problem{Key: clipKey(key), Severity: Warning, Message: "refused: " + lowerFirst(snippetRefusal)})
			continue
		case !ok:
			probs = append(probs, Problem{Key: clipKey(key), Severity: Warning,
				Message: "ingress-nginx annotation not supported by Portcullis; ignored (see documentation/ingress-nginx.md)"})
			continue
		case k.convert == nil:
			msg := "refused: " + lowerFirst(k.Difference)
			if k.Equivalent != "" && !strings.HasPrefix(k.Difference, "Use ") {
				msg += " (see " + strings.ReplaceAll(k.Equivalent, "`", "") + ")"
			}
			probs = append(probs, Problem{Key: clipKey(key), Severity: Warning, Message: msg})
			continue
		}
		if v == "" || len(v) > maxValueLen {
			probs = append(probs, Problem{Key: key, Value: Clip(v), Severity: Error, Message: "empty or too long; ignored"})
			continue
		}
		sets, err := k.convert(v, o)
		if err != nil {
			probs = append(probs, Problem{Key: key, Value: Clip(v), Severity: Error, Message: err.Error()})
			continue
		}
		for _, s := range sets {
			d := s.setting.definition()
			rank := nginxRank
			if s.implied {
				rank = impliedRank
			}
			orig := v
			cands = append(cands, candidate{key: key, setting: d.Name, rank: rank, raw: s.value, orig: &orig, implied: s.implied})
		}
	}
	return cands, probs
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + strings.TrimSuffix(s[1:], ".")
}

// nginxSeconds reads a number of seconds as ingress-nginx writes timeouts: digits only.
func nginxSeconds(v string) (string, error) {
	if _, err := parseUint(v); err != nil {
		return "", errors.New("want a whole number of seconds")
	}
	return v + "s", nil
}

// serverTimeout is timeout-server from proxy-read-timeout and proxy-send-timeout: the larger.
// The key that is not the larger sets nothing.
func serverTimeout(v string, o nginxObject, other string) ([]nginxSet, error) {
	n, err := parseUint(v)
	if err != nil {
		return nil, errors.New("want a whole number of seconds")
	}
	if ov, ok := o.get(other); ok {
		if m, err := parseUint(ov); err == nil && (m > n || m == n && other == nxProxyReadTimeout) {
			return nil, nil
		}
	}
	return []nginxSet{set(timeoutServer, strconv.Itoa(n)+"s")}, nil
}

func backendProtocol(v string, _ nginxObject) ([]nginxSet, error) {
	switch strings.ToUpper(v) {
	case "HTTP":
		return []nginxSet{set(serverSSL, "false"), set(serverProto, "h1")}, nil
	case "HTTPS":
		return []nginxSet{set(serverSSL, "true"), set(serverProto, "h1")}, nil
	case "GRPC", "H2C":
		return []nginxSet{set(serverSSL, "false"), set(serverProto, "h2")}, nil
	case "GRPCS":
		return []nginxSet{set(serverSSL, "true"), set(serverProto, "h2")}, nil
	}
	return nil, errors.New("want HTTP, HTTPS, GRPC, GRPCS or H2C (AUTO_HTTP and FCGI are not supported)")
}

// ingress-nginx's CORS defaults.
const (
	nginxCORSMethods = "GET, PUT, POST, DELETE, PATCH, OPTIONS"
	nginxCORSHeaders = "DNT, Keep-Alive, User-Agent, X-Requested-With, If-Modified-Since, Cache-Control, Content-Type, Range, Authorization"
)

func enableCORS(v string, _ nginxObject) ([]nginxSet, error) {
	on, err := boolean.parse(v)
	if err != nil {
		return nil, err
	}
	out := []nginxSet{set(corsEnable, boolean.format(on))}
	if on {
		for _, d := range []nginxSet{
			set(corsAllowMethods, nginxCORSMethods), set(corsAllowHeaders, nginxCORSHeaders),
			set(corsAllowCredentials, "true"), set(corsMaxAge, "1d"),
		} {
			d.implied = true
			out = append(out, d)
		}
	}
	return out, nil
}

// requestHeaders is request-set-header from x-forwarded-prefix and upstream-vhost.
func requestHeaders(o nginxObject) ([]nginxSet, error) {
	var lines []string
	if p, ok := o.get(nxXForwardedPrefix); ok {
		lines = append(lines, "X-Forwarded-Prefix "+p)
	}
	if h, ok := o.get(nxUpstreamVhost); ok {
		if _, err := parseHost(h); err != nil {
			return nil, fmt.Errorf("upstream-vhost: %w", err)
		}
		lines = append(lines, "Host "+h)
	}
	return []nginxSet{set(requestSetHeader, strings.Join(lines, "\n"))}, nil
}

// hashBy converts an upstream-hash-by nginx variable into a load-balance value.
func hashBy(v string) (string, error) {
	switch v {
	case "$request_uri":
		return "uri whole", nil
	case "$uri":
		return "uri path-only", nil
	case "$remote_addr", "$binary_remote_addr":
		return "source", nil
	}
	if h, ok := strings.CutPrefix(v, "$http_"); ok && h != "" {
		return "hdr(" + strings.ReplaceAll(h, "_", "-") + ")", nil
	}
	if a, ok := strings.CutPrefix(v, "$arg_"); ok && a != "" {
		return "url_param " + a, nil
	}
	return "", errors.New("want one of $request_uri, $uri, $remote_addr, $binary_remote_addr, $http_<name> or $arg_<name>")
}

// canaryKey reads a canary-* key only with canary "true", as ingress-nginx does.
func canaryKey(convert func(string, nginxObject) ([]nginxSet, error)) func(string, nginxObject) ([]nginxSet, error) {
	return func(v string, o nginxObject) ([]nginxSet, error) {
		if c, _ := o.get(nxCanary); c != "true" {
			return nil, errors.New(`ignored without canary: "true", as ingress-nginx ignores it`)
		}
		return convert(v, o)
	}
}

// nginxRedirect is redirect-to and redirect-to-code from permanent-redirect or temporal-redirect
// and its code key.
func nginxRedirect(v string, o nginxObject, codeKey, code string) ([]nginxSet, error) {
	if c, ok := o.get(codeKey); ok {
		code = c
	}
	return []nginxSet{set(redirectTo, v), set(redirectToCode, code)}, nil
}

// redirectCodeAlone: a redirect code key is read by its redirect key.
func redirectCodeAlone(o nginxObject, redirect string) ([]nginxSet, error) {
	if _, ok := o.get(redirect); !ok {
		return nil, errors.New("ignored without " + redirect + ", as ingress-nginx ignores it")
	}
	return nil, nil
}

// affinityKey reads a session-cookie-* key only with affinity "cookie", as ingress-nginx does.
func affinityKey(convert func(string, nginxObject) ([]nginxSet, error)) func(string, nginxObject) ([]nginxSet, error) {
	return func(v string, o nginxObject) ([]nginxSet, error) {
		if a, _ := o.get(nxAffinity); a != "cookie" {
			return nil, errors.New(`ignored without affinity: "cookie", as ingress-nginx ignores it`)
		}
		return convert(v, o)
	}
}
