package framework

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// EchoPort is the port every echo backend listens on; each echo has its own IP address.
const EchoPort = 8080

// EchoNameHeader is the response header carrying the name of the echo that answered.
const EchoNameHeader = "X-Echo-Name"

// EchoRequest is the JSON body an echo backend answers with: what it received.
type EchoRequest struct {
	Name    string            `json:"name"`
	Host    string            `json:"host"`
	Path    string            `json:"path"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers"` // values of repeated headers joined with ", "
}

// Echo is an HTTP backend on its own address in 198.18.0.0/16 that answers every request with
// 200, an EchoNameHeader and an EchoRequest body.
type Echo struct {
	Name string
	IP   string
	Port int
}

// echoIPs counts the backend addresses handed out in this test binary.
var echoIPs atomic.Uint32

// nextEchoIP returns a fresh address: 198.18.1.1, 198.18.1.2, ... 198.18.1.250, 198.18.2.1, ...
func nextEchoIP() string {
	n := echoIPs.Add(1) - 1
	return fmt.Sprintf("198.18.%d.%d", 1+n/250, 1+n%250)
}

// StartEcho starts an echo backend named name on a fresh address; it is closed when the test ends.
func StartEcho(t testing.TB, name string) *Echo {
	t.Helper()
	e := &Echo{Name: name, IP: nextEchoIP(), Port: EchoPort}
	l, err := net.Listen("tcp", e.Addr())
	if err != nil {
		t.Fatalf("starting echo %s: %v", name, err)
	}
	server := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := server.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("echo %s: %v", name, err)
		}
	}()
	t.Cleanup(func() { server.Close() })
	return e
}

// Addr returns the echo's host:port.
func (e *Echo) Addr() string { return net.JoinHostPort(e.IP, strconv.Itoa(e.Port)) }

// URL returns the echo's base URL, http://ip:port.
func (e *Echo) URL() string { return "http://" + e.Addr() }

// ServeHTTP answers with what was received.
func (e *Echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	headers := make(map[string]string, len(r.Header))
	for name, values := range r.Header {
		headers[name] = strings.Join(values, ", ")
	}
	body, err := json.Marshal(EchoRequest{
		Name:    e.Name,
		Host:    r.Host,
		Path:    r.URL.Path,
		Method:  r.Method,
		Headers: headers,
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set(EchoNameHeader, e.Name)
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}
