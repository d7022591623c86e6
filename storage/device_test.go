package storage

import "testing"

func TestNormalizeUserCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		typed, want string
		ok          bool
	}{
		{"BCDF-GHJK", "BCDFGHJK", true},
		{"bcdf-ghjk", "BCDFGHJK", true},
		{" bcdf ghjk ", "BCDFGHJK", true},
		{"BCDFGHJK", "BCDFGHJK", true},
		{"B-C-D-F-G-H-J-K", "BCDFGHJK", true},
		{"bcdf\u2011ghjk", "BCDFGHJK", true}, // a non-breaking hyphen, as phones paste it
		{"", "", false},
		{"BCDF-GHJ", "", false},
		{"BCDF-GHJKL", "", false},
		{"ABCD-EFGH", "", false}, // vowels are not in the alphabet
		{"BCDF-GHJ0", "", false},
		{"BCDF_GHJK", "", false},
		{"ВCDF-GHJK", "", false}, // a Cyrillic В
		{string(make([]byte, 65)), "", false},
	} {
		got, ok := NormalizeUserCode(tc.typed)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeUserCode(%q) = %q, %v; want %q, %v", tc.typed, got, ok, tc.want, tc.ok)
		}
	}
	if FormatUserCode("BCDFGHJK") != "BCDF-GHJK" {
		t.Error("FormatUserCode")
	}
	if HashUserCode([]byte("a"), "BCDFGHJK") == HashUserCode([]byte("b"), "BCDFGHJK") || HashUserCode(nil, "BCDFGHJK") == HashToken("BCDFGHJK") {
		t.Error("the user code's hash is not keyed")
	}
}

func FuzzNormalizeUserCode(f *testing.F) {
	for _, s := range []string{"BCDF-GHJK", "bcdf ghjk", "", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, ok := NormalizeUserCode(s)
		if !ok {
			return
		}
		if again, ok2 := NormalizeUserCode(FormatUserCode(code)); !ok2 || again != code || len(code) != UserCodeLength {
			t.Fatalf("%q → %q → %q", s, code, again)
		}
	})
}
