package k8s

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
	gatewayinformers "sigs.k8s.io/gateway-api/pkg/client/informers/externalversions"
	gatewaylisters "sigs.k8s.io/gateway-api/pkg/client/listers/apis/v1"
	gatewaylistersv1beta1 "sigs.k8s.io/gateway-api/pkg/client/listers/apis/v1beta1"
)

// GatewayGroupVersion is the Gateway API version of the objects the controller watches (but
// ReferenceGrants, see gatewayResources) and writes Events about.
var GatewayGroupVersion = gatewayv1.GroupVersion

// gatewayResources are the Gateway API resources the watcher lists, by the version they are read
// at. ReferenceGrants are read at v1beta1, which every Gateway API release since v0.6 serves (v1
// only since v1.5).
var gatewayResources = []struct {
	version  string
	resource string
}{
	{gatewayv1.GroupVersion.String(), "gatewayclasses"},
	{gatewayv1.GroupVersion.String(), "gateways"},
	{gatewayv1.GroupVersion.String(), "httproutes"},
	{gatewayv1.GroupVersion.String(), "grpcroutes"},
	{gatewayv1.GroupVersion.String(), "tlsroutes"},
	{gatewayv1beta1.GroupVersion.String(), "referencegrants"},
}

// GatewayAPIServed asks the API server's discovery whether it serves the Gateway API resources the
// controller watches (GatewayClasses, Gateways, HTTPRoutes, GRPCRoutes and TLSRoutes at
// gateway.networking.k8s.io/v1, ReferenceGrants at v1beta1). When it does not, why says what is missing, for the operator
// (install the CRDs); err is for failures to ask.
func GatewayAPIServed(d discovery.DiscoveryInterface) (served bool, why string, err error) {
	byVersion := map[string]map[string]bool{}
	var missing []string
	for _, r := range gatewayResources {
		have, ok := byVersion[r.version]
		if !ok {
			list, err := d.ServerResourcesForGroupVersion(r.version)
			if err != nil && !apierrors.IsNotFound(err) {
				return false, "", fmt.Errorf("discovering %s: %w", r.version, err)
			}
			have = map[string]bool{}
			if list != nil {
				for _, ar := range list.APIResources {
					have[ar.Name] = true
				}
			}
			byVersion[r.version] = have
		}
		if !have[r.resource] {
			missing = append(missing, r.resource+"."+r.version)
		}
	}
	if len(missing) > 0 {
		return false, fmt.Sprintf("the API server does not serve %s (install the standard-channel CRDs of Gateway API v1.6.3)",
			strings.Join(missing, ", ")), nil
	}
	return true, "", nil
}

// gatewayListers read the Gateway API objects of one watched namespace.
type gatewayListers struct {
	gateways gatewaylisters.GatewayLister
	routes   gatewaylisters.HTTPRouteLister
	grpc     gatewaylisters.GRPCRouteLister
	grants   gatewaylistersv1beta1.ReferenceGrantLister
	tls      gatewaylisters.TLSRouteLister
}

// gatewayWatch holds the Gateway API listers: GatewayClasses (cluster-scoped), the Namespaces
// (their labels select routes for allowedRoutes), and per watched namespace Gateways, HTTPRoutes,
// GRPCRoutes, TLSRoutes and ReferenceGrants.
type gatewayWatch struct {
	classes    gatewaylisters.GatewayClassLister
	namespaces corelisters.NamespaceLister
	scoped     []gatewayListers
}

// watchGateway sets up the Gateway API informers on w.
func (w *Watcher) watchGateway(client gatewayclient.Interface, core informers.SharedInformerFactory, namespaces []string,
	addWith func(cache.SharedIndexInformer, cache.ResourceEventHandler) error) error {
	// Our own status writes change only status: they must not start another pass. Spec changes
	// raise metadata.generation; labels, annotations and deletion are compared as well.
	specHandler := cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { w.markFull() },
		UpdateFunc: func(oldObj, newObj any) {
			if !sameVersion(oldObj, newObj) && !statusOnly(oldObj, newObj) {
				w.markFull()
			}
		},
		DeleteFunc: func(any) { w.markFull() },
	}
	// Namespaces matter through their labels only.
	nsHandler := cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { w.markFull() },
		UpdateFunc: func(oldObj, newObj any) {
			o, err1 := meta.Accessor(oldObj)
			n, err2 := meta.Accessor(newObj)
			if err1 != nil || err2 != nil || !maps.Equal(o.GetLabels(), n.GetLabels()) {
				w.markFull()
			}
		},
		DeleteFunc: func(any) { w.markFull() },
	}
	gw := &gatewayWatch{}
	cluster := gatewayinformers.NewSharedInformerFactory(client, 0)
	classes := cluster.Gateway().V1().GatewayClasses()
	if err := addWith(classes.Informer(), specHandler); err != nil {
		return err
	}
	gw.classes = classes.Lister()
	w.factories = append(w.factories, cluster)
	nss := core.Core().V1().Namespaces()
	if err := addWith(nss.Informer(), nsHandler); err != nil {
		return err
	}
	gw.namespaces = nss.Lister()
	for _, ns := range namespaces {
		f := gatewayinformers.NewSharedInformerFactoryWithOptions(client, 0, gatewayinformers.WithNamespace(ns))
		v1 := f.Gateway().V1()
		gws, routes, grpc, grants := v1.Gateways(), v1.HTTPRoutes(), v1.GRPCRoutes(), f.Gateway().V1beta1().ReferenceGrants()
		tls := v1.TLSRoutes()
		for _, inf := range []cache.SharedIndexInformer{gws.Informer(), routes.Informer(), grpc.Informer(), grants.Informer(), tls.Informer()} {
			if err := addWith(inf, specHandler); err != nil {
				return err
			}
		}
		gw.scoped = append(gw.scoped, gatewayListers{gws.Lister(), routes.Lister(), grpc.Lister(), grants.Lister(), tls.Lister()})
		w.factories = append(w.factories, f)
	}
	w.gateway = gw
	return nil
}

// statusOnly reports whether an update changed nothing but the status (and the resourceVersion)
// of an object that counts its spec changes in metadata.generation.
func statusOnly(oldObj, newObj any) bool {
	o, err1 := meta.Accessor(oldObj)
	n, err2 := meta.Accessor(newObj)
	if err1 != nil || err2 != nil {
		return false
	}
	return o.GetGeneration() == n.GetGeneration() && o.GetGeneration() != 0 &&
		maps.Equal(o.GetLabels(), n.GetLabels()) && maps.Equal(o.GetAnnotations(), n.GetAnnotations()) &&
		o.GetDeletionTimestamp().Equal(n.GetDeletionTimestamp())
}

// snapshotGateway lists the Gateway API objects into s.
func (w *Watcher) snapshotGateway(s *Snapshot) error {
	gw := w.gateway
	if gw == nil {
		return nil
	}
	var err error
	if s.GatewayClasses, err = gw.classes.List(labels.Everything()); err != nil {
		return fmt.Errorf("listing gatewayclasses: %w", err)
	}
	if s.Namespaces, err = gw.namespaces.List(labels.Everything()); err != nil {
		return fmt.Errorf("listing namespaces: %w", err)
	}
	for _, l := range gw.scoped {
		gws, err := l.gateways.List(labels.Everything())
		if err != nil {
			return fmt.Errorf("listing gateways: %w", err)
		}
		routes, err := l.routes.List(labels.Everything())
		if err != nil {
			return fmt.Errorf("listing httproutes: %w", err)
		}
		grpc, err := l.grpc.List(labels.Everything())
		if err != nil {
			return fmt.Errorf("listing grpcroutes: %w", err)
		}
		grants, err := l.grants.List(labels.Everything())
		if err != nil {
			return fmt.Errorf("listing referencegrants: %w", err)
		}
		tls, err := l.tls.List(labels.Everything())
		if err != nil {
			return fmt.Errorf("listing tlsroutes: %w", err)
		}
		s.Gateways = append(s.Gateways, gws...)
		s.TLSRoutes = append(s.TLSRoutes, tls...)
		s.HTTPRoutes = append(s.HTTPRoutes, routes...)
		s.GRPCRoutes = append(s.GRPCRoutes, grpc...)
		s.ReferenceGrants = append(s.ReferenceGrants, grants...)
	}
	return nil
}

// GatewayEnabled reports whether the Gateway API objects are watched.
func (w *Watcher) GatewayEnabled() bool { return w.gateway != nil }

// gatewayUID returns the UID of a watched Gateway API object.
func (w *Watcher) gatewayUID(kind, namespace, name string) (types.UID, bool) {
	gw := w.gateway
	if gw == nil {
		return "", false
	}
	if kind == "GatewayClass" {
		if c, err := gw.classes.Get(name); err == nil {
			return c.UID, true
		}
		return "", false
	}
	for _, l := range gw.scoped {
		var obj metav1.Object
		var err error
		switch kind {
		case "Gateway":
			obj, err = l.gateways.Gateways(namespace).Get(name)
		case "HTTPRoute":
			obj, err = l.routes.HTTPRoutes(namespace).Get(name)
		case "GRPCRoute":
			obj, err = l.grpc.GRPCRoutes(namespace).Get(name)
		case "TLSRoute":
			obj, err = l.tls.TLSRoutes(namespace).Get(name)
		case "ReferenceGrant":
			obj, err = l.grants.ReferenceGrants(namespace).Get(name)
		default:
			return "", false
		}
		if err == nil {
			return obj.GetUID(), true
		}
	}
	return "", false
}

// trimNamespace keeps what allowedRoutes selectors read of a Namespace: its name, UID and labels.
func trimNamespace(ns *corev1.Namespace) {
	ns.Annotations = nil
	ns.Spec = corev1.NamespaceSpec{}
	ns.Status.Conditions = nil
}

// gatewayKinds are the Gateway API kinds Events can be about.
var gatewayKinds = []string{"GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute", "ReferenceGrant", "TLSRoute"}

// isGatewayKind reports whether kind is a Gateway API kind the controller watches.
func isGatewayKind(kind string) bool { return slices.Contains(gatewayKinds, kind) }
