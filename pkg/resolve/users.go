package resolve

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/types"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// BasicAuth is a basic-auth Secret decoded: the users HAProxy checks, and what was left out.
type BasicAuth struct {
	// Users holds the first entry of each user name, in the order of the Secret (the lines of
	// key "auth", then the other keys by name), at most limits.MaxUsersPerSecret. It is shared
	// by every route that uses the Secret: treat it as read-only.
	Users []model.User
	// Invalid are the entries that are not a user name with a crypt(3) hash, by reason, in the
	// order the reasons first appear; Repeated repeat an earlier user name; OverLimit are
	// usable users beyond limits.MaxUsersPerSecret.
	Invalid             []ignored
	Repeated, OverLimit ignored
}

// ignored counts entries left out of a basic-auth Secret for one reason and says where the
// first few are.
type ignored struct {
	Count int
	// Where are the positions of the first maxListed entries ("line 3 of key auth", "key bob").
	Where []string
	// Reason is why they are left out (Invalid only); it never quotes an entry.
	Reason string
}

// maxListed is how many positions of ignored entries a summary names, per reason.
const maxListed = 5

// maxReasons is how many reasons of invalid entries a summary tells apart; the entries of
// further reasons count with the last.
const maxReasons = 4

func (ig *ignored) add(where string) {
	ig.Count++
	if len(ig.Where) < maxListed {
		ig.Where = append(ig.Where, where)
	}
}

func (ig ignored) String() string {
	s := strings.Join(ig.Where, ", ")
	if ig.Count > len(ig.Where) {
		s += ", ..."
	}
	return s
}

// invalid records an invalid entry under its reason.
func (b *BasicAuth) invalid(where, reason string) {
	i := slices.IndexFunc(b.Invalid, func(ig ignored) bool { return ig.Reason == reason })
	if i < 0 {
		if len(b.Invalid) == maxReasons {
			i = maxReasons - 1
		} else {
			b.Invalid = append(b.Invalid, ignored{Reason: reason})
			i = len(b.Invalid) - 1
		}
	}
	b.Invalid[i].add(where)
}

// InvalidCount is the number of entries that are not a user name with a crypt(3) hash.
func (b BasicAuth) InvalidCount() int {
	n := 0
	for _, ig := range b.Invalid {
		n += ig.Count
	}
	return n
}

// Summary says in one sentence what was left out of the Secret, or "" when nothing was. It never
// quotes a user name or a hash: only positions in the Secret, and why.
func (b BasicAuth) Summary() string {
	var parts []string
	if n := b.InvalidCount(); n > 0 {
		var groups []string
		for _, ig := range b.Invalid {
			groups = append(groups, fmt.Sprintf("%s (%s)", ig, ig.Reason))
		}
		parts = append(parts, fmt.Sprintf("%d not a user name with a crypt(3) hash: %s", n, strings.Join(groups, "; ")))
	}
	if n := b.Repeated.Count; n > 0 {
		parts = append(parts, fmt.Sprintf("%d repeating an earlier user, where the first one counts (%s)", n, b.Repeated))
	}
	if n := b.OverLimit.Count; n > 0 {
		parts = append(parts, fmt.Sprintf("%d beyond the limit of %d users per Secret (%s)", n, limits.MaxUsersPerSecret, b.OverLimit))
	}
	if len(parts) == 0 {
		return ""
	}
	total := b.InvalidCount() + b.Repeated.Count + b.OverLimit.Count
	return fmt.Sprintf("%d entries are ignored: %s; %d users are usable", total, strings.Join(parts, "; "), len(b.Users))
}

type basicAuthResult struct {
	b   BasicAuth
	err error
}

// BasicAuth decodes the basic-auth Secret key once per pass, however many routes use it.
func (c *Cluster) BasicAuth(key types.NamespacedName) (BasicAuth, error) {
	if r, ok := c.users[key]; ok {
		return r.b, r.err
	}
	var r basicAuthResult
	if sec, ok := c.secrets[key]; !ok {
		r.err = ErrNotFound
	} else {
		r.b = ParseBasicAuth(sec.Data)
	}
	c.users[key] = r
	return r.b, r.err
}

// ParseBasicAuth reads the users of a basic-auth Secret's data, in either form: the key "auth"
// holding htpasswd lines "user:crypt-hash" (as ingress-nginx; blank lines and lines starting
// with "#" are skipped), or one key per user whose value is its crypt hash (as haproxytech).
// Its cost is linear in the size of the data.
func ParseBasicAuth(data map[string][]byte) BasicAuth {
	var b BasicAuth
	seen := map[string]bool{}
	add := func(where, user, hash string) {
		// The reasons never quote the user name or the hash.
		switch invalid := errors.Join(limits.CheckToken(user), limits.CheckCryptHash(hash)); {
		case invalid != nil:
			b.invalid(where, strings.ReplaceAll(invalid.Error(), "\n", "; "))
		case seen[user]:
			b.Repeated.add(where)
		case len(b.Users) >= limits.MaxUsersPerSecret:
			b.OverLimit.add(where)
		default:
			seen[user] = true
			b.Users = append(b.Users, model.User{Name: user, Hash: hash})
		}
	}
	for i, line := range strings.Split(string(data["auth"]), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, _ := strings.Cut(line, ":")
		add(fmt.Sprintf("line %d of key auth", i+1), user, hash)
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		if k != "auth" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		add("key "+k, k, strings.TrimSpace(string(data[k])))
	}
	return b
}
