package gateway_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// The Gateways of the attachment tests: "same" takes routes of its namespace on port 80, "all" of
// every namespace on 8081, "selected" of the namespaces labelled tier=infra on 8082 (listener
// "sel") and of none on 8083 ("none").
const attachGateways = `
kind: Gateway
metadata: {namespace: infra, name: same}
spec:
  gatewayClassName: ours
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
kind: Gateway
metadata: {namespace: infra, name: all}
spec:
  gatewayClassName: ours
  listeners: [{name: http, port: 8081, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]
---
kind: Gateway
metadata: {namespace: infra, name: selected}
spec:
  gatewayClassName: ours
  listeners:
  - {name: sel, port: 8082, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {tier: infra}}}}}
  - {name: none, port: 8083, protocol: HTTP, allowedRoutes: {namespaces: {from: None}}}
---
kind: Gateway
metadata: {namespace: infra, name: foreign}
spec:
  gatewayClassName: theirs
  listeners: [{name: http, port: 80, protocol: HTTP}]
`

// A parentRef's Accepted condition: the listeners it selects (sectionName, port), that allow the
// route (namespace), and whose hostname meets the route's
// (HTTPRouteInvalidCrossNamespaceParentRef, HTTPRouteInvalidParentRefNotMatchingSectionName,
// HTTPRouteInvalidParentRefNotMatchingListenerPort).
func TestParentRefs(t *testing.T) {
	cases := []struct {
		name, namespace, parentRef string
		hostnames                  string
		want                       string
		// gw and section name the status entry; "" when no entry is expected.
		gw, section string
	}{
		{name: "same namespace", namespace: "infra", parentRef: `{name: same, namespace: infra}`, want: "Accepted=True/Accepted", gw: "same"},
		{name: "other namespace, Same", namespace: "apps", parentRef: `{name: same, namespace: infra}`, want: "Accepted=False/NotAllowedByListeners", gw: "same"},
		{name: "other namespace, All", namespace: "apps", parentRef: `{name: all, namespace: infra}`, want: "Accepted=True/Accepted", gw: "all"},
		{name: "selected namespace", namespace: "infra", parentRef: `{name: selected, sectionName: sel}`, want: "Accepted=True/Accepted", gw: "selected", section: "sel"},
		{name: "namespace not selected", namespace: "apps", parentRef: `{name: selected, namespace: infra, sectionName: sel}`, want: "Accepted=False/NotAllowedByListeners", gw: "selected", section: "sel"},
		{name: "from None", namespace: "infra", parentRef: `{name: selected, sectionName: none}`, want: "Accepted=False/NotAllowedByListeners", gw: "selected", section: "none"},
		{name: "no such section", namespace: "infra", parentRef: `{name: same, sectionName: nope}`, want: "Accepted=False/NoMatchingParent", gw: "same", section: "nope"},
		{name: "no such port", namespace: "infra", parentRef: `{name: same, port: 81}`, want: "Accepted=False/NoMatchingParent", gw: "same"},
		{name: "section and port that disagree", namespace: "infra", parentRef: `{name: same, sectionName: http, port: 81}`, want: "Accepted=False/NoMatchingParent", gw: "same", section: "http"},
		{name: "port", namespace: "infra", parentRef: `{name: same, port: 80}`, want: "Accepted=True/Accepted", gw: "same"},
		{name: "route hostnames, listener without", namespace: "infra", parentRef: `{name: same}`, hostnames: `[a.example.com]`, want: "Accepted=True/Accepted", gw: "same"},
		{name: "another controller's Gateway", namespace: "infra", parentRef: `{name: foreign}`},
		{name: "a Gateway that does not exist", namespace: "infra", parentRef: `{name: nothing}`},
		{name: "a Service parent", namespace: "infra", parentRef: `{group: "", kind: Service, name: web}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hostnames := ""
			if c.hostnames != "" {
				hostnames = "\n  hostnames: " + c.hostnames
			}
			res := translate(t, objects(t, classes, backendsYAML, attachGateways, `
kind: HTTPRoute
metadata: {namespace: `+c.namespace+`, name: r}
spec:`+hostnames+`
  parentRefs: [`+c.parentRef+`]
  rules: [{backendRefs: [{name: app, namespace: apps, port: 8080}]}]
---
kind: ReferenceGrant
metadata: {namespace: apps, name: all}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: infra}]
  to: [{group: "", kind: Service}]`), sharedOptions())
			route := nn(c.namespace, "r")
			if c.gw == "" {
				if st, ok := res.Status.HTTPRoutes[route]; ok {
					t.Errorf("status for a parent that is not ours: %+v", st)
				}
				return
			}
			st := parentStatus(t, res, route, nn("infra", c.gw), c.section)
			if got := condString(st.Conditions, "Accepted"); got != c.want {
				t.Errorf("%s, want %s", got, c.want)
			}
			if got := condString(st.Conditions, "ResolvedRefs"); got != "ResolvedRefs=True/ResolvedRefs" {
				t.Errorf("%s", got)
			}
			accepted := strings.HasPrefix(c.want, "Accepted=True")
			if served := len(res.Config.HTTPRoutes) > 0; served != accepted {
				t.Errorf("routes %v, accepted %v", routeLines(res.Config), accepted)
			}
			if got := problemsOf(res, diag.Object{Kind: "HTTPRoute", Namespace: c.namespace, Name: "r"}); accepted != (len(got) == 0) {
				t.Errorf("problems %v", got)
			}
		})
	}
}

// Hostnames: the intersection of the listener's and the route's, wildcards covering any number
// of labels (HTTPRouteHostnameIntersection, HTTPRouteListenerHostnameMatching).
func TestHostnameIntersection(t *testing.T) {
	gateway := `
kind: Gateway
metadata: {namespace: infra, name: gw}
spec:
  gatewayClassName: ours
  listeners:
  - {name: specific, port: 80, protocol: HTTP, hostname: very.specific.com}
  - {name: wildcard, port: 80, protocol: HTTP, hostname: "*.wildcard.io"}
  - {name: another, port: 80, protocol: HTTP, hostname: "*.anotherwildcard.io"}
---
kind: Gateway
metadata: {namespace: infra, name: any}
spec:
  gatewayClassName: ours
  listeners: [{name: http, port: 8081, protocol: HTTP}]
`
	cases := []struct {
		name, parent, hostnames string
		want                    []string // hosts served, on table "" unless "table|host"
		accepted                string
	}{
		{name: "exact", hostnames: `[non.matching.com, "*.nonmatchingwildcard.io", very.specific.com]`, want: []string{"very.specific.com"}},
		{name: "wildcard listener, names", hostnames: `[non.matching.com, foo.wildcard.io, bar.wildcard.io, foo.bar.wildcard.io]`,
			want: []string{"bar.wildcard.io", "foo.bar.wildcard.io", "foo.wildcard.io"}},
		{name: "route wildcard covering the listener", hostnames: `["*.specific.com"]`, want: []string{"very.specific.com"}},
		{name: "narrower route wildcard", hostnames: `["*.foo.anotherwildcard.io", "*.anotherwildcard.io"]`,
			want: []string{"*.anotherwildcard.io", "*.foo.anotherwildcard.io"}},
		{name: "wider route wildcard", hostnames: `["*.io"]`, want: []string{"*.anotherwildcard.io", "*.wildcard.io"}},
		{name: "no hostnames", hostnames: `[]`, want: []string{"*.anotherwildcard.io", "*.wildcard.io", "very.specific.com"}},
		{name: "no intersection", hostnames: `[specific.but.wrong.com, wildcard.io]`, accepted: "Accepted=False/NoMatchingListenerHostname"},
		{name: "listener without hostname", parent: "any", hostnames: `[a.example.com, "*.example.com", A.Example.COM]`,
			want: []string{"gw-p8081|*.example.com", "gw-p8081|a.example.com"}},
		{name: "neither", parent: "any", hostnames: `[]`, want: []string{"gw-p8081|"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			parent := c.parent
			if parent == "" {
				parent = "gw"
			}
			res := translate(t, objects(t, classes, backendsYAML, gateway, `
kind: HTTPRoute
metadata: {namespace: infra, name: r}
spec:
  hostnames: `+c.hostnames+`
  parentRefs: [{name: `+parent+`}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]`), sharedOptions())
			var got []string
			for _, rt := range res.Config.HTTPRoutes {
				h := rt.Match.Host
				if rt.Match.Table != "" {
					h = rt.Match.Table + "|" + h
				}
				got = append(got, h)
				// A Gateway API wildcard matches one or more labels; the model says so.
				if wild := strings.HasPrefix(rt.Match.Host, "*."); rt.Match.MultiLabel != wild {
					t.Errorf("host %q: MultiLabel %t, want %t", rt.Match.Host, rt.Match.MultiLabel, wild)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("hosts %q, want %q", got, c.want)
			}
			want := c.accepted
			if want == "" {
				want = "Accepted=True/Accepted"
			}
			if g := condString(parentStatus(t, res, nn("infra", "r"), nn("infra", parent), "").Conditions, "Accepted"); g != want {
				t.Errorf("%s, want %s", g, want)
			}
		})
	}
}

// Where routes go: in shared mode, ports 80 and 443 are the controller's own listeners (the
// default table, shared with Ingresses) and any other port a bind of its own on all addresses; in
// pool mode, every listener binds <Gateway address>:<port>, a table per bind. Listeners of one
// Gateway on one port share a bind; Gateways on one port share it in shared mode and not in pool
// mode (HTTPRouteMultipleGateways).
func TestBindsAndTables(t *testing.T) {
	objs := objects(t, classes, backendsYAML, `
kind: Gateway
metadata: {namespace: infra, name: one}
spec:
  gatewayClassName: ours
  listeners:
  - {name: http, port: 80, protocol: HTTP, hostname: one.example.com}
  - {name: alt, port: 8081, protocol: HTTP}
---
kind: Gateway
metadata: {namespace: infra, name: two}
spec:
  gatewayClassName: ours
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
kind: HTTPRoute
metadata: {namespace: infra, name: r1}
spec:
  parentRefs: [{name: one}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
---
kind: HTTPRoute
metadata: {namespace: infra, name: r2}
spec:
  parentRefs: [{name: two}]
  rules: [{matches: [{path: {type: Exact, value: /two}}], backendRefs: [{name: api, port: 8080}]}]
`)
	for _, c := range []struct {
		name      string
		pool      bool
		routes    []string
		listeners []string
	}{{
		name: "shared",
		routes: []string{
			"||/two|Exact -> infra_api_8080/1",
			"|one.example.com|/|Prefix -> infra_web_8080/1",
			"gw-p8081||/|Prefix -> infra_web_8080/1",
		},
		listeners: []string{"gw-p8081 0.0.0.0:8081 HTTP table gw-p8081"},
	}, {
		name: "pool",
		pool: true,
		routes: []string{
			"gw-10-66-0-1-p80|one.example.com|/|Prefix -> infra_web_8080/1",
			"gw-10-66-0-1-p8081||/|Prefix -> infra_web_8080/1",
			"gw-10-66-0-2-p80||/two|Exact -> infra_api_8080/1",
		},
		listeners: []string{
			"gw-10-66-0-1-p80 10.66.0.1:80 HTTP table gw-10-66-0-1-p80",
			"gw-10-66-0-1-p8081 10.66.0.1:8081 HTTP table gw-10-66-0-1-p8081",
			"gw-10-66-0-2-p80 10.66.0.2:80 HTTP table gw-10-66-0-2-p80",
		},
	}} {
		t.Run(c.name, func(t *testing.T) {
			o := sharedOptions()
			if c.pool {
				o = poolOptions()
			}
			res := translate(t, objs, o)
			if got := routeLines(res.Config); !slices.Equal(got, c.routes) {
				t.Errorf("routes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.routes, "\n"))
			}
			var got []string
			for _, l := range res.Config.Listeners {
				got = append(got, l.Name+" "+l.Bind.Address.String()+":"+itoa(int(l.Port))+" "+string(l.Protocol)+" table "+l.Table)
				if l.Table != l.Name || !model.ValidBackendName(l.Table) {
					t.Errorf("listener %s: table %q", l.Name, l.Table)
				}
			}
			if !slices.Equal(got, c.listeners) {
				t.Errorf("listeners %q, want %q", got, c.listeners)
			}
		})
	}
}
