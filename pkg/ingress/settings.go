package ingress

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/portcullis-ingress/portcullis/pkg/annotations"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
	"github.com/portcullis-ingress/portcullis/pkg/resolve"
)

// settings parses annotations and ConfigMap data once per object and resolves them into backend
// policies. Problems go to the object that carries the bad key.
type settings struct {
	t        *translator
	cm       annotations.Layer
	cmRef    ObjectRef // the ConfigMap, or zero
	ingress  map[types.NamespacedName]annotations.Layer
	services map[types.NamespacedName]annotations.Layer
	reported map[types.NamespacedName]bool // Ingresses whose client CA problem is reported
	// once holds the problems that are reported once per pass and object, whatever the number
	// of paths that meet them.
	once    map[onceKey]bool
	routes  map[types.NamespacedName]annotations.RouteSettings
	globals annotations.GlobalSettings
}

// onceKey is a problem reported once per pass: the object, and what about it.
type onceKey struct {
	obj  ObjectRef
	what string
}

func newSettings(t *translator, cm *corev1.ConfigMap) *settings {
	s := &settings{t: t, ingress: map[types.NamespacedName]annotations.Layer{},
		services: map[types.NamespacedName]annotations.Layer{}, once: map[onceKey]bool{},
		reported: map[types.NamespacedName]bool{}, routes: map[types.NamespacedName]annotations.RouteSettings{}}
	if cm != nil {
		var probs []annotations.Problem
		s.cm, probs = annotations.Parse(annotations.SourceConfigMap, cm.Data)
		s.cmRef = ObjectRef{Kind: "ConfigMap", Namespace: cm.Namespace, Name: cm.Name}
		s.report(s.cmRef, probs)
	}
	s.globals = annotations.ResolveGlobal(s.cm)
	return s
}

func (s *settings) report(obj ObjectRef, probs []annotations.Problem) {
	for _, p := range probs {
		s.t.res.Problems = append(s.t.res.Problems, p.For(obj))
	}
}

func (s *settings) ingressLayer(ing *networkingv1.Ingress) annotations.Layer {
	key := types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
	l, ok := s.ingress[key]
	if !ok {
		var probs []annotations.Problem
		l, probs = annotations.Parse(annotations.SourceIngress, ing.Annotations)
		s.report(ObjectRef{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}, probs)
		s.ingress[key] = l
	}
	return l
}

// route resolves an Ingress's route settings once per translation.
func (s *settings) route(ing *networkingv1.Ingress) annotations.RouteSettings {
	key := types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
	r, ok := s.routes[key]
	if !ok {
		r = annotations.ResolveRoute(s.ingressLayer(ing), s.cm)
		s.routes[key] = r
	}
	return r
}

func (s *settings) serviceLayer(svc *corev1.Service) annotations.Layer {
	if svc == nil {
		return annotations.Layer{}
	}
	key := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	l, ok := s.services[key]
	if !ok {
		var probs []annotations.Problem
		l, probs = annotations.Parse(annotations.SourceService, svc.Annotations)
		s.report(ObjectRef{Kind: "Service", Namespace: svc.Namespace, Name: svc.Name}, probs)
		s.services[key] = l
	}
	return l
}

// global is the process-wide configuration from the ConfigMap.
func (s *settings) global() (model.Global, annotations.GlobalSettings) {
	g := s.globals
	return model.Global{
		ErrorPages:           g.ErrorPages.Value == annotations.ErrorPagesPortcullis,
		MaxConn:              g.MaxConn.Value,
		NbThread:             g.NbThread.Value,
		TimeoutClient:        g.TimeoutClient.Value,
		TimeoutConnect:       g.TimeoutConnect.Value,
		TimeoutServer:        g.TimeoutServer.Value,
		TimeoutHTTPRequest:   g.TimeoutHTTPRequest.Value,
		TimeoutHTTPKeepAlive: g.TimeoutHTTPKeepAlive.Value,
		TimeoutQueue:         g.TimeoutQueue.Value,
		TimeoutTunnel:        g.TimeoutTunnel.Value,
		HardStopAfter:        g.HardStopAfter.Value,
		LogTarget:            g.SyslogServer.Value.String(),
		LogFormat:            string(g.LogFormat.Value),
		SSLMinVer:            string(g.SSLMinVer.Value),
		SSLCiphers:           string(g.SSLCiphers.Value),
		SSLCipherSuites:      string(g.SSLCipherSuites.Value),
		AcceptProxy:          g.ProxyProtocol.Value,
	}, g
}

// backendPolicy resolves the settings of the backend an Ingress path uses: Service > the Service
// port's appProtocol (nil: none; see annotations.WithAppProtocol) > Ingress > ConfigMap >
// default; and its server-slot step (see slotStep).
func (s *settings) backendPolicy(ing *networkingv1.Ingress, svc *corev1.Service, appProtocol *string) (model.BackendPolicy, slotAsk) {
	b := annotations.ResolveBackend(s.serviceLayer(svc), s.ingressLayer(ing), s.cm).WithAppProtocol(appProtocol)
	p := BasePolicy(b)
	if b.ServerSSL.Value {
		p.ServerTLS = s.serverTLS(ing, b, &p)
	}
	return p, s.slotStep(ing, svc, b.ServerSlots)
}

// spares shapes the pool of spare backend sections (see pkg/haproxy spare.go): count spares of
// twice the configuration's slot step, with the policy of a backend that no Ingress or Service
// annotation sets. The pool takes at most a quarter of the slot budget. When the ConfigMap makes
// every backend connect over TLS, whose settings belong to each backend, there is no pool.
func (s *settings) spares(count, step int) model.Spares {
	b := annotations.ResolveBackend(annotations.Layer{}, annotations.Layer{}, s.cm)
	slots := 2 * cmp.Or(step, limits.DefaultSlotStep)
	count = min(count, cmp.Or(s.t.opts.SlotBudget, limits.DefaultSlotBudget)/4/slots)
	if count <= 0 || b.ServerSSL.Value {
		return model.Spares{}
	}
	return model.Spares{Count: count, Slots: slots, Policy: BasePolicy(b)}
}

// BasePolicy is the backend policy of resolved settings, but for server TLS. Every source that
// builds backends for Service ports uses it, so that one Service port gets one policy (and one
// backend that Compose merges) whichever source asks.
func BasePolicy(b annotations.BackendSettings) model.BackendPolicy {
	p := model.BackendPolicy{
		TimeoutServer:  explicit(b.TimeoutServer),
		TimeoutConnect: explicit(b.TimeoutConnect),
		TimeoutQueue:   explicit(b.TimeoutQueue),
		TimeoutTunnel:  explicit(b.TimeoutTunnel),
		Check:          b.Check.Value,
		CheckInterval:  b.CheckInterval.Value,
		CheckPath:      string(b.CheckHTTP.Value),
		Cookie:         b.CookiePersistence.Value,
		SendProxy:      b.SendProxyProtocol.Value.ServerKeyword(),
		ForwardedFor:   b.ForwardedFor.Value,
	}
	if p.Cookie != "" {
		a := model.CookieAttributes{MaxAge: b.CookieMaxAge.Value, SameSite: b.CookieSameSite.Value, Path: string(b.CookiePath.Value)}
		if a != (model.CookieAttributes{}) {
			p.CookieAttrs = &a
		}
	}
	if !p.Check {
		p.CheckInterval, p.CheckPath = 0, ""
	}
	if bal := b.LoadBalance.Value; bal.Algorithm != "roundrobin" {
		p.Balance = bal
	}
	p.ServerH2 = b.ServerProto.Value == "h2"
	return p
}

// slotAsk is the server-slot step of a backend (0: the configuration's default) and the object
// that asked for it: the Ingress, the Service, the ConfigMap, or none for the built-in default.
type slotAsk struct {
	step int
	from ObjectRef
}

// slotStep is the server-slot step asked for a backend. An Ingress or a Service may ask for at
// most limits.MaxServerSlotsAnnotation; more is clamped, with a problem once per object.
func (s *settings) slotStep(ing *networkingv1.Ingress, svc *corev1.Service, v annotations.Value[int]) slotAsk {
	ask := slotAsk{step: v.Value}
	switch v.Source {
	case annotations.SourceConfigMap:
		ask.from = s.cmRef
		return ask
	case annotations.SourceIngress:
		ask.from = refOf(ing)
	case annotations.SourceService:
		ask.from = ObjectRef{Kind: "Service", Namespace: svc.Namespace, Name: svc.Name}
	default:
		return ask
	}
	if ask.step <= limits.MaxServerSlotsAnnotation {
		return ask
	}
	if k := (onceKey{ask.from, "server-slots"}); !s.once[k] {
		s.once[k] = true
		s.t.res.Problems = append(s.t.res.Problems, Problem{Object: ask.from, Severity: Warning, Reason: "ServerSlotsClamped",
			Message: fmt.Sprintf("%s: %d is more than an Ingress or a Service may ask for (%d); its backends get %d slots per step",
				v.Key, ask.step, limits.MaxServerSlotsAnnotation, limits.MaxServerSlotsAnnotation)})
	}
	ask.step = limits.MaxServerSlotsAnnotation
	return ask
}

// routePolicy resolves the route settings of an Ingress's paths: Ingress > ConfigMap > default.
func (s *settings) routePolicy(ing *networkingv1.Ingress) model.RoutePolicy {
	r := s.route(ing)
	p := model.RoutePolicy{
		AppRoot:     string(r.AppRoot.Value),
		AllowList:   r.AllowList.Value,
		DenyList:    r.DenyList.Value,
		MaxBodySize: int64(r.BodySizeLimit.Value),
	}
	if r.ForceSSLRedirect.Value {
		p.ForceHTTPS = r.SSLRedirectCode.Value
	}
	if rw := r.PathRewrite.Value; rw.From != "" {
		p.PathRewrite = &model.Rewrite{From: string(rw.From), To: string(rw.To)}
	}
	if rd := r.RequestRedirect.Value; rd.Scheme != "" {
		p.Redirect = &model.Redirect{Location: rd.String(), Code: r.RequestRedirectCode.Value}
	}
	p.MaxConnections = r.RateLimitConnections.Value
	p.InterceptErrors = r.InterceptErrors.Value
	if u := r.RedirectTo.Value; u != "" {
		p.RedirectTo = &model.Redirect{Location: string(u), Code: r.RedirectToCode.Value}
	}
	if n := r.RateLimitRequests.Value; n > 0 {
		p.RateLimit = &model.RateLimit{Requests: n, Period: r.RateLimitPeriod.Value, Status: r.RateLimitStatusCode.Value}
	}
	if name := r.AuthSecret.Value; name != "" {
		p.BasicAuth = &model.BasicAuth{Realm: string(r.AuthRealm.Value), Users: s.users(ing, name)}
	}
	if r.CORSEnable.Value {
		p.CORS = &model.CORS{
			Origins:     list(r.CORSAllowOrigin.Value),
			Methods:     list(r.CORSAllowMethods.Value),
			Headers:     list(r.CORSAllowHeaders.Value),
			Credentials: r.CORSAllowCredentials.Value,
			MaxAge:      r.CORSMaxAge.Value,
		}
	}
	for _, h := range r.RequestSetHeaders.Value {
		p.RequestHeaders = append(p.RequestHeaders, model.Header{Name: string(h.Name), Value: string(h.Value)})
	}
	for _, h := range r.ResponseSetHeaders.Value {
		p.ResponseHeaders = append(p.ResponseHeaders, model.Header{Name: string(h.Name), Value: string(h.Value)})
	}
	if name := r.ClientCA.Value; name != "" {
		ca, err := s.clientCA(ing, name)
		switch why := s.unusableTLS(ing); {
		case err != nil:
			// Client certificates were asked for and cannot be checked: refuse rather than open.
			p.Unavailable = true
		case why != "":
			// Without its own certificate the host falls back to the default one, which
			// checks no client certificate: refuse rather than open.
			p.Unavailable = true
			s.reportOnce(ing, "InvalidSecret", fmt.Sprintf("client-ca is set but %s; the Ingress's paths answer 503 rather than accept clients without a certificate", why))
		default:
			// The handshake checks the certificate on the Ingress's own crt-list line; the
			// route checks that the request came over such a handshake for its host.
			p.ClientAuth = &model.ClientAuth{CA: ca.Name, Optional: r.ClientCrtOptional.Value}
		}
	}
	if g := s.globals; g.HSTS.Value {
		p.HSTS = g.HSTSMaxAge.Value
	}
	return p
}

// list is a wildcard setting as a model list.
func list[T fmt.Stringer](w annotations.Wildcard[T]) model.List {
	l := model.List{Any: w.Any}
	for _, it := range w.Items {
		l.Items = append(l.Items, it.String())
	}
	return l
}

// explicit is a backend timeout set on the Ingress or Service; zero otherwise, so that the
// backend inherits the defaults section, which carries the ConfigMap's and the built-in values.
func explicit(v annotations.Value[time.Duration]) time.Duration {
	if v.Source == annotations.SourceIngress || v.Source == annotations.SourceService {
		return v.Value
	}
	return 0
}

// pathRegex reports whether an Ingress's paths are regular expressions, and the rewrite
// target of their requests ("" for none).
func (s *settings) pathRegex(ing *networkingv1.Ingress) (bool, annotations.RewriteTarget) {
	r := s.route(ing)
	return r.PathRegex.Value || r.RewriteTarget.Value != "", r.RewriteTarget.Value
}

// canary returns the canary Service of an Ingress's paths and the percentage it receives.
func (s *settings) canary(ing *networkingv1.Ingress) (annotations.ServiceRef, int) {
	r := s.route(ing)
	return r.CanaryService.Value, r.CanaryWeight.Value
}

// serverTLS loads the CA and client certificate of a backend that speaks TLS to its servers. A
// CA or client certificate that is asked for but unusable makes the backend fail closed (503)
// rather than connect without the verification or identity the operator wanted.
func (s *settings) serverTLS(ing *networkingv1.Ingress, b annotations.BackendSettings, p *model.BackendPolicy) *model.ServerTLS {
	st := &model.ServerTLS{}
	if name := b.ServerCA.Value; name != "" {
		ca, err := s.t.cl.CABundle(types.NamespacedName{Namespace: ing.Namespace, Name: name})
		if err != nil {
			s.t.problem(ing, Error, "InvalidSecret", fmt.Sprintf("%s: secret %q: %v; requests get 503", b.ServerCA.Key, name, err))
			p.Unavailable = true
		} else {
			st.CA = &model.Certificate{Name: model.CertName(ca), PEM: ca}
		}
	}
	if name := b.ServerCrt.Value; name != "" {
		c, err := s.t.cl.Certificate(types.NamespacedName{Namespace: ing.Namespace, Name: name})
		if errors.Is(err, resolve.ErrNotFound) {
			s.t.problem(ing, Error, "SecretNotFound", fmt.Sprintf("%s: secret %q not found; requests get 503", b.ServerCrt.Key, name))
			p.Unavailable = true
		} else if err != nil {
			s.t.problem(ing, Error, "InvalidCertificate", fmt.Sprintf("%s: secret %q: %v; requests get 503", b.ServerCrt.Key, name, err))
			p.Unavailable = true
		} else {
			st.Client = &model.Certificate{Name: model.CertName(c.PEM), PEM: c.PEM}
		}
	}
	return st
}

// clientCA loads the CA bundle that verifies an Ingress's client certificates, reporting a
// problem once per Ingress when it is unusable.
func (s *settings) clientCA(ing *networkingv1.Ingress, name string) (*model.Certificate, error) {
	ca, err := s.t.cl.CABundle(types.NamespacedName{Namespace: ing.Namespace, Name: name})
	if err != nil {
		key := types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
		if !s.reported[key] {
			s.reported[key] = true
			s.t.problem(ing, Error, "InvalidSecret", fmt.Sprintf("client-ca secret %q: %v; the Ingress's paths answer 503", name, err))
		}
		return nil, err
	}
	return &model.Certificate{Name: model.CertName(ca), PEM: ca}, nil
}

// unusableTLS says why one of an Ingress's TLS entries has no usable certificate, or "".
func (s *settings) unusableTLS(ing *networkingv1.Ingress) string {
	if len(ing.Spec.TLS) == 0 {
		return "the Ingress has no spec.tls"
	}
	for i, e := range ing.Spec.TLS {
		if e.SecretName == "" {
			return fmt.Sprintf("spec.tls[%d] names no secret", i)
		}
		if _, err := s.t.cl.Certificate(types.NamespacedName{Namespace: ing.Namespace, Name: e.SecretName}); err != nil {
			return fmt.Sprintf("spec.tls[%d]: secret %q is unusable (%v)", i, e.SecretName, err)
		}
	}
	return ""
}

// reportOnce reports a problem on an Ingress once per translation.
func (s *settings) reportOnce(ing *networkingv1.Ingress, reason, msg string) {
	key := types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
	if s.reported[key] {
		return
	}
	s.reported[key] = true
	s.t.problem(ing, Error, reason, msg)
}

// clientAuth returns the client-certificate settings of an Ingress's TLS hosts.
func (s *settings) clientAuth(ing *networkingv1.Ingress) (*model.Certificate, bool) {
	r := s.route(ing)
	if r.ClientCA.Value == "" {
		return nil, false
	}
	ca, err := s.clientCA(ing, r.ClientCA.Value)
	if err != nil {
		return nil, false
	}
	return ca, r.ClientCrtOptional.Value
}

// sslRedirect reports whether an Ingress's TLS hosts are redirected from HTTP.
func (s *settings) sslRedirect(ing *networkingv1.Ingress) bool {
	return s.route(ing).SSLRedirect.Value
}

// httpsRedirect is how an Ingress's TLS host is redirected from HTTP: its ssl-redirect-code and
// ssl-redirect-port (Ingress > ConfigMap > default).
func (s *settings) httpsRedirect(ing *networkingv1.Ingress, host string) model.HTTPSRedirect {
	r := s.route(ing)
	return model.HTTPSRedirect{Host: host, Code: r.SSLRedirectCode.Value, Port: uint16(r.SSLRedirectPort.Value)}
}

// users returns the users of a basic-auth Secret (see resolve.ParseBasicAuth), decoded once per
// pass however many paths use it. What the Secret holds that is left out is reported once per
// pass, on the Secret; a Secret that is missing or holds no usable user is reported once per
// Ingress that uses it, since all its paths then refuse every request with 401 (failing closed
// rather than opening).
func (s *settings) users(ing *networkingv1.Ingress, name string) []model.User {
	key := types.NamespacedName{Namespace: ing.Namespace, Name: name}
	ba, err := s.t.cl.BasicAuth(key)
	secret := ObjectRef{Kind: "Secret", Namespace: key.Namespace, Name: key.Name}
	if sum := ba.Summary(); err == nil && sum != "" && !s.once[onceKey{secret, "users"}] {
		s.once[onceKey{secret, "users"}] = true
		s.t.res.Problems = append(s.t.res.Problems, Problem{Object: secret, Severity: Warning, Reason: "InvalidSecret",
			Message: "basic-auth: " + sum})
	}
	if len(ba.Users) > 0 || s.once[onceKey{refOf(ing), "users/" + name}] {
		return ba.Users
	}
	s.once[onceKey{refOf(ing), "users/" + name}] = true
	if err != nil {
		s.t.problem(ing, Error, "SecretNotFound", fmt.Sprintf("basic-auth secret %q not found; every request is refused with 401", name))
	} else {
		s.t.problem(ing, Error, "InvalidSecret", fmt.Sprintf("basic-auth secret %q holds no usable user; every request is refused with 401", name))
	}
	return nil
}

// policySuffix is "_" and 8 hex digits of a policy's hash. It tells apart the backends of one
// Service port used with different backend settings; the first (oldest Ingress's) policy of a
// Service port gets the plain name.
func policySuffix(p model.BackendPolicy) string {
	b, _ := json.Marshal(p)
	sum := sha256.Sum256(b)
	return "_" + hex.EncodeToString(sum[:4])
}
