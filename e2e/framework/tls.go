package framework

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Certificate is a self-signed test certificate for some host names.
type Certificate struct {
	CertPEM, KeyPEM []byte
	Leaf            *x509.Certificate
}

// SelfSigned makes a certificate for hosts, with the first host as common name.
func SelfSigned(t testing.TB, hosts ...string) Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return selfSignedWith(t, key, hosts)
}

// SelfSignedRSA is SelfSigned with an RSA key of the given size. Go accepts keys of 1024 bits,
// which OpenSSL's default security level (2) refuses to load: HAProxy on Debian cannot serve them.
func SelfSignedRSA(t testing.TB, bits int, hosts ...string) Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return selfSignedWith(t, key, hosts)
}

// selfSignedWith makes a self-signed certificate for hosts with key.
func selfSignedWith(t testing.TB, key crypto.Signer, hosts []string) Certificate {
	t.Helper()
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		DNSNames:     hosts,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	var c, k bytes.Buffer
	_ = pem.Encode(&c, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	_ = pem.Encode(&k, &pem.Block{Type: "PRIVATE KEY", Bytes: pk})
	return Certificate{CertPEM: c.Bytes(), KeyPEM: k.Bytes(), Leaf: leaf}
}

// TLSSecret returns a kubernetes.io/tls Secret holding cert and key.
func TLSSecret(ns, name string, cert, key []byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: cert, corev1.TLSPrivateKeyKey: key},
	}
}

// CreateSecret creates a Secret.
func CreateSecret(t testing.TB, s *corev1.Secret) *corev1.Secret {
	t.Helper()
	got, err := Kube().CoreV1().Secrets(s.Namespace).Create(t.Context(), s, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating secret %s/%s: %v", s.Namespace, s.Name, err)
	}
	return got
}

// UpdateSecret replaces a Secret's data.
func UpdateSecret(t testing.TB, s *corev1.Secret) *corev1.Secret {
	t.Helper()
	cur, err := Kube().CoreV1().Secrets(s.Namespace).Get(t.Context(), s.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading secret %s/%s: %v", s.Namespace, s.Name, err)
	}
	cur.Data = s.Data
	got, err := Kube().CoreV1().Secrets(s.Namespace).Update(t.Context(), cur, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("updating secret %s/%s: %v", s.Namespace, s.Name, err)
	}
	return got
}

// TLSResponse is what an HTTPS request saw: the certificate served and the answer.
type TLSResponse struct {
	Peer *x509.Certificate
	*Response
}

// TryGetTLS sends GET https://127.0.0.1:<https port><path> with sni as TLS server name and host as
// Host header, accepting any certificate (the test inspects it).
func TryGetTLS(c *Controller, sni, host, path string) (*TLSResponse, error) {
	return tryGetTLS(c, sni, host, path, nil)
}

func tryGetTLS(c *Controller, sni, host, path string, clientCert *Certificate) (*TLSResponse, error) {
	var peer *x509.Certificate
	var clientCerts []tls.Certificate
	if clientCert != nil {
		pair, err := tls.X509KeyPair(clientCert.CertPEM, clientCert.KeyPEM)
		if err != nil {
			return nil, err
		}
		clientCerts = []tls.Certificate{pair}
	}
	client := &http.Client{
		Timeout: 3 * time.Second,
		Transport: &http.Transport{
			Proxy:             nil,
			DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{
				ServerName:         sni,
				Certificates:       clientCerts,
				InsecureSkipVerify: true, //nolint:gosec // G402: the test checks which certificate it got
				VerifyConnection: func(cs tls.ConnectionState) error {
					if len(cs.PeerCertificates) > 0 {
						peer = cs.PeerCertificates[0]
					}
					return nil
				},
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	url := "https://127.0.0.1:" + strconv.Itoa(c.HTTPSPort) + path
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s (SNI %s, Host %s): %w", url, sni, host, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return &TLSResponse{Peer: peer, Response: &Response{Status: resp.StatusCode, Echo: resp.Header.Get(EchoNameHeader), Header: resp.Header, Body: body}}, nil
}

// tlsEchoIPs hands out addresses for TLS echoes, apart from StartEcho's range.
var tlsEchoIPs atomic.Uint32

// StartTLSEcho starts an echo backend that serves HTTPS with cert (HTTP/1.1 and h2), on a fresh
// address in 198.18.210.0/24. When clientCA is not nil, it requires a client certificate signed
// by it. The echo reports the protocol it saw in the EchoProtoHeader response header.
func StartTLSEcho(t testing.TB, name string, cert Certificate, clientCA *x509.CertPool) *Echo {
	t.Helper()
	n := tlsEchoIPs.Add(1)
	e := &Echo{Name: name, IP: fmt.Sprintf("198.18.210.%d", n), Port: EchoPort}
	pair, err := tls.X509KeyPair(cert.CertPEM, cert.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{pair}, NextProtos: []string{"h2", "http/1.1"}}
	if clientCA != nil {
		cfg.ClientCAs, cfg.ClientAuth = clientCA, tls.RequireAndVerifyClientCert
	}
	l, err := tls.Listen("tcp", e.Addr(), cfg)
	if err != nil {
		t.Fatalf("starting TLS echo %s: %v", name, err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(EchoProtoHeader, r.Proto)
		e.ServeHTTP(w, r)
	})
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = server.Serve(l) }()
	t.Cleanup(func() { server.Close() })
	return e
}

// Pool returns a certificate pool holding c.
func (c Certificate) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Leaf)
	return p
}

// TryGetTLSWithClientCert is TryGetTLS presenting client as TLS client certificate (none if nil).
func TryGetTLSWithClientCert(c *Controller, sni, host, path string, client *Certificate) (*TLSResponse, error) {
	return tryGetTLS(c, sni, host, path, client)
}
