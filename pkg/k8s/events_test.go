package k8s

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
)

func TestObjectReference(t *testing.T) {
	tests := []struct {
		obj  diag.Object
		want string
	}{
		{diag.Object{Kind: "Ingress", Namespace: "web", Name: "shop"}, "networking.k8s.io/v1"},
		{diag.Object{Kind: "IngressClass", Name: "haproxy"}, "networking.k8s.io/v1"},
		{diag.Object{Kind: "Service", Namespace: "web", Name: "shop"}, "v1"},
		{diag.Object{Kind: "ConfigMap", Namespace: "system", Name: "portcullis"}, "v1"},
		{diag.Object{Kind: "GatewayClass", Name: "portcullis"}, "gateway.networking.k8s.io/v1"},
		{diag.Object{Kind: "Gateway", Namespace: "infra", Name: "gw"}, "gateway.networking.k8s.io/v1"},
		{diag.Object{Kind: "HTTPRoute", Namespace: "apps", Name: "r"}, "gateway.networking.k8s.io/v1"},
	}
	for _, tt := range tests {
		t.Run(tt.obj.Kind, func(t *testing.T) {
			ref := objectReference(tt.obj)
			if ref.APIVersion != tt.want || ref.Kind != tt.obj.Kind || ref.Namespace != tt.obj.Namespace || ref.Name != tt.obj.Name {
				t.Errorf("objectReference(%+v) = %+v, want apiVersion %s", tt.obj, ref, tt.want)
			}
		})
	}
}

// Events about cluster-scoped objects go to the controller's namespace; the others stay next to
// their object; every write (create, update, patch) goes to the same place.
func TestHomeSink(t *testing.T) {
	client := fake.NewClientset()
	sink := homeSink{EventSink: &typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")}, home: "portcullis-system"}
	event := func(name, ns string, obj corev1.ObjectReference) *corev1.Event {
		return &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, InvolvedObject: obj, Reason: "Test"}
	}
	class := event("class.1", metav1.NamespaceDefault, corev1.ObjectReference{Kind: "GatewayClass", Name: "portcullis"})
	route := event("route.1", "apps", corev1.ObjectReference{Kind: "HTTPRoute", Namespace: "apps", Name: "r"})
	for _, e := range []*corev1.Event{class, route} {
		if _, err := sink.Create(e); err != nil {
			t.Fatalf("create %s: %v", e.Name, err)
		}
	}
	if class.Namespace != metav1.NamespaceDefault {
		t.Errorf("the sink changed the caller's Event: %s", class.Namespace)
	}
	class.Count = 2
	if _, err := sink.Update(class); err != nil {
		t.Errorf("update: %v", err)
	}
	if _, err := sink.Patch(class, []byte(`{"count":3}`)); err != nil {
		t.Errorf("patch: %v", err)
	}
	for ns, want := range map[string][]string{"portcullis-system": {"class.1"}, "apps": {"route.1"}, metav1.NamespaceDefault: nil} {
		list, err := client.CoreV1().Events(ns).List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range list.Items {
			got = append(got, e.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("Events in %s: %v, want %v", ns, got, want)
		}
	}
	if e, err := client.CoreV1().Events("portcullis-system").Get(t.Context(), "class.1", metav1.GetOptions{}); err != nil || e.Count != 3 {
		t.Errorf("the GatewayClass's Event after update and patch: %+v, %v", e, err)
	}
}

// The Reporter writes each problem as a Warning Event: about a GatewayClass in the controller's
// namespace, about a namespaced object next to it, each with its kind's apiVersion and UID.
func TestReporterEvents(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	client := fake.NewClientset()
	uids := func(o diag.Object) (types.UID, bool) { return types.UID("uid-" + o.Name), true }
	r := NewReporter(ctx, client, "portcullis-system", uids)
	r.Report([]diag.Problem{
		{Object: diag.Object{Kind: "GatewayClass", Name: "portcullis"}, Severity: diag.Warning, Reason: "InvalidParameters", Message: "m1"},
		{Object: diag.Object{Kind: "HTTPRoute", Namespace: "apps", Name: "r"}, Severity: diag.Warning, Reason: "BackendNotFound", Message: "m2"},
	})
	want := map[string]string{
		"portcullis-system/GatewayClass/portcullis/gateway.networking.k8s.io/v1/uid-portcullis/Warning/InvalidParameters": "",
		"apps/HTTPRoute/r/gateway.networking.k8s.io/v1/uid-r/Warning/BackendNotFound":                                     "",
	}
	// The broadcaster writes asynchronously: wait for the two Events (the bound only ends a
	// broken run; it asserts nothing about speed).
	var got []string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		list, err := client.CoreV1().Events("").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, e := range list.Items {
			o := e.InvolvedObject
			got = append(got, fmt.Sprintf("%s/%s/%s/%s/%s/%s/%s", e.Namespace, o.Kind, o.Name, o.APIVersion, o.UID, e.Type, e.Reason))
		}
		if len(got) >= len(want) {
			break
		}
	}
	slices.Sort(got)
	if len(got) != len(want) {
		t.Fatalf("Events %v, want the keys of %v", got, want)
	}
	for _, g := range got {
		if _, ok := want[g]; !ok {
			t.Errorf("unexpected Event %s; want the keys of %v", g, want)
		}
	}
}
