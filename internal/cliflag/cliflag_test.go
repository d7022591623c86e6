package cliflag

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	s := New()
	name := s.String("name", "", "NAME", "a name")
	n := s.Int("limit", 20, "N", "how many")
	d := s.Duration("d", time.Second, "DURATION", "how long")
	b := s.Bool("validated", "already validated")
	roles := s.Strings("role", "ROLE", "a role")
	err := s.Parse([]string{"pos1", "--name", "-dash", "-limit=5", "--validated", "pos2", "--role", "a", "--role=b", "-d", "2m", "--", "--not-a-flag"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if *name != "-dash" || *n != 5 || *d != 2*time.Minute || !*b || !slices.Equal(*roles, []string{"a", "b"}) ||
		!slices.Equal(s.Args(), []string{"pos1", "pos2", "--not-a-flag"}) {
		t.Fatalf("%q %d %s %v %v %q", *name, *n, *d, *b, *roles, s.Args())
	}
	if err := s.Parse([]string{"--validated=false", "cmd", "--name", "x"}, false); err != nil || *b || !slices.Equal(s.Args(), []string{"cmd", "--name", "x"}) {
		t.Fatalf("leading: %v %v %q", err, *b, s.Args())
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--nope"}, "--nope: unknown flag"},
		{[]string{"--name"}, "--name: needs a value"},
		{[]string{"--limit", "many"}, `--limit: invalid value "many"`},
		{[]string{"--validated=maybe"}, `--validated: invalid value "maybe"`},
		{[]string{"-d", "forever"}, `--d: invalid value "forever"`},
		{[]string{"---x"}, "---x: unknown flag"},
	} {
		var fe *Error
		if err := s.Parse(tc.args, true); !errors.As(err, &fe) || err.Error() != tc.want {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.want)
		}
	}
	for _, h := range []string{"-h", "--help", "-help"} {
		if err := s.Parse([]string{"x", h}, true); !errors.Is(err, ErrHelp) {
			t.Errorf("%s: %v", h, err)
		}
	}
	var help strings.Builder
	s.PrintFlags(&help)
	if !strings.Contains(help.String(), "--limit N     how many (default 20)") || !strings.Contains(help.String(), "--role ROLE   a role (repeatable)") {
		t.Fatalf("help:\n%s", help.String())
	}
}
