package templates

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestReadCatalogMergesFeatureFiles(t *testing.T) {
	cases := []struct {
		name    string
		files   fstest.MapFS
		want    map[string]string
		wantErr string
	}{
		{name: "two files merge",
			files: fstest.MapFS{
				"locales/fr/base.json":     {Data: []byte(`{"A":"a"}`)},
				"locales/fr/passkeys.json": {Data: []byte(`{"B":"b"}`)},
			},
			want: map[string]string{"A": "a", "B": "b"}},
		{name: "a key defined twice is refused",
			files: fstest.MapFS{
				"locales/fr/base.json":  {Data: []byte(`{"A":"a"}`)},
				"locales/fr/other.json": {Data: []byte(`{"A":"again"}`)},
			},
			wantErr: `key "A" already defined in locales/fr/base.json`},
		{name: "malformed JSON names its file",
			files:   fstest.MapFS{"locales/fr/base.json": {Data: []byte(`{"A":`)}},
			wantErr: "locales/fr/base.json"},
		{name: "no catalog at all", files: fstest.MapFS{}, wantErr: "no catalog"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := readCatalog(c.files, "fr")
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) || got["A"] != c.want["A"] || got["B"] != c.want["B"] {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}
