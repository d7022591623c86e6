package sqlstore

import (
	"database/sql"
	"encoding/json"
	"time"
)

// ts encodes a time as Unix nanoseconds, the zero time as NULL.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// nullTime decodes what ts encoded.
type nullTime struct{ t *time.Time }

func (n nullTime) Scan(v any) error {
	var ni sql.NullInt64
	if err := ni.Scan(v); err != nil {
		return err
	}
	if ni.Valid {
		*n.t = time.Unix(0, ni.Int64).UTC()
	} else {
		*n.t = time.Time{}
	}
	return nil
}

func tsOut(t *time.Time) nullTime { return nullTime{t} }

// list encodes a string list as a JSON array (never null).
func list(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// jsonList decodes what list encoded.
type jsonList struct{ v *[]string }

func (j jsonList) Scan(src any) error {
	var s string
	switch x := src.(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	case nil:
		*j.v = nil
		return nil
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return err
	}
	if len(out) == 0 {
		out = nil
	}
	*j.v = out
	return nil
}

func listOut(v *[]string) jsonList { return jsonList{v} }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// nullString maps "" to NULL, for columns with a partial unique index.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

type strOut struct{ s *string }

func (o strOut) Scan(v any) error {
	var ns sql.NullString
	if err := ns.Scan(v); err != nil {
		return err
	}
	*o.s = ns.String
	return nil
}
