// Package k8s is the controller's window on the Kubernetes API: informers that raise a coalesced
// "dirty" signal, immutable snapshots for translation, and Events for problems. It never decides
// routing.
package k8s

import (
	"context"
	"fmt"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	networkinglisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/cache"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
)

// WatchOptions choose what the informers watch.
type WatchOptions struct {
	// Namespaces limits namespaced objects to these namespaces; empty means all.
	Namespaces []string
	// ConfigMap is the controller's global ConfigMap; empty Name means none.
	ConfigMap types.NamespacedName
	// PublishService, when set, is watched together with the Nodes, for Ingress status.
	PublishService types.NamespacedName
	// TCPServices, TCPServicesNGINX and UDPServices are the tcp-services ConfigMaps in
	// haproxytech's and ingress-nginx's formats and ingress-nginx's udp-services ConfigMap;
	// empty Names mean none.
	TCPServices, TCPServicesNGINX, UDPServices types.NamespacedName
	// Gateway, when set, is the client of the Gateway API objects: GatewayClasses, and in the
	// watched namespaces Gateways, HTTPRoutes and ReferenceGrants, with the Namespaces (for the
	// label selectors of allowedRoutes). Nil: Gateway API is off.
	Gateway gatewayclient.Interface
}

// factory is a shared informer factory, of client-go's or of the Gateway API's clientset.
type factory interface {
	Start(stopCh <-chan struct{})
	Shutdown()
}

// Watcher holds the informers and raises Dirty whenever anything they watch changes.
type Watcher struct {
	factories []factory
	scoped    []scopedListers
	classes   networkinglisters.IngressClassLister
	configMap corelisters.ConfigMapLister
	cmName    types.NamespacedName
	// services are the tcp- and udp-services ConfigMaps, by role.
	services map[serviceMapRole]namedConfigMap
	publish  corelisters.ServiceLister
	pubName  types.NamespacedName
	nodes    corelisters.NodeLister
	gateway  *gatewayWatch
	synced   []cache.InformerSynced
	dirty    chan struct{}

	mu      sync.Mutex
	changes Changes
}

// Changes is what changed since the last call of TakeChanges: everything (Full), or only the
// EndpointSlices of some Services.
type Changes struct {
	Full     bool
	Services []types.NamespacedName
}

type serviceMapRole int

const (
	roleTCP serviceMapRole = iota
	roleTCPNGINX
	roleUDP
)

type namedConfigMap struct {
	name   types.NamespacedName
	lister corelisters.ConfigMapLister
}

type scopedListers struct {
	ingresses networkinglisters.IngressLister
	services  corelisters.ServiceLister
	slices    discoverylisters.EndpointSliceLister
	secrets   corelisters.SecretLister
}

// NewWatcher sets up informers for Ingresses, IngressClasses, Services, EndpointSlices, Secrets,
// the global ConfigMap and, with opts.Gateway, the Gateway API objects. Nothing runs until Start.
func NewWatcher(client kubernetes.Interface, opts WatchOptions) (*Watcher, error) {
	w := &Watcher{dirty: make(chan struct{}, 1), cmName: opts.ConfigMap, changes: Changes{Full: true}}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { w.markFull() },
		UpdateFunc: func(oldObj, newObj any) { w.changed(oldObj, newObj) },
		DeleteFunc: func(any) { w.markFull() },
	}
	sliceHandler := cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { w.sliceChanged(obj) },
		UpdateFunc: func(oldObj, newObj any) {
			if !sameVersion(oldObj, newObj) {
				w.sliceChanged(oldObj)
				w.sliceChanged(newObj)
			}
		},
		DeleteFunc: func(obj any) { w.sliceChanged(obj) },
	}
	addWith := func(inf cache.SharedIndexInformer, handler cache.ResourceEventHandler) error {
		if err := inf.SetTransform(trim); err != nil {
			return fmt.Errorf("setting transform: %w", err)
		}
		if _, err := inf.AddEventHandler(handler); err != nil {
			return fmt.Errorf("adding event handler: %w", err)
		}
		w.synced = append(w.synced, inf.HasSynced)
		return nil
	}
	add := func(inf cache.SharedIndexInformer) error { return addWith(inf, handler) }

	namespaces := opts.Namespaces
	if len(namespaces) == 0 {
		namespaces = []string{corev1.NamespaceAll}
	}
	for _, ns := range namespaces {
		f := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(ns))
		ing, svc := f.Networking().V1().Ingresses(), f.Core().V1().Services()
		es, sec := f.Discovery().V1().EndpointSlices(), f.Core().V1().Secrets()
		for _, inf := range []cache.SharedIndexInformer{ing.Informer(), svc.Informer(), sec.Informer()} {
			if err := add(inf); err != nil {
				return nil, err
			}
		}
		if err := addWith(es.Informer(), sliceHandler); err != nil {
			return nil, err
		}
		w.scoped = append(w.scoped, scopedListers{ing.Lister(), svc.Lister(), es.Lister(), sec.Lister()})
		w.factories = append(w.factories, f)
	}

	cluster := informers.NewSharedInformerFactory(client, 0)
	classes := cluster.Networking().V1().IngressClasses()
	if err := add(classes.Informer()); err != nil {
		return nil, err
	}
	w.classes = classes.Lister()
	w.factories = append(w.factories, cluster)
	if opts.Gateway != nil {
		if err := w.watchGateway(opts.Gateway, cluster, namespaces, addWith); err != nil {
			return nil, err
		}
	}

	// Each ConfigMap is watched by name.
	configMap := func(name types.NamespacedName) (corelisters.ConfigMapLister, error) {
		f := informers.NewSharedInformerFactoryWithOptions(client, 0,
			informers.WithNamespace(name.Namespace),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) {
				o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name.Name).String()
			}))
		cms := f.Core().V1().ConfigMaps()
		if err := add(cms.Informer()); err != nil {
			return nil, err
		}
		w.factories = append(w.factories, f)
		return cms.Lister(), nil
	}
	if opts.ConfigMap.Name != "" {
		l, err := configMap(opts.ConfigMap)
		if err != nil {
			return nil, err
		}
		w.configMap = l
	}
	w.services = map[serviceMapRole]namedConfigMap{}
	for role, name := range map[serviceMapRole]types.NamespacedName{roleTCP: opts.TCPServices, roleTCPNGINX: opts.TCPServicesNGINX, roleUDP: opts.UDPServices} {
		if name.Name == "" {
			continue
		}
		l, err := configMap(name)
		if err != nil {
			return nil, err
		}
		w.services[role] = namedConfigMap{name: name, lister: l}
	}
	if opts.PublishService.Name != "" {
		w.pubName = opts.PublishService
		f := informers.NewSharedInformerFactoryWithOptions(client, 0,
			informers.WithNamespace(opts.PublishService.Namespace),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) {
				o.FieldSelector = fields.OneTermEqualSelector("metadata.name", opts.PublishService.Name).String()
			}))
		svcs := f.Core().V1().Services()
		nodes := cluster.Core().V1().Nodes()
		for _, inf := range []cache.SharedIndexInformer{svcs.Informer(), nodes.Informer()} {
			if err := add(inf); err != nil {
				return nil, err
			}
		}
		w.publish, w.nodes = svcs.Lister(), nodes.Lister()
		w.factories = append(w.factories, f)
	}
	return w, nil
}

// Start runs the informers until ctx ends and waits for their caches to fill.
func (w *Watcher) Start(ctx context.Context) error {
	for _, f := range w.factories {
		f.Start(ctx.Done())
	}
	if !cache.WaitForCacheSync(ctx.Done(), w.synced...) {
		return fmt.Errorf("waiting for informer caches: %w", ctx.Err())
	}
	return nil
}

// Shutdown stops the informers and waits for their goroutines.
func (w *Watcher) Shutdown() {
	for _, f := range w.factories {
		f.Shutdown()
	}
}

// Dirty receives a value after any change; many changes before a read collapse into one.
func (w *Watcher) Dirty() <-chan struct{} { return w.dirty }

// Touch raises Dirty, for a change that does not come from an informer (leadership).
func (w *Watcher) Touch() { w.markFull() }

// TakeChanges returns what changed since the last call and starts a new record.
func (w *Watcher) TakeChanges() Changes {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.changes
	w.changes = Changes{}
	return c
}

func (w *Watcher) markFull() {
	w.mu.Lock()
	w.changes = Changes{Full: true}
	w.mu.Unlock()
	w.markDirty()
}

// sliceChanged records a change of an EndpointSlice: its Service's servers, nothing else. A slice
// without a Service label feeds no backend.
func (w *Watcher) sliceChanged(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	es, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		w.markFull()
		return
	}
	svc := es.Labels[discoveryv1.LabelServiceName]
	if svc == "" {
		return
	}
	key := types.NamespacedName{Namespace: es.Namespace, Name: svc}
	w.mu.Lock()
	if !w.changes.Full && !slices.Contains(w.changes.Services, key) {
		w.changes.Services = append(w.changes.Services, key)
	}
	w.mu.Unlock()
	w.markDirty()
}

// EndpointSlices lists the EndpointSlices of a Service from the cache.
func (w *Watcher) EndpointSlices(svc types.NamespacedName) ([]*discoveryv1.EndpointSlice, error) {
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: svc.Name})
	var out []*discoveryv1.EndpointSlice
	for _, l := range w.scoped {
		eps, err := l.slices.EndpointSlices(svc.Namespace).List(sel)
		if err != nil {
			return nil, fmt.Errorf("listing endpointslices of %s: %w", svc, err)
		}
		out = append(out, eps...)
	}
	return out, nil
}

func (w *Watcher) markDirty() {
	select {
	case w.dirty <- struct{}{}:
	default:
	}
}

// changed ignores resyncs and status-only writes of unchanged objects.
func (w *Watcher) changed(oldObj, newObj any) {
	if !sameVersion(oldObj, newObj) {
		w.markFull()
	}
}

func sameVersion(oldObj, newObj any) bool {
	o, err1 := meta.Accessor(oldObj)
	n, err2 := meta.Accessor(newObj)
	return err1 == nil && err2 == nil && o.GetResourceVersion() == n.GetResourceVersion()
}

// Snapshot is one consistent-enough view of the cluster for a translation pass. The objects are
// shared with the informer caches and must not be modified.
type Snapshot struct {
	Ingresses      []*networkingv1.Ingress
	IngressClasses []*networkingv1.IngressClass
	Services       []*corev1.Service
	EndpointSlices []*discoveryv1.EndpointSlice
	// Secrets are the TLS and Opaque Secrets.
	Secrets []*corev1.Secret
	// ConfigMap is the controller's global ConfigMap, or nil.
	ConfigMap *corev1.ConfigMap
	// TCPServices, TCPServicesNGINX and UDPServices are the tcp- and udp-services ConfigMaps,
	// or nil.
	TCPServices, TCPServicesNGINX, UDPServices *corev1.ConfigMap
	// PublishService and Nodes are set when Ingress status is published from a Service.
	PublishService *corev1.Service
	Nodes          []*corev1.Node
	// The Gateway API objects, when they are watched: GatewayClasses, and those of the watched
	// namespaces; Namespaces are every namespace, for the label selectors of allowedRoutes.
	GatewayClasses  []*gatewayv1.GatewayClass
	Gateways        []*gatewayv1.Gateway
	HTTPRoutes      []*gatewayv1.HTTPRoute
	GRPCRoutes      []*gatewayv1.GRPCRoute
	TLSRoutes       []*gatewayv1.TLSRoute
	ReferenceGrants []*gatewayv1beta1.ReferenceGrant
	Namespaces      []*corev1.Namespace
}

// Snapshot lists everything from the caches.
func (w *Watcher) Snapshot() (Snapshot, error) {
	var s Snapshot
	for _, l := range w.scoped {
		ings, err := l.ingresses.List(labels.Everything())
		if err != nil {
			return s, fmt.Errorf("listing ingresses: %w", err)
		}
		svcs, err := l.services.List(labels.Everything())
		if err != nil {
			return s, fmt.Errorf("listing services: %w", err)
		}
		eps, err := l.slices.List(labels.Everything())
		if err != nil {
			return s, fmt.Errorf("listing endpointslices: %w", err)
		}
		s.Ingresses = append(s.Ingresses, ings...)
		s.Services = append(s.Services, svcs...)
		s.EndpointSlices = append(s.EndpointSlices, eps...)
		secs, err := l.secrets.List(labels.Everything())
		if err != nil {
			return s, fmt.Errorf("listing secrets: %w", err)
		}
		for _, sec := range secs {
			if sec.Type == corev1.SecretTypeTLS || sec.Type == corev1.SecretTypeOpaque {
				s.Secrets = append(s.Secrets, sec)
			}
		}
	}
	classes, err := w.classes.List(labels.Everything())
	if err != nil {
		return s, fmt.Errorf("listing ingressclasses: %w", err)
	}
	s.IngressClasses = classes
	if w.publish != nil {
		if svc, err := w.publish.Services(w.pubName.Namespace).Get(w.pubName.Name); err == nil {
			s.PublishService = svc
		}
		nodes, err := w.nodes.List(labels.Everything())
		if err != nil {
			return s, fmt.Errorf("listing nodes: %w", err)
		}
		s.Nodes = nodes
	}
	if w.configMap != nil {
		cm, err := w.configMap.ConfigMaps(w.cmName.Namespace).Get(w.cmName.Name)
		if err == nil {
			s.ConfigMap = cm
		}
	}
	for role, dst := range map[serviceMapRole]**corev1.ConfigMap{roleTCP: &s.TCPServices, roleTCPNGINX: &s.TCPServicesNGINX, roleUDP: &s.UDPServices} {
		if n, ok := w.services[role]; ok {
			if cm, err := n.lister.ConfigMaps(n.name.Namespace).Get(n.name.Name); err == nil {
				*dst = cm
			}
		}
	}
	if err := w.snapshotGateway(&s); err != nil {
		return s, err
	}
	return s, nil
}

// trim drops what the controller never reads before an object enters the cache: managed fields
// everywhere, and the data of Secrets that cannot hold certificates.
func trim(obj any) (any, error) {
	if a, err := meta.Accessor(obj); err == nil {
		a.SetManagedFields(nil)
	}
	if node, ok := obj.(*corev1.Node); ok {
		node.Status.Images = nil
	}
	if ns, ok := obj.(*corev1.Namespace); ok {
		trimNamespace(ns)
	}
	if sec, ok := obj.(*corev1.Secret); ok {
		if !slices.Contains([]corev1.SecretType{corev1.SecretTypeTLS, corev1.SecretTypeOpaque}, sec.Type) {
			sec.Data, sec.StringData = nil, nil
		}
	}
	return obj, nil
}

// UID returns the UID of a watched Ingress, Service, Secret, ConfigMap or Gateway API object, for
// attaching Events to it: kubectl describe lists the Events whose involvedObject carries the
// object's UID.
func (w *Watcher) UID(ref diag.Object) (types.UID, bool) {
	var obj metav1.Object
	if isGatewayKind(ref.Kind) {
		return w.gatewayUID(ref.Kind, ref.Namespace, ref.Name)
	}
	switch ref.Kind {
	case "Ingress", "Service", "Secret":
		for _, l := range w.scoped {
			var err error
			switch ref.Kind {
			case "Ingress":
				obj, err = l.ingresses.Ingresses(ref.Namespace).Get(ref.Name)
			case "Service":
				obj, err = l.services.Services(ref.Namespace).Get(ref.Name)
			default:
				obj, err = l.secrets.Secrets(ref.Namespace).Get(ref.Name)
			}
			if err == nil {
				return obj.GetUID(), true
			}
		}
	case "ConfigMap":
		name := types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}
		lister := w.configMap
		if name != w.cmName {
			lister = nil
			for _, n := range w.services {
				if n.name == name {
					lister = n.lister
				}
			}
		}
		if lister == nil {
			return "", false
		}
		if cm, err := lister.ConfigMaps(ref.Namespace).Get(ref.Name); err == nil {
			return cm.UID, true
		}
	}
	return "", false
}
