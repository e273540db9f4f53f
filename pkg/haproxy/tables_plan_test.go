package haproxy

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// tableConfig is planConfig with a second HTTP listener serving the route table "gw-p9090",
// which holds the routes given.
func tableConfig(routes ...model.HTTPRoute) model.Config {
	c := planConfig(model.Backend{Name: "be"})
	c.Listeners = append(c.Listeners, model.Listener{Name: "gw-p9090", Bind: model.Bind{Address: netip.MustParseAddr("0.0.0.0"), Port: 9090},
		Protocol: model.HTTP, Table: "gw-p9090"})
	for _, rt := range routes {
		rt.Match.Table = "gw-p9090"
		c.HTTPRoutes = append(c.HTTPRoutes, rt)
	}
	c.Normalize()
	return c
}

func reasonKinds(p Plan) []ReasonKind {
	var out []ReasonKind
	for _, r := range p.Reasons {
		out = append(out, r.Kind)
	}
	return out
}

func TestPlanRouteTables(t *testing.T) {
	base := tableConfig(route("a.test", "/", model.MatchPrefix, "be"))
	for _, tc := range []struct {
		name        string
		desired     model.Config
		wantReasons []ReasonKind
		wantMaps    []string
	}{
		{
			name:     "a route added to a table is a runtime change of the table's map",
			desired:  tableConfig(route("a.test", "/", model.MatchPrefix, "be"), route("b.test", "/x", model.MatchExact, "be")),
			wantMaps: []string{"maps/path-exact-gw-p9090.map"},
		},
		{
			name:     "a route removed from a table is a runtime change of the table's map",
			desired:  tableConfig(),
			wantMaps: []string{"maps/path-prefix-gw-p9090.map"},
		},
		{
			name: "a route added to the default table changes the default map only",
			desired: func() model.Config {
				c := base
				c.HTTPRoutes = append(slices.Clone(c.HTTPRoutes), route("c.test", "/y", model.MatchExact, "be"))
				c.Normalize()
				return c
			}(),
			wantMaps: []string{ExactMapFile},
		},
		{
			name:        "the first wildcard route of a table adds its stage of look-ups",
			desired:     tableConfig(route("a.test", "/", model.MatchPrefix, "be"), route("*.b.test", "/", model.MatchPrefix, "be")),
			wantReasons: []ReasonKind{ReasonRouteStages},
		},
		{
			name:        "the first route without a host of a table adds its stage of look-ups",
			desired:     tableConfig(route("a.test", "/", model.MatchPrefix, "be"), route("", "/", model.MatchPrefix, "be")),
			wantReasons: []ReasonKind{ReasonRouteStages},
		},
		{
			name: "a conditional route in a table is a rule of its frontend",
			desired: func() model.Config {
				rt := route("a.test", "/", model.MatchPrefix, "be")
				rt.Method = "POST"
				return tableConfig(route("a.test", "/", model.MatchPrefix, "be"), rt)
			}(),
			wantReasons: []ReasonKind{ReasonRouteRules},
		},
		{
			name: "a listener added with its table is a reload",
			desired: func() model.Config {
				c := base
				c.Listeners = append(slices.Clone(c.Listeners), model.Listener{Name: "gw-p9091",
					Bind: model.Bind{Address: netip.MustParseAddr("10.0.0.3"), Port: 8080}, Protocol: model.HTTP, Table: "gw-p9091"})
				c.Normalize()
				return c
			}(),
			wantReasons: []ReasonKind{ReasonListeners},
		},
		{
			name: "a listener moved to another table is a reload",
			desired: func() model.Config {
				c := base
				c.Listeners = slices.Clone(c.Listeners)
				c.Listeners[1].Table = "gw-other"
				return c
			}(),
			wantReasons: []ReasonKind{ReasonListeners},
		},
		{
			name: "a listener removed is a reload",
			desired: func() model.Config {
				c := base
				c.Listeners = c.Listeners[:1]
				return c
			}(),
			wantReasons: []ReasonKind{ReasonListeners},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPlan(applied(base), tc.desired)
			if got := reasonKinds(p); !slices.Equal(got, tc.wantReasons) {
				t.Errorf("reasons %v, want %v", p.Reasons, tc.wantReasons)
			}
			if !slices.Equal(p.MapFiles, tc.wantMaps) {
				t.Errorf("map files %v, want %v", p.MapFiles, tc.wantMaps)
			}
			for _, name := range p.MapFiles {
				files, err := Render(tc.desired, Env{RuntimeDir: "/run/portcullis"})
				if err != nil {
					t.Fatal(err)
				}
				if string(files[name]) != string(p.Maps[name]) {
					t.Errorf("%s: plan %q, rendered %q", name, p.Maps[name], files[name])
				}
			}
		})
	}
}

// Without a wildcard route, the wildcard form of the host is still computed before routing when
// a wildcard HTTPS redirect needs it; adding the first one is a reload.
func TestPlanFirstWildcardRedirect(t *testing.T) {
	c := planConfig(model.Backend{Name: "be"})
	c.Listeners = append(c.Listeners, model.Listener{Name: "https", Bind: model.Bind{Address: netip.MustParseAddr("0.0.0.0"), Port: 8443},
		Protocol: model.HTTPS, TLS: &model.ListenerTLS{Default: model.Certificate{Name: "x.pem"}}})
	c.HTTPSRedirects = []model.HTTPSRedirect{{Host: "a.test", Code: 302}}
	c.Normalize()
	d := c
	d.HTTPSRedirects = []model.HTTPSRedirect{{Host: "*.b.test", Code: 302}, {Host: "a.test", Code: 302}}
	if got := reasonKinds(NewPlan(applied(c), d)); !slices.Equal(got, []ReasonKind{ReasonRouteStages}) {
		t.Errorf("reasons %v, want the route stages", got)
	}
	e := c
	e.HTTPSRedirects = []model.HTTPSRedirect{{Host: "a.test", Code: 302}, {Host: "c.test", Code: 302}}
	if p := NewPlan(applied(c), e); p.Reload() || !slices.Equal(p.MapFiles, []string{RedirectMap}) {
		t.Errorf("another exact redirect: reasons %v, maps %v; want the redirect map at runtime", p.Reasons, p.MapFiles)
	}
}

// The unresolved share of a route is a rule of its section: changing it is a reload; the weights
// between resolved backends stay runtime server weights.
func TestPlanUnresolvedShare(t *testing.T) {
	withShare := func(unresolved int) model.Config {
		c := planConfig(model.Backend{Name: "be", Servers: []model.Server{srv("198.18.0.1", 80)}})
		c.HTTPRoutes[0].Backends = []model.WeightedBackend{{Name: "be", Weight: 1}, {Weight: unresolved}}
		return c
	}
	p := NewPlan(applied(withShare(1)), withShare(3))
	if !p.Reload() {
		t.Errorf("the unresolved share changed without a reload")
	}
	sections, _, _ := Sections(withShare(3))
	if len(sections) != 1 || sections[0].Unresolved != 3 || sections[0].Total != 4 || len(sections[0].Servers) != 1 {
		t.Errorf("sections %+v, want one with 3 of 4 unresolved and the resolved backend's server", sections)
	}
	if p := NewPlan(applied(withShare(1)), withShare(1)); p.Reload() || len(p.Commands) != 0 {
		t.Errorf("no change: %v %v", p.Reasons, p.Commands)
	}
	// Endpoints of the resolved backend still move at runtime.
	d := withShare(1)
	d.Backends[0].Servers = append(d.Backends[0].Servers, srv("198.18.0.2", 80))
	if p, ok := PlanEndpoints(applied(withShare(1)), d, []string{"be"}); !ok || len(p.Commands) == 0 {
		t.Errorf("endpoint plan: ok %t, commands %v", ok, p.Commands)
	}
}

func multiRoute(host, path string, kind model.PathMatch, backend string) model.HTTPRoute {
	rt := route(host, path, kind, backend)
	rt.Match.MultiLabel = true
	return rt
}

// Multi-label wildcards: a new one is a runtime change of the wildcard map and the route maps,
// unless it is the table's first or makes the longest chain of nested wildcards longer (a stage
// of look-ups more) or shorter.
func TestPlanMultiLabelWildcards(t *testing.T) {
	base := tableConfig(route("a.test", "/", model.MatchPrefix, "be"), multiRoute("*.b.test", "/", model.MatchPrefix, "be"),
		multiRoute("*.x.b.test", "/x", model.MatchPrefix, "be"))
	const wild, prefix = "maps/host-wildcard-gw-p9090.map", "maps/path-prefix-gw-p9090.map"
	for _, tc := range []struct {
		name        string
		desired     model.Config
		wantReasons []ReasonKind
		wantMaps    []string
	}{
		{
			name: "a wildcard beside the others is a map change",
			desired: tableConfig(route("a.test", "/", model.MatchPrefix, "be"), multiRoute("*.b.test", "/", model.MatchPrefix, "be"),
				multiRoute("*.x.b.test", "/x", model.MatchPrefix, "be"), multiRoute("*.yy.b.test", "/", model.MatchPrefix, "be"), multiRoute("*.c.test", "/", model.MatchPrefix, "be")),
			wantMaps: []string{wild, prefix},
		},
		{
			name:     "a route of a wildcard already there changes the route maps only",
			desired:  tableConfig(route("a.test", "/", model.MatchPrefix, "be"), multiRoute("*.b.test", "/", model.MatchPrefix, "be"), multiRoute("*.x.b.test", "/x", model.MatchPrefix, "be"), multiRoute("*.x.b.test", "/y", model.MatchExact, "be")),
			wantMaps: []string{"maps/path-exact-gw-p9090.map"},
		},
		{
			name: "a wildcard nested one level deeper adds a stage",
			desired: tableConfig(route("a.test", "/", model.MatchPrefix, "be"), multiRoute("*.b.test", "/", model.MatchPrefix, "be"),
				multiRoute("*.x.b.test", "/x", model.MatchPrefix, "be"), multiRoute("*.y.x.b.test", "/", model.MatchPrefix, "be")),
			wantReasons: []ReasonKind{ReasonRouteStages},
		},
		{
			name:        "the nested wildcard gone takes a stage away",
			desired:     tableConfig(route("a.test", "/", model.MatchPrefix, "be"), multiRoute("*.b.test", "/", model.MatchPrefix, "be")),
			wantReasons: []ReasonKind{ReasonRouteStages},
		},
		{
			name:        "a one-label wildcard of the same name is a stage of its own",
			desired:     tableConfig(route("a.test", "/", model.MatchPrefix, "be"), multiRoute("*.b.test", "/", model.MatchPrefix, "be"), multiRoute("*.x.b.test", "/x", model.MatchPrefix, "be"), route("*.b.test", "/", model.MatchPrefix, "be")),
			wantReasons: []ReasonKind{ReasonRouteStages},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPlan(applied(base), tc.desired)
			if got := reasonKinds(p); !slices.Equal(got, tc.wantReasons) {
				t.Errorf("reasons %v, want %v", p.Reasons, tc.wantReasons)
			}
			if !slices.Equal(p.MapFiles, tc.wantMaps) {
				t.Errorf("map files %v, want %v", p.MapFiles, tc.wantMaps)
			}
			files, err := Render(tc.desired, Env{RuntimeDir: "/run/portcullis"})
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range p.MapFiles {
				if string(files[name]) != string(p.Maps[name]) {
					t.Errorf("%s: plan %q, rendered %q", name, p.Maps[name], files[name])
				}
			}
		})
	}
	// Without multi-label wildcards there is no wildcard map.
	files, err := Render(tableConfig(route("*.b.test", "/", model.MatchPrefix, "be")), Env{RuntimeDir: "/run/portcullis"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files[wild]; ok {
		t.Errorf("a table with one-label wildcards only has a wildcard map")
	}
}

func TestWildcardDepth(t *testing.T) {
	for _, tc := range []struct {
		hosts []string
		want  int
	}{
		{nil, 0},
		{[]string{"*.a.com"}, 1},
		{[]string{"*.a.com", "*.b.com", "*.ba.com"}, 1},
		{[]string{"*.com", "*.a.com", "*.x.a.com", "*.y.com"}, 3},
		// "*.xa.com" does not end in ".a.com".
		{[]string{"*.a.com", "*.xa.com"}, 1},
		{[]string{"*.a.com", "*.q.x.a.com"}, 2},
	} {
		var routes []model.HTTPRoute
		var sections []string
		for _, h := range tc.hosts {
			routes = append(routes, multiRoute(h, "/", model.MatchPrefix, "be"))
			sections = append(sections, "be")
		}
		if got := wildcardDepth(wildcardSuffixes(routes, sections, "")); got != tc.want {
			t.Errorf("%q: depth %d, want %d", tc.hosts, got, tc.want)
		}
	}
}
