package haproxy_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// TestErrorPagesAreTheImages: the pages the renderer writes are those the image ships.
func TestErrorPagesAreTheImages(t *testing.T) {
	shipped, err := filepath.Glob("../../fs/usr/share/portcullis/errors/*.http")
	if err != nil || len(shipped) == 0 {
		t.Fatalf("the image's error pages: %v %v", shipped, err)
	}
	var statuses []int
	for _, f := range shipped {
		s, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(f), ".http"))
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, s)
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(haproxy.ErrorPageContent(s), want) {
			t.Errorf("the error page for %d differs from the image's %s", s, f)
		}
	}
	slices.Sort(statuses)
	if !slices.Equal(statuses, limits.ErrorPageStatuses()) {
		t.Errorf("the image ships pages for %v, limits.ErrorPageStatuses says %v", statuses, limits.ErrorPageStatuses())
	}
}

func TestRenderErrorPages(t *testing.T) {
	t.Run("error-pages portcullis: errorfiles in defaults, a 404 page for requests no route takes", func(t *testing.T) {
		c := validConfig()
		c.Global.ErrorPages = true
		files, err := haproxy.Render(c, testEnv)
		if err != nil {
			t.Fatal(err)
		}
		cfg := files[haproxy.ConfigFile]
		for _, s := range limits.ErrorPageStatuses() {
			line := "errorfile " + strconv.Itoa(s) + " " + haproxy.ErrorPageFile(s)
			if !slices.Contains(section(cfg, "defaults unnamed_defaults_1"), line) {
				t.Errorf("defaults lack %q", line)
			}
			if !bytes.Equal(files[haproxy.ErrorPageFile(s)], haproxy.ErrorPageContent(s)) {
				t.Errorf("file %s not written", haproxy.ErrorPageFile(s))
			}
		}
		compareLines(t, "backend "+haproxy.DefaultBackend, section(cfg, "backend "+haproxy.DefaultBackend),
			[]string{"mode http", "http-request deny deny_status 404"})
		haproxyCheck(t, files)
	})
	t.Run("by default no page is written", func(t *testing.T) {
		files, err := haproxy.Render(validConfig(), testEnv)
		if err != nil {
			t.Fatal(err)
		}
		for name := range files {
			if strings.HasPrefix(name, "errors/") {
				t.Errorf("file %s written", name)
			}
		}
	})
	t.Run("intercepted statuses answer with the pages", func(t *testing.T) {
		c := policyConfig(model.BackendPolicy{}, model.RoutePolicy{InterceptErrors: []int{404, 503}})
		files, err := haproxy.Render(c, testEnv)
		if err != nil {
			t.Fatal(err)
		}
		name := sectionName(t, c)
		compareLines(t, "backend "+name, section(files[haproxy.ConfigFile], "backend "+name), with([]string{"balance roundrobin",
			"http-response return status 404 errorfile errors/404.http if { status 404 }",
			"http-response return status 503 errorfile errors/503.http if { status 503 }",
		}, ""))
		if files[haproxy.ErrorPageFile(503)] == nil {
			t.Error("the pages are not written")
		}
		haproxyCheck(t, files)
	})
	t.Run("a status without a page is refused", func(t *testing.T) {
		_, err := haproxy.Render(policyConfig(model.BackendPolicy{}, model.RoutePolicy{InterceptErrors: []int{415}}), testEnv)
		if err == nil || !strings.Contains(err.Error(), "no error page") {
			t.Errorf("Render error = %v", err)
		}
	})
}
