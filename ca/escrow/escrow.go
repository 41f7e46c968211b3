// Package escrow keeps server-generated private keys recoverable: it seals
// a key with AES-256-GCM under a key-encryption key kept in a file of its
// own, so the store holds only ciphertext.
//
// Each sealed blob is bound to its certificate's serial (the GCM
// additional data), so a blob copied onto another record does not open.
// The key-encryption key never leaves its file (mode 0600); whoever can
// read the data dir's escrow.key and the store can recover keys, which is
// the point of escrow, so keep backups of both apart.
package escrow

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// version prefixes every blob so the format can change later.
const version = 1

// keyLen is the AES-256 key length.
const keyLen = 32

// ErrOpen means a blob did not decrypt: wrong key file, wrong serial, or a
// damaged blob. It says nothing more on purpose.
var ErrOpen = errors.New("escrow: blob does not open with this key for this serial")

// Sealer seals and opens escrowed keys.
type Sealer struct {
	aead cipher.AEAD
}

// LoadOrCreate reads the key-encryption key at path (64 hex characters),
// creating it with a fresh random key (mode 0600) when it does not exist.
func LoadOrCreate(path string) (*Sealer, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return create(path)
	}
	if err != nil {
		return nil, fmt.Errorf("escrow: %w", err)
	}
	return load(path, data)
}

// Load reads an existing key-encryption key; it never creates one, so a
// recovery against the wrong data dir fails instead of minting a key.
func Load(path string) (*Sealer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("escrow: %w", err)
	}
	return load(path, data)
}

func load(path string, data []byte) (*Sealer, error) {
	key, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != keyLen {
		return nil, fmt.Errorf("escrow: %s does not hold a %d-byte hex key", path, keyLen)
	}
	return newSealer(key)
}

func create(path string) (*Sealer, error) {
	key := make([]byte, keyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("escrow: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("escrow: %w", err)
	}
	// Written under a temporary name, then hard-linked into place: the
	// link fails if the file exists, so two racing first starts agree on
	// one key, and nobody ever reads a half-written file.
	f, err := os.CreateTemp(filepath.Dir(path), ".escrow-key-*")
	if err != nil {
		return nil, fmt.Errorf("escrow: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("escrow: write key: %w", err)
	}
	if err := os.Link(tmp, path); errors.Is(err, os.ErrExist) {
		return Load(path)
	} else if err != nil {
		return nil, fmt.Errorf("escrow: %w", err)
	}
	// Blobs sealed under this key are durable; the key's name must be too.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return nil, fmt.Errorf("escrow: sync %s: %w", filepath.Dir(path), err)
		}
	}
	return newSealer(key)
}

func newSealer(key []byte) (*Sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("escrow: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("escrow: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts key (PKCS#8 DER) for the certificate with serialHex.
func (s *Sealer) Seal(serialHex string, key []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("escrow: %w", err)
	}
	out := append([]byte{version}, nonce...)
	return s.aead.Seal(out, nonce, key, []byte(serialHex)), nil
}

// Open decrypts a blob made by Seal for the same serial.
func (s *Sealer) Open(serialHex string, blob []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(blob) < 1+n+s.aead.Overhead() || blob[0] != version {
		return nil, ErrOpen
	}
	key, err := s.aead.Open(nil, blob[1:1+n], blob[1+n:], []byte(serialHex))
	if err != nil {
		return nil, ErrOpen
	}
	return key, nil
}
