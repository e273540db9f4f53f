package k8s

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayfake "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned/fake"
)

// GRPCRoutes get their entries in status.parents as HTTPRoutes do: ours written, the other
// controllers' kept, ours removed when the route no longer names a Gateway of ours.
func TestGatewayStatusWriterGRPCRoutes(t *testing.T) {
	ctx := context.Background()
	route := &gatewayv1.GRPCRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "rpc", Generation: 2}}
	route.Status.Parents = []gatewayv1.RouteParentStatus{{ParentRef: parentRef("theirs", ""), ControllerName: "example.com/other",
		Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted", 2, t0)}}}
	client := gatewayfake.NewSimpleClientset()
	if _, err := client.GatewayV1().GRPCRoutes("ns").Create(ctx, route, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	w := NewGatewayStatusWriter(client, string(ours), "test", func() bool { return true })
	w.now = func() metav1.Time { return t0 }
	snapshot := func() Snapshot {
		r, err := client.GatewayV1().GRPCRoutes("ns").Get(ctx, "rpc", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return Snapshot{GRPCRoutes: []*gatewayv1.GRPCRoute{r}}
	}
	want := GatewayStatus{GRPCRoutes: map[types.NamespacedName][]gatewayv1.RouteParentStatus{{Namespace: "ns", Name: "rpc"}: {{
		ParentRef: parentRef("gw", ""), Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted", 2, metav1.Time{})},
	}}}}

	client.ClearActions()
	if err := w.Write(ctx, snapshot(), want); err != nil {
		t.Fatal(err)
	}
	if n := statusWrites(client.Actions()); n != 1 {
		t.Errorf("%d status writes, want 1", n)
	}
	parents := snapshot().GRPCRoutes[0].Status.Parents
	if len(parents) != 2 || parents[0].ControllerName != "example.com/other" || parents[1].ControllerName != ours ||
		!parents[1].Conditions[0].LastTransitionTime.Equal(&t0) {
		t.Errorf("route parents %+v, want the other controller's entry then ours", parents)
	}

	client.ClearActions()
	if err := w.Write(ctx, snapshot(), want); err != nil {
		t.Fatal(err)
	}
	if n := statusWrites(client.Actions()); n != 0 {
		t.Errorf("%d status writes for an unchanged status, want 0", n)
	}

	if err := w.Write(ctx, snapshot(), GatewayStatus{}); err != nil {
		t.Fatal(err)
	}
	if parents := snapshot().GRPCRoutes[0].Status.Parents; len(parents) != 1 || parents[0].ControllerName != "example.com/other" {
		t.Errorf("route parents %+v, want only the other controller's", parents)
	}
}
