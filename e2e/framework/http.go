package framework

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// RouteTimeout is how long ExpectRoute waits for the controller to converge.
const RouteTimeout = 20 * time.Second

// httpClient sends test requests: no proxy, no connection reuse, no redirects followed.
var httpClient = &http.Client{
	Timeout: 3 * time.Second,
	Transport: &http.Transport{
		Proxy:             nil,
		DisableKeepAlives: true,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Response is what a test request got back.
type Response struct {
	Status int
	Echo   string // the EchoNameHeader value: which echo answered, "" if none did
	Header http.Header
	Body   []byte
}

// EchoRequest decodes the body of an echo's answer.
func (r *Response) EchoRequest() (EchoRequest, error) {
	var req EchoRequest
	if err := json.Unmarshal(r.Body, &req); err != nil {
		return req, fmt.Errorf("decoding echo response %q: %w", r.Body, err)
	}
	return req, nil
}

// TryGetURL sends GET url with the given Host header ("" keeps the URL's host).
func TryGetURL(url, host string) (*Response, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("building request for %s: %w", url, err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sending GET %s (Host %s): %w", url, host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading response of GET %s (Host %s): %w", url, host, err)
	}
	return &Response{Status: resp.StatusCode, Echo: resp.Header.Get(EchoNameHeader), Header: resp.Header, Body: body}, nil
}

// TryGet sends GET path to the controller's HTTP port with the given Host header.
func TryGet(c *Controller, host, path string) (*Response, error) {
	return TryGetURL(c.HTTPURL+path, host)
}

// Get sends GET path to the controller's HTTP port with the given Host header, failing the test if
// no response comes back.
func Get(t testing.TB, c *Controller, host, path string) (status int, echoName string, body []byte) {
	t.Helper()
	resp, err := TryGet(c, host, path)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Status, resp.Echo, resp.Body
}

// ExpectRoute waits up to RouteTimeout until GET host+path through the controller answers
// wantStatus from echo wantEcho ("" for an answer from no echo, such as the default backend's 404).
func ExpectRoute(t testing.TB, c *Controller, host, path string, wantStatus int, wantEcho string) {
	t.Helper()
	Eventually(t, RouteTimeout, func() error {
		resp, err := TryGet(c, host, path)
		if err != nil {
			return err
		}
		if resp.Status != wantStatus || resp.Echo != wantEcho {
			return fmt.Errorf("GET %s%s: got status %d from echo %q, want %d from echo %q",
				host, path, resp.Status, resp.Echo, wantStatus, wantEcho)
		}
		return nil
	})
}

// Eventually calls condition every 50 ms until it returns nil, failing the test with the last
// error if that does not happen within timeout.
func Eventually(t testing.TB, timeout time.Duration, condition func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	for {
		err := condition()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not true after %s: %v", timeout, err)
		}
		<-ticker.C
	}
}
