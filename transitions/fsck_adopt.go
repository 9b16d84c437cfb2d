package transitions

import (
	"strings"

	"github.com/git-backup/git-backup/gitstate"
)

// AdoptEvent rebuilds the creation event of backup id from its snapshot commit
// c, for a snapshot ref that has no note. The time comes from the ID (the
// commit's time when the ID's stamp is not a valid time), the base is the
// commit's first parent, and the branch is unknown. note, when not empty, is
// added to the reason.
func AdoptEvent(id string, c gitstate.CommitInfo, paths []gitstate.PathChange, note string) gitstate.Event {
	when, _, _ := ParseBackupID(id)
	if when.IsZero() {
		when = c.Time
	}
	base := ""
	if len(c.Parents) > 0 {
		base = c.Parents[0]
	}
	var size int64
	for _, p := range paths {
		size += p.Size
	}
	reason := "adopted by git backup fsck --repair: " + gitstate.SnapshotRef(id) + " had no state note"
	if note != "" {
		reason += "; " + note
	}
	return gitstate.Event{
		Kind: gitstate.KindCreate, Time: when.UTC(), To: string(Created), Trigger: "fsck", Reason: reason,
		ID: id, Snapshot: c.ID, Tree: c.Tree, Base: base, Message: adoptedMessage(c.Message),
		Files: len(paths), SizeBytes: size, Paths: paths,
	}
}

// adoptedMessage is the backup message a snapshot commit's message gives back:
// its first line, unless it is the text create writes when given none.
func adoptedMessage(msg string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	line = strings.TrimSpace(line)
	if line == "git-backup snapshot" || strings.HasPrefix(line, "git-backup snapshot of ") {
		return ""
	}
	return line
}
