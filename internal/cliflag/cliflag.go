// Package cliflag parses the flags of Sesame's commands. It reads what Go's
// flag package reads (-name or --name, --name=value or --name value, a
// boolean alone or --name=false, -- ending the flags) but reports its own
// errors, as *Error values that name the flag, and lists the flags for a
// command's help. Flags and positional arguments may be interleaved.
package cliflag

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ErrHelp is returned by Parse for -h, -help or --help.
var ErrHelp = errors.New("help requested")

// Error is bad input on the command line: a flag and what is wrong with it.
type Error struct {
	Flag    string // without dashes
	Problem string
}

func (e *Error) Error() string { return "--" + e.Flag + ": " + e.Problem }

// Flag is one flag of a Set.
type Flag struct {
	Name    string
	Arg     string // the value's placeholder in help; "" for a boolean
	Help    string
	Default string // shown in help when not ""
	set     func(string) error
}

// Set is the flags of one command.
type Set struct {
	flags  []*Flag
	byName map[string]*Flag
	args   []string
}

// New makes an empty set.
func New() *Set { return &Set{byName: map[string]*Flag{}} }

func (s *Set) add(f *Flag) {
	if _, dup := s.byName[f.Name]; dup {
		panic("cliflag: flag --" + f.Name + " defined twice")
	}
	s.flags = append(s.flags, f)
	s.byName[f.Name] = f
}

// String defines a string flag.
func (s *Set) String(name, def, arg, help string) *string {
	p := new(string)
	*p = def
	s.add(&Flag{Name: name, Arg: arg, Help: help, Default: def, set: func(v string) error { *p = v; return nil }})
	return p
}

// StringVar defines a string flag stored in p (its current value is the default).
func (s *Set) StringVar(p *string, name, arg, help string) {
	s.add(&Flag{Name: name, Arg: arg, Help: help, Default: *p, set: func(v string) error { *p = v; return nil }})
}

// Strings defines a repeatable string flag.
func (s *Set) Strings(name, arg, help string) *[]string {
	p := new([]string)
	s.StringsVar(p, name, arg, help)
	return p
}

// Bool defines a boolean flag, false by default.
func (s *Set) Bool(name, help string) *bool {
	p := new(bool)
	s.BoolVar(p, name, help)
	return p
}

// BoolVar defines a boolean flag stored in p.
func (s *Set) BoolVar(p *bool, name, help string) {
	s.add(&Flag{Name: name, Help: help, set: func(v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return err
		}
		*p = b
		return nil
	}})
}

// Int defines a whole-number flag.
func (s *Set) Int(name string, def int, arg, help string) *int {
	p := new(int)
	*p = def
	s.add(&Flag{Name: name, Arg: arg, Help: help, Default: strconv.Itoa(def), set: func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return err
		}
		*p = n
		return nil
	}})
	return p
}

// Duration defines a duration flag (90s, 15m, 24h).
func (s *Set) Duration(name string, def time.Duration, arg, help string) *time.Duration {
	p := new(time.Duration)
	*p = def
	s.add(&Flag{Name: name, Arg: arg, Help: help, Default: def.String(), set: func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		*p = d
		return nil
	}})
	return p
}

// Parse reads args. With interleaved, flags may follow positional
// arguments; without, the first positional argument ends the flags. The
// positional arguments are then in Args.
func (s *Set) Parse(args []string, interleaved bool) error {
	s.args = nil
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			s.args = append(s.args, args[i+1:]...)
			return nil
		}
		if len(a) < 2 || a[0] != '-' {
			if !interleaved {
				s.args = append(s.args, args[i:]...)
				return nil
			}
			s.args = append(s.args, a)
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		name, value, hasValue := strings.Cut(name, "=")
		if name == "h" || name == "help" {
			return ErrHelp
		}
		f, ok := s.byName[name]
		if !ok || name == "" || strings.HasPrefix(name, "-") {
			return &Error{Flag: name, Problem: "unknown flag"}
		}
		if !hasValue && f.Arg != "" {
			if i+1 == len(args) {
				return &Error{Flag: name, Problem: "needs a value"}
			}
			i++
			value, hasValue = args[i], true
		}
		if !hasValue {
			value = "true" // a boolean alone
		}
		if err := f.set(value); err != nil {
			return &Error{Flag: name, Problem: fmt.Sprintf("invalid value %q", value)}
		}
	}
	return nil
}

// Args is the positional arguments of the last Parse.
func (s *Set) Args() []string { return s.args }

// Flags lists the flags in the order they were defined.
func (s *Set) Flags() []*Flag { return s.flags }

// PrintFlags writes one line per flag, for a command's help.
func (s *Set) PrintFlags(w io.Writer) {
	width := 0
	lefts := make([]string, len(s.flags))
	for i, f := range s.flags {
		lefts[i] = "--" + f.Name
		if f.Arg != "" {
			lefts[i] += " " + f.Arg
		}
		width = max(width, len(lefts[i]))
	}
	for i, f := range s.flags {
		help := f.Help
		if f.Default != "" && f.Arg != "" {
			help += " (default " + f.Default + ")"
		}
		fmt.Fprintf(w, "  %-*s  %s\n", width, lefts[i], help)
	}
}

// StringsVar defines a repeatable string flag that appends to p.
func (s *Set) StringsVar(p *[]string, name, arg, help string) {
	s.add(&Flag{Name: name, Arg: arg, Help: help + " (repeatable)", set: func(v string) error { *p = append(*p, v); return nil }})
}
