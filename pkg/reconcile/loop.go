// Package reconcile runs the controller's loop: on every change, take a snapshot, translate it,
// report problems, render, and apply. Decisions are made by the pure packages it calls; the loop
// only sequences them and retries failures with backoff. There is no timer-driven resync.
package reconcile

import (
	"context"
	"time"

	"github.com/go-logr/logr"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/process"
	"github.com/portcullis-ingress/portcullis/pkg/ingress"
	"github.com/portcullis-ingress/portcullis/pkg/k8s"
)

// Loop wires the watcher, translation, rendering and the haproxy master together.
type Loop struct {
	Watcher   *k8s.Watcher
	Reporter  *k8s.Reporter
	Master    *process.Master
	Translate ingress.Options
	Env       haproxy.Env
	Log       logr.Logger
}

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 30 * time.Second
)

// Run reconciles until ctx ends. The first pass runs at once.
func (l *Loop) Run(ctx context.Context) error {
	backoff := time.Duration(0)
	var retry <-chan time.Time
	pending := true
	for {
		if pending {
			pending = false
			if err := l.pass(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				backoff = min(max(2*backoff, minBackoff), maxBackoff)
				l.Log.Error(err, "reconcile failed; retrying", "retry_in", backoff.String())
				retry = time.After(backoff)
			} else {
				backoff, retry = 0, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-l.Watcher.Dirty():
			pending = true
		case <-l.Master.Exited():
			pending = true
		case <-retry:
			pending = true
		}
	}
}

func (l *Loop) pass(ctx context.Context) error {
	start := time.Now()
	snap, err := l.Watcher.Snapshot()
	if err != nil {
		return err
	}
	res := ingress.Translate(snap.State, l.Translate)
	for _, p := range l.Reporter.Report(res.Problems) {
		l.Log.Info("problem", "object", p.Object.String(), "severity", string(p.Severity), "reason", p.Reason, "message", p.Message)
	}
	files, err := haproxy.Render(res.Config, l.Env)
	if err != nil {
		return err
	}
	outcome, err := l.Master.Apply(ctx, files)
	if err != nil {
		return err
	}
	if outcome != process.Unchanged {
		l.Log.Info("configuration applied", "outcome", string(outcome),
			"ingresses", len(res.Owned), "backends", len(res.Config.Backends), "routes", len(res.Config.Routes),
			"duration", time.Since(start).String())
	}
	return nil
}
