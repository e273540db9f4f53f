package framework

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// minServingWindow is the smallest number of consecutive answers AwaitEchoes judges a set of
// echoes by.
const minServingWindow = 20

// Serving is what AwaitEchoes observed while traffic converged.
type Serving struct {
	// Converged is when the first request of the window that proved the new set was sent.
	Converged time.Time
	// Requests counts every request sent, Stray those answered 200 by an echo outside the set
	// (expected while the change propagates), Failed those that got no 200 from an echo.
	Requests, Stray, Failed int
}

// AwaitEchoes sends GET host+path through the controller, one request at a time on fresh
// connections, until a window of consecutive answers (20, or 3 per echo if more) all came with
// status 200 from the named echoes, and each of them answered at least once in that window. It
// fails the test after RouteTimeout. The window must be large enough for the balancing algorithm
// to reach every server, which holds for roundrobin.
func AwaitEchoes(t testing.TB, c *Controller, host, path string, want ...string) Serving {
	t.Helper()
	wanted := map[string]bool{}
	for _, name := range want {
		wanted[name] = true
	}
	window := max(minServingWindow, 3*len(wanted))
	type answer struct {
		sent time.Time
		echo string // "" when the answer is not a 200 from a wanted echo
	}
	var s Serving
	Eventually(t, RouteTimeout, func() error {
		var recent []answer
		var last string
		for range 10 * window {
			sent := time.Now()
			resp, err := TryGet(c, host, path)
			s.Requests++
			a := answer{sent: sent}
			switch {
			case err != nil:
				s.Failed++
				last = err.Error()
			case resp.Status != http.StatusOK || resp.Echo == "":
				s.Failed++
				last = fmt.Sprintf("status %d from echo %q", resp.Status, resp.Echo)
			case !wanted[resp.Echo]:
				s.Stray++
				last = fmt.Sprintf("answer from %q", resp.Echo)
			default:
				a.echo = resp.Echo
			}
			recent = append(recent, a)
			if len(recent) > window {
				recent = recent[1:]
			}
			if len(recent) < window {
				continue
			}
			seen := map[string]int{}
			for _, r := range recent {
				seen[r.echo]++
			}
			if seen[""] == 0 && len(seen) == len(wanted) {
				s.Converged = recent[0].sent
				return nil
			}
		}
		return fmt.Errorf("GET %s%s: no window of %d answers came only from, and from all of, %s; last unwanted answer: %s",
			host, path, window, strings.Join(slices.Sorted(maps.Keys(wanted)), ","), last)
	})
	return s
}

// Consistently calls condition every 50 ms for d and fails the test as soon as it returns an
// error. It asserts that something does not happen, such as a late reload.
func Consistently(t testing.TB, d time.Duration, condition func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	for {
		if err := condition(); err != nil {
			t.Fatalf("stopped being true within %s: %v", d, err)
		}
		if time.Now().After(deadline) {
			return
		}
		<-ticker.C
	}
}
