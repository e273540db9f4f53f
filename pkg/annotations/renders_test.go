package annotations_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"maps"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portcullis-ingress/portcullis/pkg/annotations"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/haproxytest"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/ingress"
)

// These tests follow values from the registry through translation into the model and through
// the renderer: a value that Parse accepts must render, wherever it is set.

// The objects of the tests carry names at Kubernetes' limits, so that the backend names built
// from them are as long as they get: a namespace of 63 bytes, Services of 63 and a port name of
// 15.
var (
	namespace = "n" + strings.Repeat("a", 62)
	portName  = "p" + strings.Repeat("-p", 7)
)

func serviceName(i int) string { return fmt.Sprintf("s%062d", i) }

var renderEnv = haproxy.Env{RuntimeDir: "/run/portcullis"}

// testPEM is a self-signed certificate and its key: the serving certificate, the CA of
// client-ca and server-ca, and the client certificate of server-crt.
var testPEM = sync.OnceValues(func() (cert, key []byte) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "example.com"}, DNSNames: []string{"example.com"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(0, 0).Add(100 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		panic(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
})

func options() ingress.Options {
	cert, key := testPEM()
	return ingress.Options{
		ControllerName: "portcullis.io/ingress-controller", ClassName: "portcullis", WatchWithoutClass: true,
		HTTP: model.Bind{Address: netip.IPv4Unspecified(), Port: 8080},
		TLS: ingress.TLSOptions{
			HTTPS:       model.Bind{Address: netip.IPv4Unspecified(), Port: 8443},
			FallbackPEM: append(append([]byte(nil), cert...), key...),
		},
	}
}

func example(name string) string {
	for _, d := range annotations.Definitions() {
		if d.Name == name {
			return d.Example
		}
	}
	panic("no setting " + name)
}

// enablers switch on every feature whose other settings matter only with it: CORS, health
// checks, TLS to the servers, HSTS, the rate limit, the traffic log (on in the ConfigMap, the
// place of lowest precedence, so that they never hide a value under test), and basic
// authentication, the canary, client certificates and the redirect (on the annotated Ingress:
// they cannot be set anywhere else).
func enablers() (onIngress, inConfigMap map[string]string) {
	onIngress = map[string]string{}
	for _, name := range []string{"auth-secret", "canary-service", "client-ca", "request-redirect"} {
		onIngress[annotations.Prefix+name] = example(name)
	}
	inConfigMap = map[string]string{"cors-enable": "true", "check": "true", "server-ssl": "true", "hsts": "true",
		"rate-limit-requests": "100", "syslog-server": "stdout"}
	return onIngress, inConfigMap
}

// secrets are the Secrets the examples of the registry name (auth-secret, client-ca, server-ca,
// server-crt), with valid content, and the TLS Secret of every Ingress. The basic-auth Secret
// holds a user name and a hash of the longest lengths.
func secrets() []*corev1.Secret {
	cert, key := testPEM()
	tls := map[string][]byte{corev1.TLSCertKey: cert, corev1.TLSPrivateKeyKey: key}
	ca := map[string][]byte{"ca.crt": cert}
	users := "alice:$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1\n" +
		strings.Repeat("u", 64) + ":" + "$5$rounds=5000$" + strings.Repeat("h", 256-len("$5$rounds=5000$")) + "\n"
	var out []*corev1.Secret
	for name, data := range map[string]map[string][]byte{
		"tls": tls, example("auth-secret"): {"auth": []byte(users)}, example("client-ca"): ca,
		example("server-ca"): ca, example("server-crt"): tls,
	} {
		out = append(out, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Data: data})
	}
	return out
}

// backend adds Service i with one ready endpoint, and an older Ingress without annotations that
// uses it: an annotated Ingress on the same Service port then gets a backend of its own, whose
// name carries a policy suffix.
func backend(st *ingress.State, i int, svcAnnotations map[string]string) {
	service(st, serviceName(i), portName, i, svcAnnotations)
	st.Ingresses = append(st.Ingresses, newIngress(fmt.Sprintf("plain-%d", i), fmt.Sprintf("plain-%d.example.com", i), serviceName(i), 0, nil))
}

// service adds a Service with one port and the i-th endpoint.
func service(st *ingress.State, name, port string, i int, ann map[string]string) {
	st.Services = append(st.Services, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Annotations: ann},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: port, Port: 80, Protocol: corev1.ProtocolTCP}}},
	})
	number, tcp := int32(8080), corev1.ProtocolTCP
	st.EndpointSlices = append(st.EndpointSlices, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &port, Port: &number, Protocol: &tcp}},
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{fmt.Sprintf("10.0.%d.%d", i/250, 1+i%250)}}},
	})
}

// newIngress is an Ingress for host, with TLS, whose paths / and /api go to a Service.
func newIngress(name, host, service string, age int, ann map[string]string) *networkingv1.Ingress {
	prefix := networkingv1.PathTypePrefix
	path := func(p string) networkingv1.HTTPIngressPath {
		return networkingv1.HTTPIngressPath{Path: p, PathType: &prefix, Backend: networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: service, Port: networkingv1.ServiceBackendPort{Name: portName}},
		}}
	}
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Annotations: ann,
			CreationTimestamp: metav1.NewTime(time.Date(2024, 1, 1, 0, age, 0, 0, time.UTC))},
		Spec: networkingv1.IngressSpec{
			TLS: []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: "tls"}},
			Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{
				HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{path("/"), path("/api")}},
			}}},
		},
	}
}

// placement is where the settings of one state go: on the Ingress, on the Service, in the
// ConfigMap. Each holds keys as written on that object.
type placement struct {
	ingress, service, configMap map[string]string
}

// stateOf builds a state in which each placement gets a Service, an Ingress without
// annotations, an Ingress carrying the enablers and the placement's Ingress annotations, and
// its twin; all
// placements share the ConfigMap, which holds the enablers and the ConfigMap keys of all of
// them. The canary Service of the canary-service example exists too.
func stateOf(ps ...placement) ingress.State {
	onIngress, inConfigMap := enablers()
	st := ingress.State{Secrets: secrets(), ConfigMap: &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "portcullis", Name: "portcullis"}, Data: inConfigMap,
	}}
	canary, canaryPort, _ := strings.Cut(example("canary-service"), ":")
	service(&st, canary, canaryPort, 250, nil)
	for i, p := range ps {
		backend(&st, i, p.service)
		ann := maps.Clone(onIngress)
		maps.Copy(ann, p.ingress)
		st.Ingresses = append(st.Ingresses, newIngress(fmt.Sprintf("annotated-%d", i), fmt.Sprintf("annotated-%d.example.com", i), serviceName(i), 1, ann))
		// A twin with one setting more: the same Service port and canary with another policy,
		// so its backend gets the longest name, with a policy suffix.
		twin := maps.Clone(ann)
		if _, ok := twin[annotations.Prefix+"cookie-persistence"]; !ok {
			twin[annotations.Prefix+"cookie-persistence"] = "TWIN"
		} else {
			twin[annotations.Prefix+"forwarded-for"] = "false"
		}
		st.Ingresses = append(st.Ingresses, newIngress(fmt.Sprintf("twin-%d", i), fmt.Sprintf("twin-%d.example.com", i), serviceName(i), 2, twin))
		// A canary of the plain Ingress, with the placement's annotations: its header and
		// cookie choices become routes of their own.
		can := map[string]string{annotations.Prefix + "canary": "true", annotations.Prefix + "canary-weight": "10"}
		for _, name := range []string{"canary-by-header", "canary-by-cookie"} {
			can[annotations.Prefix+name] = example(name)
		}
		maps.Copy(can, p.ingress)
		st.Ingresses = append(st.Ingresses, newIngress(fmt.Sprintf("canary-%d", i), fmt.Sprintf("plain-%d.example.com", i), serviceName(i), 3, can))
		maps.Copy(st.ConfigMap.Data, p.configMap)
	}
	return st
}

// sources lists the places where d may be set.
func sources(d annotations.Definition) []annotations.Source {
	var out []annotations.Source
	for _, src := range []annotations.Source{annotations.SourceConfigMap, annotations.SourceIngress, annotations.SourceService} {
		if _, probs := annotations.Parse(src, map[string]string{keyOf(d, src): d.Example}); len(probs) == 0 {
			out = append(out, src)
		}
	}
	return out
}

func keyOf(d annotations.Definition, src annotations.Source) string {
	if src == annotations.SourceConfigMap {
		return d.Name
	}
	return d.Key()
}

func place(src annotations.Source, key, value string) placement {
	kv := map[string]string{key: value}
	switch src {
	case annotations.SourceConfigMap:
		return placement{configMap: kv}
	case annotations.SourceIngress:
		return placement{ingress: kv}
	}
	return placement{service: kv}
}

// translate translates st and fails on any problem about an annotation: every value given is
// one that Parse accepts.
func translate(t *testing.T, st ingress.State) model.Config {
	t.Helper()
	res := ingress.Translate(st, options())
	for _, p := range res.Problems {
		if p.Reason == "InvalidAnnotation" {
			t.Fatalf("translation reports a problem with an accepted value: %s", p.Message)
		}
	}
	// The renderer's backstop must find nothing to leave out either.
	if _, rej := haproxy.Prune(res.Config); len(rej) > 0 {
		t.Fatalf("Prune leaves out parts of a configuration made of accepted values: %v", rej)
	}
	return res.Config
}

// TestEveryAcceptedValueRenders is the property that makes the registry and the renderer one
// grammar: for every setting and every place where it may be set, each value of its samples
// (example, default, fuzz seeds, probe catalogue, values at its limits, values drawn from its
// grammar) that Parse accepts translates into a configuration that Render accepts.
func TestEveryAcceptedValueRenders(t *testing.T) {
	r := rand.New(rand.NewPCG(20261122, 1))
	const drawn = 40
	for _, d := range annotations.Definitions() {
		samples := annotations.Samples(d.Name, r, drawn)
		t.Run(d.Name, func(t *testing.T) {
			for _, src := range sources(d) {
				key := keyOf(d, src)
				var ok []string
				for _, v := range samples {
					if _, probs := annotations.Parse(src, map[string]string{key: v}); len(probs) == 0 && !slices.Contains(ok, v) {
						ok = append(ok, v)
					}
				}
				if len(ok) == 0 {
					t.Errorf("%s %s: no sample accepted; the grammar of the samples is off", src, key)
				}
				t.Logf("%s %s: %d of %d samples accepted", src, key, len(ok), len(samples))
				// The values set on Ingresses and Services are rendered together, one
				// Ingress or Service each; the ConfigMap holds one value at a time.
				batch := 1
				if src != annotations.SourceConfigMap {
					batch = 50
				}
				for chunk := range slices.Chunk(ok, batch) {
					ps := make([]placement, len(chunk))
					for i, v := range chunk {
						ps[i] = place(src, key, v)
					}
					if _, err := haproxy.Render(translate(t, stateOf(ps...)), renderEnv); err == nil {
						continue
					}
					for _, v := range chunk {
						if _, err := haproxy.Render(translate(t, stateOf(place(src, key, v))), renderEnv); err != nil {
							t.Errorf("%s %s: %s accepted, but the configuration does not render: %v", src, key, annotations.Clip(v), err)
						}
					}
				}
			}
		})
	}
}

// FuzzAcceptedValueRenders explores the same property as TestEveryAcceptedValueRenders beyond
// its samples: `go test -fuzz FuzzAcceptedValueRenders ./pkg/annotations`. The seeds are the
// examples and the values at the limits of every setting.
func FuzzAcceptedValueRenders(f *testing.F) {
	defs := annotations.Definitions()
	for i, d := range defs {
		for _, v := range append([]string{d.Example}, annotations.Edges(d.Name)...) {
			f.Add(uint8(i), uint8(sources(d)[0]), v)
		}
	}
	f.Fuzz(func(t *testing.T, setting, src uint8, value string) {
		d := defs[int(setting)%len(defs)]
		s := annotations.Source(src%3 + 1)
		key := keyOf(d, s)
		if _, probs := annotations.Parse(s, map[string]string{key: value}); len(probs) > 0 {
			return
		}
		if _, err := haproxy.Render(translate(t, stateOf(place(s, key, value))), renderEnv); err != nil {
			t.Fatalf("%s %s: %s accepted, but the configuration does not render: %v", s, key, annotations.Clip(value), err)
		}
	})
}

// syslogResolvable reports whether HAProxy can resolve the host of a syslog-server value on any
// machine: HAProxy resolves a host name when it loads its configuration and refuses the
// configuration when the name does not resolve (see the setting's documentation).
func syslogResolvable(v string) bool {
	host := v
	if i := strings.LastIndexByte(v, ':'); i >= 0 && !strings.HasSuffix(v, "]") {
		host = v[:i]
	}
	_, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return v == "stdout" || host == "localhost" || err == nil
}

// TestEveryKeyPassesHAProxyCheck renders configurations that carry a value for every setting
// at once, on the Ingress where it may be set there and else in the ConfigMap, and runs the
// real haproxy -c on them: first the examples, then the examples from the ConfigMap and the
// Service, then the values at the limits of each grammar, one configuration per rank of edge.
func TestEveryKeyPassesHAProxyCheck(t *testing.T) {
	defs := annotations.Definitions()
	accepted := func(src annotations.Source, d annotations.Definition, v string) bool {
		_, probs := annotations.Parse(src, map[string]string{keyOf(d, src): v})
		return len(probs) == 0 && (d.Name != "syslog-server" || syslogResolvable(v))
	}
	// edges are the values at the limits of each setting that its first place accepts.
	edges := map[string][]string{}
	ranks := 0
	for _, d := range defs {
		src := sources(d)[0]
		if slices.Contains(sources(d), annotations.SourceIngress) {
			src = annotations.SourceIngress
		}
		for _, v := range annotations.Edges(d.Name) {
			if accepted(src, d, v) {
				edges[d.Name] = append(edges[d.Name], v)
			}
		}
		if len(edges[d.Name]) == 0 {
			t.Errorf("%s: no value at its limits is accepted", d.Name)
			continue
		}
		ranks = max(ranks, len(edges[d.Name]))
	}

	type config struct {
		name string
		p    placement
	}
	var configs []config
	everything := func(name string, value func(annotations.Definition) string, srcs ...annotations.Source) config {
		c := config{name: name, p: placement{ingress: map[string]string{}, service: map[string]string{}, configMap: map[string]string{}}}
		for _, d := range defs {
			i := slices.IndexFunc(srcs, func(s annotations.Source) bool { return slices.Contains(sources(d), s) })
			if i < 0 {
				continue
			}
			v := value(d)
			switch srcs[i] {
			case annotations.SourceIngress:
				c.p.ingress[d.Key()] = v
			case annotations.SourceService:
				c.p.service[d.Key()] = v
			default:
				c.p.configMap[d.Name] = v
			}
		}
		return c
	}
	exampleOf := func(d annotations.Definition) string { return d.Example }
	configs = append(configs,
		everything("examples on the Ingress", exampleOf, annotations.SourceIngress, annotations.SourceConfigMap),
		everything("examples on the Service and in the ConfigMap", exampleOf, annotations.SourceService, annotations.SourceConfigMap, annotations.SourceIngress),
		everything("examples in the ConfigMap", exampleOf, annotations.SourceConfigMap, annotations.SourceIngress))
	for rank := range ranks {
		c := everything(fmt.Sprintf("values at the limits, rank %d", rank), func(d annotations.Definition) string {
			return edges[d.Name][rank%len(edges[d.Name])]
		}, annotations.SourceIngress, annotations.SourceConfigMap)
		// Switches have no limits: they stay as the enablers set them, so that every value
		// at its limits reaches the configuration.
		for _, d := range defs {
			if strings.HasPrefix(d.Type, "boolean") {
				delete(c.p.ingress, d.Key())
				delete(c.p.configMap, d.Name)
			}
		}
		configs = append(configs, c)
	}
	for _, c := range configs {
		files, err := haproxy.Render(translate(t, stateOf(c.p)), renderEnv)
		t.Run(c.name, func(t *testing.T) {
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			t.Parallel()
			haproxytest.Check(t, files)
		})
	}
}
