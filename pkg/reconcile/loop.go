// Package reconcile runs the controller's loop: on every change, take a snapshot, translate it,
// report problems, plan, render, and apply. Decisions are made by the pure packages it calls
// (ingress.Translate, haproxy.NewPlan, haproxy.RenderLayout); the loop sequences them, applies
// runtime changes at once, holds reloads off while changes keep coming, and retries failures with
// backoff. There is no timer-driven resync.
package reconcile

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/ingress"
	"github.com/portcullis-ingress/portcullis/pkg/k8s"
)

// Source is where the cluster state comes from.
type Source interface {
	// Dirty receives a value after any change.
	Dirty() <-chan struct{}
	Snapshot() (k8s.Snapshot, error)
}

// Reporter publishes problems (as Kubernetes Events) and returns those it had not seen before.
type Reporter interface {
	Report([]ingress.Problem) []ingress.Problem
}

// Proxy is the running haproxy.
type Proxy interface {
	Running() bool
	// Exited receives a value when haproxy exits on its own.
	Exited() <-chan struct{}
	// Reload validates and installs files, then starts or reloads haproxy.
	Reload(ctx context.Context, files haproxy.Files) (started bool, err error)
	// Update writes files and applies a runtime plan without a reload.
	Update(ctx context.Context, files haproxy.Files, plan haproxy.Plan) error
}

// StatusPublisher writes Ingress status for a snapshot and the Ingresses that are ours.
type StatusPublisher interface {
	Sync(ctx context.Context, snap k8s.Snapshot, owned []types.NamespacedName) error
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
	Env       haproxy.Env
	Timing    Timing
	Metrics   *Metrics
	Log       logr.Logger

	applied *haproxy.Applied
	ready   atomic.Bool
}

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 30 * time.Second
)

// Ready reports whether a configuration has been applied since start.
func (l *Loop) Ready() bool { return l.ready.Load() }

// Run reconciles until ctx ends. The first pass runs at once.
func (l *Loop) Run(ctx context.Context) error {
	var (
		backoff     time.Duration
		lastChange  time.Time
		reloadSince time.Time // when a pending reload became necessary; zero if none
		reasonsSeen string    // the reasons of the pending reload, to notice when they change
		wake        *time.Timer
		wakeC       <-chan time.Time
		pending     = true
		exited      = l.Proxy.Exited()
		dirty       = l.Source.Dirty()
		timing      = l.Timing
		setWake     = func(d time.Duration) {
			if wake != nil {
				wake.Stop()
			}
			wake = time.NewTimer(d)
			wakeC = wake.C
		}
	)
	if timing == (Timing{}) {
		timing = DefaultTiming
	}
	for {
		if pending {
			pending = false
			now := time.Now()
			res, err := l.pass(ctx, func(p haproxy.Plan) bool {
				// A reload waits for a quiet moment, unless haproxy is not running at all.
				if !l.Proxy.Running() {
					return true
				}
				if reloadSince.IsZero() {
					reloadSince = now
				}
				// The quiet period restarts only when what needs the reload changes, not on
				// every endpoint change applied at runtime meanwhile.
				if sig := fmt.Sprint(p.Reasons); sig != reasonsSeen {
					reasonsSeen, lastChange = sig, now
				}
				due := lastChange.Add(timing.Quiet)
				if limit := reloadSince.Add(timing.MaxHoldoff); limit.Before(due) {
					due = limit
				}
				if now.Before(due) {
					setWake(due.Sub(now))
					return false
				}
				return true
			})
			switch {
			case err != nil && ctx.Err() != nil:
				return nil
			case err != nil:
				backoff = min(max(2*backoff, minBackoff), maxBackoff)
				l.Log.Error(err, "reconcile failed; retrying", "retry_in", backoff.String())
				setWake(backoff)
			default:
				backoff = 0
				if res != held {
					reloadSince, reasonsSeen = time.Time{}, ""
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-dirty:
			pending = true
		case <-exited:
			l.applied = nil
			pending = true
		case <-wakeC:
			wakeC = nil
			pending = true
		}
	}
}

type passResult int

const (
	done passResult = iota
	held            // a reload is needed but was held off
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
	res := ingress.Translate(snap.State, opts)
	r, err := l.apply(ctx, res, reloadNow)
	if err != nil || r == held || l.Status == nil {
		return r, err
	}
	if err := l.Status.Sync(ctx, snap, res.Owned); err != nil {
		return done, fmt.Errorf("publishing Ingress status: %w", err)
	}
	return done, nil
}

// apply reports problems, plans, renders, and carries the plan out.
func (l *Loop) apply(ctx context.Context, res ingress.Result, reloadNow func(haproxy.Plan) bool) (passResult, error) {
	start := time.Now()
	for _, p := range l.Reporter.Report(res.Problems) {
		l.Log.Info("problem", "object", p.Object.String(), "severity", string(p.Severity), "reason", p.Reason, "message", p.Message)
	}
	l.Metrics.setProblems(res.Problems)

	if !l.Proxy.Running() {
		l.applied = nil
	}
	plan := haproxy.NewPlan(l.applied, res.Config)
	if !plan.Reload() && len(plan.Commands) == 0 && len(plan.MapFiles) == 0 && len(plan.CertCommands) == 0 {
		l.applied = &plan.Next
		l.ready.Store(true)
		return done, nil
	}
	files, err := haproxy.RenderLayout(plan.Next.Config, plan.Next.Layout, l.Env)
	if err != nil {
		return done, err
	}
	if !plan.Reload() {
		if err := l.Proxy.Update(ctx, files, plan); err != nil {
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
		l.ready.Store(true)
		return done, nil
	}
	if !reloadNow(plan) {
		l.Log.V(1).Info("reload held off while changes arrive", "reasons", reasonStrings(plan.Reasons), "commands", len(plan.Commands))
		if len(plan.Commands) > 0 {
			// Endpoints of the backends the reload keeps move now, not after the holdoff.
			files, err := haproxy.RenderLayout(plan.Interim.Config, plan.Interim.Layout, l.Env)
			if err != nil {
				return done, err
			}
			if err := l.Proxy.Update(ctx, files, haproxy.Plan{Commands: plan.Commands}); err != nil {
				l.applied = nil
				l.Metrics.RuntimeFailures.Inc()
				return done, fmt.Errorf("applying runtime changes (a reload follows): %w", err)
			}
			l.applied = &plan.Interim
			l.Metrics.RuntimeUpdates.Add(float64(len(plan.Commands)))
		}
		return held, nil
	}
	started, err := l.Proxy.Reload(ctx, files)
	if err != nil {
		l.Metrics.ReloadFailures.Inc()
		return done, fmt.Errorf("reloading haproxy: %w", err)
	}
	l.applied = &plan.Next
	l.Metrics.countReload(plan.Reasons, started)
	l.Metrics.observeApply("reload", start)
	l.Log.Info("configuration applied", "action", map[bool]string{true: "start", false: "reload"}[started],
		"reasons", reasonStrings(plan.Reasons), "ingresses", len(res.Owned), "backends", len(res.Config.Backends),
		"routes", len(res.Config.Routes), "duration", time.Since(start).String())
	l.ready.Store(true)
	return done, nil
}

func reasonStrings(rs []haproxy.Reason) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return out
}
