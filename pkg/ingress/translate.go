// Package ingress translates Kubernetes Ingress objects and the Services and EndpointSlices they
// point at into the proxy's desired state. Translate is a pure function over values: no client,
// no clock, no logger. What it cannot honour it reports as Problems.
package ingress

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/portcullis-ingress/portcullis/pkg/annotations"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
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
}

// Severity of a Problem.
type Severity string

const (
	Warning Severity = "Warning"
	Error   Severity = "Error"
)

// Problem is something in the input that translation could not honour, attached to the object
// an operator has to fix.
type Problem struct {
	Object   ObjectRef
	Severity Severity
	// Reason is a short CamelCase word, as in Kubernetes Events.
	Reason  string
	Message string
}

// ObjectRef names a namespaced object.
type ObjectRef struct {
	Kind      string
	Namespace string
	Name      string
}

func (o ObjectRef) String() string { return o.Kind + " " + o.Namespace + "/" + o.Name }

// Result is the output of Translate.
type Result struct {
	Config   model.Config
	Problems []Problem
	// Owned lists the Ingresses that belong to this controller, oldest first.
	Owned []types.NamespacedName
}

// Translate computes the desired proxy configuration from state.
func Translate(state State, opts Options) Result {
	t := translator{
		opts:     opts,
		services: map[types.NamespacedName]*corev1.Service{},
		slices:   map[types.NamespacedName][]*discoveryv1.EndpointSlice{},
		backends: map[string]model.Backend{},
		claimed:  map[routeKey]claim{},
		policies: map[string]model.Policy{},
	}
	for _, s := range state.Services {
		t.services[types.NamespacedName{Namespace: s.Namespace, Name: s.Name}] = s
	}
	for _, es := range state.EndpointSlices {
		svc := es.Labels[discoveryv1.LabelServiceName]
		if svc == "" {
			continue
		}
		key := types.NamespacedName{Namespace: es.Namespace, Name: svc}
		t.slices[key] = append(t.slices[key], es)
	}
	classes := ourClasses(state.IngressClasses, opts.ControllerName)
	secrets := make(map[types.NamespacedName]*corev1.Secret, len(state.Secrets))
	for _, s := range state.Secrets {
		secrets[types.NamespacedName{Namespace: s.Namespace, Name: s.Name}] = s
	}
	t.settings = newSettings(&t, state.ConfigMap, secrets)
	global, g := t.settings.global()
	t.res.Config.Global = global
	t.res.Config.SlotStep = g.ServerSlots.Value
	cmRoute := annotations.ResolveRoute(annotations.Layer{}, t.settings.cm)
	t.opts.TLS.RedirectCode = cmRoute.SSLRedirectCode.Value
	t.opts.TLS.RedirectPort = uint16(cmRoute.SSLRedirectPort.Value)

	ings := slices.Clone(state.Ingresses)
	slices.SortFunc(ings, olderFirst)
	var defaultFrom *networkingv1.Ingress
	for _, ing := range ings {
		if !owned(ing, classes, opts) {
			continue
		}
		t.res.Owned = append(t.res.Owned, types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name})
		if ing.Spec.DefaultBackend != nil {
			if defaultFrom != nil {
				t.problem(ing, Warning, "DefaultBackendConflict", fmt.Sprintf(
					"spec.defaultBackend is ignored: Ingress %s/%s is older and also sets one", defaultFrom.Namespace, defaultFrom.Name))
			} else if name, ok := t.ingressBackend(ing, *ing.Spec.DefaultBackend, "spec.defaultBackend"); ok {
				defaultFrom = ing
				t.res.Config.DefaultBackend = name
			}
		}
		t.rules(ing)
	}
	var ownedIngs []*networkingv1.Ingress
	for _, ing := range ings {
		if slices.Contains(t.res.Owned, types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}) {
			ownedIngs = append(ownedIngs, ing)
		}
	}
	t.tlsConfig(ownedIngs, secrets, ruleHosts)
	if t.res.Config.DefaultBackend == "" && opts.DefaultBackendService.Name != "" {
		t.res.Config.DefaultBackend = t.defaultService(opts.DefaultBackendService)
	}
	for _, b := range t.backends {
		t.res.Config.Backends = append(t.res.Config.Backends, b)
	}
	t.res.Config.HTTP = opts.HTTP
	t.res.Config.Stats = opts.Stats
	t.res.Config.Normalize()
	return t.res
}

type routeKey struct {
	host, path string
	match      model.PathMatch
}

type claim struct{ namespace, name, backend string }

type translator struct {
	opts     Options
	services map[types.NamespacedName]*corev1.Service
	slices   map[types.NamespacedName][]*discoveryv1.EndpointSlice
	backends map[string]model.Backend
	claimed  map[routeKey]claim
	settings *settings
	policies map[string]model.Policy // the first policy of each Service port's backend
	res      Result
}

func (t *translator) problem(ing *networkingv1.Ingress, sev Severity, reason, msg string) {
	t.res.Problems = append(t.res.Problems, Problem{
		Object:   ObjectRef{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name},
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

func (t *translator) rules(ing *networkingv1.Ingress) {
	for ri, rule := range ing.Spec.Rules {
		host, ok := normalizeHost(rule.Host)
		if !ok {
			t.problem(ing, Error, "InvalidHost", fmt.Sprintf("spec.rules[%d].host %q is not a valid host name; rule ignored", ri, rule.Host))
			continue
		}
		if rule.HTTP == nil {
			continue
		}
		for pi, p := range rule.HTTP.Paths {
			where := fmt.Sprintf("spec.rules[%d].http.paths[%d]", ri, pi)
			rt, ok := t.route(ing, host, p, where)
			if !ok {
				continue
			}
			key := routeKey{rt.Host, rt.Path, rt.Match}
			if c, taken := t.claimed[key]; taken {
				if c.namespace != ing.Namespace || c.name != ing.Name {
					t.problem(ing, Warning, "RouteConflict", fmt.Sprintf(
						"%s: host %q path %q (%s) is already served by the older Ingress %s/%s; this path is ignored",
						where, rule.Host, p.Path, rt.Match, c.namespace, c.name))
				} else if p.Backend.Service == nil || c.backend != BackendName(ing.Namespace, p.Backend.Service.Name, portName(p.Backend.Service.Port)) {
					t.problem(ing, Warning, "DuplicatePath", fmt.Sprintf(
						"%s: host %q path %q (%s) appears earlier in this Ingress with another backend; this one is ignored",
						where, rule.Host, p.Path, rt.Match))
				}
				continue
			}
			// Resolve the backend only for a path that is served, so that a path losing a
			// conflict creates no backend and no problem about its Service.
			name, ok := t.ingressBackend(ing, p.Backend, where+".backend")
			if !ok {
				continue
			}
			rt.Backend = name
			t.claimed[key] = claim{ing.Namespace, ing.Name, name}
			t.res.Config.Routes = append(t.res.Config.Routes, rt)
		}
	}
}

// route validates and normalises a path; the caller resolves its backend.
func (t *translator) route(ing *networkingv1.Ingress, host string, p networkingv1.HTTPIngressPath, where string) (model.Route, bool) {
	match := model.MatchPrefix
	if p.PathType != nil && *p.PathType == networkingv1.PathTypeExact {
		match = model.MatchExact
	}
	path := p.Path
	if path == "" {
		path = "/"
	}
	if !model.ValidMapPath(path) {
		t.problem(ing, Error, "InvalidPath", fmt.Sprintf(
			"%s: path %q must start with / and contain only URL path characters; path ignored", where, p.Path))
		return model.Route{}, false
	}
	if match == model.MatchPrefix && path != "/" {
		path = strings.TrimRight(path, "/")
		if path == "" {
			path = "/"
		}
	}
	return model.Route{Host: host, Path: path, Match: match}, true
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

// ingressBackend resolves an Ingress backend to a proxy backend name, creating the backend.
// A Service that is missing, or lacks the port, still gets a backend without servers, so that its
// routes answer 503 rather than falling through to another route.
func (t *translator) ingressBackend(ing *networkingv1.Ingress, b networkingv1.IngressBackend, where string) (string, bool) {
	if b.Resource != nil {
		t.problem(ing, Error, "UnsupportedBackend", fmt.Sprintf("%s: resource backends are not supported; path ignored", where))
		return "", false
	}
	if b.Service == nil {
		t.problem(ing, Error, "InvalidBackend", fmt.Sprintf("%s: no service given; path ignored", where))
		return "", false
	}
	port := portName(b.Service.Port)
	name := BackendName(ing.Namespace, b.Service.Name, port)
	if !model.ValidBackendName(name) {
		t.problem(ing, Error, "InvalidBackend", fmt.Sprintf("%s: service %q port %q is not a valid name; path ignored", where, b.Service.Name, port))
		return "", false
	}
	key := types.NamespacedName{Namespace: ing.Namespace, Name: b.Service.Name}
	svc, ok := t.services[key]
	policy, step := t.settings.policy(ing, svc)
	canary, canaryWeight := t.settings.canary(ing)
	if canary.Name != "" {
		name += "_canary_" + canary.Name
	}
	if first, seen := t.policies[name]; !seen {
		t.policies[name] = policy
	} else if !reflect.DeepEqual(first, policy) {
		name += policySuffix(policy)
	}
	if _, done := t.backends[name]; done {
		return name, true
	}
	if !ok {
		t.problem(ing, Warning, "ServiceNotFound", fmt.Sprintf("%s: service %q not found; requests get 503", where, b.Service.Name))
		t.backends[name] = model.Backend{Name: name, Policy: policy, SlotStep: step}
		return name, true
	}
	sp, ok := findServicePort(svc, b.Service.Port)
	if !ok {
		t.problem(ing, Warning, "ServicePortNotFound", fmt.Sprintf("%s: service %q has no port %s; requests get 503", where, b.Service.Name, port))
		t.backends[name] = model.Backend{Name: name, Policy: policy, SlotStep: step}
		return name, true
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		t.problem(ing, Warning, "UnsupportedBackend", fmt.Sprintf("%s: service %q is of type ExternalName, which is not supported yet; requests get 503", where, b.Service.Name))
		t.backends[name] = model.Backend{Name: name, Policy: policy, SlotStep: step}
		return name, true
	}
	servers := t.servers(key, sp)
	if canary.Name != "" {
		servers = t.withCanary(ing, where, servers, canary, sp, canaryWeight)
	}
	t.backends[name] = model.Backend{Name: name, Servers: servers, Policy: policy, SlotStep: step}
	return name, true
}

// withCanary adds the canary Service's endpoints to a backend, weighting both sides so that the
// canary gets weight percent of the requests. Weights change through the runtime API, so moving the
// share needs no reload.
func (t *translator) withCanary(ing *networkingv1.Ingress, where string, main []model.Server, ref annotations.ServiceRef, mainPort corev1.ServicePort, weight int) []model.Server {
	key := types.NamespacedName{Namespace: ing.Namespace, Name: ref.Name}
	svc, ok := t.services[key]
	if !ok {
		t.problem(ing, Warning, "ServiceNotFound", fmt.Sprintf("%s: canary service %q not found; all requests go to the main service", where, ref.Name))
		return main
	}
	want := networkingv1.ServiceBackendPort{Name: ref.PortName, Number: int32(ref.Port)}
	if ref.PortName == "" && ref.Port == 0 {
		want = networkingv1.ServiceBackendPort{Name: mainPort.Name, Number: mainPort.Port}
	}
	sp, ok := findServicePort(svc, want)
	if !ok {
		t.problem(ing, Warning, "ServicePortNotFound", fmt.Sprintf("%s: canary service %q has no such port; all requests go to the main service", where, ref.Name))
		return main
	}
	canary := t.servers(key, sp)
	inMain := map[model.Server]bool{}
	for _, s := range main {
		inMain[key2(s)] = true
	}
	// A side with no share has no servers: moving the share to or from 0 adds or removes them
	// at runtime.
	var sides []side
	if weight < 100 {
		sides = append(sides, side{main, 100 - weight})
	}
	if weight > 0 {
		var only []model.Server
		for _, s := range canary {
			if !inMain[key2(s)] {
				only = append(only, s)
			}
		}
		sides = append(sides, side{only, weight})
	}
	return weighted(sides)
}

// side is one Service of a canary pair with its percentage of the requests.
type side struct {
	servers []model.Server
	percent int
}

// weighted gives each server of each side an equal part of its side's percentage, scaled as far
// as HAProxy's maximum weight of 256 allows, so that rounding to whole weights (at least 1) stays
// small even with many servers on one side and few on the other.
func weighted(sides []side) []model.Server {
	scale := math.Inf(1)
	for _, sd := range sides {
		if len(sd.servers) > 0 {
			scale = min(scale, 256*float64(len(sd.servers))/float64(sd.percent))
		}
	}
	var out []model.Server
	for _, sd := range sides {
		for _, s := range sd.servers {
			s.Weight = max(1, min(256, int(math.Round(float64(sd.percent)*scale/float64(len(sd.servers))))))
			out = append(out, s)
		}
	}
	return out
}

func key2(s model.Server) model.Server { return model.Server{Address: s.Address, Port: s.Port} }

// defaultService makes the backend for the operator's --default-backend-service.
func (t *translator) defaultService(key types.NamespacedName) string {
	// "_default" cannot collide with a Service port name, which never contains "_".
	name := BackendName(key.Namespace, key.Name, "_default")
	b := model.Backend{Name: name}
	if svc, ok := t.services[key]; ok && len(svc.Spec.Ports) > 0 {
		b.Servers = t.servers(key, svc.Spec.Ports[0])
	}
	t.backends[name] = b
	return name
}

func findServicePort(svc *corev1.Service, p networkingv1.ServiceBackendPort) (corev1.ServicePort, bool) {
	for _, sp := range svc.Spec.Ports {
		if p.Name != "" && sp.Name == p.Name || p.Name == "" && sp.Port == p.Number {
			return sp, true
		}
	}
	return corev1.ServicePort{}, false
}

// servers lists the ready endpoints of a Service port. EndpointSlices name their ports after the
// Service's ports and carry the resolved target port number, which is how named target ports
// are resolved.
func (t *translator) servers(svc types.NamespacedName, sp corev1.ServicePort) []model.Server {
	seen := map[model.Server]int{} // index into out
	var out []model.Server
	for _, es := range t.slices[svc] {
		if es.AddressType != discoveryv1.AddressTypeIPv4 && es.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		var port uint16
		for _, p := range es.Ports {
			if p.Port != nil && ptrString(p.Name) == sp.Name && (p.Protocol == nil || *p.Protocol == corev1.ProtocolTCP) {
				port = uint16(*p.Port)
			}
		}
		if port == 0 {
			continue
		}
		for _, ep := range es.Endpoints {
			draining, ok := endpointState(ep.Conditions)
			if !ok {
				continue
			}
			for _, a := range ep.Addresses {
				addr, err := netip.ParseAddr(a)
				if err != nil || addr.Zone() != "" {
					continue
				}
				s := model.Server{Address: addr.Unmap(), Port: port}
				if i, dup := seen[s]; dup {
					// Ready anywhere means ready, whatever the order of the slices.
					out[i].Draining = out[i].Draining && draining
					continue
				}
				seen[s] = len(out)
				s.Draining = draining
				out = append(out, s)
			}
		}
	}
	return out
}

// endpointState says whether an endpoint takes traffic: ready endpoints do (a missing ready
// condition means ready); terminating endpoints that still serve are drained, finishing their
// requests without new ones.
func endpointState(c discoveryv1.EndpointConditions) (draining, ok bool) {
	if c.Ready == nil || *c.Ready {
		return false, true
	}
	if c.Serving != nil && *c.Serving && c.Terminating != nil && *c.Terminating {
		return true, true
	}
	return false, false
}

func ptrString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
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
