package k8s

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func lbIPs(ips ...string) []networkingv1.IngressLoadBalancerIngress {
	var out []networkingv1.IngressLoadBalancerIngress
	for _, ip := range ips {
		out = append(out, networkingv1.IngressLoadBalancerIngress{IP: ip})
	}
	return out
}

func node(name string, addrs ...corev1.NodeAddress) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Addresses: addrs}}
}

func TestStatusAddresses(t *testing.T) {
	nodes := []*corev1.Node{
		node("b", corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.0.2"}, corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "203.0.113.2"}),
		node("a", corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.0.1"}, corev1.NodeAddress{Type: corev1.NodeHostName, Address: "a"}),
	}
	svc := func(typ corev1.ServiceType) *corev1.Service {
		return &corev1.Service{Spec: corev1.ServiceSpec{Type: typ, ClusterIP: "10.96.0.10"}}
	}
	lb := svc(corev1.ServiceTypeLoadBalancer)
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.7"}, {Hostname: "lb.example.com"}}
	for _, tc := range []struct {
		name  string
		opts  StatusOptions
		svc   *corev1.Service
		nodes []*corev1.Node
		want  []networkingv1.IngressLoadBalancerIngress
	}{
		{"a NodePort service publishes the nodes' internal addresses, sorted", StatusOptions{}, svc(corev1.ServiceTypeNodePort), nodes, lbIPs("10.0.0.1", "10.0.0.2")},
		{"the node address type can be ExternalIP", StatusOptions{NodeAddressType: corev1.NodeExternalIP}, svc(corev1.ServiceTypeNodePort), nodes, lbIPs("203.0.113.2")},
		{"a LoadBalancer service publishes its ingress IPs and host names", StatusOptions{}, lb, nodes,
			[]networkingv1.IngressLoadBalancerIngress{{Hostname: "lb.example.com"}, {IP: "192.0.2.7"}}},
		{"a ClusterIP service publishes its cluster IP", StatusOptions{}, svc(corev1.ServiceTypeClusterIP), nil, lbIPs("10.96.0.10")},
		{"fixed addresses win over the service", StatusOptions{Addresses: []string{"192.0.2.1", "ingress.example.com", "192.0.2.1"}}, lb, nodes,
			[]networkingv1.IngressLoadBalancerIngress{{Hostname: "ingress.example.com"}, {IP: "192.0.2.1"}}},
		{"a missing service publishes nothing", StatusOptions{}, nil, nodes, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := StatusAddresses(tc.opts, tc.svc, tc.nodes)
			if !sameAddresses(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStatusChanges(t *testing.T) {
	ing := func(name string, ips ...string) *networkingv1.Ingress {
		i := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}}
		i.Status.LoadBalancer.Ingress = lbIPs(ips...)
		return i
	}
	key := func(name string) types.NamespacedName { return types.NamespacedName{Namespace: "ns", Name: name} }
	ours := lbIPs("10.0.0.1")
	ings := []*networkingv1.Ingress{
		ing("fresh"),                   // ours, no status yet: write
		ing("current", "10.0.0.1"),     // ours, already right: nothing
		ing("stale", "10.0.0.9"),       // ours, other address: write
		ing("left", "10.0.0.1"),        // no longer ours, holds our addresses: clear
		ing("foreign", "198.51.100.1"), // not ours, another controller's status: leave
	}
	got := StatusChanges(ings, []types.NamespacedName{key("fresh"), key("current"), key("stale")}, ours)
	want := []StatusChange{{key("fresh"), ours}, {key("left"), nil}, {key("stale"), ours}}
	if !slices.EqualFunc(got, want, func(a, b StatusChange) bool { return a.Ingress == b.Ingress && sameAddresses(a.Want, b.Want) }) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}
