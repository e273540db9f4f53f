package annotations

// The application protocols of a Service port (spec.ports[].appProtocol) that set how a backend
// speaks to its servers. Other values, and none, change nothing.
const (
	// AppProtocolH2C is HTTP/2 over cleartext, with prior knowledge.
	AppProtocolH2C = "kubernetes.io/h2c"
	// AppProtocolWS is WebSocket over cleartext: HTTP/1.1 and its Upgrade.
	AppProtocolWS = "kubernetes.io/ws"
	// AppProtocolWSS is WebSocket over TLS: HTTP/1.1 and its Upgrade, over TLS.
	AppProtocolWSS = "kubernetes.io/wss"
)

// appProtocolKey is the Key of a value that a Service port's appProtocol set.
const appProtocolKey = "spec.ports[].appProtocol"

// WithAppProtocol applies the appProtocol of the Service port a backend is made of to its
// resolved settings. The appProtocol says what the port speaks, so it ranks with the Service,
// just below the Service's own annotations: server-ssl and server-proto annotated on the Service
// win over it; set on an Ingress or in the ConfigMap they yield to it.
//
//   - kubernetes.io/h2c: server-proto h2, server-ssl false (HTTP/2 over cleartext);
//   - kubernetes.io/ws: server-proto h1, server-ssl false (WebSocket needs HTTP/1.1's Upgrade);
//   - kubernetes.io/wss: server-proto h1, server-ssl true (without server-ca the server's
//     certificate is not verified, as with server-ssl).
//
// Values set this way carry SourceService and the key "spec.ports[].appProtocol". Every source
// that builds backends of Service ports calls it, so that a Service port gets the same policy
// whichever source uses it.
func (b BackendSettings) WithAppProtocol(appProtocol *string) BackendSettings {
	if appProtocol == nil {
		return b
	}
	var proto string
	var ssl bool
	switch *appProtocol {
	case AppProtocolH2C:
		proto, ssl = "h2", false
	case AppProtocolWS:
		proto, ssl = "h1", false
	case AppProtocolWSS:
		proto, ssl = "h1", true
	default:
		return b
	}
	if b.ServerProto.Source != SourceService {
		b.ServerProto = Value[string]{Value: proto, Key: appProtocolKey, Source: SourceService}
	}
	if b.ServerSSL.Source != SourceService {
		b.ServerSSL = Value[bool]{Value: ssl, Key: appProtocolKey, Source: SourceService}
	}
	return b
}
