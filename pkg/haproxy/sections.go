package haproxy

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"slices"
	"strings"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// Section is one HAProxy backend section. The model has routes with policies and weighted
// backends; HAProxy has backend sections holding server lines and request rules. A section is
// what one kind of route needs: the servers of its weighted backends, balanced with the first
// backend's policy, and the route's own policy. Routes that need the same thing share a section.
type Section struct {
	// Name is the section's name: the backend's own name when the section is that backend
	// alone with no route policy (always so for TCP), else the first backend's name and a hash
	// of the rest.
	Name string
	// TCP sections carry TCP routes; the others are HTTP.
	TCP bool
	// Backends are the model backends whose servers the section holds.
	Backends []model.WeightedBackend
	// Policy is the first backend's; Route is the routes' policy.
	Policy model.BackendPolicy
	Route  model.RoutePolicy
	// Servers are the backends' servers with their weights in the section.
	Servers  []model.Server
	SlotStep int
	// Unresolved is the share of the requests answered 500, out of Total: the weight of the
	// routes' unresolved backends (model.WeightedBackend with no Name). Zero Total: none.
	Unresolved, Total int
	// Prefix is the path prefix the routes matched, for a policy that replaces it (see
	// model.PathModifier); empty otherwise.
	Prefix string
	// Sources are the objects of the backends and the routes.
	Sources []diag.Object
}

// sameShape reports whether the running section a can take b's servers at runtime: same name,
// policies and slot step.
func (a Section) sameShape(b Section) bool {
	return a.Name == b.Name && a.TCP == b.TCP && a.SlotStep == b.SlotStep && a.Policy.Equal(b.Policy) && a.Route.Equal(b.Route) &&
		a.Unresolved == b.Unresolved && a.Total == b.Total && a.Prefix == b.Prefix
}

// UnresolvedName is the base of the name of a section whose backends are all unresolved
// references: it answers 500 (see model.WeightedBackend).
const UnresolvedName = "portcullis_unresolved"

// unresolvedShare is the share of a route's requests that its unresolved backends take: the
// weight of unresolved, out of total; all of them when no resolved backend has a weight, or when
// the one backend is unresolved.
func unresolvedShare(backends []model.WeightedBackend) (unresolved, total int) {
	resolved := 0
	for _, b := range backends {
		switch {
		case b.Name != "":
			resolved += max(b.Weight, 0)
		case len(backends) == 1:
			unresolved = 1
		default:
			unresolved += max(b.Weight, 0)
		}
	}
	switch {
	case unresolved == 0:
		return 0, 0
	case resolved == 0:
		return 1, 1
	}
	return unresolved, unresolved + resolved
}

// replacedPrefix is the prefix a route's policy replaces: its matched path, when the policy
// replaces the matched prefix of the path (a redirect or a rewrite).
func replacedPrefix(rt model.HTTPRoute) string {
	for _, pm := range []*model.PathModifier{redirectPath(rt.Policy.RequestRedirect), rewritePath(rt.Policy.URLRewrite)} {
		if pm != nil && !pm.Full {
			return rt.Match.Path
		}
	}
	return ""
}

func redirectPath(r *model.RequestRedirect) *model.PathModifier {
	if r == nil {
		return nil
	}
	return r.Path
}

func rewritePath(u *model.URLRewrite) *model.PathModifier {
	if u == nil {
		return nil
	}
	return u.Path
}

// Sections lists the backend sections of cfg, sorted by name, and the section of each HTTP route
// (parallel to cfg.HTTPRoutes) and of each TCP route (parallel to cfg.TCPRoutes). Routes whose
// backends are unknown get no section (""); the renderer's checks refuse them.
func Sections(cfg model.Config) (sections []Section, httpRoutes, tcpRoutes []string) {
	byName := map[string]*Section{}
	// variants remembers, per shape, the weight vectors seen, so that two routes with the same
	// backends and policy but different weights get sections of their own.
	variants := map[string][]string{}
	add := func(backends []model.WeightedBackend, route model.RoutePolicy, prefix string, tcp bool, source diag.Object) string {
		// bs and resolved are the backends that exist, with their weights; unresolved
		// references (no name, HTTP only) take their share of the requests to a 500 answer.
		var bs []model.Backend
		var resolved []model.WeightedBackend
		for _, wb := range backends {
			if wb.Name == "" && !tcp {
				continue
			}
			b, ok := cfg.Backend(wb.Name)
			if !ok {
				return ""
			}
			bs = append(bs, b)
			resolved = append(resolved, wb)
		}
		if len(backends) == 0 {
			return ""
		}
		unresolved, total := unresolvedShare(backends)
		shape, weights := sectionKey(backends, route, prefix, tcp)
		vs := variants[shape]
		v := slices.Index(vs, weights)
		if v < 0 {
			v = len(vs)
			variants[shape] = append(vs, weights)
		}
		name := UnresolvedName
		if len(bs) > 0 {
			name = bs[0].Name
		}
		switch {
		case tcp:
			// A backend serves TCP routes or HTTP routes, not both: a clash of names is
			// refused by the checks.
		case len(backends) > 1 || !route.IsZero() || v > 0:
			key := shape
			if v > 0 {
				key += "|" + weights
			}
			sum := sha256.Sum256([]byte(key))
			name += "_" + hex.EncodeToString(sum[:4])
		}
		s, ok := byName[name]
		if ok && s.TCP != tcp {
			return "" // refused by checkTCPRoute
		}
		if !ok {
			s = &Section{Name: name, TCP: tcp, Backends: backends, Route: route, Unresolved: unresolved, Total: total, Prefix: prefix}
			if len(bs) > 0 {
				s.Policy, s.Servers, s.SlotStep = bs[0].Policy, sectionServers(bs, resolved), bs[0].SlotStep
			}
			for _, b := range bs {
				s.Sources = append(s.Sources, b.Sources...)
			}
			byName[name] = s
		}
		if source != (diag.Object{}) && !slices.Contains(s.Sources, source) {
			s.Sources = append(s.Sources, source)
		}
		return name
	}
	httpRoutes = make([]string, len(cfg.HTTPRoutes))
	for i, rt := range cfg.HTTPRoutes {
		httpRoutes[i] = add(rt.Backends, rt.Policy, replacedPrefix(rt), false, rt.Source)
	}
	tcpRoutes = make([]string, len(cfg.TCPRoutes))
	for i, rt := range cfg.TCPRoutes {
		tcpRoutes[i] = add([]model.WeightedBackend{{Name: rt.Backend, Weight: 1}}, model.RoutePolicy{}, "", true, rt.Source)
	}
	if cfg.DefaultBackend != "" {
		add([]model.WeightedBackend{{Name: cfg.DefaultBackend, Weight: 1}}, model.RoutePolicy{}, "", false, diag.Object{})
	}
	for _, s := range byName {
		slices.SortFunc(s.Sources, diag.Compare)
		s.Sources = slices.Compact(s.Sources)
		sections = append(sections, *s)
	}
	slices.SortFunc(sections, func(a, b Section) int { return cmp.Compare(a.Name, b.Name) })
	return sections, httpRoutes, tcpRoutes
}

// sectionKey is what makes two routes need different sections (shape), and their weights. The
// prefix a policy replaces is part of the shape; left out when empty, it keeps the names of
// other sections as they were.
func sectionKey(backends []model.WeightedBackend, route model.RoutePolicy, prefix string, tcp bool) (shape, weights string) {
	names := make([]string, len(backends))
	ws := make([]int, len(backends))
	for i, b := range backends {
		names[i], ws[i] = b.Name, b.Weight
	}
	if len(backends) == 1 {
		ws = nil // one backend takes every request, whatever its weight
	}
	s, _ := json.Marshal(struct {
		Names  []string
		Route  model.RoutePolicy
		TCP    bool
		Prefix string `json:",omitempty"`
	}{names, route, tcp, prefix})
	w, _ := json.Marshal(ws)
	return string(s), string(w)
}

// sectionServers lists the servers of a section. With one backend, they are its servers. With
// several, each backend with a non-zero weight gives its servers an equal part of its share,
// scaled as far as HAProxy's maximum server weight of 256 allows, so that rounding to whole
// weights (at least 1) stays small even with many servers on one side and few on the other. A
// server already listed by an earlier backend keeps that backend's share only.
func sectionServers(bs []model.Backend, weights []model.WeightedBackend) []model.Server {
	if len(bs) == 1 {
		return bs[0].Servers
	}
	type side struct {
		servers []model.Server
		weight  int
	}
	seen := map[model.Server]bool{}
	var sides []side
	for i, b := range bs {
		w := weights[i].Weight
		if w <= 0 {
			continue
		}
		var own []model.Server
		for _, s := range b.Servers {
			if k := key(s); !seen[k] {
				seen[k] = true
				own = append(own, s)
			}
		}
		sides = append(sides, side{own, w})
	}
	scale := math.Inf(1)
	for _, sd := range sides {
		if len(sd.servers) > 0 {
			scale = min(scale, 256*float64(len(sd.servers))/float64(sd.weight))
		}
	}
	var out []model.Server
	for _, sd := range sides {
		for _, s := range sd.servers {
			s.Weight = max(1, min(256, int(math.Round(float64(sd.weight)*scale/float64(len(sd.servers))))))
			out = append(out, s)
		}
	}
	slices.SortFunc(out, model.CompareServers)
	return out
}

// sectionOf finds a section by name.
func sectionOf(sections []Section, name string) (Section, bool) {
	i, ok := slices.BinarySearchFunc(sections, name, func(s Section, n string) int { return strings.Compare(s.Name, n) })
	if !ok {
		return Section{}, false
	}
	return sections[i], true
}
