package ingress

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// TLSOptions shape the HTTPS side of translation.
type TLSOptions struct {
	// HTTPS is where the proxy listens for TLS; a zero port disables HTTPS.
	HTTPS model.Bind
	// DefaultCertificate is a kubernetes.io/tls Secret served when no SNI matches.
	DefaultCertificate types.NamespacedName
	// FallbackPEM is the certificate chain and key served when DefaultCertificate is unset or
	// unusable; the controller generates a self-signed one at start.
	FallbackPEM []byte
	// Now is the time certificates are checked against (expiry is a warning only).
	Now time.Time
	// NoRedirect disables that redirect.
	NoRedirect bool
}

// certificate is a validated Secret.
type certificate struct {
	pem      []byte
	notAfter time.Time
}

// parseCertificate checks a Secret's tls.crt and tls.key: PEM, a chain whose first certificate
// matches the key. It returns the combined PEM that HAProxy loads: the chain, then the key.
func parseCertificate(sec *corev1.Secret) (certificate, error) {
	crt, key := sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey]
	if len(crt) == 0 || len(key) == 0 {
		return certificate{}, fmt.Errorf("it has no %s or no %s", corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	}
	pair, err := tls.X509KeyPair(crt, key)
	if err != nil {
		return certificate{}, fmt.Errorf("its certificate and key do not form a pair: %w", err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return certificate{}, fmt.Errorf("parsing its certificate: %w", err)
	}
	// Re-encode from the parsed blocks, so that nothing but PEM blocks reaches the file.
	var b bytes.Buffer
	for _, der := range pair.Certificate {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	if err := encodeKey(&b, key); err != nil {
		return certificate{}, err
	}
	return certificate{pem: b.Bytes(), notAfter: leaf.NotAfter}, nil
}

// encodeKey copies the first private-key PEM block of data.
func encodeKey(b *bytes.Buffer, data []byte) error {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return errors.New("its key holds no private key PEM block")
		}
		if strings.HasSuffix(block.Type, "PRIVATE KEY") {
			return pem.Encode(b, &pem.Block{Type: block.Type, Bytes: block.Bytes})
		}
	}
}

// ParseFallbackPEM checks a PEM certificate chain plus key, as used for the fallback default.
func ParseFallbackPEM(p []byte) error {
	_, err := tls.X509KeyPair(p, p)
	return err
}

// tlsConfig builds the HTTPS part of the configuration: certificates from the spec.tls of the
// Ingresses we own (oldest first), the default certificate and the hosts to redirect.
func (t *translator) tlsConfig(ings []*networkingv1.Ingress, secrets map[types.NamespacedName]*corev1.Secret, hostsOf func(*networkingv1.Ingress) []string) {
	o := t.opts.TLS
	if o.HTTPS.Port == 0 {
		return
	}
	cfg := &t.res.Config
	tls := &model.ListenerTLS{Default: t.defaultCertificate(secrets)}
	cfg.Listeners = append(cfg.Listeners, model.Listener{Name: HTTPSListener, Bind: o.HTTPS, Protocol: model.HTTPS, TLS: tls})

	byName := map[string]*model.Certificate{}
	sniOwner := map[string]types.NamespacedName{}
	redirect := map[string]model.HTTPSRedirect{}
	for _, ing := range ings {
		for i, entry := range ing.Spec.TLS {
			hosts := entry.Hosts
			if len(hosts) == 0 {
				hosts = hostsOf(ing)
			}
			var valid []string
			for _, h := range hosts {
				nh, ok := normalizeHost(h)
				if !ok || nh == "" {
					t.problem(ing, Error, "InvalidHost", fmt.Sprintf("spec.tls[%d]: host %q is not a valid host name; ignored", i, h))
					continue
				}
				valid = append(valid, nh)
				// Hosts that require client certificates are always redirected: plain HTTP
				// would bypass the check.
				_, seen := redirect[nh]
				if ca, _ := t.settings.clientAuth(ing); !seen && !o.NoRedirect && (t.settings.sslRedirect(ing) || ca != nil) {
					redirect[nh] = t.settings.httpsRedirect(ing, nh)
				}
			}
			if entry.SecretName == "" {
				continue
			}
			key := types.NamespacedName{Namespace: ing.Namespace, Name: entry.SecretName}
			sec, ok := secrets[key]
			if !ok {
				t.problem(ing, Warning, "SecretNotFound", fmt.Sprintf(
					"spec.tls[%d]: secret %q not found; hosts %s get the default certificate", i, entry.SecretName, strings.Join(valid, ",")))
				continue
			}
			c, err := parseCertificate(sec)
			if err != nil {
				t.problem(ing, Warning, "InvalidCertificate", fmt.Sprintf(
					"spec.tls[%d]: secret %q: %v; hosts %s get the default certificate", i, entry.SecretName, err, strings.Join(valid, ",")))
				continue
			}
			if !o.Now.IsZero() && c.notAfter.Before(o.Now) {
				t.problem(ing, Warning, "CertificateExpired", fmt.Sprintf(
					"spec.tls[%d]: secret %q holds a certificate that expired at %s; it is served anyway", i, entry.SecretName, c.notAfter.UTC().Format(time.RFC3339)))
			}
			name := model.CertName(c.pem)
			cert, ok := byName[name]
			if !ok {
				cert = &model.Certificate{Name: name, PEM: c.pem}
				byName[name] = cert
			}
			cert.Sources = append(cert.Sources, refOf(ing), ObjectRef{Kind: "Secret", Namespace: sec.Namespace, Name: sec.Name})
			if ca, optional := t.settings.clientAuth(ing); ca != nil {
				cert.ClientCA, cert.ClientOptional = ca, optional
			}
			self := types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
			for _, h := range valid {
				if owner, taken := sniOwner[h]; taken {
					if owner != self {
						t.problem(ing, Warning, "TLSConflict", fmt.Sprintf(
							"spec.tls[%d]: host %q already has a certificate from the older Ingress %s; this one is ignored for it", i, h, owner))
					}
					continue
				}
				sniOwner[h] = self
				cert.SNI = append(cert.SNI, h)
			}
		}
	}
	for _, c := range byName {
		if len(c.SNI) > 0 {
			slices.SortFunc(c.Sources, diag.Compare)
			c.Sources = slices.Compact(c.Sources)
			tls.Certificates = append(tls.Certificates, *c)
		}
	}
	for _, r := range redirect {
		cfg.HTTPSRedirects = append(cfg.HTTPSRedirects, r)
	}
}

// defaultCertificate is the operator's --default-ssl-certificate if usable, else the fallback.
func (t *translator) defaultCertificate(secrets map[types.NamespacedName]*corev1.Secret) model.Certificate {
	o := t.opts.TLS
	fallback := model.Certificate{Name: model.CertName(o.FallbackPEM), PEM: o.FallbackPEM}
	if o.DefaultCertificate.Name == "" {
		return fallback
	}
	ref := ObjectRef{Kind: "Secret", Namespace: o.DefaultCertificate.Namespace, Name: o.DefaultCertificate.Name}
	sec, ok := secrets[o.DefaultCertificate]
	if !ok {
		t.res.Problems = append(t.res.Problems, Problem{Object: ref, Severity: Error, Reason: "SecretNotFound",
			Message: "the default certificate secret is not found; a generated self-signed certificate is served instead"})
		return fallback
	}
	c, err := parseCertificate(sec)
	if err != nil {
		t.res.Problems = append(t.res.Problems, Problem{Object: ref, Severity: Error, Reason: "InvalidCertificate",
			Message: fmt.Sprintf("the default certificate secret is unusable (%v); a generated self-signed certificate is served instead", err)})
		return fallback
	}
	return model.Certificate{Name: model.CertName(c.pem), PEM: c.pem}
}
