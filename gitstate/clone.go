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
// the clone in every event it writes, so logs from clones can be merged.
func (r *Repo) CloneID() (string, error) {
	p := filepath.Join(r.BackupDir(), "clone-id")
	if b, err := os.ReadFile(p); err == nil {
		if id := strings.TrimSpace(string(b)); len(id) == 16 && isHex(id) {
			return id, nil
		}
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
	// Link fails if another process created the file first: use theirs.
	if err := os.Link(tmp, p); err != nil {
		os.Remove(tmp)
		b, rerr := os.ReadFile(p)
		if rerr != nil {
			return "", fmt.Errorf("write clone ID: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	os.Remove(tmp)
	return id, nil
}
