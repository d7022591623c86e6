package main

import (
	"strings"
	"testing"
)

func TestLoadtestCommand(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"loadtest", "--target", "http://192.0.2.1:8080"}, "loopback only"},
		{[]string{"loadtest", "--target", "ftp://127.0.0.1"}, "is not an http(s) URL"},
		{[]string{"loadtest", "--scenario", "dance"}, "--scenario: must be"},
		{[]string{"loadtest", "-c", "0"}, "--c: must be from 1 to 1024"},
		{[]string{"loadtest", "-d", "1h"}, "--d: must be more than 0 and at most 10m"},
		{[]string{"loadtest", "--id-token-alg", "HS256", "--setup"}, "--id-token-alg: must be RS256, ES256 or EdDSA"},
		{[]string{"loadtest", "--id-token-alg", "ES256"}, "only with --setup"},
		{[]string{"loadtest", "--op", "keycloak"}, "--op: must be sesame or zitadel-example"},
		{[]string{"loadtest", "--op", "zitadel-example", "--setup"}, "--setup: only for --op sesame"},
	} {
		if _, errs, code := e.cli("", tc.args...); code != 2 || !strings.Contains(errs, tc.want) {
			t.Fatalf("%v: %d %s", tc.args, code, errs)
		}
	}
	// A short, bounded run of each scenario against the test server.
	out, errs, code := e.cli("", "loadtest", "--setup", "--users", "3", "--target", e.issuer, "-c", "2", "-d", "2s", "--max-requests", "4")
	if code != 0 || !strings.Contains(out, "3 users created") || !strings.Contains(out, "operations 4, errors 0") ||
		!strings.Contains(out, "code exchange within the sign-ins: p50") {
		t.Fatalf("signin: %d\n%s%s", code, out, errs)
	}
	for _, s := range []string{"token", "refresh", "userinfo", "jwks", "discovery"} {
		out, errs, code := e.cli("", "loadtest", "--users", "3", "--target", e.issuer, "--scenario", s, "-c", "2", "-d", "2s", "--max-requests", "6")
		if code != 0 || !strings.Contains(out, "errors 0") || !strings.Contains(out, "p99") || !strings.Contains(out, "load generator: CPU") {
			t.Fatalf("%s: %d\n%s%s", s, code, out, errs)
		}
	}
}
