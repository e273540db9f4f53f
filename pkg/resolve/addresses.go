package resolve

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/types"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
)

// AddressPolicy decides which endpoint addresses HAProxy may connect to. Whoever can write an
// EndpointSlice (or a Service whose selector picks the pod they want) chooses where HAProxy
// connects, with the controller's own network position; the API server refuses some of these
// addresses in EndpointSlices, but not all of them and not in every version, so they are refused
// here too (defense in depth):
//
//   - unspecified (0.0.0.0, ::), loopback (127.0.0.0/8, ::1) and the controller's own addresses:
//     they reach HAProxy's and the controller's own listeners (statistics, health, metrics)
//     from inside the pod, or loop requests back into HAProxy;
//   - link-local (169.254.0.0/16, fe80::/10): cloud metadata services, which hand out the
//     node's credentials, live there;
//   - multicast (224.0.0.0/4, ff00::/8): no server answers a TCP connection there.
type AddressPolicy struct {
	// Own are the controller pod's own addresses (--pod-ip).
	Own []netip.Addr
}

// Refuses says why an endpoint address is refused, or "" when it is not.
func (p AddressPolicy) Refuses(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsMulticast():
		return "multicast"
	case slices.Contains(p.Own, a):
		return "the controller's own address"
	}
	return ""
}

// refusal is an endpoint address refused, with the reason.
type refusal struct {
	addr netip.Addr
	why  string
}

// noteRefused remembers the addresses refused among a Service's endpoints, for Problems.
func (c *Cluster) noteRefused(svc types.NamespacedName, refused []refusal) {
	if len(refused) == 0 {
		return
	}
	if c.refused == nil {
		c.refused = map[types.NamespacedName][]refusal{}
	}
	for _, r := range refused {
		if !slices.ContainsFunc(c.refused[svc], func(o refusal) bool { return o.addr == r.addr }) {
			c.refused[svc] = append(c.refused[svc], r)
		}
	}
}

// Problems reports what resolution refused during the pass, one problem per object however
// many routes and backends use it: today, the endpoint addresses refused by the AddressPolicy,
// on their Service. Only the Services whose servers were asked for are reported.
func (c *Cluster) Problems() []diag.Problem {
	svcs := make([]types.NamespacedName, 0, len(c.refused))
	for svc := range c.refused {
		svcs = append(svcs, svc)
	}
	slices.SortFunc(svcs, func(a, b types.NamespacedName) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	var out []diag.Problem
	for _, svc := range svcs {
		rs := slices.Clone(c.refused[svc])
		slices.SortFunc(rs, func(a, b refusal) int { return a.addr.Compare(b.addr) })
		var list []string
		for i, r := range rs {
			if i == maxListed {
				list = append(list, fmt.Sprintf("and %d more", len(rs)-maxListed))
				break
			}
			list = append(list, fmt.Sprintf("%s (%s)", r.addr, r.why))
		}
		out = append(out, diag.Problem{
			Object:   diag.Object{Kind: "Service", Namespace: svc.Namespace, Name: svc.Name},
			Severity: diag.Warning,
			Reason:   "EndpointAddressRefused",
			Message: fmt.Sprintf("its EndpointSlices list endpoint addresses that HAProxy never connects to: %s; they get no traffic",
				strings.Join(list, ", ")),
		})
	}
	return out
}
