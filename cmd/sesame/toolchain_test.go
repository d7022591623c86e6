package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// wantToolchain is the Go release Sesame is built with: the first without
// known vulnerabilities in what Sesame uses.
const wantToolchain = "go1.27.3"

// TestToolchainIsPinnedEverywhere keeps go.mod and every place that runs the
// go command on one release. The machines' go is pinned with
// GOTOOLCHAIN=local, so a script that does not export GOTOOLCHAIN runs
// whatever go is installed, or fails on go.mod's requirement.
func TestToolchainIsPinnedEverywhere(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	read := func(name string) string {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	gomod := read("go.mod")
	if !regexp.MustCompile(`(?m)^go 1\.27\.3$`).MatchString(gomod) {
		t.Errorf("go.mod does not say `go 1.27.3`")
	}
	if m := regexp.MustCompile(`(?m)^toolchain (\S+)$`).FindStringSubmatch(gomod); m != nil && m[1] != wantToolchain {
		t.Errorf("go.mod names toolchain %s, want %s", m[1], wantToolchain)
	}

	export := "export GOTOOLCHAIN=" + wantToolchain
	runsGo := regexp.MustCompile(`(?m)^\s*(?:[A-Z_]+=\S+\s+)*go (?:run|test|build|vet|version|install|generate)\b`)
	// exportsFirst reports whether text exports GOTOOLCHAIN before it
	// first runs go (text that never runs go needs nothing).
	exportsFirst := func(text string) bool {
		loc := runsGo.FindStringIndex(text)
		if loc == nil {
			return true
		}
		i := strings.Index(text, export)
		return i >= 0 && i < loc[0]
	}
	var scripts []string
	for _, pattern := range []string{".ci/*", "*.sh", "*/*.sh", "*/*/*.sh"} {
		m, _ := filepath.Glob(filepath.Join(root, pattern))
		scripts = append(scripts, m...)
	}
	for _, path := range scripts {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !exportsFirst(string(raw)) {
			t.Errorf("%s runs go without `%s` first", path, export)
		}
	}

	// The README's two commands: the block that runs Sesame and the one
	// that runs the tests.
	readme := read("README.md")
	section, _, _ := strings.Cut(readme[strings.Index(readme, "## The two commands"):], "\n## Five")
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1)
	// The test command is the one CI runs, word for word.
	testCommand := regexp.MustCompile(`(?m)^go test -race.*$`).FindString(read(".ci/run"))
	var run, test bool
	for _, b := range blocks {
		if strings.Contains(b[1], "go run ./cmd/sesame serve") {
			run = true
		}
		if testCommand != "" && strings.Contains(b[1], testCommand+"\n") {
			test = true
		}
		if !exportsFirst(b[1]) {
			t.Errorf("README's command %q runs go without `%s` first", strings.TrimSpace(b[1]), export)
		}
	}
	if !run || !test {
		t.Errorf("README's two commands not found (run %v, test %v: %q, as .ci/run runs it)", run, test, testCommand)
	}
}
