// Package tcpservices is the source of TCP listeners: the tcp-services ConfigMaps of
// haproxytech's controller and of ingress-nginx, where each entry gives a port of HAProxy's to a
// Service port. It is a pure translator from the ConfigMaps to a fragment of the model, like
// pkg/ingress for Ingresses.
package tcpservices

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/resolve"
)

// Format is the entry format of a ConfigMap.
type Format int

const (
	// HAProxyTech is haproxytech's `--configmap-tcp-services`: "<namespace>/<service>:<port>",
	// with an optional ":ssl" that this controller refuses (TLS offload of TCP services is not
	// supported yet).
	HAProxyTech Format = iota
	// NGINX is ingress-nginx's `--tcp-services-configmap`: "<namespace>/<service>:<port>", then
	// optionally ":PROXY" (connections carry a PROXY protocol header to decode) and a second
	// ":PROXY" (send one to the backend).
	NGINX
	// UDP is ingress-nginx's `--udp-services-configmap`. HAProxy does not proxy UDP: every entry
	// is refused with a problem.
	UDP
)

// ConfigMap is one ConfigMap to read and its format.
type ConfigMap struct {
	Object *corev1.ConfigMap
	Format Format
}

// Options are the operator's choices.
type Options struct {
	// Address is where TCP listeners bind.
	Address netip.Addr
	// Reserved are the ports of the controller's own listeners, which entries cannot take.
	Reserved []uint16
}

// Result is a fragment of the model with the problems found and the backends each Service's
// endpoints feed.
type Result struct {
	Config    model.Config
	Problems  []diag.Problem
	Endpoints map[types.NamespacedName][]resolve.Feed
}

// Reasons of the problems.
const (
	ReasonInvalid     = "InvalidTCPService"
	ReasonUnsupported = "UnsupportedTCPService"
	ReasonUDP         = "UDPNotSupported"
	ReasonPortInUse   = "PortInUse"
	ReasonNotFound    = "ServiceNotFound"
)

// Translate turns the entries of the ConfigMaps into TCP listeners, routes and backends. An
// entry that cannot be served gets a problem on its ConfigMap naming the entry; the others are
// served. A port claimed twice goes to the first ConfigMap given.
func Translate(cms []ConfigMap, cl *resolve.Cluster, opts Options) Result {
	t := translator{cl: cl, opts: opts, taken: map[uint16]string{}}
	for _, p := range opts.Reserved {
		t.taken[p] = "the controller's own listener"
	}
	for _, cm := range cms {
		if cm.Object == nil {
			continue
		}
		t.configMap(cm)
	}
	t.res.Config.Normalize()
	return t.res
}

type translator struct {
	cl    *resolve.Cluster
	opts  Options
	taken map[uint16]string
	res   Result
}

func (t *translator) problem(obj diag.Object, reason, format string, a ...any) {
	t.res.Problems = append(t.res.Problems, diag.Problem{Object: obj, Severity: diag.Warning, Reason: reason, Message: fmt.Sprintf(format, a...)})
}

func (t *translator) configMap(cm ConfigMap) {
	obj := diag.Object{Kind: "ConfigMap", Namespace: cm.Object.Namespace, Name: cm.Object.Name}
	keys := make([]string, 0, len(cm.Object.Data))
	for k := range cm.Object.Data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		value := cm.Object.Data[key]
		if cm.Format == UDP {
			t.problem(obj, ReasonUDP, "entry %q: HAProxy does not proxy UDP; expose the Service with a NodePort or LoadBalancer Service of its own", key)
			continue
		}
		port, err := listenerPort(key)
		if err != nil {
			t.problem(obj, ReasonInvalid, "entry %q: %v; ignored", clip(key), err)
			continue
		}
		e, err := parseEntry(value, cm.Format)
		if err != nil {
			t.problem(obj, ReasonInvalid, "entry %q: %v; ignored", key, err)
			continue
		}
		if e.ssl {
			t.problem(obj, ReasonUnsupported, "entry %q: TLS offload of TCP services (:ssl) is not supported; terminate TLS in the backend, which then sees the TLS connection; ignored", key)
			continue
		}
		if holder, ok := t.taken[port]; ok {
			t.problem(obj, ReasonPortInUse, "entry %q: port %d is %s; ignored", key, port, holder)
			continue
		}
		t.taken[port] = fmt.Sprintf("taken by the entry %q of ConfigMap %s/%s", key, obj.Namespace, obj.Name)
		t.entry(obj, key, port, e)
	}
}

// entry is a parsed ConfigMap value.
type entry struct {
	namespace, service string
	// port is the Service port's name or number.
	portName                    string
	portNumber                  int32
	acceptPROXY, sendPROXY, ssl bool
}

func (e entry) port() string {
	if e.portName != "" {
		return e.portName
	}
	return strconv.Itoa(int(e.portNumber))
}

// listenerPort reads an entry's key: a port number from 1 to 65535, without leading zeros.
func listenerPort(key string) (uint16, error) {
	n, err := strconv.Atoi(key)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != key {
		return 0, fmt.Errorf("the key must be a port number from 1 to 65535")
	}
	return uint16(n), nil
}

// parseEntry reads "<namespace>/<service>:<port>[:options]".
func parseEntry(v string, f Format) (entry, error) {
	var e entry
	ref, rest, ok := strings.Cut(v, ":")
	if !ok {
		return e, fmt.Errorf("want <namespace>/<service>:<port>")
	}
	ns, svc, ok := strings.Cut(ref, "/")
	if !ok {
		return e, fmt.Errorf("want <namespace>/<service>:<port>")
	}
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return e, fmt.Errorf("namespace %q: %s", clip(ns), errs[0])
	}
	if errs := validation.IsDNS1035Label(svc); len(errs) > 0 {
		return e, fmt.Errorf("service %q: %s", clip(svc), errs[0])
	}
	e.namespace, e.service = ns, svc
	parts := strings.Split(rest, ":")
	if n, err := strconv.Atoi(parts[0]); err == nil {
		if n < 1 || n > 65535 || strconv.Itoa(n) != parts[0] {
			return e, fmt.Errorf("port %q is not 1 to 65535", clip(parts[0]))
		}
		e.portNumber = int32(n)
	} else if errs := validation.IsValidPortName(parts[0]); len(errs) == 0 {
		e.portName = parts[0]
	} else {
		return e, fmt.Errorf("port %q is neither a number nor a port name", clip(parts[0]))
	}
	opts := parts[1:]
	switch f {
	case HAProxyTech:
		switch {
		case len(opts) == 0:
		case len(opts) == 1 && opts[0] == "ssl":
			e.ssl = true
		default:
			return e, fmt.Errorf("options %q: the only option is :ssl", clip(strings.Join(opts, ":")))
		}
	case NGINX:
		if len(opts) > 2 {
			return e, fmt.Errorf("too many options %q: at most :PROXY:PROXY", clip(strings.Join(opts, ":")))
		}
		for i, o := range opts {
			switch {
			case o == "PROXY" && i == 0:
				e.acceptPROXY = true
			case o == "PROXY" && i == 1:
				e.sendPROXY = true
			case o == "" && i == 0 && len(opts) == 2:
				// "::PROXY": send only
			default:
				return e, fmt.Errorf("option %q: want PROXY (decode from clients) then PROXY (send to the backend)", clip(o))
			}
		}
	}
	return e, nil
}

// entry adds a TCP listener, its route and its backend.
func (t *translator) entry(obj diag.Object, key string, port uint16, e entry) {
	listener := "tcp-" + key
	// One backend per entry: entries never share settings, and an Ingress's backend of the
	// same Service port keeps its own.
	backend := fmt.Sprintf("tcp%d_%s_%s_%s", port, e.namespace, e.service, e.port())
	l := model.Listener{Name: listener, Bind: model.Bind{Address: t.opts.Address, Port: port}, Protocol: model.TCP, Sources: []diag.Object{obj}}
	if e.acceptPROXY {
		l.AcceptProxy = []netip.Prefix{netip.PrefixFrom(netip.IPv4Unspecified(), 0)}
	}
	b := model.Backend{Name: backend, Sources: []diag.Object{obj}}
	if e.sendPROXY {
		b.Policy.SendProxy = "send-proxy"
	}
	key2 := types.NamespacedName{Namespace: e.namespace, Name: e.service}
	svc, ok := t.cl.Service(key2)
	sp, found := resolve.FindServicePort(svc, e.portName, e.portNumber)
	switch {
	case !ok:
		t.problem(obj, ReasonNotFound, "entry %q: service %s/%s not found; connections to port %d are closed", key, e.namespace, e.service, port)
	case !found:
		t.problem(obj, ReasonNotFound, "entry %q: service %s/%s has no port %s; connections to port %d are closed", key, e.namespace, e.service, e.port(), port)
	case sp.Protocol != "" && sp.Protocol != corev1.ProtocolTCP:
		t.problem(obj, ReasonUnsupported, "entry %q: service port %s is %s, not TCP; connections to port %d are closed", key, e.port(), sp.Protocol, port)
	default:
		b.Servers = t.cl.Servers(key2, sp)
		if t.res.Endpoints == nil {
			t.res.Endpoints = map[types.NamespacedName][]resolve.Feed{}
		}
		t.res.Endpoints[key2] = append(t.res.Endpoints[key2], resolve.Feed{Backend: backend, Port: sp})
	}
	t.res.Config.Listeners = append(t.res.Config.Listeners, l)
	t.res.Config.Backends = append(t.res.Config.Backends, b)
	t.res.Config.TCPRoutes = append(t.res.Config.TCPRoutes, model.TCPRoute{Listener: listener, Backend: backend, Source: obj})
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
