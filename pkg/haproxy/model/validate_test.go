package model_test

import (
	"strings"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// hostOfLength builds a valid host name of exactly n bytes from labels of at most 63.
func hostOfLength(n int) string {
	var labels []string
	for n > 0 {
		l := min(n, 63)
		if n-l == 1 { // a dot needs a label after it
			l--
		}
		labels = append(labels, strings.Repeat("a", l))
		n -= l + 1
	}
	return strings.Join(labels, ".")
}

func TestValidBackendName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"a namespace_service_port name", "default_web_80", true},
		{"a named port", "shop_api-v2_http", true},
		{"a single letter", "a", true},
		{"digits only", "0123", true},
		{"hyphens and underscores only", "-_-", true},
		{"the longest name", strings.Repeat("a", limits.MaxBackendNameLen), true},
		{"the longest name translation composes", strings.Repeat("n", 63) + "_" + strings.Repeat("s", 63) + "_" +
			strings.Repeat("p", 15) + "_canary_" + strings.Repeat("c", 63) + "_0123abcd", true},
		{"empty", "", false},
		{"one character too many", strings.Repeat("a", limits.MaxBackendNameLen+1), false},
		{"upper case", "Default_web_80", false},
		{"a dot", "default.web", false},
		{"a space", "default web", false},
		{"a tab", "default\tweb", false},
		{"a newline", "default\nweb", false},
		{"a carriage return", "default\rweb", false},
		{"a #", "default#web", false},
		{"a double quote", `default"web`, false},
		{"a single quote", "default'web", false},
		{"a backslash", `default\web`, false},
		{"a slash", "default/web", false},
		{"a colon", "default:80", false},
		{"a percent sign", "%[env(HOME)]", false},
		{"a NUL byte", "default\x00web", false},
		{"non-ASCII letters", "w\u00e9b", false},
		{"a non-ASCII digit", "web\u0661", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := model.ValidBackendName(tt.in); got != tt.want {
				t.Errorf("ValidBackendName(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidMapHost(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"empty, meaning every host", "", true},
		{"a DNS name", "www.example.com", true},
		{"a single label", "localhost", true},
		{"digits and hyphens", "a-1.b2-c.example", true},
		{"a numeric label", "123.example.com", true},
		{"a wildcard", "*.example.com", true},
		{"a wildcard over a single label", "*.local", true},
		{"a label of 63 characters", strings.Repeat("a", 63) + ".com", true},
		{"253 characters", hostOfLength(253), true},
		{"a punycode label", "xn--caf-dma.example", true},
		{"upper case", "Example.com", false},
		{"a trailing dot", "example.com.", false},
		{"a leading dot", ".example.com", false},
		{"an empty label", "a..com", false},
		{"a label starting with a hyphen", "-a.example.com", false},
		{"a label ending with a hyphen", "a-.example.com", false},
		{"a label of 64 characters", strings.Repeat("a", 64) + ".com", false},
		{"254 characters", hostOfLength(254), false},
		{"a bare wildcard", "*", false},
		{"a wildcard without a domain", "*.", false},
		{"a wildcard without a dot", "*example.com", false},
		{"a wildcard in the middle", "a.*.example.com", false},
		{"a wildcard at the end", "example.*", false},
		{"a double wildcard", "*.*.example.com", false},
		{"a partial-label wildcard", "a*.example.com", false},
		{"an underscore", "_dmarc.example.com", false},
		{"a port", "example.com:80", false},
		{"a slash", "example.com/admin", false},
		{"a space", "exa mple.com", false},
		{"a newline", "example.com\n", false},
		{"a carriage return", "example.com\r", false},
		{"a tab", "example\t.com", false},
		{"a #", "exa#mple.com", false},
		{"a quote", `"example.com"`, false},
		{"a percent sign", "%[env(HOME)]", false},
		{"an IPv6 literal", "[::1]", false},
		{"a NUL byte", "example.com\x00", false},
		{"non-ASCII letters", "caf\u00e9.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := model.ValidMapHost(tt.in); got != tt.want {
				t.Errorf("ValidMapHost(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidMapPath(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"the root", "/", true},
		{"a path", "/api/v1/users", true},
		{"a trailing slash", "/api/", true},
		{"double slashes", "//a//b", true},
		{"mixed case", "/Foo/BAR", true},
		{"unreserved characters", "/a-b.c_d~e", true},
		{"percent-encoding", "/a%20b%2F", true},
		{"sub-delimiters", "/!$&'()*+,;=", true},
		{"a colon and an at sign", "/user:pass@host", true},
		{"2048 bytes", "/" + strings.Repeat("a", 2047), true},
		{"empty", "", false},
		{"relative", "api", false},
		{"2049 bytes", "/" + strings.Repeat("a", 2048), false},
		{"a space", "/a b", false},
		{"a tab", "/a\tb", false},
		{"a newline", "/a\nb", false},
		{"a carriage return", "/a\rb", false},
		{"a NUL byte", "/a\x00b", false},
		{"a DEL byte", "/a\x7fb", false},
		{"a #", "/a#b", false},
		{"a query", "/a?b=c", false},
		{"a double quote", `/a"b`, false},
		{"a backslash", `/a\b`, false},
		{"a sample fetch", "/%[env(HOME)]", false},
		{"braces", "/{a}", false},
		{"angle brackets", "/<a>", false},
		{"a pipe", "/a|b", false},
		{"a caret", "/a^b", false},
		{"a backquote", "/a`b", false},
		{"non-ASCII letters", "/caf\u00e9", false},
		{"a line separator", "/a\u2028b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := model.ValidMapPath(tt.in); got != tt.want {
				t.Errorf("ValidMapPath(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
