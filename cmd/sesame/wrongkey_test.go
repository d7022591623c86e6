package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/internal/config"
)

// lockedBuffer is a writer the test reads while a command may still write.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serveUntilReady runs `sesame serve` in this process and returns its exit
// status once it ends, or -1 once it answers /readyz (200 or not): it
// started. It is stopped then.
func serveUntilReady(t *testing.T, env []string) (code int, stderr string) {
	t.Helper()
	addr := freeAddr(t)
	env = append(env, "SESAME_LISTEN="+addr, "SESAME_ISSUER=http://"+addr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer slog.SetDefault(slog.Default()) // serve sets it to its own logger
	errb := &lockedBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), &bytes.Buffer{}, errb, env) }()
	client := &http.Client{Transport: testTransport, Timeout: time.Second}
	for {
		select {
		case code := <-done:
			return code, errb.String()
		default:
		}
		if resp, err := client.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			cancel()
			<-done
			return -1, errb.String()
		}
		time.Sleep(20 * time.Millisecond) // polling a starting server, not waiting for time to pass
	}
}

// TestServeRefusesSigningKeysSealedUnderAnotherKey: a database whose signing
// keys were sealed under another secret-encryption key (a restored backup
// without its key, a key file replaced) is refused at the start, in one
// line that says what to do, instead of a server whose /readyz fails
// forever. `sesame keys rotate`, which the line suggests when the key is
// lost, makes a server that starts.
func TestServeRefusesSigningKeysSealedUnderAnotherKey(t *testing.T) {
	dir := t.TempDir()
	env := append([]string{"SESAME_DATA_DIR=" + dir}, cheapArgon...)
	cfg, err := config.Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: cfg}
	if err := m.Open(context.Background(), true); err != nil { // creates the key and the signing keys
		t.Fatal(err)
	}
	m.Close()
	other := make([]byte, 32)
	rand.Read(other)
	if err := os.WriteFile(filepath.Join(dir, "secret.key"), []byte(base64.StdEncoding.EncodeToString(other)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	code, stderr := serveUntilReady(t, env)
	if code == -1 {
		t.Fatalf("sesame serve started with signing keys its secret-encryption key cannot open:\n%s", stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], "does not open the stored signing keys") ||
		!strings.Contains(lines[0], "sesame keys rotate") {
		t.Fatalf("exit %d, want 2 and one line naming the problem and the remedy; stderr:\n%s", code, stderr)
	}

	// The remedy the line names, when the old key is lost.
	if code := run(context.Background(), []string{"keys", "rotate"}, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, env); code != 0 {
		t.Fatalf("keys rotate: exit %d", code)
	}
	if code, stderr := serveUntilReady(t, env); code != -1 {
		t.Fatalf("sesame serve after keys rotate: exit %d:\n%s", code, stderr)
	}
}
