package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// printSyncs prints when each remote was last fetched from and pushed to.
func printSyncs(w io.Writer, recs map[string]gitstate.SyncRecord, now time.Time) {
	names := make([]string, 0, len(recs))
	for n := range recs {
		names = append(names, n)
	}
	slices.Sort(names)
	when := func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return fmt.Sprintf("%s (%s ago)", t.Format(time.RFC3339), age(now, *t))
	}
	for _, n := range names {
		r := recs[n]
		fmt.Fprintf(w, "remote      %s: fetched %s, pushed %s\n", n, when(r.Fetched), when(r.Pushed))
	}
}
