package tcpservices

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/haproxytest"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/resolve"
)

func cluster() *resolve.Cluster {
	port, name, ready := int32(5432), "pg", true
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "postgres"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "pg", Port: 5432, Protocol: corev1.ProtocolTCP}}}}
	udp := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "dns"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}}}}
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "db", Name: "postgres-1", Labels: map[string]string{discoveryv1.LabelServiceName: "postgres"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port}},
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.7"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
	}
	return resolve.New([]*corev1.Service{svc, udp}, []*discoveryv1.EndpointSlice{es}, nil)
}

func cm(name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress", Name: name}, Data: data}
}

var opts = Options{Address: netip.MustParseAddr("0.0.0.0"), Reserved: []uint16{8080, 8443}}

func TestTranslate(t *testing.T) {
	tests := []struct {
		name    string
		format  Format
		data    map[string]string
		want    []string // listener:port>backend servers, in order
		reasons []string // problem reasons, in order
	}{
		{"a haproxytech entry by port number", HAProxyTech, map[string]string{"5432": "db/postgres:5432"},
			[]string{"tcp-5432 proxy=[] > tcp5432_db_postgres_5432 [10.0.0.7:5432] send="}, nil},
		{"by port name", HAProxyTech, map[string]string{"15432": "db/postgres:pg"},
			[]string{"tcp-15432 proxy=[] > tcp15432_db_postgres_pg [10.0.0.7:5432] send="}, nil},
		{"ingress-nginx PROXY options: decode, then send", NGINX, map[string]string{"5432": "db/postgres:5432:PROXY:PROXY", "6432": "db/postgres:5432::PROXY"},
			[]string{"tcp-5432 proxy=[0.0.0.0/0] > tcp5432_db_postgres_5432 [10.0.0.7:5432] send=send-proxy",
				"tcp-6432 proxy=[] > tcp6432_db_postgres_5432 [10.0.0.7:5432] send=send-proxy"}, nil},
		{"haproxytech :ssl is refused, the rest served", HAProxyTech, map[string]string{"5432": "db/postgres:5432:ssl", "6432": "db/postgres:5432"},
			[]string{"tcp-6432 proxy=[] > tcp6432_db_postgres_5432 [10.0.0.7:5432] send="}, []string{ReasonUnsupported}},
		{"bad keys and values", NGINX, map[string]string{"0": "db/postgres:5432", "05432": "db/postgres:5432", "http": "db/postgres:5432",
			"1": "postgres:5432", "2": "db/Postgres:5432", "3": "db/postgres:5432:SEND", "4": "db/postgres:99999"},
			nil, []string{ReasonInvalid, ReasonInvalid, ReasonInvalid, ReasonInvalid, ReasonInvalid, ReasonInvalid, ReasonInvalid}},
		{"the controller's own ports are taken", NGINX, map[string]string{"8080": "db/postgres:5432"}, nil, []string{ReasonPortInUse}},
		{"a missing Service closes the port", NGINX, map[string]string{"7000": "db/gone:80"},
			[]string{"tcp-7000 proxy=[] > tcp7000_db_gone_80 [] send="}, []string{ReasonNotFound}},
		{"a UDP Service port", NGINX, map[string]string{"5353": "db/dns:53"},
			[]string{"tcp-5353 proxy=[] > tcp5353_db_dns_53 [] send="}, []string{ReasonUnsupported}},
		{"udp-services entries are refused", UDP, map[string]string{"53": "db/dns:53"}, nil, []string{ReasonUDP}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Translate([]ConfigMap{{Object: cm("tcp", tt.data), Format: tt.format}}, cluster(), opts)
			var got []string
			for _, rt := range res.Config.TCPRoutes {
				l, _ := res.Config.Listener(rt.Listener)
				b, _ := res.Config.Backend(rt.Backend)
				var srv []string
				for _, s := range b.Servers {
					srv = append(srv, fmt.Sprintf("%s:%d", s.Address, s.Port))
				}
				got = append(got, fmt.Sprintf("%s proxy=%v > %s [%s] send=%s", l.Name, l.AcceptProxy, b.Name, strings.Join(srv, " "), b.Policy.SendProxy))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("routes:\n got %q\nwant %q", got, tt.want)
			}
			var reasons []string
			for _, p := range res.Problems {
				reasons = append(reasons, p.Reason)
				if p.Object.Kind != "ConfigMap" || p.Object.Name != "tcp" {
					t.Errorf("problem on %v, want the ConfigMap", p.Object)
				}
			}
			if !slices.Equal(reasons, tt.reasons) {
				t.Errorf("problem reasons %v, want %v: %v", reasons, tt.reasons, res.Problems)
			}
			// What the source emits passes the renderer's checks.
			if _, rej := haproxy.Prune(res.Config); len(rej) > 0 {
				t.Errorf("Prune rejects the fragment: %v", rej)
			}
		})
	}
}

// A TCP fragment composed with an HTTP listener renders and passes the real haproxy -c.
func TestRenders(t *testing.T) {
	res := Translate([]ConfigMap{{Object: cm("tcp", map[string]string{"5432": "db/postgres:5432:PROXY:PROXY"}), Format: NGINX}}, cluster(), opts)
	http := model.Config{Listeners: []model.Listener{{Name: "http", Bind: model.Bind{Address: opts.Address, Port: 8080}, Protocol: model.HTTP}}}
	cfg, probs := model.Compose([]model.Config{http, res.Config}, nil)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	files, err := haproxy.Render(cfg, haproxy.Env{RuntimeDir: "/run/portcullis"})
	if err != nil {
		t.Fatal(err)
	}
	conf := string(files[haproxy.ConfigFile])
	for _, want := range []string{"frontend tcp_tcp-5432", "mode tcp", "bind 0.0.0.0:5432 name tcp-5432",
		"tcp-request connection expect-proxy layer4 if { dst_port 5432 } { src 0.0.0.0/0 }", "default_backend tcp5432_db_postgres_5432",
		"server s1 10.0.0.7:5432 send-proxy"} {
		if !strings.Contains(conf, want) {
			t.Errorf("haproxy.cfg lacks %q:\n%s", want, conf)
		}
	}
	haproxytest.Check(t, files)
}
