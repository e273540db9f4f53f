package ingress_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portcullis-ingress/portcullis/pkg/ingress"
)

// A Service port's appProtocol sets how its backend speaks to the servers: Service annotations >
// appProtocol > Ingress annotations > ConfigMap > default (annotations.WithAppProtocol). It is
// read per port: two ports of one Service may speak differently.
func TestAppProtocol(t *testing.T) {
	h2c, ws, wss := "kubernetes.io/h2c", "kubernetes.io/ws", "kubernetes.io/wss"
	type want struct{ h2, tls bool }
	tests := []struct {
		name         string
		appProtocol  *string
		ingressAnn   map[string]string
		serviceAnn   map[string]string
		configMap    map[string]string
		passthrough  bool
		want         want
		wantBackends int
	}{
		{name: "no appProtocol: HTTP/1.1 in cleartext", want: want{}},
		{name: "kubernetes.io/h2c: HTTP/2 in cleartext", appProtocol: &h2c, want: want{h2: true}},
		{name: "kubernetes.io/h2c beats the Ingress's server-proto h1 and server-ssl", appProtocol: &h2c,
			ingressAnn: map[string]string{"portcullis.io/server-proto": "h1", "portcullis.io/server-ssl": "true"}, want: want{h2: true}},
		{name: "kubernetes.io/h2c beats the ConfigMap's server-proto h1", appProtocol: &h2c,
			configMap: map[string]string{"server-proto": "h1"}, want: want{h2: true}},
		{name: "the Service's server-proto beats kubernetes.io/h2c", appProtocol: &h2c,
			serviceAnn: map[string]string{"portcullis.io/server-proto": "h1"}, want: want{}},
		{name: "the Service's server-ssl with kubernetes.io/h2c: HTTP/2 over TLS", appProtocol: &h2c,
			serviceAnn: map[string]string{"portcullis.io/server-ssl": "true"}, want: want{h2: true, tls: true}},
		{name: "kubernetes.io/ws: HTTP/1.1 whatever the Ingress says", appProtocol: &ws,
			ingressAnn: map[string]string{"portcullis.io/server-proto": "h2"}, want: want{}},
		{name: "kubernetes.io/wss: HTTP/1.1 over TLS", appProtocol: &wss, want: want{tls: true}},
		{name: "a passthrough backend relays TLS as it is, whatever the port speaks", appProtocol: &wss,
			ingressAnn: map[string]string{"portcullis.io/ssl-passthrough": "true"}, passthrough: true, want: want{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ann := []ingressOption{className(testClass), rule("h2c.example.com", pathTo(prefix, "/", "grpc", 8080))}
			for k, v := range tt.ingressAnn {
				ann = append(ann, annotation(k, v))
			}
			sp := servicePort("grpc", 8080)
			sp.AppProtocol = tt.appProtocol
			svc := service("rpc", "grpc", sp)
			svc.Annotations = tt.serviceAnn
			st := ingress.State{
				IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
				Ingresses:      []*networkingv1.Ingress{newIngress("rpc", "grpc", ann...)},
				Services:       []*corev1.Service{svc},
				EndpointSlices: []*discoveryv1.EndpointSlice{endpointSlice("rpc", "grpc", "grpc-1", "grpc", 50051, readyAt("10.0.0.1"))},
			}
			if tt.configMap != nil {
				st.ConfigMap = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ctl", Name: "cm"}, Data: tt.configMap}
			}
			res := ingress.Translate(st, tlsOptions())
			checkProblems(t, res.Problems, nil)
			name := ingress.BackendName("rpc", "grpc", "8080")
			if tt.passthrough {
				name = "tls_" + name
			}
			b, ok := res.Config.Backend(name)
			if !ok {
				t.Fatalf("no backend %s in %v", name, backendNames(res.Config))
			}
			if got := (want{b.Policy.ServerH2, b.Policy.ServerTLS != nil}); got != tt.want {
				t.Errorf("backend %s speaks %+v, want %+v", name, got, tt.want)
			}
		})
	}

	t.Run("two ports of one Service speak what each says", func(t *testing.T) {
		plain, fast := servicePort("http", 80), servicePort("grpc", 8080)
		fast.AppProtocol = &h2c
		res := ingress.Translate(ingress.State{
			IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
			Ingresses: []*networkingv1.Ingress{newIngress("rpc", "both", className(testClass),
				rule("both.example.com", pathTo(prefix, "/", "app", 80), pathTo(prefix, "/grpc", "app", 8080)))},
			Services: []*corev1.Service{service("rpc", "app", plain, fast)},
		}, testOptions())
		checkProblems(t, res.Problems, nil)
		for port, wantH2 := range map[string]bool{"80": false, "8080": true} {
			b, ok := res.Config.Backend(ingress.BackendName("rpc", "app", port))
			if !ok || b.Policy.ServerH2 != wantH2 {
				t.Errorf("port %s: backend %+v (found %v), want ServerH2 %v", port, b, ok, wantH2)
			}
		}
	})
}
