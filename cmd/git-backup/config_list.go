package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/git-backup/git-backup/transitions"
)

type configListCmd struct {
	scopeFlags
	ShowSecrets bool `help:"Show webhook URLs instead of masking them."`
}

func (c *configListCmd) Help() string {
	return `Lists every key with its effective value and the scope it comes from (or
"default"). With a scope flag, lists only the values set in that scope.
Secrets (alertWebhook, slackWebhook) are masked unless --show-secrets.
--json prints an array of {key, value, default, scope, alias, secret, valid}.`
}

// configRow is one key in `config list --json` and `config get --json`.
type configRow struct {
	Key     string `json:"key"`
	Value   string `json:"value"`
	Default string `json:"default"`
	Scope   string `json:"scope"`
	Alias   any    `json:"alias"`
	Secret  bool   `json:"secret"`
	Valid   bool   `json:"valid"`
	Problem any    `json:"problem"`
}

func (c *configListCmd) Run(ctx context.Context, a *App) error {
	rows, err := a.configRows(ctx, c.scope(), c.ShowSecrets)
	if err != nil {
		return err
	}
	if a.JSON {
		return a.printJSON(rows)
	}
	w := tabwriter.NewWriter(a.Stdout, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		v := r.Value
		if v == "" {
			v = `""`
		}
		line := fmt.Sprintf("%s\t%s\t%s", r.Key, v, r.Scope)
		if !r.Valid {
			line += fmt.Sprintf("\tINVALID: %s", r.Problem)
		}
		fmt.Fprintln(w, line)
	}
	return w.Flush()
}

// configRows lists every key's setting; with a scope, only keys set there.
func (a *App) configRows(ctx context.Context, scope string, reveal bool) ([]configRow, error) {
	es, err := a.Config(ctx)
	if err != nil {
		return nil, err
	}
	rows := []configRow{}
	for _, s := range transitions.Effective(es) {
		if scope != "" {
			vs := transitions.ScopeValues(es, scope, s.Key.Name)
			if len(vs) == 0 {
				continue
			}
			s.Value, s.Scope = vs[len(vs)-1], scope
		}
		rows = append(rows, newConfigRow(s, reveal))
	}
	return rows, nil
}

func newConfigRow(s transitions.Setting, reveal bool) configRow {
	k := s.Key
	r := configRow{Key: k.Name, Value: s.Value, Default: k.Default(), Scope: s.Scope, Alias: orNull(k.Alias), Secret: k.Secret, Valid: true}
	if v, err := k.Normalize(s.Value); err != nil {
		r.Valid, r.Problem = false, "must be "+k.Range()
	} else {
		r.Value = v
	}
	if k.Secret && !reveal && r.Value != "" {
		r.Value = hiddenValue
	}
	return r
}

type configGetCmd struct {
	scopeFlags
	Key string `arg:"" help:"backup.pendingTimeout, pendingTimeout or PENDING_TO_CLEANUP_TIMEOUT."`
}

func (c *configGetCmd) Help() string {
	return `Prints the key's effective value (its default when it is set nowhere), as
configured. With a scope flag, prints the value set in that scope and fails
(exit 1) when it is not set there. Secrets are printed: you asked for them.`
}

func (c *configGetCmd) Run(ctx context.Context, a *App) error {
	k, err := lookupKey(c.Key)
	if err != nil {
		return err
	}
	es, err := a.Config(ctx)
	if err != nil {
		return err
	}
	var s transitions.Setting
	for _, e := range transitions.Effective(es) {
		if e.Key == k {
			s = e
		}
	}
	if sc := c.scope(); sc != "" {
		vs := transitions.ScopeValues(es, sc, k.Name)
		if len(vs) == 0 {
			return fmt.Errorf("get %s: not set in %s", k.Name, transitions.ScopeName(sc))
		}
		s.Value, s.Scope = vs[len(vs)-1], sc
	}
	if a.JSON {
		return a.printJSON(newConfigRow(s, true))
	}
	a.out("%s", s.Value)
	if _, err := k.Parse(s.Value); err != nil {
		a.note("warning: %v", &transitions.ValueError{Key: k.Name, Scope: s.Scope, Value: s.Value, Want: k.Range(), Default: k.Default()})
	}
	return nil
}
