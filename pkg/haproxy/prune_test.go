package haproxy_test

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

var (
	configMap = diag.Object{Kind: "ConfigMap", Namespace: "ns", Name: "portcullis"}
	secretA   = diag.Object{Kind: "Secret", Namespace: "ns", Name: "a-tls"}
	secretB   = diag.Object{Kind: "Secret", Namespace: "ns", Name: "b-tls"}
)

// objectsConfig is a valid configuration of several objects: Ingresses a and a2 route to the
// backend of Service a, Ingress b to that of Service b, each host has a certificate from its
// Ingress and Secret, and the ConfigMap sets process-wide settings.
func objectsConfig() model.Config {
	certA := certFor("a.example.com")
	certA.Sources = []diag.Object{ingress("a"), secretA}
	certB := certFor("b.example.com")
	certB.Sources = []diag.Object{ingress("b"), secretB}
	c := model.Config{
		Listeners: []model.Listener{httpListener(), func() model.Listener {
			l := httpsListener()
			l.TLS.Certificates = []model.Certificate{certA, certB}
			return l
		}()},
		Global: model.Global{MaxConn: 1000, LogTarget: "stdout", Sources: []diag.Object{configMap}},
		HTTPRoutes: []model.HTTPRoute{
			from(prefixRoute("a.example.com", "/", "ns_a_80"), ingress("a")),
			from(withPolicy(prefixRoute("a.example.com", "/x", "ns_a_80"), model.RoutePolicy{AppRoot: "/app"}), ingress("a2")),
			from(prefixRoute("b.example.com", "/", "ns_b_80"), ingress("b")),
		},
		HTTPSRedirects: []model.HTTPSRedirect{{Host: "a.example.com", Code: 308, Port: 443}},
		Backends: []model.Backend{
			{Name: "ns_a_80", Servers: servers("10.0.0.1"), Sources: []diag.Object{ingress("a"), ingress("a2"), service("a")}},
			{Name: "ns_b_80", Servers: servers("10.0.1.1"), Sources: []diag.Object{ingress("b"), service("b")}},
		},
	}
	c.Normalize()
	return c
}

// routeSources lists the sources of cfg's HTTP routes, in order.
func routeSources(cfg model.Config) []diag.Object {
	var out []diag.Object
	for _, rt := range cfg.HTTPRoutes {
		out = append(out, rt.Source)
	}
	return out
}

func backendNames(cfg model.Config) []string {
	var out []string
	for _, b := range cfg.Backends {
		out = append(out, b.Name)
	}
	return out
}

// certSNI lists the first SNI name of each certificate of the HTTPS listener, sorted.
func certSNI(cfg model.Config) []string {
	l, _ := cfg.Listener("https")
	var out []string
	for _, c := range l.TLS.Certificates {
		out = append(out, c.SNI[0])
	}
	slices.Sort(out)
	return out
}

// certOf is the certificate of the HTTPS listener whose first SNI name is host.
func certOf(c *model.Config, host string) *model.Certificate {
	l := &c.Listeners[slices.IndexFunc(c.Listeners, func(l model.Listener) bool { return l.Name == "https" })]
	return &l.TLS.Certificates[slices.IndexFunc(l.TLS.Certificates, func(c model.Certificate) bool { return c.SNI[0] == host })]
}

func TestPruneKeepsAValidConfiguration(t *testing.T) {
	cfg := objectsConfig()
	out, rej := haproxy.Prune(cfg)
	if len(rej) != 0 {
		t.Errorf("rejections %v", rej)
	}
	if !reflect.DeepEqual(out, cfg) {
		t.Errorf("Prune changed a valid configuration:\n got %+v\nwant %+v", out, cfg)
	}
}

func TestPrune(t *testing.T) {
	type rejection struct {
		objects []diag.Object
		err     string // a part of the error
	}
	tests := []struct {
		name       string
		change     func(*model.Config)
		want       []rejection
		backends   []string
		routes     []diag.Object
		certSNI    []string
		wantGlobal model.Global
	}{
		{
			name:   "a backend with a bad policy is left out with its routes, the backend's sources named",
			change: func(c *model.Config) { c.Backends[0].Policy.Cookie = "bad cookie" },
			want: []rejection{
				{[]diag.Object{ingress("a"), ingress("a2"), service("a")}, `cookie name "bad cookie"`},
				{[]diag.Object{ingress("a")}, `backend "ns_a_80" is not defined`},
				{[]diag.Object{ingress("a2")}, `backend "ns_a_80" is not defined`},
			},
			backends: []string{"ns_b_80"},
			routes:   []diag.Object{ingress("b")},
			certSNI:  []string{"a.example.com", "b.example.com"},
		},
		{
			name:   "a backend with a bad server is left out with its routes",
			change: func(c *model.Config) { c.Backends[1].Servers[0].Port = 0 },
			want: []rejection{
				{[]diag.Object{ingress("b"), service("b")}, "invalid server"},
				{[]diag.Object{ingress("b")}, `backend "ns_b_80" is not defined`},
			},
			backends: []string{"ns_a_80"},
			routes:   []diag.Object{ingress("a"), ingress("a2")},
			certSNI:  []string{"a.example.com", "b.example.com"},
		},
		{
			name: "a route with a bad policy is left out alone",
			change: func(c *model.Config) {
				c.HTTPRoutes[1].Policy.RequestHeaders = []model.Header{{Name: "X-A", Value: `a" if TRUE`}}
			},
			want:     []rejection{{[]diag.Object{ingress("a2")}, "request header X-A"}},
			backends: []string{"ns_a_80", "ns_b_80"},
			routes:   []diag.Object{ingress("a"), ingress("b")},
			certSNI:  []string{"a.example.com", "b.example.com"},
		},
		{
			name:     "a route with a bad path is left out alone",
			change:   func(c *model.Config) { c.HTTPRoutes[0].Match.Path = "/a b" },
			want:     []rejection{{[]diag.Object{ingress("a")}, "not safe for a map file"}},
			backends: []string{"ns_a_80", "ns_b_80"},
			routes:   []diag.Object{ingress("a2"), ingress("b")},
			certSNI:  []string{"a.example.com", "b.example.com"},
		},
		{
			name: "a certificate whose name is not its hash is left out, its sources named",
			change: func(c *model.Config) {
				cert := certOf(c, "a.example.com")
				cert.PEM = append([]byte("x"), cert.PEM...)
			},
			want:     []rejection{{[]diag.Object{ingress("a"), secretA}, "is not the hash of its content"}},
			backends: []string{"ns_a_80", "ns_b_80"},
			routes:   []diag.Object{ingress("a"), ingress("a2"), ingress("b")},
			certSNI:  []string{"b.example.com"},
		},
		{
			name:     "a certificate with a bad SNI name is left out",
			change:   func(c *model.Config) { certOf(c, "b.example.com").SNI = []string{"b.example.com", "B_host"} },
			want:     []rejection{{[]diag.Object{ingress("b"), secretB}, `SNI "B_host"`}},
			backends: []string{"ns_a_80", "ns_b_80"},
			routes:   []diag.Object{ingress("a"), ingress("a2"), ingress("b")},
			certSNI:  []string{"a.example.com"},
		},
		{
			name:       "bad process-wide settings are reset to the defaults, the ConfigMap named",
			change:     func(c *model.Config) { c.Global.MaxConn, c.Global.LogFormat = -1, "%ci" },
			want:       []rejection{{[]diag.Object{configMap}, "maxconn -1"}},
			backends:   []string{"ns_a_80", "ns_b_80"},
			routes:     []diag.Object{ingress("a"), ingress("a2"), ingress("b")},
			certSNI:    []string{"a.example.com", "b.example.com"},
			wantGlobal: model.Global{Sources: []diag.Object{configMap}},
		},
		{
			name:     "a bad HTTPS redirect is left out",
			change:   func(c *model.Config) { c.HTTPSRedirects[0].Code = 200 },
			want:     []rejection{{nil, "code 200 is not a redirect"}},
			backends: []string{"ns_a_80", "ns_b_80"},
			routes:   []diag.Object{ingress("a"), ingress("a2"), ingress("b")},
			certSNI:  []string{"a.example.com", "b.example.com"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := objectsConfig()
			tt.change(&cfg)
			if _, err := haproxy.Render(cfg, testEnv); err == nil {
				t.Fatal("Render accepts the broken configuration: the case tests nothing")
			}
			out, rej := haproxy.Prune(cfg)
			if len(rej) != len(tt.want) {
				t.Fatalf("rejections %v, want %d", rej, len(tt.want))
			}
			for i, w := range tt.want {
				if !slices.Equal(rej[i].Objects, w.objects) || rej[i].Err == nil || !strings.Contains(rej[i].Err.Error(), w.err) {
					t.Errorf("rejection %d: %v %v, want %v and an error with %q", i, rej[i].Objects, rej[i].Err, w.objects, w.err)
				}
			}
			if got := backendNames(out); !slices.Equal(got, tt.backends) {
				t.Errorf("backends %q, want %q", got, tt.backends)
			}
			if got := routeSources(out); !slices.Equal(got, tt.routes) {
				t.Errorf("routes of %v, want %v", got, tt.routes)
			}
			if got := certSNI(out); !slices.Equal(got, tt.certSNI) {
				t.Errorf("certificates for %q, want %q", got, tt.certSNI)
			}
			wantGlobal := cfg.Global
			if tt.wantGlobal.Sources != nil {
				wantGlobal = tt.wantGlobal
			}
			if !reflect.DeepEqual(out.Global, wantGlobal) {
				t.Errorf("global %+v, want %+v", out.Global, wantGlobal)
			}
			// What is left renders and passes the real haproxy.
			files, err := haproxy.Render(out, testEnv)
			if err != nil {
				t.Fatalf("Render of the pruned configuration: %v", err)
			}
			haproxyCheck(t, files)
		})
	}
}

func TestPruneLeavesOutTCPRoutesThatCannotRender(t *testing.T) {
	cfg := objectsConfig()
	cfg.Listeners = append(cfg.Listeners, model.Listener{Name: "db", Bind: model.Bind{Address: anyAddr, Port: 5432}, Protocol: model.TCP})
	cfg.Backends = append(cfg.Backends, model.Backend{Name: "ns_db_5432", Servers: servers("10.0.2.1"), Sources: []diag.Object{service("db")}})
	cfg.TCPRoutes = []model.TCPRoute{
		{Listener: "db", Backend: "ns_db_5432", Source: configMap},
		// A backend serves HTTP or TCP routes, not both.
		{Listener: "db2", Backend: "ns_a_80", Source: service("tcp-services")},
	}
	cfg.Listeners = append(cfg.Listeners, model.Listener{Name: "db2", Bind: model.Bind{Address: anyAddr, Port: 5433}, Protocol: model.TCP})
	cfg.Normalize()
	out, rej := haproxy.Prune(cfg)
	if len(rej) != 1 || !slices.Equal(rej[0].Objects, []diag.Object{service("tcp-services")}) || !strings.Contains(rej[0].Err.Error(), "also serves HTTP routes") {
		t.Fatalf("rejections %v, want the TCP route to ns_a_80", rej)
	}
	if len(out.TCPRoutes) != 1 || out.TCPRoutes[0].Backend != "ns_db_5432" {
		t.Errorf("TCP routes %+v, want the one to ns_db_5432", out.TCPRoutes)
	}
	files, err := haproxy.Render(out, testEnv)
	if err != nil {
		t.Fatalf("Render of the pruned configuration: %v", err)
	}
	haproxyCheck(t, files)
}

func TestWithout(t *testing.T) {
	tests := []struct {
		name     string
		without  []diag.Object
		backends []string
		routes   []diag.Object
		certSNI  []string
		global   bool // the ConfigMap's settings stay
	}{
		{
			name: "nothing left out", backends: []string{"ns_a_80", "ns_b_80"},
			routes: []diag.Object{ingress("a"), ingress("a2"), ingress("b")}, certSNI: []string{"a.example.com", "b.example.com"}, global: true,
		},
		{
			name: "an object's routes go, a backend another object's route uses stays", without: []diag.Object{ingress("a")},
			backends: []string{"ns_a_80", "ns_b_80"}, routes: []diag.Object{ingress("a2"), ingress("b")},
			certSNI: []string{"a.example.com", "b.example.com"}, global: true,
		},
		{
			name: "a backend no route uses any more goes", without: []diag.Object{ingress("a"), ingress("a2")},
			backends: []string{"ns_b_80"}, routes: []diag.Object{ingress("b")},
			certSNI: []string{"a.example.com", "b.example.com"}, global: true,
		},
		{
			name: "a certificate goes with all of its sources", without: []diag.Object{ingress("b"), secretB},
			backends: []string{"ns_a_80"}, routes: []diag.Object{ingress("a"), ingress("a2")},
			certSNI: []string{"a.example.com"}, global: true,
		},
		{
			name: "a certificate stays while one of its sources does", without: []diag.Object{secretB},
			backends: []string{"ns_a_80", "ns_b_80"}, routes: []diag.Object{ingress("a"), ingress("a2"), ingress("b")},
			certSNI: []string{"a.example.com", "b.example.com"}, global: true,
		},
		{
			name: "the ConfigMap's settings go with it", without: []diag.Object{configMap},
			backends: []string{"ns_a_80", "ns_b_80"}, routes: []diag.Object{ingress("a"), ingress("a2"), ingress("b")},
			certSNI: []string{"a.example.com", "b.example.com"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := objectsConfig()
			out := haproxy.Without(cfg, tt.without)
			if got := backendNames(out); !slices.Equal(got, tt.backends) {
				t.Errorf("backends %q, want %q", got, tt.backends)
			}
			if got := routeSources(out); !slices.Equal(got, tt.routes) {
				t.Errorf("routes of %v, want %v", got, tt.routes)
			}
			if got := certSNI(out); !slices.Equal(got, tt.certSNI) {
				t.Errorf("certificates for %q, want %q", got, tt.certSNI)
			}
			wantGlobal := model.Global{Sources: cfg.Global.Sources}
			if tt.global {
				wantGlobal = cfg.Global
			}
			if !reflect.DeepEqual(out.Global, wantGlobal) {
				t.Errorf("global %+v, want %+v", out.Global, wantGlobal)
			}
			for _, o := range tt.without {
				if slices.Contains(routeSources(out), o) {
					t.Errorf("a route of %v is left", o)
				}
			}
			// The input is not changed.
			if !reflect.DeepEqual(cfg, objectsConfig()) {
				t.Error("Without changed its input")
			}
			if _, err := haproxy.Render(out, testEnv); err != nil {
				t.Errorf("Render: %v", err)
			}
		})
	}
}

func TestObjects(t *testing.T) {
	want := []diag.Object{
		configMap, ingress("a"), ingress("a2"), ingress("b"), secretA, secretB, service("a"), service("b"),
	}
	if got := haproxy.Objects(objectsConfig()); !slices.Equal(got, want) {
		t.Errorf("objects\n got %v\nwant %v", got, want)
	}
	if got := haproxy.Objects(haproxy.Without(objectsConfig(), []diag.Object{ingress("b"), secretB, service("b")})); !slices.Equal(got,
		[]diag.Object{configMap, ingress("a"), ingress("a2"), secretA, service("a")}) {
		t.Errorf("objects without b: %v", got)
	}
}

func gateway(name string) diag.Object {
	return diag.Object{Kind: "Gateway", Namespace: "ns", Name: name}
}

// TestPruneLeavesOutListenersThatCannotRender: a listener from an object (a Gateway) that fails the
// renderer's checks is left out with its sources, so that one bad Gateway never stops the rest;
// its table's routes are then served nowhere and the TCP routes on it are left out. The operator's
// own listeners and binds are kept, and a Gateway's listener that would take one of their binds
// is the one left out, whatever the order of names.
func TestPruneLeavesOutListenersThatCannotRender(t *testing.T) {
	cfg := objectsConfig()
	cfg.Stats = model.Bind{Address: anyAddr, Port: 9100}
	badCert := testCert()
	badCert.PEM = append([]byte("x"), badCert.PEM...)
	cfg.Listeners = append(cfg.Listeners,
		model.Listener{Name: "gw-good", Bind: model.Bind{Address: anyAddr, Port: 9090}, Protocol: model.HTTP, Table: "gw-good", Sources: []diag.Object{gateway("good")}},
		// Sorted before "http": it is still the one left out.
		model.Listener{Name: "a-gw-takes-http", Bind: model.Bind{Address: anyAddr, Port: 8080}, Protocol: model.HTTP, Table: "gw-takes", Sources: []diag.Object{gateway("takes-http")}},
		model.Listener{Name: "gw-stats", Bind: model.Bind{Address: anyAddr, Port: 9100}, Protocol: model.HTTP, Table: "gw-stats", Sources: []diag.Object{gateway("stats")}},
		model.Listener{Name: "gw-cert", Bind: model.Bind{Address: anyAddr, Port: 9443}, Protocol: model.HTTPS, Table: "gw-cert",
			TLS: &model.ListenerTLS{Default: badCert}, Sources: []diag.Object{gateway("cert")}},
		// The same port as gw-good on another address is fine; the same bind as gw-good is not.
		model.Listener{Name: "gw-good-2", Bind: model.Bind{Address: netip.MustParseAddr("127.0.0.2"), Port: 9090}, Protocol: model.HTTP, Table: "gw-good-2", Sources: []diag.Object{gateway("good")}},
		model.Listener{Name: "gw-twin", Bind: model.Bind{Address: anyAddr, Port: 9090}, Protocol: model.HTTP, Table: "gw-twin", Sources: []diag.Object{gateway("twin")}},
		model.Listener{Name: "gw-tcp", Bind: model.Bind{Address: anyAddr, Port: 0}, Protocol: model.TCP, Sources: []diag.Object{gateway("tcp")}},
	)
	cfg.Backends = append(cfg.Backends, model.Backend{Name: "ns_db_5432", Servers: servers("10.0.2.1"), Sources: []diag.Object{service("db")}})
	cfg.TCPRoutes = []model.TCPRoute{{Listener: "gw-tcp", Backend: "ns_db_5432", Source: gateway("tcp")}}
	for _, table := range []string{"gw-good", "gw-takes", "gw-cert"} {
		cfg.HTTPRoutes = append(cfg.HTTPRoutes, from(inTable(prefixRoute("gw.example.com", "/"+table, "ns_b_80"), table), gateway(table)))
	}
	cfg.Normalize()
	if _, err := haproxy.Render(cfg, testEnv); err == nil {
		t.Fatal("Render accepts the broken listeners: the test tests nothing")
	}
	out, rej := haproxy.Prune(cfg)
	want := []struct {
		obj diag.Object
		err string
	}{
		{gateway("takes-http"), "0.0.0.0:8080 is also http's"},
		{gateway("cert"), "is not the hash of its content"},
		{gateway("stats"), "0.0.0.0:9100 is also stats's"},
		{gateway("tcp"), "invalid bind"},
		{gateway("twin"), "0.0.0.0:9090 is also gw-good's"},
		{gateway("tcp"), `listener "gw-tcp" does not exist`},
	}
	if len(rej) != len(want) {
		t.Fatalf("rejections %v, want %d", rej, len(want))
	}
	for i, w := range want {
		if !slices.Equal(rej[i].Objects, []diag.Object{w.obj}) || !strings.Contains(rej[i].Err.Error(), w.err) {
			t.Errorf("rejection %d: %v %v, want %v with %q", i, rej[i].Objects, rej[i].Err, w.obj, w.err)
		}
	}
	var names []string
	for _, l := range out.Listeners {
		names = append(names, l.Name)
	}
	if wantNames := []string{"gw-good", "gw-good-2", "http", "https"}; !slices.Equal(names, wantNames) {
		t.Errorf("listeners %q, want %q", names, wantNames)
	}
	if len(out.TCPRoutes) != 0 {
		t.Errorf("TCP routes %+v, want none", out.TCPRoutes)
	}
	files, err := haproxy.Render(out, testEnv)
	if err != nil {
		t.Fatalf("Render of the pruned configuration: %v", err)
	}
	haproxyCheck(t, files)
	// The good Gateway's table is served; the routes of the tables left without a listener are
	// in no map and no frontend.
	if got := string(files[haproxy.PrefixMap("gw-good")]); !strings.Contains(got, "gw.example.com/gw-good/") {
		t.Errorf("table gw-good's prefix map %q lacks its route", got)
	}
	for name, content := range files {
		if strings.Contains(name, "gw-takes") || strings.Contains(name, "gw-cert") || strings.Contains(string(content), "gw-takes") || strings.Contains(string(content), "gw-cert") {
			t.Errorf("%s renders a table whose listener is left out", name)
		}
	}
	// A valid configuration with listeners from objects is left as it is.
	if again, rej := haproxy.Prune(out); len(rej) != 0 || !reflect.DeepEqual(again, out) {
		t.Errorf("Prune of the pruned configuration: %v", rej)
	}
}

// TestWithoutListeners: a listener goes with all of its sources, which are objects of the
// configuration (so that Isolate can find a Gateway whose listener haproxy refuses).
func TestWithoutListeners(t *testing.T) {
	cfg := objectsConfig()
	cfg.Listeners = append(cfg.Listeners,
		model.Listener{Name: "gw-a", Bind: model.Bind{Address: anyAddr, Port: 9090}, Protocol: model.HTTP, Table: "gw-a", Sources: []diag.Object{gateway("a")}},
		model.Listener{Name: "gw-ab", Bind: model.Bind{Address: anyAddr, Port: 9091}, Protocol: model.HTTP, Table: "gw-ab", Sources: []diag.Object{gateway("a"), gateway("b")}},
	)
	cfg.Normalize()
	if got := haproxy.Objects(cfg); !slices.Contains(got, gateway("a")) || !slices.Contains(got, gateway("b")) {
		t.Errorf("objects %v lack the Gateways", got)
	}
	out := haproxy.Without(cfg, []diag.Object{gateway("a")})
	var names []string
	for _, l := range out.Listeners {
		names = append(names, l.Name)
	}
	if want := []string{"gw-ab", "http", "https"}; !slices.Equal(names, want) {
		t.Errorf("listeners without Gateway a: %q, want %q", names, want)
	}
	if only := haproxy.Only(cfg, gateway("b")); len(only.Listeners) != 1 || only.Listeners[0].Name != "gw-ab" {
		t.Errorf("Only(Gateway b) = %+v, want its listener", only.Listeners)
	}
}
