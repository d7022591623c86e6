package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/internal/loadgen"
	"github.com/sesame-idp/sesame/provider"
)

// TestLoadGenerator: cmd/sesame-load's engine sets up its client and people
// through storage and runs a short, bounded run of each scenario against the
// test server without an error.
func TestLoadGenerator(t *testing.T) {
	// Each run ends by its count of requests; the duration is a guard
	// against a hang. (It was 2 s, and on a busy machine the sign-in run
	// ended by time after 2 of its 4 sign-ins: the test measured speed.)
	const runGuard = 2 * time.Minute
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
		err := loadgen.New([]string{e.issuer}, 3, s, loadgen.OPs["sesame"]).Measure(ctx, &out, 2, runGuard, maxReq, 0)
		if err != nil || !strings.Contains(out.String(), "errors 0") || !strings.Contains(out.String(), "p99") ||
			!strings.Contains(out.String(), "load generator: CPU") {
			t.Fatalf("%s: %v\n%s", s, err, out.String())
		}
		if s == "signin" && (!strings.Contains(out.String(), "operations 4, errors 0") || !strings.Contains(out.String(), "code exchange within the sign-ins: p50")) {
			t.Fatalf("signin:\n%s", out.String())
		}
	}
	// With --dpop: every token is DPoP-bound (a Bearer answer counts as an
	// error) and userinfo takes it with its proof. The proofs carry the
	// real time, which the server's clock follows meanwhile.
	defer e.followRealTime()()
	for _, s := range []string{"refresh", "userinfo"} {
		out.Reset()
		r := loadgen.New([]string{e.issuer}, 3, s, loadgen.OPs["sesame"])
		if err := r.DPoP(); err != nil {
			t.Fatal(err)
		}
		if err := r.Measure(ctx, &out, 2, runGuard, 6, 0); err != nil || !strings.Contains(out.String(), "errors 0") || strings.Contains(out.String(), "operations 0,") {
			t.Fatalf("%s with DPoP: %v\n%s", s, err, out.String())
		}
	}
}
