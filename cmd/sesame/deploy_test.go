package main

import (
	"debug/elf"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sesame-idp/sesame/internal/config"
)

// The packaging (deploy/): the container image, the compose file, the
// systemd unit; and the LICENSE.

// TestDeployFiles checks what can be checked without Docker: the image is
// built in two stages with CGO disabled, runs from scratch or distroless
// static as a non-root user with a /data volume and a HEALTHCHECK through
// `sesame healthcheck`; the compose file's services are there and the
// configuration it gives Sesame passes validation; the unit is sandboxed;
// the LICENSE is Apache-2.0's full text.
func TestDeployFiles(t *testing.T) {
	t.Parallel()
	docker := readRepoFile(t, "deploy/Dockerfile")
	var froms, users, envs []string
	healthcheck := ""
	for _, l := range strings.Split(strings.ReplaceAll(docker, "\\\n", " "), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms = append(froms, f[1])
		case "USER":
			users = append(users, f[1])
		case "ENV":
			envs = append(envs, f[1:]...)
		case "HEALTHCHECK":
			healthcheck = l
		}
	}
	final := froms[len(froms)-1]
	switch {
	case len(froms) < 2:
		t.Errorf("not a multi-stage build: %v", froms)
	case final != "scratch" && !strings.HasPrefix(final, "gcr.io/distroless/static"):
		t.Errorf("the image runs from %s, want scratch or distroless static", final)
	case !strings.Contains(docker, "CGO_ENABLED=0 go build"):
		t.Error("the binary is not built with CGO disabled")
	case len(users) == 0 || slices.Contains([]string{"0", "root", "0:0"}, users[len(users)-1]):
		t.Errorf("the image runs as %v, want a non-root user", users)
	case !regexp.MustCompile(`(?m)^VOLUME \["?/data"?\]`).MatchString(docker):
		t.Error("no /data volume")
	case !strings.Contains(healthcheck, `CMD ["/usr/local/bin/sesame", "healthcheck"]`):
		t.Errorf("HEALTHCHECK %q does not run sesame healthcheck", healthcheck)
	}
	// The image's environment is a valid configuration.
	var env []string
	for _, kv := range envs {
		env = append(env, kv)
	}
	if _, err := config.Load("", env); err != nil || !slices.Contains(env, "SESAME_DATA_DIR=/data") {
		t.Errorf("the image's environment %v: %v", env, err)
	}

	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []string          `yaml:"volumes"`
			Ports       []string          `yaml:"ports"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal([]byte(readRepoFile(t, "deploy/compose.yaml")), &compose); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"sesame", "postgres", "mailpit"} {
		if _, ok := compose.Services[s]; !ok {
			t.Errorf("compose.yaml has no %s service", s)
		}
	}
	s := compose.Services["sesame"]
	env = append([]string(nil), env...)
	for k, v := range s.Environment {
		env = append(env, k+"="+v)
	}
	cfg, err := config.Load("", env)
	if err != nil {
		t.Fatalf("compose's configuration of Sesame: %v", err)
	}
	if cfg.Storage.Driver != "postgres" || cfg.Mail.SMTP.Host != "mailpit" || !slices.Contains(s.Volumes, "sesame-data:/data") ||
		!strings.Contains(cfg.Storage.Postgres.DSN, "@postgres:") {
		t.Errorf("compose's Sesame: driver %s, smtp %s, volumes %v", cfg.Storage.Driver, cfg.Mail.SMTP.Host, s.Volumes)
	}
	if pg := compose.Services["postgres"].Environment; !strings.Contains(cfg.Storage.Postgres.DSN, pg["POSTGRES_USER"]+":"+pg["POSTGRES_PASSWORD"]+"@") ||
		!strings.Contains(cfg.Storage.Postgres.DSN, "/"+pg["POSTGRES_DB"]+"?") {
		t.Error("compose's DSN does not match its PostgreSQL")
	}

	unit := readRepoFile(t, "deploy/sesame.service")
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=sesame", "NoNewPrivileges=yes",
		"ExecStart=/usr/local/bin/sesame serve", "Environment=SESAME_DATA_DIR=/var/lib/sesame", "CapabilityBoundingSet=\n"} {
		if !strings.Contains(unit, want) {
			t.Errorf("the unit lacks %q", want)
		}
	}

	license := readRepoFile(t, "LICENSE")
	if !strings.Contains(license, "Apache License") || !strings.Contains(license, "Version 2.0, January 2004") ||
		!strings.Contains(license, "END OF TERMS AND CONDITIONS") || len(license) < 11000 {
		t.Error("LICENSE is not the full text of the Apache License 2.0")
	}
}

// TestSystemdUnitVerifies runs systemd-analyze on the unit as shipped (its
// binary path pointed at an executable that exists here): no error, no
// warning, and a sandbox exposure of at most 2.5 of 10.
func TestSystemdUnitVerifies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs systemd-analyze: -short leaves it out")
	}
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze is missing (.ci/run installs systemd)")
		}
		t.Skip("systemd-analyze is not installed (apt-get install systemd): the unit is not verified")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	unit := strings.ReplaceAll(readRepoFile(t, "deploy/sesame.service"), "ExecStart=/usr/local/bin/sesame", "ExecStart="+self)
	path := filepath.Join(dir, "sesame.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "verify", path).CombinedOutput()
	if err != nil || strings.Contains(string(out), "sesame.service") {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command(tool, "security", "--offline=yes", "--threshold=25", "--no-pager", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	if m := regexp.MustCompile(`Overall exposure level for sesame.service: ([0-9.]+)`).FindStringSubmatch(string(out)); m == nil {
		t.Fatalf("no exposure level:\n%s", out)
	} else {
		t.Logf("systemd-analyze security: exposure %s", m[1])
	}
}

// TestStaticBinaryInEmptyRoot is the container without Docker: the binary
// built with CGO disabled (no interpreter, no shared library) is started
// in a root holding only itself, the CA certificates and an empty /data,
// as the image's non-root user when the test can switch users; it serves
// discovery, and `sesame healthcheck` run in the same root says ready.
func TestStaticBinaryInEmptyRoot(t *testing.T) {
	if testing.Short() {
		t.Skip("a multi-process test: -short leaves it out")
	}
	built := buildBinary(t) // CGO_ENABLED=0
	root := t.TempDir()
	bin := filepath.Join(root, "sesame")
	raw, err := os.ReadFile(built)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, raw, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary asks for a dynamic loader: it is not static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("the binary needs %v", libs)
	}
	f.Close()
	certs, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Skip("no CA certificates on this machine to copy into the root")
	}
	if err := os.MkdirAll(filepath.Join(root, "etc/ssl/certs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/ssl/certs/ca-certificates.crt"), certs, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	attr := &syscall.SysProcAttr{Chroot: root}
	user := "root"
	if os.Geteuid() == 0 {
		// The image's user: distroless's nonroot.
		if err := os.Chown(filepath.Join(root, "data"), 65532, 65532); err != nil {
			t.Fatal(err)
		}
		_ = os.Chmod(root, 0o755)
		attr.Credential = &syscall.Credential{Uid: 65532, Gid: 65532}
		user = "65532"
	} else {
		// A user namespace makes an unprivileged test root inside it.
		attr.Cloneflags = syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
	}
	addr := freeAddr(t)
	env := []string{"SESAME_DATA_DIR=/data", "SESAME_LISTEN=" + addr, "SESAME_ISSUER=http://" + addr,
		"SESAME_PASSWORD_ARGON2_MEMORY_KIB=8192", "SESAME_PASSWORD_ARGON2_ITERATIONS=1"}
	logPath := filepath.Join(t.TempDir(), "serve.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	serve := exec.Command("/sesame", "serve")
	serve.Path, serve.Dir, serve.Env, serve.SysProcAttr = "/sesame", "/", env, attr
	serve.Stdout, serve.Stderr = logf, logf
	if err := serve.Start(); err != nil {
		if os.Geteuid() != 0 {
			t.Skipf("cannot chroot (not root, and no user namespace: %v): the empty-root test needs one or the other", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = serve.Process.Signal(os.Interrupt); _ = serve.Wait() })
	client := &http.Client{Transport: testTransport, Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	var disc map[string]any
	for {
		resp, err := client.Get("http://" + addr + "/.well-known/openid-configuration")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && json.Unmarshal(body, &disc) == nil {
				break
			}
		}
		if time.Now().After(deadline) || serve.ProcessState != nil {
			raw, _ := os.ReadFile(logPath)
			t.Fatalf("no discovery from the binary in the empty root (as %s):\n%s", user, raw)
		}
		time.Sleep(50 * time.Millisecond) // polling a starting process, not waiting for time to pass
	}
	if disc["issuer"] != "http://"+addr || disc["jwks_uri"] == nil {
		t.Fatalf("discovery: %v", disc)
	}
	hc := exec.Command("/sesame", "healthcheck")
	hc.Path, hc.Dir, hc.Env, hc.SysProcAttr = "/sesame", "/", env, attr
	if out, err := hc.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "ready" {
		t.Fatalf("healthcheck in the empty root: %v %q", err, out)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "data"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	t.Logf("served discovery from an empty root as user %s; /data holds %v", user, names)
}
