// Package testbin builds the sesame command for the tests that run it as a
// process: cmd/sesame's process tests and the demo's test.
//
// Both build the binary that ships (CGO disabled), so that one compilation
// of the dependencies serves both. But go test runs packages at once, and
// two go build commands compiling the same packages at the same moment each
// compile them: the build cache shares only finished work. In a cold run the
// two packages' tests did exactly that, side by side. Build holds a lock
// file while it builds, so the second build starts once the first is done
// and finds every package in the cache.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Sesame is the sesame command's import path.
const Sesame = "github.com/sesame-idp/sesame/cmd/sesame"

// Build builds the package pkg (an import path of this module) with CGO
// disabled into the file out.
func Build(pkg, out string) error {
	unlock, err := lock(filepath.Join(os.TempDir(), "sesame-testbin.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	build := exec.Command("go", "build", "-o", out, pkg)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}
