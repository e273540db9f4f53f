package model

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
)

func obj(kind, name string) diag.Object { return diag.Object{Kind: kind, Namespace: "ns", Name: name} }

func httpRoute(host, backend string, src diag.Object) HTTPRoute {
	return HTTPRoute{Match: HTTPMatch{Host: host, Path: "/", Kind: MatchPrefix}, Backends: []WeightedBackend{{Name: backend, Weight: 1}}, Source: src}
}

func TestCompose(t *testing.T) {
	ing, route := obj("Ingress", "web"), obj("HTTPRoute", "web")
	addr := netip.MustParseAddr("0.0.0.0")
	ingressPart := Config{
		Listeners:  []Listener{{Name: "http", Bind: Bind{Address: addr, Port: 80}, Protocol: HTTP}},
		HTTPRoutes: []HTTPRoute{httpRoute("a.example", "ns_web_80", ing), httpRoute("shared.example", "ns_web_80", ing)},
		Backends:   []Backend{{Name: "ns_web_80", Sources: []diag.Object{ing}}},
		Global:     Global{MaxConn: 100},
	}
	gatewayPart := Config{
		Listeners: []Listener{
			{Name: "http", Bind: Bind{Address: addr, Port: 80}, Protocol: HTTP},
			{Name: "gw-other", Bind: Bind{Address: addr, Port: 80}, Protocol: HTTP, Sources: []diag.Object{obj("Gateway", "gw")}},
		},
		HTTPRoutes: []HTTPRoute{httpRoute("b.example", "ns_web_80", route), httpRoute("shared.example", "ns_api_80", route)},
		Backends: []Backend{
			{Name: "ns_web_80", Sources: []diag.Object{route}},
			{Name: "ns_api_80", Sources: []diag.Object{route}},
		},
		Global: Global{MaxConn: 5},
	}

	t.Run("the earlier part keeps what both want", func(t *testing.T) {
		cfg, probs := Compose([]Config{ingressPart, gatewayPart}, nil)
		var hosts []string
		for _, r := range cfg.HTTPRoutes {
			hosts = append(hosts, r.Match.Host+">"+r.Source.Kind)
		}
		if want := []string{"a.example>Ingress", "b.example>HTTPRoute", "shared.example>Ingress"}; !slices.Equal(hosts, want) {
			t.Errorf("routes %v, want %v", hosts, want)
		}
		if len(cfg.Listeners) != 1 || cfg.Global.MaxConn != 100 {
			t.Errorf("listeners %v, global %v: want the first part's", cfg.Listeners, cfg.Global)
		}
		if b, _ := cfg.Backend("ns_web_80"); !slices.Equal(b.Sources, []diag.Object{route, ing}) {
			t.Errorf("shared backend sources %v, want both", b.Sources)
		}
		reasons := map[string]diag.Object{}
		for _, p := range probs {
			reasons[p.Reason] = p.Object
		}
		if reasons["RouteConflict"] != route || reasons["ListenerConflict"] != obj("Gateway", "gw") || len(probs) != 2 {
			t.Errorf("problems %v, want a RouteConflict on the HTTPRoute and a ListenerConflict on the Gateway", probs)
		}
	})
	t.Run("an incumbent keeps its route whatever the order", func(t *testing.T) {
		key := RouteKey{HTTPMatch: HTTPMatch{Host: "shared.example", Path: "/", Kind: MatchPrefix}}
		cfg, probs := Compose([]Config{ingressPart, gatewayPart}, map[RouteKey]diag.Object{key: route})
		for _, r := range cfg.HTTPRoutes {
			if r.Key() == key && r.Source != route {
				t.Errorf("route %v went to %v, want the incumbent %v", key, r.Source, route)
			}
		}
		if !slices.ContainsFunc(probs, func(p diag.Problem) bool { return p.Object == ing && p.Reason == "RouteConflict" }) {
			t.Errorf("no RouteConflict on the Ingress: %v", probs)
		}
	})
	t.Run("one part is itself", func(t *testing.T) {
		cfg, probs := Compose([]Config{ingressPart}, nil)
		want := ingressPart
		want.Normalize()
		if len(probs) != 0 || len(cfg.HTTPRoutes) != 2 || len(cfg.Backends) != 1 || len(cfg.Listeners) != 1 || !cfg.Global.Equal(want.Global) {
			t.Errorf("Compose of one part changed it: %+v, %v", cfg, probs)
		}
	})
}

// A certificate is merged by its name and client-certificate settings: the same certificate
// with other settings is another line, and an earlier part's line is not taken over.
func TestComposeCertificateLines(t *testing.T) {
	addr := netip.MustParseAddr("0.0.0.0")
	ca := &Certificate{Name: "ca.pem"}
	https := func(certs ...Certificate) Config {
		return Config{Listeners: []Listener{{Name: "https", Bind: Bind{Address: addr, Port: 443}, Protocol: HTTPS, TLS: &ListenerTLS{Certificates: certs}}}}
	}
	plain := Certificate{Name: "site.pem", SNI: []string{"a.example"}}
	checked := Certificate{Name: "site.pem", SNI: []string{"b.example"}, ClientCA: ca}
	again := Certificate{Name: "site.pem", SNI: []string{"c.example"}}
	cfg, probs := Compose([]Config{https(plain), https(checked, again)}, nil)
	var got []string
	for _, c := range cfg.Listeners[0].TLS.Certificates {
		got = append(got, c.Name+" "+c.SNI[0])
	}
	if want := []string{"site.pem a.example", "site.pem b.example"}; !slices.Equal(got, want) || len(probs) != 0 {
		t.Errorf("certificates %q, problems %v; want %q", got, probs, want)
	}
}

// Two listeners conflict when they bind the same address and port; a specific address may share
// a port with the unspecified one (the most specific socket takes the connection), and with
// another specific address.
func TestComposeListenerBinds(t *testing.T) {
	a := netip.MustParseAddr
	gw := obj("Gateway", "gw")
	l := func(name, addr string, port uint16, table string) Listener {
		return Listener{Name: name, Bind: Bind{Address: a(addr), Port: port}, Protocol: HTTP, Table: table, Sources: []diag.Object{gw}}
	}
	operator := Config{Listeners: []Listener{{Name: "http", Bind: Bind{Address: a("0.0.0.0"), Port: 80}, Protocol: HTTP}}}
	for _, tc := range []struct {
		name     string
		add      Listener
		conflict bool
	}{
		{"the same port on a specific address", l("gw-10-0-0-3-p80", "10.0.0.3", 80, "gw-10-0-0-3-p80"), false},
		{"the same port on the IPv6 unspecified address", l("gw-v6-p80", "::", 80, "gw-v6-p80"), false},
		{"another port on the unspecified address", l("gw-p8080", "0.0.0.0", 8080, "gw-p8080"), false},
		{"the same address and port", l("gw-p80", "0.0.0.0", 80, "gw-p80"), true},
		{"the same address as an IPv4-mapped IPv6 address", l("gw-p80", "::ffff:0.0.0.0", 80, "gw-p80"), true},
		{"the same name with another table", l("http", "0.0.0.0", 80, "gw-p80"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, probs := Compose([]Config{operator, {Listeners: []Listener{tc.add}}}, nil)
			conflicted := len(probs) == 1 && probs[0].Reason == "ListenerConflict" && probs[0].Object == gw
			if conflicted != tc.conflict || tc.conflict == (len(cfg.Listeners) == 2) || !tc.conflict && len(probs) != 0 {
				t.Errorf("listeners %v, problems %v; want conflict %t", cfg.Listeners, probs, tc.conflict)
			}
		})
	}
	// Two specific addresses on one port, both next to the unspecified one.
	cfg, probs := Compose([]Config{operator, {Listeners: []Listener{
		l("gw-a", "10.0.0.3", 80, "gw-a"), l("gw-b", "10.0.0.4", 80, "gw-b"),
	}}}, nil)
	if len(cfg.Listeners) != 3 || len(probs) != 0 {
		t.Errorf("listeners %v, problems %v; want all three", cfg.Listeners, probs)
	}
}
