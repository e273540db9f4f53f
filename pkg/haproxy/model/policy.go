package model

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// BackendPolicy is how a backend treats its servers: balancing, timeouts, checks, persistence and
// how HAProxy connects to them. Every string has been validated by its producer; the renderer
// checks each again against its own character set.
type BackendPolicy struct {
	// Balance is the load-balancing algorithm; the zero value is roundrobin.
	Balance Balance
	// Timeouts; zero: the defaults section's.
	TimeoutServer, TimeoutConnect, TimeoutQueue, TimeoutTunnel time.Duration
	// Check turns server health checks on, every CheckInterval; CheckPath makes them HTTP.
	Check         bool
	CheckInterval time.Duration
	CheckPath     string
	// Cookie is the name of a cookie pinning a client to a server; empty: no persistence.
	Cookie string
	// CookieAttrs are attributes of Cookie for browsers (policy_nginx.go); nil: none.
	CookieAttrs *CookieAttributes `json:",omitempty"`
	// SendProxy is the server keyword for the PROXY protocol ("send-proxy", "send-proxy-v2",
	// ...); empty: none.
	SendProxy string
	// ForwardedFor adds X-Forwarded-For.
	ForwardedFor bool
	// ServerTLS, when set, makes HAProxy connect to the servers over TLS.
	ServerTLS *ServerTLS
	// ServerH2 speaks HTTP/2 to the servers.
	ServerH2 bool
	// Unavailable answers every request with 503: a setting the backend needs could not be
	// honoured safely (for example its server CA is missing), so it fails closed.
	Unavailable bool
}

// Equal reports whether p and o are the same policy.
func (p BackendPolicy) Equal(o BackendPolicy) bool {
	return p.Balance == o.Balance && p.TimeoutServer == o.TimeoutServer && p.TimeoutConnect == o.TimeoutConnect &&
		p.TimeoutQueue == o.TimeoutQueue && p.TimeoutTunnel == o.TimeoutTunnel && p.Check == o.Check &&
		p.CheckInterval == o.CheckInterval && p.CheckPath == o.CheckPath && p.Cookie == o.Cookie && ptrEqual(p.CookieAttrs, o.CookieAttrs) &&
		p.SendProxy == o.SendProxy && p.ForwardedFor == o.ForwardedFor && p.ServerTLS.Equal(o.ServerTLS) &&
		p.ServerH2 == o.ServerH2 && p.Unavailable == o.Unavailable
}

// Balance is a load-balancing algorithm with its options, as typed values: the renderer writes
// them without parsing anything.
type Balance struct {
	// Algorithm is one of roundrobin (also the empty string), static-rr, leastconn, first,
	// source, random, uri, url_param, hdr.
	Algorithm string
	// Draws is the number of draws of random (0: HAProxy's default of 2).
	Draws int
	// URIWhole, URIPathOnly, URILen and URIDepth are the options of uri (0: not set).
	URIWhole    bool
	URIPathOnly bool
	URILen      int
	URIDepth    int
	// Param is the query parameter of url_param or the header name of hdr.
	Param string
	// UseDomainOnly is the use_domain_only option of hdr.
	UseDomainOnly bool
}

// String renders the algorithm as the arguments of HAProxy's balance keyword, e.g.
// "uri whole depth 2" or "hdr(X-User)"; the zero value is "roundrobin".
func (b Balance) String() string {
	switch b.Algorithm {
	case "":
		return "roundrobin"
	case "random":
		if b.Draws > 0 {
			return "random(" + strconv.Itoa(b.Draws) + ")"
		}
	case "uri":
		s := "uri"
		if b.URIPathOnly {
			s += " path-only"
		}
		if b.URIWhole {
			s += " whole"
		}
		if b.URILen > 0 {
			s += " len " + strconv.Itoa(b.URILen)
		}
		if b.URIDepth > 0 {
			s += " depth " + strconv.Itoa(b.URIDepth)
		}
		return s
	case "url_param":
		return "url_param " + b.Param
	case "hdr":
		s := "hdr(" + b.Param + ")"
		if b.UseDomainOnly {
			s += " use_domain_only"
		}
		return s
	}
	return b.Algorithm
}

// Hashed reports an algorithm that hashes a request property.
func (b Balance) Hashed() bool {
	switch b.Algorithm {
	case "source", "uri", "url_param", "hdr":
		return true
	}
	return false
}

// RoutePolicy is what a route does to requests before they reach a backend, and to the
// responses on their way back.
type RoutePolicy struct {
	// PathRewrite replaces the path prefix From with To, element-wise.
	PathRewrite *Rewrite
	// Redirect sends every request to Location (the request's path and query appended).
	Redirect *Redirect
	// AppRoot redirects requests for "/" to this path.
	AppRoot string
	// AllowList admits only these networks when not empty; DenyList refuses these.
	AllowList, DenyList []netip.Prefix
	// RateLimit limits the request rate per client address.
	RateLimit *RateLimit
	// BasicAuth requires one of its users.
	BasicAuth *BasicAuth
	// CORS answers preflight requests and adds CORS response headers.
	CORS *CORS
	// RequestHeaders and ResponseHeaders are set on the way in and out.
	RequestHeaders, ResponseHeaders []Header
	// AddRequestHeaders and AddResponseHeaders are added on the way in and out, after any
	// value the header already has; RemoveRequestHeaders and RemoveResponseHeaders are header
	// names deleted. Applied in the order remove, set, add. (Gateway API header modifiers.)
	AddRequestHeaders, AddResponseHeaders       []Header `json:",omitempty"`
	RemoveRequestHeaders, RemoveResponseHeaders []string `json:",omitempty"`
	// RequestRedirect answers with a redirect built from the request's own URL (Gateway API
	// RequestRedirect filter).
	RequestRedirect *RequestRedirect `json:",omitempty"`
	// URLRewrite changes the request's host and path before it reaches the backend (Gateway
	// API URLRewrite filter).
	URLRewrite *URLRewrite `json:",omitempty"`
	// Timeout bounds the wait for the server's answer to a request of the route; zero: the
	// backend's server timeout.
	Timeout time.Duration `json:",omitempty"`
	// HSTS adds Strict-Transport-Security with this max-age to HTTPS responses; zero: none.
	HSTS time.Duration
	// ClientAuth, when set, admits only requests whose TLS connection was made for the
	// request's host (SNI equal to Host) on a listener line with these same
	// client-certificate settings, and carries a client certificate that verified (or,
	// optional, none at all). The certificate itself is checked in the TLS handshake, by the
	// listener's line for that SNI name; this check ties the request to that handshake, so
	// that no other host, connection or route reaches the route unchecked. (Section names hash
	// the policy's JSON: left out when nil, it keeps the names of other sections as they were.)
	ClientAuth *ClientAuth `json:",omitempty"`
	// Unavailable answers every request with 503: a setting the route needs could not be
	// honoured safely (for example its client CA is missing), so it fails closed.
	Unavailable bool
	// RegexRewrite, ForceHTTPS and MaxBodySize: see policy_nginx.go.
	RegexRewrite *RegexRewrite `json:",omitempty"`
	ForceHTTPS   int           `json:",omitempty"`
	MaxBodySize  int64         `json:",omitempty"`
	// RedirectTo (Location exactly: limits.CheckRedirectURL) and HostRedirect: see
	// policy_nginx.go.
	RedirectTo   *Redirect     `json:",omitempty"`
	HostRedirect *HostRedirect `json:",omitempty"`
	// MaxConnections: see policy_nginx.go.
	MaxConnections  int   `json:",omitempty"`
	InterceptErrors []int `json:",omitempty"`
}

// IsZero reports whether the policy does nothing.
func (p RoutePolicy) IsZero() bool { return p.Equal(RoutePolicy{}) }

// Equal reports whether p and o are the same policy.
func (p RoutePolicy) Equal(o RoutePolicy) bool {
	return ptrEqual(p.PathRewrite, o.PathRewrite) && ptrEqual(p.Redirect, o.Redirect) && p.AppRoot == o.AppRoot &&
		slices.Equal(p.AllowList, o.AllowList) && slices.Equal(p.DenyList, o.DenyList) &&
		ptrEqual(p.RateLimit, o.RateLimit) && p.BasicAuth.Equal(o.BasicAuth) && p.CORS.Equal(o.CORS) &&
		slices.Equal(p.RequestHeaders, o.RequestHeaders) && slices.Equal(p.ResponseHeaders, o.ResponseHeaders) &&
		slices.Equal(p.AddRequestHeaders, o.AddRequestHeaders) && slices.Equal(p.AddResponseHeaders, o.AddResponseHeaders) &&
		slices.Equal(p.RemoveRequestHeaders, o.RemoveRequestHeaders) && slices.Equal(p.RemoveResponseHeaders, o.RemoveResponseHeaders) &&
		p.RequestRedirect.Equal(o.RequestRedirect) && p.URLRewrite.Equal(o.URLRewrite) && p.Timeout == o.Timeout &&
		p.HSTS == o.HSTS && ptrEqual(p.ClientAuth, o.ClientAuth) && p.Unavailable == o.Unavailable &&
		p.nginxEqual(o)
}

func ptrEqual[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// ServerTLS is how HAProxy speaks TLS to a backend's servers.
type ServerTLS struct {
	// CA verifies the servers' certificates; nil: no verification.
	CA *Certificate
	// Client is presented to the servers as a client certificate; nil: none.
	Client *Certificate
}

// Equal reports whether s and o use the same certificates.
func (s *ServerTLS) Equal(o *ServerTLS) bool {
	if s == nil || o == nil {
		return s == o
	}
	return certName(s.CA) == certName(o.CA) && certName(s.Client) == certName(o.Client)
}

func certName(c *Certificate) string {
	if c == nil {
		return ""
	}
	return c.Name
}

// Rewrite replaces a path prefix.
type Rewrite struct{ From, To string }

// Redirect is a redirect of every request to another origin.
type Redirect struct {
	// Location is scheme://host[:port][/path]; the request's path and query are appended.
	Location string
	Code     int
}

// RequestRedirect is a redirect whose Location is the request's URL with some parts replaced.
type RequestRedirect struct {
	// Scheme is "http" or "https"; empty: the request's.
	Scheme string
	// Hostname replaces the request's host; empty: the request's (without its port).
	Hostname string
	// Port is written into the Location; 0 leaves the port out. The producer derives it (the
	// Gateway API rules: the scheme's well-known port is left out).
	Port uint16
	// Path replaces the request's path; nil keeps it. The query string is always kept.
	Path *PathModifier
	// Code is 301, 302, 303, 307 or 308.
	Code int
}

// Equal reports whether r and o are the same redirect.
func (r *RequestRedirect) Equal(o *RequestRedirect) bool {
	if r == nil || o == nil {
		return r == o
	}
	return r.Scheme == o.Scheme && r.Hostname == o.Hostname && r.Port == o.Port && ptrEqual(r.Path, o.Path) && r.Code == o.Code
}

// URLRewrite replaces the host and path of requests on their way to the backend.
type URLRewrite struct {
	// Hostname replaces the Host header; empty keeps it.
	Hostname string
	// Path replaces the path; nil keeps it. The query string is always kept.
	Path *PathModifier
}

// Equal reports whether u and o are the same rewrite.
func (u *URLRewrite) Equal(o *URLRewrite) bool {
	if u == nil || o == nil {
		return u == o
	}
	return u.Hostname == o.Hostname && ptrEqual(u.Path, o.Path)
}

// PathModifier replaces a request's path: the whole of it (Full), or the prefix the route
// matched (its Match.Path, a MatchPrefix route), element-wise, with Value.
type PathModifier struct {
	Full  bool
	Value string
}

// RateLimit is a request-rate limit per client address.
type RateLimit struct {
	Requests int
	Period   time.Duration
	Status   int
}

// BasicAuth is HTTP basic authentication against a list of users.
type BasicAuth struct {
	Realm string
	Users []User
}

// Equal reports whether a and o are the same.
func (a *BasicAuth) Equal(o *BasicAuth) bool {
	if a == nil || o == nil {
		return a == o
	}
	return a.Realm == o.Realm && slices.Equal(a.Users, o.Users)
}

// User is a user name and its crypt(3) password hash.
type User struct{ Name, Hash string }

// CORS is a cross-origin resource sharing policy, as typed lists.
type CORS struct {
	// Origins are scheme://host[:port] origins, or any origin.
	Origins List
	// Methods and Headers are listed in the preflight answer; an empty list is not sent.
	Methods, Headers List
	Credentials      bool
	MaxAge           time.Duration
}

// Equal reports whether c and o are the same.
func (c *CORS) Equal(o *CORS) bool {
	if c == nil || o == nil {
		return c == o
	}
	return c.Origins.Equal(o.Origins) && c.Methods.Equal(o.Methods) && c.Headers.Equal(o.Headers) &&
		c.Credentials == o.Credentials && c.MaxAge == o.MaxAge
}

// List is "*" (Any) or a list of items.
type List struct {
	Any   bool
	Items []string
}

// Empty reports a list that is neither "*" nor has an item.
func (l List) Empty() bool { return !l.Any && len(l.Items) == 0 }

// Equal reports whether l and o are the same.
func (l List) Equal(o List) bool { return l.Any == o.Any && slices.Equal(l.Items, o.Items) }

// String is "*" or the items separated by ", ", as in HTTP header lists.
func (l List) String() string {
	if l.Any {
		return "*"
	}
	return strings.Join(l.Items, ", ")
}

// Header is a header name and a value made of safe characters only.
type Header struct{ Name, Value string }
