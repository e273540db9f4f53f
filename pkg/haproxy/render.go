// Package haproxy turns the desired-state model into HAProxy's files. Rendering is pure: the same
// model and environment always give the same bytes, so "nothing changed" is a byte comparison.
package haproxy

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	parser "github.com/haproxytech/client-native/v5/config-parser"
	"github.com/haproxytech/client-native/v5/config-parser/common"
	"github.com/haproxytech/client-native/v5/config-parser/options"
	"github.com/haproxytech/client-native/v5/config-parser/params"
	"github.com/haproxytech/client-native/v5/config-parser/parsers/actions"
	httpactions "github.com/haproxytech/client-native/v5/config-parser/parsers/http/actions"
	tcpactions "github.com/haproxytech/client-native/v5/config-parser/parsers/tcp/actions"
	tcptypes "github.com/haproxytech/client-native/v5/config-parser/parsers/tcp/types"
	"github.com/haproxytech/client-native/v5/config-parser/types"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// File names inside the configuration directory. Map paths are relative: haproxy runs with the
// configuration directory as its working directory (-C), which keeps rendered files free of
// machine-specific paths.
const (
	ConfigFile    = "haproxy.cfg"
	ExactMapFile  = "maps/path-exact.map"
	PrefixMapFile = "maps/path-prefix.map"
	RedirectMap   = "maps/https-redirect.map"
	// ClientAuthMap maps "<listener>/<SNI name>", for every SNI name of every HTTPS
	// listener's crt-list, to the client-certificate settings of its line (see
	// clientAuthProfile). Routes with a client-certificate check look the connection's name up
	// in it; it exists when one does.
	ClientAuthMap  = "maps/client-auth.map"
	CertDir        = "certs"
	DefaultBackend = "portcullis_default"
	httpFrontend   = "http"
	// tcpFrontendPrefix starts the name of each TCP listener's frontend; the HTTP frontend's
	// name has no underscore, so they cannot clash.
	tcpFrontendPrefix = "tcp_"
)

// CrtList is the certificate list file of an HTTPS listener.
func CrtList(listener string) string { return CertDir + "/" + listener + ".crt-list" }

// sniPerLine is how many SNI names one crt-list line carries: HAProxy refuses lines with too many
// words, so a certificate for many hosts takes several lines.
const sniPerLine = 256

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

// Render produces haproxy.cfg and the map files for cfg, with every section's servers packed into
// freshly sized slots.
func Render(cfg model.Config, env Env) (Files, error) {
	return RenderLayout(cfg, FreshLayout(cfg), env)
}

// RenderLayout produces haproxy.cfg and the map files for cfg with the servers where layout puts
// them. It fails when a value would not be safe to write, which means a bug in the producer of
// cfg: sources validate user input first, and Prune leaves out what still fails these checks.
func RenderLayout(cfg model.Config, layout Layout, env Env) (Files, error) {
	sections, httpRoutes, tcpRoutes := Sections(cfg)
	if err := check(cfg, sections, httpRoutes, tcpRoutes, layout, env); err != nil {
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
	if slices.ContainsFunc(cfg.Listeners, func(l model.Listener) bool { return !resumable(l) }) {
		// The session cache serves every bind; see resumable.
		r.set(parser.Global, parser.GlobalSectionName, "tune.ssl.cachesize", &types.Int64C{Value: 0})
	}
	r.defaults(cfg.Global)
	for _, shape := range frontendShapes(cfg, sections, httpRoutes) {
		r.frontend(cfg, shape, sections, env)
	}
	for _, l := range cfg.Listeners {
		if l.Protocol == model.TCP || passthrough(cfg, l.Name) {
			r.tcpFrontend(cfg, l, tcpRoutes, env)
		}
	}
	if cfg.Stats.Port != 0 {
		r.statsFrontend(cfg.Stats)
	}
	if cfg.Monitor.Port != 0 {
		r.monitor(cfg.Monitor, cfg.Global)
	}
	r.defaultBackend(cfg.Global.ErrorPages)
	for _, s := range sections {
		r.userlist(s)
	}
	for i := range cfg.Spares.Count {
		r.backend(spareSection(i, cfg.Spares), make([]Slot, cfg.Spares.Slots))
	}
	if r.err != nil {
		return nil, fmt.Errorf("rendering: %w", r.err)
	}
	config, err := renderBackends(p.String(), sections, layout)
	if err != nil {
		return nil, fmt.Errorf("rendering: %w", err)
	}
	files := Files{ConfigFile: config}
	for name, content := range routeMaps(cfg, httpRoutes) {
		files[name] = content
	}
	for _, s := range sections {
		policyFiles(s.Policy, files)
	}
	policyFiles(cfg.Spares.Policy, files)
	errorPageFiles(cfg, sections, files)
	if cfg.HasHTTPS() {
		files[RedirectMap] = redirectMap(cfg.HTTPSRedirects)
	}
	if checksClientAuth(sections) {
		files[ClientAuthMap] = clientAuthMap(cfg.Listeners)
	}
	for name, content := range sniMaps(cfg, tcpRoutes) {
		files[name] = content
	}
	for _, l := range cfg.Listeners {
		if l.TLS == nil {
			continue
		}
		files[CrtList(l.Name)] = crtList(l.TLS.Certificates)
		files[certPath(l.TLS.Default)] = l.TLS.Default.PEM
		for _, c := range l.TLS.Certificates {
			files[certPath(c)] = c.PEM
			if c.ClientCA != nil {
				files[certPath(*c.ClientCA)] = c.ClientCA.PEM
			}
		}
	}
	return files, nil
}

// backendChunk is how many backend sections one parser renders. config-parser keeps a parser per
// keyword for every section (about 30 KB), so a configuration of 5,000 sections held in one
// parser would take some 150 MB until written; in chunks, each chunk's parsers are garbage as
// soon as its text is.
const backendChunk = 64

// renderBackends renders the backend sections in chunks of backendChunk and merges them, in
// name order as config-parser writes sections, with the backends that main (the text of
// everything else, from one parser) already holds. The result is the text one parser would have
// written for the whole configuration.
func renderBackends(main string, sections []Section, layout Layout) ([]byte, error) {
	head, own := main, ""
	if i := strings.Index(main, "\n"+backendKeyword); i >= 0 {
		// config-parser writes backends after every other section we use.
		head, own = main[:i], main[i:]
	}
	blocks, err := backendBlocks(own)
	if err != nil {
		return nil, err
	}
	for chunk := range slices.Chunk(sections, backendChunk) {
		p, err := parser.New(options.String(""), options.NoNamedDefaultsFrom)
		if err != nil {
			return nil, err
		}
		r := renderer{p: p}
		for _, s := range chunk {
			r.backend(s, layout[s.Name])
		}
		if r.err != nil {
			return nil, r.err
		}
		more, err := backendBlocks(p.String())
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, more...)
	}
	slices.SortFunc(blocks, func(a, b backendBlock) int { return cmp.Compare(a.name, b.name) })
	var out bytes.Buffer
	out.Grow(len(main) + len(blocks)*256)
	out.WriteString(head)
	for _, b := range blocks {
		out.WriteString(b.text)
	}
	return out.Bytes(), nil
}

const backendKeyword = "backend "

// backendBlock is the text of one backend section, from the newline before "backend <name>".
type backendBlock struct{ name, text string }

// backendBlocks splits text made of backend sections only (as config-parser writes them: each
// begins with a newline, then "backend <name>" at the start of a line; every other line is
// indented) into its sections.
func backendBlocks(text string) ([]backendBlock, error) {
	var out []backendBlock
	for len(text) > 0 {
		next := strings.Index(text[1:], "\n"+backendKeyword)
		block := text
		if next >= 0 {
			block, text = text[:next+1], text[next+1:]
		} else {
			text = ""
		}
		name, body, _ := strings.Cut(strings.TrimPrefix(block, "\n"+backendKeyword), "\n")
		for line := range strings.Lines(body) {
			if line != "\n" && line[0] != ' ' {
				return nil, fmt.Errorf("backend %s: unexpected section line %q", name, line)
			}
		}
		out = append(out, backendBlock{name: name, text: block})
	}
	return out, nil
}

func certPath(c model.Certificate) string { return CertDir + "/" + c.Name }

// alpn is offered on the HTTPS bind and for every certificate of the crt-list.
const alpn = "h2,http/1.1"

// crtList renders a certificate list: lines per certificate with its SNI filters.
func crtList(certs []model.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		for _, line := range crtListLines(c) {
			fmt.Fprintf(&b, "%s\n", line)
		}
	}
	return b.Bytes()
}

// crtListLines are the crt-list lines of a certificate: its SNI names, sniPerLine to a line.
func crtListLines(c model.Certificate) []string {
	opts := "alpn " + alpn
	if c.ClientCA != nil {
		verify := "required"
		if c.ClientOptional {
			verify = "optional"
		}
		opts += " ca-file " + certPath(*c.ClientCA) + " verify " + verify
	}
	var lines []string
	for chunk := range slices.Chunk(c.SNI, sniPerLine) {
		lines = append(lines, fmt.Sprintf("%s [%s] %s", certPath(c), opts, strings.Join(chunk, " ")))
	}
	return lines
}

// clientAuthMap renders ClientAuthMap: "<listener>/<SNI name> <settings>", sorted.
func clientAuthMap(ls []model.Listener) []byte {
	var lines []string
	for _, l := range ls {
		if l.TLS == nil {
			continue
		}
		for _, c := range l.TLS.Certificates {
			p := clientAuthProfile(c.ClientAuth())
			for _, h := range c.SNI {
				lines = append(lines, l.Name+"/"+h+" "+p+"\n")
			}
		}
	}
	slices.Sort(lines)
	return []byte(strings.Join(lines, ""))
}

// checksClientAuth reports a section with a client-certificate check, which reads ClientAuthMap.
func checksClientAuth(sections []Section) bool {
	return slices.ContainsFunc(sections, func(s Section) bool { return s.Route.ClientAuth != nil })
}

// resumable reports whether a listener may let clients resume TLS sessions. HAProxy resumes a
// TLS 1.3 session under whichever crt-list line the new SNI name selects, and the resumed
// connection keeps the client certificate of the first one: a certificate verified by one CA
// would then pass for another's. Resuming is harmless while every line with a client-certificate
// check has the same CA; with two CAs or more, the listener turns session tickets off and the
// process its session cache, so that every connection is a full handshake on its own line.
func resumable(l model.Listener) bool {
	if l.TLS == nil {
		return true
	}
	ca := ""
	for _, c := range l.TLS.Certificates {
		if c.ClientCA == nil {
			continue
		}
		if ca != "" && ca != c.ClientCA.Name {
			return false
		}
		ca = c.ClientCA.Name
	}
	return true
}

// redirectMap maps each redirected host to its redirect's code and port, "<code>-<port>".
func redirectMap(rs []model.HTTPSRedirect) []byte {
	var b bytes.Buffer
	for _, r := range rs {
		fmt.Fprintf(&b, "%s %s\n", r.Host, redirectKind(r))
	}
	return b.Bytes()
}

func redirectKind(r model.HTTPSRedirect) string {
	if r.Off {
		return "off"
	}
	code := r.Code
	if code == 0 {
		code = 302
	}
	return strconv.Itoa(code) + "-" + strconv.Itoa(int(r.Port))
}

// redirectKinds lists the distinct code and port pairs of the redirects; each needs a rule.
func redirectKinds(rs []model.HTTPSRedirect) []model.HTTPSRedirect {
	var out []model.HTTPSRedirect
	seen := map[string]bool{}
	for _, r := range rs {
		if k := redirectKind(r); !r.Off && !seen[k] {
			seen[k] = true
			out = append(out, model.HTTPSRedirect{Code: r.Code, Port: r.Port})
		}
	}
	slices.SortFunc(out, func(a, b model.HTTPSRedirect) int { return strings.Compare(redirectKind(a), redirectKind(b)) })
	return out
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

// The routing pipeline of the HTTP frontend of a route table (see tables.go), which holds the
// table's HTTP and HTTPS listeners. The section is found with a few map lookups, whatever the
// number of routes: exact then prefix, first for the request's host, then for its one-label
// wildcard form ("*." + all but the first label), then for each multi-label wildcard that matches
// it, longest first (see wildcardSuffixes), then for rules without a host; a stage that no route
// of the table needs is left out (see frontendShape). Map keys are host+path; hostless keys start
// with "/", which no host does.
func (r *renderer) frontend(cfg model.Config, shape frontendShape, sections []Section, env Env) {
	fe := frontendName(shape.table)
	r.section(parser.Frontends, fe)
	r.set(parser.Frontends, fe, "mode", &types.StringC{Value: "http"})
	var listeners []model.Listener
	for _, l := range cfg.Listeners {
		if servesHTTP(l) && l.Table == shape.table {
			listeners = append(listeners, l)
		}
	}
	for _, l := range listeners {
		if l.Protocol == model.HTTPS && passthrough(cfg, l.Name) {
			// The listener's port is its passthrough frontend's; what that frontend does not
			// pass through comes here over a local socket, with the client's address.
			r.insert(parser.Frontends, fe, "bind", tlsBind(l, types.Bind{
				Path: "unix@" + env.terminateSocket(l.Name),
				Params: []params.BindOption{&params.BindOptionValue{Name: "name", Value: l.Name},
					&params.BindOptionWord{Name: "accept-proxy"}, &params.BindOptionValue{Name: "mode", Value: "600"}},
			}))
			continue
		}
		r.bind(fe, l)
	}
	for _, l := range listeners {
		if l.Protocol == model.HTTP || !passthrough(cfg, l.Name) {
			r.acceptProxy(fe, l, cfg.Global)
		}
	}
	const unfound = "{ var(txn.backend) -m found }"
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
	// "*" stands for exactly one label: a host with an empty first label (".foo.com") has no
	// wildcard form. It is computed before routing when something needs it there, else only
	// once the exact host has missed.
	wildhost := func(cond string) {
		setVar("wildrest", "var(txn.host),field(2,.,0)", cond)
		if cond != "" {
			cond += " || "
		}
		setVar("wildhost", "str(*.),concat(,txn.wildrest,)", cond+"{ var(txn.host) -m beg . }")
	}
	if shape.eagerWildcard() {
		wildhost("")
	}
	if len(shape.redirects) > 0 {
		r.httpsRedirects(fe, shape)
	}
	// lookups writes a stage: the conditional routes of its hosts, in precedence order, then
	// the maps for the other hosts, with key (host+path as the stage sees it).
	lookups := func(stage int, hostVar, key string) {
		for _, rl := range shape.rules {
			if rl.stage == stage {
				r.insert(parser.Frontends, fe, "http-request", &actions.SetVar{
					VarScope: "txn", VarName: "backend", Expr: common.Expression{Expr: []string{"str(" + rl.section + ")"}},
					Cond: "if", CondTest: rl.condition(hostVar) + " !" + unfound,
				})
			}
		}
		cond := unfound
		if stage == stageExact && !slices.ContainsFunc(shape.rules, func(rl routeRule) bool { return rl.stage == stageExact }) {
			cond = ""
		}
		setVar("backend", fmt.Sprintf("var(%s),map_str(%s)", key, ExactMap(shape.table)), cond)
		setVar("backend", fmt.Sprintf("var(%s),map_beg(%s)", key, PrefixMap(shape.table)), unfound)
	}
	lookups(stageExact, "txn.host", "txn.hostpath")
	if shape.wildcard {
		if !shape.eagerWildcard() {
			wildhost(unfound)
		}
		setVar("wildpath", "var(txn.wildhost),concat(,txn.path,)", unfound)
		lookups(stageWildcard, "txn.wildhost", "txn.wildpath")
	}
	// The multi-label wildcards that match the host, longest first (see wildcardSuffixes): the
	// first from the host, each next one from the one before. A variable of each stage is its
	// own, so that a chain that ends leaves the next stages nothing to look up.
	for k := 1; k <= shape.multiLabel; k++ {
		from, cond := fmt.Sprintf("var(txn.anyhost%d),field(2,.,0)", k-1), unfound
		if k == 1 {
			// An empty first label is no label.
			from, cond = "var(txn.host)", unfound+" || { var(txn.host) -m beg . }"
		}
		host, path := fmt.Sprintf("anyhost%d", k), fmt.Sprintf("anypath%d", k)
		setVar(host, from+",map_end("+WildcardMap(shape.table)+")", cond)
		setVar(path, "var(txn."+host+"),concat(,txn.path,)", unfound)
		lookups(stageMultiLabel, "txn."+host, "txn."+path)
	}
	if shape.hostless {
		lookups(stageHostless, "", "txn.path")
	}
	r.insert(parser.Frontends, fe, "use_backend", types.UseBackend{
		Name: "%[var(txn.backend)]", Cond: "if", CondTest: unfound,
	})
	def := DefaultBackend
	if cfg.DefaultBackend != "" {
		def = cfg.DefaultBackend
		if s, ok := sectionOf(sections, cfg.DefaultBackend); ok {
			def = s.Name
		}
	}
	r.set(parser.Frontends, fe, "default_backend", &types.StringC{Value: def})
	// Every answer names its server, as clients and the Ingress conformance suite expect, unless
	// the backend named itself; http-after-response also covers haproxy's own answers.
	r.insert(parser.Frontends, fe, "http-after-response", &httpactions.SetHeader{
		Name: "Server", Fmt: "portcullis", Cond: "unless", CondTest: "{ res.hdr(server) -m found }",
	})
}

// bind adds a listener's bind line to a frontend.
func (r *renderer) bind(fe string, l model.Listener) {
	r.insert(parser.Frontends, fe, "bind", tlsBind(l, types.Bind{
		Path:   netip.AddrPortFrom(l.Address, l.Port).String(),
		Params: []params.BindOption{&params.BindOptionValue{Name: "name", Value: l.Name}},
	}))
}

// tlsBind adds the certificates of an HTTPS listener to a bind line.
func tlsBind(l model.Listener, b types.Bind) types.Bind {
	if l.TLS != nil {
		b.Params = append(b.Params,
			&params.BindOptionWord{Name: "ssl"},
			&params.BindOptionValue{Name: "crt", Value: certPath(l.TLS.Default)},
			&params.BindOptionValue{Name: "crt-list", Value: CrtList(l.Name)},
			&params.BindOptionValue{Name: "alpn", Value: alpn})
		if !resumable(l) {
			b.Params = append(b.Params, &params.BindOptionWord{Name: "no-tls-tickets"})
		}
	}
	return b
}

// acceptProxy makes connections from the listener's trusted networks start with a PROXY
// protocol header; the address it carries becomes the client's address for everything after.
func (r *renderer) acceptProxy(fe string, l model.Listener, g model.Global) {
	var nets []string
	for _, n := range prefixStrings(slices.Concat(l.AcceptProxy, g.AcceptProxy)) {
		if !slices.Contains(nets, n) {
			nets = append(nets, n)
		}
	}
	for chunk := range slices.Chunk(nets, aclChunk) {
		r.insert(parser.Frontends, fe, "tcp-request", &tcptypes.Connection{Action: &tcpactions.ExpectProxy{
			Cond: "if", CondTest: fmt.Sprintf("{ dst_port %d } { src %s }", l.Port, strings.Join(chunk, " ")),
		}})
	}
}

// tcpFrontend renders a TCP listener, or the passthrough frontend of an HTTPS listener: the
// connections whose TLS SNI has a route go to its section unterminated (exact name first, then its
// wildcard form), the others to the listener's route without SNI, or for HTTPS to the HTTP
// frontend's local socket, where they are terminated.
func (r *renderer) tcpFrontend(cfg model.Config, l model.Listener, tcpRoutes []string, env Env) {
	fe := tcpFrontendPrefix + l.Name
	r.section(parser.Frontends, fe)
	r.set(parser.Frontends, fe, "mode", &types.StringC{Value: "tcp"})
	r.insert(parser.Frontends, fe, "bind", types.Bind{
		Path:   netip.AddrPortFrom(l.Address, l.Port).String(),
		Params: []params.BindOption{&params.BindOptionValue{Name: "name", Value: l.Name}},
	})
	r.acceptProxy(fe, l, cfg.Global)
	r.tcpLog(fe, cfg.Global)
	def := ""
	for i, rt := range cfg.TCPRoutes {
		if rt.Listener == l.Name && rt.SNI == "" {
			def = tcpRoutes[i]
		}
	}
	if passthrough(cfg, l.Name) {
		content := func(a types.Action) {
			r.insert(parser.Frontends, fe, "tcp-request", &tcptypes.Content{Action: a})
		}
		// Wait at most 5 s for the TLS ClientHello, which carries the SNI.
		r.insert(parser.Frontends, fe, "tcp-request", &tcptypes.InspectDelay{Timeout: "5s"})
		content(&tcpactions.Accept{Cond: "if", CondTest: "{ req.ssl_hello_type 1 }"})
		// Backends are chosen once the content is accepted: by the exact name first, then by
		// all but its first label in the map of wildcards ("*.example.com" is "example.com"
		// there).
		lookups := []string{
			"req.ssl_sni,lower,map_str(" + SNIMap(l.Name) + ")",
			"req.ssl_sni,lower,field(2,.,0),map_str(" + SNIWildcardMap(l.Name) + ")",
		}
		if multiLabelSNI(cfg, l.Name) {
			// Then multi-label wildcards (Gateway API): by the name's end, longest first.
			lookups = append(lookups, "req.ssl_sni,lower,map_end("+SNIMultiLabelMap(l.Name)+")")
		}
		for _, lookup := range lookups {
			r.insert(parser.Frontends, fe, "use_backend", types.UseBackend{Name: "%[" + lookup + "]", Cond: "if", CondTest: "{ " + lookup + " -m found }"})
		}
		if l.Protocol == model.HTTPS {
			def = terminateBackend(l.Name)
			r.section(parser.Backends, def)
			r.set(parser.Backends, def, "mode", &types.StringC{Value: "tcp"})
			r.insert(parser.Backends, def, "server", types.Server{Name: "terminate", Address: "unix@" + env.terminateSocket(l.Name),
				Params: []params.ServerOption{&params.ServerOptionWord{Name: "send-proxy-v2"}}})
		}
	}
	if def != "" {
		r.set(parser.Frontends, fe, "default_backend", &types.StringC{Value: def})
	}
}

// passthrough reports an HTTPS or TCP listener with routes by SNI.
func passthrough(cfg model.Config, listener string) bool {
	return slices.ContainsFunc(cfg.TCPRoutes, func(rt model.TCPRoute) bool { return rt.Listener == listener && rt.SNI != "" })
}

// multiLabelSNI reports a listener with routes by multi-label wildcard SNI.
func multiLabelSNI(cfg model.Config, listener string) bool {
	return slices.ContainsFunc(cfg.TCPRoutes, func(rt model.TCPRoute) bool {
		return rt.Listener == listener && rt.MultiLabel && strings.HasPrefix(rt.SNI, "*.")
	})
}

// SNIMultiLabelMap is the map of a listener's routes by multi-label wildcard SNI: the name
// without its "*" (".example.com") to section, the longest first (map_end takes the first
// entry that matches).
func SNIMultiLabelMap(listener string) string { return "maps/sni-multi-" + listener + ".map" }

// SNIMap is the map of a listener's routes by exact SNI: name to section.
func SNIMap(listener string) string { return "maps/sni-" + listener + ".map" }

// SNIWildcardMap is the map of a listener's routes by wildcard SNI: the name without its "*."
// to section.
func SNIWildcardMap(listener string) string { return "maps/sni-wildcard-" + listener + ".map" }

// terminateBackend is the backend through which a passthrough frontend hands the connections it
// does not pass through to the HTTP frontend.
func terminateBackend(listener string) string { return "portcullis_terminate_" + listener }

// terminateSocket is the local socket where the HTTP frontend terminates TLS for a listener with
// passthrough routes.
func (e Env) terminateSocket(listener string) string {
	return filepath.Join(e.RuntimeDir, listener+".sock")
}

// sniMaps renders the SNI maps of each listener with routes by SNI.
func sniMaps(cfg model.Config, tcpRoutes []string) map[string][]byte {
	out := map[string][]byte{}
	for _, l := range cfg.Listeners {
		if !passthrough(cfg, l.Name) {
			continue
		}
		var exact, wild bytes.Buffer
		type suffix struct{ s, section string }
		var multi []suffix
		for i, rt := range cfg.TCPRoutes {
			if rt.Listener != l.Name || rt.SNI == "" {
				continue
			}
			if rest, ok := strings.CutPrefix(rt.SNI, "*"); ok && rt.MultiLabel && strings.HasPrefix(rest, ".") {
				multi = append(multi, suffix{rest, tcpRoutes[i]})
				continue
			}
			if rest, ok := strings.CutPrefix(rt.SNI, "*."); ok {
				fmt.Fprintf(&wild, "%s %s\n", rest, tcpRoutes[i])
			} else {
				fmt.Fprintf(&exact, "%s %s\n", rt.SNI, tcpRoutes[i])
			}
		}
		out[SNIMap(l.Name)], out[SNIWildcardMap(l.Name)] = exact.Bytes(), wild.Bytes()
		if len(multi) > 0 {
			slices.SortStableFunc(multi, func(a, b suffix) int {
				return cmp.Or(cmp.Compare(len(b.s), len(a.s)), cmp.Compare(a.s, b.s))
			})
			var m bytes.Buffer
			for _, e := range multi {
				fmt.Fprintf(&m, "%s %s\n", e.s, e.section)
			}
			out[SNIMultiLabelMap(l.Name)] = m.Bytes()
		}
	}
	return out
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

// MonitorBackend holds the one server whose state says whether this HAProxy should get traffic:
// ready, or in maintenance once the pod is stopping.
const (
	MonitorBackend = "portcullis_monitor"
	monitorServer  = "up"
	monitorURI     = "/healthz"
)

// monitor renders the load balancer's health check: monitor-uri answers 200, or 503 when the
// monitor backend has no usable server. Connections from the proxy-protocol networks carry a
// PROXY header, as on the other listeners.
func (r *renderer) monitor(m model.Monitor, g model.Global) {
	const fe = "monitor"
	r.section(parser.Frontends, fe)
	r.set(parser.Frontends, fe, "mode", &types.StringC{Value: "http"})
	r.set(parser.Frontends, fe, "bind", types.Bind{
		Path:   netip.AddrPortFrom(m.Address, m.Port).String(),
		Params: []params.BindOption{&params.BindOptionValue{Name: "name", Value: "monitor"}},
	})
	// A load balancer that sends the PROXY protocol sends it on its health checks too.
	r.acceptProxy(fe, model.Listener{Bind: m.Bind}, g)
	r.set(parser.Frontends, fe, "monitor-uri", &types.MonitorURI{URI: monitorURI})
	r.insert(parser.Frontends, fe, "monitor fail", &types.MonitorFail{Condition: "if", ACLList: []string{"{", "nbsrv(" + MonitorBackend + ")", "lt", "1", "}"}})
	r.section(parser.Backends, MonitorBackend)
	r.set(parser.Backends, MonitorBackend, "mode", &types.StringC{Value: "http"})
	srv := types.Server{Name: monitorServer, Address: unusedSlotAddress}
	if m.Down {
		srv.Params = []params.ServerOption{&params.ServerOptionWord{Name: "disabled"}}
	}
	r.insert(parser.Backends, MonitorBackend, "server", srv)
}

// MonitorCommand is the runtime command that sets the monitor's answer.
func MonitorCommand(down bool) string {
	state := "ready"
	if down {
		state = "maint"
	}
	return "set server " + MonitorBackend + "/" + monitorServer + " state " + state
}

// httpsRedirects redirects plain-HTTP requests for the hosts of the redirect map to HTTPS: one rule
// per code and port, the host's entry in the map naming which.
func (r *renderer) httpsRedirects(fe string, shape frontendShape) {
	// The host's own entry wins over its wildcard's: one look-up into a variable, then the
	// rules compare it.
	lookup := func(key, cond string) {
		a := &actions.SetVar{VarScope: "txn", VarName: "redirect", Expr: common.Expression{Expr: []string{fmt.Sprintf("var(%s),map_str(%s)", key, RedirectMap)}}}
		if cond != "" {
			a.Cond, a.CondTest = "unless", cond
		}
		r.insert(parser.Frontends, fe, "http-request", a)
	}
	lookup("txn.host", "")
	if shape.wildRedirect {
		lookup("txn.wildhost", "{ var(txn.redirect) -m found }")
	}
	for _, k := range shape.redirects {
		port := ""
		if k.Port != 0 && k.Port != 443 {
			port = ":" + strconv.Itoa(int(k.Port))
		}
		code := k.Code
		if code == 0 {
			code = 302
		}
		r.insert(parser.Frontends, fe, "http-request", &httpactions.Redirect{
			Type:     "location",
			Value:    "https://%[var(txn.host)]" + port + "%[capture.req.uri]",
			Code:     strconv.Itoa(code),
			Cond:     "if",
			CondTest: "!{ ssl_fc } { var(txn.redirect) -m str " + redirectKind(k) + " }",
		})
	}
}

func (r *renderer) defaultBackend(errorPages bool) {
	r.section(parser.Backends, DefaultBackend)
	r.set(parser.Backends, DefaultBackend, "mode", &types.StringC{Value: "http"})
	if errorPages {
		// The defaults' errorfile for 404: Portcullis's page.
		r.insert(parser.Backends, DefaultBackend, "http-request", &httpactions.Deny{Status: ptr(int64(404))})
		return
	}
	r.insert(parser.Backends, DefaultBackend, "http-request", &httpactions.Return{
		Status: ptr(int64(404)), ContentType: "text/plain", ContentFormat: "string",
		Content: `"404 page not found"`,
	})
}

// unusedSlotAddress is the address of a slot that holds no endpoint; such slots are disabled.
const unusedSlotAddress = "127.0.0.1:1"

// backend renders a section with its policies and its server slots. Every slot carries the
// backend policy's server options, so that an endpoint placed in a slot through the runtime API
// gets them.
func (r *renderer) backend(s Section, slots []Slot) {
	name := s.Name
	r.section(parser.Backends, name)
	if s.TCP {
		r.set(parser.Backends, name, "mode", &types.StringC{Value: "tcp"})
	} else {
		r.set(parser.Backends, name, "mode", &types.StringC{Value: "http"})
		r.routePolicy(name, s.Route, s.Prefix)
		r.unresolvedRule(s)
	}
	r.backendPolicy(name, s.Policy, s.TCP)
	if !s.TCP {
		r.responsePolicy(name, s.Route)
	}
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
		srv.Params = append(srv.Params, serverOptions(s.Policy, i)...)
		r.insert(parser.Backends, name, "server", srv)
	}
}

// mapFiles renders the two route maps of a route table, each route pointing at its section. Exact routes, and the
// bare form of each prefix ("/foo" for Prefix "/foo"), go to the exact map; each prefix with a
// trailing slash goes to the prefix map, which HAProxy searches for the longest match. Together
// they give Kubernetes' element-wise prefix semantics: "/foo" matches "/foo" and "/foo/bar" but not
// "/foobar". An Exact route wins over the bare form of an equal Prefix.
func mapFiles(routes []model.HTTPRoute, sections []string, table string) (exact, prefix []byte) {
	conditional := conditionalHosts(routes, table)
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
	for i, rt := range routes {
		if rt.Match.Table != table || conditional[mapHost(rt.Match)] {
			continue // another table's, or a rule of the frontend (see conditionalRules)
		}
		section := sections[i]
		key := mapHost(rt.Match) + rt.Match.Path
		if rt.Match.Kind == model.MatchExact {
			addExact(key, section, true)
			continue
		}
		if rt.Match.Path != "/" {
			addExact(key, section, false)
			key += "/"
		}
		fmt.Fprintf(&pb, "%s %s\n", key, section)
	}
	var eb bytes.Buffer
	for _, k := range exactOrder {
		fmt.Fprintf(&eb, "%s %s\n", k, exactKeys[k])
	}
	return eb.Bytes(), pb.Bytes()
}

func ptr[T any](v T) *T { return &v }

// Rejection is a part of the configuration that the renderer cannot write, with the objects it
// comes from and why.
type Rejection struct {
	Objects []diag.Object
	Err     error
}

// Prune returns cfg without the listeners from objects, routes, backends, certificates and
// redirects that fail the renderer's checks, and what it left out. Routes that use a backend left
// out go too, and so do the routes of a route table whose listeners are all left out (they are
// not rendered) and the TCP routes of a listener left out; process-wide settings that fail are
// reset to the defaults. The rest passes the checks of RenderLayout, unless an operator's listener
// or the environment is wrong, which come from the operator's flags, not from objects.
func Prune(cfg model.Config) (model.Config, []Rejection) {
	var rej []Rejection
	reject := func(objs []diag.Object, errs []error) {
		rej = append(rej, Rejection{Objects: objs, Err: errors.Join(errs...)})
	}
	out := cfg
	if errs := checkGlobal(cfg.Global); len(errs) > 0 {
		reject(cfg.Global.Sources, errs)
		out.Global = model.Global{Sources: cfg.Global.Sources}
	}
	if errs := checkSpares(cfg.Spares); len(errs) > 0 {
		reject(nil, errs)
		out.Spares = model.Spares{}
	}
	out.Backends = nil
	names := map[string]bool{DefaultBackend: true}
	for _, b := range cfg.Backends {
		if errs := checkBackend(b, names); len(errs) > 0 {
			reject(b.Sources, errs)
			continue
		}
		names[b.Name] = true
		out.Backends = append(out.Backends, b)
	}
	if cfg.DefaultBackend != "" && !names[cfg.DefaultBackend] {
		out.DefaultBackend = ""
	}
	out.HTTPRoutes = nil
	for _, rt := range cfg.HTTPRoutes {
		if errs := checkRoute(rt, names); len(errs) > 0 {
			reject([]diag.Object{rt.Source}, errs)
			continue
		}
		out.HTTPRoutes = append(out.HTTPRoutes, rt)
	}
	out.Listeners = pruneListeners(cfg, reject)
	// The TCP routes of a listener left out go too.
	withListeners := cfg
	withListeners.Listeners = out.Listeners
	out.TCPRoutes = nil
	for _, rt := range cfg.TCPRoutes {
		if errs := checkTCPRoute(withListeners, rt, names); len(errs) > 0 {
			reject([]diag.Object{rt.Source}, errs)
			continue
		}
		out.TCPRoutes = append(out.TCPRoutes, rt)
	}
	for i, l := range out.Listeners {
		if l.TLS == nil {
			continue
		}
		tls := *l.TLS
		tls.Certificates = nil
		served := map[string]bool{}
		for _, c := range l.TLS.Certificates {
			if errs := append(checkCertificate(c), checkSNIServed(l.Name, c, served)...); len(errs) > 0 {
				reject(c.Sources, errs)
				continue
			}
			for _, h := range c.SNI {
				served[h] = true
			}
			tls.Certificates = append(tls.Certificates, c)
		}
		out.Listeners[i].TLS = &tls
	}
	out.HTTPSRedirects = nil
	for _, r := range cfg.HTTPSRedirects {
		if err := checkRedirect(r); err != nil {
			reject(nil, []error{err})
			continue
		}
		out.HTTPSRedirects = append(out.HTTPSRedirects, r)
	}
	return out, rej
}

// pruneListeners returns the listeners of cfg less those from objects (Gateways) that fail the
// renderer's checks, rejected with their sources. The operator's own listeners (no sources) and
// the stats and monitor binds are checked first and always kept: a listener from an object that
// would take their bind is the one left out. The routes of a route table that no listener serves
// any more are not rendered (see routeTables).
func pruneListeners(cfg model.Config, reject func([]diag.Object, []error)) []model.Listener {
	lc := newListenerChecks()
	for _, l := range cfg.Listeners {
		if len(l.Sources) == 0 {
			lc.add(l)
		}
	}
	lc.operatorBinds(cfg)
	var out []model.Listener
	for _, l := range cfg.Listeners {
		if len(l.Sources) > 0 {
			if errs := lc.check(l); len(errs) > 0 {
				reject(l.Sources, errs)
				continue
			}
			lc.add(l)
		}
		out = append(out, l)
	}
	return out
}

// Without returns cfg without what the given objects contribute: their routes, and the
// listeners, backends, certificates and redirects that no other object needs.
func Without(cfg model.Config, objs []diag.Object) model.Config {
	gone := map[diag.Object]bool{}
	for _, o := range objs {
		gone[o] = true
	}
	onlyGone := func(srcs []diag.Object) bool {
		return len(srcs) > 0 && !slices.ContainsFunc(srcs, func(o diag.Object) bool { return !gone[o] })
	}
	out := cfg
	out.HTTPRoutes = slices.DeleteFunc(slices.Clone(cfg.HTTPRoutes), func(rt model.HTTPRoute) bool { return gone[rt.Source] })
	out.TCPRoutes = slices.DeleteFunc(slices.Clone(cfg.TCPRoutes), func(rt model.TCPRoute) bool { return gone[rt.Source] })
	used := map[string]bool{cfg.DefaultBackend: true}
	for _, rt := range out.HTTPRoutes {
		for _, b := range rt.Backends {
			used[b.Name] = true
		}
	}
	for _, rt := range out.TCPRoutes {
		used[rt.Backend] = true
	}
	out.Backends = slices.DeleteFunc(slices.Clone(cfg.Backends), func(b model.Backend) bool { return !used[b.Name] })
	if onlyGone(cfg.Global.Sources) {
		out.Global = model.Global{Sources: cfg.Global.Sources}
	}
	// A listener goes with all of its sources (a Gateway's); the operator's have none.
	out.Listeners = slices.DeleteFunc(slices.Clone(cfg.Listeners), func(l model.Listener) bool { return onlyGone(l.Sources) })
	for i, l := range out.Listeners {
		if l.TLS == nil {
			continue
		}
		tls := *l.TLS
		tls.Certificates = slices.DeleteFunc(slices.Clone(tls.Certificates), func(c model.Certificate) bool { return onlyGone(c.Sources) })
		out.Listeners[i].TLS = &tls
	}
	return out
}

// Objects lists every object that contributes to cfg, sorted.
func Objects(cfg model.Config) []diag.Object {
	var objs []diag.Object
	objs = append(objs, cfg.Global.Sources...)
	for _, rt := range cfg.HTTPRoutes {
		objs = append(objs, rt.Source)
	}
	for _, rt := range cfg.TCPRoutes {
		objs = append(objs, rt.Source)
	}
	for _, b := range cfg.Backends {
		objs = append(objs, b.Sources...)
	}
	for _, l := range cfg.Listeners {
		objs = append(objs, l.Sources...)
		if l.TLS != nil {
			for _, c := range l.TLS.Certificates {
				objs = append(objs, c.Sources...)
			}
		}
	}
	objs = slices.DeleteFunc(objs, func(o diag.Object) bool { return o == diag.Object{} })
	slices.SortFunc(objs, diag.Compare)
	return slices.Compact(objs)
}

// check re-validates every value that reaches a file, so that a bug upstream cannot become a
// configuration injection.
func check(cfg model.Config, sections []Section, httpRoutes, tcpRoutes []string, layout Layout, env Env) error {
	var errs []error
	if !filepath.IsAbs(env.RuntimeDir) || strings.ContainsAny(env.RuntimeDir, " \t\r\n#\"'\\") {
		errs = append(errs, fmt.Errorf("runtime directory %q must be an absolute path without spaces or quotes", env.RuntimeDir))
	}
	errs = append(errs, checkListeners(cfg)...)
	for _, l := range cfg.Listeners {
		// sun_path holds 108 bytes.
		if sock := env.terminateSocket(l.Name); passthrough(cfg, l.Name) && len(sock) > 100 {
			errs = append(errs, fmt.Errorf("listener %s: socket path %s is too long for a Unix socket", l.Name, sock))
		}
	}
	errs = append(errs, checkGlobal(cfg.Global)...)
	errs = append(errs, checkSpares(cfg.Spares)...)
	names := map[string]bool{DefaultBackend: true}
	for _, b := range cfg.Backends {
		errs = append(errs, checkBackend(b, names)...)
		names[b.Name] = true
	}
	if cfg.DefaultBackend != "" && !names[cfg.DefaultBackend] {
		errs = append(errs, fmt.Errorf("default backend %q is not defined", cfg.DefaultBackend))
	}
	for _, rt := range cfg.HTTPRoutes {
		errs = append(errs, checkRoute(rt, names)...)
	}
	for _, rt := range cfg.TCPRoutes {
		errs = append(errs, checkTCPRoute(cfg, rt, names)...)
	}
	for _, l := range cfg.Listeners {
		if l.TLS != nil {
			served := map[string]bool{}
			for _, c := range l.TLS.Certificates {
				errs = append(errs, checkCertificate(c)...)
				errs = append(errs, checkSNIServed(l.Name, c, served)...)
				for _, h := range c.SNI {
					served[h] = true
				}
			}
		}
	}
	for _, r := range cfg.HTTPSRedirects {
		if err := checkRedirect(r); err != nil {
			errs = append(errs, err)
		}
	}
	sectionNames := map[string]bool{DefaultBackend: true}
	for _, s := range sections {
		if !validSectionName(s.Name) || len(s.Name) > maxSectionName || sectionNames[s.Name] || IsSpare(s.Name) {
			errs = append(errs, fmt.Errorf("invalid or duplicate backend section name %q", s.Name))
		}
		sectionNames[s.Name] = true
		used := 0
		for _, sl := range layout[s.Name] {
			if !sl.Used {
				continue
			}
			used++
			if !sl.Server.Address.IsValid() || sl.Server.Address.Zone() != "" || sl.Server.Port == 0 {
				errs = append(errs, fmt.Errorf("backend %s: invalid server %s:%d", s.Name, sl.Server.Address, sl.Server.Port))
			}
		}
		if used != len(s.Servers) {
			errs = append(errs, fmt.Errorf("backend %s: layout holds %d servers, configuration %d", s.Name, used, len(s.Servers)))
		}
	}
	if slices.Contains(httpRoutes, "") || slices.Contains(tcpRoutes, "") {
		errs = append(errs, errors.New("a route has no backend section"))
	}
	return errors.Join(errs...)
}

// maxSectionName bounds the name of a backend section: a backend name and a suffix.
const maxSectionName = limits.MaxBackendNameLen + len("_") + 8

// validSectionName accepts what Sections names a section: a backend name, alone or followed by
// "_" and 8 hex digits, which may be longer than any backend name.
func validSectionName(s string) bool {
	if model.ValidBackendName(s) {
		return true
	}
	const suffix = len("_") + 8
	if len(s) <= suffix {
		return false
	}
	base, hash := s[:len(s)-suffix], s[len(s)-suffix:]
	return hash[0] == '_' && strings.Trim(hash[1:], "0123456789abcdef") == "" && model.ValidBackendName(base)
}

// checkListeners checks the listeners, which come from the operator's flags and from objects
// (Gateways), and the stats and monitor binds.
func checkListeners(cfg model.Config) []error {
	var errs []error
	lc := newListenerChecks()
	for _, l := range cfg.Listeners {
		errs = append(errs, lc.check(l)...)
		lc.add(l)
	}
	return append(errs, lc.operatorBinds(cfg)...)
}

// listenerChecks checks listeners one at a time against those accepted before: each is valid on
// its own, and its bind, name and port within its route table are its own.
type listenerChecks struct {
	binds []boundListener
	names map[string]bool
	// tablePorts: the PROXY protocol rules of a frontend tell its listeners apart by port (see
	// acceptProxy), so a port serves one listener of a route table.
	tablePorts map[string]string
}

type boundListener struct {
	name string
	model.Bind
}

func newListenerChecks() *listenerChecks {
	return &listenerChecks{names: map[string]bool{}, tablePorts: map[string]string{}}
}

func tablePort(l model.Listener) string { return l.Table + " " + strconv.Itoa(int(l.Port)) }

// add records an accepted listener.
func (lc *listenerChecks) add(l model.Listener) {
	lc.names[l.Name] = true
	lc.binds = append(lc.binds, boundListener{l.Name, l.Bind})
	if servesHTTP(l) {
		if _, ok := lc.tablePorts[tablePort(l)]; !ok {
			lc.tablePorts[tablePort(l)] = l.Name
		}
	}
}

func (lc *listenerChecks) checkBind(name string, b model.Bind) []error {
	var errs []error
	if !b.Address.IsValid() || b.Address.Zone() != "" || b.Port == 0 {
		errs = append(errs, fmt.Errorf("listener %s: invalid bind %s:%d", name, b.Address, b.Port))
	}
	for _, o := range lc.binds {
		if o.Conflicts(b) {
			errs = append(errs, fmt.Errorf("listener %s: %s is also %s's", name, b, o.name))
		}
	}
	return errs
}

// operatorBinds checks the stats and monitor binds after the listeners, and records them.
func (lc *listenerChecks) operatorBinds(cfg model.Config) []error {
	var errs []error
	for _, b := range []boundListener{{"stats", cfg.Stats}, {"monitor", cfg.Monitor.Bind}} {
		if b.Port != 0 {
			errs = append(errs, lc.checkBind(b.name, b.Bind)...)
			lc.binds = append(lc.binds, b)
		}
	}
	return errs
}

// check checks one listener against those added before.
func (lc *listenerChecks) check(l model.Listener) []error {
	var errs []error
	if !model.ValidBackendName(l.Name) || len(l.Name) > limits.MaxNameLen || lc.names[l.Name] {
		errs = append(errs, fmt.Errorf("invalid or duplicate listener name %q", l.Name))
	}
	errs = append(errs, lc.checkBind(l.Name, l.Bind)...)
	if l.Table != "" && (!model.ValidBackendName(l.Table) || !servesHTTP(l)) {
		errs = append(errs, fmt.Errorf("listener %s: route table %q: want [a-z0-9_-], at most %d characters, on an HTTP or HTTPS listener", l.Name, l.Table, limits.MaxBackendNameLen))
	}
	if other, ok := lc.tablePorts[tablePort(l)]; ok && servesHTTP(l) {
		errs = append(errs, fmt.Errorf("listener %s: port %d is also listener %s's in the same route table", l.Name, l.Port, other))
	}
	switch l.Protocol {
	case model.HTTP, model.TCP:
		if l.TLS != nil {
			errs = append(errs, fmt.Errorf("listener %s: %s takes no certificates", l.Name, l.Protocol))
		}
	case model.HTTPS:
		if l.TLS == nil {
			errs = append(errs, fmt.Errorf("listener %s: HTTPS needs a default certificate", l.Name))
		} else if err := checkCertName(l.TLS.Default); err != nil {
			errs = append(errs, fmt.Errorf("listener %s: %w", l.Name, err))
		}
	default:
		errs = append(errs, fmt.Errorf("listener %s: unknown protocol %q", l.Name, l.Protocol))
	}
	if len(l.AcceptProxy) > limits.MaxNetworks {
		errs = append(errs, fmt.Errorf("listener %s: more than %d PROXY protocol networks", l.Name, limits.MaxNetworks))
	}
	for _, p := range l.AcceptProxy {
		if !p.IsValid() || p.Addr().Zone() != "" {
			errs = append(errs, fmt.Errorf("listener %s: invalid PROXY protocol network %s", l.Name, p))
		}
	}
	return errs
}

func checkCertName(c model.Certificate) error {
	if !model.ValidCertName(c.Name) || c.Name != model.CertName(c.PEM) {
		return fmt.Errorf("certificate name %q is not the hash of its content", c.Name)
	}
	return nil
}

// checkCertificate checks a certificate of an HTTPS listener.
func checkCertificate(c model.Certificate) []error {
	var errs []error
	for _, cc := range []*model.Certificate{&c, c.ClientCA} {
		if cc != nil {
			if err := checkCertName(*cc); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, h := range c.SNI {
		if h == "" || !model.ValidMapHost(h) {
			errs = append(errs, fmt.Errorf("certificate %s: SNI %q is not a host name", c.Name, h))
		}
	}
	return errs
}

// checkSNIServed refuses a certificate for a name that another line of the listener serves
// (served): which line HAProxy would pick is not defined, and the client-certificate check of
// routes relies on knowing it.
func checkSNIServed(listener string, c model.Certificate, served map[string]bool) []error {
	var errs []error
	own := map[string]bool{}
	for _, h := range c.SNI {
		if served[h] || own[h] {
			errs = append(errs, fmt.Errorf("listener %s: certificate %s: SNI %q is served by another certificate line", listener, c.Name, h))
		}
		own[h] = true
	}
	return errs
}

func checkRedirect(r model.HTTPSRedirect) error {
	if r.Host == "" || !model.ValidMapHost(r.Host) {
		return fmt.Errorf("HTTPS redirect: %q is not a host name", r.Host)
	}
	if r.Code != 0 && !limits.IsRedirectStatus(r.Code) {
		return fmt.Errorf("HTTPS redirect of %s: code %d is not a redirect", r.Host, r.Code)
	}
	return nil
}

// checkBackend checks a backend; names holds the names defined before it.
func checkBackend(b model.Backend, names map[string]bool) []error {
	var errs []error
	if !model.ValidBackendName(b.Name) || names[b.Name] || IsSpare(b.Name) {
		errs = append(errs, fmt.Errorf("invalid, duplicate or reserved backend name %q", b.Name))
	}
	errs = append(errs, checkBackendPolicy(b.Name, b.Policy)...)
	if st := b.Policy.ServerTLS; st != nil {
		for _, c := range []*model.Certificate{st.CA, st.Client} {
			if c != nil {
				if err := checkCertName(*c); err != nil {
					errs = append(errs, fmt.Errorf("backend %s: %w", b.Name, err))
				}
			}
		}
	}
	for _, s := range b.Servers {
		if !s.Address.IsValid() || s.Address.Zone() != "" || s.Port == 0 || s.Weight < 0 || s.Weight > 256 {
			errs = append(errs, fmt.Errorf("backend %s: invalid server %s:%d weight %d", b.Name, s.Address, s.Port, s.Weight))
		}
	}
	return errs
}

// checkRoute checks an HTTP route; names holds the backends defined.
func checkRoute(rt model.HTTPRoute, names map[string]bool) []error {
	where := fmt.Sprintf("route %s%s", rt.Match.Host, rt.Match.Path)
	var errs []error
	if !model.ValidMapHost(rt.Match.Host) || rt.Match.Kind != model.MatchRegex && !model.ValidMapPath(rt.Match.Path) {
		errs = append(errs, fmt.Errorf("route %q %q: host or path is not safe for a map file", rt.Match.Host, rt.Match.Path))
	}
	if rt.Match.MultiLabel && !strings.HasPrefix(rt.Match.Host, "*.") {
		errs = append(errs, fmt.Errorf("%s: only a \"*.\" host matches several labels", where))
	}
	if rt.Match.Table != "" && !model.ValidBackendName(rt.Match.Table) {
		errs = append(errs, fmt.Errorf("%s: route table %q: want [a-z0-9_-], at most %d characters", where, rt.Match.Table, limits.MaxBackendNameLen))
	}
	errs = append(errs, checkConditions(where, rt)...)
	if len(rt.Backends) == 0 {
		errs = append(errs, fmt.Errorf("%s: no backend", where))
	}
	for _, b := range rt.Backends {
		if b.Name != "" && !names[b.Name] { // no name: an unresolved reference, answered 500
			errs = append(errs, fmt.Errorf("%s: backend %q is not defined", where, b.Name))
		}
		if b.Weight < 0 || b.Weight > 256 {
			errs = append(errs, fmt.Errorf("%s: weight %d of backend %s is not 0 to 256", where, b.Weight, b.Name))
		}
	}
	errs = append(errs, checkRoutePolicy(where, rt.Policy)...)
	return append(errs, checkGatewayPolicy(where, rt)...)
}

// checkTCPRoute checks a TCP route.
func checkTCPRoute(cfg model.Config, rt model.TCPRoute, names map[string]bool) []error {
	var errs []error
	l, ok := cfg.Listener(rt.Listener)
	switch {
	case !ok:
		errs = append(errs, fmt.Errorf("TCP route: listener %q does not exist", rt.Listener))
	case l.Protocol == model.HTTPS && rt.SNI == "":
		errs = append(errs, fmt.Errorf("TCP route of %s: an HTTPS listener passes connections through by SNI only", rt.Listener))
	case l.Protocol != model.TCP && l.Protocol != model.HTTPS:
		errs = append(errs, fmt.Errorf("TCP route: %q is not a TCP or HTTPS listener", rt.Listener))
	}
	if rt.SNI != "" && !model.ValidMapHost(rt.SNI) {
		errs = append(errs, fmt.Errorf("TCP route of %s: SNI %q is not a host name", rt.Listener, rt.SNI))
	}
	if !names[rt.Backend] {
		errs = append(errs, fmt.Errorf("TCP route of %s: backend %q is not defined", rt.Listener, rt.Backend))
	}
	if rt.Backend == cfg.DefaultBackend || slices.ContainsFunc(cfg.HTTPRoutes, func(h model.HTTPRoute) bool {
		return slices.ContainsFunc(h.Backends, func(b model.WeightedBackend) bool { return b.Name == rt.Backend })
	}) {
		errs = append(errs, fmt.Errorf("TCP route of %s: backend %q also serves HTTP routes", rt.Listener, rt.Backend))
	}
	for _, o := range cfg.TCPRoutes {
		if o.Listener == rt.Listener && o.SNI == rt.SNI && o != rt {
			errs = append(errs, fmt.Errorf("TCP listener %s has more than one route for SNI %q", rt.Listener, rt.SNI))
			break
		}
	}
	return errs
}
