package bench

import (
	"fmt"
	"testing"
	"time"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// GatewayResult is the Gateway API measurement, next to the Ingress figures: new HTTPRoutes (each
// with its own Service) until their first 200, and weight changes of a rule's two backendRefs
// until only the backend given the whole share answers.
type GatewayResult struct {
	Routes           int        `json:"routes"`
	FromRouteCreate  Latencies  `json:"from_httproute_create"`
	RouteReloads     int        `json:"reloads_for_routes"`
	RouteTimeouts    int        `json:"route_timeouts"`
	RoutePollErrors  pollErrors `json:"route_poll_errors_by_kind"`
	WeightChanges    int        `json:"weight_changes"`
	WeightConverged  Latencies  `json:"weight_change_converged"`
	WeightReloads    int        `json:"reloads_during_weight_changes"`
	WeightTimeouts   int        `json:"weight_change_timeouts"`
	WeightStaleAfter int        `json:"weight_change_stale_answers"`
}

// benchGateway measures the Gateway API source on a controller of its own, in shared-address mode
// (a Gateway listening on port 80: the controller's HTTP listener).
func benchGateway(b *testing.B) {
	const routes, weightChanges = 30, 40
	ns := framework.NewNamespace(b)
	controllerName := "portcullis.io/" + ns
	class := framework.CreateGatewayClass(b, controllerName)
	c := startController(b, ns, "--gateway-controller-name="+controllerName, "--election-namespace="+ns)
	framework.CreateGateway(b, framework.GatewayObject(ns, "gw", class, framework.HTTPListener("http", 80, "")))
	client := newKeepAliveClient(c)
	defer client.close()
	res := &GatewayResult{Routes: routes, RoutePollErrors: pollErrors{}}

	// New HTTPRoutes, one after another, each with its own Service.
	reloads0 := reloadCount(b, c)
	var fromRoute []time.Duration
	for i := range routes {
		name := fmt.Sprintf("route-%02d", i)
		host := name + ".example"
		framework.EchoService(b, ns, name, framework.StartEcho(b, name))
		t0 := time.Now()
		framework.CreateHTTPRoute(b, framework.HTTPRoute(ns, name, "gw", []string{host},
			framework.PathPrefixRule("/", framework.BackendRef("", name, 80, 1))))
		at, err := pollFirst(client, host, name, 2*time.Millisecond, changeTimeout, res.RoutePollErrors)
		if err != nil {
			res.RouteTimeouts++
			b.Errorf("HTTPRoute %s: %v", name, err)
			continue
		}
		fromRoute = append(fromRoute, at.Sub(t0))
	}
	time.Sleep(300 * time.Millisecond)
	res.RouteReloads = reloadCount(b, c) - reloads0
	res.FromRouteCreate = summarize(fromRoute, true)

	// Weight changes: the whole share moves from one backendRef to the other and back.
	framework.EchoService(b, ns, "blue", framework.StartEcho(b, "blue"))
	framework.EchoService(b, ns, "green", framework.StartEcho(b, "green"))
	framework.CreateHTTPRoute(b, framework.HTTPRoute(ns, "split", "gw", []string{"split.example"},
		framework.PathPrefixRule("/", framework.BackendRef("", "blue", 80, 1), framework.BackendRef("", "green", 80, 0))))
	if _, err := pollOnly(client, "split.example", map[string]bool{"blue": true}, streak, pollEvery, changeTimeout); err != nil {
		b.Fatalf("HTTPRoute split: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // its reload is done
	reloads1 := reloadCount(b, c)
	var conv []time.Duration
	for i := range weightChanges {
		toGreen := i%2 == 0
		want := map[string]bool{"blue": !toGreen, "green": toGreen}
		t0 := time.Now()
		framework.UpdateHTTPRoute(b, ns, "split", func(r *gatewayv1.HTTPRoute) {
			blue, green := int32(1), int32(0)
			if toGreen {
				blue, green = 0, 1
			}
			r.Spec.Rules[0].BackendRefs[0].Weight = &blue
			r.Spec.Rules[0].BackendRefs[1].Weight = &green
		})
		res.WeightChanges++
		cv, err := pollOnly(client, "split.example", want, streak, pollEvery, changeTimeout)
		res.WeightStaleAfter += cv.stale
		if err != nil {
			res.WeightTimeouts++
			b.Errorf("weight change %d: %v", i, err)
			continue
		}
		conv = append(conv, cv.at.Sub(t0))
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a reload, if one was wrongly planned, is due by now
	res.WeightReloads = reloadCount(b, c) - reloads1
	res.WeightConverged = summarize(conv, true)
	results.Gateway = res
	b.ReportMetric(res.FromRouteCreate.P50, "route-p50-ms")
	b.ReportMetric(res.FromRouteCreate.P99, "route-p99-ms")
	b.ReportMetric(res.WeightConverged.P50, "weight-p50-ms")
	b.ReportMetric(res.WeightConverged.P99, "weight-p99-ms")
	b.ReportMetric(float64(res.WeightReloads), "weight-reloads")
	b.ReportMetric(0, "ns/op")
}
