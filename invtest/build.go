package invtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/invsys/inv/internal/invdtest"
)

// invdPackage is the command Start builds when it is given no binary.
const invdPackage = "github.com/invsys/inv/cmd/invd"

// built is the binary this process built, once.
var built struct {
	once sync.Once
	path string
	err  error
}

// invdBinary returns the invd this process built, building it on first use.
func invdBinary() (string, error) {
	built.once.Do(func() { built.path, built.err = buildInvd() })
	return built.path, built.err
}

// buildInvd builds invd from the source of the inv module the caller
// depends on (or is) into the user's cache folder, under a name of that
// source folder, so that test processes of two checkouts never share a
// binary. The build goes to a file of this process, then is renamed into
// place: test processes of one checkout running at once each get a whole
// binary.
func buildInvd() (string, error) {
	modDir, err := goOutput("list", "-m", "-f", "{{.Dir}}", "github.com/invsys/inv")
	if err != nil {
		return "", fmt.Errorf("find the inv module (set INV_INVD to an invd binary to skip the build): %w", err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	key := sha256.Sum256([]byte(fmt.Sprint(modDir, invdtest.RaceEnabled)))
	dir := filepath.Join(cache, "inv-invtest", hex.EncodeToString(key[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "invd")
	tmp := fmt.Sprintf("%s.%d", out, os.Getpid())
	args := []string{"build", "-o", tmp}
	if invdtest.RaceEnabled {
		args = append(args, "-race")
	}
	if _, err := goOutput(append(args, invdPackage)...); err != nil {
		if !strings.Contains(err.Error(), "go.sum") {
			return "", fmt.Errorf("build invd: %w", err)
		}
		// The caller's go.sum lacks what invd needs beyond the client:
		// build against a copy of go.mod and go.sum that the go command
		// may complete, leaving the caller's own untouched.
		if err := buildWithModCopy(tmp, args); err != nil {
			return "", fmt.Errorf("build invd: %w", err)
		}
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	return out, nil
}

// buildWithModCopy runs the build with -mod=mod on a temporary copy of the
// main module's go.mod and go.sum (go build -modfile).
func buildWithModCopy(tmp string, args []string) error {
	gomod, err := goOutput("env", "GOMOD")
	if err != nil || gomod == "" || gomod == os.DevNull {
		return fmt.Errorf("no go.mod to copy (%v)", err)
	}
	dir, err := os.MkdirTemp("", "invtest-mod-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, f := range []struct{ from, to string }{{gomod, "go.mod"}, {strings.TrimSuffix(gomod, ".mod") + ".sum", "go.sum"}} {
		b, err := os.ReadFile(f.from)
		if err != nil && f.to == "go.mod" {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f.to), b, 0o644); err != nil {
			return err
		}
	}
	args = append(args[:1:1], append([]string{"-mod=mod", "-modfile=" + filepath.Join(dir, "go.mod")}, args[1:]...)...)
	_, err = goOutput(append(args, invdPackage)...)
	return err
}

// goOutput runs the go command in the current folder and returns its
// trimmed output; the error carries what it printed.
func goOutput(args ...string) (string, error) {
	var out, errb bytes.Buffer
	cmd := exec.Command("go", args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(out.String()), nil
}
