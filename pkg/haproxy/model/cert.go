package model

import (
	"crypto/sha256"
	"encoding/hex"
)

// CertName names a certificate file after its content, so that file names never come from user
// strings and a changed certificate gets a new name.
func CertName(pem []byte) string {
	sum := sha256.Sum256(pem)
	return hex.EncodeToString(sum[:]) + ".pem"
}
