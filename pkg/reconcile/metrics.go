package reconcile

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
)

// Metrics are the controller's own Prometheus metrics.
type Metrics struct {
	HAProxyReloads  prometheus.Counter
	Reloads         *prometheus.CounterVec
	ReloadFailures  prometheus.Counter
	RuntimeUpdates  prometheus.Counter
	RuntimeFailures prometheus.Counter
	ApplyDuration   *prometheus.HistogramVec
	Problems        *prometheus.GaugeVec
	LastApplied     prometheus.Gauge
	RenderFailures  prometheus.Counter
	Rejected        *prometheus.GaugeVec
	StaleSince      prometheus.Gauge
	SparesFree      prometheus.Gauge
	SpareOccupants  *prometheus.GaugeVec
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		HAProxyReloads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portcullis_haproxy_reloads_total",
			Help: "HAProxy starts and reloads.",
		}),
		Reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portcullis_reloads_total",
			Help: "HAProxy starts and reloads, by kind of reason. A reload counts once for each kind of reason it had.",
		}, []string{"reason"}),
		ReloadFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portcullis_reload_failures_total",
			Help: "Reloads that failed; the previous configuration kept serving.",
		}),
		RuntimeUpdates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portcullis_runtime_updates_total",
			Help: "Runtime API commands and map replacements applied without a reload.",
		}),
		RuntimeFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portcullis_runtime_update_failures_total",
			Help: "Runtime updates that failed and were followed by a reload.",
		}),
		ApplyDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portcullis_apply_duration_seconds",
			Help:    "Time from snapshot to applied configuration, by kind (runtime or reload).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"kind"}),
		Problems: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "portcullis_problems",
			Help: "Problems found in the last translation, by object kind and reason.",
		}, []string{"kind", "reason"}),
		LastApplied: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portcullis_last_applied_timestamp_seconds",
			Help: "Unix time of the last successful apply.",
		}),
		RenderFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portcullis_render_failures_total",
			Help: "Configurations that could not be rendered or that haproxy refused; the objects responsible were left out.",
		}),
		Rejected: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "portcullis_rejected_objects",
			Help: "Objects left out of the applied configuration because it could not be rendered or haproxy refused it, by kind.",
		}, []string{"kind"}),
		StaleSince: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portcullis_config_stale_since_timestamp_seconds",
			Help: "Unix time since when the applied configuration lags the cluster (objects rejected or apply failing); 0 when current.",
		}),
		SparesFree: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portcullis_spare_backends_free",
			Help: "Spare backend sections that a new Service can take without a reload.",
		}),
		SpareOccupants: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "portcullis_spare_backend_occupant",
			Help: "1 for each spare backend section that a backend occupies until the next reload: HAProxy's own metrics name it by the spare's name.",
		}, []string{"spare", "backend"}),
	}
	reg.MustRegister(m.HAProxyReloads, m.Reloads, m.ReloadFailures, m.RuntimeUpdates, m.RuntimeFailures, m.ApplyDuration, m.Problems, m.LastApplied,
		m.RenderFailures, m.Rejected, m.StaleSince, m.SparesFree, m.SpareOccupants)
	return m
}

func (m *Metrics) countReload(reasons []haproxy.Reason, started bool) {
	m.HAProxyReloads.Inc()
	if started {
		m.Reloads.WithLabelValues("start").Inc()
		return
	}
	seen := map[haproxy.ReasonKind]bool{}
	for _, r := range reasons {
		if !seen[r.Kind] {
			seen[r.Kind] = true
			m.Reloads.WithLabelValues(string(r.Kind)).Inc()
		}
	}
}

// setSpares publishes the state of the spare sections.
func (m *Metrics) setSpares(p haproxy.Pool) {
	m.SparesFree.Set(float64(len(p.Free)))
	m.SpareOccupants.Reset()
	for backend, spare := range p.Taken {
		m.SpareOccupants.WithLabelValues(spare, backend).Set(1)
	}
}

func (m *Metrics) observeApply(kind string, start time.Time) {
	m.ApplyDuration.WithLabelValues(kind).Observe(time.Since(start).Seconds())
	m.LastApplied.SetToCurrentTime()
}

func (m *Metrics) setRejected(objs []diag.Object) {
	m.Rejected.Reset()
	for _, o := range objs {
		m.Rejected.WithLabelValues(o.Kind).Inc()
	}
}

func (m *Metrics) setProblems(ps []diag.Problem) {
	m.Problems.Reset()
	for _, p := range ps {
		m.Problems.WithLabelValues(p.Object.Kind, p.Reason).Inc()
	}
}
