package gateway_test

import (
	"fmt"
	"strings"
	"testing"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func gatewayYAML(name, extra string) string {
	return fmt.Sprintf(`
kind: Gateway
metadata: {namespace: infra, name: %s}
spec:
  gatewayClassName: ours
  listeners: [{name: http, port: 80, protocol: HTTP}]
%s`, name, extra)
}

func addresses(st gatewayv1.GatewayStatus) string {
	var out []string
	for _, a := range st.Addresses {
		typ := "nil"
		if a.Type != nil {
			typ = string(*a.Type)
		}
		out = append(out, typ+":"+a.Value)
	}
	return strings.Join(out, ",")
}

// Pool mode: each Gateway gets an address of its own, stable across passes: the one in its status
// if it is in the pool and free, else the lowest free one, oldest Gateway first. Addresses asked
// for in spec.addresses go first; an address outside the pool, or of another type, is refused.
func TestPoolAddresses(t *testing.T) {
	cases := []struct {
		name     string
		gateways []string
		// want is each Gateway's status addresses, Accepted and Programmed conditions.
		want map[string]string
	}{{
		name:     "lowest free, oldest first, skipping the network address",
		gateways: []string{gatewayYAML("a", ""), gatewayYAML("b", "")},
		want: map[string]string{
			"a": "IPAddress:10.66.0.1 Accepted=True/Accepted Programmed=True/Programmed",
			"b": "IPAddress:10.66.0.2 Accepted=True/Accepted Programmed=True/Programmed",
		},
	}, {
		name: "status addresses are kept",
		gateways: []string{
			gatewayYAML("a", "status: {addresses: [{type: IPAddress, value: 10.66.0.5}]}"),
			gatewayYAML("b", "status: {addresses: [{type: IPAddress, value: 10.66.0.5}]}"),
			gatewayYAML("c", "status: {addresses: [{type: IPAddress, value: 10.99.0.1}]}"),
		},
		want: map[string]string{
			"a": "IPAddress:10.66.0.5",
			"b": "IPAddress:10.66.0.1",
			"c": "IPAddress:10.66.0.2",
		},
	}, {
		name: "spec addresses first",
		gateways: []string{
			gatewayYAML("a", ""),
			gatewayYAML("b", "  addresses: [{type: IPAddress, value: 10.66.0.1}]"),
			gatewayYAML("c", "  addresses: [{value: 10.66.0.1}]"),
			gatewayYAML("d", "  addresses: [{type: IPAddress, value: \"\"}]"),
		},
		want: map[string]string{
			"a": "IPAddress:10.66.0.2",
			"b": "IPAddress:10.66.0.1 Programmed=True/Programmed",
			"c": " Accepted=True/Accepted Programmed=False/AddressNotUsable",
			"d": "IPAddress:10.66.0.3",
		},
	}, {
		name: "unsupported addresses",
		gateways: []string{
			gatewayYAML("outside", "  addresses: [{type: IPAddress, value: 10.99.0.1}]"),
			gatewayYAML("hostname", "  addresses: [{type: Hostname, value: gw.example.com}]"),
			gatewayYAML("named", "  addresses: [{type: example.com/named, value: x}]"),
		},
		want: map[string]string{
			"outside":  " Accepted=False/UnsupportedAddress Programmed=False/Invalid",
			"hostname": " Accepted=False/UnsupportedAddress",
			"named":    " Accepted=False/UnsupportedAddress",
		},
	}, {
		name: "the pool runs out",
		gateways: []string{gatewayYAML("a", ""), gatewayYAML("b", ""), gatewayYAML("c", ""), gatewayYAML("d", ""),
			gatewayYAML("e", ""), gatewayYAML("f", ""), gatewayYAML("g", "")},
		want: map[string]string{
			"f": "IPAddress:10.66.0.6 Programmed=True/Programmed",
			"g": " Accepted=True/Accepted Programmed=False/AddressNotAssigned",
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := translate(t, objects(t, append([]string{classes}, c.gateways...)...), poolOptions())
			for name, want := range c.want {
				st := res.Status.Gateways[nn("infra", name)]
				got := addresses(st)
				parts := strings.Split(want, " ")
				for _, p := range parts[1:] {
					got += " " + condString(st.Conditions, p[:strings.IndexByte(p, '=')])
				}
				if got != want {
					t.Errorf("%s: %s, want %s", name, got, want)
				}
			}
		})
	}
}

// Shared mode: every Gateway's status lists the published addresses, IP addresses and host names;
// spec.addresses can only name them.
func TestSharedAddresses(t *testing.T) {
	res := translate(t, objects(t, classes,
		gatewayYAML("plain", ""),
		gatewayYAML("published", "  addresses: [{value: 192.0.2.1}]"),
		gatewayYAML("other", "  addresses: [{value: 192.0.2.99}]"),
	), sharedOptions())
	for name, want := range map[string]string{
		"plain":     "IPAddress:192.0.2.1,Hostname:lb.example.com Accepted=True/Accepted",
		"published": "IPAddress:192.0.2.1,Hostname:lb.example.com Accepted=True/Accepted",
		"other":     " Accepted=False/UnsupportedAddress",
	} {
		st := res.Status.Gateways[nn("infra", name)]
		if got := addresses(st) + " " + condString(st.Conditions, "Accepted"); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
}
