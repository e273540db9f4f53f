package gateway_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/gateway"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// tlsGateway has a TLS passthrough listener for *.example.com on port 443 and one without
// hostname on 8443, taking TLSRoutes of every namespace.
const tlsGateway = `
kind: Gateway
metadata: {namespace: infra, name: tls}
spec:
  gatewayClassName: ours
  listeners:
  - {name: wild, port: 443, protocol: TLS, hostname: "*.example.com", tls: {mode: Passthrough}, allowedRoutes: {namespaces: {from: All}}}
  - {name: any, port: 9443, protocol: TLS, tls: {mode: Passthrough}, allowedRoutes: {namespaces: {from: All}}}
`

// tcpLines writes the TCP routes of a result: "listener|SNI|multi|backend".
func tcpLines(cfg model.Config) []string {
	var out []string
	for _, rt := range cfg.TCPRoutes {
		out = append(out, fmt.Sprintf("%s|%s|%t|%s", rt.Listener, rt.SNI, rt.MultiLabel, rt.Backend))
	}
	return out
}

func tlsRoute(ns, name, parent, hostnames, backends string) string {
	return fmt.Sprintf(`
kind: TLSRoute
metadata: {namespace: %s, name: %s, generation: 2}
spec:
  parentRefs: [%s]
  hostnames: %s
  rules: [{backendRefs: %s}]
`, ns, name, parent, hostnames, backends)
}

// TLSRoutes become TCP routes by SNI: each hostname intersected with the listener's, to the
// passthrough backend (tls_ prefix) of the first backendRef. In pool mode each bind is a TCP
// listener of its own; in shared mode port 443 is the controller's HTTPS listener.
func TestTLSRoutes(t *testing.T) {
	cases := []struct {
		name      string
		opts      gateway.Options
		route     string
		want      []string
		accepted  string
		refs      string
		listeners []string
	}{
		{
			name:      "pool: exact and wildcard hosts on both listeners",
			opts:      poolOptions(),
			route:     tlsRoute("infra", "r", "{name: tls}", `[a.example.com, "*.example.com", other.org]`, "[{name: web, port: 8080}]"),
			accepted:  "Accepted=True/Accepted",
			refs:      "ResolvedRefs=True/ResolvedRefs",
			listeners: []string{"gw-10-66-0-1-p443|TCP", "gw-10-66-0-1-p9443|TCP"},
			want: []string{
				"gw-10-66-0-1-p443|*.example.com|true|tls_infra_web_8080",
				"gw-10-66-0-1-p443|a.example.com|false|tls_infra_web_8080",
				"gw-10-66-0-1-p9443|*.example.com|true|tls_infra_web_8080",
				"gw-10-66-0-1-p9443|a.example.com|false|tls_infra_web_8080",
				"gw-10-66-0-1-p9443|other.org|false|tls_infra_web_8080",
			},
		},
		{
			name:      "pool: no hostname takes every connection of a listener without one",
			opts:      poolOptions(),
			route:     tlsRoute("apps", "r", "{name: tls, namespace: infra, sectionName: any}", "[]", "[{name: app, port: 8080}]"),
			accepted:  "Accepted=True/Accepted",
			refs:      "ResolvedRefs=True/ResolvedRefs",
			listeners: []string{"gw-10-66-0-1-p443|TCP", "gw-10-66-0-1-p9443|TCP"},
			want:      []string{"gw-10-66-0-1-p9443||false|tls_apps_app_8080"},
		},
		{
			name:      "shared: 443 joins the controller's HTTPS listener, 9443 a TCP listener",
			opts:      sharedOptions(),
			route:     tlsRoute("infra", "r", "{name: tls}", `["*.example.com"]`, "[{name: web, port: 8080}]"),
			accepted:  "Accepted=True/Accepted",
			refs:      "ResolvedRefs=True/ResolvedRefs",
			listeners: []string{"gw-p9443|TCP"},
			want: []string{
				"gw-p9443|*.example.com|true|tls_infra_web_8080",
				"https|*.example.com|true|tls_infra_web_8080",
			},
		},
		{
			name:      "missing Service: accepted, no route (connections refused)",
			opts:      poolOptions(),
			route:     tlsRoute("infra", "r", "{name: tls}", `[a.example.com]`, "[{name: nope, port: 8080}]"),
			accepted:  "Accepted=True/Accepted",
			refs:      "ResolvedRefs=False/BackendNotFound",
			listeners: []string{"gw-10-66-0-1-p443|TCP", "gw-10-66-0-1-p9443|TCP"},
		},
		{
			name:      "cross-namespace backend without ReferenceGrant",
			opts:      poolOptions(),
			route:     tlsRoute("apps", "r", "{name: tls, namespace: infra}", `[a.example.com]`, "[{name: web, namespace: infra, port: 8080}]"),
			accepted:  "Accepted=True/Accepted",
			refs:      "ResolvedRefs=False/RefNotPermitted",
			listeners: []string{"gw-10-66-0-1-p443|TCP", "gw-10-66-0-1-p9443|TCP"},
		},
		{
			name:      "several backends: the first takes every connection",
			opts:      poolOptions(),
			route:     tlsRoute("infra", "r", "{name: tls, sectionName: wild}", `[a.example.com]`, "[{name: web, port: 8080}, {name: api, port: 8080}]"),
			accepted:  "Accepted=True/Accepted",
			refs:      "ResolvedRefs=True/ResolvedRefs",
			listeners: []string{"gw-10-66-0-1-p443|TCP", "gw-10-66-0-1-p9443|TCP"},
			want:      []string{"gw-10-66-0-1-p443|a.example.com|false|tls_infra_web_8080"},
		},
		{
			name:      "no hostname in common",
			opts:      poolOptions(),
			route:     tlsRoute("infra", "r", "{name: tls, sectionName: wild}", `[a.example.org]`, "[{name: web, port: 8080}]"),
			accepted:  "Accepted=False/NoMatchingListenerHostname",
			refs:      "ResolvedRefs=True/ResolvedRefs",
			listeners: []string{"gw-10-66-0-1-p443|TCP", "gw-10-66-0-1-p9443|TCP"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := objects(t, classes, backendsYAML, tlsGateway, tc.route)
			var res gateway.Result
			if tc.opts.AddressPool.IsValid() {
				res = translate(t, s, tc.opts)
			} else {
				// Shared mode: the controller's HTTPS listener comes from the Ingress source.
				res = gateway.Translate(s, tc.opts)
				crt, key := testCertificate()
				pem := append(append([]byte{}, crt...), key...)
				ing := model.Config{Listeners: []model.Listener{{Name: "https", Bind: tc.opts.HTTPS, Protocol: model.HTTPS,
					TLS: &model.ListenerTLS{Default: model.Certificate{Name: model.CertName(pem), PEM: pem}}}}}
				cfg, probs := model.Compose([]model.Config{ing, res.Config}, nil)
				if len(probs) > 0 {
					t.Errorf("compose: %v", probs)
				}
				if _, rej := haproxy.Prune(cfg); len(rej) > 0 {
					t.Errorf("the renderer refuses: %v", rej)
				}
			}
			if got := tcpLines(res.Config); !slices.Equal(got, tc.want) {
				t.Errorf("TCP routes:\n got %q\nwant %q", got, tc.want)
			}
			var ls []string
			for _, l := range res.Config.Listeners {
				ls = append(ls, l.Name+"|"+string(l.Protocol))
				if l.Protocol == model.TCP && l.Table != "" {
					t.Errorf("TCP listener %s has table %q", l.Name, l.Table)
				}
			}
			if !slices.Equal(ls, tc.listeners) {
				t.Errorf("listeners: got %q, want %q", ls, tc.listeners)
			}
			ps := res.Status.TLSRoutes[nn(routeNS(tc.route), "r")]
			if len(ps) != 1 {
				t.Fatalf("status parents: %+v", ps)
			}
			if got := condString(ps[0].Conditions, "Accepted"); got != tc.accepted {
				t.Errorf("Accepted: got %s, want %s", got, tc.accepted)
			}
			if got := condString(ps[0].Conditions, "ResolvedRefs"); got != tc.refs {
				t.Errorf("ResolvedRefs: got %s, want %s", got, tc.refs)
			}
			if ps[0].Conditions[0].ObservedGeneration != 2 {
				t.Errorf("observedGeneration %d, want 2", ps[0].Conditions[0].ObservedGeneration)
			}
		})
	}
}

// routeNS is the namespace of a tlsRoute document.
func routeNS(doc string) string {
	rest := strings.TrimPrefix(doc, "\nkind: TLSRoute\nmetadata: {namespace: ")
	ns, _, _ := strings.Cut(rest, ",")
	return ns
}

// TLS listeners take TLSRoutes only, and Passthrough only (TLSRouteListenerTerminateNotSupported,
// TLSRouteListenerPassthroughSupportedKinds, TLSRouteInvalidNoMatchingListener).
func TestTLSListeners(t *testing.T) {
	gws := `
kind: Gateway
metadata: {namespace: infra, name: g}
spec:
  gatewayClassName: ours
  listeners:
  - {name: terminate, port: 443, protocol: TLS, hostname: t.example.com, tls: {mode: Terminate, certificateRefs: [{name: c}]}}
  - {name: kinds, port: 443, protocol: TLS, hostname: k.example.com, tls: {mode: Passthrough}, allowedRoutes: {kinds: [{kind: TLSRoute}, {kind: TCPRoute}]}}
  - {name: http, port: 80, protocol: HTTP}
`
	route := tlsRoute("infra", "r", "{name: g, sectionName: http}", `[a.example.com]`, "[{name: web, port: 8080}]")
	httpRoute := `
kind: HTTPRoute
metadata: {namespace: infra, name: h}
spec:
  parentRefs: [{name: g, sectionName: kinds}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
`
	grpcRoute := `
kind: GRPCRoute
metadata: {namespace: infra, name: g}
spec:
  parentRefs: [{name: g, sectionName: kinds}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
`
	res := translate(t, objects(t, classes, backendsYAML, gws, route, httpRoute, grpcRoute), poolOptions())
	term := listenerStatus(t, res, nn("infra", "g"), "terminate")
	if got := condString(term.Conditions, "Accepted"); got != "Accepted=False/UnsupportedValue" {
		t.Errorf("Terminate listener: %s", got)
	}
	if len(term.SupportedKinds) != 0 {
		t.Errorf("Terminate listener supportedKinds %v, want none", term.SupportedKinds)
	}
	kinds := listenerStatus(t, res, nn("infra", "g"), "kinds")
	if got := condString(kinds.Conditions, "ResolvedRefs"); got != "ResolvedRefs=False/InvalidRouteKinds" {
		t.Errorf("kinds listener: %s", got)
	}
	if len(kinds.SupportedKinds) != 1 || kinds.SupportedKinds[0].Kind != "TLSRoute" {
		t.Errorf("kinds listener supportedKinds %v, want TLSRoute", kinds.SupportedKinds)
	}
	if got := condString(res.Status.TLSRoutes[nn("infra", "r")][0].Conditions, "Accepted"); got != "Accepted=False/NotAllowedByListeners" {
		t.Errorf("TLSRoute on an HTTP listener: %s", got)
	}
	if got := condString(res.Status.HTTPRoutes[nn("infra", "h")][0].Conditions, "Accepted"); got != "Accepted=False/NotAllowedByListeners" {
		t.Errorf("HTTPRoute on a TLS listener: %s", got)
	}
	if got := condString(res.Status.GRPCRoutes[nn("infra", "g")][0].Conditions, "Accepted"); got != "Accepted=False/NotAllowedByListeners" {
		t.Errorf("GRPCRoute on a TLS listener: %s", got)
	}
	var httpKinds []string
	for _, k := range listenerStatus(t, res, nn("infra", "g"), "http").SupportedKinds {
		httpKinds = append(httpKinds, string(k.Kind))
	}
	if !slices.Equal(httpKinds, []string{"HTTPRoute", "GRPCRoute"}) {
		t.Errorf("HTTP listener supportedKinds %v, want HTTPRoute and GRPCRoute", httpKinds)
	}
	if len(res.Config.TCPRoutes) != 0 || len(res.Config.HTTPRoutes) != 0 {
		t.Errorf("routes: %v %v", res.Config.TCPRoutes, res.Config.HTTPRoutes)
	}
}
