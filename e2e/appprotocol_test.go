package e2e

import (
	"net/http"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// TestServiceAppProtocolH2C proves that a Service port's appProtocol kubernetes.io/h2c makes the
// proxy speak cleartext HTTP/2 to the backend, to a client that speaks HTTP/1.1, and that the
// Service's own server-proto annotation wins over it. The backend speaks both HTTP/1.1 and h2c
// and reports what each request came in as.
func TestServiceAppProtocolH2C(t *testing.T) {
	t.Parallel()
	ns, c := startRouting(t)
	echo := framework.StartH2CEcho(t, "h2c")
	service := func(name, appProtocol string, annotations map[string]string) {
		port := framework.ServicePort(framework.HTTPPortName, 80, framework.EchoPort)
		if appProtocol != "" {
			port.AppProtocol = &appProtocol
		}
		svc := framework.Service(ns, name, port)
		svc.Annotations = annotations
		framework.CreateService(t, svc)
		framework.CreateEndpointSlice(t, framework.EndpointSlice(ns, name, name,
			[]discoveryv1.EndpointPort{framework.EndpointPort(framework.HTTPPortName, framework.EchoPort)},
			echo.Endpoint(framework.StateReady)))
	}
	service("h2c", "kubernetes.io/h2c", nil)
	service("plain", "", nil)
	service("pinned", "kubernetes.io/h2c", map[string]string{"portcullis.io/server-proto": "h1"})
	framework.CreateIngress(t, framework.Ingress(ns, "app", ns, framework.Rule("h2c.example",
		framework.Prefix("/h2c", "h2c"), framework.Prefix("/plain", "plain"), framework.Prefix("/pinned", "pinned"))))

	for path, want := range map[string]string{"/h2c": "HTTP/2.0", "/plain": "HTTP/1.1", "/pinned": "HTTP/1.1"} {
		framework.ExpectRoute(t, c, "h2c.example", path, http.StatusOK, "h2c")
		r, err := framework.TryGet(c, "h2c.example", path)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Header.Get(framework.EchoProtoHeader); got != want {
			t.Errorf("%s: the backend saw %q, want %q", path, got, want)
		}
	}
}
