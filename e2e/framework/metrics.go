package framework

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Metrics is one scrape of the controller's /metrics in the Prometheus text format: series, as
// printed ("name" or `name{label="value",...}` with labels sorted by name), to value.
type Metrics map[string]float64

// ReadMetrics scrapes c.ControllerURL/metrics once.
func ReadMetrics(c *Controller) (Metrics, error) {
	resp, err := TryGetURL(c.ControllerURL+"/metrics", "")
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: status %d: %s", resp.Status, resp.Body)
	}
	return parseMetrics(resp.Body)
}

// Metrics scrapes the controller's /metrics, failing the test on error.
func (c *Controller) Metrics(t testing.TB) Metrics {
	t.Helper()
	m, err := ReadMetrics(c)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Value returns the value of the series name{labels}, labels being name, value pairs; a series
// that is absent counts as 0, as an unincremented counter would.
func (m Metrics) Value(name string, labels ...string) float64 {
	return m[Series(name, labels...)]
}

// Sum adds the values of every series of the metric name, whatever their labels.
func (m Metrics) Sum(name string) float64 {
	var sum float64
	for series, v := range m {
		if series == name || strings.HasPrefix(series, name+"{") {
			sum += v
		}
	}
	return sum
}

// Series formats a series key the way the Prometheus text format prints it: labels sorted by name.
// labels are name, value pairs.
func Series(name string, labels ...string) string {
	if len(labels) == 0 {
		return name
	}
	if len(labels)%2 != 0 {
		panic("framework.Series: labels must be name, value pairs")
	}
	pairs := make([]string, 0, len(labels)/2)
	for i := 0; i < len(labels); i += 2 {
		pairs = append(pairs, labels[i]+"="+strconv.Quote(labels[i+1]))
	}
	slices.Sort(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

// parseMetrics reads the Prometheus text exposition format, as written by client_golang: comment
// lines, then "series value" lines (label values with spaces are not expected here).
func parseMetrics(body []byte) (Metrics, error) {
	m := Metrics{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			return nil, fmt.Errorf("parsing metrics line %q: no value", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("parsing metrics line %q: %w", line, err)
		}
		m[strings.TrimSpace(line[:i])] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading metrics: %w", err)
	}
	return m, nil
}
