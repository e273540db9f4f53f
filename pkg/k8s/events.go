package k8s

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
)

// Component is the source of the Events the controller writes.
const Component = "portcullis"

// Reporter turns translation problems into Kubernetes Events on the objects they concern. A
// problem is reported when it first appears, not on every pass.
type Reporter struct {
	recorder    record.EventRecorder
	broadcaster record.EventBroadcaster
	uids        func(ref diag.Object) (types.UID, bool)
	seen        map[diag.Problem]bool
}

// NewReporter returns a Reporter writing Events through client. uid looks up the UID of the
// object a problem is about, so that the Event is attached to that very object.
//
// An Event lives in the namespace of its object. Events about cluster-scoped objects (a
// GatewayClass) go to home, the controller's own namespace, where the chart always lets it write
// Events; client-go would put them in "default", which a namespaced install may not write to.
// `kubectl describe` of a cluster-scoped object finds its Events in any namespace.
func NewReporter(ctx context.Context, client kubernetes.Interface, home string, uid func(diag.Object) (types.UID, bool)) *Reporter {
	// Reporter already writes each problem once. The correlator's defaults would fold more than 10
	// similar Events of an object into one "combined" Event and drop bursts over 25, hiding which
	// keys are wrong on an object with many bad annotations.
	b := record.NewBroadcasterWithCorrelatorOptions(record.CorrelatorOptions{MaxEvents: 200, BurstSize: 200, QPS: 1})
	b.StartRecordingToSink(homeSink{EventSink: &typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")}, home: home})
	go func() {
		<-ctx.Done()
		b.Shutdown()
	}()
	return &Reporter{
		recorder:    b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: Component}),
		broadcaster: b,
		uids:        uid,
		seen:        map[diag.Problem]bool{},
	}
}

// Report writes an Event for each problem that was not in the previous call, and returns those.
func (r *Reporter) Report(problems []diag.Problem) []diag.Problem {
	now := make(map[diag.Problem]bool, len(problems))
	var fresh []diag.Problem
	for _, p := range problems {
		now[p] = true
		if r.seen[p] {
			continue
		}
		fresh = append(fresh, p)
		ref := objectReference(p.Object)
		if uid, ok := r.uids(p.Object); ok {
			ref.UID = uid
		}
		eventType := corev1.EventTypeWarning
		r.recorder.Event(ref, eventType, p.Reason, p.Message)
	}
	r.seen = now
	return fresh
}

// objectReference is the involvedObject of an Event about obj, but its UID.
func objectReference(obj diag.Object) *corev1.ObjectReference {
	ref := &corev1.ObjectReference{Kind: obj.Kind, Namespace: obj.Namespace, Name: obj.Name}
	switch {
	case obj.Kind == "Ingress" || obj.Kind == "IngressClass":
		ref.APIVersion = networkingv1.SchemeGroupVersion.String()
	case isGatewayKind(obj.Kind):
		ref.APIVersion = GatewayGroupVersion.String()
	default:
		ref.APIVersion = "v1"
	}
	return ref
}

// homeSink writes the Events about cluster-scoped objects (no involvedObject namespace) to the
// namespace home instead of client-go's "default".
type homeSink struct {
	record.EventSink
	home string
}

func (s homeSink) place(e *corev1.Event) *corev1.Event {
	if e.InvolvedObject.Namespace != "" || s.home == "" || e.Namespace == s.home {
		return e
	}
	c := e.DeepCopy()
	c.Namespace = s.home
	return c
}

func (s homeSink) Create(e *corev1.Event) (*corev1.Event, error) {
	return s.EventSink.Create(s.place(e))
}
func (s homeSink) Update(e *corev1.Event) (*corev1.Event, error) {
	return s.EventSink.Update(s.place(e))
}
func (s homeSink) Patch(e *corev1.Event, data []byte) (*corev1.Event, error) {
	return s.EventSink.Patch(s.place(e), data)
}
