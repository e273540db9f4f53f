package ingress

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// The slot budget (Options.SlotBudget, --server-slot-budget).
//
// Every backend section of HAProxy's configuration holds pre-declared server slots, so that
// endpoints come and go through the runtime API (model.SlotCapacity): whole steps of the
// backend's server-slot step, with at least half a step free. Each slot is a server line that
// HAProxy allocates in every worker, and old workers live on after a reload. The step is chosen
// by the ConfigMap, an Ingress or a Service (server-slots), so the budget keeps what the objects
// ask for within what the operator allows:
//
//   - every section gets room for its endpoints in steps of at most limits.DefaultSlotStep,
//     whatever the budget: what the endpoints themselves need is never refused;
//   - a larger step is granted backend by backend, in the order the backends were made (the
//     oldest Ingress's first), while the slots of the whole configuration stay within the
//     budget; a backend that does not fit gets limits.DefaultSlotStep, and the object that asked
//     gets one ServerSlotsClamped problem naming its backends.
//
// The sections are counted as pkg/haproxy makes them: one per backend and route policy, with the
// servers of every backend of a route (a canary's too). Routes of different Ingresses with equal
// route policies share a section there, and are counted once per Ingress here: the count is an
// upper bound.

// slotBudget clamps the server-slot steps of the backends that do not fit the budget.
func (t *translator) slotBudget() {
	budget := cmp.Or(t.opts.SlotBudget, limits.DefaultSlotBudget)
	// The servers of each section, by its first backend.
	sections := map[string][]int{}
	seen := map[string]bool{}
	section := func(key, first string, servers int) {
		if !seen[key] {
			seen[key] = true
			sections[first] = append(sections[first], servers)
		}
	}
	for _, rt := range t.res.Config.HTTPRoutes {
		if len(rt.Backends) == 0 {
			continue
		}
		var key strings.Builder
		servers := 0
		for _, wb := range rt.Backends {
			key.WriteString(wb.Name + "/" + strconv.Itoa(wb.Weight) + ",")
			if b, ok := t.backends[wb.Name]; ok && (wb.Weight > 0 || len(rt.Backends) == 1) {
				servers += len(b.Servers)
			}
		}
		if !rt.Policy.IsZero() {
			key.WriteString("|" + rt.Source.String())
		}
		section(key.String(), rt.Backends[0].Name, servers)
	}
	for _, rt := range t.res.Config.TCPRoutes {
		if b, ok := t.backends[rt.Backend]; ok {
			section("tcp|"+rt.Backend, rt.Backend, len(b.Servers))
		}
	}
	if name := t.res.Config.DefaultBackend; name != "" {
		if b, ok := t.backends[name]; ok {
			section(name+"/1,", name, len(b.Servers))
		}
	}

	// What every backend needs at the smallest step, and what its own step adds. The spare
	// sections come first: the operator asked for them.
	type ask struct {
		name        string
		step, floor int
		extra       int
	}
	var asks []ask
	total := t.res.Config.Spares.Count * t.res.Config.Spares.Slots
	for _, name := range t.order {
		b := t.backends[name]
		step := cmp.Or(b.SlotStep, t.res.Config.SlotStep, limits.DefaultSlotStep)
		a := ask{name: name, step: step, floor: min(step, limits.DefaultSlotStep)}
		for _, n := range sections[name] {
			low := model.SlotCapacity(n, a.floor)
			total += low
			a.extra += model.SlotCapacity(n, step) - low
		}
		if a.extra > 0 {
			asks = append(asks, a)
		}
	}
	clamped := map[ObjectRef][]string{}
	var objs []ObjectRef
	for _, a := range asks {
		if total+a.extra <= budget {
			total += a.extra
			continue
		}
		b := t.backends[a.name]
		from := t.slotFrom[a.name]
		if b.SlotStep == 0 {
			from = t.settings.cmRef // the ConfigMap's default step
		}
		b.SlotStep = a.floor
		if _, ok := clamped[from]; !ok {
			objs = append(objs, from)
		}
		clamped[from] = append(clamped[from], a.name)
	}
	for _, o := range objs {
		if o == (ObjectRef{}) {
			continue // the built-in step never exceeds the floor
		}
		names := clamped[o]
		list := strings.Join(names[:min(len(names), 3)], ", ")
		if len(names) > 3 {
			list += fmt.Sprintf(" and %d more", len(names)-3)
		}
		t.res.Problems = append(t.res.Problems, Problem{Object: o, Severity: Warning, Reason: "ServerSlotsClamped", Message: fmt.Sprintf(
			"server-slots: the configuration's server slots would exceed the controller's slot budget of %d (--server-slot-budget), "+
				"taken by older backends; backends %s get %d slots per step instead", budget, list, limits.DefaultSlotStep)})
	}
}
