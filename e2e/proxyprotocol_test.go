package e2e

// PROXY protocol from a load balancer (issue 12): connections from the proxy-protocol networks
// carry a header whose client address counts for allow lists and X-Forwarded-For; a header from
// elsewhere is not read (the connection is served as HTTP, and the header makes it a bad
// request); plain connections from elsewhere are served as they are.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// rawResponse is a status and a body.
type rawResponse struct {
	StatusCode int
	Body       []byte
}

// rawGet sends one HTTP/1.1 GET for host from local (an address of this network namespace), with
// a PROXY v1 header first when client is not empty, and returns the response, read whole.
func rawGet(c *framework.Controller, local, client, host string) (*rawResponse, error) {
	d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	conn, err := d.Dial("tcp", "127.0.0.1:"+strconv.Itoa(c.HTTPPort))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	if client != "" {
		if _, err := fmt.Fprintf(conn, "PROXY TCP4 %s 127.0.0.1 40000 %d\r\n", client, c.HTTPPort); err != nil {
			return nil, err
		}
	}
	if _, err := fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return &rawResponse{StatusCode: resp.StatusCode, Body: body}, err
}

func TestProxyProtocol(t *testing.T) {
	t.Parallel()
	const lb, client = "198.18.250.1", "203.0.113.7"
	ns := framework.NewNamespace(t)
	framework.CreateIngressClass(t, ns, framework.ControllerName)
	framework.CreateConfigMap(t, framework.ConfigMap(ns, "portcullis", map[string]string{"proxy-protocol": "198.18.250.0/24"}))
	c := framework.StartController(t, framework.ControllerOptions{Namespace: ns, ExtraArgs: []string{
		"--ingress.class=" + ns, "--configmap=" + ns + "/portcullis",
	}})
	echo := framework.StartEcho(t, "web")
	framework.EchoService(t, ns, "web", echo)
	allowed := framework.Ingress(ns, "allowed", ns, framework.Rule("allowed.example", framework.Prefix("/", "web")))
	allowed.Annotations = map[string]string{"portcullis.io/allow-list": "203.0.113.0/24"}
	framework.CreateIngress(t, allowed)
	framework.CreateIngress(t, framework.Ingress(ns, "open", ns, framework.Rule("open.example", framework.Prefix("/", "web"))))

	// Through the load balancer: the client's own address passes the allow list and is the
	// X-Forwarded-For.
	framework.Eventually(t, 20*time.Second, func() error {
		r, err := rawGet(c, lb, client, "allowed.example")
		if err != nil {
			return err
		}
		if r.StatusCode != http.StatusOK {
			return fmt.Errorf("through the load balancer: status %d, want 200", r.StatusCode)
		}
		return nil
	})
	r, err := rawGet(c, lb, client, "open.example")
	if err != nil {
		t.Fatal(err)
	}
	got, err := echoRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	if xff := got.Headers["X-Forwarded-For"]; xff != client {
		t.Errorf("X-Forwarded-For through the load balancer is %q, want the client's %s", xff, client)
	}

	// A header from a source that is not a load balancer is not read: the request is bad.
	if r, err := rawGet(c, "127.0.0.1", client, "allowed.example"); err != nil || r.StatusCode != http.StatusBadRequest {
		t.Errorf("a PROXY header from 127.0.0.1: %v %v, want 400 (the header is not read)", statusOf(r), err)
	}
	// Plain connections from elsewhere are served with their own address: the allow list
	// refuses it, the open host answers with it as X-Forwarded-For.
	if r, err := rawGet(c, "127.0.0.1", "", "allowed.example"); err != nil || r.StatusCode != http.StatusForbidden {
		t.Errorf("a plain request from 127.0.0.1 to the allow-listed host: %v %v, want 403", statusOf(r), err)
	}
	r, err = rawGet(c, "127.0.0.1", "", "open.example")
	if err != nil {
		t.Fatal(err)
	}
	if body, err := echoRequest(r); err != nil {
		t.Fatal(err)
	} else if xff := body.Headers["X-Forwarded-For"]; !strings.HasPrefix(xff, "127.0.0.1") {
		t.Errorf("X-Forwarded-For of a plain request is %q, want 127.0.0.1", xff)
	}
	// Without a header, a load balancer's connection is refused: its header is required.
	if r, err := rawGet(c, lb, "", "open.example"); err == nil && r.StatusCode == http.StatusOK {
		t.Errorf("a connection from the load balancer's network without a header was served")
	}
}

// echoRequest reads what an echo received from its answer.
func echoRequest(r *rawResponse) (framework.EchoRequest, error) {
	var er framework.EchoRequest
	if err := json.Unmarshal(r.Body, &er); err != nil {
		return er, fmt.Errorf("status %d: decoding the echo's answer: %w", r.StatusCode, err)
	}
	return er, nil
}

func statusOf(r *rawResponse) string {
	if r == nil {
		return "no response"
	}
	return strconv.Itoa(r.StatusCode)
}
