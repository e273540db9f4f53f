package annotations

import "testing"

func TestWithAppProtocol(t *testing.T) {
	str := func(s string) *string { return &s }
	cm := mustParse(t, SourceConfigMap, map[string]string{"server-proto": "h2", "server-ssl": "true"})
	ing := mustParse(t, SourceIngress, map[string]string{"portcullis.io/server-proto": "h1"})
	svcProto := mustParse(t, SourceService, map[string]string{"portcullis.io/server-proto": "h1"})
	svcSSL := mustParse(t, SourceService, map[string]string{"haproxy.org/server-ssl": "true"})
	const key = "spec.ports[].appProtocol"

	tests := []struct {
		name        string
		svc, ing, c Layer
		app         *string
		wantProto   Value[string]
		wantSSL     Value[bool]
	}{
		{"no appProtocol changes nothing", Layer{}, Layer{}, Layer{}, nil,
			Value[string]{"h1", "server-proto", SourceDefault}, Value[bool]{false, "server-ssl", SourceDefault}},
		{"an unknown appProtocol changes nothing", Layer{}, Layer{}, Layer{}, str("kubernetes.io/grpc"),
			Value[string]{"h1", "server-proto", SourceDefault}, Value[bool]{false, "server-ssl", SourceDefault}},
		{"h2c speaks HTTP/2 over cleartext", Layer{}, Layer{}, Layer{}, str(AppProtocolH2C),
			Value[string]{"h2", key, SourceService}, Value[bool]{false, key, SourceService}},
		{"h2c beats the Ingress and the ConfigMap", Layer{}, ing, cm, str(AppProtocolH2C),
			Value[string]{"h2", key, SourceService}, Value[bool]{false, key, SourceService}},
		{"the Service's server-proto beats h2c", svcProto, ing, cm, str(AppProtocolH2C),
			Value[string]{"h1", "portcullis.io/server-proto", SourceService}, Value[bool]{false, key, SourceService}},
		{"the Service's server-ssl beats h2c: HTTP/2 over TLS", svcSSL, Layer{}, Layer{}, str(AppProtocolH2C),
			Value[string]{"h2", key, SourceService}, Value[bool]{true, "haproxy.org/server-ssl", SourceService}},
		{"ws speaks HTTP/1.1 over cleartext whatever the ConfigMap says", Layer{}, Layer{}, cm, str(AppProtocolWS),
			Value[string]{"h1", key, SourceService}, Value[bool]{false, key, SourceService}},
		{"wss speaks HTTP/1.1 over TLS", Layer{}, Layer{}, cm, str(AppProtocolWSS),
			Value[string]{"h1", key, SourceService}, Value[bool]{true, key, SourceService}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := ResolveBackend(tt.svc, tt.ing, tt.c).WithAppProtocol(tt.app)
			if b.ServerProto != tt.wantProto {
				t.Errorf("ServerProto = %+v, want %+v", b.ServerProto, tt.wantProto)
			}
			if b.ServerSSL != tt.wantSSL {
				t.Errorf("ServerSSL = %+v, want %+v", b.ServerSSL, tt.wantSSL)
			}
		})
	}
}
