package haproxy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

func TestRenderNginxPolicy(t *testing.T) {
	tests := []struct {
		name  string
		route model.RoutePolicy
		want  []string
	}{
		{
			name:  "a rewrite by regular expression, with groups, backslashes doubled in the expression",
			route: model.RoutePolicy{RegexRewrite: &model.RegexRewrite{Regex: `(?i)^/something(/|$)(\d*)`, Replace: `/x/\2`}},
			want:  with([]string{"balance roundrobin", `http-request replace-path (?i)^/something(/|$)(\\d*) /x/\2`}, ""),
		},
		{
			name:  "a redirect to HTTPS unless a load balancer ended TLS, and a body size limit, before the other rules",
			route: model.RoutePolicy{ForceHTTPS: 308, MaxBodySize: 1 << 20, AppRoot: "/app"},
			want: with([]string{"balance roundrobin",
				"http-request redirect scheme https code 308 if !{ ssl_fc } !{ req.hdr(x-forwarded-proto) -i https }",
				`http-request return status 413 content-type text/plain string "413 request body too large" if { req.hdr_val(content-length) gt 1048576 }`,
				"http-request redirect location /app code 302 if { path / }",
			}, ""),
		},
		{
			name: "a redirect to an exact URL, before every other rule",
			route: model.RoutePolicy{RedirectTo: &model.Redirect{Location: "https://new.example.com/a-(b)", Code: 308},
				ForceHTTPS: 301, AppRoot: "/app"},
			want: with([]string{"balance roundrobin",
				"http-request redirect location https://new.example.com/a-(b) code 308",
				"http-request redirect scheme https code 301 if !{ ssl_fc } !{ req.hdr(x-forwarded-proto) -i https }",
				"http-request redirect location /app code 302 if { path / }",
			}, ""),
		},
		{
			name:  "a redirect to another host, keeping the scheme",
			route: model.RoutePolicy{HostRedirect: &model.HostRedirect{Host: "www.example.com", Code: 308}},
			want: with([]string{"balance roundrobin",
				"http-request redirect prefix https://www.example.com code 308 if { ssl_fc }",
				"http-request redirect prefix http://www.example.com code 308 unless { ssl_fc }",
			}, ""),
		},
		{
			name:  "a connection limit counts requests in progress per client address",
			route: model.RoutePolicy{MaxConnections: 10},
			want: with([]string{"balance roundrobin",
				"http-request track-sc0 src",
				"http-request deny deny_status 503 if { sc_conn_cur(0) gt 10 }",
				"stick-table type ipv6 size 100k expire 1m store conn_cur",
			}, ""),
		},
		{
			name:  "a connection limit and a rate limit share one table and one counter",
			route: model.RoutePolicy{MaxConnections: 2, RateLimit: &model.RateLimit{Requests: 5, Period: time.Second, Status: 429}},
			want: with([]string{"balance roundrobin",
				"http-request track-sc0 src",
				"http-request deny deny_status 429 if { sc_http_req_rate(0) gt 5 }",
				"http-request deny deny_status 503 if { sc_conn_cur(0) gt 2 }",
				"stick-table type ipv6 size 100k expire 1s store http_req_rate(1s),conn_cur",
			}, ""),
		},
	}
	for _, tt := range tests {
		c := policyConfig(model.BackendPolicy{}, tt.route)
		files, err := haproxy.Render(c, testEnv)
		t.Run(tt.name, func(t *testing.T) {
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			name := sectionName(t, c)
			compareLines(t, "backend "+name, section(files[haproxy.ConfigFile], "backend "+name), tt.want)
			haproxyCheck(t, files)
		})
	}
}

func TestRenderRejectsBadNginxPolicy(t *testing.T) {
	for _, tt := range []struct {
		name  string
		route model.RoutePolicy
		want  string
	}{
		{"an expression with a space", model.RoutePolicy{RegexRewrite: &model.RegexRewrite{Regex: "^/a b", Replace: "/"}}, "rewrite expression"},
		{"a replacement with a sample fetch", model.RoutePolicy{RegexRewrite: &model.RegexRewrite{Regex: "^/a", Replace: "/%[src]"}}, "rewrite target"},
		{"a replacement with a stray backslash", model.RoutePolicy{RegexRewrite: &model.RegexRewrite{Regex: "^/a", Replace: `/\x`}}, "rewrite target"},
		{"a redirect code that is not one", model.RoutePolicy{ForceHTTPS: 200}, "HTTPS redirect code"},
		{"a negative body size", model.RoutePolicy{MaxBodySize: -1}, "body size limit"},
		{"a negative connection limit", model.RoutePolicy{MaxConnections: -1}, "connection limit"},
		{"a redirect URL with a sample fetch", model.RoutePolicy{RedirectTo: &model.Redirect{Location: "https://a.example/%[src]", Code: 301}}, "redirect location"},
		{"a redirect URL with a space", model.RoutePolicy{RedirectTo: &model.Redirect{Location: "https://a.example/a b", Code: 301}}, "redirect location"},
		{"a redirect code that is not one", model.RoutePolicy{RedirectTo: &model.Redirect{Location: "https://a.example", Code: 200}}, "redirect code"},
		{"a host redirect to an upper-case name", model.RoutePolicy{HostRedirect: &model.HostRedirect{Host: "A.example", Code: 301}}, "host redirect"},
		{"a host redirect with a path", model.RoutePolicy{HostRedirect: &model.HostRedirect{Host: "a.example/x", Code: 301}}, "host redirect"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := haproxy.Render(policyConfig(model.BackendPolicy{}, tt.route), testEnv)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Render error = %v, want one about %s", err, tt.want)
			}
		})
	}
}

func TestRenderCookieAttributes(t *testing.T) {
	for _, tt := range []struct {
		name  string
		attrs *model.CookieAttributes
		want  string
	}{
		{"none", nil, "cookie SRV indirect nocache insert"},
		{"Max-Age in whole seconds, SameSite and Path", &model.CookieAttributes{MaxAge: 48 * time.Hour, SameSite: "Lax", Path: "/app"},
			"cookie SRV attr Max-Age=172800 attr SameSite=Lax attr Path=/app indirect nocache insert"},
		{"the longest Max-Age", &model.CookieAttributes{MaxAge: limits.MaxCookieMaxAge, SameSite: "None"},
			"cookie SRV attr Max-Age=34560000 attr SameSite=None indirect nocache insert"},
	} {
		c := policyConfig(model.BackendPolicy{Cookie: "SRV", CookieAttrs: tt.attrs}, model.RoutePolicy{})
		files, err := haproxy.Render(c, testEnv)
		t.Run(tt.name, func(t *testing.T) {
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			name := sectionName(t, c)
			compareLines(t, "backend "+name, section(files[haproxy.ConfigFile], "backend "+name),
				with([]string{"balance roundrobin", tt.want}, "cookie SLOT"))
			haproxyCheck(t, files)
		})
	}
	for _, tt := range []struct {
		name  string
		attrs model.CookieAttributes
	}{
		{"a negative Max-Age", model.CookieAttributes{MaxAge: -time.Second}},
		{"a Max-Age beyond 400 days", model.CookieAttributes{MaxAge: limits.MaxCookieMaxAge + time.Second}},
		{"a lower-case SameSite", model.CookieAttributes{SameSite: "lax"}},
		{"a SameSite with another attribute", model.CookieAttributes{SameSite: "Lax;Secure"}},
		{"a path with a semicolon", model.CookieAttributes{Path: "/a;Domain=evil.example"}},
		{"a relative path", model.CookieAttributes{Path: "a"}},
	} {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			_, err := haproxy.Render(policyConfig(model.BackendPolicy{Cookie: "SRV", CookieAttrs: &tt.attrs}, model.RoutePolicy{}), testEnv)
			if err == nil || !strings.Contains(err.Error(), "cookie") {
				t.Errorf("Render error = %v, want one about the cookie", err)
			}
		})
	}
}
