package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The pickup-code secret keys the HMAC that derives every pickup code
// (docs/adr/0005). Codes must survive restarts, so a secret invd makes for
// itself is kept in the data folder, readable by its owner only.
const (
	secretFile     = "pickup-secret"
	secretBytes    = 32 // HMAC-SHA256's block of key material
	minSecretBytes = 16 // below this a configured secret is too guessable
)

// pickupSecret returns the configured secret, else the one stored in dir,
// else a new random one, stored in dir first.
func pickupSecret(dir, configured string) ([]byte, error) {
	if configured != "" {
		return decodeSecret(configured)
	}
	path := filepath.Join(dir, secretFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return decodeSecret(string(b))
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	secret := make([]byte, secretBytes)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	if err := writeSecret(dir, path, secret); err != nil {
		return nil, err
	}
	return secret, nil
}

// writeSecret creates the file (never overwriting one) and syncs it and its
// folder, so that a crash right after the first start cannot leave codes
// issued under a secret that is lost.
func writeSecret(dir, path string, secret []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("pickup secret: %w", err)
	}
	_, err = f.WriteString(strings.ToLower(hex.EncodeToString(secret)) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pickup secret: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
