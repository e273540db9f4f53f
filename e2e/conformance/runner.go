package conformance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// RunnerConfig configures the Pod runner.
type RunnerConfig struct {
	Kube    kubernetes.Interface
	Node    string // the Node every Pod is bound to
	EchoBin string // echo-basic, run for every container whose image is echo-basic
	Dir     string // per-Pod directories: volumes, container logs
	Bridge  string // the bridge Pod veths are attached to
	Gateway string // the bridge's address: each Pod's default route
	Prefix  int    // prefix length of the Pod network on each Pod's eth0
	// Daemons are checked on every pass: the runner stops with an error if one has exited.
	Daemons []*framework.Daemon
	LogPath string // the runner's own log
}

// Runner stands in for the scheduler and the kubelet of one Node. It binds every unscheduled Pod
// to the Node; for each Pod of the Node that kwok has given an IP, it creates a network namespace
// with a veth on the bridge holding that IP, and starts the Pod's containers in it; it sets the
// Pod Running, and Ready once every container answers; it restarts containers that exit; and once
// a Pod is being deleted, it stops its processes, removes its network namespace and neighbour
// entry, and deletes the Pod object.
//
// Only echo-basic containers run (the suite's echo server, built from its source); other
// containers (the suite's coredns, used only by UDP tests) count as started and ready without a
// process, which the runner logs.
type Runner struct {
	cfg    RunnerConfig
	log    *log.Logger
	lister corelisters.PodLister
	kick   chan struct{}

	mu       sync.Mutex
	pods     map[types.UID]*sandbox
	failures map[types.UID]time.Time // last failed start, for a back-off
	err      error                   // set when the runner gave up
}

// sandbox is one running Pod: its network namespace (held by a pause process) and containers.
type sandbox struct {
	uid       types.UID
	namespace string
	name      string
	ip        string
	hostVeth  string
	dir       string
	pause     *exec.Cmd
	pauseDone chan struct{}
	started   metav1.Time
	ctx       context.Context
	cancel    context.CancelFunc
	probes    sync.WaitGroup
	// containers in spec order; guarded by Runner.mu.
	containers []*containerState
}

// containerState is one container of a sandbox. Its mutable fields are guarded by Runner.mu.
type containerState struct {
	spec     corev1.Container
	run      bool     // an echo-basic process runs for it
	env      []string // resolved environment
	args     []string // resolved arguments
	logPath  string
	cmd      *exec.Cmd
	done     chan struct{}
	exitErr  error
	started  metav1.Time
	ready    bool
	restarts int32
	retryAt  time.Time // when an exited process is started again
}

// Timings of the runner loop.
const (
	resyncPeriod   = time.Second
	restartBackoff = time.Second
	startBackoff   = 2 * time.Second
	probeInterval  = 100 * time.Millisecond
	stopGrace      = 5 * time.Second
)

// StartRunner starts the runner; at cleanup it stops every Pod it runs and fails the test if a
// process, a network namespace or a veth is left, or if the runner gave up.
func StartRunner(t *testing.T, cfg RunnerConfig) *Runner {
	t.Helper()
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		t.Fatalf("creating the runner's directory: %v", err)
	}
	logFile, err := os.Create(cfg.LogPath)
	if err != nil {
		t.Fatalf("creating the runner's log: %v", err)
	}
	r := &Runner{
		cfg:      cfg,
		log:      log.New(logFile, "", log.Ltime|log.Lmicroseconds),
		kick:     make(chan struct{}, 1),
		pods:     map[types.UID]*sandbox{},
		failures: map[types.UID]time.Time{},
	}
	factory := informers.NewSharedInformerFactory(cfg.Kube, 0)
	podInformer := factory.Core().V1().Pods()
	r.lister = podInformer.Lister()
	if _, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { r.nudge() },
		UpdateFunc: func(any, any) { r.nudge() },
		DeleteFunc: func(any) { r.nudge() },
	}); err != nil {
		t.Fatalf("watching Pods: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(t.Context().Done()) {
		if !ok {
			cancel()
			t.Fatalf("syncing the %v informer", typ)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.loop(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		factory.Shutdown()
		r.stopAll()
		if leftovers := r.leftovers(); len(leftovers) > 0 {
			t.Errorf("the runner left behind: %s", strings.Join(leftovers, "; "))
		}
		if err := r.Err(); err != nil {
			t.Errorf("the Pod runner: %v", err)
		}
		_ = logFile.Close()
		if t.Failed() {
			t.Logf("runner log (%s):\n%s", cfg.LogPath, tail(cfg.LogPath, 16<<10))
		}
	})
	return r
}

// Err returns the error the runner stopped on, if any.
func (r *Runner) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// nudge asks the loop for a pass.
func (r *Runner) nudge() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// loop reconciles every Pod on each change, and once a second for back-offs.
func (r *Runner) loop(ctx context.Context) {
	ticker := time.NewTicker(resyncPeriod)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		case <-ticker.C:
		}
		for _, d := range r.cfg.Daemons {
			if err := d.Err(); err != nil {
				r.mu.Lock()
				r.err = fmt.Errorf("%s exited: %w", d.Name, err)
				r.mu.Unlock()
				r.log.Printf("stopping: %v", r.err)
				return
			}
		}
		r.pass(ctx)
	}
}

// pass reconciles every Pod once, then stops the sandboxes of Pods that are gone.
func (r *Runner) pass(ctx context.Context) {
	pods, err := r.lister.List(labels.Everything())
	if err != nil {
		r.log.Printf("listing Pods: %v", err)
		return
	}
	seen := map[types.UID]bool{}
	for _, pod := range pods {
		seen[pod.UID] = true
		if err := r.reconcile(ctx, pod); err != nil && ctx.Err() == nil {
			r.log.Printf("pod %s/%s: %v", pod.Namespace, pod.Name, err)
		}
	}
	r.mu.Lock()
	var gone []*sandbox
	for uid, sb := range r.pods {
		if !seen[uid] {
			gone = append(gone, sb)
			delete(r.pods, uid)
		}
	}
	for uid := range r.failures {
		if !seen[uid] {
			delete(r.failures, uid)
		}
	}
	r.mu.Unlock()
	for _, sb := range gone {
		r.log.Printf("pod %s/%s is gone: stopping it", sb.namespace, sb.name)
		r.stopSandbox(sb)
	}
}

// reconcile moves one Pod a step towards its desired state.
func (r *Runner) reconcile(ctx context.Context, pod *corev1.Pod) error {
	switch {
	case pod.Spec.NodeName == "" && pod.DeletionTimestamp == nil:
		return r.bind(ctx, pod)
	case pod.Spec.NodeName != r.cfg.Node:
		return nil
	case pod.DeletionTimestamp != nil:
		return r.finish(ctx, pod)
	case pod.Status.PodIP == "" || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed:
		return nil // kwok has not given it an IP yet
	}
	r.mu.Lock()
	sb := r.pods[pod.UID]
	failedAt, failed := r.failures[pod.UID]
	r.mu.Unlock()
	if sb == nil {
		if failed && time.Since(failedAt) < startBackoff {
			return nil
		}
		var err error
		if sb, err = r.startSandbox(ctx, pod); err != nil {
			r.mu.Lock()
			r.failures[pod.UID] = time.Now()
			r.mu.Unlock()
			return fmt.Errorf("starting: %w", err)
		}
		r.mu.Lock()
		r.pods[pod.UID] = sb
		delete(r.failures, pod.UID)
		r.mu.Unlock()
	}
	r.restartExited(sb)
	return r.writeStatus(ctx, pod, sb)
}

// bind binds an unscheduled Pod to the Node, as the scheduler would.
func (r *Runner) bind(ctx context.Context, pod *corev1.Pod) error {
	binding := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: r.cfg.Node},
	}
	err := r.cfg.Kube.CoreV1().Pods(pod.Namespace).Bind(ctx, binding, metav1.CreateOptions{})
	if err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
		return fmt.Errorf("binding to %s: %w", r.cfg.Node, err)
	}
	r.log.Printf("pod %s/%s: bound to %s", pod.Namespace, pod.Name, r.cfg.Node)
	return nil
}

// finish stops a deleted Pod's processes and then deletes the Pod object, as the kubelet does once
// the containers are gone.
func (r *Runner) finish(ctx context.Context, pod *corev1.Pod) error {
	r.mu.Lock()
	sb := r.pods[pod.UID]
	delete(r.pods, pod.UID)
	r.mu.Unlock()
	if sb != nil {
		r.log.Printf("pod %s/%s: deleted, stopping it", pod.Namespace, pod.Name)
		r.stopSandbox(sb)
	}
	zero := int64(0)
	err := r.cfg.Kube.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero,
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting: %w", err)
	}
	return nil
}

// startSandbox creates the Pod's network namespace and veth, writes its volumes and starts its
// containers. On error it removes whatever it created.
func (r *Runner) startSandbox(ctx context.Context, pod *corev1.Pod) (sb *sandbox, err error) {
	// kwok may give a new Pod the address of one that is still stopping: stop that one first.
	// Two live Pods with one address mean the address was not kwok's to give (a Pod left by an
	// earlier lab): the newcomer waits rather than take it.
	r.mu.Lock()
	var clash *sandbox
	for _, other := range r.pods {
		if other.ip == pod.Status.PodIP {
			clash = other
		}
	}
	if clash != nil {
		if holder, err := r.lister.Pods(clash.namespace).Get(clash.name); err == nil && holder.UID == clash.uid && holder.DeletionTimestamp == nil {
			r.mu.Unlock()
			return nil, fmt.Errorf("address %s is held by the running pod %s/%s", pod.Status.PodIP, clash.namespace, clash.name)
		}
		delete(r.pods, clash.uid)
	}
	r.mu.Unlock()
	if clash != nil {
		r.log.Printf("pod %s/%s: takes the address of %s/%s, stopping that one", pod.Namespace, pod.Name, clash.namespace, clash.name)
		r.stopSandbox(clash)
	}

	sbCtx, cancel := context.WithCancel(context.Background())
	sb = &sandbox{
		uid:       pod.UID,
		namespace: pod.Namespace,
		name:      pod.Name,
		ip:        pod.Status.PodIP,
		hostVeth:  hostVeth(pod.UID),
		dir:       filepath.Join(r.cfg.Dir, string(pod.UID)),
		started:   metav1.Now(),
		ctx:       sbCtx,
		cancel:    cancel,
	}
	defer func() {
		if err != nil {
			r.stopSandbox(sb)
		}
	}()
	if err := os.MkdirAll(sb.dir, 0o755); err != nil {
		return sb, err
	}
	mounts, err := r.writeVolumes(ctx, pod, sb.dir)
	if err != nil {
		return sb, err
	}
	for _, c := range pod.Spec.Containers {
		cs, err := r.prepareContainer(ctx, pod, c, mounts, sb.dir)
		if err != nil {
			return sb, fmt.Errorf("container %s: %w", c.Name, err)
		}
		sb.containers = append(sb.containers, cs)
	}

	// The pause process holds the network namespace, as a pod sandbox's pause container does;
	// containers join it and can restart in it.
	sb.pause = exec.Command("sleep", "infinity")
	sb.pause.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	if err := sb.pause.Start(); err != nil {
		return sb, fmt.Errorf("starting the pause process: %w", err)
	}
	sb.pauseDone = make(chan struct{})
	go func() { _ = sb.pause.Wait(); close(sb.pauseDone) }()
	pid := strconv.Itoa(sb.pause.Process.Pid)
	if err := ip("link", "add", sb.hostVeth, "type", "veth", "peer", "name", "eth0", "netns", pid); err != nil {
		return sb, err
	}
	if err := ip("link", "set", sb.hostVeth, "master", r.cfg.Bridge, "up"); err != nil {
		return sb, err
	}
	inside := fmt.Sprintf("link set lo up\naddr add %s/%d dev eth0\nlink set eth0 up\nroute add default via %s\n",
		sb.ip, r.cfg.Prefix, r.cfg.Gateway)
	cmd := exec.Command("nsenter", "--net=/proc/"+pid+"/ns/net", "ip", "-batch", "-")
	cmd.Stdin = strings.NewReader(inside)
	if out, err := cmd.CombinedOutput(); err != nil {
		return sb, fmt.Errorf("configuring the Pod's network: %w: %s", err, out)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	for _, cs := range sb.containers {
		if err := r.startContainer(sb, cs); err != nil {
			return sb, err
		}
	}
	r.log.Printf("pod %s/%s: started at %s (veth %s, %s)", pod.Namespace, pod.Name, sb.ip, sb.hostVeth, sb.dir)
	return sb, nil
}

// startContainer starts one container's process (if it has one) and its readiness probe. Call it
// with r.mu held.
func (r *Runner) startContainer(sb *sandbox, cs *containerState) error {
	cs.started, cs.ready, cs.exitErr = metav1.Now(), false, nil
	if !cs.run {
		cs.ready = true
		return nil
	}
	logFile, err := os.OpenFile(cs.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command("nsenter", append([]string{"--net=/proc/" + strconv.Itoa(sb.pause.Process.Pid) + "/ns/net", "--", r.cfg.EchoBin}, cs.args...)...)
	cmd.Env = cs.env
	cmd.Dir = sb.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("starting container %s: %w", cs.spec.Name, err)
	}
	done := make(chan struct{})
	cs.cmd, cs.done = cmd, done
	go func() {
		err := cmd.Wait()
		_ = logFile.Close()
		r.mu.Lock()
		cs.exitErr = err
		r.mu.Unlock()
		close(done)
		r.nudge()
	}()
	sb.probes.Add(1)
	go func() {
		defer sb.probes.Done()
		r.probe(sb, cs, done)
	}()
	return nil
}

// restartExited restarts, after a back-off, the containers whose process has exited (the
// Deployments' restartPolicy is Always).
func (r *Runner) restartExited(sb *sandbox) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, cs := range sb.containers {
		if !cs.run || !isClosed(cs.done) {
			continue
		}
		if cs.retryAt.IsZero() {
			cs.ready = false
			cs.retryAt = time.Now().Add(restartBackoff)
			r.log.Printf("pod %s/%s: container %s exited (%v), restarting in %s", sb.namespace, sb.name, cs.spec.Name, cs.exitErr, restartBackoff)
			continue
		}
		if time.Now().Before(cs.retryAt) {
			continue
		}
		cs.retryAt = time.Time{}
		cs.restarts++
		if err := r.startContainer(sb, cs); err != nil {
			r.log.Printf("pod %s/%s: restarting container %s: %v", sb.namespace, sb.name, cs.spec.Name, err)
		}
	}
}

// probe waits until the container answers at the Pod IP, then marks it ready. The suite's Pods
// have no readinessProbe: the kubelet would call them ready as soon as they start. The runner is
// stricter and waits for echo-basic to serve: GET /health on its HTTP port, or a TCP connection to
// the port of its TCP and gRPC modes (its UDP mode is ready when started). A readinessProbe of
// the container, if any, is used instead (httpGet and tcpSocket).
func (r *Runner) probe(sb *sandbox, cs *containerState, exited chan struct{}) {
	check := r.readinessCheck(sb.ip, cs)
	ticker := time.NewTicker(probeInterval)
	defer ticker.Stop()
	for {
		if check() == nil {
			r.mu.Lock()
			if !isClosed(exited) {
				cs.ready = true
			}
			r.mu.Unlock()
			r.nudge()
			return
		}
		select {
		case <-sb.ctx.Done():
			return
		case <-exited:
			return
		case <-ticker.C:
		}
	}
}

// readinessCheck returns the check probe runs for a container.
func (r *Runner) readinessCheck(podIP string, cs *containerState) func() error {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	httpGet := func(port, path string) func() error {
		url := "http://" + net.JoinHostPort(podIP, port) + path
		return func() error {
			resp, err := client.Get(url)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 200 || resp.StatusCode >= 400 {
				return fmt.Errorf("GET %s: %s", url, resp.Status)
			}
			return nil
		}
	}
	tcp := func(port string) func() error {
		return func() error {
			conn, err := net.DialTimeout("tcp", net.JoinHostPort(podIP, port), time.Second)
			if err == nil {
				conn.Close()
			}
			return err
		}
	}
	ready := func() error { return nil }
	env := func(name, def string) string {
		prefix := name + "="
		for _, kv := range slices.Backward(cs.env) {
			if strings.HasPrefix(kv, prefix) {
				return strings.TrimPrefix(kv, prefix)
			}
		}
		return def
	}
	if p := cs.spec.ReadinessProbe; p != nil {
		switch {
		case p.HTTPGet != nil:
			return httpGet(containerPort(cs.spec, p.HTTPGet.Port.String()), p.HTTPGet.Path)
		case p.TCPSocket != nil:
			return tcp(containerPort(cs.spec, p.TCPSocket.Port.String()))
		}
		r.log.Printf("container %s: readinessProbe kind not supported, ready once started", cs.spec.Name)
		return ready
	}
	switch {
	case env("UDP_ECHO_SERVER", "") != "":
		return ready
	case env("TCP_ECHO_SERVER", "") != "":
		return tcp(env("TCP_PORT", "3000"))
	case env("GRPC_ECHO_SERVER", "") != "":
		return tcp(env("HTTP_PORT", "3000"))
	default:
		return httpGet(env("HTTP_PORT", "3000"), "/health")
	}
}

// containerPort resolves a probe's port, which may name a container port.
func containerPort(c corev1.Container, port string) string {
	for _, p := range c.Ports {
		if p.Name == port {
			return strconv.Itoa(int(p.ContainerPort))
		}
	}
	return port
}

// writeStatus sets the Pod Running, with Ready and the container statuses the sandbox has, when
// the Pod's status says otherwise.
func (r *Runner) writeStatus(ctx context.Context, pod *corev1.Pod, sb *sandbox) error {
	r.mu.Lock()
	want := make([]corev1.ContainerStatus, 0, len(sb.containers))
	allReady := true
	for _, cs := range sb.containers {
		st := corev1.ContainerStatus{
			Name:         cs.spec.Name,
			Image:        cs.spec.Image,
			ImageID:      cs.spec.Image,
			Ready:        cs.ready,
			RestartCount: cs.restarts,
			Started:      new(true),
		}
		if cs.run && isClosed(cs.done) {
			st.Started = new(false)
			st.State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: fmt.Sprint(cs.exitErr)}
		} else {
			st.State.Running = &corev1.ContainerStateRunning{StartedAt: cs.started}
		}
		allReady = allReady && cs.ready
		want = append(want, st)
	}
	r.mu.Unlock()

	if pod.Status.Phase == corev1.PodRunning && podReady(pod) == allReady && sameContainerStatuses(pod.Status.ContainerStatuses, want) {
		return nil
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		current, err := r.cfg.Kube.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if current.UID != pod.UID {
			return nil
		}
		now := metav1.Now()
		current.Status.Phase = corev1.PodRunning
		if current.Status.StartTime == nil {
			current.Status.StartTime = &sb.started
		}
		current.Status.ContainerStatuses = want
		readyStatus := corev1.ConditionFalse
		if allReady {
			readyStatus = corev1.ConditionTrue
		}
		for typ, status := range map[corev1.PodConditionType]corev1.ConditionStatus{
			corev1.PodScheduled:              corev1.ConditionTrue,
			corev1.PodReadyToStartContainers: corev1.ConditionTrue,
			corev1.PodInitialized:            corev1.ConditionTrue,
			corev1.ContainersReady:           readyStatus,
			corev1.PodReady:                  readyStatus,
		} {
			setCondition(&current.Status, typ, status, now)
		}
		_, err = r.cfg.Kube.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, current, metav1.UpdateOptions{})
		if err == nil {
			r.log.Printf("pod %s/%s: Running, ready %t", pod.Namespace, pod.Name, allReady)
		}
		return err
	})
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func sameContainerStatuses(have, want []corev1.ContainerStatus) bool {
	return slices.EqualFunc(have, want, func(a, b corev1.ContainerStatus) bool {
		return a.Name == b.Name && a.Ready == b.Ready && a.RestartCount == b.RestartCount &&
			(a.State.Running != nil) == (b.State.Running != nil)
	})
}

func setCondition(status *corev1.PodStatus, typ corev1.PodConditionType, value corev1.ConditionStatus, now metav1.Time) {
	for i := range status.Conditions {
		c := &status.Conditions[i]
		if c.Type == typ {
			if c.Status != value {
				c.Status, c.LastTransitionTime, c.Reason, c.Message = value, now, "", ""
			}
			return
		}
	}
	status.Conditions = append(status.Conditions, corev1.PodCondition{Type: typ, Status: value, LastTransitionTime: now})
}

// stopSandbox stops a sandbox's containers (SIGTERM, SIGKILL after the grace period), then its
// pause process, which takes the network namespace and both ends of the veth with it, deletes the
// neighbour entry of its address on the bridge (the address may soon belong to another Pod) and
// removes its directory.
func (r *Runner) stopSandbox(sb *sandbox) {
	sb.cancel()
	r.mu.Lock()
	var running []*containerState
	for _, cs := range sb.containers {
		if cs.cmd != nil && !isClosed(cs.done) {
			running = append(running, cs)
			_ = cs.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	r.mu.Unlock()
	for _, cs := range running {
		select {
		case <-cs.done:
		case <-time.After(stopGrace):
			_ = cs.cmd.Process.Kill()
			<-cs.done
		}
	}
	sb.probes.Wait()
	if sb.pause != nil && sb.pause.Process != nil {
		_ = sb.pause.Process.Kill()
		if sb.pauseDone != nil {
			<-sb.pauseDone
		}
	}
	// The namespace is freed asynchronously once its last process is gone; the veth goes with it.
	for deadline := time.Now().Add(5 * time.Second); linkExists(sb.hostVeth) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if linkExists(sb.hostVeth) {
		if err := ip("link", "del", sb.hostVeth); err != nil {
			r.log.Printf("pod %s/%s: %v", sb.namespace, sb.name, err)
		}
	}
	if sb.ip != "" {
		_ = ip("neigh", "del", sb.ip, "dev", r.cfg.Bridge) // fails when there is no entry
	}
	if err := os.RemoveAll(sb.dir); err != nil {
		r.log.Printf("pod %s/%s: %v", sb.namespace, sb.name, err)
	}
	r.log.Printf("pod %s/%s: stopped", sb.namespace, sb.name)
}

// hostVeth names the host end of a Pod's veth pair.
func hostVeth(uid types.UID) string {
	return "pcv" + strings.ReplaceAll(string(uid), "-", "")[:8]
}

// sandboxesIn lists the Pods of a namespace that have a sandbox.
func (r *Runner) sandboxesIn(namespace string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var names []string
	for _, sb := range r.pods {
		if sb.namespace == namespace {
			names = append(names, sb.name)
		}
	}
	return names
}

// stopAll stops every sandbox, at the end of the run.
func (r *Runner) stopAll() {
	r.mu.Lock()
	all := make([]*sandbox, 0, len(r.pods))
	for uid, sb := range r.pods {
		all = append(all, sb)
		delete(r.pods, uid)
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, sb := range all {
		wg.Go(func() { r.stopSandbox(sb) })
	}
	wg.Wait()
}

// leftovers lists the Pod veths and the pause and echo-basic processes still present.
func (r *Runner) leftovers() []string {
	var found []string
	links, _ := os.ReadDir("/sys/class/net")
	for _, l := range links {
		if strings.HasPrefix(l.Name(), "pcv") {
			found = append(found, "veth "+l.Name())
		}
	}
	procs, _ := os.ReadDir("/proc")
	self := os.Getpid()
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", p.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(stat)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		fields := strings.Fields(s[end+1:])
		comm := s[open+1 : end]
		if len(fields) > 1 && fields[1] == strconv.Itoa(self) && fields[0] != "Z" && (comm == "sleep" || comm == "echo-basic" || comm == "nsenter") {
			found = append(found, fmt.Sprintf("process %s (pid %d)", comm, pid))
		}
	}
	return found
}

func linkExists(name string) bool {
	_, err := os.Stat(filepath.Join("/sys/class/net", name))
	return err == nil
}

func isClosed(ch chan struct{}) bool {
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// tail returns the end of a file.
func tail(path string, maxBytes int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	defer func() { _ = f.Close() }()
	if info, err := f.Stat(); err == nil && info.Size() > maxBytes {
		_, _ = f.Seek(info.Size()-maxBytes, io.SeekStart)
	}
	data, err := io.ReadAll(f)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Sprintf("(%v)", err)
	}
	return string(data)
}
