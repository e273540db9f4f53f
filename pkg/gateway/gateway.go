// Package gateway is the source of Gateway API routes: it translates the GatewayClasses, Gateways,
// HTTPRoutes and ReferenceGrants (sigs.k8s.io/gateway-api v1.6.3, standard channel) of the
// classes this controller answers to into a fragment of the model, like pkg/ingress does for
// Ingresses, with the problems found and the statuses to write. Translate is a pure function over
// values: no client, no clock, no logger. The statuses are values too: the Lease leader writes them
// (pkg/k8s), setting LastTransitionTime, which Translate leaves zero.
package gateway

import (
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/resolve"
)

// Options are the operator's choices that shape translation.
type Options struct {
	// ControllerName is the spec.controllerName of the GatewayClasses that are ours
	// (--gateway-controller-name). Empty: no GatewayClass is ours.
	ControllerName string
	// AddressPool (--gateway-address-pool), when valid, gives each Gateway an address of its
	// own, and its listeners bind <address>:<port>. Invalid or zero: shared address mode,
	// where Gateways share the controller's listeners (see HTTP and HTTPS).
	AddressPool netip.Prefix
	// PublishedAddresses are the status addresses of Gateways in shared mode (IP addresses or
	// host names), as published for Ingresses.
	PublishedAddresses []string
	// HTTPListener and HTTPSListener are the names of the controller's own listeners (the
	// Ingress source's ingress.HTTPListener and ingress.HTTPSListener). In shared mode, Gateway
	// listeners on port 80 use the first (routes in the default table) and on port 443 the
	// second (certificates join its TLS).
	HTTPListener, HTTPSListener string
	// HTTP and HTTPS are the binds of those listeners (ingress.Options.HTTP and
	// ingress.Options.TLS.HTTPS); a zero HTTPS port means HTTPS is off, and port 443 is then
	// a bind of its own like any other port. Other ports bind on HTTP's address.
	HTTP, HTTPS model.Bind
	// Reserved are the ports of the controller's other listeners (statistics, monitor, TCP
	// services): a Gateway listener on one of them is refused (PortUnavailable).
	Reserved []uint16
	// Now is the time certificates are checked against (expiry is a warning only).
	Now time.Time
}

// State is everything translation reads. The slices are not modified.
type State struct {
	GatewayClasses  []gatewayv1.GatewayClass
	Gateways        []gatewayv1.Gateway
	HTTPRoutes      []gatewayv1.HTTPRoute
	TLSRoutes       []gatewayv1.TLSRoute
	GRPCRoutes      []gatewayv1.GRPCRoute
	ReferenceGrants []gatewayv1beta1.ReferenceGrant
	// Namespaces carry the labels that allowedRoutes selectors match.
	Namespaces []corev1.Namespace
	// Cluster resolves Services, EndpointSlices and Secrets for every source of a pass.
	Cluster *resolve.Cluster
	// ConfigMap is the controller's global ConfigMap, or nil: backends take its defaults and
	// the Service's annotations, as Ingress backends do, so that a Service port used by an
	// Ingress and an HTTPRoute is one backend.
	ConfigMap *corev1.ConfigMap
}

// Result is the output of Translate.
type Result struct {
	Config   model.Config
	Problems []diag.Problem
	Status   Status
	// Endpoints lists, for each Service, the backends its endpoints feed (see
	// ingress.Result.Endpoints).
	Endpoints map[types.NamespacedName][]resolve.Feed
}

// Status is what the statuses of the objects of our classes should be. Conditions carry no
// LastTransitionTime: the writer sets it, keeping the old one when a condition did not change.
type Status struct {
	GatewayClasses map[string]gatewayv1.GatewayClassStatus
	Gateways       map[types.NamespacedName]gatewayv1.GatewayStatus
	// HTTPRoutes holds, for each route that names a Gateway of ours, the entries of
	// status.parents for those Gateways (ControllerName is ours); the writer leaves the other
	// controllers' entries alone.
	HTTPRoutes map[types.NamespacedName][]gatewayv1.RouteParentStatus
	// TLSRoutes is the same for TLSRoutes.
	TLSRoutes map[types.NamespacedName][]gatewayv1.RouteParentStatus
	// GRPCRoutes is the same for GRPCRoutes.
	GRPCRoutes map[types.NamespacedName][]gatewayv1.RouteParentStatus
}
