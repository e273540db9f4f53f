package gateway_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// Listener conditions, one Gateway per case, after the conformance tests
// (GatewayInvalidRouteKind, GatewayInvalidTLSConfiguration, GatewayListenerUnsupportedProtocol,
// GatewaySecret*ReferenceGrant, GatewayWithAttachedRoutes).
func TestListenerConditions(t *testing.T) {
	secret := `
kind: Secret
metadata: {namespace: certs, name: tls}
type: kubernetes.io/tls
data: {tls.crt: "{CERT}", tls.key: "{KEY}"}
---
kind: Secret
metadata: {namespace: infra, name: tls}
type: kubernetes.io/tls
data: {tls.crt: "{CERT}", tls.key: "{KEY}"}
---
kind: Secret
metadata: {namespace: infra, name: malformed}
type: kubernetes.io/tls
data: {tls.crt: "bm90IGEgY2VydA==", tls.key: "bm90IGEga2V5"}`
	cases := []struct {
		name      string
		listeners string
		extra     string
		// want are the listener's conditions, "Type=Status/Reason", by listener name.
		want map[string][]string
		// gateway are the Gateway's Accepted and Programmed conditions.
		gateway []string
		kinds   map[string]int
	}{{
		name:      "valid HTTP",
		listeners: `[{name: http, port: 80, protocol: HTTP}]`,
		want:      map[string][]string{"http": {"Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs", "Programmed=True/Programmed", "Conflicted=False/NoConflicts"}},
		gateway:   []string{"Accepted=True/Accepted", "Programmed=True/Programmed"},
		kinds:     map[string]int{"http": 2},
	}, {
		name:      "only an unsupported protocol",
		listeners: `[{name: invalid, port: 1111, protocol: INVALID}]`,
		want:      map[string][]string{"invalid": {"Accepted=False/UnsupportedProtocol", "Programmed=False/Invalid"}},
		gateway:   []string{"Accepted=False/ListenersNotValid", "Programmed=False/Invalid"},
		kinds:     map[string]int{"invalid": 0},
	}, {
		name:      "supported and unsupported protocols",
		listeners: `[{name: http, port: 80, protocol: HTTP}, {name: invalid, port: 1111, protocol: INVALID}, {name: tcp, port: 80, protocol: TCP}]`,
		want: map[string][]string{
			"http":    {"Accepted=True/Accepted", "Conflicted=False/NoConflicts"},
			"invalid": {"Accepted=False/UnsupportedProtocol"},
			"tcp":     {"Accepted=False/UnsupportedProtocol"},
		},
		gateway: []string{"Accepted=True/ListenersNotValid", "Programmed=True/Programmed"},
		kinds:   map[string]int{"http": 2, "invalid": 0},
	}, {
		name: "only invalid route kinds",
		listeners: `
- {name: http, port: 80, protocol: HTTP, allowedRoutes: {kinds: [{kind: InvalidRoute}]}}`,
		want:  map[string][]string{"http": {"ResolvedRefs=False/InvalidRouteKinds"}},
		kinds: map[string]int{"http": 0},
	}, {
		name: "supported and invalid route kinds",
		listeners: `
- {name: http, port: 80, protocol: HTTP, allowedRoutes: {kinds: [{kind: InvalidRoute}, {kind: HTTPRoute}, {group: example.com, kind: HTTPRoute}]}}`,
		want:  map[string][]string{"http": {"ResolvedRefs=False/InvalidRouteKinds"}},
		kinds: map[string]int{"http": 1},
	}, {
		name: "GRPCRoute only, named twice",
		listeners: `
- {name: http, port: 80, protocol: HTTP, allowedRoutes: {kinds: [{kind: GRPCRoute}, {kind: GRPCRoute}]}}`,
		want:  map[string][]string{"http": {"ResolvedRefs=True/ResolvedRefs"}},
		kinds: map[string]int{"http": 1},
	}, {
		name: "HTTPS with a Secret",
		listeners: `
- {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: tls}]}}`,
		want: map[string][]string{"https": {"Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs", "Programmed=True/Programmed"}},
	}, {
		name: "nonexistent Secret",
		listeners: `
- {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: missing}]}}`,
		want: map[string][]string{"https": {"ResolvedRefs=False/InvalidCertificateRef", "Programmed=False/Invalid"}},
	}, {
		name: "unsupported group",
		listeners: `
- {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{group: wrong.group.company.io, kind: Secret, name: tls}]}}`,
		want: map[string][]string{"https": {"ResolvedRefs=False/InvalidCertificateRef", "Programmed=False/Invalid"}},
	}, {
		name: "unsupported kind",
		listeners: `
- {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{kind: WrongKind, name: tls}]}}`,
		want: map[string][]string{"https": {"ResolvedRefs=False/InvalidCertificateRef", "Programmed=False/Invalid"}},
	}, {
		name: "malformed Secret",
		listeners: `
- {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: malformed}]}}`,
		want: map[string][]string{"https": {"ResolvedRefs=False/InvalidCertificateRef", "Programmed=False/Invalid"}},
	}, {
		name: "no certificateRefs",
		listeners: `
- {name: https, port: 443, protocol: HTTPS}`,
		want: map[string][]string{"https": {"ResolvedRefs=False/InvalidCertificateRef", "Programmed=False/Invalid"}},
	}, {
		name: "passthrough on HTTPS",
		listeners: `
- {name: https, port: 443, protocol: HTTPS, tls: {mode: Passthrough, certificateRefs: [{name: tls}]}}`,
		want: map[string][]string{"https": {"Accepted=False/UnsupportedValue"}},
	}, {
		name: "Secret in another namespace without a ReferenceGrant",
		listeners: `
- {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: tls, namespace: certs}]}}`,
		want: map[string][]string{"https": {"ResolvedRefs=False/RefNotPermitted", "Programmed=False/Invalid"}},
	}, {
		name: "ReferenceGrant for another Secret",
		listeners: `
- {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: tls, namespace: certs}]}}`,
		extra: `
kind: ReferenceGrant
metadata: {namespace: certs, name: other}
spec:
  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: infra}]
  to: [{group: "", kind: Secret, name: not-tls}]`,
		want: map[string][]string{"https": {"ResolvedRefs=False/RefNotPermitted"}},
	}, {
		name: "ReferenceGrant from another namespace",
		listeners: `
- {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: tls, namespace: certs}]}}`,
		extra: `
kind: ReferenceGrant
metadata: {namespace: certs, name: other}
spec:
  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: apps}]
  to: [{group: "", kind: Secret}]`,
		want: map[string][]string{"https": {"ResolvedRefs=False/RefNotPermitted"}},
	}, {
		name: "ReferenceGrant for the Secret",
		listeners: `
- {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: tls, namespace: certs}]}}`,
		extra: `
kind: ReferenceGrant
metadata: {namespace: certs, name: specific}
spec:
  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: infra}]
  to: [{group: "", kind: Secret, name: tls}]`,
		want: map[string][]string{"https": {"ResolvedRefs=True/ResolvedRefs", "Programmed=True/Programmed"}},
	}, {
		name: "ReferenceGrant for every Secret of the namespace",
		listeners: `
- {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: tls, namespace: certs}]}}`,
		extra: `
kind: ReferenceGrant
metadata: {namespace: certs, name: all}
spec:
  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: infra}]
  to: [{group: "", kind: Secret}]`,
		want: map[string][]string{"https": {"ResolvedRefs=True/ResolvedRefs", "Programmed=True/Programmed"}},
	}, {
		name:      "protocol conflict",
		listeners: `[{name: a, port: 8081, protocol: HTTP}, {name: b, port: 8081, protocol: HTTPS, tls: {certificateRefs: [{name: tls}]}}, {name: c, port: 80, protocol: HTTP}]`,
		want: map[string][]string{
			"a": {"Conflicted=True/ProtocolConflict", "Accepted=False/ProtocolConflict", "Programmed=False/Invalid"},
			"b": {"Conflicted=True/ProtocolConflict"},
			"c": {"Conflicted=False/NoConflicts", "Programmed=True/Programmed"},
		},
		gateway: []string{"Accepted=True/ListenersNotValid"},
	}, {
		name:      "hostname conflict",
		listeners: `[{name: a, port: 80, protocol: HTTP, hostname: a.example.com}, {name: b, port: 80, protocol: HTTP, hostname: a.example.com}, {name: c, port: 80, protocol: HTTP, hostname: c.example.com}]`,
		want: map[string][]string{
			"a": {"Conflicted=True/HostnameConflict"},
			"b": {"Conflicted=True/HostnameConflict"},
			"c": {"Conflicted=False/NoConflicts", "Accepted=True/Accepted"},
		},
	}, {
		name:      "a port of the controller's own",
		listeners: `[{name: stats, port: 1024, protocol: HTTP}, {name: internal, port: 8443, protocol: HTTP}]`,
		want: map[string][]string{
			"stats":    {"Accepted=False/PortUnavailable"},
			"internal": {"Accepted=False/PortUnavailable"},
		},
	}, {
		name:      "HTTPS on the controller's HTTP port",
		listeners: `[{name: https, port: 80, protocol: HTTPS, tls: {certificateRefs: [{name: tls}]}}, {name: http, port: 443, protocol: HTTP}]`,
		want: map[string][]string{
			"https": {"Accepted=False/PortUnavailable"},
			"http":  {"Accepted=False/PortUnavailable"},
		},
	}, {
		name: "selector without a selector",
		listeners: `
- {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector}}}`,
		want: map[string][]string{"http": {"Accepted=False/UnsupportedValue"}},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := translate(t, objects(t, classes, secret, c.extra, `
kind: Gateway
metadata: {namespace: infra, name: gw, generation: 7}
spec:
  gatewayClassName: ours
  listeners: `+strings.ReplaceAll(c.listeners, "\n", "\n  ")), sharedOptions())
			gw := nn("infra", "gw")
			for name, want := range c.want {
				ls := listenerStatus(t, res, gw, name)
				for _, w := range want {
					typ := w[:slices.Index([]byte(w), '=')]
					if got := condString(ls.Conditions, typ); got != w {
						t.Errorf("listener %s: %s, want %s", name, got, w)
					}
					if cd, _ := cond(ls.Conditions, typ); cd.ObservedGeneration != 7 {
						t.Errorf("listener %s: %s has observedGeneration %d, want 7", name, typ, cd.ObservedGeneration)
					}
				}
				if n, ok := c.kinds[name]; ok && len(ls.SupportedKinds) != n {
					t.Errorf("listener %s: supportedKinds %v, want %d", name, ls.SupportedKinds, n)
				}
				for _, k := range ls.SupportedKinds {
					if k.Group == nil || *k.Group != "gateway.networking.k8s.io" || k.Kind != "HTTPRoute" && k.Kind != "GRPCRoute" {
						t.Errorf("listener %s: supported kind %v", name, k)
					}
				}
			}
			st := res.Status.Gateways[gw]
			for _, w := range c.gateway {
				typ := w[:slices.Index([]byte(w), '=')]
				if got := condString(st.Conditions, typ); got != w {
					t.Errorf("Gateway: %s, want %s", got, w)
				}
			}
		})
	}
}

// attachedRoutes counts the routes attached to each listener, whatever the state of the route or
// the listener; routes whose hostnames match no listener are not attached (GatewayWithAttachedRoutes).
func TestAttachedRoutes(t *testing.T) {
	res := translate(t, objects(t, classes, backendsYAML, `
kind: Gateway
metadata: {namespace: infra, name: one}
spec:
  gatewayClassName: ours
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    hostname: foo.example.com
    allowedRoutes:
      kinds: [{kind: HTTPRoute}]
      namespaces: {from: Selector, selector: {matchLabels: {kubernetes.io/metadata.name: infra}}}
---
kind: Gateway
metadata: {namespace: infra, name: two}
spec:
  gatewayClassName: ours
  listeners:
  - {name: http-unattached, port: 8081, protocol: HTTP}
  - {name: http, port: 8082, protocol: HTTP}
---
kind: Gateway
metadata: {namespace: infra, name: unresolved}
spec:
  gatewayClassName: ours
  listeners:
  - {name: tls, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: does-not-exist}]}}
---
kind: HTTPRoute
metadata: {namespace: infra, name: r1}
spec:
  parentRefs: [{name: one, sectionName: http}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
---
kind: HTTPRoute
metadata: {namespace: infra, name: r2}
spec:
  parentRefs: [{name: one, sectionName: http}, {name: two, sectionName: http}]
  rules: [{backendRefs: [{name: does-not-exist, port: 8080}]}]
---
kind: HTTPRoute
metadata: {namespace: infra, name: not-accepted}
spec:
  hostnames: [not-accepted.test.com]
  parentRefs: [{name: one}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
---
kind: HTTPRoute
metadata: {namespace: infra, name: r4}
spec:
  parentRefs: [{name: unresolved, sectionName: tls}]
  rules: [{backendRefs: [{name: does-not-exist, port: 8080}]}]
`), sharedOptions())
	for _, c := range []struct {
		gw, listener string
		want         int32
	}{{"one", "http", 2}, {"two", "http-unattached", 0}, {"two", "http", 1}, {"unresolved", "tls", 1}} {
		if got := listenerStatus(t, res, nn("infra", c.gw), c.listener).AttachedRoutes; got != c.want {
			t.Errorf("%s/%s: attachedRoutes %d, want %d", c.gw, c.listener, got, c.want)
		}
	}
	if got := condString(parentStatus(t, res, nn("infra", "not-accepted"), nn("infra", "one"), "").Conditions, "Accepted"); got != "Accepted=False/NoMatchingListenerHostname" {
		t.Errorf("not-accepted: %s", got)
	}
	if got := condString(parentStatus(t, res, nn("infra", "r4"), nn("infra", "unresolved"), "tls").Conditions, "ResolvedRefs"); got != "ResolvedRefs=False/BackendNotFound" {
		t.Errorf("r4: %s", got)
	}
	// The unresolved listener serves nothing: no certificate, no listener, no routes.
	for _, l := range res.Config.Listeners {
		if l.Protocol == model.HTTPS {
			t.Errorf("an HTTPS listener without certificate: %+v", l)
		}
	}
}
