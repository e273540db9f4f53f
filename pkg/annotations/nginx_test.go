package annotations

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPeerPrefixes(t *testing.T) {
	tests := []struct {
		name     string
		kv       map[string]string
		wantKey  string
		want     []netip.Prefix
		wantProb []Problem
	}{
		{
			name:    "haproxy.com/ is read like haproxy.org/",
			kv:      map[string]string{"haproxy.com/whitelist": "10.0.0.0/8"},
			wantKey: "haproxy.com/whitelist", want: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		},
		{
			name:    "ingress.kubernetes.io/ is read like haproxy.org/",
			kv:      map[string]string{"ingress.kubernetes.io/allow-list": "10.0.0.0/8"},
			wantKey: "ingress.kubernetes.io/allow-list", want: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		},
		{
			name:    "haproxy.org/ beats haproxy.com/, which beats ingress.kubernetes.io/; disagreeing losers are reported",
			kv:      map[string]string{"ingress.kubernetes.io/allow-list": "10.0.0.1", "haproxy.com/allow-list": "10.0.0.2", "haproxy.org/allow-list": "10.0.0.3"},
			wantKey: "haproxy.org/allow-list", want: []netip.Prefix{netip.MustParsePrefix("10.0.0.3/32")},
			wantProb: []Problem{
				{Key: "haproxy.com/allow-list", Severity: Warning, Message: "ignored: haproxy.org/allow-list is also set and takes precedence"},
				{Key: "ingress.kubernetes.io/allow-list", Severity: Warning, Message: "ignored: haproxy.org/allow-list is also set and takes precedence"},
			},
		},
		{
			name:    "prefixes that agree are not reported",
			kv:      map[string]string{"haproxy.com/allow-list": "10.0.0.0/8", "haproxy.org/whitelist": "10.0.0.0/8", "portcullis.io/allow-list": "10.1.0.0/8"},
			wantKey: "portcullis.io/allow-list", want: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		},
		{
			name: "an unsupported key under haproxy.com/ is reported like one under haproxy.org/",
			kv:   map[string]string{"haproxy.com/backend-config-snippet": "x"},
			wantProb: []Problem{
				{Key: "haproxy.com/backend-config-snippet", Severity: Warning, Message: "not supported by Portcullis: raw configuration snippets are never accepted"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, probs := Parse(SourceIngress, tt.kv)
			if !reflect.DeepEqual(probs, tt.wantProb) {
				t.Errorf("problems:\n got %#v\nwant %#v", probs, tt.wantProb)
			}
			got := ResolveRoute(l, Layer{}).AllowList
			if tt.wantKey != "" && (got.Key != tt.wantKey || !reflect.DeepEqual(got.Value, tt.want)) {
				t.Errorf("AllowList = %+v, want %v from %s", got, tt.want, tt.wantKey)
			}
		})
	}
}

func TestNginxAnnotations(t *testing.T) {
	const p = NginxPrefix
	type check func(t *testing.T, r RouteSettings, b BackendSettings)
	tests := []struct {
		name  string
		kv    map[string]string
		probs []string // "key: message" prefixes, in order
		check check
	}{
		{
			name: "timeouts are whole seconds; read and send become the larger server timeout",
			kv:   map[string]string{p + "proxy-connect-timeout": "7", p + "proxy-read-timeout": "120", p + "proxy-send-timeout": "30"},
			check: func(t *testing.T, _ RouteSettings, b BackendSettings) {
				if b.TimeoutConnect.Value != 7*time.Second || b.TimeoutServer.Value != 120*time.Second || b.TimeoutServer.Key != p+"proxy-read-timeout" {
					t.Errorf("connect %+v server %+v", b.TimeoutConnect, b.TimeoutServer)
				}
			},
		},
		{
			name: "the send timeout alone, when larger",
			kv:   map[string]string{p + "proxy-read-timeout": "5", p + "proxy-send-timeout": "30"},
			check: func(t *testing.T, _ RouteSettings, b BackendSettings) {
				if b.TimeoutServer.Value != 30*time.Second || b.TimeoutServer.Key != p+"proxy-send-timeout" {
					t.Errorf("server %+v", b.TimeoutServer)
				}
			},
		},
		{
			name:  "a timeout with a unit is refused, as ingress-nginx refuses it",
			kv:    map[string]string{p + "proxy-connect-timeout": "7s"},
			probs: []string{p + "proxy-connect-timeout: invalid value \"7s\": want a whole number of seconds"},
		},
		{
			name: "source ranges",
			kv:   map[string]string{p + "whitelist-source-range": "10.0.0.0/8, 192.168.0.1", p + "denylist-source-range": "10.1.0.0/16"},
			check: func(t *testing.T, r RouteSettings, _ BackendSettings) {
				if len(r.AllowList.Value) != 2 || len(r.DenyList.Value) != 1 || r.AllowList.Source != SourceIngress {
					t.Errorf("allow %+v deny %+v", r.AllowList, r.DenyList)
				}
			},
		},
		{
			name: "backend-protocol GRPCS is TLS and HTTP/2",
			kv:   map[string]string{p + "backend-protocol": "GRPCS"},
			check: func(t *testing.T, _ RouteSettings, b BackendSettings) {
				if !b.ServerSSL.Value || b.ServerProto.Value != "h2" {
					t.Errorf("ssl %+v proto %+v", b.ServerSSL, b.ServerProto)
				}
			},
		},
		{
			name:  "backend-protocol FCGI is refused",
			kv:    map[string]string{p + "backend-protocol": "FCGI"},
			probs: []string{p + "backend-protocol: invalid value \"FCGI\": want HTTP, HTTPS, GRPC, GRPCS or H2C"},
		},
		{
			name: "basic authentication",
			kv:   map[string]string{p + "auth-type": "basic", p + "auth-secret": "users", p + "auth-secret-type": "auth-map", p + "auth-realm": "Staff only"},
			check: func(t *testing.T, r RouteSettings, _ BackendSettings) {
				if r.AuthSecret.Value != "users" || r.AuthRealm.Value != "Staff only" {
					t.Errorf("secret %+v realm %+v", r.AuthSecret, r.AuthRealm)
				}
			},
		},
		{
			name:  "auth-secret without auth-type is ignored, as ingress-nginx ignores it",
			kv:    map[string]string{p + "auth-secret": "users"},
			probs: []string{p + "auth-secret: invalid value \"users\": ignored without auth-type basic"},
			check: func(t *testing.T, r RouteSettings, _ BackendSettings) {
				if r.AuthSecret.Value != "" {
					t.Errorf("secret %+v", r.AuthSecret)
				}
			},
		},
		{
			name:  "digest authentication is refused",
			kv:    map[string]string{p + "auth-type": "digest", p + "auth-secret": "users"},
			probs: []string{p + "auth-type: invalid value \"digest\": only basic"},
		},
		{
			name: "enable-cors brings ingress-nginx's defaults, which other keys override silently",
			kv:   map[string]string{p + "enable-cors": "true", p + "cors-allow-methods": "GET", p + "cors-max-age": "1728000"},
			check: func(t *testing.T, r RouteSettings, _ BackendSettings) {
				if !r.CORSEnable.Value || r.CORSAllowMethods.Value.String() != "GET" || !r.CORSAllowCredentials.Value ||
					r.CORSMaxAge.Value != 24*time.Hour || !strings.HasPrefix(r.CORSAllowHeaders.Value.String(), "DNT, ") {
					t.Errorf("cors %+v %+v %+v %+v %+v", r.CORSEnable, r.CORSAllowMethods, r.CORSAllowCredentials, r.CORSMaxAge, r.CORSAllowHeaders)
				}
			},
		},
		{
			name:  "a Portcullis key beats an ingress-nginx key and says so when they differ",
			kv:    map[string]string{p + "app-root": "/app", "portcullis.io/app-root": "/other"},
			probs: []string{p + "app-root: ignored: portcullis.io/app-root is also set and takes precedence"},
			check: func(t *testing.T, r RouteSettings, _ BackendSettings) {
				if r.AppRoot.Value != "/other" {
					t.Errorf("app root %+v", r.AppRoot)
				}
			},
		},
		{
			name: "x-forwarded-prefix and upstream-vhost set request headers",
			kv:   map[string]string{p + "x-forwarded-prefix": "/api", p + "upstream-vhost": "internal.example.com"},
			check: func(t *testing.T, r RouteSettings, _ BackendSettings) {
				want := []Header{{"X-Forwarded-Prefix", "/api"}, {"Host", "internal.example.com"}}
				if !reflect.DeepEqual(r.RequestSetHeaders.Value, want) {
					t.Errorf("headers %+v", r.RequestSetHeaders)
				}
			},
		},
		{
			name:  "limit-rps beats limit-rpm",
			kv:    map[string]string{p + "limit-rps": "5", p + "limit-rpm": "100"},
			probs: []string{p + "limit-rpm: invalid value \"100\": ignored: limit-rps"},
			check: func(t *testing.T, r RouteSettings, _ BackendSettings) {
				if r.RateLimitRequests.Value != 5 || r.RateLimitPeriod.Value != time.Second {
					t.Errorf("rate %+v per %+v", r.RateLimitRequests, r.RateLimitPeriod)
				}
			},
		},
		{
			name: "upstream-hash-by a header",
			kv:   map[string]string{p + "upstream-hash-by": "$http_x_user"},
			check: func(t *testing.T, _ RouteSettings, b BackendSettings) {
				if b.LoadBalance.Value.String() != "hdr(x-user)" {
					t.Errorf("balance %+v", b.LoadBalance)
				}
			},
		},
		{
			name: "cookie affinity with its default name",
			kv:   map[string]string{p + "affinity": "cookie"},
			check: func(t *testing.T, _ RouteSettings, b BackendSettings) {
				if b.CookiePersistence.Value != "INGRESSCOOKIE" {
					t.Errorf("cookie %+v", b.CookiePersistence)
				}
			},
		},
		{
			name: "canary keys: header, value, pattern, cookie and weight",
			kv: map[string]string{p + "canary": "true", p + "canary-by-header": "X-Canary", p + "canary-by-header-value": "beta",
				p + "canary-by-header-pattern": `^v\d$`, p + "canary-by-cookie": "opt", p + "canary-weight": "30", p + "canary-weight-total": "100"},
			check: func(t *testing.T, r RouteSettings, _ BackendSettings) {
				if !r.Canary.Value || r.CanaryByHeader.Value != "X-Canary" || r.CanaryByHeaderValue.Value != "beta" ||
					r.CanaryByHeaderPattern.Value != `^v\d$` || r.CanaryByCookie.Value != "opt" || r.CanaryWeight.Value != 30 {
					t.Errorf("canary settings %+v", r)
				}
			},
		},
		{
			name:  "canary keys without canary true are ignored",
			kv:    map[string]string{p + "canary-by-header": "X-Canary", p + "canary-weight-total": "1000"},
			probs: []string{p + "canary-by-header: invalid value \"X-Canary\": ignored without canary", p + "canary-weight-total: invalid value \"1000\": ignored without canary"},
		},
		{
			name:  "a weight total other than 100 and a bad pattern",
			kv:    map[string]string{p + "canary": "true", p + "canary-weight-total": "1000", p + "canary-by-header-pattern": "a b"},
			probs: []string{p + "canary-by-header-pattern: ", p + "canary-weight-total: invalid value \"1000\": only 100"},
		},
		{
			name: "permanent-redirect with its code",
			kv:   map[string]string{p + "permanent-redirect": "https://new.example.com/x", p + "permanent-redirect-code": "308"},
			check: func(t *testing.T, r RouteSettings, _ BackendSettings) {
				if r.RedirectTo.Value != "https://new.example.com/x" || r.RedirectToCode.Value != 308 {
					t.Errorf("redirect %+v %+v", r.RedirectTo, r.RedirectToCode)
				}
			},
		},
		{
			name: "permanent-redirect is 301 by default",
			kv:   map[string]string{p + "permanent-redirect": "https://new.example.com"},
			check: func(t *testing.T, r RouteSettings, _ BackendSettings) {
				if r.RedirectTo.Value != "https://new.example.com" || r.RedirectToCode.Value != 301 {
					t.Errorf("redirect %+v %+v", r.RedirectTo, r.RedirectToCode)
				}
			},
		},
		{
			name:  "temporal-redirect is 302 by default and wins over permanent-redirect",
			kv:    map[string]string{p + "temporal-redirect": "http://t.example", p + "permanent-redirect": "https://p.example"},
			probs: []string{p + "permanent-redirect: invalid value \"https://p.example\": ignored: temporal-redirect"},
			check: func(t *testing.T, r RouteSettings, _ BackendSettings) {
				if r.RedirectTo.Value != "http://t.example" || r.RedirectToCode.Value != 302 {
					t.Errorf("redirect %+v %+v", r.RedirectTo, r.RedirectToCode)
				}
			},
		},
		{
			name:  "redirect codes alone, a code that is not a redirect, a URL with a query",
			kv:    map[string]string{p + "temporal-redirect-code": "307", p + "permanent-redirect": "https://a.example/?q=1"},
			probs: []string{p + "permanent-redirect: ", p + "temporal-redirect-code: invalid value \"307\": ignored without temporal-redirect"},
		},
		{
			name: "from-to-www-redirect",
			kv:   map[string]string{p + "from-to-www-redirect": "true"},
			check: func(t *testing.T, r RouteSettings, _ BackendSettings) {
				if !r.WWWRedirect.Value {
					t.Errorf("www-redirect %+v", r.WWWRedirect)
				}
			},
		},
		{
			name:  "snippets are refused, named or not",
			kv:    map[string]string{p + "configuration-snippet": "more_set_headers x;", p + "foo-snippet": "x"},
			probs: []string{p + "configuration-snippet: refused: raw nginx configuration", p + "foo-snippet: refused: raw nginx configuration"},
		},
		{
			name:  "an unknown or unimplemented key gets a problem naming it",
			kv:    map[string]string{p + "mirror-target": "http://x", p + "no-such-key": "1"},
			probs: []string{p + "mirror-target: refused: request mirroring", p + "no-such-key: ingress-nginx annotation not supported"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, probs := Parse(SourceIngress, tt.kv)
			if len(probs) != len(tt.probs) {
				t.Fatalf("problems = %v, want %d: %v", probs, len(tt.probs), tt.probs)
			}
			for i, p := range probs {
				if !strings.HasPrefix(p.String(), tt.probs[i]) {
					t.Errorf("problem %d = %q, want it to start with %q", i, p.String(), tt.probs[i])
				}
			}
			if tt.check != nil {
				tt.check(t, ResolveRoute(l, Layer{}), ResolveBackend(Layer{}, l, Layer{}))
			}
		})
	}
	t.Run("ingress-nginx keys on a Service are ignored with a warning", func(t *testing.T) {
		_, probs := Parse(SourceService, map[string]string{p + "proxy-read-timeout": "5"})
		if len(probs) != 1 || probs[0].Severity != Warning {
			t.Errorf("problems = %v", probs)
		}
	})
}

// TestNginxTableNamesRealSettings checks that every Portcullis setting the table names exists.
func TestNginxTableNamesRealSettings(t *testing.T) {
	for _, a := range NginxAnnotations() {
		for _, part := range strings.Split(a.Equivalent, "`") {
			name, _, _ := strings.Cut(part, " ")
			if name == "" || strings.ContainsAny(name, ",()ABCDEFGHIJKLMNOPQRSTUVWXYZ") || !strings.Contains(a.Equivalent, "`"+part+"`") {
				continue
			}
			if _, ok := byName[name]; !ok {
				t.Errorf("%s: equivalent %q is not a setting", a.Name, name)
			}
		}
		if a.Status != CompatSupported && a.Difference == "" {
			t.Errorf("%s: %s without a difference", a.Name, a.Status)
		}
	}
}
