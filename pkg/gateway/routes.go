package gateway

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// attachment is a listener a route is attached to, with the hosts the route serves there.
type attachment struct {
	l     *lis
	hosts []string
}

// routes attaches the HTTPRoutes and GRPCRoutes to our Gateways' listeners, oldest route first,
// and turns their rules into model routes on the listeners that are served.
func (t *translator) routes() {
	objs := make([]routeObj, 0, len(t.s.HTTPRoutes)+len(t.s.GRPCRoutes))
	for i := range t.s.HTTPRoutes {
		objs = append(objs, httpRouteObj(kindRoute, &t.s.HTTPRoutes[i]))
	}
	objs = append(objs, t.grpcRouteObjs()...)
	slices.SortFunc(objs, func(a, b routeObj) int {
		return cmp.Or(olderFirst(a.meta, b.meta), cmp.Compare(a.kind, b.kind))
	})
	for _, o := range objs {
		parents := t.route(o)
		if len(parents) == 0 {
			continue
		}
		key := types.NamespacedName{Namespace: o.meta.Namespace, Name: o.meta.Name}
		switch o.kind {
		case kindGRPCRoute:
			t.res.Status.GRPCRoutes[key] = parents
		default:
			t.res.Status.HTTPRoutes[key] = parents
		}
	}
}

// route is one route of an HTTP kind (o.http): its routes, and its status for each of our
// parents, which it returns.
func (t *translator) route(o routeObj) []gatewayv1.RouteParentStatus {
	r := o.http
	src := o.src()
	var parents []gatewayv1.RouteParentStatus
	var rules *translatedRules
	var conflicts []string
	for _, pr := range r.Spec.ParentRefs {
		g := t.parentGateway(r.Namespace, pr)
		if g == nil {
			continue
		}
		if rules == nil {
			rules = t.translateRules(r, src)
		}
		st := gatewayv1.RouteParentStatus{ParentRef: pr, ControllerName: gatewayv1.GatewayController(t.o.ControllerName)}
		atts, reason, msg := t.attach(o, g, pr)
		accepted := len(atts) > 0
		if accepted {
			reason, msg = gatewayv1.RouteReasonAccepted, "attached to listeners "+listenerNames(atts)
			if rules.valid == 0 {
				accepted, reason, msg = false, rules.invalidReason, "no rule can be served: "+rules.invalidMsg
			}
		}
		st.Conditions = append(st.Conditions, condition(gatewayv1.RouteConditionAccepted, accepted, reason, r.Generation, "%s", msg))
		if rules.refsOK {
			st.Conditions = append(st.Conditions, condition(gatewayv1.RouteConditionResolvedRefs, true, gatewayv1.RouteReasonResolvedRefs, r.Generation, "every reference is resolved"))
		} else {
			st.Conditions = append(st.Conditions, condition(gatewayv1.RouteConditionResolvedRefs, false, rules.refsReason, r.Generation, "%s", rules.refsMsg))
		}
		if accepted && rules.valid < len(r.Spec.Rules) {
			st.Conditions = append(st.Conditions, condition(gatewayv1.RouteConditionPartiallyInvalid, true, rules.invalidReason, r.Generation,
				"rules left out: %s", rules.invalidMsg))
		}
		parents = append(parents, st)
		if !accepted {
			t.problem(src, diag.Warning, string(reason), "parentRef %s: %s", parentName(r.Namespace, pr), msg)
			continue
		}
		for _, a := range atts {
			if !a.l.serves() || !g.accepted || g.notAddressed != "" {
				continue
			}
			conflicts = append(conflicts, t.emit(src, rules, a)...)
		}
	}
	if len(conflicts) > 0 {
		more := ""
		if len(conflicts) > 3 {
			more = fmt.Sprintf(" and %d more", len(conflicts)-3)
			conflicts = conflicts[:3]
		}
		t.problem(src, diag.Warning, "RouteConflict", "%s%s; these matches are ignored", strings.Join(conflicts, "; "), more)
	}
	return parents
}

// parentGateway is the Gateway of ours a parentRef names, or nil.
func (t *translator) parentGateway(routeNS string, pr gatewayv1.ParentReference) *gw {
	if pr.Group != nil && *pr.Group != groupGateway || pr.Kind != nil && *pr.Kind != kindGateway {
		return nil
	}
	ns := routeNS
	if pr.Namespace != nil && *pr.Namespace != "" {
		ns = string(*pr.Namespace)
	}
	return t.byName[types.NamespacedName{Namespace: ns, Name: string(pr.Name)}]
}

func parentName(routeNS string, pr gatewayv1.ParentReference) string {
	ns := routeNS
	if pr.Namespace != nil && *pr.Namespace != "" {
		ns = string(*pr.Namespace)
	}
	s := ns + "/" + string(pr.Name)
	if pr.SectionName != nil {
		s += " section " + string(*pr.SectionName)
	}
	if pr.Port != nil {
		s += fmt.Sprintf(" port %d", *pr.Port)
	}
	return s
}

func listenerNames(atts []attachment) string {
	var out []string
	for _, a := range atts {
		out = append(out, a.l.name())
	}
	return strings.Join(out, ", ")
}

// routeObj is a route of any kind, as attachment, backends and status read it: its kind, meta
// and hostnames. A route of an HTTP kind carries its HTTPRoute (http): a GRPCRoute is
// translated into one (see grpcroutes.go) and keeps its kind. A TLSRoute has none.
type routeObj struct {
	kind      string
	meta      *metav1.ObjectMeta
	hostnames []gatewayv1.Hostname
	http      *gatewayv1.HTTPRoute
}

// httpRouteObj is the routeObj of an HTTPRoute, or of a GRPCRoute translated into one.
func httpRouteObj(kind string, r *gatewayv1.HTTPRoute) routeObj {
	return routeObj{kind: kind, meta: &r.ObjectMeta, hostnames: r.Spec.Hostnames, http: r}
}

// src is the route as the source of problems and backends.
func (r routeObj) src() diag.Object {
	return diag.Object{Kind: r.kind, Namespace: r.meta.Namespace, Name: r.meta.Name}
}

// attach finds the listeners of g that a parentRef selects (sectionName, port), that allow the
// route (kind and namespace), and whose hostname intersects the route's. With none, the reason
// says which step found none.
func (t *translator) attach(r routeObj, g *gw, pr gatewayv1.ParentReference) ([]attachment, gatewayv1.RouteConditionReason, string) {
	var selected []*lis
	for _, l := range g.listeners {
		if pr.SectionName != nil && *pr.SectionName != l.spec.Name || pr.Port != nil && *pr.Port != l.spec.Port {
			continue
		}
		selected = append(selected, l)
	}
	if len(selected) == 0 {
		return nil, gatewayv1.RouteReasonNoMatchingParent, fmt.Sprintf("the Gateway %s has no listener that matches the parentRef", g.key)
	}
	var allowed []*lis
	for _, l := range selected {
		if l.takes(r.kind) && t.allows(l, r.meta.Namespace) {
			allowed = append(allowed, l)
		}
	}
	if len(allowed) == 0 {
		return nil, gatewayv1.RouteReasonNotAllowedByListeners, fmt.Sprintf("no listener of the Gateway %s allows %ss of namespace %s", g.key, r.kind, r.meta.Namespace)
	}
	hosts := routeHosts(r.hostnames)
	var atts []attachment
	for _, l := range allowed {
		if hs := intersect(l.host, hosts); len(hs) > 0 {
			l.attached[r.src()] = true
			atts = append(atts, attachment{l: l, hosts: hs})
		}
	}
	if len(atts) == 0 {
		return nil, gatewayv1.RouteReasonNoMatchingListenerHostname, fmt.Sprintf("no hostname of the route matches a listener's hostname on the Gateway %s", g.key)
	}
	return atts, "", ""
}

// routeHosts are the route's valid hostnames, lower-case. Invalid ones are left out (the API
// server validates them; this is the backstop).
func routeHosts(hostnames []gatewayv1.Hostname) []string {
	var out []string
	for _, h := range hostnames {
		n, ok := normalizeHost(string(h))
		if !ok {
			continue
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 && len(hostnames) > 0 {
		return []string{"\x00"} // only invalid hostnames: none matches
	}
	return out
}

// intersect is the hosts a route serves on a listener: the listener's hostname and the route's
// hostnames, each narrowed by the other; "" is every host. A wildcard "*.example.com" covers
// every name ending in ".example.com", and a more specific wildcard.
func intersect(listener string, route []string) []string {
	if len(route) == 0 {
		return []string{listener}
	}
	if listener == "" {
		if len(route) == 1 && route[0] == "\x00" {
			return nil
		}
		return route
	}
	var out []string
	add := func(h string) {
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	for _, h := range route {
		switch {
		case h == listener, covers(listener, h):
			add(h)
		case covers(h, listener):
			add(listener)
		}
	}
	return out
}

// covers reports whether the wildcard w covers h (a name or a narrower wildcard).
func covers(w, h string) bool {
	suffix, ok := strings.CutPrefix(w, "*")
	return ok && len(h) > len(suffix) && strings.HasSuffix(h, suffix)
}

// emit adds a route's rules on one attached listener: one model route per bind, host and match.
// A route key that an older route holds stays with it; emit returns the conflicts.
func (t *translator) emit(src diag.Object, rules *translatedRules, a attachment) []string {
	var conflicts []string
	for _, b := range a.l.binds {
		for _, host := range a.hosts {
			for _, rule := range rules.rules {
				policy := rule.policy
				if rule.redirect != nil {
					policy.RequestRedirect = redirectFor(rule.redirect, a.l)
				}
				for _, m := range rule.matches {
					rt := m
					rt.Match.Table, rt.Match.Host = b.table, host
					// A Gateway API wildcard matches one or more labels.
					rt.Match.MultiLabel = strings.HasPrefix(host, "*.")
					rt.Policy, rt.Backends, rt.Source = policy, rule.backends, src
					key := rt.Key()
					if holder, ok := t.claimed[key]; ok {
						if holder != src {
							conflicts = append(conflicts, fmt.Sprintf("rule %d: host %q path %q (%s) is already served by the older %s",
								rule.index, host, rt.Match.Path, rt.Match.Kind, holder))
						}
						continue
					}
					t.claimed[key] = src
					// Routes are emitted oldest first, rules and matches in order: the
					// spec's last tie-breakers.
					rt.Rank = len(t.res.Config.HTTPRoutes)
					t.res.Config.HTTPRoutes = append(t.res.Config.HTTPRoutes, rt)
				}
			}
		}
	}
	return conflicts
}

// redirectFor is a rule's RequestRedirect on a listener. The port is the filter's, else the
// well-known port of the filter's scheme, else the listener's port; it is left out of the
// Location when it is the well-known port of the scheme the Location uses.
func redirectFor(f *gatewayv1.HTTPRequestRedirectFilter, l *lis) *model.RequestRedirect {
	rr := &model.RequestRedirect{Code: 302}
	if f.StatusCode != nil {
		rr.Code = *f.StatusCode
	}
	if f.Scheme != nil {
		rr.Scheme = *f.Scheme
	}
	if f.Hostname != nil {
		rr.Hostname = strings.ToLower(string(*f.Hostname))
	}
	if f.Path != nil {
		rr.Path = pathModifier(f.Path)
	}
	scheme := rr.Scheme
	if scheme == "" {
		scheme = "http"
		if l.protocol() == model.HTTPS {
			scheme = "https"
		}
	}
	var port int32
	switch {
	case f.Port != nil:
		port = *f.Port
	case rr.Scheme == "http":
		port = 80
	case rr.Scheme == "https":
		port = 443
	default:
		port = l.spec.Port
	}
	if !(scheme == "http" && port == 80 || scheme == "https" && port == 443) {
		rr.Port = uint16(port)
	}
	return rr
}

func pathModifier(p *gatewayv1.HTTPPathModifier) *model.PathModifier {
	switch p.Type {
	case gatewayv1.FullPathHTTPPathModifier:
		return &model.PathModifier{Full: true, Value: deref(p.ReplaceFullPath)}
	default:
		return &model.PathModifier{Value: deref(p.ReplacePrefixMatch)}
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
