package main

import (
	"context"
	"strings"
	"testing"

	"github.com/sesame-idp/sesame/internal/loadgen"
	"github.com/sesame-idp/sesame/provider"
)

// TestLoadGenerator: cmd/sesame-load's engine sets up its client and people
// through storage and runs a short, bounded run of each scenario against the
// test server without an error.
func TestLoadGenerator(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	m := e.main
	var out strings.Builder
	hashSecret := func(s string) (string, error) { return provider.HashClientSecret(m.MasterKey, s) }
	if err := loadgen.Setup(ctx, m.Store, hashSecret, m.Hasher.Hash, 3, "", m.Now(), &out); err != nil || !strings.Contains(out.String(), "3 users created") {
		t.Fatalf("setup: %v %s", err, out.String())
	}
	out.Reset()
	if err := loadgen.SetupAPI(ctx, m.Store, hashSecret, 60, m.Now(), &out); err != nil || !strings.Contains(out.String(), "60 organizations created") {
		t.Fatalf("setup of the API scenario: %v %s", err, out.String())
	}
	for _, s := range loadgen.Scenarios {
		out.Reset()
		maxReq := 6
		if s == "signin" {
			maxReq = 4
		}
		err := loadgen.New([]string{e.issuer}, 3, s, loadgen.OPs["sesame"]).Measure(ctx, &out, 2, 2e9, maxReq, 0)
		if err != nil || !strings.Contains(out.String(), "errors 0") || !strings.Contains(out.String(), "p99") ||
			!strings.Contains(out.String(), "load generator: CPU") {
			t.Fatalf("%s: %v\n%s", s, err, out.String())
		}
		if s == "signin" && (!strings.Contains(out.String(), "operations 4, errors 0") || !strings.Contains(out.String(), "code exchange within the sign-ins: p50")) {
			t.Fatalf("signin:\n%s", out.String())
		}
	}
}
