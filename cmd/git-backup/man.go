package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/alecthomas/kong"
)

type manCmd struct {
	Install bool `help:"Write the page to <binary dir>/../share/man/man1/git-backup.1, where man finds it for programs on PATH."`
}

func (c *manCmd) Help() string {
	return "git runs 'git help backup' for 'git backup --help', which needs this man page.\n" +
		"'git backup -h' and 'git backup <command> -h' always work without it."
}

func (c *manCmd) Run(ctx context.Context, a *App, k *kong.Context) error {
	if !c.Install {
		writeMan(a.Stdout, k.Model)
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("install man page: %w", err)
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	dir := filepath.Join(filepath.Dir(filepath.Dir(exe)), "share", "man", "man1")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("install man page: %w", err)
	}
	p := filepath.Join(dir, "git-backup.1")
	f, err := os.Create(p)
	if err != nil {
		return fmt.Errorf("install man page: %w", err)
	}
	writeMan(f, k.Model)
	if err := f.Close(); err != nil {
		return fmt.Errorf("install man page: %w", err)
	}
	a.out("%s", p)
	a.note("git help backup and git backup --help now show it (man looks in ../share/man beside each PATH entry)")
	return nil
}

// writeMan renders the command tree as a roff man page.
func writeMan(w io.Writer, app *kong.Application) {
	esc := func(s string) string {
		s = strings.ReplaceAll(s, `\`, `\e`)
		var b strings.Builder
		for _, line := range strings.Split(s, "\n") {
			if strings.HasPrefix(line, ".") || strings.HasPrefix(line, "'") {
				line = `\&` + line
			}
			b.WriteString(line + "\n")
		}
		return strings.TrimRight(b.String(), "\n")
	}
	fmt.Fprintln(w, `.TH GIT-BACKUP 1 "" "git-backup" "Git Manual"`)
	fmt.Fprintln(w, ".SH NAME\ngit-backup \\- "+esc(app.Help))
	fmt.Fprintln(w, ".SH SYNOPSIS\n.B git backup\n[\\-C \\fIpath\\fR] [\\-\\-json] [\\-q] [\\-v] \\fIcommand\\fR [\\fIargs\\fR]")
	fmt.Fprintln(w, ".SH DESCRIPTION\n"+esc(`git-backup takes safety snapshots of the working tree as git objects and drives
each through a lifecycle: CREATED, PENDING (a commit contains it), CONFIRMED (that
commit is merged), CLEANABLE, then ARCHIVED (verified zstd archive) or DELETED.
State lives in refs/backups. Backups are named YYYYMMDD-HHMMSS-<hex>; every
command that takes an ID also takes a unique prefix of it, and latest.`))
	fmt.Fprintln(w, ".SH GLOBAL OPTIONS")
	for _, f := range app.Flags {
		if f.Hidden || f.Name == "help" {
			continue
		}
		manFlag(w, f, esc)
	}
	fmt.Fprintln(w, ".SH COMMANDS")
	for _, n := range app.Leaves(true) {
		usage := "git backup " + n.Path()
		for _, p := range n.Positional {
			if p.Required {
				usage += " " + strings.ToUpper(p.Name)
			} else {
				usage += " [" + strings.ToUpper(p.Name) + "...]"
			}
		}
		fmt.Fprintf(w, ".SS %s\n%s\n", esc(usage), esc(n.Help))
		if n.Detail != "" {
			fmt.Fprintf(w, ".PP\n%s\n", esc(n.Detail))
		}
		for _, f := range n.Flags {
			if !f.Hidden {
				manFlag(w, f, esc)
			}
		}
	}
	fmt.Fprintln(w, ".SH EXIT STATUS\n.TP\n0\ndone\n.TP\n1\nfailed\n.TP\n2\nusage error\n.TP\n3\nrefused for safety (declined, below threshold, pinned, would overwrite work)\n.TP\n4\ngave up after repeated compare-and-swap conflicts; nothing was written, run it again")
	fmt.Fprintln(w, ".SH FILES\n.TP\nrefs/backups/state\nthe state of every backup, as git notes; its history is the audit log\n.TP\nrefs/backups/snapshots/<ID>\nthe snapshot commit of a backup\n.TP\n<git common dir>/backup/\nprivate files: clone ID, caches, history")
}

func manFlag(w io.Writer, f *kong.Flag, esc func(string) string) {
	name := `\-\-` + f.Name
	if f.Short != 0 {
		name = `\-` + string(f.Short) + ", " + name
	}
	if !f.IsBool() && !f.IsCounter() {
		name += " " + strings.ToUpper(f.FormatPlaceHolder())
	}
	fmt.Fprintf(w, ".TP\n.B %s\n%s\n", name, esc(f.Help))
}
