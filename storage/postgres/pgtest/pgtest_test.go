package pgtest

import (
	"strings"
	"testing"
)

func TestSchemaNameKeepsLongNamesApart(t *testing.T) {
	t.Parallel()
	long := "TestConformance/" + strings.Repeat("a_very_long_subtest_name_", 3)
	cases := []struct {
		name, a, b string
		same       bool
	}{
		{"short names are kept", "TestX/one", "TestX/one", true},
		{"short names differ", "TestX/one", "TestX/two", false},
		{"long names sharing 60 characters differ", long + "first", long + "second", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := SchemaName(c.a), SchemaName(c.b)
			if len(a) > 63 || len(b) > 63 {
				t.Fatalf("too long for PostgreSQL: %q %q", a, b)
			}
			if (a == b) != c.same {
				t.Fatalf("SchemaName(%q) = %q, SchemaName(%q) = %q", c.a, a, c.b, b)
			}
		})
	}
	if got := SchemaName("TestX/one"); got != "t_testx_one" {
		t.Errorf("readable name changed: %q", got)
	}
}
