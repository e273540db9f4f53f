package gateway

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// poolMode reports whether Gateways get addresses of their own.
func (o Options) poolMode() bool { return o.AddressPool.IsValid() }

// specAddresses reads spec.addresses. In pool mode, IPAddress values inside the pool are the
// Gateway's addresses, and an empty value asks for one; in shared mode, only the published
// addresses (or empty values) can be asked for. Anything else is UnsupportedAddress.
func (t *translator) specAddresses(g *gw) {
	if len(g.obj.Spec.Addresses) == 0 {
		g.wantAuto = true
		return
	}
	for i, a := range g.obj.Spec.Addresses {
		typ := gatewayv1.IPAddressType
		if a.Type != nil {
			typ = *a.Type
		}
		where := fmt.Sprintf("spec.addresses[%d]", i)
		if !t.o.poolMode() {
			if a.Value == "" || slices.Contains(t.o.PublishedAddresses, a.Value) {
				continue
			}
			g.refuse(gatewayv1.GatewayReasonUnsupportedAddress, "%s: %q is not an address of this controller (%s); Gateways share its published addresses",
				where, clip(a.Value), strings.Join(t.o.PublishedAddresses, ", "))
			return
		}
		if typ != gatewayv1.IPAddressType {
			g.refuse(gatewayv1.GatewayReasonUnsupportedAddress, "%s: type %q is not supported: only IPAddress, from %s", where, clip(string(typ)), t.o.AddressPool)
			return
		}
		if a.Value == "" {
			g.wantAuto = true
			continue
		}
		addr, err := netip.ParseAddr(a.Value)
		if err != nil || addr.Zone() != "" || !t.o.AddressPool.Contains(addr.Unmap()) {
			g.refuse(gatewayv1.GatewayReasonUnsupportedAddress, "%s: %q is not an address of the Gateway address pool %s", where, clip(a.Value), t.o.AddressPool)
			return
		}
		if addr = addr.Unmap(); !slices.Contains(g.addrs, addr) {
			g.addrs = append(g.addrs, addr)
		}
	}
}

// assignAddresses gives the accepted Gateways their addresses. Shared mode: the published
// addresses. Pool mode: the addresses asked for in spec.addresses, oldest Gateway first (an
// address already taken makes the later Gateway unprogrammed, AddressNotUsable); then each
// Gateway that asks for none keeps the address in its status if it is in the pool and free, and
// the others get the lowest free address, oldest Gateway first.
func (t *translator) assignAddresses() {
	if !t.o.poolMode() {
		var st []gatewayv1.GatewayStatusAddress
		for _, a := range t.o.PublishedAddresses {
			st = append(st, statusAddress(a))
		}
		for _, g := range t.gws {
			if g.accepted {
				g.statusAddrs = st
			}
		}
		return
	}
	taken := map[netip.Addr]*gw{}
	for _, g := range t.gws {
		if !g.accepted {
			g.addrs = nil
			continue
		}
		var mine []netip.Addr
		for _, a := range g.addrs {
			if holder, ok := taken[a]; ok {
				g.notAddressed = gatewayv1.GatewayReasonAddressNotUsable
				g.notAddressMsg = fmt.Sprintf("address %s is used by the older Gateway %s", a, holder.key)
				continue
			}
			taken[a] = g
			mine = append(mine, a)
		}
		if g.notAddressed != "" {
			mine = nil
		}
		g.addrs = mine
	}
	var pending []*gw
	for _, g := range t.gws {
		if !g.accepted || !g.wantAuto || len(g.addrs) > 0 || g.notAddressed != "" {
			continue
		}
		kept := false
		for _, sa := range g.obj.Status.Addresses {
			if sa.Type != nil && *sa.Type != gatewayv1.IPAddressType {
				continue
			}
			a, err := netip.ParseAddr(sa.Value)
			if err != nil || !t.usable(a) || taken[a] != nil {
				continue
			}
			taken[a], g.addrs, kept = g, []netip.Addr{a}, true
			break
		}
		if !kept {
			pending = append(pending, g)
		}
	}
	next := t.o.AddressPool.Masked().Addr()
	for _, g := range pending {
		for next.IsValid() && t.o.AddressPool.Contains(next) && (!t.usable(next) || taken[next] != nil) {
			next = next.Next()
		}
		if !next.IsValid() || !t.o.AddressPool.Contains(next) {
			g.notAddressed = gatewayv1.GatewayReasonAddressNotAssigned
			g.notAddressMsg = fmt.Sprintf("the Gateway address pool %s has no free address", t.o.AddressPool)
			t.problem(g.ref, diag.Warning, string(g.notAddressed), "%s; the Gateway is not served", g.notAddressMsg)
			continue
		}
		taken[next], g.addrs = g, []netip.Addr{next}
	}
	for _, g := range t.gws {
		if g.notAddressed == gatewayv1.GatewayReasonAddressNotUsable {
			t.problem(g.ref, diag.Warning, string(g.notAddressed), "%s; the Gateway is not served", g.notAddressMsg)
		}
		for _, a := range g.addrs {
			g.statusAddrs = append(g.statusAddrs, statusAddress(a.String()))
		}
	}
}

// usable reports an address of the pool that a Gateway can have: in the pool, and for an IPv4
// pool of more than two addresses, neither its network nor its broadcast address.
func (t *translator) usable(a netip.Addr) bool {
	p := t.o.AddressPool
	a = a.Unmap()
	if !p.Contains(a) {
		return false
	}
	if a.Is4() && p.Bits() <= 30 {
		if a == p.Masked().Addr() {
			return false
		}
		b := a.As4()
		last := p.Masked().Addr().As4()
		for i := range last {
			hostBits := max(0, min(8, p.Bits()-8*i))
			last[i] |= byte(0xff >> hostBits)
		}
		if b == last {
			return false
		}
	}
	return true
}

// statusAddress is an address as Gateway status lists it: IPAddress or Hostname.
func statusAddress(v string) gatewayv1.GatewayStatusAddress {
	typ := gatewayv1.HostnameAddressType
	if _, err := netip.ParseAddr(v); err == nil {
		typ = gatewayv1.IPAddressType
	}
	return gatewayv1.GatewayStatusAddress{Type: &typ, Value: v}
}

// bindKey is where a bind listens. def marks the controller's own listeners (shared mode, ports
// 80 and 443), whose routes are in the default table.
type bindKey struct {
	addr netip.Addr
	port uint16
	def  bool
}

// bind is one address:port that Gateway listeners are served on: a model.Listener and its route
// table.
type bind struct {
	key   bindKey
	name  string
	table string
	proto model.Protocol
	bind  model.Bind
	// owner is the first Gateway that made the bind.
	owner   *gw
	sources []diag.Object
	// certs are the certificates served, the first the default; sni holds their names.
	certs []model.Certificate
	sni   map[string]bool
}

func (b *bind) describe() string {
	if b.key.def {
		return fmt.Sprintf("the controller's %s listener", b.name)
	}
	if b.key.addr.IsValid() && !b.key.addr.IsUnspecified() {
		return netip.AddrPortFrom(b.key.addr, b.key.port).String()
	}
	return fmt.Sprintf("port %d", b.key.port)
}

// modelListener is the bind's listener, or false when it has none of its own (the controller's
// HTTP listener) or cannot be served (HTTPS without a certificate).
func (b *bind) modelListener() (model.Listener, bool) {
	l := model.Listener{Name: b.name, Bind: b.bind, Protocol: b.proto, Table: b.table, Sources: b.sources}
	if b.proto == model.HTTPS {
		if len(b.certs) == 0 {
			return l, false
		}
		l.TLS = &model.ListenerTLS{Default: b.certs[0]}
		l.TLS.Default.SNI = nil
		for _, c := range b.certs {
			if len(c.SNI) > 0 {
				l.TLS.Certificates = append(l.TLS.Certificates, c)
			}
		}
	}
	if b.proto == model.TCP {
		l.Table = "" // TLS passthrough: TCPRoutes by SNI, no route table
	}
	if b.key.def {
		if b.proto == model.HTTP {
			return l, false
		}
		l.Table, l.Sources = "", nil
	}
	return l, true
}

// bindListener finds or makes the binds of an accepted listener: one per Gateway address (pool
// mode), or in shared mode the controller's HTTP listener (port 80), its HTTPS listener (443),
// or a bind of its own on any other port. A port that another Gateway uses with another
// protocol, or that the controller uses, is PortUnavailable.
func (t *translator) bindListener(g *gw, l *lis) {
	port := uint16(l.spec.Port)
	proto := l.protocol()
	var keys []bindKey
	switch {
	case t.o.poolMode():
		for _, a := range g.addrs {
			keys = append(keys, bindKey{addr: a, port: port})
		}
	case port == 80 && t.o.HTTP.Port != 0:
		if proto != model.HTTP {
			l.refuse(gatewayv1.ListenerReasonPortUnavailable, "port 80 is the controller's HTTP listener: it serves HTTP only")
			return
		}
		keys = append(keys, bindKey{port: 80, def: true})
	case port == 443 && t.o.HTTPS.Port != 0:
		if proto != model.HTTPS && proto != model.TCP {
			l.refuse(gatewayv1.ListenerReasonPortUnavailable, "port 443 is the controller's HTTPS listener: it serves HTTPS and TLS passthrough only")
			return
		}
		// TLS passthrough on the shared 443: TLSRoutes are SNI entries of the controller's
		// HTTPS listener, as ssl-passthrough Ingresses are (tlsroutes.go).
		proto = model.HTTPS
		keys = append(keys, bindKey{port: 443, def: true})
	default:
		keys = append(keys, bindKey{addr: t.o.HTTP.Address, port: port})
	}
	if len(keys) == 0 {
		return // the Gateway has no address (its Programmed condition says why)
	}
	if !keys[0].def && t.reservedPort(port) {
		l.refuse(gatewayv1.ListenerReasonPortUnavailable, "port %d is used by the controller itself", port)
		return
	}
	for _, k := range keys {
		if b, ok := t.binds[k]; ok && b.proto != proto {
			l.refuse(gatewayv1.ListenerReasonPortUnavailable, "%s is used with protocol %s by the Gateway %s", b.describe(), b.proto, b.owner.key)
			return
		}
	}
	for _, k := range keys {
		b, ok := t.binds[k]
		if !ok {
			b = t.newBind(k, proto, g)
			t.binds[k] = b
			t.bindOrder = append(t.bindOrder, b)
		}
		if !slices.Contains(b.sources, g.ref) {
			b.sources = append(b.sources, g.ref)
		}
		l.binds = append(l.binds, b)
		t.addCertificates(b, l)
	}
}

// reservedPort reports a port the controller's own listeners bind on every address: the
// Reserved ones, and in shared mode those of its HTTP and HTTPS listeners too.
func (t *translator) reservedPort(p uint16) bool {
	return slices.Contains(t.o.Reserved, p) || !t.o.poolMode() && p != 0 && (p == t.o.HTTP.Port || p == t.o.HTTPS.Port)
}

func (t *translator) newBind(k bindKey, proto model.Protocol, g *gw) *bind {
	b := &bind{key: k, proto: proto, owner: g, sni: map[string]bool{}}
	switch {
	case k.def && proto == model.HTTP:
		b.name, b.bind = t.o.HTTPListener, t.o.HTTP
	case k.def:
		b.name, b.bind = t.o.HTTPSListener, t.o.HTTPS
	case t.o.poolMode():
		b.name = "gw-" + addrLabel(k.addr) + "-p" + strconv.Itoa(int(k.port))
		b.bind = model.Bind{Address: k.addr, Port: k.port}
		b.table = b.name
	default:
		b.name = "gw-p" + strconv.Itoa(int(k.port))
		b.bind = model.Bind{Address: k.addr, Port: k.port}
		b.table = b.name
	}
	return b
}

// addrLabel writes an address with [a-z0-9-] only: 10.66.0.3 is 10-66-0-3, fd00::1 is fd00--1.
func addrLabel(a netip.Addr) string {
	return strings.NewReplacer(".", "-", ":", "-").Replace(a.String())
}
