package haproxy

import (
	"cmp"
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

// WildcardMap is the map of the multi-label wildcard hosts of a route table (see
// wildcardSuffixes), written when the table has any.
func WildcardMap(table string) string {
	if table == "" {
		return "maps/host-wildcard.map"
	}
	return "maps/host-wildcard-" + table + ".map"
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
	// wildcard and hostless say whether the table has routes with a one-label "*." host, and
	// without a host: each adds a stage of look-ups.
	wildcard, hostless bool
	// multiLabel is how many multi-label wildcards of the table can match one host at most
	// (the longest chain of wildcards each ending in the next, see wildcardDepth); 0 when it
	// has none. Each adds a stage of look-ups, for the next shorter wildcard that matches.
	multiLabel int
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
			switch stageOf(rt.Match) {
			case stageWildcard:
				s.wildcard = true
			case stageHostless:
				s.hostless = true
			}
		}
		s.multiLabel = wildcardDepth(wildcardSuffixes(cfg.HTTPRoutes, httpRoutes, t))
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

// routeMaps renders the two maps of every route table that a frontend serves, and the wildcard
// map of those with multi-label wildcard hosts: file name to content.
func routeMaps(cfg model.Config, httpRoutes []string) map[string][]byte {
	out := map[string][]byte{}
	for _, t := range routeTables(cfg) {
		out[ExactMap(t)], out[PrefixMap(t)] = mapFiles(cfg.HTTPRoutes, httpRoutes, t)
		if suffixes := wildcardSuffixes(cfg.HTTPRoutes, httpRoutes, t); len(suffixes) > 0 {
			out[WildcardMap(t)] = wildcardMap(suffixes)
		}
	}
	return out
}

// Multi-label wildcards (model.HTTPMatch.MultiLabel, the Gateway API's "*."): "*.example.com"
// matches every host ending in ".example.com", and the longest matching wildcard takes a request
// first. HAProxy's map_end looks a key up by its end, trying the entries in the order of the
// file; the wildcard map lists the suffixes (".example.com") longest first, each with its
// wildcard's map key ("**.example.com", see mapHost), so its first match is the longest. Once
// the exact host has missed, the frontend looks the host up there, then host+path in the route
// maps under that key. When none of that wildcard's routes matches, the next shorter wildcard
// that matches the host is the wildcard map's answer for the current wildcard without its "**."
// (for "**.bar.example.com", "bar.example.com" ends in ".example.com"): the chain is the same
// for every host the first wildcard matches, and it is as long as wildcardDepth says, so the
// frontend has one stage per link and a new wildcard is a map change, unless it makes a chain
// longer.

// wildcardSuffixes lists the suffixes of the multi-label wildcard hosts (".example.com" for
// "*.example.com") of the routes of a route table, longest first, then in byte order.
func wildcardSuffixes(routes []model.HTTPRoute, sections []string, table string) []string {
	var out []string
	for i, rt := range routes {
		if rt.Match.Table == table && sections[i] != "" && stageOf(rt.Match) == stageMultiLabel {
			out = append(out, rt.Match.Host[1:])
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		if c := cmp.Compare(len(b), len(a)); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return slices.Compact(out)
}

// wildcardDepth is the length of the longest chain of suffixes (sorted longest first) each of
// which ends in the next: how many multi-label wildcards can match one host.
func wildcardDepth(suffixes []string) int {
	depth := make(map[string]int, len(suffixes))
	most := 0
	for i := len(suffixes) - 1; i >= 0; i-- { // shortest first
		s, d := suffixes[i], 1
		// The shorter suffixes that s ends in start at one of its dots.
		for j := strings.IndexByte(s[1:], '.'); j >= 0; j = strings.IndexByte(s[1:], '.') {
			s = s[j+1:]
			if n, ok := depth[s]; ok {
				d = n + 1 // the longest such suffix has the longest chain
				break
			}
		}
		depth[suffixes[i]] = d
		most = max(most, d)
	}
	return most
}

// wildcardMap renders the wildcard map of a route table from its suffixes.
func wildcardMap(suffixes []string) []byte {
	var b strings.Builder
	for _, s := range suffixes {
		b.WriteString(s + " **" + s + "\n")
	}
	return []byte(b.String())
}
