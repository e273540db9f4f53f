package e2e

// The shutdown sequence behind an external load balancer (issues 12 and 14): on SIGTERM the
// load balancer's health check (HAProxy's monitor) and /readyz fail at once, HAProxy keeps serving
// for --shutdown-delay, and a load balancer that stops sending once its health check fails sees no
// failed request.

import (
	"net/http"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// monitorStatus is the status of GET url, or 0 when nothing answers.
func monitorStatus(url string) int {
	r, err := framework.TryGetURL(url, "")
	if err != nil {
		return 0
	}
	return r.Status
}

func TestShutdownSequence(t *testing.T) {
	t.Parallel()
	const delay = 3 * time.Second
	ns := framework.NewNamespace(t)
	framework.CreateIngressClass(t, ns, framework.ControllerName)
	c := framework.StartController(t, framework.ControllerOptions{Namespace: ns, ExtraArgs: []string{
		"--ingress.class=" + ns, "--shutdown-delay=" + delay.String(),
	}})
	echo := framework.StartEcho(t, "web")
	framework.EchoService(t, ns, "web", echo)
	framework.CreateIngress(t, framework.Ingress(ns, "web", ns, framework.Rule("web.example", framework.Prefix("/", "web"))))
	framework.AwaitEchoes(t, c, "web.example", "/", "web")
	if got := monitorStatus(c.MonitorURL); got != http.StatusOK {
		t.Fatalf("monitor %s answered %d before the shutdown, want 200", c.MonitorURL, got)
	}

	load := framework.StartLoad(t, c, "web.example", "/", 4, time.Minute)
	time.Sleep(500 * time.Millisecond)
	t0 := time.Now()
	c.Terminate(t)

	// The monitor and readiness fail at once.
	var failedAfter time.Duration
	for {
		if monitorStatus(c.MonitorURL) == http.StatusServiceUnavailable {
			failedAfter = time.Since(t0)
			break
		}
		if time.Since(t0) > time.Second {
			t.Fatalf("the monitor did not fail within 1 s of SIGTERM (status %d)", monitorStatus(c.MonitorURL))
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("monitor answered 503 %s after SIGTERM", failedAfter)
	if got := monitorStatus(c.ControllerURL + "/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz answered %d during the shutdown delay, want 503", got)
	}

	// A load balancer checking every 500 ms stops sending after its next check.
	time.Sleep(500 * time.Millisecond)
	res := load.Stop()
	t.Logf("load until the load balancer stopped sending: %s", res)
	if res.Failed > 0 || res.Requests == 0 {
		t.Errorf("%d of %d requests failed during the shutdown delay, want none: %v", res.Failed, res.Requests, res.Errors)
	}
	if time.Since(t0) < delay-200*time.Millisecond {
		if r, err := framework.TryGetURL(c.HTTPURL+"/", "web.example"); err != nil || r.Status != http.StatusOK {
			t.Errorf("haproxy stopped serving before the shutdown delay ended: %v %v", r, err)
		}
	}
	if !c.WaitExit(delay + 15*time.Second) {
		t.Fatalf("the controller did not exit within the shutdown delay and the stop timeout")
	}
	if took := time.Since(t0); took < delay {
		t.Errorf("the controller exited %s after SIGTERM, before the shutdown delay of %s", took, delay)
	}
}
