package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/git-backup/git-backup/gitstate"
	"github.com/git-backup/git-backup/transitions"
)

type configExportCmd struct {
	scopeFlags
	File           string `arg:"" optional:"" help:"Write here (mode 0600); stdout when absent or -."`
	IncludeSecrets bool   `help:"Also export webhook URLs."`
	All            bool   `help:"Also export keys that are at their default."`
	Yes            bool   `short:"y" help:"Accepted for uniformity; export asks nothing."`
}

func (c *configExportCmd) Help() string {
	return `Writes one "key = value" line per setting: the effective value of every key set
in some scope (--all: every key), or with a scope flag the values set in that
scope. git backup config import reads the file back. The file is written
readable by its owner only (mode 0600), replacing any file of that name.
Secrets (alertWebhook, slackWebhook) are left out, with a comment saying so,
unless --include-secrets.`
}

func (c *configExportCmd) Run(ctx context.Context, a *App) error {
	es, err := a.Config(ctx)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("# git-backup policies (git config section backup)\n")
	b.WriteString("# apply with: git backup config import FILE\n")
	n := 0
	for _, s := range transitions.Effective(es) {
		if sc := c.scope(); sc != "" {
			vs := transitions.ScopeValues(es, sc, s.Key.Name)
			if len(vs) == 0 {
				continue
			}
			s.Value, s.Scope = vs[len(vs)-1], sc
		} else if s.Scope == transitions.ScopeDefault && !c.All {
			continue
		}
		v := s.Value
		if norm, err := s.Key.Normalize(v); err == nil {
			v = norm
		}
		if s.Key.Secret && !c.IncludeSecrets && v != "" {
			fmt.Fprintf(&b, "# %s is set but left out: it is a secret (export --include-secrets)\n", s.Key.Name)
			continue
		}
		b.WriteString(transitions.FormatConfigLine(s.Key.Name, v))
		b.WriteByte('\n')
		n++
	}
	if c.File == "" || c.File == "-" {
		_, err := a.Stdout.Write(b.Bytes())
		return err
	}
	if err := gitstate.WriteFileAtomic(a.configPath(c.File), b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("export config to %q: %w", c.File, err)
	}
	a.note("exported %d setting(s) to %s", n, c.File)
	return nil
}

type configImportCmd struct {
	scopeFlags
	File string `arg:"" help:"A file written by config export (or KEY=value lines of the old shell settings); - for stdin."`
	Yes  bool   `short:"y" help:"Accepted for uniformity; import asks nothing."`
}

func (c *configImportCmd) Help() string {
	return `Reads "key = value" lines (keys by name, short name or alias; # comments), checks
every line and the result as a whole, and only then writes them all to the
local config (or the scope given) as one change: git backup config rollback
undoes it. If any line is bad, every bad line is listed and nothing is written.

Exit status: 0 imported; 2 the file has a bad line, nothing written; 1 the file
cannot be read or git could not write the config.`
}

func (c *configImportCmd) Run(ctx context.Context, a *App) error {
	var data []byte
	var err error
	if c.File == "-" {
		var b bytes.Buffer
		_, err = b.ReadFrom(a.Stdin)
		data = b.Bytes()
	} else {
		data, err = os.ReadFile(a.configPath(c.File))
	}
	if err != nil {
		return fmt.Errorf("import config from %q: %w", c.File, err)
	}
	lines, err := transitions.ParseConfigFile(data)
	if err != nil {
		return usageError{fmt.Errorf("import config from %q: nothing written:\n%w", c.File, err)}
	}
	if len(lines) == 0 {
		a.note("%s holds no settings; nothing to import", c.File)
		return nil
	}
	var ws []transitions.ConfigWrite
	for _, l := range lines {
		ws = append(ws, transitions.ConfigWrite{Scope: c.writeScope(), Key: l.Key, Values: []string{l.Value}})
	}
	if err := a.applyConfig(ctx, "import", ws); err != nil {
		if errors.Is(err, transitions.ErrInvalidConfig) {
			return fmt.Errorf("import config from %q: nothing written: %w", c.File, err)
		}
		return fmt.Errorf("import config from %q: %w", c.File, err)
	}
	return nil
}
