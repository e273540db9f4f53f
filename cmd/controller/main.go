// Command controller is the Portcullis ingress controller: it watches Kubernetes Ingresses and
// runs HAProxy to serve them.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/portcullis-ingress/portcullis/pkg/gateway"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/process"
	"github.com/portcullis-ingress/portcullis/pkg/ingress"
	"github.com/portcullis-ingress/portcullis/pkg/k8s"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
	"github.com/portcullis-ingress/portcullis/pkg/reconcile"
	"github.com/portcullis-ingress/portcullis/pkg/resolve"
	"github.com/portcullis-ingress/portcullis/pkg/tcpservices"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop() // before os.Exit, which skips deferred calls
	if err != nil && !errors.Is(err, pflag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "portcullis:", err)
		os.Exit(1)
	}
}

// config is the validated result of the command line.
type config struct {
	kubeconfig        string
	ingressClass      string
	controllerName    string
	emptyIngressClass bool
	configMap         types.NamespacedName
	tcpServices       types.NamespacedName
	tcpServicesNGINX  types.NamespacedName
	udpServices       types.NamespacedName
	namespaces        []string
	bindAddress       netip.Addr
	httpPort          uint16
	httpsPort         uint16
	program           string
	configDir         string
	runtimeDir        string
	defaultBackend    types.NamespacedName
	logLevel          slog.Level
	logFormat         string
	controllerPort    uint16
	statsPort         uint16
	monitorPort       uint16
	shutdownDelay     time.Duration
	stopTimeout       time.Duration
	status            k8s.StatusOptions
	defaultCert       types.NamespacedName
	election          types.NamespacedName
	// home is the controller's own namespace ($POD_NAMESPACE, else default): Events about
	// cluster-scoped objects go there.
	home              string
	hostOwnership     bool
	slotBudget        int
	spareBackends     int
	podIPs            []netip.Addr
	gatewayController string
	gatewayPool       netip.Prefix
}

// newFlagSet declares every flag. Where haproxytech/kubernetes-ingress has the same concept, the
// flag has its name, so that operators can move over.
func newFlagSet(raw *rawFlags) *pflag.FlagSet {
	fs := pflag.NewFlagSet("portcullis", pflag.ContinueOnError)
	fs.SortFlags = true
	fs.StringVar(&raw.kubeconfig, "kubeconfig", "", "Path to a kubeconfig file. Empty: $KUBECONFIG, then the in-cluster configuration.")
	fs.StringVar(&raw.ingressClass, "ingress.class", "haproxy", "Ingress class name: the value of the legacy kubernetes.io/ingress.class annotation that this controller serves.")
	fs.StringVar(&raw.controllerName, "controller-name", "portcullis.io/ingress-controller", "The spec.controller value of the IngressClasses this controller serves.")
	fs.BoolVar(&raw.emptyIngressClass, "empty-ingress-class", false, "Also serve Ingresses that name no class, even when no IngressClass of ours is the default.")
	fs.StringVar(&raw.configMap, "configmap", "", "Global configuration ConfigMap, as namespace/name.")
	fs.StringVar(&raw.tcpServices, "configmap-tcp-services", "", "TCP services ConfigMap (namespace/name) in haproxytech's format: \"<port>\": \"<namespace>/<service>:<port>\". Each entry is a TCP listener of HAProxy's.")
	fs.StringVar(&raw.tcpServicesNGINX, "tcp-services-configmap", "", "TCP services ConfigMap (namespace/name) in ingress-nginx's format: \"<port>\": \"<namespace>/<service>:<port>[:PROXY[:PROXY]]\" (decode the PROXY protocol from clients, then send it to the service).")
	fs.StringVar(&raw.udpServices, "udp-services-configmap", "", "ingress-nginx's UDP services ConfigMap (namespace/name). HAProxy does not proxy UDP: every entry is refused with a Warning Event.")
	fs.StringSliceVar(&raw.namespaces, "namespace-whitelist", nil, "Only watch these namespaces (repeat or separate with commas). Empty: all namespaces.")
	fs.StringVar(&raw.bindAddress, "ipv4-bind-address", "0.0.0.0", "IPv4 address HAProxy listens on.")
	fs.Uint16Var(&raw.httpPort, "http-bind-port", 8080, "Port HAProxy listens on for HTTP.")
	fs.Uint16Var(&raw.httpsPort, "https-bind-port", 8443, "Port HAProxy listens on for HTTPS.")
	fs.StringVar(&raw.program, "program", "haproxy", "The haproxy binary: a path, or a name looked up in $PATH.")
	fs.StringVar(&raw.configDir, "config-dir", "/etc/portcullis", "Directory for the generated haproxy.cfg and map files.")
	fs.StringVar(&raw.runtimeDir, "runtime-dir", "/run/portcullis", "Directory for HAProxy's sockets and pid file. A HAProxy that a previous controller left running on these directories is adopted, not doubled.")
	fs.StringVar(&raw.defaultBackend, "default-backend-service", "", "Service (namespace/name) that answers requests no rule matches. Empty: a built-in backend answering 404.")
	fs.StringVar(&raw.log, "log", "info", "Log level: error, warning, info, debug or trace.")
	fs.StringVar(&raw.logFormat, "log-format", "text", "Log format: text or json.")
	fs.Uint16Var(&raw.statsPort, "stats-bind-port", 1024, "Port of HAProxy's built-in Prometheus exporter (/metrics). 0 disables it.")
	fs.Uint16Var(&raw.controllerPort, "controller-port", 6060, "Port of the controller's /healthz, /readyz and /metrics endpoints.")
	fs.Uint16Var(&raw.monitorPort, "healthz-bind-port", 1042, "Port of HAProxy's own health check for an external load balancer (GET /healthz: 200, or 503 from the moment the controller is asked to stop). 0 disables it.")
	fs.DurationVar(&raw.shutdownDelay, "shutdown-delay", 10*time.Second, "On SIGTERM, how long HAProxy keeps serving after readiness and the load balancer's health check fail, so that kube-proxy and the load balancer stop sending first.")
	fs.DurationVar(&raw.stopTimeout, "stop-timeout", 30*time.Second, "After the shutdown delay, how long HAProxy's soft stop may take (finishing requests in flight) before it is killed. At start, the same bound applies to stopping a HAProxy found running on these directories that cannot be adopted.")
	fs.StringVar(&raw.defaultCert, "default-ssl-certificate", "", "kubernetes.io/tls Secret (namespace/name) served to unknown SNI names and to TLS hosts whose own Secret is unusable. Empty: a self-signed certificate generated at start.")
	fs.StringVar(&raw.publishService, "publish-service", "", "Service (namespace/name) whose addresses are written to the status of the Ingresses served: a LoadBalancer's ingress addresses, a NodePort's node addresses.")
	fs.StringSliceVar(&raw.publishAddresses, "publish-status-address", nil, "Fixed addresses (IPs or host names) written to Ingress status instead of --publish-service's.")
	fs.StringVar(&raw.statusAddressType, "status-address-type", "InternalIP", "Node address published for a NodePort --publish-service: InternalIP or ExternalIP.")
	fs.StringVar(&raw.electionID, "election-id", "portcullis-leader", "Name of the Lease that elects the replica writing Ingress status.")
	fs.StringVar(&raw.electionNamespace, "election-namespace", "", "Namespace of the election Lease. Empty: $POD_NAMESPACE, else default.")
	fs.BoolVar(&raw.hostOwnership, "host-ownership", false, "Give each host to one namespace: the first to claim it (the namespace holding it since the previous pass, else that of the oldest Ingress naming it). Other namespaces' rules and TLS hosts for it are refused with a HostOwnedByOtherNamespace Event. A wildcard host also claims the names it covers that no other namespace claimed first. Off: any namespace may add paths under any host, as with ingress-nginx.")
	fs.IntVar(&raw.spareBackends, "spare-backends", limits.DefaultSpareBackends, "Spare backend sections kept in HAProxy's configuration, each with twice the server-slot step of slots (16 by default, counted against --server-slot-budget, of which the spares take at most a quarter). A new Service whose backend has the default settings takes one at runtime, without a reload; the pool is refilled by the next reload, or by one reload once fewer than a quarter are left. 0 turns this off.")
	fs.IntVar(&raw.slotBudget, "server-slot-budget", limits.DefaultSlotBudget, "Most server slots (pre-declared server lines) of the whole configuration. Every backend gets room for its endpoints in steps of 8 whatever this says; larger steps (server-slots) are granted oldest object first while the total stays within it, and clamped to 8 beyond, with a ServerSlotsClamped Event on the object that asked.")
	fs.StringVar(&raw.gatewayController, "gateway-controller-name", "portcullis.io/gateway-controller", "The spec.controllerName of the GatewayClasses this controller serves (Gateway API). Empty: Gateway API objects are not watched. They are watched only when the API server serves gateway.networking.k8s.io/v1 at start; otherwise a log line says so and only Ingresses are served.")
	fs.StringVar(&raw.gatewayPool, "gateway-address-pool", "", "CIDR from which each Gateway of our classes gets an address of its own, whose listeners bind <address>:<listener port>; the operator routes it to this HAProxy (a VIP, a BGP-announced range). Empty: Gateways share the controller's address: listener port 80 is --http-bind-port, 443 is --https-bind-port (their routes share the Ingresses' tables), other ports are binds of their own on the listeners' address (--ipv4-bind-address), and Gateway status addresses are the published ones (--publish-service, --publish-status-address).")
	fs.StringSliceVar(&raw.podIPs, "pod-ip", nil, "The controller pod's own IP addresses (repeat or separate with commas): endpoints at these addresses are refused, as are loopback, link-local, multicast and unspecified ones. Empty: $POD_IP (the chart sets it from status.podIPs).")
	return fs
}

type rawFlags struct {
	kubeconfig, ingressClass, controllerName, configMap, bindAddress string
	program, configDir, runtimeDir, defaultBackend, log, logFormat   string
	publishService, statusAddressType, electionID, electionNamespace string
	defaultCert, tcpServices, tcpServicesNGINX, udpServices          string
	gatewayController, gatewayPool                                   string
	emptyIngressClass, hostOwnership                                 bool
	slotBudget, spareBackends                                        int
	namespaces, publishAddresses, podIPs                             []string
	httpPort, httpsPort, controllerPort, statsPort, monitorPort      uint16
	shutdownDelay, stopTimeout                                       time.Duration
}

// parseFlags parses and validates the command line. Unknown flags and stray arguments are errors.
func parseFlags(args []string, out io.Writer) (config, error) {
	var raw rawFlags
	fs := newFlagSet(&raw)
	fs.SetOutput(out)
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	c := config{
		kubeconfig: raw.kubeconfig, ingressClass: raw.ingressClass, controllerName: raw.controllerName,
		emptyIngressClass: raw.emptyIngressClass, namespaces: raw.namespaces,
		httpPort: raw.httpPort, httpsPort: raw.httpsPort, logFormat: raw.logFormat, controllerPort: raw.controllerPort, statsPort: raw.statsPort,
		monitorPort: raw.monitorPort, shutdownDelay: raw.shutdownDelay, stopTimeout: raw.stopTimeout,
		hostOwnership: raw.hostOwnership, slotBudget: raw.slotBudget, spareBackends: raw.spareBackends, gatewayController: raw.gatewayController,
	}
	var errs []error
	var err error
	if c.configMap, err = namespacedName("--configmap", raw.configMap); err != nil {
		errs = append(errs, err)
	}
	for _, f := range []struct {
		flag, v string
		dst     *types.NamespacedName
	}{
		{"--configmap-tcp-services", raw.tcpServices, &c.tcpServices},
		{"--tcp-services-configmap", raw.tcpServicesNGINX, &c.tcpServicesNGINX},
		{"--udp-services-configmap", raw.udpServices, &c.udpServices},
	} {
		if *f.dst, err = namespacedName(f.flag, f.v); err != nil {
			errs = append(errs, err)
		}
	}
	if c.defaultBackend, err = namespacedName("--default-backend-service", raw.defaultBackend); err != nil {
		errs = append(errs, err)
	}
	if c.bindAddress, err = netip.ParseAddr(raw.bindAddress); err != nil || !c.bindAddress.Is4() {
		errs = append(errs, fmt.Errorf("--ipv4-bind-address %q is not an IPv4 address", raw.bindAddress))
	}
	if c.httpPort == 0 || c.httpsPort == 0 || c.httpPort == c.httpsPort {
		errs = append(errs, fmt.Errorf("--http-bind-port and --https-bind-port must be distinct and non-zero"))
	}
	if c.statsPort != 0 && (c.statsPort == c.httpPort || c.statsPort == c.httpsPort) {
		errs = append(errs, fmt.Errorf("--stats-bind-port must differ from the HTTP and HTTPS ports"))
	}
	if c.monitorPort != 0 && (c.monitorPort == c.httpPort || c.monitorPort == c.httpsPort || c.monitorPort == c.statsPort) {
		errs = append(errs, fmt.Errorf("--healthz-bind-port must differ from the HTTP, HTTPS and stats ports"))
	}
	if c.shutdownDelay < 0 || c.stopTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--shutdown-delay must not be negative and --stop-timeout must be positive"))
	}
	for _, d := range []struct {
		flag string
		dst  *string
		val  string
	}{{"--config-dir", &c.configDir, raw.configDir}, {"--runtime-dir", &c.runtimeDir, raw.runtimeDir}} {
		abs, err := filepath.Abs(d.val)
		if err != nil || strings.ContainsAny(abs, " \t\r\n#\"'\\") {
			errs = append(errs, fmt.Errorf("%s %q must be a path without spaces or quotes", d.flag, d.val))
		}
		*d.dst = abs
	}
	if c.program, err = lookPath(raw.program); err != nil {
		errs = append(errs, fmt.Errorf("--program: %w", err))
	}
	if c.status.PublishService, err = namespacedName("--publish-service", raw.publishService); err != nil {
		errs = append(errs, err)
	}
	c.status.Addresses = raw.publishAddresses
	if c.defaultCert, err = namespacedName("--default-ssl-certificate", raw.defaultCert); err != nil {
		errs = append(errs, err)
	}
	switch t := corev1.NodeAddressType(raw.statusAddressType); t {
	case corev1.NodeInternalIP, corev1.NodeExternalIP:
		c.status.NodeAddressType = t
	default:
		errs = append(errs, fmt.Errorf("--status-address-type %q must be InternalIP or ExternalIP", raw.statusAddressType))
	}
	c.home = cmp.Or(os.Getenv("POD_NAMESPACE"), metav1.NamespaceDefault)
	c.election = types.NamespacedName{Namespace: cmp.Or(raw.electionNamespace, c.home), Name: raw.electionID}
	if c.slotBudget <= 0 {
		errs = append(errs, fmt.Errorf("--server-slot-budget must be positive"))
	}
	if c.spareBackends < 0 || c.spareBackends > limits.MaxSpareBackends {
		errs = append(errs, fmt.Errorf("--spare-backends must be 0 to %d", limits.MaxSpareBackends))
	}
	ips := raw.podIPs
	if len(ips) == 0 && os.Getenv("POD_IP") != "" {
		ips = strings.Split(os.Getenv("POD_IP"), ",")
	}
	for _, ip := range ips {
		a, err := netip.ParseAddr(strings.TrimSpace(ip))
		if err != nil {
			errs = append(errs, fmt.Errorf("--pod-ip (or $POD_IP) %q is not an IP address", ip))
			continue
		}
		c.podIPs = append(c.podIPs, a.Unmap())
	}
	if raw.gatewayPool != "" {
		p, err := netip.ParsePrefix(raw.gatewayPool)
		if err != nil {
			errs = append(errs, fmt.Errorf("--gateway-address-pool %q is not a CIDR such as 192.0.2.0/28", raw.gatewayPool))
		} else {
			c.gatewayPool = p.Masked()
		}
	}
	levels := map[string]slog.Level{"error": slog.LevelError, "warning": slog.LevelWarn, "info": slog.LevelInfo, "debug": slog.LevelDebug, "trace": slog.LevelDebug - 4}
	var ok bool
	if c.logLevel, ok = levels[raw.log]; !ok {
		errs = append(errs, fmt.Errorf("--log %q must be one of error, warning, info, debug, trace", raw.log))
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q must be text or json", c.logFormat))
	}
	return c, errors.Join(errs...)
}

// gatewayPoolString is the --gateway-address-pool for logs: empty when unset.
func gatewayPoolString(p netip.Prefix) string {
	if !p.IsValid() {
		return ""
	}
	return p.String()
}

func namespacedName(flag, v string) (types.NamespacedName, error) {
	if v == "" {
		return types.NamespacedName{}, nil
	}
	ns, name, ok := strings.Cut(v, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return types.NamespacedName{}, fmt.Errorf("%s %q must be namespace/name", flag, v)
	}
	return types.NamespacedName{Namespace: ns, Name: name}, nil
}

func lookPath(program string) (string, error) {
	p, err := exec.LookPath(program)
	if err != nil {
		return "", err
	}
	return filepath.Abs(p)
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "portcullis"
	}
	return h
}

func newLogger(c config, w io.Writer) logr.Logger {
	opts := &slog.HandlerOptions{Level: c.logLevel}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if c.logFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return logr.FromSlogHandler(h)
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" && os.Getenv("KUBECONFIG") == "" {
		if cfg, err := rest.InClusterConfig(); err == nil {
			return cfg, nil
		}
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, nil).ClientConfig()
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := newLogger(c, stderr)
	klog.SetLogger(log.WithName("client-go"))

	rc, err := restConfig(c.kubeconfig)
	if err != nil {
		return fmt.Errorf("loading Kubernetes client configuration: %w", err)
	}
	rc.UserAgent = "portcullis"
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("creating Kubernetes client: %w", err)
	}

	// Gateway API objects are watched when a controller name is set and the API server serves
	// them now; installing the CRDs later takes a restart.
	var gwClient gatewayclient.Interface
	if c.gatewayController != "" {
		served, why, err := k8s.GatewayAPIServed(client.Discovery())
		if err != nil {
			return err
		}
		if served {
			// Status writes come one per changed object: a burst of route changes is many.
			gwConfig := rest.CopyConfig(rc)
			gwConfig.QPS, gwConfig.Burst = 50, 100
			if gwClient, err = gatewayclient.NewForConfig(gwConfig); err != nil {
				return fmt.Errorf("creating Gateway API client: %w", err)
			}
		} else {
			log.Info("Gateway API is off: serving Ingresses only; install the Gateway API CRDs and restart to serve Gateways", "why", why)
		}
	}
	watcher, err := k8s.NewWatcher(client, k8s.WatchOptions{Namespaces: c.namespaces, ConfigMap: c.configMap, PublishService: c.status.PublishService,
		TCPServices: c.tcpServices, TCPServicesNGINX: c.tcpServicesNGINX, UDPServices: c.udpServices, Gateway: gwClient})
	if err != nil {
		return fmt.Errorf("setting up informers: %w", err)
	}
	defer watcher.Shutdown()
	log.Info("waiting for informer caches")
	if err := watcher.Start(ctx); err != nil {
		return err
	}

	master := process.New(process.Options{Program: c.program, ConfigDir: c.configDir, RuntimeDir: c.runtimeDir, StopTimeout: c.stopTimeout}, log.WithName("process"))
	defer master.Stop()

	fallbackPEM, err := selfSignedPEM(time.Now())
	if err != nil {
		return err
	}

	// Status (Ingress status with published addresses, Gateway API status always) is written by
	// the replica holding the Lease.
	var status reconcile.StatusPublisher
	var gwStatus reconcile.GatewayStatusPublisher
	if c.status.Enabled() || gwClient != nil {
		identity := cmp.Or(os.Getenv("POD_NAME"), hostname()+"_"+strconv.Itoa(os.Getpid()))
		sw := k8s.NewStatusWriter(client, identity, c.status)
		if err := sw.RunElection(ctx, c.election, watcher.Touch); err != nil {
			return err
		}
		status = sw
		if gwClient != nil {
			gw := k8s.NewGatewayStatusWriter(gwClient, c.gatewayController, identity, sw.Leader)
			go gw.Run(ctx, log.WithName("gateway-status"))
			gwStatus = gw
		}
	}
	var gwOpts *gateway.Options
	if gwClient != nil {
		gwOpts = &gateway.Options{
			ControllerName: c.gatewayController,
			AddressPool:    c.gatewayPool,
			HTTPListener:   ingress.HTTPListener,
			HTTPSListener:  ingress.HTTPSListener,
			HTTP:           model.Bind{Address: c.bindAddress, Port: c.httpPort},
			HTTPS:          model.Bind{Address: c.bindAddress, Port: c.httpsPort},
			Reserved:       []uint16{c.statsPort, c.monitorPort, c.controllerPort},
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	loop := &reconcile.Loop{
		Source:   watcher,
		Reporter: k8s.NewReporter(ctx, client, c.home, watcher.UID),
		Proxy:    master,
		Status:   status,
		Metrics:  reconcile.NewMetrics(reg),
		Translate: ingress.Options{
			ControllerName:        c.controllerName,
			ClassName:             c.ingressClass,
			WatchWithoutClass:     c.emptyIngressClass,
			DefaultBackendService: c.defaultBackend,
			HTTP:                  model.Bind{Address: c.bindAddress, Port: c.httpPort},
			Stats:                 model.Bind{Address: c.bindAddress, Port: c.statsPort},
			HostOwnership:         c.hostOwnership,
			SlotBudget:            c.slotBudget,
			FileLimit:             fileLimit(),
			SpareBackends:         c.spareBackends,
			TLS: ingress.TLSOptions{
				HTTPS:              model.Bind{Address: c.bindAddress, Port: c.httpsPort},
				DefaultCertificate: c.defaultCert,
				FallbackPEM:        fallbackPEM,
			},
		},
		Gateway:       gwOpts,
		GatewayStatus: gwStatus,
		Publish:       c.status,
		TCP:           tcpservices.Options{Address: c.bindAddress, Reserved: []uint16{c.httpPort, c.httpsPort, c.statsPort, c.monitorPort, c.controllerPort}},
		Addresses:     resolve.AddressPolicy{Own: c.podIPs},
		Monitor:       model.Bind{Address: c.bindAddress, Port: c.monitorPort},
		Env:           haproxy.Env{RuntimeDir: c.runtimeDir},
		Log:           log.WithName("reconcile"),
	}
	srv, err := serveHealth(ctx, c.controllerPort, loop, reg, log)
	if err != nil {
		return err
	}
	defer srv.Close()
	log.Info("controller started", "controller_name", c.controllerName, "ingress_class", c.ingressClass,
		"namespaces", c.namespaces, "http_port", c.httpPort, "config_dir", c.configDir,
		"host_ownership", c.hostOwnership, "server_slot_budget", c.slotBudget, "spare_backends", c.spareBackends, "gateway_api", gwClient != nil,
		"gateway_controller_name", c.gatewayController, "gateway_address_pool", gatewayPoolString(c.gatewayPool))

	// A haproxy left running by a previous controller on these directories (one that was killed,
	// or crashed) is adopted rather than doubled: the first pass reloads it with the current
	// configuration. Done last, so that a start that fails earlier leaves it untouched.
	if _, err := master.Adopt(ctx); err != nil {
		return err
	}

	// The shutdown sequence: on SIGTERM (ctx ends) readiness and the load balancer's monitor
	// fail at once, HAProxy keeps serving and the loop keeps applying what it knows for the
	// shutdown delay, then the loop ends and HAProxy soft-stops (deferred master.Stop).
	loopCtx, stopLoop := context.WithCancel(context.WithoutCancel(ctx))
	defer stopLoop()
	go func() {
		select {
		case <-ctx.Done():
		case <-loopCtx.Done():
			return
		}
		log.Info("stopping: readiness and the load balancer's health check fail now; haproxy keeps serving for the shutdown delay",
			"shutdown_delay", c.shutdownDelay.String(), "stop_timeout", c.stopTimeout.String())
		loop.Drain()
		select {
		case <-time.After(c.shutdownDelay):
		case <-loopCtx.Done():
		}
		stopLoop()
	}()
	return loop.Run(loopCtx)
}

// serveHealth serves /healthz (the process is up), /readyz (a configuration has been applied) and
// /metrics on the controller port. /readyz stays 200 while the applied configuration is stale
// (objects left out, or applying fails) and says so in its body with the time since when:
// failing readiness would take every replica out of its Service for one object's fault.
func serveHealth(ctx context.Context, port uint16, loop *reconcile.Loop, reg *prometheus.Registry, log logr.Logger) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !loop.Ready() {
			http.Error(w, "no configuration applied yet", http.StatusServiceUnavailable)
			return
		}
		if since, why := loop.Staleness(); !since.IsZero() {
			_, _ = fmt.Fprintf(w, "ok\nconfig: stale since %s: %s\n", since.UTC().Format(time.RFC3339), why)
			return
		}
		_, _ = io.WriteString(w, "ok\nconfig: current\n")
	})
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
	if err != nil {
		return nil, fmt.Errorf("listening on controller port: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(err, "controller port stopped")
		}
	}()
	return srv, nil
}

// fileLimit is the hard limit on open files that haproxy inherits from this process (it raises
// its soft limit up to it); 0 when unlimited or unknown.
func fileLimit() uint64 {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Max == unix.RLIM_INFINITY {
		return 0
	}
	return rl.Max
}
