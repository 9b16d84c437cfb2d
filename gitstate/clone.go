package gitstate

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CloneID returns this clone's stable ID, creating it on first use. It names
// the clone in every event it writes, so logs from clones can be merged. A
// file that does not hold an ID (damaged) is replaced by a new one: an ID
// that is not one would go into every event.
func (r *Repo) CloneID() (string, error) {
	p := filepath.Join(r.BackupDir(), "clone-id")
	if id, ok := readCloneID(p); ok {
		return id, nil
	}
	if _, err := r.ensureBackupDir(""); err != nil {
		return "", err
	}
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("make clone ID: %w", err)
	}
	id := hex.EncodeToString(raw[:])
	tmp := p + ".tmp." + id
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write clone ID: %w", err)
	}
	defer os.Remove(tmp)
	// Link fails if another process created the file first: use theirs.
	lerr := os.Link(tmp, p)
	if lerr == nil {
		return id, nil
	}
	if theirs, ok := readCloneID(p); ok {
		return theirs, nil
	}
	if _, err := os.Lstat(p); err != nil {
		return "", fmt.Errorf("write clone ID: %w", lerr)
	}
	// The file is there but damaged: replace it, and use what it then holds
	// (another process may be replacing it too).
	if err := os.Rename(tmp, p); err != nil {
		return "", fmt.Errorf("replace damaged clone ID %q: %w", p, err)
	}
	if theirs, ok := readCloneID(p); ok {
		return theirs, nil
	}
	return "", fmt.Errorf("replace damaged clone ID %q: it still does not hold an ID", p)
}

// readCloneID returns the ID in the clone-id file p, if it holds one.
func readCloneID(p string) (string, bool) {
	b, err := os.ReadFile(p)
	if err != nil {
		return "", false
	}
	id := strings.TrimSpace(string(b))
	return id, len(id) == 16 && isHex(id)
}
