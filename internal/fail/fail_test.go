package fail

import (
	"errors"
	"fmt"
	"testing"
)

func TestCodeOfKeyOf(t *testing.T) {
	last := E(Conflict, "Errors.Members.LastAdmin")
	cause := errors.New("disk full")
	tests := []struct {
		name    string
		err     error
		code    Code
		key     string
		refusal bool
	}{
		{"nil", nil, "", "", false},
		{"plain", cause, Internal, "", false},
		{"fail", last, Conflict, "Errors.Members.LastAdmin", true},
		{"wrapped", fmt.Errorf("set roles: %w", last), Conflict, "Errors.Members.LastAdmin", true},
		{"with cause", Wrap(Unavailable, "Errors.Unavailable", cause), Unavailable, "Errors.Unavailable", false},
		{"no code", &Error{Key: "K"}, Internal, "K", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CodeOf(tt.err); got != tt.code {
				t.Errorf("CodeOf = %q, want %q", got, tt.code)
			}
			if got := KeyOf(tt.err); got != tt.key {
				t.Errorf("KeyOf = %q, want %q", got, tt.key)
			}
			if got := Refusal(tt.err); got != tt.refusal {
				t.Errorf("Refusal = %v, want %v", got, tt.refusal)
			}
		})
	}
}

func TestIsAndUnwrap(t *testing.T) {
	sentinel := E(Gone, "Errors.Link.Used")
	cause := errors.New("row updated by another")
	err := fmt.Errorf("use link: %w", &Error{Code: Gone, Key: "Errors.Link.Used", Err: cause})
	if !errors.Is(err, sentinel) {
		t.Error("a copy with a cause is not Is the sentinel")
	}
	if !errors.Is(err, cause) {
		t.Error("the cause is not reachable")
	}
	if errors.Is(err, E(Gone, "Errors.Link.Invalid")) {
		t.Error("another key matched")
	}
	if got := err.Error(); got != "use link: Errors.Link.Used: row updated by another" {
		t.Errorf("Error() = %q", got)
	}
}
