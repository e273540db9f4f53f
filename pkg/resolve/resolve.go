// Package resolve is what every source of routes needs from the cluster, done once per pass and in
// one place: Services and their EndpointSlices to servers (refusing addresses HAProxy must never
// connect to), Secrets decoded to certificates, CA bundles and basic-auth users. It is pure: it
// reads the objects of a snapshot and never talks to the API.
package resolve

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// Cluster indexes the objects of one snapshot for the sources. Decoded Secrets are kept for the
// pass, so that a Secret used by many routes is parsed once. It is not safe for concurrent use.
type Cluster struct {
	services map[types.NamespacedName]*corev1.Service
	slices   map[types.NamespacedName][]*discoveryv1.EndpointSlice
	secrets  map[types.NamespacedName]*corev1.Secret
	certs    map[types.NamespacedName]certResult
	cas      map[types.NamespacedName]caResult
	users    map[types.NamespacedName]basicAuthResult
	policy   AddressPolicy
	// refused are the endpoint addresses refused by policy, by Service (see Problems).
	refused map[types.NamespacedName][]refusal
}

type certResult struct {
	c   Certificate
	err error
}

type caResult struct {
	pem []byte
	err error
}

// New indexes services, their EndpointSlices (by the kubernetes.io/service-name label) and
// secrets. Servers leave out the endpoint addresses that policy refuses.
func New(services []*corev1.Service, eps []*discoveryv1.EndpointSlice, secrets []*corev1.Secret, policy AddressPolicy) *Cluster {
	c := &Cluster{
		services: make(map[types.NamespacedName]*corev1.Service, len(services)),
		slices:   make(map[types.NamespacedName][]*discoveryv1.EndpointSlice, len(eps)),
		secrets:  make(map[types.NamespacedName]*corev1.Secret, len(secrets)),
		certs:    map[types.NamespacedName]certResult{},
		cas:      map[types.NamespacedName]caResult{},
		users:    map[types.NamespacedName]basicAuthResult{},
		policy:   policy,
	}
	for _, s := range services {
		c.services[types.NamespacedName{Namespace: s.Namespace, Name: s.Name}] = s
	}
	for _, es := range eps {
		svc := es.Labels[discoveryv1.LabelServiceName]
		if svc == "" {
			continue
		}
		key := types.NamespacedName{Namespace: es.Namespace, Name: svc}
		c.slices[key] = append(c.slices[key], es)
	}
	for _, s := range secrets {
		c.secrets[types.NamespacedName{Namespace: s.Namespace, Name: s.Name}] = s
	}
	return c
}

// Service returns a Service.
func (c *Cluster) Service(key types.NamespacedName) (*corev1.Service, bool) {
	s, ok := c.services[key]
	return s, ok
}

// Secret returns a Secret.
func (c *Cluster) Secret(key types.NamespacedName) (*corev1.Secret, bool) {
	s, ok := c.secrets[key]
	return s, ok
}

// Servers lists the ready endpoints of a Service port (see Servers). The addresses refused are
// reported once per pass by Problems.
func (c *Cluster) Servers(svc types.NamespacedName, sp corev1.ServicePort) []model.Server {
	servers, refused := servers(c.slices[svc], sp, c.policy)
	c.noteRefused(svc, refused)
	return servers
}

// Feed is a backend fed by the endpoints of a Service port: a change of the Service's
// EndpointSlices changes exactly the servers of its feeds.
type Feed struct {
	Backend string
	Port    corev1.ServicePort
}

// FindServicePort finds a Service's port by name or, when name is empty, by number.
func FindServicePort(svc *corev1.Service, name string, number int32) (corev1.ServicePort, bool) {
	if svc == nil {
		return corev1.ServicePort{}, false
	}
	for _, sp := range svc.Spec.Ports {
		if name != "" && sp.Name == name || name == "" && sp.Port == number {
			return sp, true
		}
	}
	return corev1.ServicePort{}, false
}

// Servers lists the ready endpoints of a Service port in the Service's EndpointSlices.
// EndpointSlices name their ports after the Service's ports and carry the resolved target port
// number, which is how named target ports are resolved. Terminating endpoints that still serve
// are listed as draining. Addresses that policy refuses are left out. The order is canonical.
func Servers(eps []*discoveryv1.EndpointSlice, sp corev1.ServicePort, policy AddressPolicy) []model.Server {
	out, _ := servers(eps, sp, policy)
	return out
}

func servers(eps []*discoveryv1.EndpointSlice, sp corev1.ServicePort, policy AddressPolicy) ([]model.Server, []refusal) {
	seen := map[model.Server]int{} // index into out
	var out []model.Server
	var refused []refusal
	for _, es := range eps {
		if es.AddressType != discoveryv1.AddressTypeIPv4 && es.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		var port uint16
		for _, p := range es.Ports {
			if p.Port != nil && ptrString(p.Name) == sp.Name && (p.Protocol == nil || *p.Protocol == corev1.ProtocolTCP) {
				port = uint16(*p.Port)
			}
		}
		if port == 0 {
			continue
		}
		for _, ep := range es.Endpoints {
			draining, ok := endpointState(ep.Conditions)
			if !ok {
				continue
			}
			for _, a := range ep.Addresses {
				addr, err := netip.ParseAddr(a)
				if err != nil || addr.Zone() != "" {
					continue
				}
				addr = addr.Unmap()
				if why := policy.Refuses(addr); why != "" {
					refused = append(refused, refusal{addr, why})
					continue
				}
				s := model.Server{Address: addr, Port: port}
				if i, dup := seen[s]; dup {
					// Ready anywhere means ready, whatever the order of the slices.
					out[i].Draining = out[i].Draining && draining
					continue
				}
				seen[s] = len(out)
				s.Draining = draining
				out = append(out, s)
			}
		}
	}
	slices.SortFunc(out, model.CompareServers)
	return out, refused
}

// endpointState says whether an endpoint takes traffic: ready endpoints do (a missing ready
// condition means ready); terminating endpoints that still serve are drained, finishing their
// requests without new ones.
func endpointState(c discoveryv1.EndpointConditions) (draining, ok bool) {
	if c.Ready == nil || *c.Ready {
		return false, true
	}
	if c.Serving != nil && *c.Serving && c.Terminating != nil && *c.Terminating {
		return true, true
	}
	return false, false
}

func ptrString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Certificate is a usable TLS Secret: the PEM HAProxy loads (the chain, then the key).
type Certificate struct {
	PEM      []byte
	NotAfter time.Time
}

// ErrNotFound says that a Secret does not exist (or is not watched).
var ErrNotFound = errors.New("not found")

// Certificate decodes the TLS Secret key once per pass.
func (c *Cluster) Certificate(key types.NamespacedName) (Certificate, error) {
	if r, ok := c.certs[key]; ok {
		return r.c, r.err
	}
	var r certResult
	if sec, ok := c.secrets[key]; !ok {
		r.err = ErrNotFound
	} else {
		r.c, r.err = ParseCertificate(sec)
	}
	c.certs[key] = r
	return r.c, r.err
}

// CABundle decodes the ca.crt of the Secret key once per pass.
func (c *Cluster) CABundle(key types.NamespacedName) ([]byte, error) {
	if r, ok := c.cas[key]; ok {
		return r.pem, r.err
	}
	var r caResult
	if sec, ok := c.secrets[key]; !ok {
		r.err = ErrNotFound
	} else {
		r.pem, r.err = caBundle(sec)
	}
	c.cas[key] = r
	return r.pem, r.err
}

// ParseCertificate checks a Secret's tls.crt and tls.key: PEM, a chain whose first certificate
// matches the key. It returns the combined PEM that HAProxy loads: the chain, then the key,
// re-encoded from the parsed blocks so that nothing but PEM blocks reaches the file.
func ParseCertificate(sec *corev1.Secret) (Certificate, error) {
	crt, key := sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey]
	if len(crt) == 0 || len(key) == 0 {
		return Certificate{}, fmt.Errorf("it has no %s or no %s", corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	}
	pair, err := tls.X509KeyPair(crt, key)
	if err != nil {
		return Certificate{}, fmt.Errorf("its certificate and key do not form a pair: %w", err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return Certificate{}, fmt.Errorf("parsing its certificate: %w", err)
	}
	var b bytes.Buffer
	for _, der := range pair.Certificate {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	if err := encodeKey(&b, key); err != nil {
		return Certificate{}, err
	}
	return Certificate{PEM: b.Bytes(), NotAfter: leaf.NotAfter}, nil
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

// caBundle re-encodes the certificates of a Secret's ca.crt.
func caBundle(sec *corev1.Secret) ([]byte, error) {
	data := sec.Data["ca.crt"]
	var out bytes.Buffer
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return nil, fmt.Errorf("ca.crt holds an invalid certificate: %w", err)
		}
		_ = pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: block.Bytes})
	}
	if out.Len() == 0 {
		return nil, fmt.Errorf("no certificate under key ca.crt")
	}
	return out.Bytes(), nil
}
