package gateway

import (
	"slices"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/pkg/features"
)

// supportedFeatures are the conformance features this controller passes: the core features of
// the GATEWAY-HTTP, GATEWAY-GRPC and GATEWAY-TLS profiles, and the extended ones the renderer
// supports. It is the one list: the GatewayClass status, the conformance harness and the
// documentation read it (SupportedFeatures).
var supportedFeatures = []features.FeatureName{
	// Core.
	features.SupportGateway,
	features.SupportHTTPRoute,
	features.SupportGRPCRoute,
	features.SupportReferenceGrant,
	features.SupportTLSRoute,
	// Extended.
	features.SupportHTTPRouteQueryParamMatching,
	features.SupportHTTPRouteMethodMatching,
	features.SupportHTTPRouteResponseHeaderModification,
	features.SupportHTTPRoutePortRedirect,
	features.SupportHTTPRouteSchemeRedirect,
	features.SupportHTTPRoutePathRedirect,
	features.SupportHTTPRouteHostRewrite,
	features.SupportHTTPRoutePathRewrite,
	features.SupportHTTPRouteRequestTimeout,
	features.SupportHTTPRouteBackendTimeout,
	features.SupportHTTPRoute303RedirectStatusCode,
	features.SupportHTTPRoute307RedirectStatusCode,
	features.SupportHTTPRoute308RedirectStatusCode,
	features.SupportHTTPRouteParentRefPort,
	features.SupportHTTPRouteNamedRouteRule,
	features.SupportGRPCRouteNamedRouteRule,
	features.SupportHTTPRouteBackendProtocolWebSocket,
	features.SupportHTTPRouteBackendProtocolH2C,
	features.SupportGatewayPort8080,
	features.SupportGatewayAddressEmpty,
}

// SupportedFeatures returns the conformance features this controller supports, sorted by name
// (as GatewayClass status.supportedFeatures must be).
func SupportedFeatures() []features.FeatureName {
	out := slices.Clone(supportedFeatures)
	slices.Sort(out)
	return out
}

// statusFeatures is SupportedFeatures as GatewayClass status lists them.
func statusFeatures() []gatewayv1.SupportedFeature {
	var out []gatewayv1.SupportedFeature
	for _, f := range SupportedFeatures() {
		out = append(out, gatewayv1.SupportedFeature{Name: gatewayv1.FeatureName(f)})
	}
	return out
}
