package haproxy_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// TLS passthrough on an HTTPS listener: a TCP frontend on the listener's port sends connections
// by SNI (exact, then wildcard) to their sections and the rest, with the client's address, to the
// HTTP frontend's local socket; adding a host to the SNI map is a runtime change, the first
// passthrough route a reload.
func TestPassthrough(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.1")
	def := certFor("default.example")
	def.SNI = nil
	server := model.Server{Address: netip.MustParseAddr("10.0.0.9"), Port: 8443}
	base := model.Config{
		Listeners: []model.Listener{
			{Name: "http", Bind: model.Bind{Address: addr, Port: 8080}, Protocol: model.HTTP},
			{Name: "https", Bind: model.Bind{Address: addr, Port: 8443}, Protocol: model.HTTPS, TLS: &model.ListenerTLS{Default: def}},
		},
		Backends: []model.Backend{{Name: "tls_ns_secure_443", Servers: []model.Server{server}}},
		Global:   model.Global{AcceptProxy: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}},
	}
	with := func(snis ...string) model.Config {
		c := base
		for _, sni := range snis {
			c.TCPRoutes = append(c.TCPRoutes, model.TCPRoute{Listener: "https", SNI: sni, Backend: "tls_ns_secure_443"})
		}
		c.Normalize()
		return c
	}
	cfg := with("secure.example.com", "*.apps.example.com")
	env := haproxy.Env{RuntimeDir: "/run/portcullis"}
	files, err := haproxy.Render(cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	conf := string(files[haproxy.ConfigFile])
	for _, want := range []string{
		"frontend tcp_https", "bind 127.0.0.1:8443 name https\n",
		"tcp-request connection expect-proxy layer4 if { dst_port 8443 } { src 10.1.0.0/16 }",
		"tcp-request inspect-delay 5s", "tcp-request content accept if { req.ssl_hello_type 1 }",
		"use_backend %[req.ssl_sni,lower,map_str(maps/sni-https.map)] if { req.ssl_sni,lower,map_str(maps/sni-https.map) -m found }",
		"use_backend %[req.ssl_sni,lower,field(2,.,0),map_str(maps/sni-wildcard-https.map)] if",
		"default_backend portcullis_terminate_https",
		"server terminate unix@/run/portcullis/https.sock send-proxy-v2",
		"bind unix@/run/portcullis/https.sock name https accept-proxy mode 600 ssl crt",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("haproxy.cfg lacks %q:\n%s", want, conf)
		}
	}
	if m := string(files[haproxy.SNIMap("https")]); m != "secure.example.com tls_ns_secure_443\n" {
		t.Errorf("SNI map:\n%s", m)
	}
	if m := string(files[haproxy.SNIWildcardMap("https")]); m != "apps.example.com tls_ns_secure_443\n" {
		t.Errorf("SNI wildcard map:\n%s", m)
	}
	haproxyCheck(t, files)

	// The first passthrough route reloads; another host is a map update.
	noPass := haproxy.NewPlan(nil, with()).Next
	if p := haproxy.NewPlan(&noPass, cfg); !p.Reload() {
		t.Errorf("the first passthrough host did not reload")
	}
	applied := haproxy.NewPlan(nil, cfg).Next
	p := haproxy.NewPlan(&applied, with("secure.example.com", "*.apps.example.com", "other.example.com"))
	if p.Reload() || !slices.Equal(p.MapFiles, []string{haproxy.SNIMap("https")}) {
		t.Errorf("a passthrough host added: reload %v, maps %v; want a map update", p.Reasons, p.MapFiles)
	}

	// An HTTPS listener passes through by SNI only.
	bad := base
	bad.TCPRoutes = []model.TCPRoute{{Listener: "https", Backend: "tls_ns_secure_443"}}
	if _, rej := haproxy.Prune(bad); len(rej) != 1 {
		t.Errorf("a route without SNI on an HTTPS listener: %v, want it refused", rej)
	}
}

// Multi-label wildcard SNI (Gateway API TLSRoutes) on a TCP listener: looked up by the name's end
// in a map whose longest suffix comes first, after the exact and one-label wildcard maps; the
// first multi-label route reloads, another is a map update.
func TestPassthroughMultiLabel(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.1")
	server := model.Server{Address: netip.MustParseAddr("10.0.0.9"), Port: 8443}
	base := model.Config{
		Listeners: []model.Listener{
			{Name: "http", Bind: model.Bind{Address: addr, Port: 8080}, Protocol: model.HTTP},
			{Name: "gw-p9443", Bind: model.Bind{Address: addr, Port: 9443}, Protocol: model.TCP},
		},
		Backends: []model.Backend{{Name: "tls_a", Servers: []model.Server{server}}, {Name: "tls_b", Servers: []model.Server{server}}},
	}
	with := func(routes ...model.TCPRoute) model.Config {
		c := base
		for _, rt := range routes {
			rt.Listener = "gw-p9443"
			c.TCPRoutes = append(c.TCPRoutes, rt)
		}
		c.Normalize()
		return c
	}
	exact := model.TCPRoute{SNI: "a.example.com", Backend: "tls_a"}
	com := model.TCPRoute{SNI: "*.com", MultiLabel: true, Backend: "tls_b"}
	example := model.TCPRoute{SNI: "*.example.com", MultiLabel: true, Backend: "tls_a"}
	cfg := with(exact, com, example)
	files, err := haproxy.Render(cfg, haproxy.Env{RuntimeDir: "/run/portcullis"})
	if err != nil {
		t.Fatal(err)
	}
	conf := string(files[haproxy.ConfigFile])
	want := "use_backend %[req.ssl_sni,lower,map_end(maps/sni-multi-gw-p9443.map)] if { req.ssl_sni,lower,map_end(maps/sni-multi-gw-p9443.map) -m found }"
	if !strings.Contains(conf, want) || strings.Index(conf, want) < strings.Index(conf, "sni-wildcard-gw-p9443") {
		t.Errorf("haproxy.cfg lacks %q after the exact and wildcard lookups:\n%s", want, conf)
	}
	if m := string(files[haproxy.SNIMultiLabelMap("gw-p9443")]); m != ".example.com tls_a\n.com tls_b\n" {
		t.Errorf("multi-label map, longest first:\n%s", m)
	}
	if m := string(files[haproxy.SNIMap("gw-p9443")]); m != "a.example.com tls_a\n" {
		t.Errorf("SNI map:\n%s", m)
	}
	haproxyCheck(t, files)

	first := haproxy.NewPlan(nil, with(exact)).Next
	if p := haproxy.NewPlan(&first, with(exact, com)); !p.Reload() {
		t.Errorf("the first multi-label wildcard did not reload")
	}
	second := haproxy.NewPlan(nil, with(exact, com)).Next
	if p := haproxy.NewPlan(&second, cfg); p.Reload() || !slices.Contains(p.MapFiles, haproxy.SNIMultiLabelMap("gw-p9443")) {
		t.Errorf("another multi-label wildcard: reload %v, maps %v", p.Reload(), p.MapFiles)
	}
}
