package credentials

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Keyring holds the AES-256-GCM keys that seal credentials, by key id. The first key seals; every
// key opens, so the encryption key can rotate: add a new key first, keep the old ones until no
// credential sealed with them remains.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
}

// ParseKeyring reads "kid:base64key[,kid:base64key…]" (32-byte keys, standard or URL base64).
func ParseKeyring(spec string) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		kid, b64, ok := strings.Cut(part, ":")
		if !ok || kid == "" {
			return nil, errors.New("CREDENTIAL_KEYS: write each key as <key id>:<base64 of 32 random bytes>")
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			raw, err = base64.RawURLEncoding.DecodeString(b64)
		}
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("CREDENTIAL_KEYS: key %q must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)", kid)
		}
		block, _ := aes.NewCipher(raw)
		aead, _ := cipher.NewGCM(block)
		if _, dup := k.aeads[kid]; dup {
			return nil, fmt.Errorf("CREDENTIAL_KEYS: key id %q appears twice", kid)
		}
		k.aeads[kid] = aead
		if k.current == "" {
			k.current = kid
		}
	}
	if k.current == "" {
		return nil, errors.New("CREDENTIAL_KEYS is empty: give at least one <key id>:<base64 32 bytes>")
	}
	return k, nil
}

// Seal encrypts plaintext bound to aad with the current key; sealed is nonce then ciphertext.
func (k *Keyring) Seal(plaintext, aad []byte) (kid string, sealed []byte) {
	aead := k.aeads[k.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	return k.current, aead.Seal(nonce, nonce, plaintext, aad)
}

// Open decrypts what Seal returned; it fails for an unknown key id or tampered data.
func (k *Keyring) Open(kid string, sealed, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[kid]
	if !ok {
		return nil, fmt.Errorf("credential sealed with key %q, which is not in CREDENTIAL_KEYS", kid)
	}
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("sealed credential is truncated")
	}
	return aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], aad)
}
