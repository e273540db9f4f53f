package model

import (
	"strings"

	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// ValidBackendName reports whether s may be used as a backend name: 1 to limits.MaxBackendNameLen
// characters from [a-z0-9_-].
func ValidBackendName(s string) bool {
	if s == "" || len(s) > limits.MaxBackendNameLen {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidMapHost reports whether s is empty, a lower-case DNS name, or "*." followed by one.
func ValidMapHost(s string) bool {
	if s == "" {
		return true
	}
	s = strings.TrimPrefix(s, "*.")
	if len(s) > limits.MaxHostLen {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > limits.MaxLabelLen || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// ValidMapPath reports whether s is an absolute URL path made only of RFC 3986 path characters,
// so it can never split a map line or carry a comment.
func ValidMapPath(s string) bool {
	if !strings.HasPrefix(s, "/") || len(s) > limits.MaxURLLen {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("/-._~%!$&'()*+,;=:@", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// ValidCertName reports whether s is a certificate file name as made by CertName.
func ValidCertName(s string) bool {
	hex, ok := strings.CutSuffix(s, ".pem")
	if !ok || len(hex) != 64 {
		return false
	}
	for _, c := range []byte(hex) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
