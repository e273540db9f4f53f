package framework

import (
	"fmt"
	"io"
	"net/http"
)

// Reply is a Response together with the protocol version the proxy answered with.
type Reply struct {
	Response
	Proto string // "HTTP/1.1"
}

// TrySend sends a request with the given method and Host header ("" keeps the controller's
// address as the host) for path to the controller's HTTP port, with no body, and returns what came
// back.
func TrySend(c *Controller, method, host, path string) (*Reply, error) {
	req, err := http.NewRequest(method, c.HTTPURL+path, nil)
	if err != nil {
		return nil, fmt.Errorf("building %s request for %s: %w", method, path, err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sending %s %s (Host %s): %w", method, path, host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading response of %s %s (Host %s): %w", method, path, host, err)
	}
	return &Reply{
		Response: Response{Status: resp.StatusCode, Echo: resp.Header.Get(EchoNameHeader), Header: resp.Header, Body: body},
		Proto:    resp.Proto,
	}, nil
}
