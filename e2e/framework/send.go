package framework

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// Request is a request to send through the controller with Send: any method, headers and
// timeout. Redirects are never followed and every request uses a fresh connection.
type Request struct {
	Method string // "" for GET
	Host   string // the Host header; "" keeps the controller's address
	Path   string // path and query, starting with "/"
	Header http.Header
	// Timeout bounds the whole exchange; 0 means 10 s.
	Timeout time.Duration
}

// sendTimeout is the default Request.Timeout.
const sendTimeout = 10 * time.Second

// Send sends r to the controller's HTTP port and returns what came back.
func Send(c *Controller, r Request) (*Response, error) {
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, c.HTTPURL+r.Path, nil)
	if err != nil {
		return nil, fmt.Errorf("building %s request for %s: %w", method, r.Path, err)
	}
	for name, values := range r.Header {
		req.Header[name] = append([]string(nil), values...)
	}
	if r.Host != "" {
		req.Host = r.Host
	}
	timeout := r.Timeout
	if timeout == 0 {
		timeout = sendTimeout
	}
	client := &http.Client{
		Timeout:       timeout,
		Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sending %s %s (Host %s): %w", method, r.Path, r.Host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading response of %s %s (Host %s): %w", method, r.Path, r.Host, err)
	}
	return &Response{Status: resp.StatusCode, Echo: resp.Header.Get(EchoNameHeader), Header: resp.Header, Body: body}, nil
}

// MustSend is Send that fails the test when no response comes back.
func MustSend(t testing.TB, c *Controller, r Request) *Response {
	t.Helper()
	resp, err := Send(c, r)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
