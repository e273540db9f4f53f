// Package model holds the desired state of the proxy as plain values: what the sources (Ingress
// translation today; Gateway API routes and TCP services next) produce and what the renderer turns
// into haproxy.cfg and map files. It is the contract between them.
//
// It speaks HAProxy's concepts (listeners, routes with match conditions and policies, weighted
// backends, servers) and knows nothing about Kubernetes; it does not name HAProxy sections either:
// pkg/haproxy decides how routes and backends become frontends, maps and backend sections.
//
// Every string in it has been validated by its producer; the renderer validates again before
// anything reaches a file, because this is the boundary where user input would turn into
// configuration. Every route, backend and certificate carries the objects it comes from, so that
// a piece that still fails to render can be left out and reported without stopping the rest.
package model

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// Config is the complete desired state of one HAProxy instance.
type Config struct {
	// Listeners are where HAProxy accepts connections, sorted by Name.
	Listeners []Listener
	// Stats serves HAProxy's own Prometheus exporter at /metrics; a zero port disables it.
	Stats Bind
	// Monitor is the health check of an external load balancer in front of this HAProxy.
	Monitor Monitor
	// HTTPRoutes are served on every HTTP and HTTPS listener, sorted (see CompareRoutes).
	HTTPRoutes []HTTPRoute
	// TCPRoutes send the connections of TCP listeners to backends.
	TCPRoutes []TCPRoute
	// HTTPSRedirects are hosts whose plain-HTTP requests are redirected to HTTPS, sorted by Host.
	HTTPSRedirects []HTTPSRedirect
	// DefaultBackend names the backend for HTTP requests no route matches. Empty means the
	// built-in default backend, which answers 404.
	DefaultBackend string
	// Backends are sorted by name (see Normalize).
	Backends []Backend
	// SlotStep is the default server-slot step of backends (0: the renderer's default).
	SlotStep int
	// Spares is the pool of spare backend sections kept ready for new backends.
	Spares Spares
	// Global holds process-wide settings.
	Global Global
}

// Spares shapes the pool of spare backend sections: empty sections with server slots, declared
// in advance so that a new backend can take one through the runtime API instead of a reload.
// Only a backend with Policy and no route policy can take a spare, and only one that fits: the
// spare's slots are rendered with Policy's server options.
type Spares struct {
	// Count is the number of spare sections; 0: none.
	Count int
	// Slots is the number of server slots of each.
	Slots int
	// Policy is the backend policy the spares are rendered with: the policy a backend gets
	// when nothing but the controller's defaults (the ConfigMap) sets it.
	Policy BackendPolicy
}

// Equal reports whether s and o are the same pool.
func (s Spares) Equal(o Spares) bool {
	return s.Count == o.Count && s.Slots == o.Slots && s.Policy.Equal(o.Policy)
}

// Global is the process-wide tuning from the ConfigMap. Zero values keep HAProxy's or the
// renderer's defaults.
type Global struct {
	// ErrorPages answers the errors HAProxy makes with Portcullis's pages rather than HAProxy's
	// built-in ones (see ErrorPageStatuses in the renderer).
	ErrorPages bool `json:",omitempty"`
	MaxConn    int
	NbThread   int
	// Default timeouts.
	TimeoutClient, TimeoutConnect, TimeoutServer, TimeoutHTTPRequest, TimeoutHTTPKeepAlive, TimeoutQueue, TimeoutTunnel time.Duration
	HardStopAfter                                                                                                       time.Duration
	// LogTarget is "stdout" or host:port of a syslog server; empty: no traffic log.
	LogTarget string
	// LogFormat is "default", "json" or "clf".
	LogFormat string
	// SSLMinVer is "TLSv1.2" or "TLSv1.3"; empty: HAProxy's default.
	SSLMinVer string
	// SSLCiphers and SSLCipherSuites are OpenSSL lists; empty: HAProxy's defaults.
	SSLCiphers, SSLCipherSuites string
	// AcceptProxy lists the networks (load balancers) whose connections to every listener must
	// start with a PROXY protocol header. Sorted.
	AcceptProxy []netip.Prefix
	// Sources are the objects the settings come from (the controller's ConfigMap).
	Sources []diag.Object
}

// Equal reports whether g and o are the same settings, wherever they come from.
func (g Global) Equal(o Global) bool {
	return g.ErrorPages == o.ErrorPages && g.MaxConn == o.MaxConn && g.NbThread == o.NbThread && g.TimeoutClient == o.TimeoutClient &&
		g.TimeoutConnect == o.TimeoutConnect && g.TimeoutServer == o.TimeoutServer &&
		g.TimeoutHTTPRequest == o.TimeoutHTTPRequest && g.TimeoutHTTPKeepAlive == o.TimeoutHTTPKeepAlive &&
		g.TimeoutQueue == o.TimeoutQueue && g.TimeoutTunnel == o.TimeoutTunnel && g.HardStopAfter == o.HardStopAfter &&
		g.LogTarget == o.LogTarget && g.LogFormat == o.LogFormat && g.SSLMinVer == o.SSLMinVer &&
		g.SSLCiphers == o.SSLCiphers && g.SSLCipherSuites == o.SSLCipherSuites && slices.Equal(g.AcceptProxy, o.AcceptProxy)
}

// Bind is an address and port HAProxy listens on.
type Bind struct {
	Address netip.Addr
	Port    uint16
}

// String is address:port, with brackets around an IPv6 address.
func (b Bind) String() string { return netip.AddrPortFrom(b.Address, b.Port).String() }

// Conflicts reports whether two binds cannot both be listened on: the same port on the same
// address. A specific address and the unspecified one (0.0.0.0, ::) may share a port: Linux
// gives a connection to the most specific listening socket, and HAProxy binds with SO_REUSEADDR.
// An IPv4-mapped IPv6 address is its IPv4 address. Two unspecified addresses of different families (0.0.0.0 and ::) do not conflict either: an
// IPv4 socket takes precedence over a dual-stack IPv6 one for IPv4 connections.
func (b Bind) Conflicts(o Bind) bool {
	return b.Port == o.Port && b.Address.Unmap() == o.Address.Unmap()
}

// Monitor answers an external load balancer's health check: GET /healthz on its port is 200 while
// this HAProxy should get traffic and 503 once Down (the pod is stopping), so that the load
// balancer takes the node out before connections are cut. A zero port disables it.
type Monitor struct {
	Bind
	Down bool
}

// Protocol is what a listener speaks.
type Protocol string

const (
	// HTTP serves HTTPRoutes over plain HTTP.
	HTTP Protocol = "HTTP"
	// HTTPS terminates TLS with the listener's certificates and serves HTTPRoutes.
	HTTPS Protocol = "HTTPS"
	// TCP forwards connections to the backend of the listener's TCPRoute.
	TCP Protocol = "TCP"
)

// Listener is an address and port with what it speaks.
type Listener struct {
	// Name is unique, made of [a-z0-9_-]; it names the bind in HAProxy's statistics.
	Name string
	Bind
	Protocol Protocol
	// AcceptProxy lists the networks whose connections must begin with a PROXY protocol header
	// (v1 or v2); connections from elsewhere are served as they are. Sorted.
	AcceptProxy []netip.Prefix
	// TLS holds the certificates of an HTTPS listener; nil for other protocols.
	TLS *ListenerTLS
	// Table names the route table an HTTP or HTTPS listener serves: the HTTPRoutes whose
	// Match.Table is the same. Empty is the default table: Ingress routes, and Gateways that
	// share the controller's own address. Made of [a-z0-9_-], at most limits.MaxBackendNameLen.
	Table string
	// Sources are the objects that asked for the listener; none for the operator's own.
	Sources []diag.Object
}

// ListenerTLS is the certificate configuration of an HTTPS listener.
type ListenerTLS struct {
	// Default is served to clients whose SNI matches no certificate.
	Default Certificate
	// Certificates are each served for their SNI names, with their client-certificate
	// settings. One certificate (one Name) may be listed several times with different
	// client-certificate settings, each time for other names: an SNI name appears once in a
	// listener. Sorted by Name, then client-certificate settings (see CompareCertificates).
	Certificates []Certificate
}

// HTTPSRedirect redirects plain-HTTP requests for a host to HTTPS, or says it is not redirected.
type HTTPSRedirect struct {
	// Host is exact or a "*." wildcard.
	Host string
	// Code is the HTTP status of the redirect (301, 302, 303, 307 or 308).
	Code int
	// Port is the port in the redirect's Location; 443 is left out.
	Port uint16
	// Off says the host is not redirected, whatever a wildcard covering it says.
	Off bool
}

// Certificate is a certificate chain with its private key, in PEM.
type Certificate struct {
	// Name is the file name: the hex SHA-256 of PEM plus ".pem", never a user string.
	Name string
	PEM  []byte
	// SNI lists the host names (exact or "*." wildcards) it is served for. Sorted.
	SNI []string
	// ClientCA, when set, verifies client certificates on these names; ClientOptional lets
	// clients without a certificate through.
	ClientCA       *Certificate
	ClientOptional bool
	// Sources are the objects the certificate and its names come from.
	Sources []diag.Object
}

// ClientAuth is c's client-certificate check, nil when it has none.
func (c Certificate) ClientAuth() *ClientAuth {
	if c.ClientCA == nil {
		return nil
	}
	return &ClientAuth{CA: c.ClientCA.Name, Optional: c.ClientOptional}
}

// CompareCertificates orders the certificates of a listener: by Name, then client-certificate
// settings (none first, then by CA and required before optional).
func CompareCertificates(a, b Certificate) int {
	if c := cmp.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return CompareClientAuth(a.ClientAuth(), b.ClientAuth())
}

// ClientAuth is a client-certificate check: of the TLS connections of some SNI names (see
// Certificate), and of the requests of a route (see RoutePolicy).
type ClientAuth struct {
	// CA is the name of the CA bundle's file (see CertName) that client certificates must
	// chain to.
	CA string
	// Optional lets clients without a certificate through; a certificate that is presented
	// must still be valid.
	Optional bool
}

// CompareClientAuth orders client-certificate checks: none first, then by CA, required before
// optional.
func CompareClientAuth(a, b *ClientAuth) int {
	switch {
	case a == nil || b == nil:
		return cmpBool(a != nil, b != nil)
	}
	if c := cmp.Compare(a.CA, b.CA); c != 0 {
		return c
	}
	return cmpBool(a.Optional, b.Optional)
}

// PathMatch says how a route's path is compared with the request path.
type PathMatch int

const (
	// MatchExact matches the request path exactly, case-sensitively.
	MatchExact PathMatch = iota
	// MatchPrefix matches element-wise: "/foo" matches "/foo" and "/foo/bar", not "/foobar".
	MatchPrefix
	// MatchRegex matches the path against a regular expression (PCRE, as HAProxy reads it; the
	// producer checks it as RE2, a subset).
	MatchRegex
)

func (m PathMatch) String() string {
	switch m {
	case MatchExact:
		return "Exact"
	case MatchRegex:
		return "RegularExpression"
	}
	return "Prefix"
}

// HTTPMatch is the condition under which an HTTP route takes a request.
type HTTPMatch struct {
	// Table is the route table the route belongs to: it is served by the listeners whose Table
	// is the same (see Listener.Table). Two routes in different tables never conflict.
	Table string
	// Host is a lower-case DNS name, a wildcard "*.example.com" matching exactly one label
	// (Ingress) or one or more (MultiLabel), or empty for every host.
	Host string
	// MultiLabel says that the wildcard Host matches one or more labels, as in the Gateway API:
	// "*.example.com" matches foo.example.com and foo.bar.example.com, not example.com. Among
	// the wildcards that match a request's host, the longest takes it first. Only with a "*."
	// Host.
	MultiLabel bool
	// Path starts with "/". For MatchPrefix it carries no trailing slash except for "/" itself.
	Path string
	Kind PathMatch
}

// RouteKey is what two routes that cannot both be served have in common: the same match and the
// same further conditions.
type RouteKey struct {
	HTTPMatch
	// Conditions is a canonical form of the route's header, query and method conditions.
	Conditions string
}

// ValueMatch is a condition on a named request value (a header or a query parameter): equal to
// Value, or matching it as a regular expression; with Negate, the opposite (an absent value
// then meets the condition).
type ValueMatch struct {
	Name, Value string
	Regex       bool
	Negate      bool `json:",omitempty"`
}

// HTTPRoute sends the requests that match it to its backends, after its policy.
type HTTPRoute struct {
	Match HTTPMatch
	// Headers, Query and Method narrow the match further: each one must hold. Header names are
	// compared case-insensitively. A route with any of them, or with a regular-expression
	// path, is conditional: the renderer writes the routes of its host as rules in precedence
	// order instead of map entries, so changing them takes a reload.
	Headers []ValueMatch
	Query   []ValueMatch
	Method  string
	// Policy is what the route does to requests before they reach a backend.
	Policy RoutePolicy
	// Backends share the route's requests by weight. One backend with any weight takes them
	// all. The servers of several backends on one route are balanced with the first backend's
	// policy.
	Backends []WeightedBackend
	// Source is the object the route comes from.
	Source diag.Object
	// Rank breaks ties of precedence between conditional routes of one host that are equally
	// specific: the lower rank is tried first (Gateway API: the older HTTPRoute, then the
	// earlier rule and match). It is not part of the route's key.
	Rank int
}

// WeightedBackend is a backend with its share of a route's requests, relative to the route's
// other backends.
type WeightedBackend struct {
	// Name is the backend's. Empty stands for a reference that could not be resolved (Gateway
	// API): the requests that would have gone to it are answered 500.
	Name string
	// Weight is relative to the route's other backends, 0 to 256; a backend of weight 0 gets
	// no requests.
	Weight int
}

// TCPRoute sends connections to a backend unterminated: all the connections of a TCP listener, or
// the TLS connections whose SNI is SNI (TLS passthrough) on a TCP or HTTPS listener. On an HTTPS
// listener, connections whose SNI no route takes are terminated as usual.
type TCPRoute struct {
	Listener string
	// SNI is a lower-case host name or "*." wildcard; empty: every connection (TCP listeners).
	SNI string
	// MultiLabel says that the wildcard SNI matches one or more labels, as in the Gateway API
	// (TLSRoute): "*.example.com" matches a.b.example.com too, and the longest wildcard that
	// matches takes the connection. Otherwise a wildcard matches exactly one label (Ingress).
	MultiLabel bool
	Backend    string
	Source     diag.Object
}

// Backend is a pool of servers for one Service port.
type Backend struct {
	// Name is unique and made of [a-z0-9_-] only.
	Name    string
	Servers []Server
	// SlotStep overrides the configuration's server-slot step for this backend (0: inherit).
	SlotStep int
	// Policy is how the backend treats its servers.
	Policy BackendPolicy
	// Sources are the objects the backend's settings come from.
	Sources []diag.Object
}

// SlotCapacity is the number of server slots a backend section has for n servers with the given
// server-slot step (0: limits.DefaultSlotStep): whole steps, with at least half a step free, so
// that a scale-up by a few endpoints never needs a reload. The renderer sizes sections with it;
// translation counts slots against the slot budget with it.
func SlotCapacity(n, step int) int {
	if step <= 0 {
		step = limits.DefaultSlotStep
	}
	return step * ((n+step/2)/step + 1)
}

// Server is one endpoint of a backend.
type Server struct {
	Address netip.Addr
	Port    uint16
	// Draining servers finish their requests and get no new ones (a terminating endpoint that
	// is still serving).
	Draining bool
	// Weight is the server's share of the backend's requests relative to the others, 1 to 256;
	// 0 means 1.
	Weight int
}

// EffectiveWeight is the weight HAProxy uses for s.
func (s Server) EffectiveWeight() int {
	if s.Weight <= 0 {
		return 1
	}
	return min(s.Weight, 256)
}

// Backend returns the backend with the given name, or false.
func (c *Config) Backend(name string) (Backend, bool) {
	i, ok := slices.BinarySearchFunc(c.Backends, name, func(b Backend, n string) int { return cmp.Compare(b.Name, n) })
	if !ok {
		return Backend{}, false
	}
	return c.Backends[i], true
}

// Listener returns the listener with the given name, or false.
func (c *Config) Listener(name string) (Listener, bool) {
	for _, l := range c.Listeners {
		if l.Name == name {
			return l, true
		}
	}
	return Listener{}, false
}

// HasHTTPS reports whether a listener terminates TLS.
func (c *Config) HasHTTPS() bool {
	return slices.ContainsFunc(c.Listeners, func(l Listener) bool { return l.Protocol == HTTPS })
}

// Normalize sorts every list into its canonical order so that equal configurations render to
// equal bytes.
func (c *Config) Normalize() {
	slices.SortFunc(c.Listeners, func(a, b Listener) int { return cmp.Compare(a.Name, b.Name) })
	for i := range c.Listeners {
		l := &c.Listeners[i]
		slices.SortFunc(l.AcceptProxy, comparePrefix)
		if l.TLS != nil {
			slices.SortFunc(l.TLS.Certificates, CompareCertificates)
			for j := range l.TLS.Certificates {
				slices.Sort(l.TLS.Certificates[j].SNI)
				sortObjects(l.TLS.Certificates[j].Sources)
			}
		}
	}
	slices.SortFunc(c.Backends, func(a, b Backend) int { return cmp.Compare(a.Name, b.Name) })
	for i := range c.Backends {
		slices.SortFunc(c.Backends[i].Servers, CompareServers)
		sortObjects(c.Backends[i].Sources)
	}
	slices.SortFunc(c.HTTPRoutes, CompareRoutes)
	slices.SortFunc(c.TCPRoutes, func(a, b TCPRoute) int {
		if c := cmp.Compare(a.Listener, b.Listener); c != 0 {
			return c
		}
		if c := cmp.Compare(a.SNI, b.SNI); c != 0 {
			return c
		}
		return cmpBool(a.MultiLabel, b.MultiLabel)
	})
	slices.SortFunc(c.HTTPSRedirects, func(a, b HTTPSRedirect) int { return cmp.Compare(a.Host, b.Host) })
	sortObjects(c.Global.Sources)
	slices.SortFunc(c.Global.AcceptProxy, comparePrefix)
}

func sortObjects(objs []diag.Object) {
	slices.SortFunc(objs, diag.Compare)
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Bits(), b.Bits())
}

// CompareServers orders servers by address, then port.
func CompareServers(a, b Server) int {
	if c := a.Address.Compare(b.Address); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Port, b.Port); c != 0 {
		return c
	}
	return cmpBool(a.Draining, b.Draining)
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// CompareMatches orders matches by table, host (one-label wildcard before multi-label), path,
// then match kind.
func CompareMatches(a, b HTTPMatch) int {
	if c := cmp.Compare(a.Table, b.Table); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Host, b.Host); c != 0 {
		return c
	}
	if c := cmpBool(a.MultiLabel, b.MultiLabel); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Path, b.Path); c != 0 {
		return c
	}
	return cmp.Compare(a.Kind, b.Kind)
}

// CompareRoutes orders routes by their match, then their conditions.
func CompareRoutes(a, b HTTPRoute) int {
	if c := CompareMatches(a.Match, b.Match); c != 0 {
		return c
	}
	return cmp.Compare(a.conditions(), b.conditions())
}

// Conditional reports a route that narrows its match beyond host and a plain path.
func (r HTTPRoute) Conditional() bool {
	return r.Match.Kind == MatchRegex || len(r.Headers) > 0 || len(r.Query) > 0 || r.Method != ""
}

// Key is what the route conflicts on.
func (r HTTPRoute) Key() RouteKey { return RouteKey{HTTPMatch: r.Match, Conditions: r.conditions()} }

// conditions is a canonical form of the header, query and method conditions.
func (r HTTPRoute) conditions() string {
	if len(r.Headers) == 0 && len(r.Query) == 0 && r.Method == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString(r.Method)
	for _, l := range [][]ValueMatch{sortedMatches(r.Headers, true), sortedMatches(r.Query, false)} {
		b.WriteString("|")
		for _, m := range l {
			if m.Negate {
				b.WriteString("!")
			}
			fmt.Fprintf(&b, "%q=%t:%q;", m.Name, m.Regex, m.Value)
		}
	}
	return b.String()
}

func sortedMatches(ms []ValueMatch, foldName bool) []ValueMatch {
	out := slices.Clone(ms)
	for i := range out {
		if foldName {
			out[i].Name = strings.ToLower(out[i].Name)
		}
	}
	slices.SortFunc(out, func(a, b ValueMatch) int {
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Value, b.Value); c != 0 {
			return c
		}
		if c := cmp.Compare(boolInt(a.Regex), boolInt(b.Regex)); c != 0 {
			return c
		}
		return cmp.Compare(boolInt(a.Negate), boolInt(b.Negate))
	})
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
