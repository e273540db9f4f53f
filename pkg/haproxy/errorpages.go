package haproxy

import (
	"embed"
	"fmt"
	"slices"
	"strconv"

	parser "github.com/haproxytech/client-native/v5/config-parser"
	httpactions "github.com/haproxytech/client-native/v5/config-parser/parsers/http/actions"
	"github.com/haproxytech/client-native/v5/config-parser/types"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// Portcullis's error pages: complete HTTP responses in HAProxy's errorfile format, the same the
// image ships in /usr/share/portcullis/errors (a test holds the two copies together). When they
// are used, they are written into the configuration directory as errors/<status>.http.

//go:embed errorpages/*.http
var errorPages embed.FS

// ErrorPageDir is the directory of the error pages in the configuration directory.
const ErrorPageDir = "errors"

// ErrorPageFile is the file of the error page for status.
func ErrorPageFile(status int) string { return ErrorPageDir + "/" + strconv.Itoa(status) + ".http" }

// ErrorPageContent is Portcullis's error page for status, or nil.
func ErrorPageContent(status int) []byte {
	b, err := errorPages.ReadFile("errorpages/" + strconv.Itoa(status) + ".http")
	if err != nil {
		return nil
	}
	return b
}

// errorPagesDefaults makes the defaults section answer HAProxy's own errors with the pages.
func (r *renderer) errorPagesDefaults(def string, g model.Global) {
	if !g.ErrorPages {
		return
	}
	for _, s := range limits.ErrorPageStatuses() {
		r.insert(parser.Defaults, def, "errorfile", &types.ErrorFile{Code: strconv.Itoa(s), File: ErrorPageFile(s)})
	}
}

// interceptErrors replaces the server responses of the route's statuses by the pages.
func (r *renderer) interceptErrors(name string, p model.RoutePolicy) {
	for _, s := range p.InterceptErrors {
		r.insert(parser.Backends, name, "http-response", &httpactions.Return{Status: ptr(int64(s)),
			ContentFormat: "errorfile", Content: ErrorPageFile(s), Cond: "if", CondTest: fmt.Sprintf("{ status %d }", s)})
	}
}

// checkInterceptErrors checks the statuses of interceptErrors.
func checkInterceptErrors(where string, p model.RoutePolicy) []error {
	var errs []error
	for _, s := range p.InterceptErrors {
		if !slices.Contains(limits.ErrorPageStatuses(), s) {
			errs = append(errs, fmt.Errorf("%s: no error page for the status %d", where, s))
		}
	}
	return errs
}

// errorPageFiles adds the pages to the files when the configuration uses them.
func errorPageFiles(cfg model.Config, sections []Section, files Files) {
	if !cfg.Global.ErrorPages && !slices.ContainsFunc(sections, func(s Section) bool { return len(s.Route.InterceptErrors) > 0 }) {
		return
	}
	for _, s := range limits.ErrorPageStatuses() {
		files[ErrorPageFile(s)] = ErrorPageContent(s)
	}
}
