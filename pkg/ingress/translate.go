// Package ingress translates Kubernetes Ingress objects and the Services and EndpointSlices they
// point at into the proxy's desired state. Translate is a pure function over values: no client,
// no clock, no logger. What it cannot honour it reports as Problems.
package ingress

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
	"github.com/portcullis-ingress/portcullis/pkg/resolve"
)

// LegacyClassAnnotation is the pre-IngressClass way of choosing a controller.
const LegacyClassAnnotation = "kubernetes.io/ingress.class"

// DefaultClassAnnotation marks an IngressClass as the cluster's default.
const DefaultClassAnnotation = "ingressclass.kubernetes.io/is-default-class"

// State is everything translation reads. The slices are not modified.
type State struct {
	Ingresses      []*networkingv1.Ingress
	IngressClasses []*networkingv1.IngressClass
	Services       []*corev1.Service
	EndpointSlices []*discoveryv1.EndpointSlice
	Secrets        []*corev1.Secret
	// ConfigMap is the controller's global ConfigMap, or nil.
	ConfigMap *corev1.ConfigMap
	// Cluster indexes Services, EndpointSlices and Secrets for every source of a pass; nil: built
	// from the fields above.
	Cluster *resolve.Cluster
	// Incumbents says which Ingress held each route after the previous translation: an
	// incumbent that still claims a route keeps it, whatever the creation times say
	// (they have a resolution of one second).
	Incumbents map[model.RouteKey]ObjectRef
}

// Options are the operator's choices that shape translation.
type Options struct {
	// ControllerName is the spec.controller value of IngressClasses that belong to us.
	ControllerName string
	// ClassName is the value of the legacy kubernetes.io/ingress.class annotation we answer to.
	ClassName string
	// WatchWithoutClass also takes Ingresses that name no class at all.
	WatchWithoutClass bool
	// DefaultBackendService, when set, answers requests that no route matches (unless an Ingress
	// sets spec.defaultBackend). Its port is the Service's first port.
	DefaultBackendService types.NamespacedName
	// HTTP is where the proxy listens for plain HTTP.
	HTTP model.Bind
	// TLS shapes HTTPS.
	TLS TLSOptions
	// Stats is where HAProxy's Prometheus exporter listens; a zero port disables it.
	Stats model.Bind
	// HostOwnership gives each host to one namespace: the first that claims it (see
	// ownership.go). Other namespaces' rules and TLS entries for it are refused.
	HostOwnership bool
	// SlotBudget bounds the server slots of the configuration (see slots.go); 0:
	// limits.DefaultSlotBudget.
	SlotBudget int
	// FileLimit is the most file descriptors HAProxy may open (the hard RLIMIT_NOFILE it
	// inherits); 0: unknown. A ConfigMap maxconn that would need more is refused (see
	// limits.FilesForConnections), so that HAProxy never fails to start on it.
	FileLimit uint64
	// SpareBackends is the number of spare backend sections that new Services take without a
	// reload (model.Spares); 0: none.
	SpareBackends int
}

// Problem, ObjectRef and Severity are the code base's one problem type (pkg/diag).
type (
	Problem   = diag.Problem
	ObjectRef = diag.Object
	Severity  = diag.Severity
)

const (
	Warning = diag.Warning
	Error   = diag.Error
)

// Result is the output of Translate.
type Result struct {
	Config   model.Config
	Problems []Problem
	// Owned lists the Ingresses that belong to this controller, oldest first.
	Owned []types.NamespacedName
	// Claims says which Ingress holds each route; feed it back as State.Incumbents.
	Claims map[model.RouteKey]ObjectRef
	// Endpoints lists, for each Service, the backends its endpoints feed: a change of its
	// EndpointSlices changes exactly the servers of these backends (see Servers).
	Endpoints map[types.NamespacedName][]resolve.Feed
}

// Listener names of the Ingress source.
const (
	HTTPListener  = "http"
	HTTPSListener = "https"
)

// Translate computes the desired proxy configuration from state.
func Translate(state State, opts Options) Result {
	t := translator{
		opts:     opts,
		cl:       state.Cluster,
		backends: map[string]*model.Backend{},
		slotFrom: map[string]ObjectRef{},
		claimed:  map[model.RouteKey]claim{},
		policies: map[string]model.BackendPolicy{},
		incumb:   state.Incumbents,
	}
	ownCluster := t.cl == nil
	if ownCluster {
		t.cl = resolve.New(state.Services, state.EndpointSlices, state.Secrets, resolve.AddressPolicy{})
	}
	classes := ourClasses(state.IngressClasses, opts.ControllerName)
	t.settings = newSettings(&t, state.ConfigMap)
	global, g := t.settings.global()
	if state.ConfigMap != nil {
		global.Sources = []diag.Object{{Kind: "ConfigMap", Namespace: state.ConfigMap.Namespace, Name: state.ConfigMap.Name}}
	}
	if need := limits.FilesForConnections(global.MaxConn); opts.FileLimit > 0 && need > opts.FileLimit {
		t.res.Problems = append(t.res.Problems, Problem{Object: t.settings.cmRef, Severity: Warning, Reason: "InvalidAnnotation",
			Message: fmt.Sprintf("maxconn %d needs %d file descriptors and HAProxy may open %d; maxconn is left to HAProxy, which derives it from that limit",
				global.MaxConn, need, opts.FileLimit)})
		global.MaxConn = 0
	}
	t.res.Config.Global = global
	t.res.Config.SlotStep = g.ServerSlots.Value
	t.res.Config.Spares = t.settings.spares(opts.SpareBackends, g.ServerSlots.Value)

	ings := slices.Clone(state.Ingresses)
	slices.SortFunc(ings, olderFirst)
	// The Ingresses we own, oldest first, each trimmed to the per-Ingress limits.
	var ownedIngs []*networkingv1.Ingress
	for _, ing := range ings {
		if owned(ing, classes, opts) {
			ownedIngs = append(ownedIngs, t.bound(ing))
		}
	}
	if opts.HostOwnership {
		ownedIngs = t.ownHosts(ownedIngs)
	}
	var defaultFrom *networkingv1.Ingress
	for _, ing := range ownedIngs {
		t.res.Owned = append(t.res.Owned, types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name})
		if ing.Spec.DefaultBackend != nil && !t.refusedHost(ing, "") {
			if defaultFrom != nil {
				t.problem(ing, Warning, "DefaultBackendConflict", fmt.Sprintf(
					"spec.defaultBackend is ignored: Ingress %s/%s is older and also sets one", defaultFrom.Namespace, defaultFrom.Name))
			} else if name, ok := t.specDefaultBackend(ing); ok {
				defaultFrom = ing
				t.res.Config.DefaultBackend = name
			}
		}
		t.rules(ing)
	}
	t.resolveClaims()
	t.canaryRoutes()
	t.wwwRedirects()
	t.tlsConfig(ownedIngs, t.ownedRuleHosts)
	if t.res.Config.DefaultBackend == "" && opts.DefaultBackendService.Name != "" {
		t.res.Config.DefaultBackend = t.defaultService(opts.DefaultBackendService)
	}
	t.slotBudget()
	for _, b := range t.backends {
		slices.SortFunc(b.Sources, diag.Compare)
		b.Sources = slices.Compact(b.Sources)
		t.res.Config.Backends = append(t.res.Config.Backends, *b)
	}
	t.res.Config.Listeners = append([]model.Listener{{Name: HTTPListener, Bind: opts.HTTP, Protocol: model.HTTP}}, t.res.Config.Listeners...)
	t.res.Config.Stats = opts.Stats
	t.res.Config.Normalize()
	if ownCluster {
		t.res.Problems = append(t.res.Problems, t.cl.Problems()...)
	}
	return t.res
}

// claim is an Ingress path's claim on a route key.
type claim struct {
	ing   *networkingv1.Ingress
	where string
	// route is the route, without its backends yet.
	route model.HTTPRoute
	path  networkingv1.HTTPIngressPath
	// host is the rule's host as written.
	host string
}

type translator struct {
	opts     Options
	cl       *resolve.Cluster
	backends map[string]*model.Backend
	// order lists the backends in the order they were made: the oldest Ingress's first. The
	// slot budget is granted in this order.
	order []string
	// slotFrom is the object that asked for each backend's server-slot step, if any.
	slotFrom map[string]ObjectRef
	// owners gives each host (and "" for rules without a host) to a namespace, with
	// Options.HostOwnership.
	owners map[string]owner
	// claims are every owned Ingress path's claim, oldest Ingress first; claimed holds the
	// first claim of each key.
	claims  []claim
	claimed map[model.RouteKey]claim
	// canaries are the paths of canary Ingresses, oldest Ingress first (see canary.go).
	canaries []claim
	incumb   map[model.RouteKey]ObjectRef
	// sni holds the hosts passed through, by the Ingress that has them.
	sni      map[string]ObjectRef
	settings *settings
	policies map[string]model.BackendPolicy // the first policy of each Service port's backend
	res      Result
}

func refOf(ing *networkingv1.Ingress) ObjectRef {
	return ObjectRef{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}
}

func (t *translator) problem(ing *networkingv1.Ingress, sev Severity, reason, msg string) {
	t.res.Problems = append(t.res.Problems, Problem{
		Object:   refOf(ing),
		Severity: sev, Reason: reason, Message: msg,
	})
}

// olderFirst orders Ingresses by creation time, then namespace and name: the older claim wins a
// conflict.
func olderFirst(a, b *networkingv1.Ingress) int {
	if c := a.CreationTimestamp.Time.Compare(b.CreationTimestamp.Time); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

type classSet struct {
	names      map[string]bool
	hasDefault bool
}

func ourClasses(all []*networkingv1.IngressClass, controller string) classSet {
	cs := classSet{names: map[string]bool{}}
	for _, c := range all {
		if c.Spec.Controller != controller {
			continue
		}
		cs.names[c.Name] = true
		if c.Annotations[DefaultClassAnnotation] == "true" {
			cs.hasDefault = true
		}
	}
	return cs
}

// owned decides whether an Ingress is ours: its spec.ingressClassName names one of our
// IngressClasses; or it uses the legacy annotation with our class name; or it names no class and
// one of our IngressClasses is the cluster default (or we were told to take classless Ingresses).
func owned(ing *networkingv1.Ingress, classes classSet, opts Options) bool {
	if name := ing.Spec.IngressClassName; name != nil {
		return classes.names[*name]
	}
	if legacy, ok := ing.Annotations[LegacyClassAnnotation]; ok {
		return legacy == opts.ClassName
	}
	return classes.hasDefault || opts.WatchWithoutClass
}

// rules collects the claims of an Ingress's paths; resolveClaims decides between them.
func (t *translator) rules(ing *networkingv1.Ingress) {
	if t.settings.route(ing).SSLPassthrough.Value {
		t.passthrough(ing)
		return
	}
	canary := t.settings.route(ing).Canary.Value
	for ri, rule := range ing.Spec.Rules {
		host, ok := normalizeHost(rule.Host)
		if !ok {
			t.problem(ing, Error, "InvalidHost", fmt.Sprintf("spec.rules[%d].host %q is not a valid host name; rule ignored", ri, rule.Host))
			continue
		}
		if rule.HTTP == nil || t.refusedHost(ing, host) {
			continue
		}
		for pi, p := range rule.HTTP.Paths {
			where := fmt.Sprintf("spec.rules[%d].http.paths[%d]", ri, pi)
			rt, ok := t.route(ing, host, p, where)
			if !ok || !t.claimable(ing, p.Backend, where+".backend") {
				continue
			}
			c := claim{ing: ing, where: where, route: rt, path: p, host: rule.Host}
			if canary {
				t.canaries = append(t.canaries, c)
				continue
			}
			t.claims = append(t.claims, c)
		}
	}
}

// resolveClaims gives each route key to one claim: the incumbent's if it still claims the key,
// else the oldest Ingress's (the first path of it). The others get a problem. Backends are resolved
// only for the claims that win, so that a path losing a conflict creates no backend and no
// problem about its Service.
func (t *translator) resolveClaims() {
	winner := map[model.RouteKey]int{}
	for i, c := range t.claims {
		key := c.route.Key()
		w, taken := winner[key]
		if !taken {
			winner[key] = i
			continue
		}
		if inc, ok := t.incumb[key]; ok && inc == refOf(c.ing) && inc != refOf(t.claims[w].ing) {
			winner[key] = i
		}
	}
	t.res.Claims = map[model.RouteKey]ObjectRef{}
	for i, c := range t.claims {
		key := c.route.Key()
		w := t.claims[winner[key]]
		if winner[key] != i {
			rule := c.host
			switch {
			case w.ing != c.ing:
				why := "older"
				if inc, ok := t.incumb[key]; ok && inc == refOf(w.ing) {
					why = "earlier"
				}
				t.problem(c.ing, Warning, "RouteConflict", fmt.Sprintf(
					"%s: host %q path %q (%s) is already served by the %s Ingress %s/%s; this path is ignored",
					c.where, rule, c.path.Path, c.route.Match.Kind, why, w.ing.Namespace, w.ing.Name))
			case !sameService(c.path.Backend, w.path.Backend):
				t.problem(c.ing, Warning, "DuplicatePath", fmt.Sprintf(
					"%s: host %q path %q (%s) appears earlier in this Ingress with another backend; this one is ignored",
					c.where, rule, c.path.Path, c.route.Match.Kind))
			}
			continue
		}
		backends, policy, ok := t.ingressBackend(c.ing, c.path.Backend, c.where+".backend")
		if !ok {
			continue
		}
		rt := c.route
		rt.Backends, rt.Policy, rt.Source = backends, policy, refOf(c.ing)
		if _, target := t.settings.pathRegex(c.ing); target != "" && rt.Match.Kind == model.MatchRegex {
			rt.Policy.RegexRewrite = &model.RegexRewrite{Regex: rt.Match.Path, Replace: target.HAProxy()}
		}
		t.res.Claims[key] = rt.Source
		t.res.Config.HTTPRoutes = append(t.res.Config.HTTPRoutes, rt)
	}
}

// passthrough sends the TLS connections of an Ingress's hosts, by SNI, to the backend of each
// host's first path, unterminated. The oldest Ingress keeps a host that two pass through.
func (t *translator) passthrough(ing *networkingv1.Ingress) {
	if t.opts.TLS.HTTPS.Port == 0 {
		t.problem(ing, Error, "PassthroughUnavailable", "ssl-passthrough: HTTPS is disabled on this controller; the Ingress is ignored")
		return
	}
	for ri, rule := range ing.Spec.Rules {
		where := fmt.Sprintf("spec.rules[%d]", ri)
		host, ok := normalizeHost(rule.Host)
		switch {
		case !ok || host == "":
			t.problem(ing, Error, "InvalidHost", fmt.Sprintf("%s: ssl-passthrough needs a host name to match the SNI of connections; rule ignored", where))
			continue
		case t.refusedHost(ing, host):
			continue
		case rule.HTTP == nil || len(rule.HTTP.Paths) == 0:
			t.problem(ing, Error, "InvalidBackend", fmt.Sprintf("%s: ssl-passthrough takes the backend of the rule's first path, and it has none; rule ignored", where))
			continue
		}
		if holder, taken := t.sni[host]; taken {
			if holder != refOf(ing) {
				t.problem(ing, Warning, "RouteConflict", fmt.Sprintf("%s: host %q is already passed through by the older Ingress %s/%s; rule ignored", where, rule.Host, holder.Namespace, holder.Name))
			}
			continue
		}
		b := rule.HTTP.Paths[0].Backend
		if !t.claimable(ing, b, where+".http.paths[0].backend") {
			continue
		}
		name, ok := t.serviceBackendAs(ing, b.Service.Name, b.Service.Port, where+".http.paths[0].backend", "", "tls_")
		if !ok {
			continue
		}
		if t.sni == nil {
			t.sni = map[string]ObjectRef{}
		}
		t.sni[host] = refOf(ing)
		t.res.Config.TCPRoutes = append(t.res.Config.TCPRoutes, model.TCPRoute{Listener: HTTPSListener, SNI: host, Backend: name, Source: refOf(ing)})
	}
}

// claimable reports whether a path's backend can be served at all; a path that cannot claims no
// route, so that it does not hide another Ingress's path.
func (t *translator) claimable(ing *networkingv1.Ingress, b networkingv1.IngressBackend, where string) bool {
	switch {
	case b.Resource != nil:
		t.problem(ing, Error, "UnsupportedBackend", fmt.Sprintf("%s: resource backends are not supported; path ignored", where))
	case b.Service == nil:
		t.problem(ing, Error, "InvalidBackend", fmt.Sprintf("%s: no service given; path ignored", where))
	case !model.ValidBackendName(BackendName(ing.Namespace, b.Service.Name, portName(b.Service.Port))):
		t.problem(ing, Error, "InvalidBackend", fmt.Sprintf("%s: service %q port %q is not a valid name; path ignored", where, b.Service.Name, portName(b.Service.Port)))
	default:
		return true
	}
	return false
}

func sameService(a, b networkingv1.IngressBackend) bool {
	return a.Service != nil && b.Service != nil && a.Service.Name == b.Service.Name && portName(a.Service.Port) == portName(b.Service.Port)
}

// route validates and normalises a path; the caller resolves its backend.
func (t *translator) route(ing *networkingv1.Ingress, host string, p networkingv1.HTTPIngressPath, where string) (model.HTTPRoute, bool) {
	match := model.MatchPrefix
	if p.PathType != nil && *p.PathType == networkingv1.PathTypeExact {
		match = model.MatchExact
	}
	path := p.Path
	if path == "" {
		path = "/"
	}
	if regex, _ := t.settings.pathRegex(ing); regex {
		// As ingress-nginx's use-regex: case-insensitive, anchored at the start only.
		re := "(?i)^" + path
		if err := limits.CheckRegex(re); err != nil || !strings.HasPrefix(path, "/") {
			t.problem(ing, Error, "InvalidPath", fmt.Sprintf(
				"%s: path %q is not a usable regular expression (path-regex or rewrite-target is set): it must start with / and be valid RE2 without spaces, quotes or '#'; path ignored", where, p.Path))
			return model.HTTPRoute{}, false
		}
		return model.HTTPRoute{Match: model.HTTPMatch{Host: host, Path: re, Kind: model.MatchRegex}}, true
	}
	if !model.ValidMapPath(path) {
		t.problem(ing, Error, "InvalidPath", fmt.Sprintf(
			"%s: path %q must start with / and contain only URL path characters; path ignored", where, p.Path))
		return model.HTTPRoute{}, false
	}
	if match == model.MatchPrefix && path != "/" {
		path = strings.TrimRight(path, "/")
		if path == "" {
			path = "/"
		}
	}
	return model.HTTPRoute{Match: model.HTTPMatch{Host: host, Path: path, Kind: match}}, true
}

// ruleHosts lists the hosts of an Ingress's rules.
func ruleHosts(ing *networkingv1.Ingress) []string {
	var out []string
	for _, r := range ing.Spec.Rules {
		if r.Host != "" && !slices.Contains(out, r.Host) {
			out = append(out, r.Host)
		}
	}
	return out
}

// normalizeHost lower-cases a rule's host and checks it; "" means every host.
func normalizeHost(h string) (string, bool) {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	return h, model.ValidMapHost(h)
}

// ingressBackend resolves an Ingress backend to the weighted backends and the policy of a route,
// creating the backends. A Service that is missing, or lacks the port, still gets a backend
// without servers, so that its routes answer 503 rather than falling through to another route.
func (t *translator) ingressBackend(ing *networkingv1.Ingress, b networkingv1.IngressBackend, where string) ([]model.WeightedBackend, model.RoutePolicy, bool) {
	name, ok := t.serviceBackend(ing, b.Service.Name, b.Service.Port, where, "")
	if !ok {
		return nil, model.RoutePolicy{}, false
	}
	route := t.settings.routePolicy(ing)
	canary, weight := t.settings.canary(ing)
	if canary.Name == "" {
		return []model.WeightedBackend{{Name: name, Weight: 1}}, route, true
	}
	port := networkingv1.ServiceBackendPort{Name: canary.PortName, Number: int32(canary.Port)}
	if canary.PortName == "" && canary.Port == 0 {
		// The canary's port is the main Service port's, by name or number.
		port = b.Service.Port
		if svc, ok := t.cl.Service(types.NamespacedName{Namespace: ing.Namespace, Name: b.Service.Name}); ok {
			if sp, ok := resolve.FindServicePort(svc, b.Service.Port.Name, b.Service.Port.Number); ok {
				port = networkingv1.ServiceBackendPort{Name: sp.Name, Number: sp.Port}
			}
		}
	}
	cname, ok := t.serviceBackend(ing, canary.Name, port, where, "canary ")
	if !ok {
		return []model.WeightedBackend{{Name: name, Weight: 1}}, route, true
	}
	// Weights move through the runtime API: a change of the canary's share needs no reload.
	return []model.WeightedBackend{{Name: name, Weight: 100 - weight}, {Name: cname, Weight: weight}}, route, true
}

// serviceBackend resolves a Service port to a backend, creating it; what names it in problems
// ("" or "canary ").
func (t *translator) serviceBackend(ing *networkingv1.Ingress, service string, port networkingv1.ServiceBackendPort, where, what string) (string, bool) {
	return t.serviceBackendAs(ing, service, port, where, what, "")
}

// serviceBackendAs is serviceBackend for a backend whose name starts with prefix: "tls_" for the
// TCP backends of passthrough hosts, which carry no HTTP settings.
func (t *translator) serviceBackendAs(ing *networkingv1.Ingress, service string, port networkingv1.ServiceBackendPort, where, what, prefix string) (string, bool) {
	pname := portName(port)
	name := prefix + BackendName(ing.Namespace, service, pname)
	if !model.ValidBackendName(name) {
		t.problem(ing, Error, "InvalidBackend", fmt.Sprintf("%s: %sservice %q port %q is not a valid name; path ignored", where, what, service, pname))
		return "", false
	}
	key := types.NamespacedName{Namespace: ing.Namespace, Name: service}
	svc, ok := t.cl.Service(key)
	sp, found := resolve.FindServicePort(svc, port.Name, port.Number)
	appProtocol := sp.AppProtocol
	if prefix != "" {
		// A passthrough backend relays TLS connections as they are: what the port speaks
		// inside them is the client's business.
		appProtocol = nil
	}
	policy, slots := t.settings.backendPolicy(ing, svc, appProtocol)
	if first, seen := t.policies[name]; !seen {
		t.policies[name] = policy
	} else if !first.Equal(policy) {
		name += policySuffix(policy)
	}
	sources := []diag.Object{refOf(ing)}
	if ok {
		sources = append(sources, ObjectRef{Kind: "Service", Namespace: svc.Namespace, Name: svc.Name})
	}
	if be, done := t.backends[name]; done {
		be.Sources = append(be.Sources, sources...)
		return name, true
	}
	be := &model.Backend{Name: name, Policy: policy, SlotStep: slots.step, Sources: sources}
	t.backends[name] = be
	t.order = append(t.order, name)
	t.slotFrom[name] = slots.from
	switch {
	case !ok:
		t.problem(ing, Warning, "ServiceNotFound", fmt.Sprintf("%s: %sservice %q not found; requests get 503", where, what, service))
	case !found:
		t.problem(ing, Warning, "ServicePortNotFound", fmt.Sprintf("%s: %sservice %q has no port %s; requests get 503", where, what, service, pname))
	case svc.Spec.Type == corev1.ServiceTypeExternalName:
		t.problem(ing, Warning, "UnsupportedBackend", fmt.Sprintf("%s: %sservice %q is of type ExternalName, which is not supported yet; requests get 503", where, what, service))
	default:
		be.Servers = t.servers(key, sp, name)
	}
	return name, true
}

// specDefaultBackend resolves an Ingress's spec.defaultBackend. It takes the Ingress's backend
// settings; its route settings do not apply to requests that no route matches.
func (t *translator) specDefaultBackend(ing *networkingv1.Ingress) (string, bool) {
	b := *ing.Spec.DefaultBackend
	const where = "spec.defaultBackend"
	if b.Resource != nil {
		t.problem(ing, Error, "UnsupportedBackend", where+": resource backends are not supported; ignored")
		return "", false
	}
	if b.Service == nil {
		t.problem(ing, Error, "InvalidBackend", where+": no service given; ignored")
		return "", false
	}
	return t.serviceBackend(ing, b.Service.Name, b.Service.Port, where, "")
}

// defaultService makes the backend for the operator's --default-backend-service.
func (t *translator) defaultService(key types.NamespacedName) string {
	// "_default" cannot collide with a Service port name, which never contains "_".
	name := BackendName(key.Namespace, key.Name, "_default")
	b := &model.Backend{Name: name}
	if svc, ok := t.cl.Service(key); ok && len(svc.Spec.Ports) > 0 {
		b.Servers = t.servers(key, svc.Spec.Ports[0], name)
	}
	t.backends[name] = b
	t.order = append(t.order, name)
	return name
}

// servers lists the ready endpoints of a Service port and remembers which backend they feed, so
// that an endpoint change can be applied without translating everything again (see Endpoints).
func (t *translator) servers(svc types.NamespacedName, sp corev1.ServicePort, backend string) []model.Server {
	if t.res.Endpoints == nil {
		t.res.Endpoints = map[types.NamespacedName][]resolve.Feed{}
	}
	t.res.Endpoints[svc] = append(t.res.Endpoints[svc], resolve.Feed{Backend: backend, Port: sp})
	return t.cl.Servers(svc, sp)
}

// portName is a Service port reference as used in backend names: its name, else its number.
func portName(p networkingv1.ServiceBackendPort) string {
	if p.Name != "" {
		return p.Name
	}
	return strconv.Itoa(int(p.Number))
}

// BackendName is the proxy backend for a Service port: "<namespace>_<service>_<port>". Kubernetes
// names never contain "_", so the name is unique.
func BackendName(namespace, service, port string) string {
	return namespace + "_" + service + "_" + port
}
