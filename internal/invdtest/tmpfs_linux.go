//go:build linux

package invdtest

import (
	"fmt"
	"os"
	"syscall"
)

// MountTmpfs mounts a tmpfs of size bytes on dir (created if needed), so a
// test can fill a small filesystem instead of the machine's disk. It needs
// root (CAP_SYS_ADMIN); the error says why it could not, and the caller
// skips. unmount detaches it (lazily, should a file still be open).
func MountTmpfs(dir string, size int64) (unmount func() error, err error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("mounting a tmpfs needs root; running as uid %d", os.Geteuid())
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		return nil, fmt.Errorf("mount -t tmpfs -o size=%d on %s: %w", size, dir, err)
	}
	return func() error { return syscall.Unmount(dir, syscall.MNT_DETACH) }, nil
}

// Fill allocates a file at path of n bytes (fallocate: the blocks are taken
// at once, with no data written), to bring a filesystem's free space down.
func Fill(path string, n int64) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, n); err != nil {
		return fmt.Errorf("fallocate %d bytes in %s: %w", n, path, err)
	}
	return nil
}

// FreeBytes returns the bytes of dir's filesystem free to unprivileged users.
func FreeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * st.Bsize, nil
}
