package haproxy

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// Spare sections.
//
// Every new backend section would need a reload: HAProxy cannot add a proxy at runtime. So every
// start and reload also declares a pool of spare sections (model.Spares): empty backends named
// portcullis_spare-<n>, each with its server slots disabled, rendered with the backend policy
// that a backend gets from the controller's defaults. A new section with exactly that policy and
// no route policy, whose servers fit a spare's slots, takes a free spare at runtime: its servers
// are put into the spare's slots (`set server`) and the route maps point its routes at the
// spare's name. The applied state remembers which section occupies which spare; every runtime
// command and map entry names the spare. The next reload, whatever its reason, renders the
// occupants under their own names and declares the whole pool again: the renaming lasts only
// until then.
//
// When fewer than a quarter of the spares are left, the plan asks for a reload at a quiet moment
// to refill the pool (ReasonSpares): one reload for a burst of new Services, never on the path
// of the Service that takes a spare.

// sparePrefix starts the name of every spare section. Sources name backends with at least two
// underscores (namespace_service_port), so no backend section can have a spare's name; the
// checks refuse one that would.
const sparePrefix = "portcullis_spare-"

// SpareName is the name of spare section i (from 0).
func SpareName(i int) string { return sparePrefix + strconv.Itoa(i+1) }

// IsSpare reports whether a section name is a spare's.
func IsSpare(name string) bool { return strings.HasPrefix(name, sparePrefix) }

// Pool is the state of the spare sections in the running haproxy.
type Pool struct {
	// Spares is the pool as declared at the last start or reload.
	Spares model.Spares
	// Free lists the spares no section occupies, in the order they are taken.
	Free []string
	// Taken maps each section that occupies a spare to the spare's name.
	Taken map[string]string
}

// freshPool is the pool of a start or reload: every spare free.
func freshPool(s model.Spares) Pool {
	if s.Count <= 0 || s.Slots <= 0 {
		return Pool{}
	}
	p := Pool{Spares: s, Free: make([]string, s.Count)}
	for i := range p.Free {
		p.Free[i] = SpareName(i)
	}
	return p
}

// runtimeName is the name haproxy knows a section by: its spare's, or its own.
func (p Pool) runtimeName(section string) string {
	if n, ok := p.Taken[section]; ok {
		return n
	}
	return section
}

// fits reports whether section s can take a spare of the pool: an HTTP section with the spares'
// policy and no route policy, whose servers get in the spare at least the room a fresh section
// would give them.
func (p Pool) fits(cfg model.Config, s Section) bool {
	return !s.TCP && s.Route.IsZero() && s.Policy.Equal(p.Spares.Policy) &&
		Capacity(len(s.Servers), slotStep(cfg, s)) <= p.Spares.Slots
}

// low reports whether the pool should be refilled by a reload: fewer than a quarter of the
// desired spares are free, or the pool is declared differently from what desired asks.
func (p Pool) low(desired model.Spares) bool {
	if desired.Count <= 0 || desired.Slots <= 0 {
		return false // no pool, or one that Prune leaves out
	}
	return !p.Spares.Equal(desired) || len(p.Free) < max(1, desired.Count/4)
}

// takeSpares gives the sections that reasons say are added a spare each, when nothing else needs
// a reload, each fits and the pool has enough free spares. It returns the remaining reasons, the
// pool afterwards and the sections that took a spare; with a reload still needed, reasons and
// the pool are returned unchanged.
func takeSpares(pool Pool, cfg model.Config, sections []Section, reasons []Reason) ([]Reason, Pool, []Section) {
	if len(reasons) == 0 || len(reasons) > len(pool.Free) {
		return reasons, pool, nil
	}
	var added []Section
	for _, r := range reasons {
		if r.Kind != ReasonBackendAdded {
			return reasons, pool, nil
		}
		s, ok := sectionOf(sections, r.Detail)
		if !ok || !pool.fits(cfg, s) {
			return reasons, pool, nil
		}
		added = append(added, s)
	}
	next := Pool{Spares: pool.Spares, Free: slices.Clone(pool.Free[len(added):]), Taken: maps.Clone(pool.Taken)}
	if next.Taken == nil {
		next.Taken = make(map[string]string, len(added))
	}
	for i, s := range added {
		next.Taken[s.Name] = pool.Free[i]
	}
	return nil, next, added
}

// runtimeNames maps the sections of routes to the names haproxy knows them by.
func runtimeNames(pool Pool, sections []string) []string {
	if len(pool.Taken) == 0 {
		return sections
	}
	out := make([]string, len(sections))
	for i, s := range sections {
		out[i] = pool.runtimeName(s)
	}
	return out
}

// spareSection is the section a spare is rendered as.
func spareSection(i int, s model.Spares) Section {
	return Section{Name: SpareName(i), Policy: s.Policy, SlotStep: s.Slots}
}

// checkSpares checks the pool's declaration.
func checkSpares(s model.Spares) []error {
	if s.Count == 0 {
		return nil
	}
	var errs []error
	if s.Count < 0 || s.Count > limits.MaxSpareBackends {
		errs = append(errs, fmt.Errorf("spare backends: count %d is not 0 to %d", s.Count, limits.MaxSpareBackends))
	}
	if s.Slots < 1 || s.Slots > 2*limits.MaxServerSlots {
		errs = append(errs, fmt.Errorf("spare backends: %d slots is not 1 to %d", s.Slots, 2*limits.MaxServerSlots))
	}
	errs = append(errs, checkBackendPolicy("spares", s.Policy)...)
	if s.Policy.ServerTLS != nil {
		errs = append(errs, errors.New("spare backends: a policy with server TLS names files of one backend"))
	}
	return errs
}
