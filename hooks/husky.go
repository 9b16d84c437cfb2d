package hooks

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// huskyMarker ends the one line git-backup adds to a Husky hook script.
const huskyMarker = "# git-backup (git backup hooks uninstall removes this line)"

// huskyHeader starts a Husky script that git-backup created itself.
const huskyHeader = "# created by git-backup\n"

func huskyLine(name string) string {
	return fmt.Sprintf(`[ -n "$%s" ] || ! command -v git-backup >/dev/null 2>&1 || git-backup hook %s "$@" || true %s`, SkipEnv, name, huskyMarker)
}

// installHusky adds our marked line to the user-owned .husky/<name> script;
// Husky regenerates .husky/_ itself, so nothing is written there.
func installHusky(e Env, name string) (Hook, error) {
	h := status(e, name)
	if h.State == StateInstalled {
		h.Action = "unchanged"
		return h, nil
	}
	b, err := os.ReadFile(h.Path)
	action := "added a line to"
	if os.IsNotExist(err) {
		b, action, err = []byte(huskyHeader), "created", nil
	}
	if err != nil {
		return h, fmt.Errorf("install %s hook in Husky: %w", name, err)
	}
	b = addHuskyLine(b, name)
	mode := os.FileMode(0o755)
	if fi, err := os.Stat(h.Path); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := os.MkdirAll(filepath.Dir(h.Path), 0o755); err != nil {
		return h, fmt.Errorf("install %s hook in Husky: %w", name, err)
	}
	if err := os.WriteFile(h.Path, b, mode); err != nil {
		return h, fmt.Errorf("install %s hook in Husky: %w", name, err)
	}
	h = status(e, name)
	h.Action = action
	return h, nil
}

// uninstallHusky removes our line, and the script when git-backup created it
// and nothing else is left in it.
func uninstallHusky(e Env, name string) (Hook, error) {
	h := status(e, name)
	h.Action = "unchanged"
	b, err := os.ReadFile(h.Path)
	if err != nil || !bytes.Contains(b, []byte(huskyMarker)) {
		return h, nil
	}
	rest := removeHuskyLines(b)
	if rest == huskyHeader { // created by install (an empty file of the user's stays)
		if err := os.Remove(h.Path); err != nil {
			return h, fmt.Errorf("uninstall %s hook from Husky: %w", name, err)
		}
		h.Action, h.State = "removed", StateMissing
		return h, nil
	}
	fi, err := os.Stat(h.Path)
	if err != nil {
		return h, fmt.Errorf("uninstall %s hook from Husky: %w", name, err)
	}
	if err := os.WriteFile(h.Path, []byte(rest), fi.Mode().Perm()); err != nil {
		return h, fmt.Errorf("uninstall %s hook from Husky: %w", name, err)
	}
	h.Action, h.State = "removed our line from", StateMissing
	return h, nil
}

// addHuskyLine returns script b with our line for hook name added at its end.
func addHuskyLine(b []byte, name string) []byte {
	b = slices.Clip(b)
	if len(b) > 0 && b[len(b)-1] != '\n' {
		// No final newline: ours goes on a line of its own, without one, so
		// that uninstall can give the file back byte for byte.
		return append(b, "\n"+huskyLine(name)...)
	}
	return append(b, huskyLine(name)+"\n"...)
}

// removeHuskyLines returns script b without our lines: what it was before
// addHuskyLine.
func removeHuskyLines(b []byte) string {
	var kept []string
	lines := strings.SplitAfter(string(b), "\n")
	for _, l := range lines {
		if !strings.Contains(l, huskyMarker) {
			kept = append(kept, l)
		}
	}
	rest := strings.Join(kept, "")
	if last := lines[len(lines)-1]; strings.Contains(last, huskyMarker) && !strings.HasSuffix(last, "\n") {
		// Ours was added to a file without a final newline.
		rest = strings.TrimSuffix(rest, "\n")
	}
	return rest
}
