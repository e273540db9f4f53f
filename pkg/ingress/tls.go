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

// lineKey identifies a crt-list line: a certificate with client-certificate settings. The same
// certificate (by content) used by Ingresses with different settings is listed once for each,
// with the hosts of those Ingresses only.
type lineKey struct {
	cert       string
	clientAuth model.ClientAuth
	checked    bool
}

// sniLine is the line that serves an SNI name, and the Ingress that put it there.
type sniLine struct {
	key   lineKey
	owner types.NamespacedName
}

// tlsConfig builds the HTTPS part of the configuration: certificates from the spec.tls of the
// Ingresses we own (oldest first), the default certificate and the hosts to redirect. An
// Ingress's client-certificate settings apply to its own hosts only: its certificate is listed
// with those settings for the hosts it serves, and another Ingress using the same certificate
// gets a line of its own.
func (t *translator) tlsConfig(ings []*networkingv1.Ingress, hostsOf func(*networkingv1.Ingress) []string) {
	o := t.opts.TLS
	if o.HTTPS.Port == 0 {
		return
	}
	cfg := &t.res.Config
	tls := &model.ListenerTLS{Default: t.defaultCertificate()}
	cfg.Listeners = append(cfg.Listeners, model.Listener{Name: HTTPSListener, Bind: o.HTTPS, Protocol: model.HTTPS, TLS: tls})

	lines := map[lineKey]*model.Certificate{}
	sniOwner := map[string]sniLine{}
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
			lk := lineKey{cert: model.CertName(c.PEM)}
			ca, optional := t.settings.clientAuth(ing)
			if ca != nil {
				lk.clientAuth, lk.checked = model.ClientAuth{CA: ca.Name, Optional: optional}, true
			}
			cert, ok := lines[lk]
			if !ok {
				cert = &model.Certificate{Name: lk.cert, PEM: c.PEM, ClientCA: ca, ClientOptional: ca != nil && optional}
				lines[lk] = cert
			}
			self := types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
			for _, h := range valid {
				if owner, taken := sniOwner[h]; taken {
					if owner.owner != self {
						t.problem(ing, Warning, "TLSConflict", fmt.Sprintf(
							"spec.tls[%d]: host %q already has a certificate from the older Ingress %s; this one is ignored for it", i, h, owner.owner))
					}
					continue
				}
				sniOwner[h] = sniLine{key: lk, owner: self}
				cert.SNI = append(cert.SNI, h)
				cert.Sources = append(cert.Sources, refOf(ing), ObjectRef{Kind: "Secret", Namespace: key.Namespace, Name: key.Name})
			}
		}
	}
	for _, c := range lines {
		if len(c.SNI) > 0 {
			slices.SortFunc(c.Sources, diag.Compare)
			c.Sources = slices.Compact(c.Sources)
			tls.Certificates = append(tls.Certificates, *c)
		}
	}
	for _, r := range redirect {
		cfg.HTTPSRedirects = append(cfg.HTTPSRedirects, r)
	}
	t.clientAuthConflicts(ings, sniOwner)
}

// clientAuthConflicts reports the hosts of Ingresses with client-ca whose TLS connections are
// served by a line with other client-certificate settings (another Ingress's, or the default
// certificate's): the routes' check refuses their requests (403), and the Ingress should know.
func (t *translator) clientAuthConflicts(ings []*networkingv1.Ingress, sniOwner map[string]sniLine) {
	for _, ing := range ings {
		ca, optional := t.settings.clientAuth(ing)
		if ca == nil || t.settings.unusableTLS(ing) != "" {
			continue // no check, or every path answers 503 (reported)
		}
		want := model.ClientAuth{CA: ca.Name, Optional: optional}
		for _, h := range ruleHosts(ing) {
			host, ok := normalizeHost(h)
			if !ok || host == "" {
				continue
			}
			line, found := sniOwner[host]
			if rest, wild := strings.CutPrefix(host, "*."); !found && !wild {
				if _, after, dot := strings.Cut(rest, "."); dot {
					line, found = sniOwner["*."+after]
				}
			}
			switch {
			case !found:
				t.problem(ing, Warning, "ClientAuthConflict", fmt.Sprintf(
					"host %q is served with the default certificate, which checks no client certificate (it is in no spec.tls of an Ingress); "+
						"this Ingress's paths on it refuse every request (403)", host))
			case !line.key.checked || line.key.clientAuth != want:
				t.problem(ing, Warning, "ClientAuthConflict", fmt.Sprintf(
					"host %q is served with the certificate and client-certificate settings of the Ingress %s; "+
						"this Ingress's paths on it refuse every request (403)", host, line.owner))
			}
		}
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
