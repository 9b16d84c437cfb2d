package main

import (
	"context"
	"os"
	"strings"

	"github.com/git-backup/git-backup/hooks"
	"github.com/git-backup/git-backup/transitions"
)

// autoInstallMarker records that hooks were installed (or uninstalled on
// purpose) in this repository, so first use installs them only once.
const autoInstallMarker = "hooks-installed"

// hooksEnv tells package hooks where this repository's hooks live.
func (a *App) hooksEnv(ctx context.Context) (hooks.Env, error) {
	r, err := a.Repo(ctx)
	if err != nil {
		return hooks.Env{}, err
	}
	es, err := a.Config(ctx)
	if err != nil {
		return hooks.Env{}, err
	}
	env := hooks.Env{WorkTree: r.WorkTree, CommonDir: r.CommonDir}
	for _, e := range es {
		if e.Key == "core.hookspath" {
			env.HooksPath = e.Value
		}
	}
	return env, nil
}

// autoInstall installs the hooks on the first git-backup command in a
// repository when backup.autoInstallHooks is true, and says so in one line.
// It never fails the command it runs before.
func (a *App) autoInstall(ctx context.Context, command string) {
	for _, skip := range []string{"hook ", "hooks", "version", "man", "config", "help"} {
		if command == skip || strings.HasPrefix(command, skip) {
			return
		}
	}
	if os.Getenv(hooks.InHookEnv) != "" {
		return
	}
	r, err := a.Repo(ctx)
	if err != nil || r.MarkerExists(autoInstallMarker) {
		return
	}
	es, err := a.Config(ctx)
	if err != nil {
		return
	}
	p, err := transitions.LoadPolicy(es)
	if err != nil || !p.AutoInstallHooks {
		return
	}
	env, err := a.hooksEnv(ctx)
	if err != nil {
		return
	}
	hs, err := hooks.Install(env)
	if err != nil {
		a.note("git-backup: could not install all hooks (%v); see git backup hooks status", err)
	}
	_ = r.SetMarker(autoInstallMarker, "installed\n")
	var done []string
	for _, h := range hs {
		if h.Action == "written" || h.Action == "chained" || h.Action == "upgraded" || h.Action == "created" || h.Action == "added a line to" {
			done = append(done, h.Name)
		}
	}
	if len(done) > 0 {
		a.note("git-backup: installed hooks %s in %s (backup.autoInstallHooks=false turns this off)", strings.Join(done, ", "), env.Dir())
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
