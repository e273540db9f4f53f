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
