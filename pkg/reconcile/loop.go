// Package reconcile runs the controller's loop: on every change, take a snapshot, translate it,
// report problems, plan, render, and apply. Decisions are made by the pure packages it calls
// (ingress.Translate, haproxy.NewPlan, haproxy.RenderLayout); the loop sequences them, applies
// runtime changes at once, holds reloads off while changes keep coming, and retries failures with
// backoff. There is no timer-driven resync.
package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/gateway"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/ingress"
	"github.com/portcullis-ingress/portcullis/pkg/k8s"
	"github.com/portcullis-ingress/portcullis/pkg/resolve"
	"github.com/portcullis-ingress/portcullis/pkg/tcpservices"
)

// Source is where the cluster state comes from.
type Source interface {
	// Dirty receives a value after any change.
	Dirty() <-chan struct{}
	// TakeChanges says what changed since it was last called.
	TakeChanges() k8s.Changes
	Snapshot() (k8s.Snapshot, error)
	// EndpointSlices lists the EndpointSlices of one Service.
	EndpointSlices(svc types.NamespacedName) ([]*discoveryv1.EndpointSlice, error)
}

// Reporter publishes problems (as Kubernetes Events) and returns those it had not seen before.
type Reporter interface {
	Report([]diag.Problem) []diag.Problem
}

// Proxy is the running haproxy.
type Proxy interface {
	Running() bool
	// Exited receives a value when haproxy exits on its own.
	Exited() <-chan struct{}
	// Reload validates and installs files, then starts or reloads haproxy. An error wrapping
	// haproxy.ErrInvalid means haproxy refused the files; the running haproxy is untouched.
	Reload(ctx context.Context, files haproxy.Files) (started bool, err error)
	// Validate checks files with haproxy itself, installing nothing.
	Validate(ctx context.Context, files haproxy.Files) error
	// Update applies a runtime plan without a reload.
	Update(ctx context.Context, plan haproxy.Plan) error
}

// StatusPublisher writes Ingress status for a snapshot and the Ingresses that are ours.
type StatusPublisher interface {
	Sync(ctx context.Context, snap k8s.Snapshot, owned []types.NamespacedName) error
}

// GatewayStatusPublisher writes the statuses of the Gateway API objects of a snapshot.
type GatewayStatusPublisher interface {
	Sync(ctx context.Context, snap k8s.Snapshot, want k8s.GatewayStatus) error
}

// Timing bounds how long reloads are held off while changes keep arriving. Runtime changes are
// never held off.
type Timing struct {
	// Quiet is how long no change must arrive before a pending reload happens.
	Quiet time.Duration
	// MaxHoldoff is the longest a reload waits after it became necessary.
	MaxHoldoff time.Duration
}

// DefaultTiming suits bursts of API changes: a reload at most 100 ms after the last change of a
// burst, and never more than one second after the first.
var DefaultTiming = Timing{Quiet: 100 * time.Millisecond, MaxHoldoff: time.Second}

// Loop wires the source, translation, planning, rendering and the proxy together.
type Loop struct {
	Source    Source
	Reporter  Reporter
	Proxy     Proxy
	Status    StatusPublisher
	Translate ingress.Options
	// TCP shapes the TCP listeners of the tcp-services ConfigMaps.
	TCP tcpservices.Options
	// Gateway shapes the Gateway API source; nil: Gateway API is off. Its PublishedAddresses
	// are filled in each pass from Publish, its Now from the clock, and the ports of the
	// tcp-services listeners are added to its Reserved ports.
	Gateway *gateway.Options
	// GatewayStatus writes the Gateway API statuses after a pass is applied; nil: none.
	GatewayStatus GatewayStatusPublisher
	// Publish says which addresses Ingress status publishes, which shared-address Gateways
	// publish too.
	Publish k8s.StatusOptions
	// Addresses refuses the endpoint addresses HAProxy must never connect to (the pod's own).
	Addresses resolve.AddressPolicy
	// Monitor is where an external load balancer checks this HAProxy's health; a zero port
	// disables it.
	Monitor model.Bind
	Env     haproxy.Env
	Timing  Timing
	Metrics *Metrics
	Log     logr.Logger

	applied  *haproxy.Applied
	ready    atomic.Bool
	draining atomic.Bool
	kickOnce sync.Once
	kick     chan struct{}
	// claims are the route holders of the last Ingress translation: incumbents of the next.
	claims map[model.RouteKey]diag.Object
	// held are the route holders of the last composition, of every source: incumbents of the
	// next.
	held map[model.RouteKey]diag.Object
	// rejections are what the last applied pass left out.
	rejections []haproxy.Rejection
	// refused remembers objects that haproxy refused, with the fingerprint of what they
	// contributed, so that they are left out at once until they change.
	refused map[diag.Object]refusal
	// endpoints and desired are from the last full pass that was applied whole: which backends
	// each Service's endpoints feed, and the configuration, for endpoint-only passes.
	endpoints map[types.NamespacedName][]resolve.Feed
	desired   *model.Config

	mu         sync.Mutex
	staleSince time.Time
	staleWhy   string
}

// Staleness says whether the applied configuration lags the cluster: since when, and why. A zero
// time means it is current.
func (l *Loop) Staleness() (since time.Time, why string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.staleSince, l.staleWhy
}

func (l *Loop) setStale(why string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if why == "" {
		l.staleSince, l.staleWhy = time.Time{}, ""
		l.Metrics.StaleSince.Set(0)
		return
	}
	if l.staleSince.IsZero() {
		l.staleSince = time.Now()
		l.Metrics.StaleSince.Set(float64(l.staleSince.Unix()))
	}
	l.staleWhy = why
}

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 30 * time.Second
)

// Ready reports whether a configuration has been applied since start, and the controller is not
// stopping.
func (l *Loop) Ready() bool { return l.ready.Load() && !l.draining.Load() }

// Drain starts the shutdown: readiness and the load balancer's monitor fail at once (the monitor
// through the runtime API), while HAProxy keeps serving and the loop keeps applying changes.
func (l *Loop) Drain() {
	l.draining.Store(true)
	select {
	case l.kicks() <- struct{}{}:
	default:
	}
}

func (l *Loop) kicks() chan struct{} {
	l.kickOnce.Do(func() { l.kick = make(chan struct{}, 1) })
	return l.kick
}

// Run reconciles until ctx ends. The first pass runs at once.
func (l *Loop) Run(ctx context.Context) error {
	var (
		backoff time.Duration
		hold    Holdoff // the pending reload, if any
		wake    *time.Timer
		wakeC   <-chan time.Time
		pending = true
		// full says that the next pass must translate everything: at start, after haproxy
		// exited, on a kick, and when a timer (a held reload, a retry) wakes the loop. A dirty
		// signal alone leaves it to what the source recorded.
		full    = true
		exited  = l.Proxy.Exited()
		kick    = l.kicks()
		dirty   = l.Source.Dirty()
		timing  = l.Timing
		setWake = func(d time.Duration) {
			if wake != nil {
				wake.Stop()
			}
			wake = time.NewTimer(d)
			wakeC = wake.C
		}
	)
	// refillWake says that the pending wake-up is for a refill of the spare sections, and no
	// change arrived since; wokeForRefill that the current pass is that wake-up.
	var refillWake, wokeForRefill bool
	if timing == (Timing{}) {
		timing = DefaultTiming
	}
	for {
		if pending {
			pending = false
			now := time.Now()
			// Only EndpointSlices changed, and no reload is pending: the endpoint pass, unless
			// it cannot apply the change alone.
			ch := l.Source.TakeChanges()
			if !full && !ch.Full && len(ch.Services) == 0 {
				// A signal for changes an earlier pass already took (an update raises one
				// for the old and one for the new object).
				continue
			}
			if !full && !ch.Full && hold.Since.IsZero() {
				ok, err := l.endpointPass(ctx, ch.Services, now)
				if err != nil {
					l.Log.Error(err, "endpoint update failed; a full pass follows")
				}
				if ok {
					continue
				}
			}
			full = false
			res, err := l.pass(ctx, func(p haproxy.Plan) bool {
				if refillOnly(p.Reasons) && wokeForRefill {
					// The wake-up already waited for a quiet moment: no change arrived since
					// the pass that found the spares low.
					hold = Holdoff{}
					return true
				}
				next, reload, wait := hold.Decide(now, fmt.Sprint(p.Reasons), l.Proxy.Running(), timing)
				hold = next
				if !reload {
					setWake(wait)
				}
				return reload
			})
			wokeForRefill = false
			switch {
			case err != nil && ctx.Err() != nil:
				return nil
			case err != nil:
				backoff = min(max(2*backoff, minBackoff), maxBackoff)
				l.Log.Error(err, "reconcile failed; retrying", "retry_in", backoff.String())
				l.setStale(err.Error())
				setWake(backoff)
			default:
				backoff = 0
				if res != held {
					hold = Holdoff{}
				}
				if res == refill {
					// Few spare sections are left: a full pass at the next quiet moment
					// plans the reload that refills them.
					setWake(timing.Quiet)
					refillWake = true
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-dirty:
			pending, refillWake = true, false
		case <-kick:
			pending, full = true, true
		case <-exited:
			l.applied, l.desired = nil, nil
			pending, full = true, true
		case <-wakeC:
			wakeC = nil
			pending, full = true, true
			wokeForRefill, refillWake = refillWake, false
		}
	}
}

// refillOnly reports reload reasons that are only a refill of the spare sections.
func refillOnly(reasons []haproxy.Reason) bool {
	return len(reasons) > 0 && !slices.ContainsFunc(reasons, func(r haproxy.Reason) bool { return r.Kind != haproxy.ReasonSpares })
}

// Holdoff is the state of a pending reload: since when it is needed, and when its reasons last
// changed.
type Holdoff struct {
	Since      time.Time
	LastChange time.Time
	Reasons    string
}

// Decide says, at now, whether a reload needed for reasons happens now or waits, and for how long.
// A reload waits for Quiet without a change of its reasons (endpoint changes applied at runtime
// meanwhile do not restart the wait), but never longer than MaxHoldoff since it became necessary;
// it never waits when haproxy is not running. It returns the state to keep while waiting.
func (h Holdoff) Decide(now time.Time, reasons string, running bool, t Timing) (next Holdoff, reload bool, wait time.Duration) {
	if !running {
		return Holdoff{}, true, 0
	}
	if h.Since.IsZero() {
		h.Since = now
	}
	if reasons != h.Reasons {
		h.Reasons, h.LastChange = reasons, now
	}
	due := h.LastChange.Add(t.Quiet)
	if limit := h.Since.Add(t.MaxHoldoff); limit.Before(due) {
		due = limit
	}
	if now.Before(due) {
		return h, false, due.Sub(now)
	}
	return h, true, 0
}

type passResult int

const (
	done   passResult = iota
	held              // a reload is needed but was held off
	refill            // applied at runtime; the spare sections run low
)

// pass takes a snapshot, translates and plans it, and carries the plan out: runtime changes at
// once, a reload when reloadNow agrees.
func (l *Loop) pass(ctx context.Context, reloadNow func(haproxy.Plan) bool) (passResult, error) {
	snap, err := l.Source.Snapshot()
	if err != nil {
		return done, err
	}
	opts := l.Translate
	opts.TLS.Now = time.Now()
	cl := resolve.New(snap.Services, snap.EndpointSlices, snap.Secrets, l.Addresses)
	res := ingress.Translate(ingress.State{
		Ingresses: snap.Ingresses, IngressClasses: snap.IngressClasses, Services: snap.Services,
		EndpointSlices: snap.EndpointSlices, Secrets: snap.Secrets, ConfigMap: snap.ConfigMap,
		Cluster: cl, Incumbents: l.claims,
	}, opts)
	l.claims = res.Claims
	tcp := tcpservices.Translate([]tcpservices.ConfigMap{
		{Object: snap.TCPServices, Format: tcpservices.HAProxyTech},
		{Object: snap.TCPServicesNGINX, Format: tcpservices.NGINX},
		{Object: snap.UDPServices, Format: tcpservices.UDP},
	}, cl, l.TCP)
	var gw gateway.Result
	if l.Gateway != nil {
		gw = gateway.Translate(gatewayState(snap, cl), l.gatewayOptions(snap, tcp.Config, opts.TLS.Now))
	}
	// Every source's fragment is composed into one configuration; a route goes to the object
	// that held it after the previous composition, else to the earlier source.
	composed, conflicts := model.Compose([]model.Config{res.Config, tcp.Config, gw.Config}, l.held)
	l.held = make(map[model.RouteKey]diag.Object, len(composed.HTTPRoutes))
	for _, rt := range composed.HTTPRoutes {
		l.held[rt.Key()] = rt.Source
	}
	composed.Monitor = model.Monitor{Bind: l.Monitor, Down: l.draining.Load()}
	res.Config = composed
	res.Problems = slices.Concat(res.Problems, tcp.Problems, gw.Problems, conflicts, cl.Problems())
	res.Endpoints = mergeFeeds(res.Endpoints, tcp.Endpoints, gw.Endpoints)
	r, err := l.apply(ctx, res, reloadNow)
	if err != nil || r == held {
		return r, err
	}
	var errs []error
	if l.Status != nil {
		if err := l.Status.Sync(ctx, snap, res.Owned); err != nil {
			errs = append(errs, fmt.Errorf("publishing Ingress status: %w", err))
		}
	}
	if l.Gateway != nil && l.GatewayStatus != nil {
		if err := l.GatewayStatus.Sync(ctx, snap, gatewayStatus(gw.Status, l.rejections)); err != nil {
			errs = append(errs, fmt.Errorf("publishing Gateway API status: %w", err))
		}
	}
	return r, errors.Join(errs...)
}

// mergeFeeds joins the Services' feeds of every source, each backend once per Service (a backend
// that an Ingress and an HTTPRoute share is one).
func mergeFeeds(parts ...map[types.NamespacedName][]resolve.Feed) map[types.NamespacedName][]resolve.Feed {
	var out map[types.NamespacedName][]resolve.Feed
	for _, part := range parts {
		for svc, feeds := range part {
			if out == nil {
				out = map[types.NamespacedName][]resolve.Feed{}
			}
			for _, f := range feeds {
				if !slices.ContainsFunc(out[svc], func(g resolve.Feed) bool { return g.Backend == f.Backend }) {
					out[svc] = append(out[svc], f)
				}
			}
		}
	}
	return out
}

// apply leaves out what cannot be rendered, reports problems, plans, and carries the plan out.
func (l *Loop) apply(ctx context.Context, res ingress.Result, reloadNow func(haproxy.Plan) bool) (passResult, error) {
	start := time.Now()
	desired, rejections := haproxy.Prune(res.Config)
	desired, remembered := l.withoutRefused(desired)
	rejections = append(rejections, remembered...)
	l.report(res.Problems, rejections)

	if !l.Proxy.Running() {
		l.applied = nil
	}
	plan := haproxy.NewPlan(l.applied, desired)
	if !plan.Reload() && len(plan.Commands) == 0 && len(plan.MapFiles) == 0 && len(plan.CertCommands) == 0 {
		l.applied = &plan.Next
		l.settle(res, desired, rejections)
		return done, nil
	}
	if !plan.Reload() {
		if err := l.Proxy.Update(ctx, plan); err != nil {
			// The runtime state is now unknown: the next pass reloads from the files.
			l.applied = nil
			l.Metrics.RuntimeFailures.Inc()
			return done, fmt.Errorf("applying runtime changes (a reload follows): %w", err)
		}
		l.applied = &plan.Next
		l.Metrics.RuntimeUpdates.Add(float64(len(plan.Commands) + len(plan.MapFiles) + len(plan.CertCommands)))
		l.Metrics.observeApply("runtime", start)
		l.Log.V(1).Info("runtime update applied", "commands", len(plan.Commands), "maps", strings.Join(plan.MapFiles, ","), "cert_commands", len(plan.CertCommands),
			"duration", time.Since(start).String())
		for _, s := range plan.Spared {
			l.Log.Info("new backend section took a spare section, without a reload", "backend", s, "spare", plan.Next.Spares.Taken[s],
				"spares_free", len(plan.Next.Spares.Free))
		}
		l.Metrics.setSpares(plan.Next.Spares)
		l.settle(res, desired, rejections)
		if plan.Refill {
			return refill, nil
		}
		return done, nil
	}
	if !reloadNow(plan) {
		l.Log.V(1).Info("reload held off while changes arrive", "reasons", reasonStrings(plan.Reasons), "commands", len(plan.Commands))
		if len(plan.Commands) > 0 {
			// Endpoints of the sections the reload keeps move now, not after the holdoff.
			if err := l.Proxy.Update(ctx, haproxy.Plan{Commands: plan.Commands}); err != nil {
				l.applied = nil
				l.Metrics.RuntimeFailures.Inc()
				return done, fmt.Errorf("applying runtime changes (a reload follows): %w", err)
			}
			l.applied = &plan.Interim
			l.Metrics.RuntimeUpdates.Add(float64(len(plan.Commands)))
		}
		l.desired = nil
		return held, nil
	}
	files, err := haproxy.RenderLayout(plan.Next.Config, plan.Next.Layout, l.Env)
	if err != nil {
		l.Metrics.RenderFailures.Inc()
		return done, err
	}
	started, err := l.Proxy.Reload(ctx, files)
	if errors.Is(err, haproxy.ErrInvalid) {
		// Something haproxy refuses slipped past the checks: find the objects responsible,
		// leave them out, and apply the rest.
		l.Metrics.RenderFailures.Inc()
		culprits, ferr := l.findRefused(ctx, desired)
		if ferr != nil {
			return done, errors.Join(err, ferr)
		}
		for _, o := range culprits {
			l.refused[o] = refusal{fingerprint: fingerprint(desired, o), why: haproxyReason(err)}
		}
		l.Log.Info("objects refused by haproxy are left out", "objects", objectStrings(culprits), "error", err.Error())
		return l.apply(ctx, res, reloadNow)
	}
	if err != nil {
		l.Metrics.ReloadFailures.Inc()
		return done, fmt.Errorf("reloading haproxy: %w", err)
	}
	l.applied = &plan.Next
	l.Metrics.setSpares(plan.Next.Spares)
	l.Metrics.countReload(plan.Reasons, started)
	l.Metrics.observeApply("reload", start)
	l.Log.Info("configuration applied", "action", map[bool]string{true: "start", false: "reload"}[started],
		"reasons", reasonStrings(plan.Reasons), "ingresses", len(res.Owned), "backends", len(desired.Backends),
		"routes", len(desired.HTTPRoutes), "duration", time.Since(start).String())
	l.settle(res, desired, rejections)
	return done, nil
}

// endpointPass applies a change of the EndpointSlices of some Services, and nothing else, without
// a snapshot or a translation: it lists those Services' slices, recomputes the servers of the
// backends they feed and moves them through the runtime API. Its cost does not grow with the
// number of Ingresses or backends. It reports false when a full pass is needed instead (nothing
// applied yet, a reload pending, slots exhausted).
func (l *Loop) endpointPass(ctx context.Context, services []types.NamespacedName, start time.Time) (bool, error) {
	if l.applied == nil || l.desired == nil || !l.Proxy.Running() {
		return false, nil
	}
	desired := *l.desired
	desired.Backends = slices.Clone(desired.Backends)
	var changed []string
	for _, svc := range services {
		feeds := l.endpoints[svc]
		if len(feeds) == 0 {
			continue
		}
		eps, err := l.Source.EndpointSlices(svc)
		if err != nil {
			return false, err
		}
		for _, f := range feeds {
			i, ok := slices.BinarySearchFunc(desired.Backends, f.Backend, func(b model.Backend, n string) int { return strings.Compare(b.Name, n) })
			if !ok {
				continue // left out of the configuration
			}
			desired.Backends[i].Servers = resolve.Servers(eps, f.Port, l.Addresses)
			changed = append(changed, f.Backend)
		}
	}
	if len(changed) == 0 {
		return true, nil
	}
	plan, ok := haproxy.PlanEndpoints(l.applied, desired, changed)
	if !ok {
		return false, nil
	}
	if len(plan.Commands) > 0 {
		if err := l.Proxy.Update(ctx, plan); err != nil {
			l.applied, l.desired = nil, nil
			l.Metrics.RuntimeFailures.Inc()
			return false, fmt.Errorf("applying endpoint changes: %w", err)
		}
		l.Metrics.RuntimeUpdates.Add(float64(len(plan.Commands)))
		l.Metrics.observeApply("runtime", start)
	}
	l.applied, l.desired = &plan.Next, &desired
	l.Log.V(1).Info("endpoint update applied", "services", len(services), "commands", len(plan.Commands), "duration", time.Since(start).String())
	return true, nil
}

// settle records a pass that applied everything it could.
func (l *Loop) settle(res ingress.Result, desired model.Config, rejections []haproxy.Rejection) {
	l.ready.Store(true)
	l.endpoints, l.desired, l.rejections = res.Endpoints, &desired, rejections
	objs := rejectedObjects(rejections)
	l.Metrics.setRejected(objs)
	if len(objs) == 0 {
		l.setStale("")
		return
	}
	l.setStale(fmt.Sprintf("%d object(s) rejected", len(objs)))
}

// report publishes translation problems and rejections, logging the new ones.
func (l *Loop) report(problems []diag.Problem, rejections []haproxy.Rejection) {
	all := slices.Clone(problems)
	for _, r := range rejections {
		for _, o := range r.Objects {
			all = append(all, diag.Problem{Object: o, Severity: diag.Warning, Reason: "ConfigRejected",
				Message: "left out of the configuration, the rest is served: " + r.Err.Error()})
		}
	}
	for _, p := range l.Reporter.Report(all) {
		l.Log.Info("problem", "object", p.Object.String(), "severity", string(p.Severity), "reason", p.Reason, "message", p.Message)
	}
	l.Metrics.setProblems(all)
}

// withoutRefused leaves out the objects haproxy refused before, as long as what they contribute
// is unchanged; a changed object is tried again.
func (l *Loop) withoutRefused(cfg model.Config) (model.Config, []haproxy.Rejection) {
	var gone []diag.Object
	var rej []haproxy.Rejection
	for o, r := range l.refused {
		if fingerprint(cfg, o) != r.fingerprint {
			delete(l.refused, o)
			continue
		}
		gone = append(gone, o)
		rej = append(rej, haproxy.Rejection{Objects: []diag.Object{o}, Err: fmt.Errorf("haproxy refused the configuration it contributes: %s", r.why)})
	}
	if len(gone) == 0 {
		return cfg, nil
	}
	slices.SortFunc(gone, diag.Compare)
	return haproxy.Without(cfg, gone), rej
}

// findRefused finds objects without which haproxy accepts the configuration, validating
// halves of the objects in turn (haproxy.Isolate).
func (l *Loop) findRefused(ctx context.Context, cfg model.Config) ([]diag.Object, error) {
	valid := func(without []diag.Object) (bool, error) {
		files, err := haproxy.Render(haproxy.Without(cfg, without), l.Env)
		if err != nil {
			return false, err
		}
		err = l.Proxy.Validate(ctx, files)
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return err == nil, nil
	}
	if l.refused == nil {
		l.refused = map[diag.Object]refusal{}
	}
	return haproxy.Isolate(haproxy.Objects(cfg), valid)
}

// refusal is an object haproxy refused: what it contributed then, and haproxy's words.
type refusal struct {
	fingerprint string
	why         string
}

// haproxyReason keeps the lines of haproxy's answer that say what it refused, within the size of
// an Event message.
func haproxyReason(err error) string {
	msg := err.Error()
	var lines []string
	for _, line := range strings.Split(msg, "\n") {
		if strings.Contains(line, "[ALERT]") {
			lines = append(lines, strings.TrimSpace(line))
		}
	}
	if len(lines) > 0 {
		msg = strings.Join(lines, "; ")
	}
	if len(msg) > 600 {
		msg = msg[:600] + "..."
	}
	return msg
}

// fingerprint sums up what an object contributes to cfg.
func fingerprint(cfg model.Config, o diag.Object) string {
	only := haproxy.Only(cfg, o)
	b, _ := json.Marshal(only)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func rejectedObjects(rs []haproxy.Rejection) []diag.Object {
	var objs []diag.Object
	for _, r := range rs {
		objs = append(objs, r.Objects...)
	}
	slices.SortFunc(objs, diag.Compare)
	return slices.Compact(objs)
}

func objectStrings(objs []diag.Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.String()
	}
	return out
}

func reasonStrings(rs []haproxy.Reason) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return out
}
