package model

import (
	"slices"
	"time"
)

// Route policies that came with ingress-nginx's annotations (Portcullis settings of their own
// since): a rewrite by regular expression, a redirect to HTTPS behind a load balancer that ends
// TLS, and a request body size limit.
//
// The fields of RoutePolicy:
//
//   - RegexRewrite replaces the whole path of a request that matches its expression (the
//     route's own path expression), with the groups it captured.
//   - ForceHTTPS, when not 0, is the status of a redirect of plain-HTTP requests to HTTPS,
//     unless the request's X-Forwarded-Proto header is "https".
//   - MaxBodySize, when not 0, answers 413 to requests whose Content-Length is larger.
//   - RedirectTo answers every request with a redirect to exactly its Location (nothing of the
//     request appended), before every other rule.
//   - MaxConnections, when not 0, answers 503 to a request from a client address that already
//     has that many requests in progress on the route's section.
//   - InterceptErrors are statuses whose server responses are replaced by Portcullis's error
//     page for the status (ingress-nginx's custom-http-errors).
//   - HostRedirect answers every request with a redirect to the same scheme, path and query on
//     another host (ingress-nginx's from-to-www-redirect).

// RegexRewrite replaces the whole path of requests that match Regex by Replace.
type RegexRewrite struct {
	// Regex is an expression limits.CheckRegex accepts.
	Regex string
	// Replace is a path in which \1 to \9 stand for the groups Regex captured
	// (limits.CheckRewriteTarget).
	Replace string
}

func (p RoutePolicy) nginxEqual(o RoutePolicy) bool {
	return ptrEqual(p.RegexRewrite, o.RegexRewrite) && p.ForceHTTPS == o.ForceHTTPS && p.MaxBodySize == o.MaxBodySize &&
		ptrEqual(p.RedirectTo, o.RedirectTo) && ptrEqual(p.HostRedirect, o.HostRedirect) && p.MaxConnections == o.MaxConnections &&
		slices.Equal(p.InterceptErrors, o.InterceptErrors)
}

// HostRedirect redirects requests to Host, keeping their scheme, path and query.
type HostRedirect struct {
	// Host is a lower-case DNS name (limits.CheckDNSName).
	Host string
	Code int
}

// CookieAttributes are attributes of a persistence cookie for browsers (ingress-nginx's
// session-cookie-max-age, -expires, -samesite and -path).
type CookieAttributes struct {
	// MaxAge, when not 0, is sent as Max-Age in whole seconds (limits.MaxCookieMaxAge at most).
	MaxAge time.Duration
	// SameSite is "", "None", "Lax" or "Strict".
	SameSite string
	// Path, when not empty, is sent as Path (limits.CheckPath).
	Path string
}
