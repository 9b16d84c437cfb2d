// Package gitstate is git-backup's store: the refs/backups layout, working-tree
// snapshots, the state notes, compare-and-swap ref transactions and the objects
// behind them.
//
// It is the only package that starts git processes. It offers domain methods
// (CreateSnapshot, CommitState, ReadState, …) and never hands raw argv to callers.
// It makes no decisions about the lifecycle: that is package transitions.
//
// Objects (blobs, trees, commits) are read and written in-process with go-git.
// Refs are only ever changed by the git binary, in git's own locking protocol,
// and always with the old value checked.
package gitstate
