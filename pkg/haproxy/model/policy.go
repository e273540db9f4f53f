package model

import (
	"net/netip"
	"time"
)

// Policy is how a backend treats requests and servers: the settings an operator chose with
// annotations and the ConfigMap. Backends of the same Service port with different policies are
// separate backends. Every string has been validated by the annotation registry; the renderer
// checks each again against its own character set.
type Policy struct {
	// Balance is the argument of HAProxy's balance keyword, e.g. "leastconn" or "uri whole";
	// empty: roundrobin.
	Balance string
	// Timeouts; zero: the defaults section's.
	TimeoutServer, TimeoutConnect, TimeoutQueue, TimeoutTunnel time.Duration
	// Check turns server health checks on, every CheckInterval; CheckPath makes them HTTP.
	Check         bool
	CheckInterval time.Duration
	CheckPath     string
	// Cookie is the name of a cookie pinning a client to a server; empty: no persistence.
	Cookie string
	// SendProxy is the server keyword for the PROXY protocol ("send-proxy", "send-proxy-v2",
	// ...); empty: none.
	SendProxy string
	// ForwardedFor adds X-Forwarded-For.
	ForwardedFor bool

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
	// HSTS adds Strict-Transport-Security with this max-age to HTTPS responses; zero: none.
	HSTS time.Duration

	// ServerTLS, when set, makes HAProxy connect to the servers over TLS.
	ServerTLS *ServerTLS
	// ServerH2 speaks HTTP/2 to the servers.
	ServerH2 bool
	// Unavailable answers every request with 503: a setting the backend needs could not be
	// honoured safely (for example its server CA is missing), so it fails closed.
	Unavailable bool
}

// ServerTLS is how HAProxy speaks TLS to a backend's servers.
type ServerTLS struct {
	// CA verifies the servers' certificates; nil: no verification.
	CA *Certificate
	// Client is presented to the servers as a client certificate; nil: none.
	Client *Certificate
}

// Rewrite replaces a path prefix.
type Rewrite struct{ From, To string }

// Redirect is a redirect of every request to another origin.
type Redirect struct {
	// Location is scheme://host[:port][/path]; the request's path and query are appended.
	Location string
	Code     int
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

// User is a user name and its crypt(3) password hash.
type User struct{ Name, Hash string }

// CORS is a cross-origin resource sharing policy.
type CORS struct {
	// Origin is "*" or a comma-separated list of origins.
	Origin      string
	Methods     string
	Headers     string
	Credentials bool
	MaxAge      time.Duration
}

// Header is a header name and a value made of safe characters only.
type Header struct{ Name, Value string }
