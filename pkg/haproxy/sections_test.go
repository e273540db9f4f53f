package haproxy_test

import (
	"math"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

func ingress(name string) diag.Object {
	return diag.Object{Kind: "Ingress", Namespace: "ns", Name: name}
}
func service(name string) diag.Object {
	return diag.Object{Kind: "Service", Namespace: "ns", Name: name}
}

// servers are servers on port 8080 of the given addresses.
func servers(addrs ...string) []model.Server {
	out := make([]model.Server, len(addrs))
	for i, a := range addrs {
		out[i] = model.Server{Address: netip.MustParseAddr(a), Port: 8080}
	}
	return out
}

// from returns rt with its source object.
func from(rt model.HTTPRoute, o diag.Object) model.HTTPRoute {
	rt.Source = o
	return rt
}

// weighted is a route for host "/" sharing its requests among backends by weight.
func weighted(host string, backends ...model.WeightedBackend) model.HTTPRoute {
	rt := prefixRoute(host, "/", "")
	rt.Backends = backends
	return rt
}

// sectionConfig serves routes on the HTTP listener from the main, canary and web backends.
func sectionConfig(routes ...model.HTTPRoute) model.Config {
	c := model.Config{
		Listeners: []model.Listener{httpListener()},
		Backends: []model.Backend{
			{Name: "ns_canary_80", Servers: servers("10.0.1.1"), Policy: model.BackendPolicy{Balance: model.Balance{Algorithm: "first"}},
				Sources: []diag.Object{service("canary")}},
			{Name: "ns_main_80", Servers: servers("10.0.0.1", "10.0.0.2"), Policy: model.BackendPolicy{Balance: model.Balance{Algorithm: "leastconn"}},
				Sources: []diag.Object{service("main")}},
			{Name: "ns_web_80", Servers: servers("10.0.2.1", "10.0.2.2", "10.0.2.3"), Sources: []diag.Object{service("web")}},
		},
		HTTPRoutes: routes,
	}
	c.Normalize()
	return c
}

func sectionNames(ss []haproxy.Section) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}

func TestSectionsOfOneBackend(t *testing.T) {
	cfg := sectionConfig(
		from(prefixRoute("a.example.com", "/", "ns_web_80"), ingress("a")),
		from(exactRoute("", "/health", "ns_web_80"), ingress("b")),
	)
	sections, routes, tcp := haproxy.Sections(cfg)
	if got, want := sectionNames(sections), []string{"ns_web_80"}; !slices.Equal(got, want) {
		t.Fatalf("sections %q, want %q", got, want)
	}
	if want := []string{"ns_web_80", "ns_web_80"}; !slices.Equal(routes, want) || len(tcp) != 0 {
		t.Errorf("route sections %q and %q, want %q and none", routes, tcp, want)
	}
	s := sections[0]
	web, _ := cfg.Backend("ns_web_80")
	if !slices.Equal(s.Servers, web.Servers) || !s.Route.IsZero() || !s.Policy.Equal(web.Policy) || s.TCP {
		t.Errorf("section %+v is not the backend alone", s)
	}
	// The section comes from the backend's objects and from every route's.
	if want := []diag.Object{ingress("a"), ingress("b"), service("web")}; !slices.Equal(s.Sources, want) {
		t.Errorf("sources %v, want %v", s.Sources, want)
	}
}

func TestSectionsOfRoutePolicies(t *testing.T) {
	appRoot := model.RoutePolicy{AppRoot: "/app"}
	hsts := model.RoutePolicy{HSTS: time.Hour}
	cfg := sectionConfig(
		prefixRoute("a.example.com", "/", "ns_web_80"),
		withPolicy(prefixRoute("b.example.com", "/", "ns_web_80"), appRoot),
		withPolicy(prefixRoute("c.example.com", "/", "ns_web_80"), hsts),
		withPolicy(exactRoute("c.example.com", "/x", "ns_web_80"), appRoot),
	)
	sections, routes, _ := haproxy.Sections(cfg)
	if len(sections) != 3 {
		t.Fatalf("sections %q, want the backend alone and one per route policy", sectionNames(sections))
	}
	// Routes are sorted by host: a (no policy), b (app root), c/ (HSTS), c/x (app root).
	if routes[0] != "ns_web_80" {
		t.Errorf("the route without a policy has section %q, want ns_web_80", routes[0])
	}
	for _, i := range []int{1, 2} {
		if !hashedSection.MatchString(routes[i]) || !strings.HasPrefix(routes[i], "ns_web_80_") {
			t.Errorf("route %d has section %q, want ns_web_80_ and 8 hex digits", i, routes[i])
		}
	}
	if routes[1] == routes[2] {
		t.Errorf("two route policies share section %q", routes[1])
	}
	if routes[3] != routes[1] {
		t.Errorf("two routes with the same policy have sections %q and %q, want one", routes[1], routes[3])
	}
	web, _ := cfg.Backend("ns_web_80")
	for _, s := range sections {
		if !slices.Equal(s.Servers, web.Servers) {
			t.Errorf("section %s: servers %v, want the backend's", s.Name, s.Servers)
		}
	}
	for name, want := range map[string]model.RoutePolicy{routes[1]: appRoot, routes[2]: hsts} {
		i := slices.IndexFunc(sections, func(s haproxy.Section) bool { return s.Name == name })
		if !sections[i].Route.Equal(want) {
			t.Errorf("section %s: route policy %+v, want %+v", name, sections[i].Route, want)
		}
	}
	// The names are stable: the same configuration gives the same names.
	again, _, _ := haproxy.Sections(sectionConfig(cfg.HTTPRoutes...))
	if !slices.Equal(sectionNames(again), sectionNames(sections)) {
		t.Errorf("names changed between two derivations: %q, %q", sectionNames(sections), sectionNames(again))
	}
}

func TestSectionsOfWeightedBackends(t *testing.T) {
	canary := func(main, canary int) model.HTTPRoute {
		return weighted("a.example.com", model.WeightedBackend{Name: "ns_main_80", Weight: main}, model.WeightedBackend{Name: "ns_canary_80", Weight: canary})
	}
	weights := func(s haproxy.Section) map[string]int {
		out := map[string]int{}
		for _, srv := range s.Servers {
			out[srv.Address.String()] = srv.Weight
		}
		return out
	}
	t.Run("a canary share makes one section of weighted servers with the first backend's policy", func(t *testing.T) {
		cfg := sectionConfig(canary(90, 10))
		sections, routes, _ := haproxy.Sections(cfg)
		if len(sections) != 1 || !hashedSection.MatchString(routes[0]) || !strings.HasPrefix(routes[0], "ns_main_80_") {
			t.Fatalf("sections %q, route section %q: want one, ns_main_80_ and 8 hex digits", sectionNames(sections), routes[0])
		}
		s := sections[0]
		main, _ := cfg.Backend("ns_main_80")
		if !s.Policy.Equal(main.Policy) {
			t.Errorf("policy %+v, want the first backend's %+v", s.Policy, main.Policy)
		}
		// Scaled so that the larger side reaches HAProxy's maximum of 256: 2 main servers of
		// 256 and one canary server of 57 give the canary 10.0% of the requests.
		want := map[string]int{"10.0.0.1": 256, "10.0.0.2": 256, "10.0.1.1": 57}
		if got := weights(s); !mapsEqual(got, want) {
			t.Errorf("weights %v, want %v", got, want)
		}
		share := 57.0 / (256 + 256 + 57)
		if math.Abs(share-0.10) > 0.005 {
			t.Errorf("canary share %.3f, want 0.10", share)
		}
		if want := []diag.Object{service("canary"), service("main")}; !slices.Equal(s.Sources, want) {
			t.Errorf("sources %v, want %v", s.Sources, want)
		}
	})
	t.Run("a backend of weight 0 gets no server", func(t *testing.T) {
		sections, _, _ := haproxy.Sections(sectionConfig(canary(100, 0)))
		if got, want := weights(sections[0]), map[string]int{"10.0.0.1": 256, "10.0.0.2": 256}; !mapsEqual(got, want) {
			t.Errorf("weights %v, want %v", got, want)
		}
	})
	t.Run("one backend takes every request whatever its weight", func(t *testing.T) {
		sections, routes, _ := haproxy.Sections(sectionConfig(weighted("a.example.com", model.WeightedBackend{Name: "ns_web_80", Weight: 7})))
		if routes[0] != "ns_web_80" || len(sections) != 1 || !slices.Equal(sections[0].Servers, servers("10.0.2.1", "10.0.2.2", "10.0.2.3")) {
			t.Errorf("sections %+v, want ns_web_80 with its servers unweighted", sections)
		}
	})
	t.Run("two routes with the same backends but other weights get a section each", func(t *testing.T) {
		b := canary(50, 50)
		b.Match.Host = "b.example.com"
		sections, routes, _ := haproxy.Sections(sectionConfig(canary(90, 10), b))
		if len(sections) != 2 || routes[0] == routes[1] {
			t.Fatalf("sections %q, route sections %q: want two", sectionNames(sections), routes)
		}
		for _, r := range routes {
			if !hashedSection.MatchString(r) || !strings.HasPrefix(r, "ns_main_80_") {
				t.Errorf("section %q, want ns_main_80_ and 8 hex digits", r)
			}
		}
	})
	t.Run("a route to an unknown backend has no section", func(t *testing.T) {
		_, routes, _ := haproxy.Sections(sectionConfig(canary(90, 10), prefixRoute("b.example.com", "/", "ns_gone_80")))
		if routes[1] != "" {
			t.Errorf("section %q, want none", routes[1])
		}
	})
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// planReasons is the reasons of a plan as strings.
func planReasons(p haproxy.Plan) []string {
	out := make([]string, len(p.Reasons))
	for i, r := range p.Reasons {
		out[i] = r.String()
	}
	return out
}

func TestPlanOfWeightsAndRoutePolicies(t *testing.T) {
	canary := func(main, canary int) model.Config {
		return sectionConfig(weighted("a.example.com",
			model.WeightedBackend{Name: "ns_main_80", Weight: main}, model.WeightedBackend{Name: "ns_canary_80", Weight: canary}))
	}
	applied := func(c model.Config) *haproxy.Applied {
		next := haproxy.NewPlan(nil, c).Next
		return &next
	}
	t.Run("a canary weight change sets server weights at runtime", func(t *testing.T) {
		before := canary(90, 10)
		_, routes, _ := haproxy.Sections(before)
		s := routes[0]
		p := haproxy.NewPlan(applied(before), canary(50, 50))
		if p.Reload() {
			t.Fatalf("reload %q, want runtime commands", planReasons(p))
		}
		// 50/50: two main servers of 128 against one canary server of 256.
		want := []string{
			"set weight " + s + "/s1 128", "set server " + s + "/s1 state ready",
			"set weight " + s + "/s2 128", "set server " + s + "/s2 state ready",
			"set weight " + s + "/s3 256", "set server " + s + "/s3 state ready",
		}
		if !slices.Equal(p.Commands, want) {
			t.Errorf("commands:\n got %q\nwant %q", p.Commands, want)
		}
		if len(p.MapFiles) != 0 || len(p.CertCommands) != 0 {
			t.Errorf("maps %v and certificates %v changed", p.MapFiles, p.CertCommands)
		}
	})
	t.Run("a canary weight going to 0 takes the canary out at runtime", func(t *testing.T) {
		before := canary(90, 10)
		_, routes, _ := haproxy.Sections(before)
		p := haproxy.NewPlan(applied(before), canary(100, 0))
		if want := []string{"set server " + routes[0] + "/s3 state maint"}; p.Reload() || !slices.Equal(p.Commands, want) {
			t.Errorf("reasons %q, commands %q; want no reload and %q", planReasons(p), p.Commands, want)
		}
	})
	t.Run("a route policy change reloads", func(t *testing.T) {
		policy := func(root string) model.Config {
			return sectionConfig(withPolicy(prefixRoute("a.example.com", "/", "ns_web_80"), model.RoutePolicy{AppRoot: root}))
		}
		_, old, _ := haproxy.Sections(policy("/app"))
		_, cur, _ := haproxy.Sections(policy("/other"))
		p := haproxy.NewPlan(applied(policy("/app")), policy("/other"))
		if want := []string{"backend_added: " + cur[0], "backend_removed: " + old[0]}; !slices.Equal(planReasons(p), want) {
			t.Errorf("reasons %q, want %q", planReasons(p), want)
		}
	})
	t.Run("a route policy added to a route reloads", func(t *testing.T) {
		before := sectionConfig(prefixRoute("a.example.com", "/", "ns_web_80"))
		after := sectionConfig(withPolicy(prefixRoute("a.example.com", "/", "ns_web_80"), model.RoutePolicy{HSTS: time.Hour}))
		_, cur, _ := haproxy.Sections(after)
		p := haproxy.NewPlan(applied(before), after)
		if want := []string{"backend_added: " + cur[0], "backend_removed: ns_web_80"}; !slices.Equal(planReasons(p), want) {
			t.Errorf("reasons %q, want %q", planReasons(p), want)
		}
	})
	t.Run("a backend policy change reloads its section", func(t *testing.T) {
		before := sectionConfig(prefixRoute("a.example.com", "/", "ns_web_80"))
		after := sectionConfig(prefixRoute("a.example.com", "/", "ns_web_80"))
		after.Backends[2].Policy.Cookie = "SRV"
		p := haproxy.NewPlan(applied(before), after)
		if want := []string{"backend_settings_changed: ns_web_80"}; !slices.Equal(planReasons(p), want) {
			t.Errorf("reasons %q, want %q", planReasons(p), want)
		}
	})
	t.Run("a route moving to another existing section updates the maps at runtime", func(t *testing.T) {
		before := sectionConfig(prefixRoute("a.example.com", "/", "ns_web_80"), prefixRoute("b.example.com", "/", "ns_main_80"))
		after := sectionConfig(prefixRoute("a.example.com", "/", "ns_main_80"), prefixRoute("b.example.com", "/", "ns_web_80"))
		p := haproxy.NewPlan(applied(before), after)
		if p.Reload() || !slices.Equal(p.MapFiles, []string{haproxy.PrefixMapFile}) {
			t.Errorf("reasons %q, maps %v; want the prefix map alone", planReasons(p), p.MapFiles)
		}
		if got, want := string(p.Maps[haproxy.PrefixMapFile]), "a.example.com/ ns_main_80\nb.example.com/ ns_web_80\n"; got != want {
			t.Errorf("prefix map:\n%s\nwant\n%s", got, want)
		}
	})
}
