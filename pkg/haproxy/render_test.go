package haproxy_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	parser "github.com/haproxytech/client-native/v5/config-parser"
	"github.com/haproxytech/client-native/v5/config-parser/options"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

var testEnv = haproxy.Env{RuntimeDir: "/run/portcullis"}

var anyAddr = netip.MustParseAddr("0.0.0.0")

// httpListener is the plain-HTTP listener of most tests.
func httpListener() model.Listener {
	return model.Listener{Name: "http", Bind: model.Bind{Address: anyAddr, Port: 8080}, Protocol: model.HTTP}
}

// configFor returns a valid configuration serving routes, with one empty backend for every
// backend name the routes use.
func configFor(routes ...model.HTTPRoute) model.Config {
	cfg := model.Config{Listeners: []model.Listener{httpListener()}, HTTPRoutes: routes}
	seen := map[string]bool{}
	for _, r := range routes {
		for _, b := range r.Backends {
			if !seen[b.Name] {
				seen[b.Name] = true
				cfg.Backends = append(cfg.Backends, model.Backend{Name: b.Name})
			}
		}
	}
	slices.SortFunc(cfg.Backends, func(a, b model.Backend) int { return strings.Compare(a.Name, b.Name) })
	return cfg
}

// exactRoute and prefixRoute are routes to one backend with the zero route policy: their
// section is the backend alone, named after it.
func exactRoute(host, path, backend string) model.HTTPRoute {
	return model.HTTPRoute{Match: model.HTTPMatch{Host: host, Path: path, Kind: model.MatchExact}, Backends: []model.WeightedBackend{{Name: backend, Weight: 1}}}
}

func prefixRoute(host, path, backend string) model.HTTPRoute {
	return model.HTTPRoute{Match: model.HTTPMatch{Host: host, Path: path, Kind: model.MatchPrefix}, Backends: []model.WeightedBackend{{Name: backend, Weight: 1}}}
}

// withPolicy returns rt with the route policy p.
func withPolicy(rt model.HTTPRoute, p model.RoutePolicy) model.HTTPRoute {
	rt.Policy = p
	return rt
}

func TestRenderMapFiles(t *testing.T) {
	tests := []struct {
		name       string
		routes     []model.HTTPRoute
		wantExact  string
		wantPrefix string
	}{
		{
			name: "no routes give empty maps",
		},
		{
			name:      "an Exact route is one key in the exact map",
			routes:    []model.HTTPRoute{exactRoute("example.com", "/foo", "a")},
			wantExact: "example.com/foo a\n",
		},
		{
			name:      "an Exact route keeps its trailing slash",
			routes:    []model.HTTPRoute{exactRoute("example.com", "/foo/", "a")},
			wantExact: "example.com/foo/ a\n",
		},
		{
			name:      "an Exact root is the host and a slash",
			routes:    []model.HTTPRoute{exactRoute("example.com", "/", "a")},
			wantExact: "example.com/ a\n",
		},
		{
			name:       "a Prefix route is its bare form in the exact map and its slash form in the prefix map",
			routes:     []model.HTTPRoute{prefixRoute("example.com", "/foo", "a")},
			wantExact:  "example.com/foo a\n",
			wantPrefix: "example.com/foo/ a\n",
		},
		{
			name:       "the Prefix root is only in the prefix map",
			routes:     []model.HTTPRoute{prefixRoute("example.com", "/", "a")},
			wantPrefix: "example.com/ a\n",
		},
		{
			name:       "routes without a host are keyed by their path alone",
			routes:     []model.HTTPRoute{prefixRoute("", "/", "a"), exactRoute("", "/health", "b"), prefixRoute("", "/api", "c")},
			wantExact:  "/health b\n/api c\n",
			wantPrefix: "/ a\n/api/ c\n",
		},
		{
			name:       "a wildcard host keeps its *. in the key",
			routes:     []model.HTTPRoute{prefixRoute("*.example.com", "/app", "a")},
			wantExact:  "*.example.com/app a\n",
			wantPrefix: "*.example.com/app/ a\n",
		},
		{
			name:       "an Exact route wins over the bare form of an equal Prefix, Exact listed first",
			routes:     []model.HTTPRoute{exactRoute("example.com", "/docs", "index"), prefixRoute("example.com", "/docs", "tree")},
			wantExact:  "example.com/docs index\n",
			wantPrefix: "example.com/docs/ tree\n",
		},
		{
			name:       "an Exact route wins over the bare form of an equal Prefix, Prefix listed first",
			routes:     []model.HTTPRoute{prefixRoute("example.com", "/docs", "tree"), exactRoute("example.com", "/docs", "index")},
			wantExact:  "example.com/docs index\n",
			wantPrefix: "example.com/docs/ tree\n",
		},
		{
			name:       "an Exact route with a trailing slash does not override a Prefix's slash form",
			routes:     []model.HTTPRoute{prefixRoute("example.com", "/docs", "tree"), exactRoute("example.com", "/docs/", "index")},
			wantExact:  "example.com/docs tree\nexample.com/docs/ index\n",
			wantPrefix: "example.com/docs/ tree\n",
		},
		{
			name:       "nested prefixes each get both forms",
			routes:     []model.HTTPRoute{prefixRoute("example.com", "/foo", "a"), prefixRoute("example.com", "/foo/bar", "b")},
			wantExact:  "example.com/foo a\nexample.com/foo/bar b\n",
			wantPrefix: "example.com/foo/ a\nexample.com/foo/bar/ b\n",
		},
		{
			name:       "the same path on two hosts is two keys",
			routes:     []model.HTTPRoute{prefixRoute("a.example.com", "/", "a"), prefixRoute("b.example.com", "/", "b")},
			wantPrefix: "a.example.com/ a\nb.example.com/ b\n",
		},
		{
			name:      "lines follow the order of the routes",
			routes:    []model.HTTPRoute{exactRoute("z.example.com", "/", "z"), exactRoute("a.example.com", "/", "a")},
			wantExact: "z.example.com/ z\na.example.com/ a\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := haproxy.Render(configFor(tt.routes...), testEnv)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if got := string(files[haproxy.ExactMapFile]); got != tt.wantExact {
				t.Errorf("%s:\ngot\n%s\nwant\n%s", haproxy.ExactMapFile, got, tt.wantExact)
			}
			if got := string(files[haproxy.PrefixMapFile]); got != tt.wantPrefix {
				t.Errorf("%s:\ngot\n%s\nwant\n%s", haproxy.PrefixMapFile, got, tt.wantPrefix)
			}
		})
	}
}

// validConfig is a small configuration that renders; the rejection cases each break one value.
func validConfig() model.Config {
	return model.Config{
		Listeners: []model.Listener{httpListener()},
		HTTPRoutes: []model.HTTPRoute{
			prefixRoute("example.com", "/", "ns_web_80"),
			exactRoute("", "/health", "ns_web_80"),
		},
		Backends: []model.Backend{{Name: "ns_web_80", Servers: []model.Server{
			{Address: netip.MustParseAddr("10.0.0.1"), Port: 8080},
		}}},
	}
}

func withBackendName(name string) func(*model.Config, *haproxy.Env) {
	return func(c *model.Config, _ *haproxy.Env) {
		c.Backends[0].Name = name
		for i := range c.HTTPRoutes {
			c.HTTPRoutes[i].Backends[0].Name = name
		}
	}
}

func withPath(path string) func(*model.Config, *haproxy.Env) {
	return func(c *model.Config, _ *haproxy.Env) { c.HTTPRoutes[0].Match.Path = path }
}

func withHost(host string) func(*model.Config, *haproxy.Env) {
	return func(c *model.Config, _ *haproxy.Env) { c.HTTPRoutes[0].Match.Host = host }
}

func withServer(addr netip.Addr, port uint16) func(*model.Config, *haproxy.Env) {
	return func(c *model.Config, _ *haproxy.Env) {
		c.Backends[0].Servers = []model.Server{{Address: addr, Port: port}}
	}
}

func withRuntimeDir(dir string) func(*model.Config, *haproxy.Env) {
	return func(_ *model.Config, e *haproxy.Env) { e.RuntimeDir = dir }
}

// hostOfLength builds a valid host name of exactly n bytes from labels of at most 63.
func hostOfLength(n int) string {
	var labels []string
	for n > 0 {
		l := min(n, 63)
		if n-l == 1 { // a dot needs a label after it
			l--
		}
		labels = append(labels, strings.Repeat("a", l))
		n -= l + 1
	}
	return strings.Join(labels, ".")
}

func TestRenderRejectsUnsafeValues(t *testing.T) {
	zoned := netip.MustParseAddr("fe80::1%eth0")
	zonedInjection, err := netip.ParseAddr("fe80::1%x]:80\nglobal\n  lua-load /tmp/x.lua\n#")
	if err != nil {
		t.Fatalf("netip no longer accepts any zone: %v", err)
	}
	tests := []struct {
		name   string
		change func(*model.Config, *haproxy.Env)
	}{
		{"an empty backend name", withBackendName("")},
		{"a backend name with upper case", withBackendName("ns_Web_80")},
		{"a backend name with a space", withBackendName("ns web")},
		{"a backend name with a newline", withBackendName("ns_web\nbackend evil")},
		{"a backend name with a dot", withBackendName("ns.web")},
		{"a backend name with a #", withBackendName("ns#web")},
		{"a backend name with a quote", withBackendName(`ns"web`)},
		{"a backend name with a sample fetch", withBackendName("%[env(HOME)]")},
		{"a backend name with non-ASCII letters", withBackendName("w\u00e9b")},
		{"a backend name one character too long", withBackendName(strings.Repeat("a", limits.MaxBackendNameLen+1))},
		{"a backend named like the built-in default backend", withBackendName(haproxy.DefaultBackend)},
		{"two backends of the same name", func(c *model.Config, _ *haproxy.Env) {
			c.Backends = append(c.Backends, model.Backend{Name: c.Backends[0].Name})
		}},
		{"a route to an undefined backend", func(c *model.Config, _ *haproxy.Env) { c.HTTPRoutes[0].Backends[0].Name = "ns_gone_80" }},
		{"an undefined default backend", func(c *model.Config, _ *haproxy.Env) { c.DefaultBackend = "ns_gone_80" }},
		{"a default backend with a space", func(c *model.Config, _ *haproxy.Env) { c.DefaultBackend = "ns_web_80 if TRUE" }},
		{"an empty path", withPath("")},
		{"a relative path", withPath("foo")},
		{"a path with a space", withPath("/a b")},
		{"a path with a newline", withPath("/a\n/b ns_web_80")},
		{"a path with a carriage return", withPath("/a\r")},
		{"a path with a tab", withPath("/a\tb")},
		{"a path with a #", withPath("/a#b")},
		{"a path with a query", withPath("/a?b")},
		{"a path with a double quote", withPath(`/a"b`)},
		{"a path with a backslash", withPath(`/a\b`)},
		{"a path with a sample fetch", withPath("/%[env(HOME)]")},
		{"a path with non-ASCII characters", withPath("/\u00e9")},
		{"a path with a NUL byte", withPath("/a\x00b")},
		{"a path of 2049 bytes", withPath("/" + strings.Repeat("a", 2048))},
		{"a host with upper case", withHost("Example.com")},
		{"a host with a trailing dot", withHost("example.com.")},
		{"a host with a space", withHost("exa mple.com")},
		{"a host with a newline", withHost("example.com\nbackend")},
		{"a host with a #", withHost("exa#mple.com")},
		{"a host with a slash", withHost("example.com/admin")},
		{"a host with a port", withHost("example.com:80")},
		{"a host with an underscore", withHost("ex_ample.com")},
		{"a host with non-ASCII letters", withHost("\u00e9.com")},
		{"a bare wildcard host", withHost("*")},
		{"a wildcard without a domain", withHost("*.")},
		{"a wildcard in the middle", withHost("a.*.com")},
		{"a double wildcard", withHost("*.*.example.com")},
		{"an empty label", withHost("a..com")},
		{"a label starting with a hyphen", withHost("-a.com")},
		{"a label ending with a hyphen", withHost("a-.com")},
		{"a label of 64 characters", withHost(strings.Repeat("a", 64) + ".com")},
		{"a host of 254 characters", withHost(hostOfLength(254))},
		{"an empty runtime directory", withRuntimeDir("")},
		{"a relative runtime directory", withRuntimeDir("run/portcullis")},
		{"a runtime directory with a space", withRuntimeDir("/run/port cullis")},
		{"a runtime directory with a newline", withRuntimeDir("/run/x\nglobal")},
		{"a runtime directory with a quote", withRuntimeDir(`/run/"x`)},
		{"an invalid bind address", func(c *model.Config, _ *haproxy.Env) { c.Listeners[0].Address = netip.Addr{} }},
		{"bind port 0", func(c *model.Config, _ *haproxy.Env) { c.Listeners[0].Port = 0 }},
		{"a bind address with an IPv6 zone", func(c *model.Config, _ *haproxy.Env) { c.Listeners[0].Address = zonedInjection }},
		{"an invalid server address", withServer(netip.Addr{}, 8080)},
		{"server port 0", withServer(netip.MustParseAddr("10.0.0.1"), 0)},
		{"a server address with an IPv6 zone", withServer(zoned, 8080)},
		{"a server address whose zone holds a newline and directives", withServer(zonedInjection, 8080)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, env := validConfig(), testEnv
			tt.change(&cfg, &env)
			files, err := haproxy.Render(cfg, env)
			if err == nil {
				t.Errorf("Render accepted it; haproxy.cfg:\n%s\nexact map:\n%s\nprefix map:\n%s",
					files[haproxy.ConfigFile], files[haproxy.ExactMapFile], files[haproxy.PrefixMapFile])
			}
		})
	}
}

func TestRenderAcceptsSafeValues(t *testing.T) {
	tests := []struct {
		name   string
		change func(*model.Config, *haproxy.Env)
	}{
		{"the valid base configuration", func(*model.Config, *haproxy.Env) {}},
		{"a wildcard host", withHost("*.example.com")},
		{"no host", withHost("")},
		{"a host of 253 characters", withHost(hostOfLength(253))},
		{"a label of 63 characters", withHost(strings.Repeat("a", 63) + ".com")},
		{"a numeric label", withHost("123.example.com")},
		{"a path with every allowed special character", withPath("/a-._~%20!$&'()*+,;=:@/Z9")},
		{"a path of 2048 bytes", withPath("/" + strings.Repeat("a", 2047))},
		{"the longest backend name", withBackendName(strings.Repeat("a", limits.MaxBackendNameLen))},
		// A section name is its first backend's name, "_" and 8 hex digits.
		{"the longest backend name with a route policy", withLongSectionName},
		{"the longest backend name with a canary", withLongCanary},
		{"a backend name with hyphens and underscores", withBackendName("my-ns_my-svc_http-alt")},
		{"an IPv6 server", withServer(netip.MustParseAddr("fd00::1"), 8080)},
		{"an IPv6 bind", func(c *model.Config, _ *haproxy.Env) { c.Listeners[0].Address = netip.MustParseAddr("::") }},
		{"a defined default backend", func(c *model.Config, _ *haproxy.Env) { c.DefaultBackend = "ns_web_80" }},
		{"a backend without servers", func(c *model.Config, _ *haproxy.Env) { c.Backends[0].Servers = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, env := validConfig(), testEnv
			tt.change(&cfg, &env)
			if _, err := haproxy.Render(cfg, env); err != nil {
				t.Errorf("Render: %v", err)
			}
		})
	}
}

// withLongSectionName gives the backend the longest name and the first route a route policy, so
// that its section name is longer than any backend name.
func withLongSectionName(c *model.Config, e *haproxy.Env) {
	withBackendName(strings.Repeat("a", limits.MaxBackendNameLen))(c, e)
	c.HTTPRoutes[0].Policy.AppRoot = "/app"
	c.HTTPRoutes[0].Policy.BasicAuth = &model.BasicAuth{Realm: "Staff"}
}

// withLongCanary shares the first route between two backends of the longest name.
func withLongCanary(c *model.Config, e *haproxy.Env) {
	withBackendName(strings.Repeat("a", limits.MaxBackendNameLen))(c, e)
	canary := model.Backend{Name: strings.Repeat("b", limits.MaxBackendNameLen), Servers: c.Backends[0].Servers}
	c.Backends = append(c.Backends, canary)
	c.HTTPRoutes[0].Backends = append(c.HTTPRoutes[0].Backends, model.WeightedBackend{Name: canary.Name, Weight: 1})
}

// richConfig exercises every part of the model: every listener protocol, PROXY protocol,
// certificates and HTTPS redirects, the exporter, route policies shared by several routes, a
// weighted route, a TCP route, backend policies and process-wide settings.
func richConfig() model.Config {
	addr := netip.MustParseAddr
	apiPolicy := model.RoutePolicy{
		PathRewrite: &model.Rewrite{From: "/api", To: "/"}, AppRoot: "/app",
		AllowList: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")},
		DenyList:  []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")},
		RateLimit: &model.RateLimit{Requests: 100, Period: 10 * time.Second, Status: 429},
		BasicAuth: &model.BasicAuth{Realm: "Staff only", Users: []model.User{
			{Name: "bob", Hash: "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"},
		}},
		CORS: &model.CORS{
			Origins: model.List{Items: []string{"https://a.example.com", "https://b.example.com"}},
			Methods: model.List{Items: []string{"GET", "POST"}}, Headers: model.List{Any: true}, Credentials: true, MaxAge: time.Hour,
		},
		RequestHeaders:  []model.Header{{Name: "X-Env", Value: "prod"}},
		ResponseHeaders: []model.Header{{Name: "Cache-Control", Value: "no-store"}},
		HSTS:            24 * time.Hour,
	}
	canary := prefixRoute("c.example.com", "/", "ns_web_80")
	canary.Backends = []model.WeightedBackend{{Name: "ns_web_80", Weight: 90}, {Name: "ns_canary_80", Weight: 10}}
	cert := testCert()
	cert.SNI = []string{"a.example.com", "*.example.com"}
	return model.Config{
		Listeners: []model.Listener{
			{Name: "http", Bind: model.Bind{Address: anyAddr, Port: 8080}, Protocol: model.HTTP,
				AcceptProxy: []netip.Prefix{netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("10.0.0.0/8")}},
			{Name: "https", Bind: model.Bind{Address: anyAddr, Port: 8443}, Protocol: model.HTTPS,
				TLS: &model.ListenerTLS{Default: testCert(), Certificates: []model.Certificate{cert}}},
			{Name: "db", Bind: model.Bind{Address: anyAddr, Port: 5432}, Protocol: model.TCP},
		},
		Stats: model.Bind{Address: anyAddr, Port: 9101},
		Global: model.Global{
			MaxConn: 10000, NbThread: 2, TimeoutClient: time.Minute, TimeoutQueue: 2500 * time.Millisecond,
			HardStopAfter: time.Hour, LogTarget: "stdout", LogFormat: "json", SSLMinVer: "TLSv1.2",
		},
		DefaultBackend: "ns_fallback_80",
		HTTPRoutes: []model.HTTPRoute{
			prefixRoute("a.example.com", "/", "ns_web_80"),
			withPolicy(prefixRoute("a.example.com", "/api", "ns_api_8080"), apiPolicy),
			exactRoute("a.example.com", "/api", "ns_web_80"),
			prefixRoute("*.example.com", "/", "ns_web_80"),
			withPolicy(exactRoute("", "/health", "ns_api_8080"), apiPolicy),
			prefixRoute("", "/", "ns_fallback_80"),
			withPolicy(exactRoute("b.example.com", "/x/", "ns_api_8080"), apiPolicy),
			withPolicy(prefixRoute("r.example.com", "/", "ns_fallback_80"), model.RoutePolicy{
				Redirect: &model.Redirect{Location: "https://example.org/base", Code: 308},
			}),
			canary,
		},
		TCPRoutes: []model.TCPRoute{{Listener: "db", Backend: "ns_db_5432"}},
		HTTPSRedirects: []model.HTTPSRedirect{
			{Host: "a.example.com", Code: 308, Port: 443},
			{Host: "*.example.com", Code: 302, Port: 8443},
		},
		Backends: []model.Backend{
			{Name: "ns_web_80", Servers: []model.Server{
				{Address: addr("10.0.0.3"), Port: 8080},
				{Address: addr("10.0.0.1"), Port: 8080},
				{Address: addr("fd00::2"), Port: 8080},
				{Address: addr("10.0.0.2"), Port: 8080, Draining: true},
				{Address: addr("10.0.0.1"), Port: 8081},
			}},
			{Name: "ns_canary_80", Servers: []model.Server{{Address: addr("10.0.2.1"), Port: 8080}}},
			{Name: "ns_api_8080", Servers: []model.Server{{Address: addr("10.0.1.1"), Port: 9090}}, Policy: model.BackendPolicy{
				Balance: model.Balance{Algorithm: "uri", URIWhole: true}, TimeoutServer: 2 * time.Minute,
				Check: true, CheckInterval: time.Second, CheckPath: "/healthz",
				Cookie: "SRV", SendProxy: "send-proxy-v2", ForwardedFor: true,
			}},
			{Name: "ns_db_5432", Servers: []model.Server{{Address: addr("10.0.3.1"), Port: 5432}}, Policy: model.BackendPolicy{
				Balance: model.Balance{Algorithm: "leastconn"}, Check: true, TimeoutTunnel: time.Hour,
			}},
			{Name: "ns_fallback_80"},
		},
	}
}

func cloneConfig(c model.Config) model.Config {
	c.Listeners = slices.Clone(c.Listeners)
	c.HTTPRoutes = slices.Clone(c.HTTPRoutes)
	c.HTTPSRedirects = slices.Clone(c.HTTPSRedirects)
	c.Backends = slices.Clone(c.Backends)
	for i := range c.Backends {
		c.Backends[i].Servers = slices.Clone(c.Backends[i].Servers)
	}
	return c
}

func TestRenderIsDeterministic(t *testing.T) {
	cfg := richConfig()
	cfg.Normalize()
	first, err := haproxy.Render(cfg, testEnv)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}

	t.Run("rendering twice gives the same bytes", func(t *testing.T) {
		second, err := haproxy.Render(cfg, testEnv)
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		compareFiles(t, second, first)
	})

	t.Run("any input order gives the same bytes after Normalize", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range 50 {
			c := cloneConfig(richConfig())
			rng.Shuffle(len(c.Listeners), func(i, j int) { c.Listeners[i], c.Listeners[j] = c.Listeners[j], c.Listeners[i] })
			for _, l := range c.Listeners {
				rng.Shuffle(len(l.AcceptProxy), func(i, j int) { l.AcceptProxy[i], l.AcceptProxy[j] = l.AcceptProxy[j], l.AcceptProxy[i] })
			}
			rng.Shuffle(len(c.HTTPRoutes), func(i, j int) { c.HTTPRoutes[i], c.HTTPRoutes[j] = c.HTTPRoutes[j], c.HTTPRoutes[i] })
			rng.Shuffle(len(c.HTTPSRedirects), func(i, j int) {
				c.HTTPSRedirects[i], c.HTTPSRedirects[j] = c.HTTPSRedirects[j], c.HTTPSRedirects[i]
			})
			rng.Shuffle(len(c.Backends), func(i, j int) { c.Backends[i], c.Backends[j] = c.Backends[j], c.Backends[i] })
			for _, b := range c.Backends {
				rng.Shuffle(len(b.Servers), func(i, j int) { b.Servers[i], b.Servers[j] = b.Servers[j], b.Servers[i] })
			}
			c.Normalize()
			got, err := haproxy.Render(c, testEnv)
			if err != nil {
				t.Fatalf("shuffle %d: Render: %v", i, err)
			}
			if !got.Equal(first) {
				compareFiles(t, got, first)
				t.Fatalf("shuffle %d gives different files", i)
			}
		}
	})
}

func compareFiles(t *testing.T, got, want haproxy.Files) {
	t.Helper()
	if got.Equal(want) {
		return
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
	for name, b := range got {
		w, ok := want[name]
		switch {
		case !ok:
			t.Errorf("%s unexpected", name)
		case !bytes.Equal(b, w):
			t.Errorf("%s differs:\ngot\n%s\nwant\n%s", name, b, w)
		}
	}
}

// Render is a pure function, so callers may run it from several goroutines (parallel tests, a
// future dry-run endpoint). config-parser v5's parser.New writes the package variable
// DefaultSectionName while parsing a defaults section, which the race detector reports.
func TestRenderIsSafeForConcurrentUse(t *testing.T) {
	cfg := richConfig()
	cfg.Normalize()
	want, err := haproxy.Render(cfg, testEnv)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	const goroutines, renders = 8, 10
	errs := make(chan error, goroutines*renders)
	done := make(chan struct{})
	for range goroutines {
		go func() {
			defer func() { done <- struct{}{} }()
			for range renders {
				got, err := haproxy.Render(cfg, testEnv)
				switch {
				case err != nil:
					errs <- err
				case !got.Equal(want):
					errs <- fmt.Errorf("concurrent Render gave different files:\n%s", got[haproxy.ConfigFile])
				}
			}
		}()
	}
	for range goroutines {
		<-done
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// The fixed part of the configuration must survive the round trip through config-parser: every
// directive of the base text reaches haproxy.cfg with all its arguments.
func TestRenderKeepsBaseGlobalDirectives(t *testing.T) {
	files, err := haproxy.Render(validConfig(), testEnv)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	cfg := string(files[haproxy.ConfigFile])
	for _, line := range []string{
		"master-worker",
		"hard-stop-after 30s",
		"stats socket /run/portcullis/admin.sock mode 600 level admin",
	} {
		if !containsLine(cfg, line) {
			t.Errorf("haproxy.cfg has no line %q:\n%s", line, cfg)
		}
	}
}

func containsLine(text, line string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

// Configurations built from model values that the Ingress golden cases do not reach (IPv6
// binds, many servers, draining servers, a custom slot step) are accepted by the real haproxy.
func TestRenderedConfigsPassHAProxyCheck(t *testing.T) {
	many := func() model.Config {
		c := validConfig()
		c.Backends[0].Servers = nil
		for i := range 40 {
			c.Backends[0].Servers = append(c.Backends[0].Servers, model.Server{
				Address: netip.AddrFrom4([4]byte{10, 0, byte(i / 256), byte(i % 256)}), Port: 8080, Draining: i%7 == 0,
			})
		}
		return c
	}
	tests := []struct {
		name string
		cfg  model.Config
	}{
		{"an empty configuration", model.Config{Listeners: []model.Listener{httpListener()}}},
		{"the rich configuration", func() model.Config { c := richConfig(); c.Normalize(); return c }()},
		{"an IPv6 bind", func() model.Config {
			c := validConfig()
			c.Listeners[0].Address = netip.MustParseAddr("::")
			return c
		}()},
		{"forty servers, some draining", many()},
		{"the longest section names", func() model.Config {
			c := validConfig()
			withLongSectionName(&c, nil)
			withLongCanary(&c, nil)
			return c
		}()},
		{"a slot step of one", func() model.Config { c := many(); c.SlotStep = 1; return c }()},
		{"a backend slot step overriding the default", func() model.Config { c := many(); c.Backends[0].SlotStep = 3; return c }()},
	}
	for _, tt := range tests {
		// Rendered before the parallel part: Render is not safe for concurrent use yet (see
		// TestRenderIsSafeForConcurrentUse).
		files, renderErr := haproxy.Render(tt.cfg, testEnv)
		t.Run(tt.name, func(t *testing.T) {
			if renderErr != nil {
				t.Fatalf("Render: %v", renderErr)
			}
			t.Parallel()
			haproxyCheck(t, files)
		})
	}
}

// fuzzConfig puts the three values everywhere they can go: an Exact and a Prefix route on the
// same host and path, their backend, and the default backend.
func fuzzConfig(host, path, backend string) model.Config {
	return model.Config{
		Listeners:      []model.Listener{httpListener()},
		DefaultBackend: backend,
		HTTPRoutes: []model.HTTPRoute{
			exactRoute(host, path, backend),
			prefixRoute(host, path, backend),
		},
		Backends: []model.Backend{{Name: backend, Servers: []model.Server{
			{Address: netip.MustParseAddr("10.0.0.1"), Port: 8080},
		}}},
	}
}

// FuzzRenderNoInjection checks that no host, path or backend name can add a line, a token or a
// directive: either Render refuses the values, or haproxy.cfg has as many lines as with benign
// values and each map holds exactly one line of two fields, the key and the backend.
func FuzzRenderNoInjection(f *testing.F) {
	for _, seed := range [][3]string{
		{"example.com", "/", "web"},
		{"*.example.com", "/api", "ns_web_80"},
		{"", "/health", "a-b_c"},
		{"example.com\nbackend evil", "/", "web"},
		{"example.com", "/\nevil.com/ evil", "web"},
		{"example.com", "/", "web\n  server evil 1.2.3.4:80"},
		{"example.com", "/a#b", "web"},
		{"#example.com", "/", "web"},
		{"example.com", "/", "web #comment"},
		{"example.com", `/"quoted"`, "web"},
		{"example.com", "/'single'", "web"},
		{`"example.com"`, "/", `"web"`},
		{"example.com", "/%[env(HOME)]", "web"},
		{"%[env(HOME)]", "/", "%[env(HOME)]"},
		{"example.com", "/a b", "web"},
		{"exa mple.com", "/", "we b"},
		{"example.com", "/a\rb", "web\r"},
		{"example.com\r", "/\r\n", "web"},
		{"\u00e9xample.com", "/caf\u00e9", "w\u00e9b"},
		{"xn--caf-dma.example.com", "/\u2028", "\u202eweb"},
		{"example.com", "/\x00", "web\x00"},
		{"example.com", "/a\tb", "web\tx"},
		{"example.com", "/" + strings.Repeat("a", 3000), strings.Repeat("b", 300)},
		{"Example.COM", "/", "Web"},
		{"example.com:80", "/", "web"},
		{"example.com/", "/", "web"},
		{"example.com", "/", haproxy.DefaultBackend},
		{"example.com", "/", ""},
		{"example.com", "", "web"},
		{"example.com", "relative", "web"},
		{"example.com", "/a\\b", "web"},
		{"example.com", "/$(reboot)", "web"},
		{"example.com", "/;use_backend x", "web"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}

	// The frontend has a stage of look-ups for each kind of host that routes have: the benign
	// configuration of each kind.
	benignLines := map[string]int{}
	for _, h := range []string{"example.com", "*.example.com", ""} {
		benign, err := haproxy.Render(fuzzConfig(h, "/benign", "benign"), testEnv)
		if err != nil {
			f.Fatalf("Render of the benign configuration: %v", err)
		}
		benignLines[h] = bytes.Count(benign[haproxy.ConfigFile], []byte("\n"))
	}

	f.Fuzz(func(t *testing.T, host, path, backend string) {
		files, err := haproxy.Render(fuzzConfig(host, path, backend), testEnv)
		if err != nil {
			return
		}
		kind := "example.com"
		switch {
		case host == "":
			kind = ""
		case strings.HasPrefix(host, "*."):
			kind = "*.example.com"
		}
		benignLines := benignLines[kind]
		if got := bytes.Count(files[haproxy.ConfigFile], []byte("\n")); got != benignLines {
			t.Fatalf("host %q path %q backend %q: haproxy.cfg has %d lines, %d with benign values:\n%s",
				host, path, backend, got, benignLines, files[haproxy.ConfigFile])
		}
		if !containsLine(string(files[haproxy.ConfigFile]), "backend "+backend) {
			t.Errorf("backend %q: no line %q in haproxy.cfg:\n%s", backend, "backend "+backend, files[haproxy.ConfigFile])
		}
		if !containsLine(string(files[haproxy.ConfigFile]), "default_backend "+backend) {
			t.Errorf("backend %q: no line %q in haproxy.cfg:\n%s", backend, "default_backend "+backend, files[haproxy.ConfigFile])
		}
		prefixKey := host + path + "/"
		if path == "/" {
			prefixKey = host + path
		}
		for _, m := range []struct{ file, key string }{
			{haproxy.ExactMapFile, host + path},
			{haproxy.PrefixMapFile, prefixKey},
		} {
			content := string(files[m.file])
			if !strings.HasSuffix(content, "\n") || strings.Count(content, "\n") != 1 {
				t.Errorf("host %q path %q backend %q: %s is not exactly one line:\n%q", host, path, backend, m.file, content)
				continue
			}
			fields := strings.Fields(content)
			if len(fields) != 2 || fields[0] != m.key || fields[1] != backend {
				t.Errorf("host %q path %q backend %q: %s line %q, want the two fields %q %q",
					host, path, backend, m.file, content, m.key, backend)
			}
			if strings.ContainsAny(content, "#\r\x00") {
				t.Errorf("host %q path %q backend %q: %s holds a comment or control character: %q", host, path, backend, m.file, content)
			}
		}
	})
}

// The backends are rendered in chunks (to bound the renderer's memory); the result must be the
// text one config-parser would write for the whole configuration: parsing it and writing it again
// gives the same bytes, with every section in its place.
func TestRenderInChunksIsOneParsersText(t *testing.T) {
	cfg := richConfig()
	for i := range 300 {
		name := fmt.Sprintf("chunk-%03d", i)
		rt := prefixRoute(fmt.Sprintf("h%d.example", i), "/", name)
		if i%7 == 0 {
			rt = withPolicy(rt, model.RoutePolicy{HSTS: time.Hour})
		}
		cfg.HTTPRoutes = append(cfg.HTTPRoutes, rt)
		cfg.Backends = append(cfg.Backends, model.Backend{Name: name, Servers: []model.Server{
			{Address: netip.MustParseAddr("10.0.0.1"), Port: uint16(1000 + i)}}})
	}
	cfg.Normalize()
	files, err := haproxy.Render(cfg, testEnv)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	text := string(files[haproxy.ConfigFile])
	p, err := parser.New(options.String(text), options.NoNamedDefaultsFrom)
	if err != nil {
		t.Fatalf("parsing the rendered configuration: %v", err)
	}
	if again := p.String(); again != text {
		t.Fatalf("config-parser writes the rendered configuration differently:\n%s", lineDiff(text, again))
	}
	if n := strings.Count(text, "\nbackend "); n < 300 {
		t.Fatalf("%d backend sections, want at least 300", n)
	}
}

// lineDiff shows the first line where a and b differ, with its neighbours.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			lo := max(0, i-3)
			return fmt.Sprintf("line %d:\n  got  %q\n  want %q\ncontext got:\n%s", i+1, al[i], bl[i], strings.Join(al[lo:min(len(al), i+3)], "\n"))
		}
	}
	return fmt.Sprintf("lengths differ: %d and %d lines", len(al), len(bl))
}
