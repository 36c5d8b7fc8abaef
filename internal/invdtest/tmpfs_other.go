//go:build !linux

package invdtest

import "errors"

var errNoTmpfs = errors.New("tmpfs mounts are for Linux only")

// MountTmpfs is Linux only; elsewhere it says so and the caller skips.
func MountTmpfs(string, int64) (func() error, error) { return nil, errNoTmpfs }

// Fill is Linux only.
func Fill(string, int64) error { return errNoTmpfs }

// FreeBytes is Linux only.
func FreeBytes(string) (int64, error) { return 0, errNoTmpfs }
