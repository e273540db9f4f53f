package haproxy

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// ErrInvalid is what an applier wraps when haproxy itself refuses a rendered configuration.
var ErrInvalid = errors.New("haproxy refused the configuration")

// DefaultSlotStep is the server-slot step of a backend that sets none.
const DefaultSlotStep = limits.DefaultSlotStep

// Slot is one pre-declared server line of a backend. Endpoints move in and out of slots through
// the runtime API, without a reload.
type Slot struct {
	Server model.Server
	Used   bool
}

// Layout places each backend's servers in its slots: backend name to slots, slot i being server
// "s<i+1>". It is the part of the applied state that the runtime API changes.
type Layout map[string][]Slot

// Capacity is the number of slots for n servers with the given step (model.SlotCapacity): whole
// steps, with at least half a step free, so that a scale-up by a few endpoints never needs a
// reload. It shrinks back at the next reload when endpoints go away, so slots do not leak.
func Capacity(n, step int) int { return model.SlotCapacity(n, step) }

func slotStep(cfg model.Config, s Section) int {
	switch {
	case s.SlotStep > 0:
		return s.SlotStep
	case cfg.SlotStep > 0:
		return cfg.SlotStep
	}
	return DefaultSlotStep
}

// FreshLayout packs every section's servers into the first slots of a newly sized section, as done
// at every reload.
func FreshLayout(cfg model.Config) Layout {
	sections, _, _ := Sections(cfg)
	return freshLayout(cfg, sections)
}

func freshLayout(cfg model.Config, sections []Section) Layout {
	l := make(Layout, len(sections))
	for _, s := range sections {
		slots := make([]Slot, Capacity(len(s.Servers), slotStep(cfg, s)))
		for i, srv := range s.Servers {
			slots[i] = Slot{Server: srv, Used: true}
		}
		l[s.Name] = slots
	}
	return l
}

// Applied is what haproxy runs now: the configuration of its last start or reload with the
// runtime changes made since, and the slot layout.
type Applied struct {
	Config model.Config
	Layout Layout
	// Spares are the spare sections and the sections that occupy them (see spare.go).
	Spares Pool
	// sections are Config's backend sections, and sectionsOf the indexes of the sections each
	// backend's servers are in: what PlanEndpoints needs to touch only what changed.
	sections   []*Section
	sectionsOf map[string][]int
}

func newApplied(cfg model.Config, layout Layout, sections []Section) Applied {
	a := Applied{Config: cfg, Layout: layout, sections: make([]*Section, len(sections)), sectionsOf: make(map[string][]int, len(cfg.Backends))}
	for i := range sections {
		a.sections[i] = &sections[i]
		for _, b := range sections[i].Backends {
			if b.Name != "" {
				a.sectionsOf[b.Name] = append(a.sectionsOf[b.Name], i)
			}
		}
	}
	return a
}

// PlanEndpoints plans a change of the servers of the named backends alone: desired must equal the
// applied configuration but for those backends' servers. Its cost grows with the sections those
// backends feed, not with the configuration, which is what keeps an endpoint change fast in a
// large cluster. It returns false when the change needs more than runtime server moves (a
// section out of slots, a backend unknown); the caller then plans in full with NewPlan.
func PlanEndpoints(applied *Applied, desired model.Config, changed []string) (Plan, bool) {
	if applied == nil || applied.sectionsOf == nil {
		return Plan{}, false
	}
	next := *applied
	next.Config = desired
	next.Layout = maps.Clone(applied.Layout)
	next.sections = slices.Clone(applied.sections)
	var cmds []string
	done := map[int]bool{}
	for _, name := range changed {
		if _, ok := desired.Backend(name); !ok {
			return Plan{}, false
		}
		for _, i := range applied.sectionsOf[name] {
			if done[i] {
				continue
			}
			done[i] = true
			s := *next.sections[i]
			var bs []model.Backend
			var weights []model.WeightedBackend
			for _, wb := range s.Backends {
				if wb.Name == "" {
					continue // unresolved: no servers
				}
				b, ok := desired.Backend(wb.Name)
				if !ok {
					return Plan{}, false
				}
				bs, weights = append(bs, b), append(weights, wb)
			}
			servers := sectionServers(bs, weights)
			slots, scmds, ok := moveServers(applied.Spares.runtimeName(s.Name), next.Layout[s.Name], servers, s.Policy.Check)
			if !ok {
				return Plan{}, false
			}
			s.Servers = servers
			next.sections[i] = &s
			next.Layout[s.Name] = slots
			cmds = append(cmds, scmds...)
		}
	}
	return Plan{Commands: cmds, Next: next}, true
}

// Reason says why a reload is needed. Kind is a fixed word, fit for a metric label; Detail names
// the objects.
type Reason struct {
	Kind   ReasonKind
	Detail string
}

func (r Reason) String() string {
	if r.Detail == "" {
		return string(r.Kind)
	}
	return string(r.Kind) + ": " + r.Detail
}

// ReasonKind classifies reload reasons.
type ReasonKind string

const (
	ReasonInitial        ReasonKind = "initial"
	ReasonBackendAdded   ReasonKind = "backend_added"
	ReasonBackendRemoved ReasonKind = "backend_removed"
	ReasonSlotsExhausted ReasonKind = "slots_exhausted"
	ReasonSlotStep       ReasonKind = "slot_step_changed"
	ReasonBind           ReasonKind = "bind_changed"
	ReasonDefaultBackend ReasonKind = "default_backend_changed"
	ReasonDefaultCert    ReasonKind = "default_certificate_changed"
	ReasonPolicy         ReasonKind = "backend_settings_changed"
	ReasonListeners      ReasonKind = "listeners_changed"
	ReasonRedirects      ReasonKind = "https_redirects_changed"
	ReasonCertLines      ReasonKind = "certificate_lines_changed"
	ReasonRouteRules     ReasonKind = "conditional_routes_changed"
	// ReasonRouteStages: the first route with a wildcard host, or without a host, in a route
	// table, or the last one gone (see frontendShape); a multi-label wildcard that makes the
	// longest chain of nested ones longer or shorter; or the first wildcard HTTPS redirect.
	ReasonRouteStages ReasonKind = "route_kinds_changed"
	ReasonGlobal      ReasonKind = "global_settings_changed"
	ReasonClientAuth  ReasonKind = "client_auth_changed"
	// ReasonSpares refills the pool of spare sections once few are left (see spare.go).
	ReasonSpares ReasonKind = "spares_refill"
)

// Command is a runtime API command, with a multi-line payload for those that take one.
type Command struct {
	Line    string
	Payload string
}

// Plan is the decision for moving haproxy from an applied state to a desired one: either a reload
// (Reasons not empty) or runtime commands. Next is the state once the plan has been carried out.
type Plan struct {
	// Reasons, when not empty, say why a reload is needed; MapFiles and CertCommands are then
	// empty, and Commands only move endpoints of backends that the reload keeps.
	Reasons []Reason
	// Commands are runtime API commands that move endpoints between slots.
	Commands []string
	// MapFiles lists the map files whose content changed; they are replaced at runtime with
	// their content in Maps.
	MapFiles []string
	Maps     map[string][]byte
	// CertCommands add, re-list and remove certificates, in order.
	CertCommands []Command
	Next         Applied
	// Interim is the state once Commands alone have run, for a reload plan whose reload is held
	// off: endpoints move at once, the rest waits for the reload.
	Interim Applied
	// Spared lists the sections that take a spare section in this runtime plan, and Refill
	// says that the pool of spares runs low: a reload at the next quiet moment refills it
	// (a plan made then, with nothing else to do, asks for it with ReasonSpares).
	Spared []string
	Refill bool
}

// Reload reports whether the plan needs a reload.
func (p Plan) Reload() bool { return len(p.Reasons) > 0 }

// NewPlan compares applied with desired. A change of the proxies themselves (a section added or
// removed or changed, a section out of slots, the listeners or the default backend) needs a
// reload; a change of endpoints, weights or of routes between existing sections does not.
func NewPlan(applied *Applied, desired model.Config) Plan {
	curSections, curRoutes, curTCP := Sections(desired)
	if applied == nil {
		return Plan{Reasons: []Reason{{Kind: ReasonInitial}}, Next: reloaded(desired, curSections)}
	}
	oldSections, oldRoutes, oldTCP := Sections(applied.Config)
	reasons := topologyChanges(applied.Config, desired, oldSections, curSections)
	reasons = append(reasons, frontendChanges(frontendShapes(applied.Config, oldSections, oldRoutes), frontendShapes(desired, curSections, curRoutes))...)

	// Endpoint moves of the sections that exist on both sides, also when a reload is needed:
	// while a reload is held off, they are applied at once (see Interim).
	interim := Applied{Config: applied.Config, Layout: maps.Clone(applied.Layout), Spares: applied.Spares}
	var cmds []string
	if applied.Config.Monitor.Down != desired.Monitor.Down && desired.Monitor.Port != 0 {
		// First, also when a reload follows: the load balancer must learn at once.
		cmds = append(cmds, MonitorCommand(desired.Monitor.Down))
		interim.Config.Monitor.Down = desired.Monitor.Down
	}
	layout := make(Layout, len(curSections))
	for _, s := range curSections {
		old, found := sectionOf(oldSections, s.Name)
		if !found || !old.sameShape(s) {
			continue // added or changed: the reload brings it
		}
		slots, scmds, ok := moveServers(applied.Spares.runtimeName(s.Name), applied.Layout[s.Name], s.Servers, s.Policy.Check)
		if !ok {
			reasons = append(reasons, Reason{ReasonSlotsExhausted, fmt.Sprintf("backend %s has %d endpoints for %d slots", s.Name, len(s.Servers), len(applied.Layout[s.Name]))})
			continue
		}
		layout[s.Name] = slots
		cmds = append(cmds, scmds...)
		interim.Layout[s.Name] = slots
	}
	// New sections take spare sections instead of a reload, when nothing else needs one.
	reasons, pool, spared := takeSpares(applied.Spares, desired, curSections, reasons)
	if len(reasons) > 0 {
		return Plan{Reasons: reasons, Commands: cmds, Interim: interim, Next: reloaded(desired, curSections)}
	}
	var names []string
	for _, s := range spared {
		// The spare's slots are all free: the servers go to the first ones, added before the
		// map entries that send requests to them.
		slots, scmds, _ := moveServers(pool.runtimeName(s.Name), make([]Slot, pool.Spares.Slots), s.Servers, s.Policy.Check)
		layout[s.Name] = slots
		cmds = append(cmds, scmds...)
		names = append(names, s.Name)
	}
	var changed []string
	content := map[string][]byte{}
	// The tables are the same on both sides (else the listeners changed, a reload).
	// Map values name sections as HAProxy runs them: an occupied spare by the spare's name.
	oldMaps, curMaps := routeMaps(applied.Config, runtimeNames(applied.Spares, oldRoutes)), routeMaps(desired, runtimeNames(pool, curRoutes))
	for _, name := range slices.Sorted(maps.Keys(curMaps)) {
		if !bytes.Equal(oldMaps[name], curMaps[name]) {
			changed = append(changed, name)
			content[name] = curMaps[name]
		}
	}
	if newRedirects := redirectMap(desired.HTTPSRedirects); desired.HasHTTPS() && !bytes.Equal(redirectMap(applied.Config.HTTPSRedirects), newRedirects) {
		changed = append(changed, RedirectMap)
		content[RedirectMap] = newRedirects
	}
	// The sections that read the client-certificate map are the same on both sides (else a
	// reload was planned above), so HAProxy has it loaded when the desired ones read it.
	if checksClientAuth(curSections) {
		if newAuth := clientAuthMap(desired.Listeners); !bytes.Equal(clientAuthMap(applied.Config.Listeners), newAuth) {
			changed = append(changed, ClientAuthMap)
			content[ClientAuthMap] = newAuth
		}
	}
	oldSNI, curSNI := sniMaps(applied.Config, oldTCP), sniMaps(desired, curTCP)
	for _, name := range slices.Sorted(maps.Keys(curSNI)) {
		if !bytes.Equal(oldSNI[name], curSNI[name]) {
			changed = append(changed, name)
			content[name] = curSNI[name]
		}
	}
	var certs []Command
	for _, l := range desired.Listeners {
		if l.TLS == nil {
			continue
		}
		old, _ := applied.Config.Listener(l.Name)
		certs = append(certs, certCommands(CrtList(l.Name), old.TLS.Certificates, l.TLS.Certificates)...)
	}
	next := newApplied(desired, layout, curSections)
	next.Spares = pool
	refill := pool.low(desired.Spares)
	if refill && len(spared) == 0 && len(changed) == 0 && len(certs) == 0 {
		// Nothing waits on a reload now: refill the pool.
		return Plan{Reasons: []Reason{{ReasonSpares, fmt.Sprintf("%d of %d spare sections free", len(pool.Free), desired.Spares.Count)}},
			Commands: cmds, Interim: interim, Next: reloaded(desired, curSections)}
	}
	return Plan{
		Commands: cmds, MapFiles: changed, Maps: content, CertCommands: certs,
		Next: next, Spared: names, Refill: refill,
	}
}

// reloaded is the applied state after a start or reload with desired: fresh slots, the occupants
// of spares under their own names, and every spare free.
func reloaded(desired model.Config, sections []Section) Applied {
	a := newApplied(desired, freshLayout(desired, sections), sections)
	a.Spares = freshPool(desired.Spares)
	return a
}

// clientAuth summarises the client-certificate settings of certificates by SNI name.
func clientAuth(certs []model.Certificate) string {
	var b strings.Builder
	for _, c := range certs {
		if c.ClientCA != nil {
			fmt.Fprintf(&b, "%s=%s/%t;", strings.Join(c.SNI, ","), c.ClientCA.Name, c.ClientOptional)
		}
	}
	return b.String()
}

// certFile is a certificate file of a crt-list with its lines, in crt-list order.
type certFile struct {
	path  string
	pem   []byte
	lines []string
}

// certFiles groups the crt-list lines of certs by certificate file, in crt-list order: a file has
// several lines when it is listed with several client-certificate settings, or for more than
// sniPerLine names.
func certFiles(certs []model.Certificate) []certFile {
	var out []certFile
	at := map[string]int{}
	for _, c := range certs {
		path := certPath(c)
		i, seen := at[path]
		if !seen {
			i = len(out)
			at[path] = i
			out = append(out, certFile{path: path, pem: c.PEM})
		}
		out[i].lines = append(out[i].lines, crtListLines(c)...)
	}
	return out
}

// certCommands moves the running certificates of a crt-list from old to cur: new certificate
// files are loaded and listed first, then files whose line changed are listed again, then files
// no longer used are removed, so that a rotated host always has a certificate. The runtime API
// deletes a file's line by the file's name, which is ambiguous once a file has several lines:
// a change of those is left to a reload (see certLinesChanged), and never reaches this.
func certCommands(crtList string, old, cur []model.Certificate) []Command {
	before := map[string]certFile{}
	for _, f := range certFiles(old) {
		before[f.path] = f
	}
	after := map[string]bool{}
	var adds, relists, removes []Command
	list := func(f certFile) []Command {
		var cmds []Command
		for _, line := range f.lines {
			cmds = append(cmds, Command{Line: "add ssl crt-list " + crtList, Payload: line + "\n"})
		}
		return cmds
	}
	for _, f := range certFiles(cur) {
		after[f.path] = true
		o, had := before[f.path]
		switch {
		case !had:
			adds = append(adds,
				Command{Line: "new ssl cert " + f.path},
				Command{Line: "set ssl cert " + f.path, Payload: string(f.pem)},
				Command{Line: "commit ssl cert " + f.path})
			adds = append(adds, list(f)...)
		case !slices.Equal(o.lines, f.lines):
			relists = append(relists, Command{Line: "del ssl crt-list " + crtList + " " + f.path})
			relists = append(relists, list(f)...)
		}
	}
	for _, f := range certFiles(old) {
		if !after[f.path] {
			removes = append(removes,
				Command{Line: "del ssl crt-list " + crtList + " " + f.path},
				Command{Line: "del ssl cert " + f.path})
		}
	}
	return slices.Concat(adds, relists, removes)
}

// frontendChanges lists the HTTP frontends whose rules differ: their conditional routes, or the
// stages of look-ups their routes need (see frontendShape). A table on one side only comes with
// a change of the listeners, which topologyChanges reports.
func frontendChanges(old, cur []frontendShape) []Reason {
	var reasons []Reason
	for _, c := range cur {
		i := slices.IndexFunc(old, func(o frontendShape) bool { return o.table == c.table })
		if i < 0 {
			continue
		}
		o := old[i]
		if !slices.Equal(o.rules, c.rules) {
			// Conditional routes are frontend rules, not map entries.
			reasons = append(reasons, Reason{ReasonRouteRules, tableDetail(c.table)})
		}
		// Redirect kinds and client-certificate sections have reasons of their own.
		if o.wildcard != c.wildcard || o.hostless != c.hostless || o.multiLabel != c.multiLabel || o.wildRedirect != c.wildRedirect {
			reasons = append(reasons, Reason{ReasonRouteStages, tableDetail(c.table)})
		}
	}
	return reasons
}

// tableDetail names a route table in a reason.
func tableDetail(table string) string {
	if table == "" {
		return ""
	}
	return "route table " + table
}

// topologyChanges lists what differs between two configurations in a way only a reload can apply.
func topologyChanges(old, cur model.Config, oldSections, curSections []Section) []Reason {
	var reasons []Reason
	if !listenersEqual(old.Listeners, cur.Listeners) {
		reasons = append(reasons, Reason{ReasonListeners, ""})
	}
	if old.DefaultBackend != cur.DefaultBackend {
		reasons = append(reasons, Reason{ReasonDefaultBackend, fmt.Sprintf("from %q to %q", old.DefaultBackend, cur.DefaultBackend)})
	}
	if !old.Global.Equal(cur.Global) {
		reasons = append(reasons, Reason{ReasonGlobal, ""})
	}
	if old.Stats != cur.Stats {
		reasons = append(reasons, Reason{ReasonBind, fmt.Sprintf("stats from port %d to %d", old.Stats.Port, cur.Stats.Port)})
	}
	if old.Monitor.Bind != cur.Monitor.Bind {
		reasons = append(reasons, Reason{ReasonBind, fmt.Sprintf("monitor from port %d to %d", old.Monitor.Port, cur.Monitor.Port)})
	}
	if !slices.Equal(redirectKinds(old.HTTPSRedirects), redirectKinds(cur.HTTPSRedirects)) {
		reasons = append(reasons, Reason{ReasonRedirects, "a new HTTPS redirect code or port"})
	}
	if !slices.Equal(tcpShape(old), tcpShape(cur)) {
		// Routes without SNI are default backends; the first route by SNI of a listener adds
		// its passthrough frontend. Routes by SNI are map entries after that.
		reasons = append(reasons, Reason{ReasonListeners, "TCP routes changed"})
	}
	for _, l := range cur.Listeners {
		o, _ := old.Listener(l.Name)
		if l.TLS == nil || o.TLS == nil {
			continue
		}
		if o.TLS.Default.Name != l.TLS.Default.Name {
			reasons = append(reasons, Reason{ReasonDefaultCert, l.Name})
		}
		if clientAuth(o.TLS.Certificates) != clientAuth(l.TLS.Certificates) {
			// A CA file must be loaded before a crt-list line can name it: reload.
			reasons = append(reasons, Reason{ReasonClientAuth, l.Name})
		}
		if certLinesChanged(o.TLS.Certificates, l.TLS.Certificates) {
			// The runtime API deletes a certificate's crt-list line by the file's name.
			reasons = append(reasons, Reason{ReasonCertLines, l.Name})
		}
	}
	if old.SlotStep != cur.SlotStep {
		reasons = append(reasons, Reason{ReasonSlotStep, fmt.Sprintf("default from %d to %d", old.SlotStep, cur.SlotStep)})
	}
	for _, s := range curSections {
		o, ok := sectionOf(oldSections, s.Name)
		switch {
		case !ok:
			reasons = append(reasons, Reason{ReasonBackendAdded, s.Name})
		case o.SlotStep != s.SlotStep:
			reasons = append(reasons, Reason{ReasonSlotStep, fmt.Sprintf("backend %s from %d to %d", s.Name, o.SlotStep, s.SlotStep)})
		case !o.sameShape(s):
			reasons = append(reasons, Reason{ReasonPolicy, s.Name})
		}
	}
	for _, o := range oldSections {
		if _, ok := sectionOf(curSections, o.Name); !ok {
			reasons = append(reasons, Reason{ReasonBackendRemoved, o.Name})
		}
	}
	return reasons
}

// tcpShape is what of the TCP routes a reload must apply: the routes without SNI, and which
// listeners pass connections through by SNI.
func tcpShape(cfg model.Config) []string {
	var out []string
	for _, rt := range cfg.TCPRoutes {
		if rt.SNI == "" {
			out = append(out, rt.Listener+" "+rt.Backend)
		}
	}
	for _, l := range cfg.Listeners {
		if passthrough(cfg, l.Name) {
			out = append(out, l.Name+" by SNI")
		}
		if multiLabelSNI(cfg, l.Name) {
			out = append(out, l.Name+" by multi-label wildcard SNI")
		}
	}
	return out
}

// listenersEqual compares listeners without their certificates, which change at runtime.
func listenersEqual(a, b []model.Listener) bool {
	return slices.EqualFunc(a, b, func(x, y model.Listener) bool {
		return x.Name == y.Name && x.Bind == y.Bind && x.Protocol == y.Protocol && x.Table == y.Table &&
			slices.Equal(x.AcceptProxy, y.AcceptProxy) && (x.TLS == nil) == (y.TLS == nil)
	})
}

// certLinesChanged reports a certificate file whose crt-list lines change, or that goes away,
// while it has, or had, more than one line: "del ssl crt-list" refuses the name of a file listed
// on several lines without a line number, which the plan does not track. A file listed for the
// first time is loaded at runtime, however many lines it takes.
func certLinesChanged(old, cur []model.Certificate) bool {
	after := map[string][]string{}
	for _, f := range certFiles(cur) {
		after[f.path] = f.lines
	}
	for _, f := range certFiles(old) {
		c := after[f.path]
		if !slices.Equal(f.lines, c) && (len(f.lines) > 1 || len(c) > 1) {
			return true
		}
	}
	return false
}

// moveServers fits the desired servers into a backend's slots, keeping every server that stays
// where it is. It returns the new slots and the runtime commands, or false when the slots are too
// few. New servers go to unused slots first, then to the slots of departing servers; commands that
// add come before those that remove, so a replacement never leaves the backend empty.
//
// With health checks on, a new server is declared healthy at once; its checks then take over.
func moveServers(backend string, slots []Slot, desired []model.Server, check bool) ([]Slot, []string, bool) {
	next := slices.Clone(slots)
	want := map[model.Server]bool{}
	for _, s := range desired {
		want[key(s)] = true
	}
	kept := map[model.Server]int{}
	var unused, departing []int
	for i, sl := range next {
		switch _, dup := kept[key(sl.Server)]; {
		case !sl.Used:
			unused = append(unused, i)
		case want[key(sl.Server)] && !dup:
			kept[key(sl.Server)] = i
		default:
			departing = append(departing, i)
		}
	}
	pool := slices.Concat(unused, departing)
	reused := map[int]bool{}
	var adds, changes, removes []string
	for _, s := range desired {
		if i, ok := kept[key(s)]; ok {
			if next[i].Server.Draining != s.Draining || next[i].Server.EffectiveWeight() != s.EffectiveWeight() {
				changes = append(changes, stateCommands(backend, i, s)...)
				next[i].Server = s
			}
			continue
		}
		if len(pool) == 0 {
			return nil, nil, false
		}
		i := pool[0]
		pool = pool[1:]
		reused[i] = true
		adds = append(adds, fmt.Sprintf("set server %s/%s addr %s port %d", backend, slotName(i), s.Address, s.Port))
		adds = append(adds, stateCommands(backend, i, s)...)
		if check {
			adds = append(adds, fmt.Sprintf("set server %s/%s health up", backend, slotName(i)))
		}
		next[i] = Slot{Server: s, Used: true}
	}
	for _, i := range departing {
		if !reused[i] {
			removes = append(removes, fmt.Sprintf("set server %s/%s state maint", backend, slotName(i)))
			next[i] = Slot{}
		}
	}
	return next, slices.Concat(adds, changes, removes), true
}

// key identifies a server by address and port, whatever its state.
func key(s model.Server) model.Server { return model.Server{Address: s.Address, Port: s.Port} }

func stateCommands(backend string, slot int, s model.Server) []string {
	name := slotName(slot)
	if s.Draining {
		return []string{fmt.Sprintf("set server %s/%s state drain", backend, name)}
	}
	return []string{
		fmt.Sprintf("set weight %s/%s %d", backend, name, s.EffectiveWeight()),
		fmt.Sprintf("set server %s/%s state ready", backend, name),
	}
}

func slotName(i int) string { return fmt.Sprintf("s%d", i+1) }
