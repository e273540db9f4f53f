package reconcile

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/gateway"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/resolve"
)

func TestGatewayStatusMarksRejectedObjects(t *testing.T) {
	accepted := metav1.Condition{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", ObservedGeneration: 3}
	resolved := metav1.Condition{Type: "ResolvedRefs", Status: metav1.ConditionTrue, Reason: "ResolvedRefs", ObservedGeneration: 3}
	programmed := metav1.Condition{Type: "Programmed", Status: metav1.ConditionTrue, Reason: "Programmed", ObservedGeneration: 2}
	bad := types.NamespacedName{Namespace: "ns", Name: "bad"}
	good := types.NamespacedName{Namespace: "ns", Name: "good"}
	gw := types.NamespacedName{Namespace: "ns", Name: "gw"}
	parent := func() []gatewayv1.RouteParentStatus {
		return []gatewayv1.RouteParentStatus{{ParentRef: gatewayv1.ParentReference{Name: "gw"}, Conditions: []metav1.Condition{accepted, resolved}}}
	}
	st := gateway.Status{
		Gateways: map[types.NamespacedName]gatewayv1.GatewayStatus{gw: {
			Conditions: []metav1.Condition{programmed},
			Listeners:  []gatewayv1.ListenerStatus{{Name: "http", Conditions: []metav1.Condition{programmed}}},
		}},
		HTTPRoutes: map[types.NamespacedName][]gatewayv1.RouteParentStatus{bad: parent(), good: parent()},
		GRPCRoutes: map[types.NamespacedName][]gatewayv1.RouteParentStatus{bad: parent(), good: parent()},
	}

	t.Run("nothing rejected: the source's status as it is", func(t *testing.T) {
		out := gatewayStatus(st, nil)
		if c := out.HTTPRoutes[bad][0].Conditions[0]; c.Status != metav1.ConditionTrue {
			t.Errorf("Accepted %s, want True", c.Status)
		}
	})

	t.Run("a rejected route and Gateway", func(t *testing.T) {
		out := gatewayStatus(st, []haproxy.Rejection{{
			Objects: []diag.Object{{Kind: "HTTPRoute", Namespace: "ns", Name: "bad"}, {Kind: "Gateway", Namespace: "ns", Name: "gw"}},
			Err:     errors.New("haproxy refused it"),
		}})
		c := out.HTTPRoutes[bad][0].Conditions[0]
		if c.Type != "Accepted" || c.Status != metav1.ConditionFalse || c.Reason != string(gatewayv1.RouteReasonUnsupportedValue) || c.ObservedGeneration != 3 {
			t.Errorf("rejected route's Accepted condition: %+v", c)
		}
		if c := out.HTTPRoutes[bad][0].Conditions[1]; c.Status != metav1.ConditionTrue {
			t.Errorf("rejected route's ResolvedRefs changed: %+v", c)
		}
		if c := out.HTTPRoutes[good][0].Conditions[0]; c.Status != metav1.ConditionTrue {
			t.Errorf("the other route's Accepted condition changed: %+v", c)
		}
		g := out.Gateways[gw]
		if c := g.Conditions[0]; c.Status != metav1.ConditionFalse || c.Reason != string(gatewayv1.GatewayReasonInvalid) {
			t.Errorf("rejected Gateway's Programmed condition: %+v", c)
		}
		if c := g.Listeners[0].Conditions[0]; c.Status != metav1.ConditionFalse || c.Reason != string(gatewayv1.ListenerReasonInvalid) {
			t.Errorf("rejected Gateway's listener Programmed condition: %+v", c)
		}
		// A GRPCRoute of the same name was not rejected.
		if c := out.GRPCRoutes[bad][0].Conditions[0]; c.Status != metav1.ConditionTrue {
			t.Errorf("the GRPCRoute of the same name changed: %+v", c)
		}
		// The source's values are left alone.
		if st.HTTPRoutes[bad][0].Conditions[0].Status != metav1.ConditionTrue || st.Gateways[gw].Conditions[0].Status != metav1.ConditionTrue {
			t.Errorf("gatewayStatus modified its input")
		}
	})

	t.Run("a rejected GRPCRoute", func(t *testing.T) {
		out := gatewayStatus(st, []haproxy.Rejection{{
			Objects: []diag.Object{{Kind: "GRPCRoute", Namespace: "ns", Name: "bad"}},
			Err:     errors.New("haproxy refused it"),
		}})
		if c := out.GRPCRoutes[bad][0].Conditions[0]; c.Status != metav1.ConditionFalse || c.Reason != string(gatewayv1.RouteReasonUnsupportedValue) {
			t.Errorf("rejected GRPCRoute's Accepted condition: %+v", c)
		}
		if c := out.HTTPRoutes[bad][0].Conditions[0]; c.Status != metav1.ConditionTrue {
			t.Errorf("the HTTPRoute of the same name changed: %+v", c)
		}
		if st.GRPCRoutes[bad][0].Conditions[0].Status != metav1.ConditionTrue {
			t.Errorf("gatewayStatus modified its input")
		}
	})
}

func TestMergeFeeds(t *testing.T) {
	web := types.NamespacedName{Namespace: "ns", Name: "web"}
	port := corev1.ServicePort{Name: "http", Port: 80}
	ing := map[types.NamespacedName][]resolve.Feed{web: {{Backend: "ns_web_http", Port: port}}}
	gw := map[types.NamespacedName][]resolve.Feed{web: {{Backend: "ns_web_http", Port: port}, {Backend: "ns_web_other", Port: port}}}
	got := mergeFeeds(ing, nil, gw)
	if len(got[web]) != 2 || got[web][0].Backend != "ns_web_http" || got[web][1].Backend != "ns_web_other" {
		t.Errorf("feeds of %s: %+v, want ns_web_http once, then ns_web_other", web, got[web])
	}
}
