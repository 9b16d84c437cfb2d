package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/git-backup/git-backup/transitions"
)

type logCmd struct {
	ID    string `arg:"" optional:"" help:"Only this backup (ID, unique prefix, or latest)."`
	Limit int    `short:"n" help:"Print at most N events (0: all)."`
}

// logEntry is one event of the transition log.
type logEntry struct {
	Time    time.Time `json:"time"`
	ID      string    `json:"id"`
	Kind    string    `json:"kind"`
	From    *string   `json:"from"`
	To      *string   `json:"to"`
	Trigger string    `json:"trigger"`
	Reason  string    `json:"reason"`
	Forced  bool      `json:"forced"`
	Clone   string    `json:"clone"`
}

func (c *logCmd) Run(ctx context.Context, a *App) error {
	s, err := a.Store(ctx)
	if err != nil {
		return err
	}
	v, err := s.Load(ctx)
	if err != nil {
		return err
	}
	bs := v.Backups
	if c.ID != "" {
		b, err := v.Resolve(c.ID)
		if err != nil {
			return err
		}
		bs = []*transitions.Backup{b}
	}
	var es []logEntry
	for _, b := range bs {
		for _, e := range b.Events {
			le := logEntry{Time: e.Time.UTC(), ID: b.ID, Kind: e.Kind, Trigger: e.Trigger, Reason: e.Reason, Forced: e.Forced, Clone: e.Clone}
			if e.From != "" {
				le.From = &e.From
			}
			if e.To != "" {
				le.To = &e.To
			}
			es = append(es, le)
		}
	}
	sort.SliceStable(es, func(i, j int) bool { return es[i].Time.After(es[j].Time) })
	if c.Limit > 0 && len(es) > c.Limit {
		es = es[:c.Limit]
	}
	if a.JSON {
		if es == nil {
			es = []logEntry{}
		}
		return a.printJSON(es)
	}
	for _, e := range es {
		what := e.Kind
		if e.Kind == "move" {
			what = fmt.Sprintf("%s -> %s", deref(e.From, "?"), deref(e.To, "?"))
		} else if e.Kind == "create" {
			what = "created"
		}
		line := fmt.Sprintf("%s  %s  %-22s %s", e.Time.Format(time.RFC3339), e.ID, what, e.Trigger)
		if e.Forced {
			line += " FORCED"
		}
		if e.Reason != "" {
			line += ": " + e.Reason
		}
		a.out("%s", line)
	}
	return nil
}
