package gateway

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// TLS passthrough: Gateway listeners of protocol TLS with tls.mode Passthrough serve TLSRoutes.
// A connection is routed by the server name (SNI) of its TLS ClientHello, unterminated, to the
// route's backend: a model.TCPRoute{SNI} per hostname of the route (intersected with the
// listener's) on each bind of the listener. In pool mode a bind is a TCP listener of its own on
// <address>:<port>; in shared mode port 443 is the controller's HTTPS listener (the SNI names
// are passed through there, the others terminated, as for ssl-passthrough Ingresses), and any
// other port a TCP listener of its own.

const (
	kindTLSRoute = "TLSRoute"
	// tlsBackendPrefix names the passthrough backend of a Service port apart from its HTTP one
	// (the Ingress source's ssl-passthrough backends use the same prefix).
	tlsBackendPrefix = "tls_"
)

// passthroughTLS checks the tls of a TLS listener: mode Passthrough only (Terminate would need
// TLS terminated then relayed as TCP, which is not supported).
func passthroughTLS(l *lis) {
	tls := l.spec.TLS
	if tls == nil || tls.Mode == nil || *tls.Mode != gatewayv1.TLSModePassthrough {
		mode := gatewayv1.TLSModeTerminate
		if tls != nil && tls.Mode != nil {
			mode = *tls.Mode
		}
		l.refuse(gatewayv1.ListenerReasonUnsupportedValue, "tls.mode %q is not supported on TLS listeners: only Passthrough", mode)
		l.kinds = []gatewayv1.RouteGroupKind{} // the listener takes no route
	}
}

// tlsRoutes attaches the TLSRoutes to our Gateways' TLS listeners, oldest route first.
func (t *translator) tlsRoutes() {
	objs := make([]*gatewayv1.TLSRoute, 0, len(t.s.TLSRoutes))
	for i := range t.s.TLSRoutes {
		objs = append(objs, &t.s.TLSRoutes[i])
	}
	slices.SortFunc(objs, func(a, b *gatewayv1.TLSRoute) int { return olderFirst(&a.ObjectMeta, &b.ObjectMeta) })
	claimed := map[string]diag.Object{} // listener + " " + SNI
	for _, r := range objs {
		t.tlsRoute(r, claimed)
	}
}

// tlsBackend is the backend of a TLSRoute: the first backendRef of weight > 0 of its rules (a
// passthrough connection goes to one backend; weights across several are not supported).
type tlsBackend struct {
	name       string
	refsOK     bool
	refsReason gatewayv1.RouteConditionReason
	refsMsg    string
}

func (t *translator) tlsBackend(r *gatewayv1.TLSRoute, src diag.Object) tlsBackend {
	out := tlsBackend{refsOK: true}
	chosen := false
	var left []string
	for i, rule := range r.Spec.Rules {
		for j, b := range rule.BackendRefs {
			where := fmt.Sprintf("spec.rules[%d].backendRefs[%d]", i, j)
			if b.Weight != nil && *b.Weight == 0 {
				continue
			}
			name, reason, msg := t.backendRef(src, b.BackendObjectReference, where)
			if reason != "" {
				if out.refsOK {
					out.refsOK, out.refsReason, out.refsMsg = false, reason, msg
				}
				t.problem(src, diag.Warning, string(reason), "%s", msg)
				continue
			}
			if chosen {
				left = append(left, where)
				continue
			}
			out.name, chosen = name, true
		}
	}
	if len(left) > 0 {
		t.problem(src, diag.Warning, "UnsupportedValue", "a TLS passthrough connection goes to one backend: %s left out (the first resolved backendRef takes every connection)", strings.Join(left, ", "))
	}
	return out
}

// tlsRoute is one TLSRoute: its status for each of our parents, and its TCP routes by SNI.
func (t *translator) tlsRoute(r *gatewayv1.TLSRoute, claimed map[string]diag.Object) {
	key := types.NamespacedName{Namespace: r.Namespace, Name: r.Name}
	src := diag.Object{Kind: kindTLSRoute, Namespace: r.Namespace, Name: r.Name}
	var parents []gatewayv1.RouteParentStatus
	var be *tlsBackend
	var conflicts []string
	for _, pr := range r.Spec.ParentRefs {
		g := t.parentGateway(r.Namespace, pr)
		if g == nil {
			continue
		}
		if be == nil {
			b := t.tlsBackend(r, src)
			be = &b
		}
		st := gatewayv1.RouteParentStatus{ParentRef: pr, ControllerName: gatewayv1.GatewayController(t.o.ControllerName)}
		atts, reason, msg := t.attach(routeObj{kind: kindTLSRoute, meta: &r.ObjectMeta, hostnames: r.Spec.Hostnames}, g, pr)
		accepted := len(atts) > 0
		if accepted {
			reason, msg = gatewayv1.RouteReasonAccepted, "attached to listeners "+listenerNames(atts)
		}
		st.Conditions = append(st.Conditions, condition(gatewayv1.RouteConditionAccepted, accepted, reason, r.Generation, "%s", msg))
		if be.refsOK {
			st.Conditions = append(st.Conditions, condition(gatewayv1.RouteConditionResolvedRefs, true, gatewayv1.RouteReasonResolvedRefs, r.Generation, "every reference is resolved"))
		} else {
			st.Conditions = append(st.Conditions, condition(gatewayv1.RouteConditionResolvedRefs, false, be.refsReason, r.Generation, "%s", be.refsMsg))
		}
		parents = append(parents, st)
		if !accepted {
			t.problem(src, diag.Warning, string(reason), "parentRef %s: %s", parentName(r.Namespace, pr), msg)
			continue
		}
		if be.name == "" {
			continue // no backend: connections are refused
		}
		for _, a := range atts {
			if !a.l.serves() || !g.accepted || g.notAddressed != "" {
				continue
			}
			for _, b := range a.l.binds {
				for _, host := range a.hosts {
					if host == "" && b.proto != model.TCP {
						// The route and the listener have no hostname: on the controller's
						// HTTPS listener a passthrough route needs a server name to match.
						// (On a TCP listener of its own, it takes every connection.)
						conflicts = append(conflicts, fmt.Sprintf("listener %s: no hostname on the route nor the listener; it takes no connection", a.l.name()))
						continue
					}
					k := b.name + " " + host
					if holder, ok := claimed[k]; ok {
						if holder != src {
							conflicts = append(conflicts, fmt.Sprintf("SNI %q on %s is already passed through by the older %s", host, b.describe(), holder))
						}
						continue
					}
					claimed[k] = src
					t.res.Config.TCPRoutes = append(t.res.Config.TCPRoutes, model.TCPRoute{Listener: b.name, SNI: host,
						MultiLabel: strings.HasPrefix(host, "*."), Backend: be.name, Source: src})
				}
			}
		}
	}
	if len(parents) > 0 {
		t.res.Status.TLSRoutes[key] = parents
	}
	if len(conflicts) > 0 {
		t.problem(src, diag.Warning, "RouteConflict", "%s; these are ignored", strings.Join(conflicts, "; "))
	}
}
