package haproxy_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// Conditional routes render as frontend rules in precedence order, their host leaves the maps,
// the configuration passes the real haproxy -c, and a change of one reloads while a plain route
// change does not.
func TestConditionalRoutes(t *testing.T) {
	be := func(name string) model.Backend {
		return model.Backend{Name: name, Servers: []model.Server{{Address: netip.MustParseAddr("10.0.0.1"), Port: 80}}}
	}
	route := func(host, path string, kind model.PathMatch, backend string) model.HTTPRoute {
		return model.HTTPRoute{Match: model.HTTPMatch{Host: host, Path: path, Kind: kind}, Backends: []model.WeightedBackend{{Name: backend, Weight: 1}}}
	}
	withHeader := route("api.example", "/", model.MatchPrefix, "ns_v2_80")
	withHeader.Headers = []model.ValueMatch{{Name: "X-Version", Value: "two"}}
	withMethod := route("api.example", "/", model.MatchPrefix, "ns_post_80")
	withMethod.Method = "POST"
	regex := route("api.example", `^/items/\d+$`, model.MatchRegex, "ns_items_80")
	withQuery := route("", "/search", model.MatchPrefix, "ns_search_80")
	withQuery.Query = []model.ValueMatch{{Name: "q", Value: "^a.*", Regex: true}}
	cfg := model.Config{
		Listeners: []model.Listener{{Name: "http", Bind: model.Bind{Address: netip.MustParseAddr("127.0.0.1"), Port: 8080}, Protocol: model.HTTP}},
		HTTPRoutes: []model.HTTPRoute{
			route("api.example", "/", model.MatchPrefix, "ns_v1_80"),
			route("api.example", "/exact", model.MatchExact, "ns_v1_80"),
			withHeader, withMethod, regex, withQuery,
			route("plain.example", "/", model.MatchPrefix, "ns_v1_80"),
		},
		Backends: []model.Backend{be("ns_items_80"), be("ns_post_80"), be("ns_search_80"), be("ns_v1_80"), be("ns_v2_80")},
	}
	cfg.Normalize()
	files, err := haproxy.Render(cfg, haproxy.Env{RuntimeDir: "/run/portcullis"})
	if err != nil {
		t.Fatal(err)
	}
	conf := string(files[haproxy.ConfigFile])
	order := []string{
		"str(ns_v1_80) if { var(txn.host) -m str api.example } { var(txn.path) -m str /exact }",
		`str(ns_items_80) if { var(txn.host) -m str api.example } { var(txn.path) -m reg ^/items/\\d+$ }`,
		"str(ns_post_80) if { var(txn.host) -m str api.example } { method POST }",
		`str(ns_v2_80) if { var(txn.host) -m str api.example } { req.hdr(X-Version) -m str "two" }`,
		"str(ns_v1_80) if { var(txn.host) -m str api.example } !{ var(txn.backend) -m found }",
		"var(txn.hostpath),map_str(maps/path-exact.map)",
		`str(ns_search_80) if { var(txn.path) -m reg ^/search(/|$) } { url_param(q) -m reg ^a.* }`,
	}
	last := -1
	for _, want := range order {
		i := strings.Index(conf, want)
		if i < 0 {
			t.Fatalf("haproxy.cfg lacks %q:\n%s", want, conf)
		}
		if i < last {
			t.Errorf("%q comes too early:\n%s", want, conf)
		}
		last = i
	}
	if m := string(files[haproxy.PrefixMapFile]); strings.Contains(m, "api.example") || !strings.Contains(m, "plain.example/ ns_v1_80") {
		t.Errorf("prefix map should hold plain.example only:\n%s", m)
	}
	haproxyCheck(t, files)

	applied := haproxy.NewPlan(nil, cfg).Next
	plain := cfg
	plain.HTTPRoutes = append([]model.HTTPRoute{route("other.example", "/", model.MatchPrefix, "ns_v1_80")}, cfg.HTTPRoutes...)
	plain.Normalize()
	if p := haproxy.NewPlan(&applied, plain); p.Reload() {
		t.Errorf("a plain route added: reload %v, want a map update", p.Reasons)
	}
	changed := cfg
	changed.HTTPRoutes = append([]model.HTTPRoute(nil), cfg.HTTPRoutes...)
	for i := range changed.HTTPRoutes {
		if changed.HTTPRoutes[i].Method == "POST" {
			changed.HTTPRoutes[i].Method = "PUT"
		}
	}
	changed.Normalize()
	if p := haproxy.NewPlan(&applied, changed); !p.Reload() || p.Reasons[0].Kind != haproxy.ReasonRouteRules {
		t.Errorf("a conditional route changed: reasons %v, want %s", p.Reasons, haproxy.ReasonRouteRules)
	}
}

// The monitor answers from its backend's one server: taking it down is a runtime command, sent
// first, also when a reload follows, and a reload keeps it down.
func TestMonitor(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.1")
	cfg := model.Config{
		Listeners: []model.Listener{{Name: "http", Bind: model.Bind{Address: addr, Port: 8080}, Protocol: model.HTTP}},
		Monitor:   model.Monitor{Bind: model.Bind{Address: addr, Port: 1042}},
	}
	files, err := haproxy.Render(cfg, haproxy.Env{RuntimeDir: "/run/portcullis"})
	if err != nil {
		t.Fatal(err)
	}
	conf := string(files[haproxy.ConfigFile])
	for _, want := range []string{"bind 127.0.0.1:1042 name monitor", "monitor-uri /healthz", "monitor fail if { nbsrv(portcullis_monitor) lt 1 }", "server up 127.0.0.1:1\n"} {
		if !strings.Contains(conf, want) {
			t.Errorf("haproxy.cfg lacks %q:\n%s", want, conf)
		}
	}
	haproxyCheck(t, files)

	applied := haproxy.NewPlan(nil, cfg).Next
	down := cfg
	down.Monitor.Down = true
	p := haproxy.NewPlan(&applied, down)
	if p.Reload() || !slices.Equal(p.Commands, []string{"set server portcullis_monitor/up state maint"}) {
		t.Errorf("monitor down: reload %v, commands %q; want only the runtime command", p.Reasons, p.Commands)
	}
	down.Listeners = append(down.Listeners, model.Listener{Name: "tcp-5432", Bind: model.Bind{Address: addr, Port: 5432}, Protocol: model.TCP})
	p = haproxy.NewPlan(&applied, down)
	if !p.Reload() || len(p.Commands) == 0 || p.Commands[0] != haproxy.MonitorCommand(true) {
		t.Errorf("monitor down with a reload: commands %q, want the monitor command first", p.Commands)
	}
	files, err = haproxy.Render(down, haproxy.Env{RuntimeDir: "/run/portcullis"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(files[haproxy.ConfigFile]), "server up 127.0.0.1:1 disabled") {
		t.Errorf("a reload while down renders the monitor server up:\n%s", files[haproxy.ConfigFile])
	}
}
