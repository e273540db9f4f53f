package k8s

import (
	"context"
	"testing"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayfake "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned/fake"
)

const ours = gatewayv1.GatewayController("portcullis.io/gateway-controller")

var (
	t0 = metav1.NewTime(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC))
	t1 = metav1.NewTime(time.Date(2026, 1, 1, 11, 0, 0, 0, time.UTC))
)

func cond(typ string, status metav1.ConditionStatus, reason string, gen int64, at metav1.Time) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: reason, ObservedGeneration: gen, LastTransitionTime: at}
}

func TestMergeConditions(t *testing.T) {
	have := []metav1.Condition{
		cond("Accepted", metav1.ConditionTrue, "Accepted", 1, t0),
		cond("ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs", 1, t0),
		cond("Programmed", metav1.ConditionTrue, "Programmed", 1, t0),
	}
	want := []metav1.Condition{
		cond("Accepted", metav1.ConditionTrue, "Accepted", 1, metav1.Time{}),             // unchanged: keeps t0
		cond("ResolvedRefs", metav1.ConditionFalse, "RefNotPermitted", 1, metav1.Time{}), // changed: now
		cond("Programmed", metav1.ConditionTrue, "Programmed", 2, metav1.Time{}),         // new generation: now
		cond("PartiallyInvalid", metav1.ConditionTrue, "x", 2, metav1.Time{}),            // new: now
	}
	got := MergeConditions(have, want, t1)
	wantTimes := []metav1.Time{t0, t1, t1, t1}
	for i, c := range got {
		if !c.LastTransitionTime.Equal(&wantTimes[i]) {
			t.Errorf("%s: lastTransitionTime %v, want %v", c.Type, c.LastTransitionTime, wantTimes[i])
		}
		if c.Status != want[i].Status || c.Reason != want[i].Reason {
			t.Errorf("%s: got %s/%s, want %s/%s", c.Type, c.Status, c.Reason, want[i].Status, want[i].Reason)
		}
	}
}

func parentRef(name string, section string) gatewayv1.ParentReference {
	p := gatewayv1.ParentReference{Name: gatewayv1.ObjectName(name)}
	if section != "" {
		s := gatewayv1.SectionName(section)
		p.SectionName = &s
	}
	return p
}

func TestMergeRouteParents(t *testing.T) {
	other := gatewayv1.RouteParentStatus{ParentRef: parentRef("theirs", ""), ControllerName: "example.com/other",
		Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted", 1, t0)}}
	mine := gatewayv1.RouteParentStatus{ParentRef: parentRef("gw", "http"), ControllerName: ours,
		Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted", 1, t0)}}
	stale := gatewayv1.RouteParentStatus{ParentRef: parentRef("gone", ""), ControllerName: ours,
		Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted", 1, t0)}}
	have := []gatewayv1.RouteParentStatus{mine, other, stale}

	want := []gatewayv1.RouteParentStatus{{ParentRef: parentRef("gw", "http"),
		Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted", 1, metav1.Time{}),
			cond("ResolvedRefs", metav1.ConditionFalse, "BackendNotFound", 1, metav1.Time{})}}}
	got := MergeRouteParents(have, want, ours, t1)
	if len(got) != 2 {
		t.Fatalf("got %d parents, want 2 (the other controller's, then ours): %+v", len(got), got)
	}
	if !apiequality.Semantic.DeepEqual(got[0], other) {
		t.Errorf("the other controller's entry changed: %+v", got[0])
	}
	if got[1].ControllerName != ours || got[1].ParentRef.Name != "gw" {
		t.Errorf("our entry: %+v", got[1])
	}
	if at := got[1].Conditions[0].LastTransitionTime; !at.Equal(&t0) {
		t.Errorf("unchanged Accepted condition got lastTransitionTime %v, want %v", at, t0)
	}
	if at := got[1].Conditions[1].LastTransitionTime; !at.Equal(&t1) {
		t.Errorf("new ResolvedRefs condition got lastTransitionTime %v, want %v", at, t1)
	}
	// Nothing of ours wanted: only the other controller's entry stays.
	if got := MergeRouteParents(have, nil, ours, t1); len(got) != 1 || got[0].ControllerName != other.ControllerName {
		t.Errorf("with nothing of ours, got %+v", got)
	}
}

// statusWrites counts the status updates a fake clientset received.
func statusWrites(actions []k8stesting.Action) int {
	n := 0
	for _, a := range actions {
		if a.GetVerb() == "update" && a.GetSubresource() == "status" {
			n++
		}
	}
	return n
}

func TestGatewayStatusWriterSync(t *testing.T) {
	ctx := context.Background()
	class := &gatewayv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "portcullis", Generation: 1}, Spec: gatewayv1.GatewayClassSpec{ControllerName: ours}}
	gw := &gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "gw", Generation: 1}}
	route := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web", Generation: 1}}
	route.Status.Parents = []gatewayv1.RouteParentStatus{{ParentRef: parentRef("theirs", ""), ControllerName: "example.com/other",
		Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted", 1, t0)}}}
	// Created through the typed v1 client, which the writer uses: objects handed to
	// NewSimpleClientset are not found by it.
	client := gatewayfake.NewSimpleClientset()
	if _, err := client.GatewayV1().GatewayClasses().Create(ctx, class, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.GatewayV1().Gateways("ns").Create(ctx, gw, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.GatewayV1().HTTPRoutes("ns").Create(ctx, route, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	leader := true
	w := NewGatewayStatusWriter(client, string(ours), "test", func() bool { return leader })
	now := t0
	w.now = func() metav1.Time { return now }

	addr := gatewayv1.IPAddressType
	want := GatewayStatus{
		GatewayClasses: map[string]gatewayv1.GatewayClassStatus{"portcullis": {
			Conditions:        []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted", 1, metav1.Time{})},
			SupportedFeatures: []gatewayv1.SupportedFeature{{Name: "HTTPRoute"}},
		}},
		Gateways: map[types.NamespacedName]gatewayv1.GatewayStatus{{Namespace: "ns", Name: "gw"}: {
			Addresses:  []gatewayv1.GatewayStatusAddress{{Type: &addr, Value: "192.0.2.1"}},
			Conditions: []metav1.Condition{cond("Programmed", metav1.ConditionTrue, "Programmed", 1, metav1.Time{})},
			Listeners: []gatewayv1.ListenerStatus{{Name: "http", AttachedRoutes: 1,
				Conditions: []metav1.Condition{cond("Programmed", metav1.ConditionTrue, "Programmed", 1, metav1.Time{})}}},
		}},
		HTTPRoutes: map[types.NamespacedName][]gatewayv1.RouteParentStatus{{Namespace: "ns", Name: "web"}: {{
			ParentRef: parentRef("gw", ""), Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted", 1, metav1.Time{})},
		}}},
	}
	snapshot := func() Snapshot {
		gc, err := client.GatewayV1().GatewayClasses().Get(ctx, "portcullis", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		g, err := client.GatewayV1().Gateways("ns").Get(ctx, "gw", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := client.GatewayV1().HTTPRoutes("ns").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return Snapshot{GatewayClasses: []*gatewayv1.GatewayClass{gc}, Gateways: []*gatewayv1.Gateway{g}, HTTPRoutes: []*gatewayv1.HTTPRoute{r}}
	}

	t.Run("a follower writes nothing", func(t *testing.T) {
		leader = false
		defer func() { leader = true }()
		client.ClearActions()
		if err := w.Write(ctx, snapshot(), want); err != nil {
			t.Fatal(err)
		}
		if n := statusWrites(client.Actions()); n != 0 {
			t.Errorf("a follower wrote %d statuses", n)
		}
	})

	t.Run("the leader writes the three statuses", func(t *testing.T) {
		client.ClearActions()
		if err := w.Write(ctx, snapshot(), want); err != nil {
			t.Fatal(err)
		}
		if n := statusWrites(client.Actions()); n != 3 {
			t.Errorf("%d status writes, want 3", n)
		}
		s := snapshot()
		if got := s.Gateways[0].Status; len(got.Addresses) != 1 || got.Listeners[0].AttachedRoutes != 1 {
			t.Errorf("gateway status %+v", got)
		}
		parents := s.HTTPRoutes[0].Status.Parents
		if len(parents) != 2 || parents[0].ControllerName != "example.com/other" || parents[1].ControllerName != ours {
			t.Errorf("route parents %+v, want the other controller's entry then ours", parents)
		}
	})

	t.Run("nothing changed: nothing written, transition times kept", func(t *testing.T) {
		now = t1
		client.ClearActions()
		if err := w.Write(ctx, snapshot(), want); err != nil {
			t.Fatal(err)
		}
		if n := statusWrites(client.Actions()); n != 0 {
			t.Errorf("%d status writes for unchanged statuses, want 0", n)
		}
		if at := snapshot().GatewayClasses[0].Status.Conditions[0].LastTransitionTime; !at.Equal(&t0) {
			t.Errorf("lastTransitionTime %v, want %v", at, t0)
		}
	})

	t.Run("a conflict is retried on a fresh copy", func(t *testing.T) {
		changed := want
		changed.HTTPRoutes = map[types.NamespacedName][]gatewayv1.RouteParentStatus{{Namespace: "ns", Name: "web"}: {{
			ParentRef: parentRef("gw", ""), Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionFalse, "NotAllowedByListeners", 1, metav1.Time{})},
		}}}
		conflicts := 1
		client.PrependReactor("update", "httproutes", func(a k8stesting.Action) (bool, runtime.Object, error) {
			if a.GetSubresource() == "status" && conflicts > 0 {
				conflicts--
				return true, nil, apierrors.NewConflict(schema.GroupResource{Group: gatewayv1.GroupName, Resource: "httproutes"}, "web", nil)
			}
			return false, nil, nil
		})
		client.ClearActions()
		if err := w.Write(ctx, snapshot(), changed); err != nil {
			t.Fatal(err)
		}
		if n := statusWrites(client.Actions()); n != 2 {
			t.Errorf("%d status writes, want 2 (a conflict, then the retry)", n)
		}
		parents := snapshot().HTTPRoutes[0].Status.Parents
		if len(parents) != 2 || parents[1].Conditions[0].Reason != "NotAllowedByListeners" || !parents[1].Conditions[0].LastTransitionTime.Equal(&t1) {
			t.Errorf("route parents after the retry: %+v", parents)
		}
	})

	t.Run("a route no longer ours loses only our entry", func(t *testing.T) {
		gone := want
		gone.HTTPRoutes = nil
		if err := w.Write(ctx, snapshot(), gone); err != nil {
			t.Fatal(err)
		}
		parents := snapshot().HTTPRoutes[0].Status.Parents
		if len(parents) != 1 || parents[0].ControllerName != "example.com/other" {
			t.Errorf("route parents %+v, want only the other controller's", parents)
		}
	})
}
