package provider

import (
	"testing"
	"time"
)

// TestUnclaimedJWTHandOffIsDropped: a JWT access token left for Encrypt
// that the library never claims (a failure between storing the token and
// sealing it) does not stay in memory: the next hand-off a minute later
// drops it, while a recent one stays and is claimed once.
func TestUnclaimedJWTHandOffIsDropped(t *testing.T) {
	c, err := newTokenCrypto([32]byte{1}, "1")
	if err != nil {
		t.Fatal(err)
	}
	left := func() (keys []string) {
		c.jwts.Range(func(k, _ any) bool { keys = append(keys, k.(string)); return true })
		return keys
	}
	t0 := time.Unix(1_800_000_000, 0)
	c.leave("at_lost:usr", "jwt-lost", t0)
	c.leave("at_recent:usr", "jwt-recent", t0.Add(30*time.Second))
	if got := left(); len(got) != 2 {
		t.Fatalf("after two hand-offs within a minute: %v", got)
	}
	c.leave("at_next:usr", "jwt-next", t0.Add(90*time.Second))
	if got := left(); len(got) != 2 {
		t.Fatalf("the unclaimed hand-off of 90 s ago is still there: %v", got)
	}
	for _, key := range []string{"at_recent:usr", "at_next:usr"} {
		if got, err := c.Encrypt(key); err != nil || got != "jwt-"+key[3:len(key)-4] {
			t.Fatalf("Encrypt(%s) = %q %v", key, got, err)
		}
		// Claimed once: the same key now gets a sealed token, not the JWT.
		if got, _ := c.Encrypt(key); got == "jwt-"+key[3:len(key)-4] {
			t.Fatalf("Encrypt(%s) handed the JWT out twice", key)
		}
	}
	if got := left(); len(got) != 0 {
		t.Fatalf("left after the claims: %v", got)
	}
}
