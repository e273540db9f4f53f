package haproxy

import (
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

func TestConditionChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*model.HTTPRoute)
	}{
		{"a header value with a quote", func(r *model.HTTPRoute) { r.Headers = []model.ValueMatch{{Name: "X", Value: `a"b`}} }},
		{"a regex with a space", func(r *model.HTTPRoute) { r.Match.Kind, r.Match.Path = model.MatchRegex, "^/a b" }},
		{"a regex that RE2 refuses", func(r *model.HTTPRoute) { r.Match.Kind, r.Match.Path = model.MatchRegex, "^/(a" }},
		{"a regex that is an operator", func(r *model.HTTPRoute) { r.Query = []model.ValueMatch{{Name: "q", Value: "||", Regex: true}} }},
		{"a lower-case method", func(r *model.HTTPRoute) { r.Method = "get" }},
		{"a header name with a colon", func(r *model.HTTPRoute) { r.Headers = []model.ValueMatch{{Name: "X:Y", Value: "a"}} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := model.HTTPRoute{Match: model.HTTPMatch{Host: "a.example", Path: "/", Kind: model.MatchPrefix}}
			tc.edit(&rt)
			if errs := checkConditions("route", rt); len(errs) == 0 {
				t.Errorf("accepted %+v", rt)
			}
		})
	}
}

// Equally specific conditional routes of one host are tried in the order of their ranks, not in
// the order their conditions sort in (Gateway API: the earlier rule wins a tie).
func TestConditionalRulesTieBreakByRank(t *testing.T) {
	route := func(header, section string, rank int) model.HTTPRoute {
		return model.HTTPRoute{Match: model.HTTPMatch{Host: "a.example", Path: "/", Kind: model.MatchPrefix},
			Headers: []model.ValueMatch{{Name: header, Value: "x"}}, Rank: rank,
			Backends: []model.WeightedBackend{{Name: section, Weight: 1}}}
	}
	for _, tc := range []struct {
		name  string
		ranks [2]int
		want  []string
	}{
		{"the lower rank first", [2]int{1, 0}, []string{"zeta", "alpha"}},
		{"whatever the conditions' order", [2]int{0, 1}, []string{"alpha", "zeta"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			routes := []model.HTTPRoute{route("A-Header", "alpha", tc.ranks[0]), route("Z-Header", "zeta", tc.ranks[1])}
			var got []string
			for _, rl := range conditionalRules(routes, []string{"alpha", "zeta"}, "") {
				got = append(got, rl.section)
			}
			if len(got) != 2 || got[0] != tc.want[0] || got[1] != tc.want[1] {
				t.Errorf("rules in order %v, want %v", got, tc.want)
			}
		})
	}
}
