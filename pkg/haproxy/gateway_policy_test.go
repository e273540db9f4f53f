package haproxy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// gatewayPolicy uses every Gateway API field of a route policy.
func gatewayPolicy() model.RoutePolicy {
	return model.RoutePolicy{
		RemoveRequestHeaders:  []string{"X-Drop"},
		RequestHeaders:        []model.Header{{Name: "X-Set", Value: "s"}},
		AddRequestHeaders:     []model.Header{{Name: "X-Add", Value: "a b"}},
		RemoveResponseHeaders: []string{"Server"},
		AddResponseHeaders:    []model.Header{{Name: "X-Res", Value: "r"}},
		URLRewrite:            &model.URLRewrite{Hostname: "internal.example", Path: &model.PathModifier{Value: "/v2"}},
		Timeout:               1500 * time.Millisecond,
	}
}

func TestRenderGatewayPolicy(t *testing.T) {
	c := validConfig()
	c.HTTPRoutes[0] = withPolicy(prefixRoute("example.com", "/api", "ns_web_80"), gatewayPolicy())
	redirect := withPolicy(prefixRoute("example.com", "/old", "ns_web_80"), model.RoutePolicy{RequestRedirect: &model.RequestRedirect{
		Scheme: "https", Hostname: "new.example", Port: 8443, Path: &model.PathModifier{Full: true, Value: "/new"}, Code: 307}})
	weighted := prefixRoute("w.example", "/", "ns_web_80")
	weighted.Backends = append(weighted.Backends, model.WeightedBackend{Weight: 3})
	c.HTTPRoutes = append(c.HTTPRoutes, redirect, weighted, model.HTTPRoute{
		Match: model.HTTPMatch{Host: "u.example", Path: "/", Kind: model.MatchPrefix}, Backends: []model.WeightedBackend{{Weight: 1}},
	})
	c.Normalize()
	files, err := haproxy.Render(c, testEnv)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	cfg := string(files[haproxy.ConfigFile])
	for _, want := range []string{
		// Request side: rewrite, then remove, set, add, then the timeout.
		"  http-request set-header Host \"internal.example\"\n" +
			"  http-request replace-path ^/api(/.*)?$ /v2\\1\n" +
			"  http-request del-header X-Drop\n" +
			"  http-request set-header X-Set \"s\"\n" +
			"  http-request add-header X-Add \"a b\"\n" +
			"  http-request set-timeout server 1500ms\n",
		"  http-response del-header Server\n  http-response add-header X-Res \"r\"\n",
		"  http-request set-path /new\n  http-request redirect location https://new.example:8443%[pathq] code 307\n",
		"  http-request return status 500 content-type text/plain string \"500 the route's backend could not be resolved\" if { rand(4) lt 3 }\n",
		"backend portcullis_unresolved\n  mode http\n  balance roundrobin\n  http-request return status 500 content-type text/plain string \"500 the route's backend could not be resolved\"\n",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("haproxy.cfg has no\n%s\n%s", want, cfg)
		}
	}
	haproxyCheck(t, files)
}

// A route policy without the Gateway API fields keeps its section name: they are left out of the
// hashed JSON when empty. (The name is the one the renderer gave before they existed.)
func TestGatewayFieldsKeepSectionNames(t *testing.T) {
	c := policyConfig(model.BackendPolicy{}, model.RoutePolicy{AppRoot: "/app"})
	if got := sectionName(t, c); got != "ns_web_80_f30d6d2c" {
		t.Errorf("section name %q changed", got)
	}
}

// Prune leaves out the routes whose Gateway API values cannot be written, and keeps the rest.
func TestPruneGatewayPolicies(t *testing.T) {
	route := diag.Object{Kind: "HTTPRoute", Namespace: "ns", Name: "r"}
	for _, tc := range []struct {
		name string
		edit func(*model.HTTPRoute)
	}{
		{"an added header with a quote in its value", func(r *model.HTTPRoute) {
			r.Policy.AddRequestHeaders = []model.Header{{Name: "X", Value: `a"b`}}
		}},
		{"an added header with a percent sign", func(r *model.HTTPRoute) {
			r.Policy.AddResponseHeaders = []model.Header{{Name: "X", Value: "%[env(HOME)]"}}
		}},
		{"a removed header name with a space", func(r *model.HTTPRoute) { r.Policy.RemoveRequestHeaders = []string{"X Y"} }},
		{"a removed framing header", func(r *model.HTTPRoute) { r.Policy.RemoveRequestHeaders = []string{"Transfer-Encoding"} }},
		{"an added Host header", func(r *model.HTTPRoute) { r.Policy.AddRequestHeaders = []model.Header{{Name: "host", Value: "x"}} }},
		{"a redirect scheme other than http or https", func(r *model.HTTPRoute) {
			r.Policy.RequestRedirect = &model.RequestRedirect{Scheme: "ftp", Code: 302}
		}},
		{"a redirect hostname with upper case", func(r *model.HTTPRoute) {
			r.Policy.RequestRedirect = &model.RequestRedirect{Hostname: "Evil.example", Code: 302}
		}},
		{"a redirect hostname with a space", func(r *model.HTTPRoute) {
			r.Policy.RequestRedirect = &model.RequestRedirect{Hostname: "a.example code 301", Code: 302}
		}},
		{"a redirect code that is no redirect", func(r *model.HTTPRoute) { r.Policy.RequestRedirect = &model.RequestRedirect{Code: 200} }},
		{"a redirect path with a sample fetch", func(r *model.HTTPRoute) {
			r.Policy.RequestRedirect = &model.RequestRedirect{Code: 302, Path: &model.PathModifier{Full: true, Value: "/%[env(HOME)]"}}
		}},
		{"a rewrite path that is relative", func(r *model.HTTPRoute) {
			r.Policy.URLRewrite = &model.URLRewrite{Path: &model.PathModifier{Full: true, Value: "x"}}
		}},
		{"a full rewrite to nothing", func(r *model.HTTPRoute) {
			r.Policy.URLRewrite = &model.URLRewrite{Path: &model.PathModifier{Full: true}}
		}},
		{"a rewrite host with a newline", func(r *model.HTTPRoute) {
			r.Policy.URLRewrite = &model.URLRewrite{Hostname: "a.example\nbackend x"}
		}},
		{"a prefix replacement on an exact route", func(r *model.HTTPRoute) {
			r.Match.Kind = model.MatchExact
			r.Policy.URLRewrite = &model.URLRewrite{Path: &model.PathModifier{Value: "/x"}}
		}},
		{"a redirect and a rewrite on one route", func(r *model.HTTPRoute) {
			r.Policy.RequestRedirect = &model.RequestRedirect{Code: 302}
			r.Policy.URLRewrite = &model.URLRewrite{Hostname: "a.example"}
		}},
		{"a negative timeout", func(r *model.HTTPRoute) { r.Policy.Timeout = -time.Second }},
		{"a timeout of more than HAProxy's timers hold", func(r *model.HTTPRoute) { r.Policy.Timeout = 1000 * time.Hour }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			c.HTTPRoutes[0].Source = route
			tc.edit(&c.HTTPRoutes[0])
			if _, err := haproxy.Render(c, testEnv); err == nil {
				t.Error("Render accepted it")
			}
			pruned, rej := haproxy.Prune(c)
			if len(rej) != 1 || len(rej[0].Objects) != 1 || rej[0].Objects[0] != route {
				t.Fatalf("rejections %v, want the route's", rej)
			}
			if len(pruned.HTTPRoutes) != 1 {
				t.Errorf("routes kept %v, want the other one", pruned.HTTPRoutes)
			}
			if _, err := haproxy.Render(pruned, testEnv); err != nil {
				t.Errorf("Render after Prune: %v", err)
			}
		})
	}
	t.Run("valid values pass", func(t *testing.T) {
		c := validConfig()
		c.HTTPRoutes[0].Policy = gatewayPolicy()
		c.HTTPRoutes[0].Policy.RemoveRequestHeaders = append(c.HTTPRoutes[0].Policy.RemoveRequestHeaders, "x-lower_case-1")
		if _, rej := haproxy.Prune(c); len(rej) != 0 {
			t.Errorf("rejections %v", rej)
		}
	})
}
