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
		if got := Servers(order, sp, AddressPolicy{}); !slices.Equal(got, want) {
			t.Errorf("Servers(%s, %s) = %v, want %v", order[0].Name, order[1].Name, got, want)
		}
	}
	c := New(nil, []*discoveryv1.EndpointSlice{a, b}, nil, AddressPolicy{})
	if got := c.Servers(types.NamespacedName{Namespace: "ns", Name: "web"}, sp); !slices.Equal(got, want) {
		t.Errorf("Cluster.Servers = %v, want %v", got, want)
	}
}

// Secrets are decoded once per pass: the second look-up returns the first result, even when the
// Secret object changes in between (a snapshot does not change).
func TestSecretsDecodedOncePerPass(t *testing.T) {
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ca"}, Data: map[string][]byte{"ca.crt": []byte("not PEM")}}
	c := New(nil, nil, []*corev1.Secret{sec}, AddressPolicy{})
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

// Endpoint addresses that HAProxy must never connect to are left out, and reported once per
// Service however many ports and backends use it; the endpoint-only path (Servers) leaves out
// the same addresses.
func TestServersRefuseAddresses(t *testing.T) {
	own := netip.MustParseAddr("10.0.0.9")
	policy := AddressPolicy{Own: []netip.Addr{own}}
	for _, tc := range []struct {
		addr, why string
	}{
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"127.0.0.1", "loopback"},
		{"127.1.2.3", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"169.254.169.254", "link-local"},
		{"fe80::1", "link-local"},
		{"224.0.0.1", "multicast"},
		{"239.1.2.3", "multicast"},
		{"ff02::1", "multicast"},
		{"10.0.0.9", "the controller's own address"},
		{"10.0.0.8", ""},
		{"198.18.1.1", ""},
		{"2001:db8::1", ""},
	} {
		if got := policy.Refuses(netip.MustParseAddr(tc.addr)); got != tc.why {
			t.Errorf("Refuses(%s) = %q, want %q", tc.addr, got, tc.why)
		}
	}

	a := slice("a", 8080, ep("10.0.0.1", true, true, false), ep("127.0.0.1", true, true, false),
		ep("169.254.169.254", true, true, false), ep("10.0.0.9", true, true, false))
	sp := corev1.ServicePort{Name: "http", Port: 80}
	want := []model.Server{{Address: netip.MustParseAddr("10.0.0.1"), Port: 8080}}
	if got := Servers([]*discoveryv1.EndpointSlice{a}, sp, policy); !slices.Equal(got, want) {
		t.Errorf("Servers = %v, want %v", got, want)
	}
	c := New(nil, []*discoveryv1.EndpointSlice{a}, nil, policy)
	web := types.NamespacedName{Namespace: "ns", Name: "web"}
	for range 3 { // three backends of the one Service
		if got := c.Servers(web, sp); !slices.Equal(got, want) {
			t.Errorf("Cluster.Servers = %v, want %v", got, want)
		}
	}
	probs := c.Problems()
	if len(probs) != 1 {
		t.Fatalf("got %d problems, want one for the Service: %v", len(probs), probs)
	}
	p := probs[0]
	wantMsg := "its EndpointSlices list endpoint addresses that HAProxy never connects to: 10.0.0.9 (the controller's own address), " +
		"127.0.0.1 (loopback), 169.254.169.254 (link-local); they get no traffic"
	if p.Object.Kind != "Service" || p.Object.Namespace != "ns" || p.Object.Name != "web" || p.Reason != "EndpointAddressRefused" || p.Message != wantMsg {
		t.Errorf("problem = %+v, want EndpointAddressRefused on Service ns/web: %s", p, wantMsg)
	}
	// A Service whose servers nobody asked for is not reported.
	if got := New(nil, []*discoveryv1.EndpointSlice{a}, nil, policy).Problems(); len(got) != 0 {
		t.Errorf("problems without a look-up: %v", got)
	}
}
