package main

import (
	"context"
	"runtime"
	"runtime/debug"
)

// version is set at release build time with -ldflags "-X main.version=v1.2.3".
var version = ""

type versionCmd struct{}

func (c *versionCmd) Run(ctx context.Context, a *App) error {
	v := version
	info, ok := debug.ReadBuildInfo()
	if v == "" && ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	if v == "" {
		v = "devel"
	}
	rev := ""
	if ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				rev = s.Value
			}
		}
	}
	if a.JSON {
		return a.printJSON(map[string]any{"version": v, "revision": nilIfEmpty(rev), "go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH})
	}
	line := "git-backup " + v
	if rev != "" {
		line += " (" + rev[:min(12, len(rev))] + ")"
	}
	a.out("%s %s %s/%s", line, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
