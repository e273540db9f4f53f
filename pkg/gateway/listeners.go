package gateway

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// gw is one of our Gateways as translation sees it.
type gw struct {
	obj *gatewayv1.Gateway
	key types.NamespacedName
	ref diag.Object
	gen int64
	// accepted, with the reason and message of the Accepted condition.
	accepted     bool
	acceptReason gatewayv1.GatewayConditionReason
	acceptMsg    string
	// addrs are the Gateway's own addresses (pool mode); notAddressed says why it has none.
	addrs         []netip.Addr
	wantAuto      bool
	notAddressed  gatewayv1.GatewayConditionReason
	notAddressMsg string
	statusAddrs   []gatewayv1.GatewayStatusAddress
	listeners     []*lis
}

// lis is one listener of a Gateway.
type lis struct {
	gw   *gw
	spec *gatewayv1.Listener
	// host is the listener's hostname, lower-case; "" matches every host.
	host  string
	kinds []gatewayv1.RouteGroupKind
	// selector picks the namespaces whose routes may attach (From: Selector).
	selector labels.Selector
	// accepted, refsOK and conflicted make the listener's conditions.
	accepted     bool
	acceptReason gatewayv1.ListenerConditionReason
	acceptMsg    string
	refsOK       bool
	refsReason   gatewayv1.ListenerConditionReason
	refsMsg      string
	conflict     gatewayv1.ListenerConditionReason
	conflictMsg  string
	// certs are the listener's usable certificates (HTTPS).
	certs []certRef
	// binds are where the listener is served (one per Gateway address).
	binds []*bind
	// attached are the routes attached to the listener.
	attached map[diag.Object]bool
}

func (l *lis) name() string { return string(l.spec.Name) }

func (l *lis) protocol() model.Protocol {
	switch l.spec.Protocol {
	case gatewayv1.HTTPSProtocolType:
		return model.HTTPS
	case gatewayv1.TLSProtocolType:
		return model.TCP // TLS passthrough: TLSRoutes by SNI (tlsroutes.go)
	}
	return model.HTTP
}

// serves reports whether routes attached to the listener are served: it is accepted, without
// conflict, has the certificates it needs, and the Gateway has where to bind it.
func (l *lis) serves() bool {
	return l.accepted && l.conflict == "" && len(l.binds) > 0 && (l.protocol() != model.HTTPS || len(l.certs) > 0)
}

func (l *lis) refuse(reason gatewayv1.ListenerConditionReason, format string, a ...any) {
	if !l.accepted {
		return // the first reason stands
	}
	l.accepted, l.acceptReason, l.acceptMsg = false, reason, fmt.Sprintf(format, a...)
}

func (l *lis) unresolved(reason gatewayv1.ListenerConditionReason, format string, a ...any) {
	if !l.refsOK {
		return
	}
	l.refsOK, l.refsReason, l.refsMsg = false, reason, fmt.Sprintf(format, a...)
}

// gateways reads our Gateways: their listeners, addresses and binds.
func (t *translator) gateways(classes map[string]bool) {
	t.byName = map[types.NamespacedName]*gw{}
	var objs []*gatewayv1.Gateway
	for i := range t.s.Gateways {
		if g := &t.s.Gateways[i]; classes[string(g.Spec.GatewayClassName)] {
			objs = append(objs, g)
		}
	}
	slices.SortFunc(objs, func(a, b *gatewayv1.Gateway) int { return olderFirst(&a.ObjectMeta, &b.ObjectMeta) })
	for _, obj := range objs {
		g := &gw{obj: obj, key: types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name},
			ref: diag.Object{Kind: kindGateway, Namespace: obj.Namespace, Name: obj.Name}, gen: obj.Generation, accepted: true}
		t.gws = append(t.gws, g)
		t.byName[g.key] = g
		for i := range obj.Spec.Listeners {
			g.listeners = append(g.listeners, t.listener(g, &obj.Spec.Listeners[i]))
		}
		conflicts(g.listeners)
		t.specAddresses(g)
		if p := obj.Spec.Infrastructure; p != nil && p.ParametersRef != nil {
			g.refuse(gatewayv1.GatewayReasonInvalidParameters, "spec.infrastructure.parametersRef: this controller takes no parameters")
		}
	}
	t.assignAddresses()
	for _, g := range t.gws {
		valid := 0
		var invalid []string
		for _, l := range g.listeners {
			if l.accepted && l.conflict == "" {
				valid++
			} else {
				invalid = append(invalid, l.name())
			}
		}
		switch {
		case valid == 0:
			g.refuse(gatewayv1.GatewayReasonListenersNotValid, "no listener is valid")
		case len(invalid) > 0 && g.accepted:
			g.acceptReason = gatewayv1.GatewayReasonListenersNotValid
			g.acceptMsg = fmt.Sprintf("listeners not valid: %s", strings.Join(invalid, ", "))
		}
		if !g.accepted {
			t.problem(g.ref, diag.Warning, string(g.acceptReason), "the Gateway is not accepted: %s", g.acceptMsg)
			continue
		}
		for _, l := range g.listeners {
			if l.accepted && l.conflict == "" {
				t.bindListener(g, l)
			}
		}
	}
}

func (g *gw) refuse(reason gatewayv1.GatewayConditionReason, format string, a ...any) {
	if !g.accepted {
		return
	}
	g.accepted, g.acceptReason, g.acceptMsg = false, reason, fmt.Sprintf(format, a...)
}

// listener validates one listener: protocol, hostname, route kinds, namespaces and certificates.
func (t *translator) listener(g *gw, spec *gatewayv1.Listener) *lis {
	l := &lis{gw: g, spec: spec, accepted: true, refsOK: true, attached: map[diag.Object]bool{}}
	switch spec.Protocol {
	case gatewayv1.HTTPProtocolType, gatewayv1.HTTPSProtocolType, gatewayv1.TLSProtocolType:
	default:
		l.refuse(gatewayv1.ListenerReasonUnsupportedProtocol, "protocol %q is not supported: only HTTP, HTTPS and TLS", clip(string(spec.Protocol)))
		l.kinds = []gatewayv1.RouteGroupKind{}
		return l
	}
	if spec.Hostname != nil && *spec.Hostname != "" {
		h, ok := normalizeHost(string(*spec.Hostname))
		if !ok {
			l.refuse(gatewayv1.ListenerReasonUnsupportedValue, "hostname %q is not a valid host name", clip(string(*spec.Hostname)))
		}
		l.host = h
	}
	if spec.Port < 1 || spec.Port > 65535 {
		l.refuse(gatewayv1.ListenerReasonPortUnavailable, "port %d is not 1 to 65535", spec.Port)
	}
	t.routeKinds(l)
	t.allowedNamespaces(l)
	switch l.protocol() {
	case model.HTTPS:
		t.listenerTLS(g, l)
	case model.TCP:
		passthroughTLS(l)
	}
	return l
}

// routeKinds reads allowedRoutes.kinds: a listener takes the kinds of listenerKinds (HTTPRoute
// and GRPCRoute on HTTP and HTTPS listeners, TLSRoute on TLS listeners); others make
// ResolvedRefs False (InvalidRouteKinds) and are left out of supportedKinds.
func (t *translator) routeKinds(l *lis) {
	group := gatewayv1.Group(groupGateway)
	kinds := listenerKinds(l)
	l.kinds = []gatewayv1.RouteGroupKind{}
	if l.spec.AllowedRoutes == nil || len(l.spec.AllowedRoutes.Kinds) == 0 {
		for _, k := range kinds {
			l.kinds = append(l.kinds, gatewayv1.RouteGroupKind{Group: &group, Kind: gatewayv1.Kind(k)})
		}
		return
	}
	var bad []string
	for _, k := range l.spec.AllowedRoutes.Kinds {
		g := group
		if k.Group != nil {
			g = *k.Group
		}
		if g != group || !slices.Contains(kinds, string(k.Kind)) {
			bad = append(bad, fmt.Sprintf("%s/%s", g, k.Kind))
			continue
		}
		if !l.takes(string(k.Kind)) {
			l.kinds = append(l.kinds, gatewayv1.RouteGroupKind{Group: &group, Kind: k.Kind})
		}
	}
	if len(bad) > 0 {
		l.unresolved(gatewayv1.ListenerReasonInvalidRouteKinds, "route kinds not supported: %s (only %s/%s)", clip(strings.Join(bad, ", ")), group,
			strings.Join(kinds, ", "+string(group)+"/"))
	}
}

// httpListenerKinds are the route kinds HTTP and HTTPS listeners take; TLS listeners take
// TLSRoutes only.
var (
	httpListenerKinds = []string{kindRoute, kindGRPCRoute}
	tlsListenerKinds  = []string{kindTLSRoute}
)

// listenerKinds are the route kinds a listener takes, by its protocol.
func listenerKinds(l *lis) []string {
	if l.spec.Protocol == gatewayv1.TLSProtocolType {
		return tlsListenerKinds
	}
	return httpListenerKinds
}

// takes reports whether the listener accepts routes of a kind.
func (l *lis) takes(kind string) bool {
	return slices.ContainsFunc(l.kinds, func(k gatewayv1.RouteGroupKind) bool { return string(k.Kind) == kind })
}

// allowedNamespaces reads allowedRoutes.namespaces.
func (t *translator) allowedNamespaces(l *lis) {
	ar := l.spec.AllowedRoutes
	if ar == nil || ar.Namespaces == nil || ar.Namespaces.From == nil || *ar.Namespaces.From != gatewayv1.NamespacesFromSelector {
		return
	}
	if ar.Namespaces.Selector == nil {
		l.refuse(gatewayv1.ListenerReasonUnsupportedValue, "allowedRoutes.namespaces: from Selector needs a selector")
		return
	}
	sel, err := metav1.LabelSelectorAsSelector(ar.Namespaces.Selector)
	if err != nil {
		l.refuse(gatewayv1.ListenerReasonUnsupportedValue, "allowedRoutes.namespaces.selector: %v", err)
		return
	}
	l.selector = sel
}

// allows reports whether routes of a namespace may attach to the listener.
func (t *translator) allows(l *lis, ns string) bool {
	from := gatewayv1.NamespacesFromSame
	if ar := l.spec.AllowedRoutes; ar != nil && ar.Namespaces != nil && ar.Namespaces.From != nil {
		from = *ar.Namespaces.From
	}
	switch from {
	case gatewayv1.NamespacesFromAll:
		return true
	case gatewayv1.NamespacesFromSame:
		return ns == l.gw.obj.Namespace
	case gatewayv1.NamespacesFromSelector:
		return l.selector != nil && l.selector.Matches(t.namespaceLabels(ns))
	}
	return false
}

// conflicts marks the listeners of a Gateway that are not distinct: on one port, listeners of
// different protocols (ProtocolConflict), or of one protocol and the same hostname
// (HostnameConflict). Listeners of unsupported protocols take no part.
func conflicts(ls []*lis) {
	byPort := map[int32][]*lis{}
	var ports []int32
	for _, l := range ls {
		if l.spec.Protocol != gatewayv1.HTTPProtocolType && l.spec.Protocol != gatewayv1.HTTPSProtocolType && l.spec.Protocol != gatewayv1.TLSProtocolType {
			continue
		}
		if _, seen := byPort[l.spec.Port]; !seen {
			ports = append(ports, l.spec.Port)
		}
		byPort[l.spec.Port] = append(byPort[l.spec.Port], l)
	}
	for _, p := range ports {
		group := byPort[p]
		if slices.ContainsFunc(group, func(l *lis) bool { return l.spec.Protocol != group[0].spec.Protocol }) {
			for _, l := range group {
				l.conflict = gatewayv1.ListenerReasonProtocolConflict
				l.conflictMsg = fmt.Sprintf("port %d is used with another protocol by another listener", p)
			}
			continue
		}
		for i, a := range group {
			for _, b := range group[i+1:] {
				if a.host == b.host {
					for _, l := range []*lis{a, b} {
						l.conflict = gatewayv1.ListenerReasonHostnameConflict
						l.conflictMsg = fmt.Sprintf("listeners %s and %s have the same port %d and hostname %q", a.name(), b.name(), p, a.host)
					}
				}
			}
		}
	}
}

// normalizeHost lower-cases a hostname and checks it: a DNS name, or "*." and one.
func normalizeHost(h string) (string, bool) {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	return h, h != "" && model.ValidMapHost(h)
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// status is the Gateway's status.
func (g *gw) status() gatewayv1.GatewayStatus {
	st := gatewayv1.GatewayStatus{Addresses: g.statusAddrs}
	reason, msg := g.acceptReason, g.acceptMsg
	if g.accepted && reason == "" {
		reason, msg = gatewayv1.GatewayReasonAccepted, "the Gateway is valid"
	}
	st.Conditions = append(st.Conditions, condition(gatewayv1.GatewayConditionAccepted, g.accepted, reason, g.gen, "%s", msg))
	programmed := g.accepted && g.notAddressed == ""
	switch {
	case !g.accepted:
		st.Conditions = append(st.Conditions, condition(gatewayv1.GatewayConditionProgrammed, false, gatewayv1.GatewayReasonInvalid, g.gen, "the Gateway is not accepted"))
	case !programmed:
		st.Conditions = append(st.Conditions, condition(gatewayv1.GatewayConditionProgrammed, false, g.notAddressed, g.gen, "%s", g.notAddressMsg))
	default:
		st.Conditions = append(st.Conditions, condition(gatewayv1.GatewayConditionProgrammed, true, gatewayv1.GatewayReasonProgrammed, g.gen, "the Gateway is configured in HAProxy"))
	}
	for _, l := range g.listeners {
		st.Listeners = append(st.Listeners, l.status())
	}
	return st
}

// status is the listener's status.
func (l *lis) status() gatewayv1.ListenerStatus {
	gen := l.gw.gen
	ls := gatewayv1.ListenerStatus{Name: l.spec.Name, SupportedKinds: l.kinds, AttachedRoutes: int32(len(l.attached))}
	accepted, reason, msg := l.accepted, l.acceptReason, l.acceptMsg
	if accepted && l.conflict != "" {
		accepted, reason, msg = false, l.conflict, l.conflictMsg
	}
	if accepted {
		reason, msg = gatewayv1.ListenerReasonAccepted, "the listener is valid"
	}
	ls.Conditions = append(ls.Conditions, condition(gatewayv1.ListenerConditionAccepted, accepted, reason, gen, "%s", msg))
	if l.conflict != "" {
		ls.Conditions = append(ls.Conditions, condition(gatewayv1.ListenerConditionConflicted, true, l.conflict, gen, "%s", l.conflictMsg))
	} else {
		ls.Conditions = append(ls.Conditions, condition(gatewayv1.ListenerConditionConflicted, false, gatewayv1.ListenerReasonNoConflicts, gen, "no conflict"))
	}
	if l.refsOK {
		ls.Conditions = append(ls.Conditions, condition(gatewayv1.ListenerConditionResolvedRefs, true, gatewayv1.ListenerReasonResolvedRefs, gen, "every reference is resolved"))
	} else {
		ls.Conditions = append(ls.Conditions, condition(gatewayv1.ListenerConditionResolvedRefs, false, l.refsReason, gen, "%s", l.refsMsg))
	}
	switch {
	case !l.gw.accepted || !accepted:
		ls.Conditions = append(ls.Conditions, condition(gatewayv1.ListenerConditionProgrammed, false, gatewayv1.ListenerReasonInvalid, gen, "the listener is not accepted"))
	case l.gw.notAddressed != "":
		ls.Conditions = append(ls.Conditions, condition(gatewayv1.ListenerConditionProgrammed, false, gatewayv1.ListenerReasonPending, gen, "the Gateway has no address"))
	case !l.serves():
		ls.Conditions = append(ls.Conditions, condition(gatewayv1.ListenerConditionProgrammed, false, gatewayv1.ListenerReasonInvalid, gen, "the listener has no usable certificate"))
	default:
		ls.Conditions = append(ls.Conditions, condition(gatewayv1.ListenerConditionProgrammed, true, gatewayv1.ListenerReasonProgrammed, gen, "served on %s", l.where()))
	}
	return ls
}

// where names the binds of a listener for messages.
func (l *lis) where() string {
	var out []string
	for _, b := range l.binds {
		out = append(out, b.describe())
	}
	return strings.Join(out, ", ")
}
