package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/sesame-idp/sesame/internal/cliflag"
)

// buildVersion is what `sesame version` reports, from the build
// information the go command records in the binary.
type buildVersion struct {
	Version  string `json:"version"`            // the module's, "(devel)" when built from a checkout
	Revision string `json:"revision,omitempty"` // the VCS commit, when the build recorded it
	Time     string `json:"time,omitempty"`     // the commit's time
	Modified bool   `json:"modified,omitempty"` // the checkout had uncommitted changes
	Go       string `json:"go"`
}

func readBuildVersion(info *debug.BuildInfo, ok bool) buildVersion {
	v := buildVersion{Version: "unknown", Go: runtime.Version()}
	if !ok || info == nil {
		return v
	}
	if info.Main.Version != "" {
		v.Version = info.Main.Version
	}
	if info.GoVersion != "" {
		v.Go = info.GoVersion
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// String is the one line `sesame version` prints.
func (v buildVersion) String() string {
	s := "sesame " + v.Version
	switch {
	case v.Revision == "":
		// Built without VCS stamping (go build -buildvcs=false, go run).
		s += ", revision unknown"
	case v.Modified:
		s += ", revision " + v.Revision + " with uncommitted changes"
	default:
		s += ", revision " + v.Revision
	}
	if v.Time != "" {
		s += " (" + v.Time + ")"
	}
	return s + ", " + v.Go
}

// versionCmd prints the build's version; it opens nothing.
func versionCmd(*cliflag.Set) action {
	return func(_ context.Context, c *cli, _ []string) error {
		v := readBuildVersion(debug.ReadBuildInfo())
		if c.json {
			return c.printJSON(v)
		}
		_, err := fmt.Fprintln(c.stdout, v)
		return err
	}
}
