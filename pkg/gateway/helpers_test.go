package gateway_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/gateway"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/resolve"
)

const testController = "portcullis.io/gateway-controller"

// The objects of the tests are written as the manifests of the conformance suite are: YAML
// documents, one kind each. The class "ours" is this controller's; Gateways are created one hour
// apart in the order of the documents unless they say otherwise.
const classes = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: ours, generation: 3}
spec: {controllerName: portcullis.io/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: theirs}
spec: {controllerName: example.com/other}
`

// backendsYAML are Services with one ready endpoint each: infra/web (port 8080, 10.0.0.1:3000),
// infra/api (8080, 10.0.0.2:3000) and apps/app (8080, 10.0.1.1:3000).
const backendsYAML = `
kind: Service
metadata: {namespace: infra, name: web}
spec: {ports: [{name: http, port: 8080}]}
---
kind: EndpointSlice
metadata: {namespace: infra, name: web-1, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 3000}]
endpoints: [{addresses: [10.0.0.1]}]
---
kind: Service
metadata: {namespace: infra, name: api}
spec: {ports: [{name: http, port: 8080}]}
---
kind: EndpointSlice
metadata: {namespace: infra, name: api-1, labels: {kubernetes.io/service-name: api}}
addressType: IPv4
ports: [{name: http, port: 3000}]
endpoints: [{addresses: [10.0.0.2]}]
---
kind: Service
metadata: {namespace: apps, name: app}
spec: {ports: [{name: http, port: 8080}]}
---
kind: EndpointSlice
metadata: {namespace: apps, name: app-1, labels: {kubernetes.io/service-name: app}}
addressType: IPv4
ports: [{name: http, port: 3000}]
endpoints: [{addresses: [10.0.1.1]}]
---
kind: Namespace
metadata: {name: infra, labels: {kubernetes.io/metadata.name: infra, tier: infra}}
---
kind: Namespace
metadata: {name: apps, labels: {kubernetes.io/metadata.name: apps}}
`

// objects decodes YAML documents into the State of a translation. "{CERT}" in a document is
// replaced by the base64 of the test certificate's chain, "{KEY}" by its key's.
func objects(t *testing.T, docs ...string) gateway.State {
	t.Helper()
	var s gateway.State
	var svcs []*corev1.Service
	var eps []*discoveryv1.EndpointSlice
	var secrets []*corev1.Secret
	crt, key := testCertificate()
	all := strings.Join(docs, "\n---\n")
	all = strings.NewReplacer("{CERT}", b64(crt), "{KEY}", b64(key)).Replace(all)
	hour := 0
	for _, doc := range strings.Split(all, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var meta struct {
			Kind string `json:"kind"`
		}
		must(t, yaml.Unmarshal([]byte(doc), &meta), doc)
		stamp := func(m *metav1.ObjectMeta) {
			if m.CreationTimestamp.IsZero() {
				hour++
				m.CreationTimestamp = metav1.NewTime(time.Date(2024, 1, 1, hour, 0, 0, 0, time.UTC))
			}
		}
		switch meta.Kind {
		case "GatewayClass":
			var o gatewayv1.GatewayClass
			must(t, yaml.UnmarshalStrict([]byte(doc), &o), doc)
			s.GatewayClasses = append(s.GatewayClasses, o)
		case "Gateway":
			var o gatewayv1.Gateway
			must(t, yaml.UnmarshalStrict([]byte(doc), &o), doc)
			stamp(&o.ObjectMeta)
			s.Gateways = append(s.Gateways, o)
		case "HTTPRoute":
			var o gatewayv1.HTTPRoute
			must(t, yaml.UnmarshalStrict([]byte(doc), &o), doc)
			stamp(&o.ObjectMeta)
			s.HTTPRoutes = append(s.HTTPRoutes, o)
		case "TLSRoute":
			var o gatewayv1.TLSRoute
			must(t, yaml.UnmarshalStrict([]byte(doc), &o), doc)
			stamp(&o.ObjectMeta)
			s.TLSRoutes = append(s.TLSRoutes, o)
		case "GRPCRoute":
			var o gatewayv1.GRPCRoute
			must(t, yaml.UnmarshalStrict([]byte(doc), &o), doc)
			stamp(&o.ObjectMeta)
			s.GRPCRoutes = append(s.GRPCRoutes, o)
		case "ReferenceGrant":
			var o gatewayv1beta1.ReferenceGrant
			must(t, yaml.UnmarshalStrict([]byte(doc), &o), doc)
			s.ReferenceGrants = append(s.ReferenceGrants, o)
		case "Namespace":
			var o corev1.Namespace
			must(t, yaml.UnmarshalStrict([]byte(doc), &o), doc)
			s.Namespaces = append(s.Namespaces, o)
		case "Service":
			var o corev1.Service
			must(t, yaml.UnmarshalStrict([]byte(doc), &o), doc)
			svcs = append(svcs, &o)
		case "EndpointSlice":
			var o discoveryv1.EndpointSlice
			must(t, yaml.UnmarshalStrict([]byte(doc), &o), doc)
			eps = append(eps, &o)
		case "Secret":
			var o corev1.Secret
			must(t, yaml.UnmarshalStrict([]byte(doc), &o), doc)
			secrets = append(secrets, &o)
		case "ConfigMap":
			var o corev1.ConfigMap
			must(t, yaml.UnmarshalStrict([]byte(doc), &o), doc)
			s.ConfigMap = &o
		default:
			t.Fatalf("unknown kind %q in\n%s", meta.Kind, doc)
		}
	}
	s.Cluster = resolve.New(svcs, eps, secrets, resolve.AddressPolicy{})
	return s
}

func must(t *testing.T, err error, doc string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%v in\n%s", err, doc)
	}
}

// sharedOptions are the options of shared address mode: the controller's listeners bind
// 0.0.0.0:8080 (HTTP) and :8443 (HTTPS) inside the pod, published as 192.0.2.1.
func sharedOptions() gateway.Options {
	return gateway.Options{
		ControllerName:     testController,
		PublishedAddresses: []string{"192.0.2.1", "lb.example.com"},
		HTTPListener:       "http", HTTPSListener: "https",
		HTTP:     model.Bind{Address: netip.IPv4Unspecified(), Port: 8080},
		HTTPS:    model.Bind{Address: netip.IPv4Unspecified(), Port: 8443},
		Reserved: []uint16{1024, 1042},
		Now:      time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC),
	}
}

// poolOptions are the options of pool mode, with the pool 10.66.0.0/29 (six usable addresses).
func poolOptions() gateway.Options {
	o := sharedOptions()
	o.AddressPool = netip.MustParsePrefix("10.66.0.0/29")
	return o
}

// translate runs Translate and checks what every result must hold: the fragment renders
// (haproxy.Prune leaves nothing out), and translating again gives the same result.
func translate(t *testing.T, s gateway.State, o gateway.Options) gateway.Result {
	t.Helper()
	res := gateway.Translate(s, o)
	if _, rej := haproxy.Prune(res.Config); len(rej) > 0 {
		for _, r := range rej {
			if !rendererKnowsUnresolved() && strings.Contains(r.Err.Error(), `backend "" is not defined`) {
				continue
			}
			t.Errorf("the renderer refuses what translation accepted: %v: %v", r.Objects, r.Err)
		}
	}
	if again := gateway.Translate(s, o); !reflect.DeepEqual(again, res) {
		t.Errorf("a second translation of the same state differs")
	}
	return res
}

// rendererKnowsUnresolved reports whether the renderer takes unresolved backends
// (WeightedBackend{Name: ""}, answered 500). Until it does (the renderer's branch), routes with
// one are the only refusals that translate tolerates.
func rendererKnowsUnresolved() bool {
	_, rej := haproxy.Prune(model.Config{HTTPRoutes: []model.HTTPRoute{{
		Match: model.HTTPMatch{Path: "/", Kind: model.MatchPrefix}, Backends: []model.WeightedBackend{{Weight: 1}},
	}}})
	return len(rej) == 0
}

func nn(ns, name string) types.NamespacedName { return types.NamespacedName{Namespace: ns, Name: name} }

// cond finds a condition by type.
func cond(conds []metav1.Condition, typ string) (metav1.Condition, bool) {
	for _, c := range conds {
		if c.Type == typ {
			return c, true
		}
	}
	return metav1.Condition{}, false
}

// condString is "Type=Status/Reason", or "Type missing".
func condString(conds []metav1.Condition, typ string) string {
	c, ok := cond(conds, typ)
	if !ok {
		return typ + " missing"
	}
	return fmt.Sprintf("%s=%s/%s", c.Type, c.Status, c.Reason)
}

// listenerStatus finds a Gateway's listener status.
func listenerStatus(t *testing.T, res gateway.Result, gw types.NamespacedName, name string) gatewayv1.ListenerStatus {
	t.Helper()
	st, ok := res.Status.Gateways[gw]
	if !ok {
		t.Fatalf("no status for Gateway %s; have %v", gw, keys(res.Status.Gateways))
	}
	for _, l := range st.Listeners {
		if string(l.Name) == name {
			return l
		}
	}
	t.Fatalf("Gateway %s: no status for listener %s", gw, name)
	return gatewayv1.ListenerStatus{}
}

// parentStatus finds a route's status for one Gateway (and section, if given).
func parentStatus(t *testing.T, res gateway.Result, route, gw types.NamespacedName, section string) gatewayv1.RouteParentStatus {
	t.Helper()
	for _, p := range res.Status.HTTPRoutes[route] {
		ns := route.Namespace
		if p.ParentRef.Namespace != nil {
			ns = string(*p.ParentRef.Namespace)
		}
		sec := ""
		if p.ParentRef.SectionName != nil {
			sec = string(*p.ParentRef.SectionName)
		}
		if ns == gw.Namespace && string(p.ParentRef.Name) == gw.Name && sec == section {
			if string(p.ControllerName) != testController {
				t.Errorf("route %s parent %s: controllerName %q", route, gw, p.ControllerName)
			}
			return p
		}
	}
	t.Fatalf("route %s: no status for parent %s section %q; have %+v", route, gw, section, res.Status.HTTPRoutes[route])
	return gatewayv1.RouteParentStatus{}
}

func keys[K comparable, V any](m map[K]V) []K {
	var out []K
	for k := range m {
		out = append(out, k)
	}
	return out
}

// routeLines writes the HTTP routes of a result one per line, in the model's order:
// "table host path kind [conditions] -> backend/weight,...", for compact expectations.
func routeLines(cfg model.Config) []string {
	var out []string
	for _, rt := range cfg.HTTPRoutes {
		var b bytes.Buffer
		fmt.Fprintf(&b, "%s|%s|%s|%s", rt.Match.Table, rt.Match.Host, rt.Match.Path, rt.Match.Kind)
		if rt.Method != "" {
			fmt.Fprintf(&b, " method=%s", rt.Method)
		}
		for _, h := range rt.Headers {
			fmt.Fprintf(&b, " header:%s=%s", h.Name, valueString(h))
		}
		for _, q := range rt.Query {
			fmt.Fprintf(&b, " query:%s=%s", q.Name, valueString(q))
		}
		b.WriteString(" ->")
		for i, wb := range rt.Backends {
			if i > 0 {
				b.WriteString(",")
			}
			name := wb.Name
			if name == "" {
				name = "(500)"
			}
			fmt.Fprintf(&b, " %s/%d", name, wb.Weight)
		}
		out = append(out, b.String())
	}
	return out
}

func valueString(m model.ValueMatch) string {
	if m.Regex {
		return "~" + m.Value
	}
	return m.Value
}

// problemsOf lists the reasons of the problems about one object.
func problemsOf(res gateway.Result, obj diag.Object) []string {
	var out []string
	for _, p := range res.Problems {
		if p.Object == obj {
			out = append(out, p.Reason)
		}
	}
	return out
}

var testCert struct {
	once     sync.Once
	crt, key []byte
}

// testCertificate is a self-signed certificate for *.example.com and example.com, made once.
func testCertificate() ([]byte, []byte) {
	testCert.once.Do(func() { testCert.crt, testCert.key = certificate([]string{"*.example.com", "example.com"}) })
	return testCert.crt, testCert.key
}

func certificate(names []string) ([]byte, []byte) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2034, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		panic(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})
}

func b64(p []byte) string { return base64.StdEncoding.EncodeToString(p) }

func itoa(i int) string { return fmt.Sprint(i) }

func objRef(kind, ns, name string) diag.Object {
	return diag.Object{Kind: kind, Namespace: ns, Name: name}
}
