package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// TestStatusFromNodePortServiceByOneLeader runs two controller replicas that publish a NodePort
// Service: the Ingress status lists the nodes' InternalIP addresses, exactly one replica (the
// Lease holder) wrote it, and the status is cleared when the Ingress stops being ours.
func TestStatusFromNodePortServiceByOneLeader(t *testing.T) {
	t.Parallel()
	ns := framework.NewNamespace(t)
	framework.CreateIngressClass(t, ns, framework.ControllerName)
	framework.CreateIngressClass(t, ns+"-other", "example.com/other")

	// Nodes are cluster-wide: no other test creates any.
	for i, ip := range []string{"192.0.2.12", "192.0.2.11"} {
		name := fmt.Sprintf("%s-node-%d", ns, i)
		_, err := framework.Kube().CoreV1().Nodes().Create(t.Context(), &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: ip},
				{Type: corev1.NodeExternalIP, Address: "203.0.113.1"},
			}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("creating node: %v", err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = framework.Kube().CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{})
		})
	}
	// Nodes created without a kubelet have no status: write it.
	nodes, err := framework.Kube().CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes.Items {
		if !strings.HasPrefix(n.Name, ns) || len(n.Status.Addresses) > 0 {
			continue
		}
		ip := map[string]string{ns + "-node-0": "192.0.2.12", ns + "-node-1": "192.0.2.11"}[n.Name]
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}, {Type: corev1.NodeExternalIP, Address: "203.0.113.1"}}
		if _, err := framework.Kube().CoreV1().Nodes().UpdateStatus(t.Context(), &n, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("writing node status: %v", err)
		}
	}

	svc := framework.Service(ns, "portcullis", framework.ServicePort("http", 80, 8080))
	svc.Spec.Type = corev1.ServiceTypeNodePort
	framework.CreateService(t, svc)

	args := []string{
		"--ingress.class=" + ns,
		"--publish-service=" + ns + "/portcullis",
		"--election-id=status-leader",
		"--election-namespace=" + ns,
	}
	c1 := framework.StartController(t, framework.ControllerOptions{Namespace: ns, ExtraArgs: args})
	c2 := framework.StartController(t, framework.ControllerOptions{Namespace: ns, ExtraArgs: args})

	echo := framework.StartEcho(t, "web")
	framework.EchoService(t, ns, "web", echo)
	framework.CreateIngress(t, framework.Ingress(ns, "web", ns,
		framework.Rule("status.example", framework.Prefix("/", "web"))))
	framework.ExpectRoute(t, c1, "status.example", "/", http.StatusOK, "web")
	framework.ExpectRoute(t, c2, "status.example", "/", http.StatusOK, "web")

	want := []string{"192.0.2.11", "192.0.2.12"}
	framework.Eventually(t, framework.RouteTimeout, func() error {
		got := statusIPs(t, ns, "web")
		if !slices.Equal(got, want) {
			return fmt.Errorf("status addresses %v, want %v", got, want)
		}
		return nil
	})

	// Exactly one replica wrote the status: one field manager owns it.
	cur, err := framework.Kube().NetworkingV1().Ingresses(ns).Get(t.Context(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var writers []string
	for _, mf := range cur.ManagedFields {
		if mf.Subresource == "status" {
			writers = append(writers, mf.Manager)
		}
	}
	if len(writers) != 1 {
		t.Errorf("status written by %d managers %v, want exactly one", len(writers), writers)
	}
	lease, err := framework.Kube().CoordinationV1().Leases(ns).Get(t.Context(), "status-leader", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the election lease: %v", err)
	}
	if lease.Spec.HolderIdentity == nil || len(writers) == 1 && *lease.Spec.HolderIdentity != writers[0] {
		t.Errorf("lease holder %v, status writer %v", lease.Spec.HolderIdentity, writers)
	}

	// Not ours any more: the status is cleared.
	other := ns + "-other"
	cur.Spec.IngressClassName = &other
	framework.UpdateIngress(t, cur)
	framework.Eventually(t, framework.RouteTimeout, func() error {
		if got := statusIPs(t, ns, "web"); len(got) > 0 {
			return fmt.Errorf("status still %v after the Ingress moved to another class", got)
		}
		return nil
	})
}

// TestStatusFromFixedAddress publishes --publish-status-address.
func TestStatusFromFixedAddress(t *testing.T) {
	t.Parallel()
	ns := framework.NewNamespace(t)
	framework.CreateIngressClass(t, ns, framework.ControllerName)
	c := framework.StartController(t, framework.ControllerOptions{Namespace: ns, ExtraArgs: []string{
		"--ingress.class=" + ns, "--publish-status-address=192.0.2.50", "--election-namespace=" + ns,
	}})
	echo := framework.StartEcho(t, "web")
	framework.EchoService(t, ns, "web", echo)
	framework.CreateIngress(t, framework.Ingress(ns, "web", ns, framework.Rule("fixed.example", framework.Prefix("/", "web"))))
	framework.ExpectRoute(t, c, "fixed.example", "/", http.StatusOK, "web")
	framework.Eventually(t, framework.RouteTimeout, func() error {
		if got := statusIPs(t, ns, "web"); !slices.Equal(got, []string{"192.0.2.50"}) {
			return fmt.Errorf("status addresses %v", got)
		}
		return nil
	})
}

func statusIPs(t *testing.T, ns, name string) []string {
	t.Helper()
	ing, err := framework.Kube().NetworkingV1().Ingresses(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading ingress: %v", err)
	}
	var out []string
	for _, lb := range ing.Status.LoadBalancer.Ingress {
		out = append(out, lb.IP+lb.Hostname)
	}
	return out
}

// TestHAProxyExporterOnStatsPort checks haproxy's built-in Prometheus exporter on the stats port.
func TestHAProxyExporterOnStatsPort(t *testing.T) {
	t.Parallel()
	// Without spares, the backend has its own name at once (an occupied spare keeps the spare's name
	// in haproxy's metrics until the next reload).
	ns, c := startRoutingWithoutSpares(t)
	echo := framework.StartEcho(t, "web")
	framework.EchoService(t, ns, "web", echo)
	framework.CreateIngress(t, framework.Ingress(ns, "web", ns, framework.Rule("stats.example", framework.Prefix("/", "web"))))
	framework.ExpectRoute(t, c, "stats.example", "/", http.StatusOK, "web")
	framework.Eventually(t, framework.RouteTimeout, func() error {
		r, err := framework.TryGetURL(c.StatsURL+"/metrics", "")
		if err != nil {
			return err
		}
		body := string(r.Body)
		if r.Status != http.StatusOK || !strings.Contains(body, "haproxy_process_") || !strings.Contains(body, `proxy="`+ns+`_web_http"`) {
			return fmt.Errorf("stats /metrics: status %d, %d bytes without the expected series", r.Status, len(body))
		}
		return nil
	})
}
