package haproxy

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// sparePolicy is the policy of the spares in these tests: what a backend gets by default.
var sparePolicy = model.BackendPolicy{ForwardedFor: true}

// spareConfig is planConfig with a pool of n spares of 16 slots, and every backend with the
// spares' policy unless it sets one.
func spareConfig(n int, backends ...model.Backend) model.Config {
	for i := range backends {
		if backends[i].Policy.Equal(model.BackendPolicy{}) {
			backends[i].Policy = sparePolicy
		}
	}
	c := planConfig(backends...)
	c.Spares = model.Spares{Count: n, Slots: 16, Policy: sparePolicy}
	return c
}

func TestPlanNewBackendTakesASpare(t *testing.T) {
	a, b, c := srv("198.18.0.1", 80), srv("198.18.0.2", 80), srv("198.18.0.3", 80)
	old := spareConfig(4, model.Backend{Name: "old", Servers: []model.Server{a}})
	start := applied(old)
	if got := start.Spares.Free; !slices.Equal(got, []string{"portcullis_spare-1", "portcullis_spare-2", "portcullis_spare-3", "portcullis_spare-4"}) {
		t.Fatalf("free spares after a start = %v", got)
	}
	cur := spareConfig(4, model.Backend{Name: "old", Servers: []model.Server{a}}, model.Backend{Name: "web", Servers: []model.Server{b, c}})

	p := NewPlan(start, cur)
	if p.Reload() {
		t.Fatalf("a new backend with the spares' policy reloads: %v", p.Reasons)
	}
	wantCmds := []string{
		"set server portcullis_spare-1/s1 addr 198.18.0.2 port 80", "set weight portcullis_spare-1/s1 1", "set server portcullis_spare-1/s1 state ready",
		"set server portcullis_spare-1/s2 addr 198.18.0.3 port 80", "set weight portcullis_spare-1/s2 1", "set server portcullis_spare-1/s2 state ready",
	}
	if !slices.Equal(p.Commands, wantCmds) {
		t.Errorf("commands:\n got %q\nwant %q", p.Commands, wantCmds)
	}
	if !slices.Equal(p.MapFiles, []string{PrefixMapFile, ExactMapFile}) && !slices.Equal(p.MapFiles, []string{ExactMapFile, PrefixMapFile}) {
		t.Errorf("map files = %v, want both route maps", p.MapFiles)
	}
	if got := string(p.Maps[ExactMapFile]); !strings.Contains(got, "a.test/web portcullis_spare-1\n") || !strings.Contains(got, "a.test/old old\n") {
		t.Errorf("the exact map does not send the new route to the spare:\n%s", got)
	}
	if got := string(p.Maps[PrefixMapFile]); !strings.Contains(got, "a.test/web/ portcullis_spare-1\n") {
		t.Errorf("the prefix map does not send the new route to the spare:\n%s", got)
	}
	if !slices.Equal(p.Spared, []string{"web"}) || p.Refill {
		t.Errorf("Spared = %v, Refill = %t; want [web], false", p.Spared, p.Refill)
	}
	if got := p.Next.Spares.Taken["web"]; got != "portcullis_spare-1" || len(p.Next.Spares.Free) != 3 {
		t.Errorf("next pool: web in %q, %d free; want portcullis_spare-1, 3", got, len(p.Next.Spares.Free))
	}
	if len(start.Spares.Free) != 4 || len(start.Spares.Taken) != 0 {
		t.Errorf("planning changed the applied pool: %+v", start.Spares)
	}

	t.Run("a second pass with the same configuration has nothing to do", func(t *testing.T) {
		again := NewPlan(&p.Next, cur)
		if again.Reload() || len(again.Commands) > 0 || len(again.MapFiles) > 0 {
			t.Errorf("second pass: reasons %v, commands %q, maps %v", again.Reasons, again.Commands, again.MapFiles)
		}
		if again.Next.Spares.Taken["web"] != "portcullis_spare-1" {
			t.Errorf("second pass forgot the occupant: %+v", again.Next.Spares)
		}
	})

	t.Run("endpoint changes of the occupant move the spare's slots", func(t *testing.T) {
		d := srv("198.18.0.4", 80)
		moved := spareConfig(4, model.Backend{Name: "old", Servers: []model.Server{a}}, model.Backend{Name: "web", Servers: []model.Server{b, d}})
		want := []string{
			"set server portcullis_spare-1/s3 addr 198.18.0.4 port 80", "set weight portcullis_spare-1/s3 1", "set server portcullis_spare-1/s3 state ready",
			"set server portcullis_spare-1/s2 state maint",
		}
		full := NewPlan(&p.Next, moved)
		if full.Reload() || !slices.Equal(full.Commands, want) || len(full.MapFiles) > 0 {
			t.Errorf("full pass: reasons %v, commands %q, maps %v; want commands %q", full.Reasons, full.Commands, full.MapFiles, want)
		}
		ep, ok := PlanEndpoints(&p.Next, moved, []string{"web"})
		if !ok || !slices.Equal(ep.Commands, want) {
			t.Errorf("endpoint pass: ok %t, commands %q; want %q", ok, ep.Commands, want)
		}
		if ok && ep.Next.Spares.Taken["web"] != "portcullis_spare-1" {
			t.Errorf("the endpoint pass forgot the occupant")
		}
	})

	t.Run("a reload for another reason renders the occupant under its own name and refills the pool", func(t *testing.T) {
		other := spareConfig(4, model.Backend{Name: "old", Servers: []model.Server{a}}, model.Backend{Name: "web", Servers: []model.Server{b, c}})
		other.Global.MaxConn = 1000
		r := NewPlan(&p.Next, other)
		if !r.Reload() {
			t.Fatal("a global change did not reload")
		}
		if len(r.Next.Spares.Taken) != 0 || len(r.Next.Spares.Free) != 4 {
			t.Errorf("pool after the reload: %+v, want 4 free and none taken", r.Next.Spares)
		}
		files, err := RenderLayout(r.Next.Config, r.Next.Layout, Env{RuntimeDir: "/run/portcullis"})
		if err != nil {
			t.Fatal(err)
		}
		cfg := string(files[ConfigFile])
		for _, want := range []string{"backend web\n", "backend portcullis_spare-1\n", "backend portcullis_spare-4\n"} {
			if !strings.Contains(cfg, want) {
				t.Errorf("haproxy.cfg has no %q", strings.TrimSpace(want))
			}
		}
		if got := string(files[ExactMapFile]); !strings.Contains(got, "a.test/web web\n") {
			t.Errorf("the exact map does not name the section after the reload:\n%s", got)
		}
		// And the pass after it has nothing to do.
		if again := NewPlan(&r.Next, other); again.Reload() || len(again.Commands) > 0 || len(again.MapFiles) > 0 {
			t.Errorf("after the reload: reasons %v, commands %q, maps %v", again.Reasons, again.Commands, again.MapFiles)
		}
	})

	t.Run("outgrowing the spare's slots reloads", func(t *testing.T) {
		var big []model.Server
		for i := range 17 {
			big = append(big, srv("198.18.2."+strconv.Itoa(i+1), 80))
		}
		grown := spareConfig(4, model.Backend{Name: "old", Servers: []model.Server{a}}, model.Backend{Name: "web", Servers: big})
		if _, ok := PlanEndpoints(&p.Next, grown, []string{"web"}); ok {
			t.Error("the endpoint pass fits 17 endpoints into 16 slots")
		}
		r := NewPlan(&p.Next, grown)
		if !slices.ContainsFunc(r.Reasons, func(r Reason) bool { return r.Kind == ReasonSlotsExhausted }) {
			t.Errorf("reasons = %v, want slots exhausted", r.Reasons)
		}
		if len(r.Next.Layout["web"]) != Capacity(17, DefaultSlotStep) {
			t.Errorf("after the reload web has %d slots, want %d", len(r.Next.Layout["web"]), Capacity(17, DefaultSlotStep))
		}
	})

	t.Run("removing the occupant reloads", func(t *testing.T) {
		r := NewPlan(&p.Next, old)
		if !slices.ContainsFunc(r.Reasons, func(r Reason) bool { return r.Kind == ReasonBackendRemoved && r.Detail == "web" }) {
			t.Errorf("reasons = %v, want web removed", r.Reasons)
		}
	})
}

func TestPlanSpareEligibility(t *testing.T) {
	a := srv("198.18.0.1", 80)
	many := make([]model.Server, 12)
	for i := range many {
		many[i] = srv("198.18.1."+string(rune('1'+i%9))+string(rune('0'+i/9)), 80)
	}
	base := []model.Backend{{Name: "old", Servers: []model.Server{a}}}
	for _, tc := range []struct {
		name   string
		spares int
		add    []model.Backend
		edit   func(*model.Config)
		want   ReasonKind // "" for a runtime plan taking spares
	}{
		{name: "a backend with the spares' policy takes a spare", spares: 4, add: []model.Backend{{Name: "web", Servers: []model.Server{a}}}},
		{name: "a new backend without endpoints takes a spare too", spares: 4, add: []model.Backend{{Name: "web"}}},
		{name: "two new backends take two spares", spares: 4, add: []model.Backend{{Name: "web"}, {Name: "api"}}},
		{name: "another backend policy reloads", spares: 4, add: []model.Backend{{Name: "web", Policy: model.BackendPolicy{Check: true}}}, want: ReasonBackendAdded},
		{name: "more endpoints than a fresh section's room in a spare reloads", spares: 4, add: []model.Backend{{Name: "web", Servers: many}}, want: ReasonBackendAdded},
		{name: "a larger slot step than the spare has reloads", spares: 4, add: []model.Backend{{Name: "web", SlotStep: 32}}, want: ReasonBackendAdded},
		{name: "no pool reloads", spares: 0, add: []model.Backend{{Name: "web"}}, want: ReasonBackendAdded},
		{name: "more new backends than free spares reload", spares: 1, add: []model.Backend{{Name: "web"}, {Name: "api"}}, want: ReasonBackendAdded},
		{
			name: "a route policy reloads", spares: 4, add: []model.Backend{{Name: "web"}},
			edit: func(c *model.Config) {
				for i := range c.HTTPRoutes {
					if c.HTTPRoutes[i].Backends[0].Name == "web" {
						c.HTTPRoutes[i].Policy.AppRoot = "/app"
					}
				}
			},
			want: ReasonBackendAdded,
		},
		{
			name: "a new backend with a reload needed anyway waits for it", spares: 4, add: []model.Backend{{Name: "web"}},
			edit: func(c *model.Config) { c.Global.MaxConn = 100 },
			want: ReasonGlobal,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := applied(spareConfig(tc.spares, slices.Clone(base)...))
			cur := spareConfig(tc.spares, append(slices.Clone(base), tc.add...)...)
			if tc.edit != nil {
				tc.edit(&cur)
			}
			p := NewPlan(start, cur)
			if tc.want == "" {
				if p.Reload() {
					t.Fatalf("reloads: %v", p.Reasons)
				}
				if len(p.Spared) != len(tc.add) {
					t.Errorf("spared %v, want %d", p.Spared, len(tc.add))
				}
				return
			}
			if !slices.ContainsFunc(p.Reasons, func(r Reason) bool { return r.Kind == tc.want }) {
				t.Errorf("reasons = %v, want %s", p.Reasons, tc.want)
			}
			if len(p.Next.Spares.Taken) != 0 || len(p.Next.Spares.Free) != tc.spares {
				t.Errorf("a reload plan takes spares: %+v", p.Next.Spares)
			}
		})
	}
}

func TestPlanRefillsTheSparePool(t *testing.T) {
	// Four spares: a refill is due once fewer than one is free.
	backends := []model.Backend{{Name: "b0"}}
	state := applied(spareConfig(4, backends...))
	for i := 1; i <= 4; i++ {
		backends = append(backends, model.Backend{Name: "b" + string(rune('0'+i))})
		cur := spareConfig(4, slices.Clone(backends)...)
		p := NewPlan(state, cur)
		if p.Reload() {
			t.Fatalf("new backend %d reloads: %v", i, p.Reasons)
		}
		if want := i == 4; p.Refill != want {
			t.Errorf("after %d spares taken, Refill = %t, want %t", i, p.Refill, want)
		}
		state = &p.Next
	}
	cur := spareConfig(4, slices.Clone(backends)...)
	p := NewPlan(state, cur)
	if len(p.Reasons) != 1 || p.Reasons[0].Kind != ReasonSpares {
		t.Fatalf("with the pool empty and nothing else to do, reasons = %v, want one %s", p.Reasons, ReasonSpares)
	}
	if len(p.Next.Spares.Free) != 4 || len(p.Next.Spares.Taken) != 0 {
		t.Errorf("pool after the refill: %+v", p.Next.Spares)
	}

	t.Run("a pool of another shape is refilled", func(t *testing.T) {
		before := applied(spareConfig(4, model.Backend{Name: "b0"}))
		cur := spareConfig(8, model.Backend{Name: "b0"})
		if p := NewPlan(before, cur); len(p.Reasons) != 1 || p.Reasons[0].Kind != ReasonSpares {
			t.Errorf("reasons = %v, want %s", p.Reasons, ReasonSpares)
		}
	})
	t.Run("a pool turned off is not a reason to reload", func(t *testing.T) {
		before := applied(spareConfig(4, model.Backend{Name: "b0"}))
		cur := spareConfig(0, model.Backend{Name: "b0"})
		if p := NewPlan(before, cur); p.Reload() {
			t.Errorf("reasons = %v", p.Reasons)
		}
	})
}

func TestRenderSpares(t *testing.T) {
	cfg := spareConfig(2, model.Backend{Name: "web", Servers: []model.Server{srv("198.18.0.1", 80)}})
	cfg.Spares.Slots = 3
	files, err := Render(cfg, Env{RuntimeDir: "/run/portcullis"})
	if err != nil {
		t.Fatal(err)
	}
	want := `backend portcullis_spare-1
  mode http
  balance roundrobin
  option forwardfor
  server s1 127.0.0.1:1 disabled
  server s2 127.0.0.1:1 disabled
  server s3 127.0.0.1:1 disabled

backend portcullis_spare-2
`
	if got := string(files[ConfigFile]); !strings.Contains(got, want) {
		t.Errorf("haproxy.cfg does not declare the spares as wanted:\n%s", got)
	}

	t.Run("a backend named like a spare is refused", func(t *testing.T) {
		bad := spareConfig(2, model.Backend{Name: "portcullis_spare-1"})
		if _, rej := Prune(bad); len(rej) == 0 {
			t.Error("Prune keeps a backend named like a spare")
		}
	})
	t.Run("an invalid pool is left out", func(t *testing.T) {
		bad := spareConfig(2, model.Backend{Name: "web"})
		bad.Spares.Slots = 0
		out, rej := Prune(bad)
		if len(rej) == 0 || out.Spares.Count != 0 {
			t.Errorf("Prune keeps a pool without slots: %+v, %v", out.Spares, rej)
		}
	})
}
