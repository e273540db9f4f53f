package haproxy

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

func srv(addr string, port uint16) model.Server {
	return model.Server{Address: netip.MustParseAddr(addr), Port: port}
}

func draining(s model.Server) model.Server { s.Draining = true; return s }

// httpListener is the plain-HTTP listener of the plan tests.
var httpListener = model.Listener{Name: "http", Bind: model.Bind{Address: netip.MustParseAddr("0.0.0.0"), Port: 8080}, Protocol: model.HTTP}

// route is a route for host and path to one backend, without a route policy.
func route(host, path string, kind model.PathMatch, backend string) model.HTTPRoute {
	return model.HTTPRoute{Match: model.HTTPMatch{Host: host, Path: path, Kind: kind}, Backends: []model.WeightedBackend{{Name: backend, Weight: 1}}}
}

// planConfig serves each backend on a.test/<name>, each route with the zero route policy, so
// that every section is its backend alone and is named after it.
func planConfig(backends ...model.Backend) model.Config {
	c := model.Config{
		Listeners: []model.Listener{httpListener},
		Backends:  backends,
	}
	for _, b := range backends {
		c.HTTPRoutes = append(c.HTTPRoutes, route("a.test", "/"+b.Name, model.MatchPrefix, b.Name))
	}
	c.Normalize()
	return c
}

// applied is what haproxy runs after a reload with cfg.
func applied(cfg model.Config) *Applied {
	next := NewPlan(nil, cfg).Next
	return &next
}

func TestCapacity(t *testing.T) {
	for _, tc := range []struct{ n, step, want int }{
		{0, 8, 8}, {3, 8, 8}, {4, 8, 16}, {11, 8, 16}, {12, 8, 24}, {0, 0, 8}, {1, 1, 2}, {0, 42, 42},
	} {
		if got := Capacity(tc.n, tc.step); got != tc.want {
			t.Errorf("Capacity(%d, %d) = %d, want %d", tc.n, tc.step, got, tc.want)
		}
		if got := Capacity(tc.n, tc.step); got <= tc.n {
			t.Errorf("Capacity(%d, %d) = %d leaves no free slot", tc.n, tc.step, got)
		}
	}
}

func TestPlanRuntimeCommands(t *testing.T) {
	a, b, c, d := srv("198.18.0.1", 80), srv("198.18.0.2", 80), srv("198.18.0.3", 80), srv("198.18.0.4", 8080)
	for _, tc := range []struct {
		name      string
		before    []model.Server
		after     []model.Server
		wantCmds  []string
		wantSlots []model.Server // used slots in order; zero value for an unused slot
	}{
		{
			name:   "scaling from one endpoint to three fills the next free slots",
			before: []model.Server{a},
			after:  []model.Server{a, b, c},
			wantCmds: []string{
				"set server be/s2 addr 198.18.0.2 port 80", "set weight be/s2 1", "set server be/s2 state ready",
				"set server be/s3 addr 198.18.0.3 port 80", "set weight be/s3 1", "set server be/s3 state ready",
			},
			wantSlots: []model.Server{a, b, c},
		},
		{
			name:      "scaling down puts the slot in maintenance and keeps the others in place",
			before:    []model.Server{a, b, c},
			after:     []model.Server{a, c},
			wantCmds:  []string{"set server be/s2 state maint"},
			wantSlots: []model.Server{a, {}, c},
		},
		{
			name:   "replacing an address adds the new endpoint before removing the old one",
			before: []model.Server{a},
			after:  []model.Server{d},
			wantCmds: []string{
				"set server be/s2 addr 198.18.0.4 port 8080", "set weight be/s2 1", "set server be/s2 state ready",
				"set server be/s1 state maint",
			},
			wantSlots: []model.Server{{}, d},
		},
		{
			name:      "a terminating endpoint that still serves is drained, not cut",
			before:    []model.Server{a, b},
			after:     []model.Server{a, draining(b)},
			wantCmds:  []string{"set server be/s2 state drain"},
			wantSlots: []model.Server{a, draining(b)},
		},
		{
			name:      "a drained endpoint that becomes ready again gets its weight back",
			before:    []model.Server{a, draining(b)},
			after:     []model.Server{a, b},
			wantCmds:  []string{"set weight be/s2 1", "set server be/s2 state ready"},
			wantSlots: []model.Server{a, b},
		},
		{
			name:      "a new weight (a canary share moving) is set at runtime",
			before:    []model.Server{a, b},
			after:     []model.Server{a, {Address: b.Address, Port: b.Port, Weight: 40}},
			wantCmds:  []string{"set weight be/s2 40", "set server be/s2 state ready"},
			wantSlots: []model.Server{a, {Address: b.Address, Port: b.Port, Weight: 40}},
		},
		{
			name:      "no change gives no command",
			before:    []model.Server{a, b},
			after:     []model.Server{b, a},
			wantSlots: []model.Server{a, b},
		},
		{
			name:      "the last endpoint going away leaves the backend without servers",
			before:    []model.Server{a},
			after:     nil,
			wantCmds:  []string{"set server be/s1 state maint"},
			wantSlots: nil,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := planConfig(model.Backend{Name: "be", Servers: tc.before})
			p := NewPlan(applied(old), planConfig(model.Backend{Name: "be", Servers: tc.after}))
			if p.Reload() {
				t.Fatalf("unexpected reload: %v", p.Reasons)
			}
			if !slices.Equal(p.Commands, tc.wantCmds) {
				t.Errorf("commands:\n got %q\nwant %q", p.Commands, tc.wantCmds)
			}
			if len(p.MapFiles) != 0 {
				t.Errorf("map files changed: %v", p.MapFiles)
			}
			var used []model.Server
			for _, sl := range p.Next.Layout["be"] {
				used = append(used, sl.Server)
			}
			used = trimZero(used)
			if !slices.Equal(used, tc.wantSlots) {
				t.Errorf("slots:\n got %v\nwant %v", used, tc.wantSlots)
			}
		})
	}
}

func trimZero(s []model.Server) []model.Server {
	for len(s) > 0 && s[len(s)-1] == (model.Server{}) {
		s = s[:len(s)-1]
	}
	return s
}

func TestPlanReloadReasons(t *testing.T) {
	a := srv("198.18.0.1", 80)
	many := make([]model.Server, 9)
	for i := range many {
		many[i] = srv("198.18.1."+string(rune('1'+i)), 80)
	}
	base := planConfig(model.Backend{Name: "be", Servers: []model.Server{a}})
	for _, tc := range []struct {
		name    string
		applied *Applied
		desired model.Config
		want    []string
	}{
		{"nothing applied yet", nil, base, []string{"initial"}},
		{
			"a new backend", applied(base),
			planConfig(model.Backend{Name: "be", Servers: []model.Server{a}}, model.Backend{Name: "new"}),
			[]string{"backend_added: new"},
		},
		{
			"a removed backend", applied(planConfig(model.Backend{Name: "be"}, model.Backend{Name: "old"})),
			planConfig(model.Backend{Name: "be"}),
			[]string{"backend_removed: old"},
		},
		{
			"more endpoints than slots", applied(base),
			planConfig(model.Backend{Name: "be", Servers: many}),
			[]string{"slots_exhausted: backend be has 9 endpoints for 8 slots"},
		},
		{
			"a per-backend slot step", applied(base),
			planConfig(model.Backend{Name: "be", Servers: []model.Server{a}, SlotStep: 42}),
			[]string{"slot_step_changed: backend be from 0 to 42"},
		},
		{
			"another default backend", applied(base),
			func() model.Config { c := base; c.DefaultBackend = "be"; return c }(),
			[]string{`default_backend_changed: from "" to "be"`},
		},
		{
			"another bind port", applied(base),
			func() model.Config {
				c := base
				c.Listeners = []model.Listener{httpListener}
				c.Listeners[0].Port = 80
				return c
			}(),
			[]string{"listeners_changed"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPlan(tc.applied, tc.desired)
			got := make([]string, len(p.Reasons))
			for i, r := range p.Reasons {
				got[i] = r.String()
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("reasons:\n got %q\nwant %q", got, tc.want)
			}
			if len(p.Commands) != 0 || len(p.MapFiles) != 0 {
				t.Errorf("a reload plan carries runtime work: %v %v", p.Commands, p.MapFiles)
			}
			// The layout after a reload is fresh: servers packed, slots resized.
			sections, _, _ := Sections(tc.desired)
			for _, s := range sections {
				slots := p.Next.Layout[s.Name]
				if len(slots) != Capacity(len(s.Servers), slotStep(tc.desired, s)) {
					t.Errorf("section %s: %d slots after reload", s.Name, len(slots))
				}
			}
		})
	}
}

func TestPlanRouteChangesNeedNoReload(t *testing.T) {
	old := planConfig(model.Backend{Name: "be"})
	cur := old
	cur.HTTPRoutes = append(slices.Clone(old.HTTPRoutes), route("b.test", "/x", model.MatchExact, "be"))
	cur.Normalize()
	p := NewPlan(applied(old), cur)
	if p.Reload() {
		t.Fatalf("unexpected reload: %v", p.Reasons)
	}
	if want := []string{ExactMapFile}; !slices.Equal(p.MapFiles, want) {
		t.Errorf("map files: got %v, want %v", p.MapFiles, want)
	}
}

func TestPlanShrinksSlotsAtReload(t *testing.T) {
	many := make([]model.Server, 12)
	for i := range many {
		many[i] = srv("198.18.2."+strings.Repeat("1", 1)+string(rune('0'+i%10)), uint16(8000+i))
	}
	big := planConfig(model.Backend{Name: "be", Servers: many})
	p := NewPlan(applied(big), planConfig(model.Backend{Name: "be", Servers: many[:1]}, model.Backend{Name: "other"}))
	if !p.Reload() {
		t.Fatal("expected a reload for the new backend")
	}
	if got := len(p.Next.Layout["be"]); got != 8 {
		t.Errorf("slots after reload: got %d, want 8", got)
	}
}
