package resolve

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

const sha512 = "$6$Zx8Q2pLr4tVw9sKe$WTdDeqQlyxzxG0OzyyAH3IYnB6ZdVV6i00vh9gwcqfAeH9VUDn3CGbGoIKRrKZpPEQmud/FIC0UQJkeoEsPoU/"

// Both forms of basic-auth Secret are read; what is left out is counted, by reason, with the
// positions of the first few, and never a user name or a hash.
func TestParseBasicAuth(t *testing.T) {
	data := map[string][]byte{
		"auth":  []byte("# staff\nalice:" + sha512 + "\n\nbob:not-a-hash\nalice:" + sha512 + "\nbad user:" + sha512 + "\n"),
		"carol": []byte(sha512 + "\n"),
		"dave":  []byte("$apr1$abcdefgh$0123456789abcdefghijkl"),
	}
	b := ParseBasicAuth(data)
	want := []model.User{{Name: "alice", Hash: sha512}, {Name: "carol", Hash: sha512}}
	if !slices.Equal(b.Users, want) {
		t.Errorf("users = %v, want %v", b.Users, want)
	}
	sum := b.Summary()
	wantSum := "4 entries are ignored: 3 not a user name with a crypt(3) hash: line 4 of key auth (want a crypt(3) hash: 13 to 256 bytes of A-Z a-z 0-9 . / $ =); " +
		"line 6 of key auth (want 1 to 64 bytes of A-Z a-z 0-9 _ . -); key dave (an Apache MD5 hash ($apr1$) is not a crypt(3) hash); " +
		"1 repeating an earlier user, where the first one counts (line 5 of key auth); 2 users are usable"
	if sum != wantSum {
		t.Errorf("summary:\ngot  %s\nwant %s", sum, wantSum)
	}
	for _, secret := range []string{"alice", "bob", "not-a-hash", sha512[3:19]} {
		if strings.Contains(sum, secret) {
			t.Errorf("the summary quotes %q from the Secret: %s", secret, sum)
		}
	}
	if s := ParseBasicAuth(map[string][]byte{"auth": []byte("alice:" + sha512)}).Summary(); s != "" {
		t.Errorf("a clean Secret has the summary %q", s)
	}
}

// A Secret of many lines (the duplicate check is a set, not a scan of the users) keeps at most
// limits.MaxUsersPerSecret users, and names only the first few positions of what it leaves out.
func TestParseBasicAuthBounded(t *testing.T) {
	var b strings.Builder
	const n = 3 * limits.MaxUsersPerSecret
	for i := range n {
		fmt.Fprintf(&b, "user%d:%s\n", i, sha512)
	}
	b.WriteString("user0:" + sha512 + "\n")
	ba := ParseBasicAuth(map[string][]byte{"auth": []byte(b.String())})
	if len(ba.Users) != limits.MaxUsersPerSecret {
		t.Errorf("got %d users, want the limit %d", len(ba.Users), limits.MaxUsersPerSecret)
	}
	if ba.OverLimit.Count != n-limits.MaxUsersPerSecret || ba.Repeated.Count != 1 || ba.InvalidCount() != 0 {
		t.Errorf("counts: over the limit %d, repeated %d, invalid %d", ba.OverLimit.Count, ba.Repeated.Count, ba.InvalidCount())
	}
	if len(ba.OverLimit.Where) != maxListed {
		t.Errorf("positions named: %v, want the first %d", ba.OverLimit.Where, maxListed)
	}
}

// A basic-auth Secret is decoded once per pass: every look-up returns the same users (the same
// backing array), and a missing Secret is ErrNotFound.
func TestBasicAuthDecodedOncePerPass(t *testing.T) {
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "users"},
		Data: map[string][]byte{"auth": []byte("alice:" + sha512)}}
	c := New(nil, nil, []*corev1.Secret{sec}, AddressPolicy{})
	key := types.NamespacedName{Namespace: "ns", Name: "users"}
	first, err := c.BasicAuth(key)
	if err != nil || len(first.Users) != 1 {
		t.Fatalf("BasicAuth = %v, %v", first, err)
	}
	sec.Data = nil // the cached result stands
	again, _ := c.BasicAuth(key)
	if len(again.Users) != 1 || &again.Users[0] != &first.Users[0] {
		t.Errorf("the second look-up decoded the Secret again")
	}
	if _, err := c.BasicAuth(types.NamespacedName{Namespace: "ns", Name: "missing"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing Secret: %v, want ErrNotFound", err)
	}
}
