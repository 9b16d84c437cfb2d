// Package transitions decides what happens to backups: the states and their
// legal moves, triggers and their priorities, the fold of a backup's event log
// into its current state, confidence and its factors, and policies.
//
// The deciding half (state.go, fold.go, confidence.go, policy.go) does no I/O:
// it works on plain data and a clock, so every rule is a table test. The
// coordinator (store.go) applies decisions through package gitstate in one
// compare-and-swap transaction per batch, re-reading and re-deciding when it
// loses a race. Nothing here starts a git process itself.
package transitions
