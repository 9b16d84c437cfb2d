// Package monitor is the background loop behind `git backup monitor`: each
// cycle it autosaves changed work, re-checks git facts, applies the time and
// disk policies of SPEC §7 through the transitions coordinator, reclaims the
// space dropped, raises alerts and records metrics.
//
// It never moves a backup itself: every state change goes through
// transitions.Store (and so through its compare-and-swap), and it never runs
// git except through gitstate. Its clock, disk measure, alert sender and
// metrics sink are interfaces so every policy is testable without waiting or
// filling a disk.
package monitor
