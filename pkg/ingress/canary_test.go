package ingress_test

import (
	"fmt"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/ingress"
)

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func TestCanaryWeights(t *testing.T) {
	for _, tc := range []struct {
		name    string
		weight  string
		mainEPs []string
		canEPs  []string
		want    string // address=weight, in server order
	}{
		{"a 20 percent canary with one endpoint on each side", "20", []string{"10.0.0.1"}, []string{"10.0.1.1"}, "10.0.0.1=256 10.0.1.1=64"},
		{"three main endpoints share 70 percent", "30", []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}, []string{"10.0.1.1"}, "10.0.0.1=199 10.0.0.2=199 10.0.0.3=199 10.0.1.1=256"},
		{"a zero weight leaves the canary out", "0", []string{"10.0.0.1"}, []string{"10.0.1.1"}, "10.0.0.1=256"},
		{"a full weight leaves the main service out", "100", []string{"10.0.0.1"}, []string{"10.0.1.1"}, "10.0.1.1=256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mainEPs, canEPs []endpoint
			for _, a := range tc.mainEPs {
				mainEPs = append(mainEPs, readyAt(a))
			}
			for _, a := range tc.canEPs {
				canEPs = append(canEPs, readyAt(a))
			}
			state := ingress.State{
				IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)},
				Ingresses: []*networkingv1.Ingress{newIngress("ns", "web", className(testClass),
					annotation("portcullis.io/canary-service", "web-v2"),
					annotation("portcullis.io/canary-weight", tc.weight),
					rule("web.example", pathTo(networkingv1.PathTypePrefix, "/", "web", 80)))},
				Services: []*corev1.Service{service("ns", "web", servicePort("http", 80)), service("ns", "web-v2", servicePort("http", 80))},
				EndpointSlices: []*discoveryv1.EndpointSlice{
					endpointSlice("ns", "web", "web-1", "http", 8080, mainEPs...),
					endpointSlice("ns", "web-v2", "web-v2-1", "http", 8080, canEPs...),
				},
			}
			res := ingress.Translate(state, testOptions())
			if len(res.Problems) != 0 {
				t.Fatalf("problems: %v", res.Problems)
			}
			if len(res.Config.HTTPRoutes) != 1 {
				t.Fatalf("routes: %s", formatRoutes(routesOf(res.Config)))
			}
			wantBackends := fmt.Sprintf("[{ns_web_80 %d} {ns_web-v2_http %s}]", 100-atoi(tc.weight), tc.weight)
			if got := fmt.Sprint(res.Config.HTTPRoutes[0].Backends); got != wantBackends {
				t.Errorf("route backends %s, want %s", got, wantBackends)
			}
			// The renderer turns the weighted backends into one section's server weights.
			sections, routeSections, _ := haproxy.Sections(res.Config)
			var servers []model.Server
			for _, sec := range sections {
				if sec.Name == routeSections[0] {
					servers = sec.Servers
				}
			}
			got := ""
			for i, s := range servers {
				if i > 0 {
					got += " "
				}
				got += fmt.Sprintf("%s=%d", s.Address, s.EffectiveWeight())
			}
			if got != tc.want {
				t.Errorf("servers %s, want %s", got, tc.want)
			}
		})
	}
}
