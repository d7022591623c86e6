package vocab

import "testing"

func TestURLs(t *testing.T) {
	if got := LoginURL("a b"); got != "/login?authRequestID=a+b" {
		t.Errorf("LoginURL = %q", got)
	}
	if got := CallbackURL("a&b"); got != "/authorize/callback?id=a%26b" {
		t.Errorf("CallbackURL = %q", got)
	}
	if SessionCookieName(true) != "__Host-sesame_session" || SessionCookieName(false) != "sesame_session" {
		t.Error("session cookie names changed")
	}
}
