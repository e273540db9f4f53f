package gateway_test

import (
	"slices"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/gateway"
)

// Our GatewayClasses are accepted with their generation and the supported features, sorted;
// other controllers' classes get no status; a class with parameters is refused, and its Gateways
// are not served.
func TestGatewayClassStatus(t *testing.T) {
	res := translate(t, objects(t, classes, `
kind: GatewayClass
metadata: {name: params, generation: 2}
spec:
  controllerName: portcullis.io/gateway-controller
  parametersRef: {group: example.com, kind: Config, name: x}
---
kind: Gateway
metadata: {namespace: infra, name: gw}
spec:
  gatewayClassName: params
  listeners: [{name: http, port: 80, protocol: HTTP}]
`), sharedOptions())
	if _, ok := res.Status.GatewayClasses["theirs"]; ok {
		t.Errorf("another controller's class got a status")
	}
	st := res.Status.GatewayClasses["ours"]
	if got := condString(st.Conditions, "Accepted"); got != "Accepted=True/Accepted" {
		t.Errorf("ours: %s", got)
	}
	if c, _ := cond(st.Conditions, "Accepted"); c.ObservedGeneration != 3 || !c.LastTransitionTime.IsZero() {
		t.Errorf("ours: observedGeneration %d (want 3), lastTransitionTime %v (want zero)", c.ObservedGeneration, c.LastTransitionTime)
	}
	var names []string
	for _, f := range st.SupportedFeatures {
		names = append(names, string(f.Name))
	}
	if !slices.IsSorted(names) || !slices.Contains(names, "Gateway") || !slices.Contains(names, "HTTPRoute") || !slices.Contains(names, "ReferenceGrant") {
		t.Errorf("supportedFeatures %v: want sorted, with the core features", names)
	}
	if len(names) != len(gateway.SupportedFeatures()) {
		t.Errorf("supportedFeatures %v, want %v", names, gateway.SupportedFeatures())
	}
	if got := condString(res.Status.GatewayClasses["params"].Conditions, "Accepted"); got != "Accepted=False/InvalidParameters" {
		t.Errorf("params: %s", got)
	}
	if len(res.Status.Gateways) != 0 || len(res.Config.HTTPRoutes) != 0 {
		t.Errorf("a Gateway of a refused class is served: %v", keys(res.Status.Gateways))
	}
}

// Without a controller name, nothing is ours.
func TestNoControllerName(t *testing.T) {
	o := sharedOptions()
	o.ControllerName = ""
	res := translate(t, objects(t, classes), o)
	if len(res.Status.GatewayClasses) != 0 {
		t.Errorf("classes with an empty controller name: %v", keys(res.Status.GatewayClasses))
	}
}
