package annotations

import (
	"strings"
	"testing"
)

// TestPeerKeys checks the haproxytech table against the registry and against what Parse does
// with each key.
func TestPeerKeys(t *testing.T) {
	keys := PeerKeys()
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k.Name] {
			t.Errorf("haproxytech key %q is listed twice", k.Name)
		}
		seen[k.Name] = true
		if (k.Status == CompatPartial || k.Status == CompatRefused) && k.Difference == "" {
			t.Errorf("%s is %s without a difference", k.Name, k.Status)
		}
		if k.Equivalent == "" {
			t.Errorf("%s has no equivalent", k.Name)
		}

		// What Parse does with the key, under each prefix and in the ConfigMap, must match its status.
		for _, p := range PeerPrefixes {
			key := p + k.Name
			l, probs := Parse(SourceIngress, map[string]string{key: "x"})
			_, read := l.values[k.Setting]
			recognised := read || len(probs) == 1 && (strings.Contains(probs[0].String(), "invalid value") ||
				strings.Contains(probs[0].Message, "not allowed"))
			switch k.Status {
			case CompatSupported, CompatPartial:
				if !recognised {
					t.Errorf("%s is %s, but Parse does not read it as %s: %v", key, k.Status, k.Setting, probs)
				}
			case CompatRefused, CompatNotSupported:
				if len(probs) != 1 || !strings.Contains(probs[0].Message, "not supported") {
					t.Errorf("%s is %s, but Parse says %v", key, k.Status, probs)
				}
			}
		}
		_, probs := Parse(SourceConfigMap, map[string]string{k.Name: "x"})
		if k.Status == CompatNotSupported && (len(probs) != 1 || probs[0].Severity != Warning) {
			t.Errorf("ConfigMap key %s is not supported, but Parse says %v", k.Name, probs)
		}
	}
	for name := range peerNotes {
		if !seen[name] {
			t.Errorf("peerNotes has a note for %q, which is not a haproxytech key of the registry", name)
		}
	}
	for _, s := range peerOtherFormat {
		d := s.definition()
		if len(d.Aliases) > 0 {
			t.Errorf("%s is in peerOtherFormat but has aliases", d.Name)
		}
	}
}
