package gateway

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/resolve"
)

// certRef is a usable certificate of a listener.
type certRef struct {
	cert   model.Certificate
	sans   []string
	secret diag.Object
}

// listenerTLS resolves the certificates of an HTTPS listener. References to other kinds than
// core Secrets, missing or unusable Secrets are InvalidCertificateRef; Secrets of another
// namespace need a ReferenceGrant (RefNotPermitted). The listener serves the certificates that
// resolve.
func (t *translator) listenerTLS(g *gw, l *lis) {
	tls := l.spec.TLS
	if tls != nil && tls.Mode != nil && *tls.Mode != gatewayv1.TLSModeTerminate {
		l.refuse(gatewayv1.ListenerReasonUnsupportedValue, "tls.mode %q is not supported on HTTPS listeners: only Terminate", *tls.Mode)
		return
	}
	if tls == nil || len(tls.CertificateRefs) == 0 {
		l.unresolved(gatewayv1.ListenerReasonInvalidCertificateRef, "an HTTPS listener needs tls.certificateRefs")
		return
	}
	for i, r := range tls.CertificateRefs {
		where := fmt.Sprintf("listener %s: tls.certificateRefs[%d]", l.name(), i)
		group, kind := "", kindSecret
		if r.Group != nil {
			group = string(*r.Group)
		}
		if r.Kind != nil {
			kind = string(*r.Kind)
		}
		if group != "" || kind != kindSecret {
			l.unresolved(gatewayv1.ListenerReasonInvalidCertificateRef, "%s: %s %q is not a Secret", where, groupKind(group, kind), clip(string(r.Name)))
			continue
		}
		ns := g.obj.Namespace
		if r.Namespace != nil && *r.Namespace != "" {
			ns = string(*r.Namespace)
		}
		key := types.NamespacedName{Namespace: ns, Name: string(r.Name)}
		if !t.grants.allows(ref{groupGateway, kindGateway, g.obj.Namespace, g.obj.Name}, ref{"", kindSecret, ns, key.Name}) {
			l.unresolved(gatewayv1.ListenerReasonRefNotPermitted, "%s: Secret %s is in another namespace, and no ReferenceGrant there allows it", where, key)
			continue
		}
		c, err := t.cl.Certificate(key)
		switch {
		case errors.Is(err, resolve.ErrNotFound):
			l.unresolved(gatewayv1.ListenerReasonInvalidCertificateRef, "%s: Secret %s not found", where, key)
			continue
		case err != nil:
			l.unresolved(gatewayv1.ListenerReasonInvalidCertificateRef, "%s: Secret %s: %v", where, key, err)
			continue
		}
		if !t.o.Now.IsZero() && c.NotAfter.Before(t.o.Now) {
			t.problem(g.ref, diag.Warning, "CertificateExpired", "%s: Secret %s holds a certificate that expired at %s; it is served anyway",
				where, key, c.NotAfter.UTC().Format(time.RFC3339))
		}
		l.certs = append(l.certs, certRef{
			cert:   model.Certificate{Name: model.CertName(c.PEM), PEM: c.PEM},
			sans:   dnsNames(c.PEM),
			secret: diag.Object{Kind: kindSecret, Namespace: key.Namespace, Name: key.Name},
		})
	}
	if !l.refsOK {
		t.problem(g.ref, diag.Warning, string(l.refsReason), "%s", l.refsMsg)
	}
}

func groupKind(group, kind string) string {
	if group == "" {
		return kind
	}
	return group + "/" + kind
}

// dnsNames are the DNS names of a PEM chain's first certificate that can be SNI names.
func dnsNames(p []byte) []string {
	block, _ := pem.Decode(p)
	if block == nil {
		return nil
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range c.DNSNames {
		if h, ok := normalizeHost(n); ok && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// addCertificates serves a listener's certificates on a bind: for the listener's hostname (its
// first certificate), or, without a hostname, for each certificate's own DNS names. A name the
// bind already serves stays with the earlier listener. The bind's first certificate is its
// default.
func (t *translator) addCertificates(b *bind, l *lis) {
	for i, cr := range l.certs {
		var names []string
		switch {
		case l.host != "" && i == 0:
			names = []string{l.host}
		case l.host == "":
			names = cr.sans
		}
		idx := slices.IndexFunc(b.certs, func(c model.Certificate) bool { return c.Name == cr.cert.Name })
		if idx < 0 {
			if len(b.certs) > 0 && len(names) == 0 {
				continue
			}
			b.certs = append(b.certs, cr.cert)
			idx = len(b.certs) - 1
		}
		c := &b.certs[idx]
		for _, n := range names {
			if b.sni[n] {
				continue
			}
			b.sni[n] = true
			c.SNI = append(c.SNI, n)
		}
		for _, src := range []diag.Object{l.gw.ref, cr.secret} {
			if !slices.Contains(c.Sources, src) {
				c.Sources = append(c.Sources, src)
			}
		}
	}
}
