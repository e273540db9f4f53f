package resolve

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

func slice(name string, port int32, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	pn := "http"
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &pn, Port: &port}},
		Endpoints:   eps,
	}
}

func ep(addr string, ready, serving, terminating bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{Addresses: []string{addr}, Conditions: discoveryv1.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &terminating}}
}

// An endpoint ready in one slice and terminating in another is ready, whatever the order of the
// slices; terminating endpoints that still serve drain; the rest is left out; the order is
// canonical.
func TestServers(t *testing.T) {
	a := slice("a", 8080, ep("10.0.0.2", true, true, false), ep("10.0.0.3", false, true, true), ep("10.0.0.4", false, false, false))
	b := slice("b", 8080, ep("10.0.0.2", false, true, true), ep("10.0.0.1", true, true, false))
	sp := corev1.ServicePort{Name: "http", Port: 80}
	want := []model.Server{
		{Address: netip.MustParseAddr("10.0.0.1"), Port: 8080},
		{Address: netip.MustParseAddr("10.0.0.2"), Port: 8080},
		{Address: netip.MustParseAddr("10.0.0.3"), Port: 8080, Draining: true},
	}
	for _, order := range [][]*discoveryv1.EndpointSlice{{a, b}, {b, a}} {
		if got := Servers(order, sp); !slices.Equal(got, want) {
			t.Errorf("Servers(%s, %s) = %v, want %v", order[0].Name, order[1].Name, got, want)
		}
	}
	c := New(nil, []*discoveryv1.EndpointSlice{a, b}, nil)
	if got := c.Servers(types.NamespacedName{Namespace: "ns", Name: "web"}, sp); !slices.Equal(got, want) {
		t.Errorf("Cluster.Servers = %v, want %v", got, want)
	}
}

// Secrets are decoded once per pass: the second look-up returns the first result, even when the
// Secret object changes in between (a snapshot does not change).
func TestSecretsDecodedOncePerPass(t *testing.T) {
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ca"}, Data: map[string][]byte{"ca.crt": []byte("not PEM")}}
	c := New(nil, nil, []*corev1.Secret{sec})
	key := types.NamespacedName{Namespace: "ns", Name: "ca"}
	_, err1 := c.CABundle(key)
	if err1 == nil {
		t.Fatal("a ca.crt without a certificate was accepted")
	}
	sec.Data = nil // the cached result stands
	if _, err2 := c.CABundle(key); !errors.Is(err2, err1) {
		t.Errorf("second look-up gave %v, want the first result %v", err2, err1)
	}
	if _, err := c.Certificate(types.NamespacedName{Namespace: "ns", Name: "missing"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing Secret: %v, want ErrNotFound", err)
	}
}
