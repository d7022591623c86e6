package config

import (
	"slices"
	"testing"
	"time"
)

func TestDomainsSection(t *testing.T) {
	t.Parallel()
	cfg, err := Load("", []string{"SESAME_DOMAINS_RESOLVER=127.0.0.1:5353", "SESAME_DOMAINS_RECHECK=6h", "SESAME_DOMAINS_TIMEOUT=2s"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Domains.Resolver != "127.0.0.1:5353" || cfg.Domains.Recheck != 6*time.Hour || cfg.Domains.Timeout != 2*time.Second {
		t.Fatalf("%+v", cfg.Domains)
	}
	def, err := Load("", nil)
	if err != nil || def.Domains.Resolver != "" || def.Domains.Recheck != 24*time.Hour {
		t.Fatalf("defaults: %+v %v", def.Domains, err)
	}
	_, err = Load("", []string{"SESAME_DOMAINS_RESOLVER=nowhere", "SESAME_DOMAINS_RECHECK=1s", "SESAME_DOMAINS_TIMEOUT=2h"})
	probs, _ := err.(Problems)
	for _, w := range []string{
		"domains.resolver: must be host:port, such as 127.0.0.53:53 or [2001:db8::53]:53",
		"domains.recheck: must be from 1m to 720h (30 days)",
		"domains.timeout: must be from 100ms to 1m",
	} {
		if !slices.Contains(probs, w) {
			t.Errorf("missing %q in %v", w, err)
		}
	}
	for _, bad := range []string{"127.0.0.1", ":53", "127.0.0.1:0", "127.0.0.1:99999", "[::1]"} {
		if _, err := Load("", []string{"SESAME_DOMAINS_RESOLVER=" + bad}); err == nil {
			t.Errorf("resolver %q accepted", bad)
		}
	}
}
