// Package model holds the desired state of the proxy as plain values: what the translation from
// Kubernetes objects produces and what the renderer turns into haproxy.cfg and map files.
//
// It knows nothing about Kubernetes. Every string in it has been validated by its producer; the
// renderer validates again before anything reaches a file, because this is the boundary where user
// input would turn into configuration.
package model

import (
	"cmp"
	"net/netip"
	"slices"
	"time"
)

// Config is the complete desired state of one HAProxy instance.
type Config struct {
	// HTTP is the plain-HTTP entry point.
	HTTP Bind
	// HTTPS is the TLS entry point; it needs TLS.Default.
	HTTPS Bind
	// Stats serves HAProxy's own Prometheus exporter at /metrics; a zero port disables it.
	Stats Bind
	// TLS holds the certificates and the hosts redirected from HTTP to HTTPS.
	TLS TLS
	// Routes are host and path rules, each naming a backend from Backends.
	Routes []Route
	// DefaultBackend names the backend for requests no route matches. Empty means the built-in
	// default backend, which answers 404.
	DefaultBackend string
	// Backends are sorted by name (see Normalize).
	Backends []Backend
	// SlotStep is the default server-slot step of backends (0: the renderer's default).
	SlotStep int
	// Global holds process-wide settings.
	Global Global
}

// Global is the process-wide tuning from the ConfigMap. Zero values keep HAProxy's or the
// renderer's defaults.
type Global struct {
	MaxConn  int
	NbThread int
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
}

// Bind is an address and port HAProxy listens on.
type Bind struct {
	Address netip.Addr
	Port    uint16
}

// TLS is the certificate configuration of the HTTPS entry point.
type TLS struct {
	// Default is served to clients whose SNI matches no certificate.
	Default Certificate
	// Certificates are sorted by Name; each is served for its SNI names.
	Certificates []Certificate
	// RedirectHosts are hosts (exact, or "*." wildcards) whose plain-HTTP requests are
	// redirected to HTTPS. Sorted.
	RedirectHosts []string
	// RedirectCode is the HTTP status of that redirect (301, 302, 303, 307 or 308).
	RedirectCode int
	// RedirectPort is the port in the redirect's Location; 443 is left out.
	RedirectPort uint16
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
}

// PathMatch says how a route's path is compared with the request path.
type PathMatch int

const (
	// MatchExact matches the request path exactly, case-sensitively.
	MatchExact PathMatch = iota
	// MatchPrefix matches element-wise: "/foo" matches "/foo" and "/foo/bar", not "/foobar".
	MatchPrefix
)

func (m PathMatch) String() string {
	if m == MatchExact {
		return "Exact"
	}
	return "Prefix"
}

// Route sends requests for Host and Path to Backend.
type Route struct {
	// Host is a lower-case DNS name, a wildcard "*.example.com" matching exactly one label, or
	// empty for every host.
	Host string
	// Path starts with "/". For MatchPrefix it carries no trailing slash except for "/" itself.
	Path    string
	Match   PathMatch
	Backend string
}

// Backend is a pool of servers for one Service port.
type Backend struct {
	// Name is unique and made of [a-z0-9_-] only.
	Name    string
	Servers []Server
	// SlotStep overrides the configuration's server-slot step for this backend (0: inherit).
	SlotStep int
	// Policy holds the operator's settings for the backend.
	Policy Policy
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

// Normalize sorts every list into its canonical order so that equal configurations render to
// equal bytes.
func (c *Config) Normalize() {
	slices.SortFunc(c.Backends, func(a, b Backend) int { return cmp.Compare(a.Name, b.Name) })
	for i := range c.Backends {
		slices.SortFunc(c.Backends[i].Servers, CompareServers)
	}
	slices.SortFunc(c.Routes, CompareRoutes)
	slices.SortFunc(c.TLS.Certificates, func(a, b Certificate) int { return cmp.Compare(a.Name, b.Name) })
	for i := range c.TLS.Certificates {
		slices.Sort(c.TLS.Certificates[i].SNI)
	}
	slices.Sort(c.TLS.RedirectHosts)
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

// CompareRoutes orders routes by host, path, then match kind.
func CompareRoutes(a, b Route) int {
	if c := cmp.Compare(a.Host, b.Host); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Path, b.Path); c != 0 {
		return c
	}
	return cmp.Compare(a.Match, b.Match)
}
