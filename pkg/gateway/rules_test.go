package gateway_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// ruleGateway has an HTTP listener on 80 and 8081 and an HTTPS listener on 443.
const ruleGateway = `
kind: Secret
metadata: {namespace: infra, name: tls}
type: kubernetes.io/tls
data: {tls.crt: "{CERT}", tls.key: "{KEY}"}
---
kind: Gateway
metadata: {namespace: infra, name: gw}
spec:
  gatewayClassName: ours
  listeners:
  - {name: http, port: 80, protocol: HTTP}
  - {name: alt, port: 8081, protocol: HTTP}
  - {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: tls}]}}
`

func ruleRoute(section, rules string) string {
	return `
kind: HTTPRoute
metadata: {namespace: infra, name: r, generation: 4}
spec:
  parentRefs: [{name: gw, sectionName: ` + section + `}]
  rules:
` + rules
}

// Matches: one model route per match, a rule without matches is PathPrefix "/"; prefixes lose
// their trailing slash; header, query and method conditions (HTTPRouteMatching,
// HTTPRouteExactPathMatching, HTTPRouteHeaderMatching, HTTPRouteQueryParamMatching,
// HTTPRouteMethodMatching).
func TestMatches(t *testing.T) {
	res := translate(t, objects(t, classes, backendsYAML, ruleGateway, ruleRoute("http", `
  - backendRefs: [{name: web, port: 8080}]
  - matches:
    - path: {type: PathPrefix, value: /v2/}
    - path: {type: Exact, value: /exact}
    - path: {type: RegularExpression, value: "/re/[a-z]+"}
    backendRefs: [{name: api, port: 8080}]
  - matches:
    - headers: [{name: Version, value: two}, {name: version, value: ignored}, {type: RegularExpression, name: X-Re, value: "^a.*"}]
      queryParams: [{name: animal, value: whale}, {type: RegularExpression, name: color, value: "^(red|blue)$"}]
      method: POST
    backendRefs: [{name: api, port: 8080}]
`)), sharedOptions())
	want := []string{
		"||/|Prefix -> infra_web_8080/1",
		"||/|Prefix method=POST header:Version=two header:X-Re=~^a.* query:animal=whale query:color=~^(red|blue)$ -> infra_api_8080/1",
		"||/exact|Exact -> infra_api_8080/1",
		"||/re/[a-z]+|RegularExpression -> infra_api_8080/1",
		"||/v2|Prefix -> infra_api_8080/1",
	}
	if got := routeLines(res.Config); !slices.Equal(got, want) {
		t.Errorf("routes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	st := parentStatus(t, res, nn("infra", "r"), nn("infra", "gw"), "http")
	if c, _ := cond(st.Conditions, "Accepted"); c.ObservedGeneration != 4 {
		t.Errorf("observedGeneration %d, want 4", c.ObservedGeneration)
	}
}

// Filters become the route policy; a redirect's port follows the spec: the filter's, else the
// scheme's well-known port, else the listener's, left out when it is the Location's scheme's
// default (HTTPRouteRedirect*, HTTPRouteRewrite*, HTTPRouteRequestHeaderModifier,
// HTTPRouteResponseHeaderModifier, HTTPRouteTimeout*).
func TestFilters(t *testing.T) {
	cases := []struct {
		name, section, filters string
		timeouts               string
		check                  func(t *testing.T, p model.RoutePolicy, backends []model.WeightedBackend)
	}{{
		name: "header modifiers", section: "http",
		filters: `
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: X-Set, value: one}], add: [{name: X-Add, value: two}], remove: [X-Remove]}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {set: [{name: X-Out, value: three}], add: [{name: X-Out-Add, value: "a b"}], remove: [Server]}`,
		check: func(t *testing.T, p model.RoutePolicy, _ []model.WeightedBackend) {
			want := model.RoutePolicy{
				RequestHeaders: []model.Header{{Name: "X-Set", Value: "one"}}, AddRequestHeaders: []model.Header{{Name: "X-Add", Value: "two"}},
				RemoveRequestHeaders: []string{"X-Remove"}, ResponseHeaders: []model.Header{{Name: "X-Out", Value: "three"}},
				AddResponseHeaders: []model.Header{{Name: "X-Out-Add", Value: "a b"}}, RemoveResponseHeaders: []string{"Server"},
			}
			if !p.Equal(want) {
				t.Errorf("policy %+v, want %+v", p, want)
			}
		},
	}, {
		name: "redirect to https", section: "http",
		filters: `
    - {type: RequestRedirect, requestRedirect: {scheme: https, statusCode: 301}}`,
		check: redirectIs(model.RequestRedirect{Scheme: "https", Code: 301}),
	}, {
		name: "redirect to https on a port", section: "http",
		filters: `
    - {type: RequestRedirect, requestRedirect: {scheme: https, port: 8443}}`,
		check: redirectIs(model.RequestRedirect{Scheme: "https", Port: 8443, Code: 302}),
	}, {
		name: "redirect without scheme from port 8081", section: "alt",
		filters: `
    - {type: RequestRedirect, requestRedirect: {hostname: example.org}}`,
		check: redirectIs(model.RequestRedirect{Hostname: "example.org", Port: 8081, Code: 302}),
	}, {
		name: "redirect without scheme from port 80", section: "http",
		filters: `
    - {type: RequestRedirect, requestRedirect: {hostname: example.org, path: {type: ReplaceFullPath, replaceFullPath: /new}}}`,
		check: redirectIs(model.RequestRedirect{Hostname: "example.org", Code: 302, Path: &model.PathModifier{Full: true, Value: "/new"}}),
	}, {
		name: "redirect to port 443 from HTTPS", section: "https",
		filters: `
    - {type: RequestRedirect, requestRedirect: {port: 443}}`,
		check: redirectIs(model.RequestRedirect{Code: 302}),
	}, {
		name: "redirect to http on port 443", section: "https",
		filters: `
    - {type: RequestRedirect, requestRedirect: {scheme: http, port: 443}}`,
		check: redirectIs(model.RequestRedirect{Scheme: "http", Port: 443, Code: 302}),
	}, {
		name: "rewrite", section: "http",
		filters: `
    - {type: URLRewrite, urlRewrite: {hostname: backend.example.org, path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}}`,
		check: func(t *testing.T, p model.RoutePolicy, b []model.WeightedBackend) {
			want := &model.URLRewrite{Hostname: "backend.example.org", Path: &model.PathModifier{Value: "/new"}}
			if !p.URLRewrite.Equal(want) || len(b) != 1 || b[0].Name != "infra_web_8080" {
				t.Errorf("rewrite %+v backends %v", p.URLRewrite, b)
			}
		},
	}, {
		name: "timeouts", section: "http",
		timeouts: `{request: 10s, backendRequest: 500ms}`,
		check: func(t *testing.T, p model.RoutePolicy, _ []model.WeightedBackend) {
			if p.Timeout != 500*time.Millisecond {
				t.Errorf("timeout %v", p.Timeout)
			}
		},
	}, {
		name: "no timeout", section: "http",
		timeouts: `{request: 0s}`,
		check: func(t *testing.T, p model.RoutePolicy, _ []model.WeightedBackend) {
			if p.Timeout != 0 {
				t.Errorf("timeout %v", p.Timeout)
			}
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rule := `
  - matches: [{path: {type: PathPrefix, value: /p}}]
    backendRefs: [{name: web, port: 8080}]`
			if c.filters != "" {
				rule += "\n    filters:" + c.filters
			}
			if c.timeouts != "" {
				rule += "\n    timeouts: " + c.timeouts
			}
			res := translate(t, objects(t, classes, backendsYAML, ruleGateway, ruleRoute(c.section, rule)), sharedOptions())
			if len(res.Config.HTTPRoutes) != 1 {
				t.Fatalf("routes %v", routeLines(res.Config))
			}
			rt := res.Config.HTTPRoutes[0]
			c.check(t, rt.Policy, rt.Backends)
			if got := condString(parentStatus(t, res, nn("infra", "r"), nn("infra", "gw"), c.section).Conditions, "Accepted"); got != "Accepted=True/Accepted" {
				t.Errorf("%s", got)
			}
		})
	}
}

func redirectIs(want model.RequestRedirect) func(*testing.T, model.RoutePolicy, []model.WeightedBackend) {
	return func(t *testing.T, p model.RoutePolicy, b []model.WeightedBackend) {
		t.Helper()
		if !p.RequestRedirect.Equal(&want) {
			t.Errorf("redirect %+v, want %+v", p.RequestRedirect, want)
		}
		if !slices.Equal(b, []model.WeightedBackend{{Name: "", Weight: 1}}) {
			t.Errorf("a redirect with backends %v", b)
		}
	}
}

// A rule with a value that cannot be rendered, or a feature that is not supported, is left out
// with a problem on the route; the route is accepted while one rule can be served
// (PartiallyInvalid), else refused with the first rule's reason.
func TestRefusedRules(t *testing.T) {
	bad := []struct{ name, rule, reason string }{
		{"header value with a quote", `{matches: [{headers: [{name: X, value: 'a"b'}]}], backendRefs: [{name: web, port: 8080}]}`, "UnsupportedValue"},
		{"header value with a percent sign", `{matches: [{headers: [{name: X, value: "%[src]"}]}], backendRefs: [{name: web, port: 8080}]}`, "UnsupportedValue"},
		{"invalid regular expression", `{matches: [{path: {type: RegularExpression, value: "/(a"}}], backendRefs: [{name: web, port: 8080}]}`, "UnsupportedValue"},
		{"path with a space", `{matches: [{path: {type: Exact, value: "/a b"}}], backendRefs: [{name: web, port: 8080}]}`, "UnsupportedValue"},
		{"lower-case method", `{matches: [{method: get}], backendRefs: [{name: web, port: 8080}]}`, "UnsupportedValue"},
		{"set a framing header", `{filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: Content-Length, value: "0"}]}}], backendRefs: [{name: web, port: 8080}]}`, "UnsupportedValue"},
		{"mirror", `{filters: [{type: RequestMirror, requestMirror: {backendRef: {name: web, port: 8080}}}], backendRefs: [{name: web, port: 8080}]}`, "UnsupportedValue"},
		{"redirect and rewrite", `{filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}, {type: URLRewrite, urlRewrite: {hostname: a.example.com}}]}`, "IncompatibleFilters"},
		{"prefix replacement of an exact match", `{matches: [{path: {type: Exact, value: /a}}], filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /b}}}], backendRefs: [{name: web, port: 8080}]}`, "UnsupportedValue"},
		{"rewrite to a path with ..", `{filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: /a/../b}}}], backendRefs: [{name: web, port: 8080}]}`, "UnsupportedValue"},
		{"retry", `{retry: {attempts: 2}, backendRefs: [{name: web, port: 8080}]}`, "UnsupportedValue"},
		{"a timeout of one millisecond", `{timeouts: {request: 1ms}, backendRefs: [{name: web, port: 8080}]}`, ""},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			for _, partly := range []bool{false, true} {
				rules := "  - " + b.rule
				if partly {
					rules += "\n  - {matches: [{path: {value: /ok}}], backendRefs: [{name: web, port: 8080}]}"
				}
				res := translate(t, objects(t, classes, backendsYAML, ruleGateway, ruleRoute("http", rules)), sharedOptions())
				st := parentStatus(t, res, nn("infra", "r"), nn("infra", "gw"), "http")
				if b.reason == "" { // accepted as it is
					if got := condString(st.Conditions, "Accepted"); got != "Accepted=True/Accepted" {
						t.Errorf("%s", got)
					}
					return
				}
				probs := problemsOf(res, diag.Object{Kind: "HTTPRoute", Namespace: "infra", Name: "r"})
				if !slices.Contains(probs, b.reason) {
					t.Errorf("problems %v, want %s", probs, b.reason)
				}
				if !partly {
					if got := condString(st.Conditions, "Accepted"); got != "Accepted=False/"+b.reason {
						t.Errorf("%s", got)
					}
					if len(res.Config.HTTPRoutes) != 0 {
						t.Errorf("routes %v", routeLines(res.Config))
					}
					continue
				}
				if got := condString(st.Conditions, "Accepted"); got != "Accepted=True/Accepted" {
					t.Errorf("partly: %s", got)
				}
				if got := condString(st.Conditions, "PartiallyInvalid"); got != "PartiallyInvalid=True/"+b.reason {
					t.Errorf("partly: %s", got)
				}
				if got := routeLines(res.Config); !slices.Equal(got, []string{"||/ok|Prefix -> infra_web_8080/1"}) {
					t.Errorf("partly: routes %v", got)
				}
			}
		})
	}
}

// Routes of several HTTPRoutes with the same match: the oldest route keeps it; the other gets a
// problem and stays accepted (HTTPRouteMatchingAcrossRoutes).
func TestRouteConflict(t *testing.T) {
	res := translate(t, objects(t, classes, backendsYAML, ruleGateway, `
kind: HTTPRoute
metadata: {namespace: infra, name: old}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
---
kind: HTTPRoute
metadata: {namespace: infra, name: new}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules:
  - backendRefs: [{name: api, port: 8080}]
  - {matches: [{path: {value: /new}}], backendRefs: [{name: api, port: 8080}]}
`), sharedOptions())
	want := []string{"||/|Prefix -> infra_web_8080/1", "||/new|Prefix -> infra_api_8080/1"}
	if got := routeLines(res.Config); !slices.Equal(got, want) {
		t.Errorf("routes %v, want %v", got, want)
	}
	if got := problemsOf(res, diag.Object{Kind: "HTTPRoute", Namespace: "infra", Name: "new"}); !slices.Equal(got, []string{"RouteConflict"}) {
		t.Errorf("problems %v", got)
	}
}
