package directory

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// Sealer encrypts provider secrets at rest with AES-256-GCM. The provider id
// is the additional data, so a ciphertext copied onto another provider's row
// does not decrypt.
type Sealer struct {
	aead cipher.AEAD
	// fpKey keys secret fingerprints: derived from the sealing key, so a
	// fingerprint in the history cannot be checked against guessed secrets
	// by anyone without the key.
	fpKey []byte
}

// sealVersion prefixes every ciphertext so the format (or key) can change.
const sealVersion = 1

// NewSealer takes a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("directory: secret key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("directory: secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("directory: secret key: %w", err)
	}
	fp := sha256.Sum256(append([]byte("plaza directory secret fingerprint\x00"), key...))
	return &Sealer{aead: aead, fpKey: fp[:]}, nil
}

// Fingerprint names a provider's secret in the history without revealing
// it: the first 64 bits of an HMAC keyed by the sealing key, over the id
// and the secret. Two rotations to the same secret show the same value.
func (s *Sealer) Fingerprint(id, secret string) string {
	m := hmac.New(sha256.New, s.fpKey)
	m.Write([]byte(id))
	m.Write([]byte{0})
	m.Write([]byte(secret))
	return "fp:" + hex.EncodeToString(m.Sum(nil)[:8])
}

// fingerprintSealed is Fingerprint of a sealed secret; "none" when there
// is none (or it does not open: the history must not fail a rotation).
func (s *Sealer) fingerprintSealed(id string, sealed []byte) string {
	if sealed == nil {
		return "none"
	}
	secret, err := s.Open(id, sealed)
	if err != nil {
		return "unreadable"
	}
	return s.Fingerprint(id, secret)
}

// ParseSealerKey decodes a key given in configuration as standard base64 of
// 32 bytes (e.g. `openssl rand -base64 32`).
func ParseSealerKey(s string) (*Sealer, error) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("directory: secret key is not base64: %w", err)
	}
	return NewSealer(key)
}

// Seal encrypts secret for provider id.
func (s *Sealer) Seal(id, secret string) ([]byte, error) {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(secret)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("directory: nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:], []byte(secret), []byte(id)), nil
}

// Open decrypts what Seal produced for the same provider id.
func (s *Sealer) Open(id string, sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return "", errors.New("directory: sealed secret: unknown format")
	}
	plain, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(id))
	if err != nil {
		return "", fmt.Errorf("directory: sealed secret of %s: %w", id, err)
	}
	return string(plain), nil
}
