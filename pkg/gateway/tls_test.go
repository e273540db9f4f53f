package gateway_test

import (
	"slices"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// Certificates of HTTPS listeners: on the shared port 443 they join the controller's HTTPS
// listener, for the listener's hostname or, without one, the certificate's own DNS names; on a
// bind of its own, the first certificate is the default and each is served by SNI
// (HTTPRouteHTTPSListener).
func TestListenerCertificates(t *testing.T) {
	objs := objects(t, classes, backendsYAML, `
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
  - {name: named, port: 443, protocol: HTTPS, hostname: secure.example.org, tls: {certificateRefs: [{name: tls}]}}
  - {name: any, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: tls}]}}
---
kind: HTTPRoute
metadata: {namespace: infra, name: r}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
`)
	crt, _ := testCertificate()
	for _, c := range []struct {
		name     string
		pool     bool
		listener string
		bind     string
		table    string
	}{
		{name: "shared", listener: "https", bind: "0.0.0.0:8443", table: ""},
		{name: "pool", pool: true, listener: "gw-10-66-0-1-p443", bind: "10.66.0.1:443", table: "gw-10-66-0-1-p443"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := sharedOptions()
			if c.pool {
				o = poolOptions()
			}
			res := translate(t, objs, o)
			l, ok := res.Config.Listener(c.listener)
			if !ok || l.TLS == nil {
				t.Fatalf("no HTTPS listener %s: %+v", c.listener, res.Config.Listeners)
			}
			if got := l.Bind.Address.String() + ":" + itoa(int(l.Port)); got != c.bind || l.Protocol != model.HTTPS || l.Table != c.table {
				t.Errorf("listener %s %s table %q", got, l.Protocol, l.Table)
			}
			if len(l.TLS.Certificates) != 1 {
				t.Fatalf("certificates %+v", l.TLS.Certificates)
			}
			cert := l.TLS.Certificates[0]
			if want := []string{"*.example.com", "example.com", "secure.example.org"}; !slices.Equal(sorted(cert.SNI), want) {
				t.Errorf("SNI %v, want %v", cert.SNI, want)
			}
			if l.TLS.Default.Name != cert.Name || !slices.Contains(cert.Sources, objRef("Secret", "infra", "tls")) {
				t.Errorf("default %s, sources %v", l.TLS.Default.Name, cert.Sources)
			}
			if len(cert.PEM) < len(crt) {
				t.Errorf("PEM too short")
			}
			for _, rt := range res.Config.HTTPRoutes {
				if rt.Match.Table != c.table {
					t.Errorf("route %v in table %q", rt.Match, rt.Match.Table)
				}
			}
			want := []string{"secure.example.org", ""}
			var hosts []string
			for _, rt := range res.Config.HTTPRoutes {
				hosts = append(hosts, rt.Match.Host)
			}
			if !slices.Equal(sorted(hosts), sorted(want)) {
				t.Errorf("hosts %q, want %q", hosts, want)
			}
		})
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
