package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/git-backup/git-backup/transitions"
)

type configTemplateCmd struct {
	scopeFlags
	Name string `arg:"" enum:"conservative,aggressive,development,default" help:"conservative, aggressive, development or default."`
	Yes  bool   `short:"y" help:"Accepted for uniformity; template asks nothing."`
}

func (c *configTemplateCmd) Help() string {
	var b strings.Builder
	b.WriteString(`Writes a coherent set of lifecycle, disk and monitor policies to the local
config (or the scope given), as one change: git backup config rollback undoes
it. Keys about where things go and whom to alert are left alone. A value set in
a later scope (worktree over local, local over global) still wins.

`)
	ts := transitions.Templates()
	fmt.Fprintf(&b, "  %-28s", "key")
	for _, t := range ts {
		fmt.Fprintf(&b, " %-17s", t.Name)
	}
	b.WriteString("\n")
	for _, k := range transitions.Keys {
		if _, ok := ts[0].Values[k.Name]; !ok {
			continue
		}
		fmt.Fprintf(&b, "  %-28s", k.Short())
		for _, t := range ts {
			fmt.Fprintf(&b, " %-17s", t.Values[k.Name])
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	for _, t := range ts {
		fmt.Fprintf(&b, "%s: %s.\n\n", t.Name, t.Summary)
	}
	b.WriteString("Exit status: 0 applied; 2 the result would contradict a value in another scope.")
	return b.String()
}

func (c *configTemplateCmd) Run(ctx context.Context, a *App) error {
	t, ok := transitions.LookupTemplate(c.Name)
	if !ok {
		return usagef("unknown template %q (one of %s)", c.Name, strings.Join(transitions.TemplateNames(), ", "))
	}
	if err := a.applyConfig(ctx, "template "+t.Name, t.Writes(c.writeScope())); err != nil {
		return err
	}
	a.note("applied template %s to %s (git backup config rollback undoes it)", t.Name, transitions.ScopeName(c.writeScope()))
	return nil
}
