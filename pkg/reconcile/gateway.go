package reconcile

import (
	"fmt"
	"maps"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/gateway"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/k8s"
	"github.com/portcullis-ingress/portcullis/pkg/resolve"
)

// gatewayState is the Gateway API source's view of a snapshot.
func gatewayState(snap k8s.Snapshot, cl *resolve.Cluster) gateway.State {
	s := gateway.State{
		GatewayClasses: make([]gatewayv1.GatewayClass, len(snap.GatewayClasses)),
		Gateways:       make([]gatewayv1.Gateway, len(snap.Gateways)),
		HTTPRoutes:     make([]gatewayv1.HTTPRoute, len(snap.HTTPRoutes)),
		Cluster:        cl,
		ConfigMap:      snap.ConfigMap,
	}
	for i, o := range snap.GatewayClasses {
		s.GatewayClasses[i] = *o
	}
	for i, o := range snap.Gateways {
		s.Gateways[i] = *o
	}
	for i, o := range snap.HTTPRoutes {
		s.HTTPRoutes[i] = *o
	}
	for _, o := range snap.GRPCRoutes {
		s.GRPCRoutes = append(s.GRPCRoutes, *o)
	}
	for _, o := range snap.TLSRoutes {
		s.TLSRoutes = append(s.TLSRoutes, *o)
	}
	for _, o := range snap.ReferenceGrants {
		s.ReferenceGrants = append(s.ReferenceGrants, *o)
	}
	for _, o := range snap.Namespaces {
		s.Namespaces = append(s.Namespaces, *o)
	}
	return s
}

// gatewayOptions completes the Gateway API source's options for a pass: the addresses Ingress
// status publishes, the time, and the ports the tcp-services listeners take.
func (l *Loop) gatewayOptions(snap k8s.Snapshot, tcp model.Config, now time.Time) gateway.Options {
	o := *l.Gateway
	o.Now = now
	o.PublishedAddresses = nil
	for _, a := range k8s.StatusAddresses(l.Publish, snap.PublishService, snap.Nodes) {
		o.PublishedAddresses = append(o.PublishedAddresses, a.IP+a.Hostname)
	}
	o.Reserved = slices.Clone(o.Reserved)
	for _, li := range tcp.Listeners {
		if !slices.Contains(o.Reserved, li.Port) {
			o.Reserved = append(o.Reserved, li.Port)
		}
	}
	return o
}

// Reasons written on the objects a pass left out (haproxy.Prune, or refused by haproxy and
// isolated): the spec's reasons for an invalid configuration. An HTTPRoute is not accepted by its
// parents (UnsupportedValue: HTTPRoute status has no Programmed condition); a Gateway and its
// listeners are not programmed (Invalid).
const (
	rejectedRouteReason    = gatewayv1.RouteReasonUnsupportedValue
	rejectedGatewayReason  = gatewayv1.GatewayReasonInvalid
	rejectedListenerReason = gatewayv1.ListenerReasonInvalid
)

// gatewayStatus is the status to write after a pass: the source's, with the objects the pass left
// out marked as such. It does not modify st.
func gatewayStatus(st gateway.Status, rejections []haproxy.Rejection) k8s.GatewayStatus {
	out := k8s.GatewayStatus{GatewayClasses: st.GatewayClasses, Gateways: st.Gateways, HTTPRoutes: st.HTTPRoutes, GRPCRoutes: st.GRPCRoutes, TLSRoutes: st.TLSRoutes}
	why := map[diag.Object]string{}
	for _, r := range rejections {
		for _, o := range r.Objects {
			if _, seen := why[o]; !seen {
				why[o] = r.Err.Error()
			}
		}
	}
	if len(why) == 0 {
		return out
	}
	out.Gateways, out.HTTPRoutes, out.GRPCRoutes, out.TLSRoutes = maps.Clone(st.Gateways), maps.Clone(st.HTTPRoutes), maps.Clone(st.GRPCRoutes), maps.Clone(st.TLSRoutes)
	for o, msg := range why {
		key := types.NamespacedName{Namespace: o.Namespace, Name: o.Name}
		msg = "left out of the configuration, the rest is served: " + msg
		switch o.Kind {
		case "HTTPRoute", "GRPCRoute", "TLSRoute":
			routes := out.HTTPRoutes
			switch o.Kind {
			case "GRPCRoute":
				routes = out.GRPCRoutes
			case "TLSRoute":
				routes = out.TLSRoutes
			}
			parents, ok := routes[key]
			if !ok {
				continue
			}
			parents = slices.Clone(parents)
			for i, p := range parents {
				p = *p.DeepCopy()
				p.Conditions = demote(p.Conditions, string(gatewayv1.RouteConditionAccepted), string(rejectedRouteReason), msg)
				parents[i] = p
			}
			routes[key] = parents
		case "Gateway":
			gs, ok := out.Gateways[key]
			if !ok {
				continue
			}
			gs = *gs.DeepCopy()
			gs.Conditions = demote(gs.Conditions, string(gatewayv1.GatewayConditionProgrammed), string(rejectedGatewayReason), msg)
			for i := range gs.Listeners {
				gs.Listeners[i].Conditions = demote(gs.Listeners[i].Conditions, string(gatewayv1.ListenerConditionProgrammed), string(rejectedListenerReason), msg)
			}
			out.Gateways[key] = gs
		}
	}
	return out
}

// demote sets the condition typ to False with reason and message, keeping its observedGeneration
// (that of the object's other conditions when it is missing). A condition already False stays as
// it is: it says why the object was not served before the pass left it out.
func demote(conds []metav1.Condition, typ, reason, msg string) []metav1.Condition {
	i := slices.IndexFunc(conds, func(c metav1.Condition) bool { return c.Type == typ })
	if i >= 0 && conds[i].Status == metav1.ConditionFalse {
		return conds
	}
	c := metav1.Condition{Type: typ, Status: metav1.ConditionFalse, Reason: reason, Message: clipMessage(msg)}
	if i >= 0 {
		c.ObservedGeneration = conds[i].ObservedGeneration
		conds[i] = c
		return conds
	}
	if len(conds) > 0 {
		c.ObservedGeneration = conds[0].ObservedGeneration
	}
	return append(conds, c)
}

// clipMessage keeps a condition message within the 32768 bytes the API allows.
func clipMessage(s string) string {
	const most = 32 << 10
	if len(s) <= most {
		return s
	}
	return fmt.Sprintf("%s...", s[:most-3])
}
