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
func NewReporter(ctx context.Context, client kubernetes.Interface, uid func(diag.Object) (types.UID, bool)) *Reporter {
	// Reporter already writes each problem once. The correlator's defaults would fold more than 10
	// similar Events of an object into one "combined" Event and drop bursts over 25, hiding which
	// keys are wrong on an object with many bad annotations.
	b := record.NewBroadcasterWithCorrelatorOptions(record.CorrelatorOptions{MaxEvents: 200, BurstSize: 200, QPS: 1})
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
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
		ref := &corev1.ObjectReference{
			Kind: p.Object.Kind, Namespace: p.Object.Namespace, Name: p.Object.Name,
		}
		switch {
		case p.Object.Kind == "Ingress":
			ref.APIVersion = networkingv1.SchemeGroupVersion.String()
		case isGatewayKind(p.Object.Kind):
			ref.APIVersion = GatewayGroupVersion.String()
		default:
			ref.APIVersion = "v1"
		}
		if uid, ok := r.uids(p.Object); ok {
			ref.UID = uid
		}
		eventType := corev1.EventTypeWarning
		r.recorder.Event(ref, eventType, p.Reason, p.Message)
	}
	r.seen = now
	return fresh
}
