package gateway_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// grpcBackends adds a Service whose port speaks h2c by its appProtocol, as the conformance
// suite's gRPC echo Services do.
const grpcBackends = `
kind: Service
metadata: {namespace: infra, name: grpc}
spec: {ports: [{name: grpc, port: 8080, appProtocol: kubernetes.io/h2c}]}
---
kind: EndpointSlice
metadata: {namespace: infra, name: grpc-1, labels: {kubernetes.io/service-name: grpc}}
addressType: IPv4
ports: [{name: grpc, port: 3000}]
endpoints: [{addresses: [10.0.0.9]}]
`

func grpcRoute(name, rules string) string {
	return `
kind: GRPCRoute
metadata: {namespace: infra, name: ` + name + `, generation: 3}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules:
` + rules
}

// GRPCRoute method matches become path matches on /<service>/<method>, with no method
// condition; header matches stay header matches (GRPCExactMethodMatching, GRPCRouteHeaderMatching).
func TestGRPCMatches(t *testing.T) {
	res := translate(t, objects(t, classes, backendsYAML, grpcBackends, ruleGateway, grpcRoute("g", `
  - backendRefs: [{name: grpc, port: 8080}]
  - matches:
    - method: {service: echo.Echo, method: Say}
    - method: {service: other.Svc}
    - method: {method: Ping}
    - method: {type: RegularExpression, service: "echo\\..*", method: "S.*"}
    - method: {type: RegularExpression, method: "Get.*"}
    backendRefs: [{name: grpc, port: 8080}]
  - matches:
    - headers: [{name: Version, value: two}, {type: RegularExpression, name: X-Re, value: "^a.*"}]
    backendRefs: [{name: grpc, port: 8080}]
`)), sharedOptions())
	want := []string{
		"||/|Prefix -> infra_grpc_8080/1",
		"||/|Prefix header:Version=two header:X-Re=~^a.* -> infra_grpc_8080/1",
		"||/echo.Echo/Say|Exact -> infra_grpc_8080/1",
		"||/other.Svc|Prefix -> infra_grpc_8080/1",
		"||^/([^/]+)/(Get.*)$|RegularExpression -> infra_grpc_8080/1",
		"||^/(echo\\..*)/(S.*)$|RegularExpression -> infra_grpc_8080/1",
		"||^/[^/]+/Ping$|RegularExpression -> infra_grpc_8080/1",
	}
	if got := routeLines(res.Config); !slices.Equal(got, want) {
		t.Errorf("routes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(res.Status.HTTPRoutes) != 0 {
		t.Errorf("HTTPRoute statuses %v, want none", keys(res.Status.HTTPRoutes))
	}
	parents := res.Status.GRPCRoutes[nn("infra", "g")]
	if len(parents) != 1 {
		t.Fatalf("GRPCRoute status parents %+v, want one", parents)
	}
	for _, typ := range []string{"Accepted", "ResolvedRefs"} {
		if c, _ := cond(parents[0].Conditions, typ); c.Status != "True" || c.ObservedGeneration != 3 {
			t.Errorf("%s: %+v, want True at generation 3", typ, c)
		}
	}
	if ls := listenerStatus(t, res, nn("infra", "gw"), "http"); ls.AttachedRoutes != 1 {
		t.Errorf("attachedRoutes %d, want 1", ls.AttachedRoutes)
	}
}

// A GRPCRoute's backends speak HTTP/2 to the servers. A Service port that says so by itself
// (appProtocol kubernetes.io/h2c) is the same backend an HTTPRoute makes of it; another is a
// backend of its own (suffix _h2), so that the HTTP/1 backend of an HTTPRoute or an Ingress for
// the same port does not conflict with it. Weights are an HTTPRoute's (GRPCRouteWeight).
func TestGRPCBackends(t *testing.T) {
	res := translate(t, objects(t, classes, backendsYAML, grpcBackends, ruleGateway, ruleRoute("http", `
  - backendRefs: [{name: web, port: 8080}, {name: grpc, port: 8080}]
`), grpcRoute("g", `
  - matches: [{method: {service: a.A}}]
    backendRefs: [{name: web, port: 8080, weight: 3}, {name: grpc, port: 8080, weight: 1}]
    filters:
    - {type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: X-A, value: a}]}}
    - {type: ResponseHeaderModifier, responseHeaderModifier: {remove: [X-B]}}
`)), sharedOptions())
	want := []string{
		"||/|Prefix -> infra_web_8080/1, infra_grpc_8080/1",
		"||/a.A|Prefix -> infra_web_8080_h2/3, infra_grpc_8080/1",
	}
	if got := routeLines(res.Config); !slices.Equal(got, want) {
		t.Errorf("routes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	h2 := map[string]bool{}
	for _, b := range res.Config.Backends {
		h2[b.Name] = b.Policy.ServerH2
	}
	wantH2 := map[string]bool{"infra_web_8080": false, "infra_web_8080_h2": true, "infra_grpc_8080": true}
	for name, w := range wantH2 {
		if got, ok := h2[name]; !ok || got != w {
			t.Errorf("backend %s: present %t, ServerH2 %t, want ServerH2 %t (backends %v)", name, ok, got, w, h2)
		}
	}
	var policy model.RoutePolicy
	for _, rt := range res.Config.HTTPRoutes {
		if rt.Source.Kind == "GRPCRoute" {
			policy = rt.Policy
		}
	}
	if len(policy.RequestHeaders) != 1 || policy.RequestHeaders[0] != (model.Header{Name: "X-A", Value: "a"}) ||
		!slices.Equal(policy.RemoveResponseHeaders, []string{"X-B"}) {
		t.Errorf("GRPCRoute policy %+v, want X-A set on requests and X-B removed from responses", policy)
	}
}

// Listeners that allow HTTPRoutes only do not take GRPCRoutes (NotAllowedByListeners); a
// filter GRPCRoutes do not support leaves its rule out; an unknown backend is a 500 share with
// ResolvedRefs False.
func TestGRPCRefused(t *testing.T) {
	res := translate(t, objects(t, classes, backendsYAML, grpcBackends, `
kind: Gateway
metadata: {namespace: infra, name: gw}
spec:
  gatewayClassName: ours
  listeners:
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {kinds: [{kind: HTTPRoute}]}}
  - {name: alt, port: 8081, protocol: HTTP}
`, `
kind: GRPCRoute
metadata: {namespace: infra, name: only-http}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules: [{backendRefs: [{name: grpc, port: 8080}]}]
---
kind: GRPCRoute
metadata: {namespace: infra, name: mirror}
spec:
  parentRefs: [{name: gw, sectionName: alt}]
  rules:
  - filters: [{type: RequestMirror, requestMirror: {backendRef: {name: web, port: 8080}}}]
    backendRefs: [{name: grpc, port: 8080}]
  - matches: [{method: {service: b.B}}]
    backendRefs: [{name: missing, port: 8080}]
`), sharedOptions())
	p := res.Status.GRPCRoutes[nn("infra", "only-http")]
	if len(p) != 1 || condString(p[0].Conditions, "Accepted") != "Accepted=False/NotAllowedByListeners" {
		t.Errorf("only-http status %+v, want Accepted=False/NotAllowedByListeners", p)
	}
	p = res.Status.GRPCRoutes[nn("infra", "mirror")]
	if len(p) != 1 {
		t.Fatalf("mirror status %+v", p)
	}
	for _, w := range []string{"Accepted=True/Accepted", "ResolvedRefs=False/BackendNotFound", "PartiallyInvalid=True/UnsupportedValue"} {
		typ, _, _ := strings.Cut(w, "=")
		if got := condString(p[0].Conditions, typ); got != w {
			t.Errorf("mirror: %s, want %s", got, w)
		}
	}
	want := []string{"gw-p8081||/b.B|Prefix -> (500)/1"}
	if got := routeLines(res.Config); !slices.Equal(got, want) {
		t.Errorf("routes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
