package ingress

import (
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/resolve"
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

// ParseFallbackPEM checks a PEM certificate chain plus key, as used for the fallback default.
func ParseFallbackPEM(p []byte) error {
	_, err := tls.X509KeyPair(p, p)
	return err
}

// tlsConfig builds the HTTPS part of the configuration: certificates from the spec.tls of the
// Ingresses we own (oldest first), the default certificate and the hosts to redirect.
func (t *translator) tlsConfig(ings []*networkingv1.Ingress, hostsOf func(*networkingv1.Ingress) []string) {
	o := t.opts.TLS
	if o.HTTPS.Port == 0 {
		return
	}
	cfg := &t.res.Config
	tls := &model.ListenerTLS{Default: t.defaultCertificate()}
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
				// The oldest Ingress's choice stands; a host not redirected says so, so that
				// a redirected wildcard does not cover it.
				if _, seen := redirect[nh]; !seen && !o.NoRedirect {
					if ca, _ := t.settings.clientAuth(ing); t.settings.sslRedirect(ing) || ca != nil {
						redirect[nh] = t.settings.httpsRedirect(ing, nh)
					} else {
						redirect[nh] = model.HTTPSRedirect{Host: nh, Off: true}
					}
				}
			}
			if entry.SecretName == "" {
				continue
			}
			key := types.NamespacedName{Namespace: ing.Namespace, Name: entry.SecretName}
			c, err := t.cl.Certificate(key)
			if errors.Is(err, resolve.ErrNotFound) {
				t.problem(ing, Warning, "SecretNotFound", fmt.Sprintf(
					"spec.tls[%d]: secret %q not found; hosts %s get the default certificate", i, entry.SecretName, strings.Join(valid, ",")))
				continue
			}
			if err != nil {
				t.problem(ing, Warning, "InvalidCertificate", fmt.Sprintf(
					"spec.tls[%d]: secret %q: %v; hosts %s get the default certificate", i, entry.SecretName, err, strings.Join(valid, ",")))
				continue
			}
			if !o.Now.IsZero() && c.NotAfter.Before(o.Now) {
				t.problem(ing, Warning, "CertificateExpired", fmt.Sprintf(
					"spec.tls[%d]: secret %q holds a certificate that expired at %s; it is served anyway", i, entry.SecretName, c.NotAfter.UTC().Format(time.RFC3339)))
			}
			name := model.CertName(c.PEM)
			cert, ok := byName[name]
			if !ok {
				cert = &model.Certificate{Name: name, PEM: c.PEM}
				byName[name] = cert
			}
			cert.Sources = append(cert.Sources, refOf(ing), ObjectRef{Kind: "Secret", Namespace: key.Namespace, Name: key.Name})
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
func (t *translator) defaultCertificate() model.Certificate {
	o := t.opts.TLS
	fallback := model.Certificate{Name: model.CertName(o.FallbackPEM), PEM: o.FallbackPEM}
	if o.DefaultCertificate.Name == "" {
		return fallback
	}
	ref := ObjectRef{Kind: "Secret", Namespace: o.DefaultCertificate.Namespace, Name: o.DefaultCertificate.Name}
	c, err := t.cl.Certificate(o.DefaultCertificate)
	if errors.Is(err, resolve.ErrNotFound) {
		t.res.Problems = append(t.res.Problems, Problem{Object: ref, Severity: Error, Reason: "SecretNotFound",
			Message: "the default certificate secret is not found; a generated self-signed certificate is served instead"})
		return fallback
	}
	if err != nil {
		t.res.Problems = append(t.res.Problems, Problem{Object: ref, Severity: Error, Reason: "InvalidCertificate",
			Message: fmt.Sprintf("the default certificate secret is unusable (%v); a generated self-signed certificate is served instead", err)})
		return fallback
	}
	return model.Certificate{Name: model.CertName(c.PEM), PEM: c.PEM}
}
