package annotations

import (
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// mustParse parses an object and fails the test on any problem.
func mustParse(t *testing.T, src Source, kv map[string]string) Layer {
	t.Helper()
	l, probs := Parse(src, kv)
	if len(probs) > 0 {
		t.Fatalf("Parse(%s, %v) problems: %v", src, kv, probs)
	}
	return l
}

func TestPrecedence(t *testing.T) {
	cm := mustParse(t, SourceConfigMap, map[string]string{"timeout-server": "30s", "load-balance": "source", "check-interval": "5s"})
	ing := mustParse(t, SourceIngress, map[string]string{"portcullis.io/timeout-server": "40s", "haproxy.org/load-balance": "first"})
	svc := mustParse(t, SourceService, map[string]string{"portcullis.io/timeout-server": "45s"})

	tests := []struct {
		name        string
		svc, ing, c Layer
		want        Value[time.Duration]
	}{
		{"the Service beats the Ingress and the ConfigMap", svc, ing, cm, Value[time.Duration]{45 * time.Second, "portcullis.io/timeout-server", SourceService}},
		{"the Ingress beats the ConfigMap", Layer{}, ing, cm, Value[time.Duration]{40 * time.Second, "portcullis.io/timeout-server", SourceIngress}},
		{"the ConfigMap beats the default", Layer{}, Layer{}, cm, Value[time.Duration]{30 * time.Second, "timeout-server", SourceConfigMap}},
		{"the default applies when nothing is set", Layer{}, Layer{}, Layer{}, Value[time.Duration]{50 * time.Second, "timeout-server", SourceDefault}},
		{"argument order does not matter", cm, svc, ing, Value[time.Duration]{45 * time.Second, "portcullis.io/timeout-server", SourceService}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ResolveBackend(tt.svc, tt.ing, tt.c).TimeoutServer
			if got != tt.want {
				t.Errorf("TimeoutServer = %+v, want %+v", got, tt.want)
			}
		})
	}

	t.Run("each setting is resolved on its own", func(t *testing.T) {
		b := ResolveBackend(svc, ing, cm)
		if want := (Value[Balance]{Balance{Algorithm: "first"}, "haproxy.org/load-balance", SourceIngress}); b.LoadBalance != want {
			t.Errorf("LoadBalance = %+v, want %+v", b.LoadBalance, want)
		}
		if want := (Value[time.Duration]{5 * time.Second, "check-interval", SourceConfigMap}); b.CheckInterval != want {
			t.Errorf("CheckInterval = %+v, want %+v", b.CheckInterval, want)
		}
	})
}

func TestBadValueFallsBack(t *testing.T) {
	cm := mustParse(t, SourceConfigMap, map[string]string{"timeout-server": "30s"})
	ing := mustParse(t, SourceIngress, map[string]string{"portcullis.io/timeout-server": "40s"})
	svc, probs := Parse(SourceService, map[string]string{"portcullis.io/timeout-server": "40s\nlua-load /tmp/x.lua"})

	want := []Problem{{
		Key:      "portcullis.io/timeout-server",
		Value:    `"40s\nlua-load /tmp/x.lua"`,
		Message:  "unknown unit: want us, ms, s, m, h or d; the value is ignored and the next setting in precedence order applies",
		Severity: Error,
	}}
	if !reflect.DeepEqual(probs, want) {
		t.Fatalf("problems = %#v, want %#v", probs, want)
	}
	if got, want := ResolveBackend(svc, ing, cm).TimeoutServer, (Value[time.Duration]{40 * time.Second, "portcullis.io/timeout-server", SourceIngress}); got != want {
		t.Errorf("with a bad Service value: %+v, want the Ingress value %+v", got, want)
	}
	if got, want := ResolveBackend(svc, Layer{}, cm).TimeoutServer, (Value[time.Duration]{30 * time.Second, "timeout-server", SourceConfigMap}); got != want {
		t.Errorf("with a bad Service value and no Ingress value: %+v, want the ConfigMap value %+v", got, want)
	}
	if got, want := ResolveBackend(svc, Layer{}, Layer{}).TimeoutServer, (Value[time.Duration]{50 * time.Second, "timeout-server", SourceDefault}); got != want {
		t.Errorf("with only a bad Service value: %+v, want the default %+v", got, want)
	}
}

func TestResolveRouteAndGlobal(t *testing.T) {
	cm := mustParse(t, SourceConfigMap, map[string]string{
		"ssl-redirect": "true", "whitelist": "10.0.0.0/8", "maxconn": "1000", "timeout-server": "1m",
	})
	ing := mustParse(t, SourceIngress, map[string]string{
		"portcullis.io/ssl-redirect": "false", "portcullis.io/canary-service": "web-canary", "portcullis.io/canary-weight": "25",
	})

	r := ResolveRoute(ing, cm)
	if want := (Value[bool]{false, "portcullis.io/ssl-redirect", SourceIngress}); r.SSLRedirect != want {
		t.Errorf("route SSLRedirect = %+v, want %+v", r.SSLRedirect, want)
	}
	if want := (Value[[]netip.Prefix]{[]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "whitelist", SourceConfigMap}); !reflect.DeepEqual(r.AllowList, want) {
		t.Errorf("route AllowList = %+v, want %+v", r.AllowList, want)
	}
	if want := (Value[ServiceRef]{ServiceRef{Name: "web-canary"}, "portcullis.io/canary-service", SourceIngress}); r.CanaryService != want {
		t.Errorf("route CanaryService = %+v, want %+v", r.CanaryService, want)
	}
	if r.CanaryWeight.Value != 25 {
		t.Errorf("route CanaryWeight = %+v, want 25", r.CanaryWeight)
	}
	if want := (Value[HeaderValue]{"Protected Content", "auth-realm", SourceDefault}); r.AuthRealm != want {
		t.Errorf("route AuthRealm = %+v, want %+v", r.AuthRealm, want)
	}

	g := ResolveGlobal(cm)
	if want := (Value[bool]{true, "ssl-redirect", SourceConfigMap}); g.SSLRedirect != want {
		t.Errorf("global SSLRedirect = %+v, want %+v", g.SSLRedirect, want)
	}
	if g.MaxConn.Value != 1000 || g.TimeoutServer.Value != time.Minute || g.NbThread != (Value[int]{0, "nbthread", SourceDefault}) {
		t.Errorf("global = %+v", g)
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		src  Source
		kv   map[string]string
		want []Problem
	}{
		{
			name: "annotations of other controllers and tools are ignored",
			src:  SourceIngress,
			kv: map[string]string{
				"kubernetes.io/ingress.class": "x", "traefik.ingress.kubernetes.io/router.tls": "true",
				"kubectl.kubernetes.io/last-applied-configuration": "{}", "alb.ingress.kubernetes.io/scheme": "x",
			},
		},
		{
			name: "a misspelt key gets a suggestion",
			src:  SourceIngress,
			kv:   map[string]string{"portcullis.io/load-balence": "leastconn"},
			want: []Problem{{Key: "portcullis.io/load-balence", Severity: Error, Message: "unknown annotation; did you mean portcullis.io/load-balance?"}},
		},
		{
			name: "a haproxytech name under our prefix points at our name",
			src:  SourceService,
			kv:   map[string]string{"portcullis.io/scale-server-slots": "10"},
			want: []Problem{{Key: "portcullis.io/scale-server-slots", Severity: Error, Message: "unknown annotation; did you mean portcullis.io/server-slots?"}},
		},
		{
			name: "a key far from any other gets no suggestion",
			src:  SourceIngress,
			kv:   map[string]string{"portcullis.io/frobnicate": "1"},
			want: []Problem{{Key: "portcullis.io/frobnicate", Severity: Error, Message: "unknown annotation"}},
		},
		{
			name: "an unsupported haproxytech annotation is a warning",
			src:  SourceIngress,
			kv:   map[string]string{"haproxy.org/src-ip-header": "X-Real-IP"},
			want: []Problem{{Key: "haproxy.org/src-ip-header", Severity: Warning, Message: "not supported by Portcullis"}},
		},
		{
			name: "a haproxytech snippet is refused",
			src:  SourceService,
			kv:   map[string]string{"haproxy.org/backend-config-snippet": "http-request deny"},
			want: []Problem{{Key: "haproxy.org/backend-config-snippet", Severity: Warning, Message: "not supported by Portcullis: raw configuration snippets are never accepted"}},
		},
		{
			name: "a haproxytech annotation with another format points at ours",
			src:  SourceIngress,
			kv:   map[string]string{"haproxy.org/path-rewrite": "/foo/(.*) /\\1"},
			want: []Problem{{Key: "haproxy.org/path-rewrite", Severity: Warning, Message: "not supported by Portcullis; use portcullis.io/path-rewrite, whose value format differs (see documentation/annotations.md)"}},
		},
		{
			name: "a ConfigMap-only key on an Ingress",
			src:  SourceIngress,
			kv:   map[string]string{"portcullis.io/maxconn": "100"},
			want: []Problem{{Key: "portcullis.io/maxconn", Severity: Error, Message: "not allowed on an Ingress; allowed in: ConfigMap"}},
		},
		{
			name: "an Ingress-only key on a Service",
			src:  SourceService,
			kv:   map[string]string{"haproxy.org/auth-secret": "users"},
			want: []Problem{{Key: "haproxy.org/auth-secret", Severity: Error, Message: "not allowed on a Service; allowed in: Ingress"}},
		},
		{
			name: "an Ingress-only key in the ConfigMap",
			src:  SourceConfigMap,
			kv:   map[string]string{"canary-weight": "10"},
			want: []Problem{{Key: "canary-weight", Severity: Error, Message: "not allowed in the ConfigMap; allowed in: Ingress"}},
		},
		{
			name: "a prefixed key in the ConfigMap",
			src:  SourceConfigMap,
			kv:   map[string]string{"portcullis.io/maxconn": "100"},
			want: []Problem{{Key: "portcullis.io/maxconn", Severity: Error, Message: "ConfigMap keys carry no prefix: use maxconn"}},
		},
		{
			name: "a misspelt ConfigMap key",
			src:  SourceConfigMap,
			kv:   map[string]string{"tiemout-server": "1s"},
			want: []Problem{{Key: "tiemout-server", Severity: Error, Message: "unknown ConfigMap key; did you mean timeout-server?"}},
		},
		{
			name: "an unsupported haproxytech ConfigMap key",
			src:  SourceConfigMap,
			kv:   map[string]string{"set-host": "example.com", "global-config-snippet": "lua-load /x"},
			want: []Problem{
				{Key: "global-config-snippet", Severity: Warning, Message: "haproxytech setting not supported by Portcullis: raw configuration snippets are never accepted"},
				{Key: "set-host", Severity: Warning, Message: "haproxytech setting not supported by Portcullis"},
			},
		},
		{
			name: "the canonical key beats an alias on the same object",
			src:  SourceIngress,
			kv:   map[string]string{"portcullis.io/allow-list": "10.0.0.0/8", "haproxy.org/whitelist": "0.0.0.0/0", "haproxy.org/allow-list": "0.0.0.0/0"},
			want: []Problem{
				{Key: "haproxy.org/allow-list", Severity: Warning, Message: "ignored: portcullis.io/allow-list is also set and takes precedence"},
				{Key: "haproxy.org/whitelist", Severity: Warning, Message: "ignored: portcullis.io/allow-list is also set and takes precedence"},
			},
		},
		{
			name: "an empty value",
			src:  SourceIngress,
			kv:   map[string]string{"portcullis.io/auth-secret": ""},
			want: []Problem{{Key: "portcullis.io/auth-secret", Value: `""`, Severity: Error, Message: "empty value; the value is ignored and the next setting in precedence order applies"}},
		},
		{
			name: "a huge value is clipped",
			src:  SourceIngress,
			kv:   map[string]string{"portcullis.io/auth-realm": strings.Repeat("a", 1<<20)},
			want: []Problem{{Key: "portcullis.io/auth-realm", Value: `"` + strings.Repeat("a", 64) + `"... (1048576 bytes)`, Severity: Error, Message: "too long (1048576 bytes); the value is ignored and the next setting in precedence order applies"}},
		},
		{
			name: "an unknown key with control characters, as a webhook may see it",
			src:  SourceIngress,
			kv:   map[string]string{"portcullis.io/x\ny": "1"},
			want: []Problem{{Key: `"portcullis.io/x\ny"`, Severity: Error, Message: "unknown annotation"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := Parse(tt.src, tt.kv)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestAliasPrecedence(t *testing.T) {
	t.Run("the canonical key's value is used", func(t *testing.T) {
		l, _ := Parse(SourceIngress, map[string]string{"portcullis.io/allow-list": "10.0.0.0/8", "haproxy.org/whitelist": "0.0.0.0/0"})
		got := ResolveRoute(l, Layer{}).AllowList
		if got.Key != "portcullis.io/allow-list" || got.Value[0] != netip.MustParsePrefix("10.0.0.0/8") {
			t.Errorf("AllowList = %+v", got)
		}
	})
	t.Run("an earlier alias beats a later one", func(t *testing.T) {
		l, _ := Parse(SourceConfigMap, map[string]string{"servers-increment": "5", "scale-server-slots": "7"})
		if got := ResolveGlobal(l).ServerSlots; got != (Value[int]{7, "scale-server-slots", SourceConfigMap}) {
			t.Errorf("ServerSlots = %+v", got)
		}
	})
	t.Run("a bad canonical value does not fall back to an alias on the same object", func(t *testing.T) {
		l, probs := Parse(SourceService, map[string]string{"portcullis.io/check": "maybe", "haproxy.org/check": "false"})
		if len(probs) != 2 {
			t.Errorf("problems = %v, want the bad value and the shadowed alias", probs)
		}
		if got := ResolveBackend(l, Layer{}, Layer{}).Check; got.Source != SourceDefault {
			t.Errorf("Check = %+v, want the default", got)
		}
	})
}

func TestProblemString(t *testing.T) {
	p := Problem{Key: "portcullis.io/timeout-server", Value: `"5x"`, Message: "unknown unit", Severity: Error}
	if got, want := p.String(), `portcullis.io/timeout-server: invalid value "5x": unknown unit`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	p = Problem{Key: "portcullis.io/x", Message: "unknown annotation", Severity: Error}
	if got, want := p.String(), "portcullis.io/x: unknown annotation"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestParseRejectsDefaultSource(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Parse(SourceDefault, ...) did not panic")
		}
	}()
	Parse(SourceDefault, nil)
}

func TestScopeString(t *testing.T) {
	for s, want := range map[Scope]string{0: "none", ScopeConfigMap: "ConfigMap", ScopeIngress | ScopeService: "Ingress, Service", scopeAll: "ConfigMap, Ingress, Service"} {
		if got := s.String(); got != want {
			t.Errorf("Scope(%d).String() = %q, want %q", s, got, want)
		}
	}
}

// TestDefinitions checks the registry itself.
func TestDefinitions(t *testing.T) {
	defs := Definitions()
	if len(defs) != len(registry) {
		t.Fatalf("Definitions() has %d entries, registry %d", len(defs), len(registry))
	}
	for _, d := range defs {
		t.Run(d.Name, func(t *testing.T) {
			if d.Doc == "" || d.Type == "" || d.Example == "" || d.Scopes == 0 {
				t.Errorf("incomplete definition: %+v", d)
			}
			if groupRank(d.Group) < 0 {
				t.Errorf("group %q is not in groups", d.Group)
			}
			if limits.CheckToken(d.Name) != nil || strings.ContainsAny(d.Name, "_.") {
				t.Errorf("name %q is not lower-case words joined by hyphens", d.Name)
			}
			if _, err := byName[d.Name].parseAny(d.Example); err != nil {
				t.Errorf("example %q: %v", d.Example, err)
			}
			if d.Key() != Prefix+d.Name {
				t.Errorf("Key() = %q", d.Key())
			}
		})
	}
	for _, k := range peerOnly {
		if _, ok := byName[k]; ok {
			t.Errorf("peerOnly %q is a setting name", k)
		}
		if _, ok := byAlias[k]; ok {
			t.Errorf("peerOnly %q is an alias", k)
		}
	}
}

// TestEverySettingIsResolved checks that each setting feeds at least one field of the settings
// structs, and that those fields accept every source the setting may be given in: a setting
// allowed on a Service but never read from one would be silently ignored.
func TestEverySettingIsResolved(t *testing.T) {
	full := func(src Source) Layer {
		l := Layer{source: src, values: map[string]found{}}
		for _, s := range registry {
			d := s.definition()
			v, err := s.parseAny(d.Example)
			if err != nil {
				t.Fatalf("example of %s: %v", d.Name, err)
			}
			l.values[d.Name] = found{key: d.Name, value: v}
		}
		return l
	}
	readFrom := map[string]Scope{}
	collect := func(settings any, src Source) {
		v := reflect.ValueOf(settings)
		for i := range v.NumField() {
			f := v.Field(i)
			if got := Source(f.FieldByName("Source").Uint()); got != src {
				t.Errorf("%s.%s has source %s, want %s", v.Type().Name(), v.Type().Field(i).Name, got, src)
			}
			readFrom[f.FieldByName("Key").String()] |= src.scope()
		}
	}
	for _, src := range []Source{SourceConfigMap, SourceIngress, SourceService} {
		collect(ResolveBackend(full(src), Layer{}, Layer{}), src)
	}
	for _, src := range []Source{SourceConfigMap, SourceIngress} {
		collect(ResolveRoute(full(src), Layer{}), src)
	}
	collect(ResolveGlobal(full(SourceConfigMap)), SourceConfigMap)

	for _, s := range registry {
		d := s.definition()
		if d.Scopes&^readFrom[d.Name] != 0 {
			t.Errorf("%s may be set in %s but is read only from %s", d.Name, d.Scopes, readFrom[d.Name])
		}
	}
}

// TestKeysAppearOnce checks the naming rule: each key string appears once in the code, in the
// registry.
func TestKeysAppearOnce(t *testing.T) {
	// The table of ingress-nginx keys is another namespace, whose keys appear once in it; so are
	// the haproxytech keys of haproxytech.go, which TestPeerKeys checks.
	src := readSources(t, "nginx.go", "haproxytech.go")
	nginx, err := os.ReadFile("nginx.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range NginxAnnotations() {
		if c := strings.Count(string(nginx), `"`+a.Name+`"`); c != 1 {
			t.Errorf("ingress-nginx key %q appears %d times in nginx.go, want 1", a.Name, c)
		}
	}
	var names []string
	for _, s := range registry {
		d := s.definition()
		names = append(names, d.Name)
		for _, a := range d.Aliases {
			if a != d.Name {
				names = append(names, a)
			}
		}
	}
	names = append(names, peerOnly...)
	for _, n := range names {
		if c := strings.Count(src, `"`+n+`"`); c != 1 {
			t.Errorf("%q appears %d times in the package's code, want 1", n, c)
		}
	}
	if !slices.IsSorted(peerOnly) {
		t.Error("peerOnly is not sorted")
	}
}
