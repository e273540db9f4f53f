package gateway_test

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portcullis-ingress/portcullis/pkg/gateway"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/ingress"
)

// backendRefs: a Service port in the route's namespace, or with a ReferenceGrant in another;
// every other reference keeps its share as an unresolved backend (500) and makes ResolvedRefs
// False with the spec's reason (HTTPRouteInvalidBackendRefUnknownKind,
// HTTPRouteInvalidNonExistentBackendRef, HTTPRouteInvalidCrossNamespaceBackendRef,
// HTTPRouteInvalidReferenceGrant, HTTPRoutePartiallyInvalidViaInvalidReferenceGrant,
// HTTPRouteReferenceGrant, HTTPRouteNoBackendRefs, HTTPRouteWeight).
func TestBackendRefs(t *testing.T) {
	grant := `
kind: ReferenceGrant
metadata: {namespace: apps, name: g}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: infra}]
  to: [{group: "", kind: Service, name: app}]`
	cases := []struct {
		name, refs, extra string
		want              string // the route's backends
		refsCond          string
	}{
		{name: "same namespace", refs: `[{name: web, port: 8080}]`, want: "infra_web_8080/1", refsCond: "ResolvedRefs=True/ResolvedRefs"},
		{name: "unknown kind", refs: `[{group: unknown.example.com, kind: Unknown, name: web, port: 8080}, {name: web, port: 8080}]`,
			want: "(500)/1,infra_web_8080/1", refsCond: "ResolvedRefs=False/InvalidKind"},
		{name: "nonexistent Service", refs: `[{name: nothing, port: 8080}]`, want: "(500)/1", refsCond: "ResolvedRefs=False/BackendNotFound"},
		{name: "nonexistent port", refs: `[{name: web, port: 9999}]`, want: "(500)/1", refsCond: "ResolvedRefs=False/BackendNotFound"},
		{name: "other namespace without ReferenceGrant", refs: `[{name: app, namespace: apps, port: 8080}, {name: web, port: 8080}]`,
			want: "(500)/1,infra_web_8080/1", refsCond: "ResolvedRefs=False/RefNotPermitted"},
		{name: "other namespace with ReferenceGrant", refs: `[{name: app, namespace: apps, port: 8080}]`, extra: grant,
			want: "apps_app_8080/1", refsCond: "ResolvedRefs=True/ResolvedRefs"},
		{name: "ReferenceGrant for another Service", refs: `[{name: app, namespace: apps, port: 8080}]`, extra: strings.Replace(grant, "name: app}", "name: other}", 1),
			want: "(500)/1", refsCond: "ResolvedRefs=False/RefNotPermitted"},
		{name: "no backendRefs", refs: `[]`, want: "(500)/1", refsCond: "ResolvedRefs=True/ResolvedRefs"},
		{name: "weights", refs: `[{name: web, port: 8080, weight: 70}, {name: api, port: 8080, weight: 30}, {name: app, namespace: apps, port: 8080, weight: 0}]`,
			extra: grant, want: "infra_web_8080/70,infra_api_8080/30,apps_app_8080/0", refsCond: "ResolvedRefs=True/ResolvedRefs"},
		{name: "large weights are scaled", refs: `[{name: web, port: 8080, weight: 1000000}, {name: api, port: 8080, weight: 1}]`,
			want: "infra_web_8080/256,infra_api_8080/1", refsCond: "ResolvedRefs=True/ResolvedRefs"},
		{name: "every weight zero", refs: `[{name: web, port: 8080, weight: 0}]`, want: "(500)/1", refsCond: "ResolvedRefs=True/ResolvedRefs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := translate(t, objects(t, classes, backendsYAML, attachGateways, c.extra, `
kind: HTTPRoute
metadata: {namespace: infra, name: r}
spec:
  parentRefs: [{name: same}]
  rules: [{backendRefs: `+c.refs+`}]`), sharedOptions())
			got := routeLines(res.Config)
			if len(got) != 1 || !strings.HasSuffix(got[0], "-> "+strings.ReplaceAll(c.want, ",", ", ")) {
				t.Errorf("routes %v, want backends %s", got, c.want)
			}
			st := parentStatus(t, res, nn("infra", "r"), nn("infra", "same"), "")
			if g := condString(st.Conditions, "ResolvedRefs"); g != c.refsCond {
				t.Errorf("%s, want %s", g, c.refsCond)
			}
			if g := condString(st.Conditions, "Accepted"); g != "Accepted=True/Accepted" {
				t.Errorf("%s", g)
			}
			// Every backend named is in the fragment, with its servers.
			for _, rt := range res.Config.HTTPRoutes {
				for _, wb := range rt.Backends {
					if b, ok := res.Config.Backend(wb.Name); wb.Name != "" && (!ok || len(b.Servers) != 1) {
						t.Errorf("backend %s: %+v", wb.Name, b)
					}
				}
			}
		})
	}
}

// A Service port's backend is named and configured as the Ingress source makes it (Service
// annotations over the ConfigMap), so that Compose merges the two; its endpoints feed it.
func TestBackendsMergeWithIngress(t *testing.T) {
	s := objects(t, classes, backendsYAML, attachGateways, `
kind: ConfigMap
metadata: {namespace: system, name: portcullis}
data: {load-balance: leastconn}
---
kind: HTTPRoute
metadata: {namespace: infra, name: r}
spec:
  parentRefs: [{name: same}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]`)
	res := translate(t, s, sharedOptions())
	if len(res.Config.Backends) != 1 {
		t.Fatalf("backends %+v", res.Config.Backends)
	}
	b := res.Config.Backends[0]
	if b.Name != ingress.BackendName("infra", "web", "8080") || b.Policy.Balance.Algorithm != "leastconn" {
		t.Errorf("backend %s policy %+v", b.Name, b.Policy)
	}
	if feeds := res.Endpoints[nn("infra", "web")]; len(feeds) != 1 || feeds[0].Backend != b.Name {
		t.Errorf("endpoints feed %+v", feeds)
	}

	// The Ingress source's backend for the same Service port, from the same objects.
	ing := ingressBackendFor(t, s)
	merged, probs := model.Compose([]model.Config{{Backends: []model.Backend{ing}}, res.Config}, nil)
	for _, p := range probs {
		t.Errorf("compose: %s %s", p.Reason, p.Message)
	}
	if len(merged.Backends) != 1 {
		t.Errorf("composed backends %v", merged.Backends)
	}
	if !slices.Equal(merged.Backends[0].Servers, b.Servers) {
		t.Errorf("servers %v, want %v", merged.Backends[0].Servers, b.Servers)
	}
}

// ingressBackendFor is the Ingress source's backend for infra/web port 8080, from the Services
// and ConfigMap of s.
func ingressBackendFor(t *testing.T, s gateway.State) model.Backend {
	t.Helper()
	pt := networkingv1.PathTypePrefix
	class := "haproxy"
	res := ingress.Translate(ingress.State{
		IngressClasses: []*networkingv1.IngressClass{{ObjectMeta: metav1.ObjectMeta{Name: class}, Spec: networkingv1.IngressClassSpec{Controller: "c"}}},
		Ingresses: []*networkingv1.Ingress{{
			ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "ing"},
			Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path: "/", PathType: &pt,
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 8080}}},
				}}}},
			}}},
		}},
		ConfigMap: s.ConfigMap, Cluster: s.Cluster,
	}, ingress.Options{ControllerName: "c"})
	b, ok := res.Config.Backend(ingress.BackendName("infra", "web", "8080"))
	if !ok {
		t.Fatalf("the Ingress source made no backend: %+v", res.Config.Backends)
	}
	return b
}

// A Service port's appProtocol sets how its backend speaks to the servers, below the Service's
// own annotations and above the ConfigMap, exactly as the Ingress source does for the same port
// (HTTPRouteBackendProtocolH2C, HTTPRouteBackendProtocolWebSocket).
func TestBackendAppProtocol(t *testing.T) {
	cases := []struct {
		name, port, annotations, configMap string
		wantH2, wantTLS                    bool
	}{
		{name: "no appProtocol", port: `{name: http, port: 8080}`},
		{name: "kubernetes.io/h2c speaks HTTP/2 in cleartext", port: `{name: http, port: 8080, appProtocol: kubernetes.io/h2c}`, wantH2: true},
		{name: "kubernetes.io/h2c over the ConfigMap's server-proto h1 and server-ssl", port: `{name: http, port: 8080, appProtocol: kubernetes.io/h2c}`,
			configMap: `{server-proto: h1, server-ssl: "true"}`, wantH2: true},
		{name: "the Service's server-proto over kubernetes.io/h2c", port: `{name: http, port: 8080, appProtocol: kubernetes.io/h2c}`,
			annotations: `{portcullis.io/server-proto: h1}`},
		{name: "kubernetes.io/ws speaks HTTP/1.1 over the ConfigMap's server-proto h2", port: `{name: http, port: 8080, appProtocol: kubernetes.io/ws}`,
			configMap: `{server-proto: h2}`},
		{name: "kubernetes.io/wss speaks HTTP/1.1 over TLS", port: `{name: http, port: 8080, appProtocol: kubernetes.io/wss}`, wantTLS: true},
		{name: "an unknown appProtocol changes nothing", port: `{name: http, port: 8080, appProtocol: example.com/custom}`,
			configMap: `{server-proto: h2}`, wantH2: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			docs := []string{classes, attachGateways, `
kind: Service
metadata: {namespace: infra, name: web, annotations: ` + cmp.Or(c.annotations, "{}") + `}
spec: {ports: [` + c.port + `]}
---
kind: EndpointSlice
metadata: {namespace: infra, name: web-1, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 3000}]
endpoints: [{addresses: [10.0.0.1]}]
---
kind: HTTPRoute
metadata: {namespace: infra, name: r}
spec:
  parentRefs: [{name: same}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]`}
			if c.configMap != "" {
				docs = append(docs, `
kind: ConfigMap
metadata: {namespace: system, name: portcullis}
data: `+c.configMap)
			}
			s := objects(t, docs...)
			res := translate(t, s, sharedOptions())
			b, ok := res.Config.Backend(ingress.BackendName("infra", "web", "8080"))
			if !ok {
				t.Fatalf("no backend: %+v", res.Config.Backends)
			}
			if b.Policy.ServerH2 != c.wantH2 || (b.Policy.ServerTLS != nil) != c.wantTLS {
				t.Errorf("policy %+v, want ServerH2 %v, TLS %v", b.Policy, c.wantH2, c.wantTLS)
			}
			if ing := ingressBackendFor(t, s); !ing.Policy.Equal(b.Policy) {
				t.Errorf("the Ingress source's policy %+v differs from %+v", ing.Policy, b.Policy)
			}
		})
	}
}
