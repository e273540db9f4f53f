package e2e

// TCP services (issue 12): entries of a tcp-services ConfigMap become TCP listeners of HAProxy's
// whose endpoints move without a reload; bad entries and UDP entries get Warning Events on the
// ConfigMap and the other entries keep working.

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

func createConfigMap(t *testing.T, ns, name string, data map[string]string) {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}
	if _, err := framework.Kube().CoreV1().ConfigMaps(ns).Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating ConfigMap %s/%s: %v", ns, name, err)
	}
}

// waitTCP polls addr until the echo named want greets and echoes, or fails after timeout.
func waitTCP(t *testing.T, addr, want string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	var lastErr error
	for time.Since(start) < timeout {
		last, lastErr = framework.TCPGreeting(addr, "ping "+want+"\n")
		if lastErr == nil && last == want {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: %s did not answer within %s (last answer %q, error %v)", addr, want, timeout, last, lastErr)
	return 0
}

func TestTCPServices(t *testing.T) {
	t.Parallel()
	ns := framework.NewNamespace(t)
	framework.CreateIngressClass(t, ns, framework.ControllerName)
	port := framework.FreePort(t)
	c := framework.StartController(t, framework.ControllerOptions{Namespace: ns, ExtraArgs: []string{
		"--ingress.class=" + ns,
		"--tcp-services-configmap=" + ns + "/tcp-services",
		"--udp-services-configmap=" + ns + "/udp-services",
	}})
	a, b := framework.StartTCPEcho(t, "tcp-a"), framework.StartTCPEcho(t, "tcp-b")
	framework.EchoService(t, ns, "db", &a.Echo)
	createConfigMap(t, ns, "tcp-services", map[string]string{
		strconv.Itoa(port): ns + "/db:80",
		"not-a-port":       ns + "/db:80",
	})
	createConfigMap(t, ns, "udp-services", map[string]string{"53": ns + "/dns:53"})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	// Bytes both ways through HAProxy's TCP listener.
	d := waitTCP(t, addr, "tcp-a", 20*time.Second)
	t.Logf("TCP service answered %s after the ConfigMap was created", d)

	// The bad entry and the UDP entry are refused on their ConfigMaps, naming the entry.
	if ev := framework.WaitForEvent(t, ns, "ConfigMap", "tcp-services", "InvalidTCPService"); !strings.Contains(ev.Message, `"not-a-port"`) || ev.Type != corev1.EventTypeWarning {
		t.Errorf("InvalidTCPService Event %s %q, want a Warning naming the entry", ev.Type, ev.Message)
	}
	if ev := framework.WaitForEvent(t, ns, "ConfigMap", "udp-services", "UDPNotSupported"); !strings.Contains(ev.Message, `"53"`) {
		t.Errorf("UDPNotSupported Event %q, want it to name the entry", ev.Message)
	}

	// The endpoints move without a reload.
	time.Sleep(1500 * time.Millisecond) // let a reload for the new listener settle
	reloads, pid := c.ReloadCount(t), c.MasterPID(t)
	framework.SetEndpoints(t, ns, "db", &b.Echo)
	d = waitTCP(t, addr, "tcp-b", 5*time.Second)
	t.Logf("endpoint moved in %s", d)
	if got := c.ReloadCount(t); got != reloads {
		t.Errorf("the endpoint move reloaded haproxy: %d reloads, want %d", got, reloads)
	}
	if got := c.MasterPID(t); got != pid {
		t.Errorf("haproxy master changed from %d to %d", pid, got)
	}
}

// ingress-nginx's ":PROXY:PROXY": the listener decodes a PROXY header from the client and sends
// one to the backend, carrying the client's address from the first.
func TestTCPServicesProxyProtocol(t *testing.T) {
	t.Parallel()
	ns := framework.NewNamespace(t)
	framework.CreateIngressClass(t, ns, framework.ControllerName)
	port := framework.FreePort(t)
	framework.StartController(t, framework.ControllerOptions{Namespace: ns, ExtraArgs: []string{
		"--ingress.class=" + ns, "--tcp-services-configmap=" + ns + "/tcp-services",
	}})
	e := framework.StartTCPEcho(t, "tcp-proxy")
	framework.EchoService(t, ns, "db", &e.Echo)
	createConfigMap(t, ns, "tcp-services", map[string]string{strconv.Itoa(port): ns + "/db:80:PROXY:PROXY"})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
			_, _ = conn.Write([]byte("PROXY TCP4 203.0.113.9 127.0.0.1 40000 " + strconv.Itoa(port) + "\r\nhi\n"))
			buf := make([]byte, 64)
			n, _ := conn.Read(buf)
			conn.Close()
			if strings.HasPrefix(string(buf[:n]), "hello from tcp-proxy") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer through the PROXY listener on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	hs := e.ProxyHeaders()
	if len(hs) == 0 || !strings.HasPrefix(hs[len(hs)-1], "PROXY TCP4 203.0.113.9 ") {
		t.Errorf("backend got PROXY headers %q, want one from the client's address 203.0.113.9", hs)
	}
}
