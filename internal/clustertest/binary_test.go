// Proves that failpoints exist only in test builds: the invd this package
// built holds code of internal/failpoint exactly when the tests run with
// -tags failpoints (and then invd was built with it too). A normal build
// must carry no trace of the machinery, not even the points' names.
package clustertest

import (
	"bytes"
	"debug/elf"
	"os"
	"strings"
	"testing"

	"github.com/invsys/inv/internal/failpoint"
)

func TestInvdFailpointCodeOnlyInTaggedBuilds(t *testing.T) {
	if invdBin == "" {
		t.Skip("needs invd (not built with -short)")
	}
	f, err := elf.Open(invdBin)
	if err != nil {
		t.Skipf("not an ELF binary: %v", err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range syms {
		if strings.HasPrefix(s.Name, "github.com/invsys/inv/internal/failpoint.") {
			n++
		}
	}
	raw, err := os.ReadFile(invdBin)
	if err != nil {
		t.Fatal(err)
	}
	named := bytes.Contains(raw, []byte(failpoint.RaftAfterLogWrite)) || bytes.Contains(raw, []byte(failpoint.EnvSpec))
	if failpoint.Enabled != (n > 0) || failpoint.Enabled != named {
		t.Errorf("invd built with failpoints %v has %d failpoint symbols, point names in it: %v", failpoint.Enabled, n, named)
	}
}
