package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestDiscoveryAndKeysAllowAnyOrigin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, path := range []string{"/.well-known/openid-configuration", "/keys"} {
		for _, method := range []string{http.MethodGet, http.MethodOptions} {
			req, _ := http.NewRequest(method, e.issuer+path, nil)
			req.Header.Set("Origin", "https://spa.example")
			if method == http.MethodOptions {
				req.Header.Set("Access-Control-Request-Method", "GET")
			}
			resp, err := testClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 != 2 || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
				resp.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, resp.Header)
			}
			if method == http.MethodOptions && !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "GET") {
				t.Fatalf("preflight of %s: %v", path, resp.Header)
			}
		}
	}
}
