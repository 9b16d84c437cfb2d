package hooks

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Names are the hooks git-backup installs.
var Names = []string{"post-commit", "post-merge", "post-rewrite", "pre-push"}

// Version of the shim this build writes. Raise it when the template changes:
// install replaces our hooks of older versions.
//
//   - 2: a chained hook gets git's input even when no temporary file can be made.
const Version = 3

// Marker starts the line that identifies our hook files and their version.
const Marker = "# git-backup-hook-version: "

// ChainSuffix is appended to a foreign hook's name when ours takes its place.
const ChainSuffix = ".pre-git-backup"

// SkipEnv skips git-backup's part of every hook when set to any value.
const SkipEnv = "GIT_BACKUP_SKIP_HOOKS"

// InHookEnv is set (to 1) in the environment of every git command git-backup
// runs, so hooks those commands fire do not re-enter git-backup.
const InHookEnv = "GIT_BACKUP_IN_HOOK"

// ShimEnv is set by the shim when it runs git-backup: the shim prints the one
// line about a failure, so git-backup only logs it.
const ShimEnv = "GIT_BACKUP_SHIM"

// takesStdin lists hooks git feeds on stdin.
var takesStdin = map[string]bool{"pre-push": true, "post-rewrite": true}

// Shim is the hook script for name.
func Shim(name string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `#!/bin/sh
# git-backup %s hook: moves safety backups along when git commits, merges,
# rewrites or pushes. Managed by git-backup: "git backup hooks uninstall"
# removes it and puts back any hook it chains to (%s%s).
# Set %s=1 to skip it. It never makes git fail.
%s%d
hook="$(dirname "$0")/%s%s"
status=0
`, name, name, ChainSuffix, SkipEnv, Marker, Version, name, ChainSuffix)
	if takesStdin[name] {
		// Without a temporary file, git's input goes to the chained hook,
		// which may decide by it, and ours does without.
		b.WriteString(`input="$(mktemp "${TMPDIR:-/tmp}/git-backup-hook.XXXXXX" 2>/dev/null)" || input=/dev/null
if [ "$input" = /dev/null ]; then
	if [ -x "$hook" ]; then "$hook" "$@"; status=$?; fi
else
	cat >"$input"
	if [ -x "$hook" ]; then "$hook" "$@" <"$input"; status=$?; fi
fi
`)
	} else {
		b.WriteString(`input=/dev/null
if [ -x "$hook" ]; then "$hook" "$@"; status=$?; fi
`)
	}
	fmt.Fprintf(&b, `if [ -z "$%s" ] && [ -z "$%s" ]; then
	if command -v git-backup >/dev/null 2>&1; then
		%s=1 git-backup hook %s "$@" <"$input" ||
			echo "git-backup: the %s hook failed; git is not affected (git backup hooks status tells more)" >&2
	else
		echo "git-backup: not found on PATH, %s hook skipped (install it, or: git backup hooks uninstall)" >&2
	fi
fi
[ "$input" = /dev/null ] || rm -f "$input"
exit $status
`, SkipEnv, InHookEnv, ShimEnv, name, name, name)
	return b.Bytes()
}

// ShimVersion returns the version of our hook in content, or 0 when content
// is not one of ours.
func ShimVersion(content []byte) int {
	sc := bufio.NewScanner(bytes.NewReader(content))
	for n := 0; sc.Scan() && n < 20; n++ {
		if v, ok := strings.CutPrefix(sc.Text(), Marker); ok {
			if i, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && i > 0 {
				return i
			}
		}
	}
	return 0
}
