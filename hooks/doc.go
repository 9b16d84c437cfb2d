// Package hooks installs, upgrades, reports and removes git-backup's git
// hooks, and holds the hook entry points that git runs.
//
// Install never overwrites or loses a hook it did not write: a foreign hook is
// moved beside ours and chained (run first, with the same arguments and
// stdin), and uninstall puts it back byte for byte. Our hook files carry a
// marker and a version, so reinstall is idempotent and upgrade exact. A hook
// never blocks git: if git-backup is missing or fails, the shim prints one
// line and exits with the chained hook's status (0 when there is none).
package hooks
