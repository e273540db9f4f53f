// Package haproxy turns the desired-state model into HAProxy's files. Rendering is pure: the same
// model and environment always give the same bytes, so "nothing changed" is a byte comparison.
package haproxy

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	parser "github.com/haproxytech/client-native/v5/config-parser"
	"github.com/haproxytech/client-native/v5/config-parser/common"
	"github.com/haproxytech/client-native/v5/config-parser/options"
	"github.com/haproxytech/client-native/v5/config-parser/params"
	"github.com/haproxytech/client-native/v5/config-parser/parsers/actions"
	httpactions "github.com/haproxytech/client-native/v5/config-parser/parsers/http/actions"
	"github.com/haproxytech/client-native/v5/config-parser/types"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// File names inside the configuration directory. Map paths are relative: haproxy runs with the
// configuration directory as its working directory (-C), which keeps rendered files free of
// machine-specific paths.
const (
	ConfigFile     = "haproxy.cfg"
	ExactMapFile   = "maps/path-exact.map"
	PrefixMapFile  = "maps/path-prefix.map"
	RedirectMap    = "maps/tls-redirect.map"
	CertDir        = "certs"
	CrtList        = "certs/crt-list.txt"
	DefaultBackend = "portcullis_default"
	httpFrontend   = "http"
)

// Env is where the rendered configuration will live; it comes from the operator's flags.
type Env struct {
	// RuntimeDir holds the stats socket. It must be an absolute path.
	RuntimeDir string
}

// Files is a rendered configuration: file name (relative to the configuration directory) to
// content.
type Files map[string][]byte

// Equal reports whether two renderings have the same names and bytes.
func (f Files) Equal(o Files) bool {
	if len(f) != len(o) {
		return false
	}
	for name, b := range f {
		ob, ok := o[name]
		if !ok || !bytes.Equal(b, ob) {
			return false
		}
	}
	return true
}

// StatsSocket is the path of the runtime API socket for env.
func (e Env) StatsSocket() string { return filepath.Join(e.RuntimeDir, "admin.sock") }

// Render produces haproxy.cfg and the map files for cfg, with every backend's servers packed into
// freshly sized slots.
func Render(cfg model.Config, env Env) (Files, error) {
	return RenderLayout(cfg, FreshLayout(cfg), env)
}

// RenderLayout produces haproxy.cfg and the map files for cfg with the servers where layout puts
// them. It fails when a value would not be safe to write, which means a bug in the producer of
// cfg: translation validates user input first.
func RenderLayout(cfg model.Config, layout Layout, env Env) (Files, error) {
	if err := check(cfg, layout, env); err != nil {
		return nil, fmt.Errorf("rendering: %w", err)
	}
	// config-parser writes a package variable in New: one rendering at a time.
	parserMu.Lock()
	defer parserMu.Unlock()
	p, err := parser.New(options.String(base), options.NoNamedDefaultsFrom)
	if err != nil {
		return nil, fmt.Errorf("parsing base configuration: %w", err)
	}
	r := renderer{p: p}
	r.global(env)
	r.globalSettings(cfg.Global)
	r.defaults(cfg.Global)
	r.frontend(cfg)
	if cfg.Stats.Port != 0 {
		r.statsFrontend(cfg.Stats)
	}
	r.defaultBackend()
	for _, b := range cfg.Backends {
		r.userlist(b)
		r.backend(b, layout[b.Name])
	}
	if r.err != nil {
		return nil, fmt.Errorf("rendering: %w", r.err)
	}
	exact, prefix := mapFiles(cfg.Routes)
	files := Files{
		ConfigFile:    []byte(p.String()),
		ExactMapFile:  exact,
		PrefixMapFile: prefix,
	}
	for _, b := range cfg.Backends {
		policyFiles(b.Policy, files)
	}
	if cfg.HTTPS.Port != 0 {
		files[RedirectMap] = redirectMap(cfg.TLS.RedirectHosts)
		files[CrtList] = crtList(cfg.TLS.Certificates)
		files[certPath(cfg.TLS.Default)] = cfg.TLS.Default.PEM
		for _, c := range cfg.TLS.Certificates {
			files[certPath(c)] = c.PEM
			if c.ClientCA != nil {
				files[certPath(*c.ClientCA)] = c.ClientCA.PEM
			}
		}
	}
	return files, nil
}

func certPath(c model.Certificate) string { return CertDir + "/" + c.Name }

// alpn is offered on the HTTPS bind and for every certificate of the crt-list.
const alpn = "h2,http/1.1"

// crtList renders the certificate list: one line per certificate with its SNI filters.
func crtList(certs []model.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		fmt.Fprintf(&b, "%s\n", crtListLine(c))
	}
	return b.Bytes()
}

func crtListLine(c model.Certificate) string {
	opts := "alpn " + alpn
	if c.ClientCA != nil {
		verify := "required"
		if c.ClientOptional {
			verify = "optional"
		}
		opts += " ca-file " + certPath(*c.ClientCA) + " verify " + verify
	}
	return fmt.Sprintf("%s [%s] %s", certPath(c), opts, strings.Join(c.SNI, " "))
}

func redirectMap(hosts []string) []byte {
	var b bytes.Buffer
	for _, h := range hosts {
		fmt.Fprintf(&b, "%s 1\n", h)
	}
	return b.Bytes()
}

// base is the fixed part of every configuration. It holds no value from outside the program.
//
// master-worker exits when its current worker dies; the controller supervises the master and
// starts it again (config-parser cannot write the no-exit-on-failure argument anyway).
const base = `global
  master-worker
  stats timeout 2m
  hard-stop-after 30s

defaults
  mode http
  option idle-close-on-response
  timeout connect 5s
  timeout client 50s
  timeout server 50s
  timeout http-request 10s
  timeout http-keep-alive 60s
`

var parserMu sync.Mutex

type renderer struct {
	p   parser.Parser
	err error
}

func (r *renderer) set(section parser.Section, name, attr string, data common.ParserData) {
	if r.err != nil {
		return
	}
	if err := r.p.Set(section, name, attr, data); err != nil {
		r.err = fmt.Errorf("setting %s %s %s: %w", section, name, attr, err)
	}
}

func (r *renderer) insert(section parser.Section, name, attr string, data common.ParserData) {
	if r.err != nil {
		return
	}
	if err := r.p.Insert(section, name, attr, data); err != nil {
		r.err = fmt.Errorf("inserting %s %s %s: %w", section, name, attr, err)
	}
}

func (r *renderer) section(section parser.Section, name string) {
	if r.err != nil {
		return
	}
	if err := r.p.SectionsCreate(section, name); err != nil {
		r.err = fmt.Errorf("creating %s %s: %w", section, name, err)
	}
}

func (r *renderer) global(env Env) {
	r.set(parser.Global, parser.GlobalSectionName, "stats socket", types.Socket{
		Path: env.StatsSocket(),
		Params: []params.BindOption{
			&params.BindOptionValue{Name: "mode", Value: "600"},
			&params.BindOptionValue{Name: "level", Value: "admin"},
		},
	})
}

// The routing pipeline of the HTTP frontend. The backend is found with at most six map lookups,
// whatever the number of routes: exact then prefix, first for the request's host, then for its
// wildcard form ("*." + all but the first label), then for rules without a host. Map keys are
// host+path; hostless keys start with "/", which no host does.
func (r *renderer) frontend(cfg model.Config) {
	const fe = httpFrontend
	r.section(parser.Frontends, fe)
	r.set(parser.Frontends, fe, "mode", &types.StringC{Value: "http"})
	r.set(parser.Frontends, fe, "bind", types.Bind{
		Path:   netip.AddrPortFrom(cfg.HTTP.Address, cfg.HTTP.Port).String(),
		Params: []params.BindOption{&params.BindOptionValue{Name: "name", Value: "http"}},
	})
	setVar := func(name, expr, cond string) {
		a := &actions.SetVar{VarScope: "txn", VarName: name, Expr: common.Expression{Expr: strings.Fields(expr)}}
		if cond != "" {
			a.Cond, a.CondTest = "unless", cond
		}
		r.insert(parser.Frontends, fe, "http-request", a)
	}
	setVar("host", "req.hdr(host),field(1,:),lower", "")
	setVar("path", "path", "")
	// A slash in the host would let a Host header pose as a host+path key.
	r.insert(parser.Frontends, fe, "http-request", &httpactions.Deny{
		Status: ptr(int64(400)), Cond: "if", CondTest: "{ var(txn.host) -m sub / }",
	})
	setVar("hostpath", "var(txn.host),concat(,txn.path,)", "")
	setVar("wildrest", "var(txn.host),field(2,.,0)", "")
	// "*" stands for exactly one label: a host with an empty first label (".foo.com") has no
	// wildcard form.
	setVar("wildhost", "str(*.),concat(,txn.wildrest,)", "{ var(txn.host) -m beg . }")
	setVar("wildpath", "var(txn.wildhost),concat(,txn.path,)", "")
	if cfg.HTTPS.Port != 0 {
		r.httpsBind(cfg)
	}
	const unfound = "{ var(txn.backend) -m found }"
	for i, key := range []string{"txn.hostpath", "txn.wildpath", "txn.path"} {
		cond := unfound
		if i == 0 {
			cond = ""
		}
		setVar("backend", fmt.Sprintf("var(%s),map_str(%s)", key, ExactMapFile), cond)
		setVar("backend", fmt.Sprintf("var(%s),map_beg(%s)", key, PrefixMapFile), unfound)
	}
	r.insert(parser.Frontends, fe, "use_backend", types.UseBackend{
		Name: "%[var(txn.backend)]", Cond: "if", CondTest: unfound,
	})
	def := DefaultBackend
	if cfg.DefaultBackend != "" {
		def = cfg.DefaultBackend
	}
	r.set(parser.Frontends, fe, "default_backend", &types.StringC{Value: def})
	// Every answer names its server, as clients and the Ingress conformance suite expect, unless
	// the backend named itself; http-after-response also covers haproxy's own answers.
	r.insert(parser.Frontends, fe, "http-after-response", &httpactions.SetHeader{
		Name: "Server", Fmt: "portcullis", Cond: "unless", CondTest: "{ res.hdr(server) -m found }",
	})
}

// statsFrontend serves HAProxy's built-in Prometheus exporter at /metrics.
func (r *renderer) statsFrontend(b model.Bind) {
	const fe = "stats"
	r.section(parser.Frontends, fe)
	r.set(parser.Frontends, fe, "mode", &types.StringC{Value: "http"})
	r.set(parser.Frontends, fe, "bind", types.Bind{
		Path:   netip.AddrPortFrom(b.Address, b.Port).String(),
		Params: []params.BindOption{&params.BindOptionValue{Name: "name", Value: "stats"}},
	})
	r.insert(parser.Frontends, fe, "http-request", &actions.UseService{
		Name: "prometheus-exporter", Cond: "if", CondTest: "{ path /metrics }",
	})
	r.insert(parser.Frontends, fe, "http-request", &httpactions.Return{
		Status: ptr(int64(404)), ContentType: "text/plain", ContentFormat: "string", Content: `"see /metrics"`,
	})
}

// httpsBind adds the TLS listener and the redirect of TLS hosts from HTTP to HTTPS.
func (r *renderer) httpsBind(cfg model.Config) {
	const fe = httpFrontend
	r.insert(parser.Frontends, fe, "bind", types.Bind{
		Path: netip.AddrPortFrom(cfg.HTTPS.Address, cfg.HTTPS.Port).String(),
		Params: []params.BindOption{
			&params.BindOptionValue{Name: "name", Value: "https"},
			&params.BindOptionWord{Name: "ssl"},
			&params.BindOptionValue{Name: "crt", Value: certPath(cfg.TLS.Default)},
			&params.BindOptionValue{Name: "crt-list", Value: CrtList},
			&params.BindOptionValue{Name: "alpn", Value: alpn},
		},
	})
	port := ""
	if p := cfg.TLS.RedirectPort; p != 0 && p != 443 {
		port = ":" + strconv.Itoa(int(p))
	}
	code := cfg.TLS.RedirectCode
	if code == 0 {
		code = 302
	}
	r.insert(parser.Frontends, fe, "http-request", &httpactions.Redirect{
		Type:  "location",
		Value: "https://%[var(txn.host)]" + port + "%[capture.req.uri]",
		Code:  strconv.Itoa(code),
		Cond:  "if",
		CondTest: fmt.Sprintf("!{ ssl_fc } { var(txn.host),map_str(%[1]s) -m found } || !{ ssl_fc } { var(txn.wildhost),map_str(%[1]s) -m found }",
			RedirectMap),
	})
}

func (r *renderer) defaultBackend() {
	r.section(parser.Backends, DefaultBackend)
	r.set(parser.Backends, DefaultBackend, "mode", &types.StringC{Value: "http"})
	r.insert(parser.Backends, DefaultBackend, "http-request", &httpactions.Return{
		Status: ptr(int64(404)), ContentType: "text/plain", ContentFormat: "string",
		Content: `"404 page not found"`,
	})
}

// unusedSlotAddress is the address of a slot that holds no endpoint; such slots are disabled.
const unusedSlotAddress = "127.0.0.1:1"

// backend renders a backend with its policy and its server slots. Every slot carries the
// policy's server options, so that an endpoint placed in a slot through the runtime API gets them.
func (r *renderer) backend(b model.Backend, slots []Slot) {
	name := b.Name
	r.section(parser.Backends, name)
	r.set(parser.Backends, name, "mode", &types.StringC{Value: "http"})
	r.backendPolicy(name, b.Policy)
	for i, sl := range slots {
		srv := types.Server{Name: slotName(i), Address: unusedSlotAddress}
		switch {
		case !sl.Used:
			srv.Params = []params.ServerOption{&params.ServerOptionWord{Name: "disabled"}}
		case sl.Server.Draining:
			srv.Address = netip.AddrPortFrom(sl.Server.Address, sl.Server.Port).String()
			srv.Params = []params.ServerOption{&params.ServerOptionValue{Name: "weight", Value: "0"}}
		default:
			srv.Address = netip.AddrPortFrom(sl.Server.Address, sl.Server.Port).String()
			if w := sl.Server.EffectiveWeight(); w != 1 {
				srv.Params = []params.ServerOption{&params.ServerOptionValue{Name: "weight", Value: strconv.Itoa(w)}}
			}
		}
		srv.Params = append(srv.Params, serverOptions(b.Policy, i)...)
		r.insert(parser.Backends, name, "server", srv)
	}
}

// mapFiles renders the two route maps. Exact routes, and the bare form of each prefix ("/foo" for
// Prefix "/foo"), go to the exact map; each prefix with a trailing slash goes to the prefix map,
// which HAProxy searches for the longest match. Together they give Kubernetes' element-wise prefix
// semantics: "/foo" matches "/foo" and "/foo/bar" but not "/foobar". An Exact route wins over the
// bare form of an equal Prefix.
func mapFiles(routes []model.Route) (exact, prefix []byte) {
	exactKeys := map[string]string{}
	var exactOrder []string
	addExact := func(key, backend string, override bool) {
		if _, seen := exactKeys[key]; seen && !override {
			return
		}
		if _, seen := exactKeys[key]; !seen {
			exactOrder = append(exactOrder, key)
		}
		exactKeys[key] = backend
	}
	var pb bytes.Buffer
	for _, rt := range routes {
		key := rt.Host + rt.Path
		if rt.Match == model.MatchExact {
			addExact(key, rt.Backend, true)
			continue
		}
		if rt.Path != "/" {
			addExact(key, rt.Backend, false)
			key += "/"
		}
		fmt.Fprintf(&pb, "%s %s\n", key, rt.Backend)
	}
	var eb bytes.Buffer
	for _, k := range exactOrder {
		fmt.Fprintf(&eb, "%s %s\n", k, exactKeys[k])
	}
	return eb.Bytes(), pb.Bytes()
}

func ptr[T any](v T) *T { return &v }

// check re-validates every value that reaches a file, so that a bug upstream cannot become a
// configuration injection.
func check(cfg model.Config, layout Layout, env Env) error {
	var errs []error
	if !filepath.IsAbs(env.RuntimeDir) || strings.ContainsAny(env.RuntimeDir, " \t\r\n#\"'\\") {
		errs = append(errs, fmt.Errorf("runtime directory %q must be an absolute path without spaces or quotes", env.RuntimeDir))
	}
	if !cfg.HTTP.Address.IsValid() || cfg.HTTP.Address.Zone() != "" || cfg.HTTP.Port == 0 {
		errs = append(errs, fmt.Errorf("invalid HTTP bind %s:%d", cfg.HTTP.Address, cfg.HTTP.Port))
	}
	if cfg.Stats.Port != 0 && (!cfg.Stats.Address.IsValid() || cfg.Stats.Address.Zone() != "" || cfg.Stats.Port == cfg.HTTP.Port || cfg.Stats.Port == cfg.HTTPS.Port) {
		errs = append(errs, fmt.Errorf("invalid stats bind %s:%d", cfg.Stats.Address, cfg.Stats.Port))
	}
	if cfg.HTTPS.Port != 0 {
		if !cfg.HTTPS.Address.IsValid() || cfg.HTTPS.Address.Zone() != "" || cfg.HTTPS.Port == cfg.HTTP.Port {
			errs = append(errs, fmt.Errorf("invalid HTTPS bind %s:%d", cfg.HTTPS.Address, cfg.HTTPS.Port))
		}
		all := []model.Certificate{cfg.TLS.Default}
		for _, c := range cfg.TLS.Certificates {
			all = append(all, c)
			if c.ClientCA != nil {
				all = append(all, *c.ClientCA)
			}
		}
		for _, c := range all {
			if !model.ValidCertName(c.Name) || c.Name != model.CertName(c.PEM) {
				errs = append(errs, fmt.Errorf("certificate name %q is not the hash of its content", c.Name))
			}
			for _, h := range c.SNI {
				if h == "" || !model.ValidMapHost(h) {
					errs = append(errs, fmt.Errorf("certificate %s: SNI %q is not a host name", c.Name, h))
				}
			}
		}
		for _, h := range cfg.TLS.RedirectHosts {
			if h == "" || !model.ValidMapHost(h) {
				errs = append(errs, fmt.Errorf("redirect host %q is not a host name", h))
			}
		}
		if c := cfg.TLS.RedirectCode; c != 0 && !limits.IsRedirectStatus(c) {
			errs = append(errs, fmt.Errorf("redirect code %d is not a redirect", c))
		}
	}
	errs = append(errs, checkGlobal(cfg.Global)...)
	names := map[string]bool{DefaultBackend: true}
	for _, b := range cfg.Backends {
		if !model.ValidBackendName(b.Name) || names[b.Name] {
			errs = append(errs, fmt.Errorf("invalid or duplicate backend name %q", b.Name))
		}
		names[b.Name] = true
		errs = append(errs, checkPolicy(b.Name, b.Policy)...)
		used := 0
		for _, sl := range layout[b.Name] {
			if !sl.Used {
				continue
			}
			used++
			if !sl.Server.Address.IsValid() || sl.Server.Address.Zone() != "" || sl.Server.Port == 0 {
				errs = append(errs, fmt.Errorf("backend %s: invalid server %s:%d", b.Name, sl.Server.Address, sl.Server.Port))
			}
		}
		if used != len(b.Servers) {
			errs = append(errs, fmt.Errorf("backend %s: layout holds %d servers, configuration %d", b.Name, used, len(b.Servers)))
		}
	}
	if cfg.DefaultBackend != "" && !names[cfg.DefaultBackend] {
		errs = append(errs, fmt.Errorf("default backend %q is not defined", cfg.DefaultBackend))
	}
	for _, rt := range cfg.Routes {
		if !names[rt.Backend] {
			errs = append(errs, fmt.Errorf("route %s%s: backend %q is not defined", rt.Host, rt.Path, rt.Backend))
		}
		if !model.ValidMapHost(rt.Host) || !model.ValidMapPath(rt.Path) {
			errs = append(errs, fmt.Errorf("route %q %q: host or path is not safe for a map file", rt.Host, rt.Path))
		}
	}
	return errors.Join(errs...)
}
