package api

import "time"

// Envelope encryption (see the README's "Rotating the secret key"): the store's data key is
// wrapped under each key-encryption key an engine may be given. These endpoints are the
// operator's: the unix socket, or the TCP API with the engine's token.
const (
	// PathSecretKeys lists the keys the data key is wrapped under (GET), or wraps it under
	// one more (POST a SecretKeyRequest): `ferry key rotate`.
	PathSecretKeys = "/v1/secret-keys"
	// PathSecretKey retires a key (DELETE): engines given it no longer start. `ferry key retire`.
	PathSecretKey = "/v1/secret-keys/{fingerprint}"
)

// SecretKeyRequest gives the engine a new key-encryption key: the base64 of its 32 bytes.
type SecretKeyRequest struct {
	Key string `json:"key"`
}

// SecretKey is a key the data key is wrapped under, by its fingerprint; the key itself is never
// stored nor answered.
type SecretKey struct {
	Fingerprint string    `json:"fingerprint"`
	CreatedAt   time.Time `json:"created_at"`
	// InUse is set for the key of the engine that answered.
	InUse bool `json:"in_use"`
}

// SecretKeyList answers GET PathSecretKeys, oldest key first.
type SecretKeyList struct {
	Keys []SecretKey `json:"keys"`
}
