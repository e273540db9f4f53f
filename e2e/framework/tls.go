package framework

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
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
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
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
	var peer *x509.Certificate
	client := &http.Client{
		Timeout: 3 * time.Second,
		Transport: &http.Transport{
			Proxy:             nil,
			DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{
				ServerName:         sni,
				InsecureSkipVerify: true, // the test checks which certificate it got
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
