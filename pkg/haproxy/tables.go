package haproxy

import (
	"slices"
	"strings"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// Route tables. Each route table (model.Listener.Table, model.HTTPMatch.Table) is served by an HTTP
// frontend of its own, which holds the HTTP and HTTPS listeners of the table and looks the
// requests up in the table's own two maps. The default table "" is the frontend "http" with the
// maps ExactMapFile and PrefixMapFile, exactly as before tables existed; table t is the frontend
// "http_<t>" with the maps ExactMap(t) and PrefixMap(t). So a route never reaches another table's
// listeners, conditional routes are rules of their own table's frontend, and adding a route to
// any table is a map change at runtime. A listener added or removed is a reload, as it always was.
// HTTPS redirects (model.HTTPSRedirects) are rules of the default table's frontend only; the
// default backend answers the requests no route of any table takes.

// ExactMap is the exact-path map of a route table.
func ExactMap(table string) string {
	if table == "" {
		return ExactMapFile
	}
	return "maps/path-exact-" + table + ".map"
}

// PrefixMap is the prefix map of a route table.
func PrefixMap(table string) string {
	if table == "" {
		return PrefixMapFile
	}
	return "maps/path-prefix-" + table + ".map"
}

// frontendName is the HTTP frontend of a route table. TCP frontends start with tcpFrontendPrefix,
// so the names cannot clash.
func frontendName(table string) string {
	if table == "" {
		return httpFrontend
	}
	return httpFrontend + "_" + table
}

// servesHTTP reports a listener that an HTTP frontend serves.
func servesHTTP(l model.Listener) bool {
	return l.Protocol == model.HTTP || l.Protocol == model.HTTPS
}

// routeTables lists the route tables that HTTP frontends serve: the default table, always (its
// frontend exists even without a listener, as it always has), then every other table that an
// HTTP or HTTPS listener serves, sorted. Routes of a table without a listener are served nowhere.
func routeTables(cfg model.Config) []string {
	tables := []string{""}
	for _, l := range cfg.Listeners {
		if servesHTTP(l) && l.Table != "" && !slices.Contains(tables, l.Table) {
			tables = append(tables, l.Table)
		}
	}
	slices.Sort(tables[1:])
	return tables
}

// frontendShape is what the HTTP frontend of a table evaluates for each request, apart from the
// content of its maps: a change of it needs a reload. The stages of look-ups that no route needs
// are left out, and the wildcard form of the host is computed only when the exact host missed,
// unless something needs it before routing; so the common case (exact hosts only) costs two map
// look-ups and four variables per request.
type frontendShape struct {
	table string
	// wildcard and hostless say whether the table has routes with a "*." host, and without a
	// host: each adds a stage of look-ups.
	wildcard, hostless bool
	// wildRedirect says whether an HTTPS redirect (default table) is for a "*." host, which
	// needs the wildcard form of the host before routing.
	wildRedirect bool
	// clientAuth says whether a section checks client certificates, which looks the wildcard
	// form of the host up in ClientAuthMap.
	clientAuth bool
	// redirects are the kinds of HTTPS redirect rules (default table only).
	redirects []model.HTTPSRedirect
	// rules are the table's conditional routes.
	rules []routeRule
}

// eagerWildcard reports whether txn.wildhost is needed before the routing look-ups.
func (s frontendShape) eagerWildcard() bool {
	return s.wildRedirect || s.clientAuth
}

// frontendShapes lists the shape of the frontend of each route table (see routeTables).
func frontendShapes(cfg model.Config, sections []Section, httpRoutes []string) []frontendShape {
	auth := checksClientAuth(sections)
	var out []frontendShape
	for _, t := range routeTables(cfg) {
		s := frontendShape{table: t, clientAuth: auth, rules: conditionalRules(cfg.HTTPRoutes, httpRoutes, t)}
		for i, rt := range cfg.HTTPRoutes {
			if rt.Match.Table != t || httpRoutes[i] == "" {
				continue
			}
			switch stageOf(rt.Match.Host) {
			case 1:
				s.wildcard = true
			case 2:
				s.hostless = true
			}
		}
		if t == "" && cfg.HasHTTPS() {
			s.redirects = redirectKinds(cfg.HTTPSRedirects)
			s.wildRedirect = len(s.redirects) > 0 && slices.ContainsFunc(cfg.HTTPSRedirects, func(r model.HTTPSRedirect) bool {
				return strings.HasPrefix(r.Host, "*.")
			})
		}
		out = append(out, s)
	}
	return out
}

// routeMaps renders the two maps of every route table that a frontend serves: file name to
// content.
func routeMaps(cfg model.Config, httpRoutes []string) map[string][]byte {
	out := map[string][]byte{}
	for _, t := range routeTables(cfg) {
		out[ExactMap(t)], out[PrefixMap(t)] = mapFiles(cfg.HTTPRoutes, httpRoutes, t)
	}
	return out
}
