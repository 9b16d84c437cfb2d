package main

import (
	"errors"
	"path/filepath"
	"strings"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

// configCmd is `git backup config …`: policies in git config section backup.
type configCmd struct {
	List     configListCmd     `cmd:"" aliases:"ls" help:"Every key with its effective value and where it comes from."`
	Get      configGetCmd      `cmd:"" help:"Print one key's value."`
	Set      configSetCmd      `cmd:"" help:"Check a value and write it (local config by default)."`
	Unset    configUnsetCmd    `cmd:"" help:"Remove a key from one scope (local by default)."`
	Validate configValidateCmd `cmd:"" help:"Check every backup.* value in every scope."`
	Template configTemplateCmd `cmd:"" help:"Apply a named set of policies: conservative, aggressive, development, default."`
	Export   configExportCmd   `cmd:"" help:"Write the settings as key = value lines (to FILE, mode 0600, or stdout)."`
	Import   configImportCmd   `cmd:"" help:"Check every line of FILE, then write them all (or nothing)."`
	Wizard   configWizardCmd   `cmd:"" help:"Answer questions on a terminal to set the main policies."`
	History  configHistoryCmd  `cmd:"" help:"Changes made through git backup config, newest first."`
	Rollback configRollbackCmd `cmd:"" help:"Undo the newest change in the history."`
}

func (c *configCmd) Help() string {
	return `Policies are git config keys in section backup, so system, global, local and
worktree scopes work as in git. Keys are accepted in any case, with or without
"backup.", and by their old shell names (git backup config list --json shows
each key's alias). Durations read 90s, 36h, 7d, 2w, 1d12h or a number of
seconds; sizes read 100MB, 500MiB, 1G or bytes (units are powers of 1024).

set, unset, import, template, wizard and rollback record the previous values in
<git common dir>/backup/config-history.jsonl; rollback undoes the newest change.`
}

// scopeFlags picks one config scope. Writers default to local; readers
// default to the effective value across all scopes.
type scopeFlags struct {
	Local    bool `xor:"scope" help:"The repository's config (.git/config)."`
	Global   bool `xor:"scope" help:"Your global config (~/.gitconfig)."`
	System   bool `xor:"scope" help:"The system config."`
	Worktree bool `xor:"scope" help:"This worktree's config (needs extensions.worktreeConfig with several worktrees)."`
}

// scope is the chosen scope, or "" when none was given.
func (s scopeFlags) scope() string {
	switch {
	case s.Global:
		return "global"
	case s.System:
		return "system"
	case s.Worktree:
		return "worktree"
	case s.Local:
		return "local"
	}
	return ""
}

// writeScope is the chosen scope, local by default.
func (s scopeFlags) writeScope() string {
	if sc := s.scope(); sc != "" {
		return sc
	}
	return "local"
}

// lookupKey resolves a key name, short name or alias, or says which keys exist.
func lookupKey(name string) (*transitions.Key, error) {
	if k, ok := transitions.LookupKey(name); ok {
		return k, nil
	}
	hint := "git backup config list shows every key"
	if s := transitions.SuggestKey(name); s != "" {
		hint = "did you mean " + s + "?"
	}
	return nil, usagef("unknown config key %q (%s)", name, hint)
}

// configErr makes a bad value a usage error (exit 2) and leaves the rest.
func configErr(err error) error {
	if errors.Is(err, transitions.ErrInvalidConfig) {
		return usageError{err}
	}
	return err
}

// hiddenValue stands for a secret's value in listings.
const hiddenValue = "<hidden>"

// showValues formats config values for people: "(unset)" for none, secrets
// masked unless reveal.
func showValues(k *transitions.Key, vs []string, reveal bool) string {
	if len(vs) == 0 {
		return "(unset)"
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		switch {
		case k != nil && k.Secret && !reveal && v != "":
			out[i] = hiddenValue
		case v == "":
			out[i] = `""`
		default:
			out[i] = v
		}
	}
	return strings.Join(out, ", ")
}

// printChanges lists a history entry's changes, one line each.
func (a *App) printChanges(indent string, cs []gitstate.ConfigChange, reveal bool) {
	for _, c := range cs {
		k, _ := transitions.LookupKey(c.Key)
		a.out("%s%s  %s: %s → %s", indent, c.Scope, c.Key, showValues(k, c.Old, reveal), showValues(k, c.New, reveal))
	}
}

// configPath resolves a file named on the command line the way git -C does:
// relative to -C's directory when it is given.
func (a *App) configPath(p string) string {
	if a.Dir != "" && p != "-" && !filepath.IsAbs(p) {
		return filepath.Join(a.Dir, p)
	}
	return p
}

func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}
