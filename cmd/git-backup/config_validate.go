package main

import (
	"context"
	"fmt"

	"github.com/git-backup/git-backup/transitions"
)

type configValidateCmd struct{}

func (c *configValidateCmd) Help() string {
	return `Checks every backup.* value in every scope, including values that a later
scope overrides, then the effective values against each other (warning <
critical < emergency thresholds, largeThreshold < hugeThreshold). Unknown keys
are warnings.

Exit status: 0 every value is valid (warnings allowed); 1 at least one is not.
--json prints {valid, errors, warnings, problems: [{key, scope, value, level, message}]}.`
}

type configProblem struct {
	Key     string `json:"key"`
	Scope   string `json:"scope"`
	Value   string `json:"value"`
	Level   string `json:"level"` // error or warning
	Message string `json:"message"`
}

func (c *configValidateCmd) Run(ctx context.Context, a *App) error {
	es, err := a.Config(ctx)
	if err != nil {
		return err
	}
	ps := transitions.CheckConfig(es)
	out := []configProblem{}
	nerr, nwarn := 0, 0
	for _, p := range ps {
		level := "error"
		if p.Warning {
			level = "warning"
			nwarn++
		} else {
			nerr++
		}
		out = append(out, configProblem{Key: p.Key, Scope: p.Scope, Value: p.Value, Level: level, Message: p.Err.Error()})
	}
	if a.JSON {
		if err := a.printJSON(map[string]any{"valid": nerr == 0, "errors": nerr, "warnings": nwarn, "problems": out}); err != nil {
			return err
		}
	} else {
		for _, p := range out {
			a.out("%s: %s", p.Level, p.Message)
		}
		if nerr == 0 {
			a.out("config is valid (%d warning(s))", nwarn)
		}
	}
	if nerr > 0 {
		return fmt.Errorf("config has %d invalid value(s) (fix them with git backup config set or unset)", nerr)
	}
	return nil
}
