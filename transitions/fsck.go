package transitions

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// FsckKind names one kind of disagreement between snapshot refs, state notes
// and files.
type FsckKind string

// The kinds of findings.
const (
	FsckOrphanRef       FsckKind = "orphan-ref"       // a snapshot ref with no state note
	FsckMissingRef      FsckKind = "missing-ref"      // a live backup without its snapshot ref
	FsckDamagedNote     FsckKind = "damaged-note"     // a note with lines that do not fold
	FsckRefMismatch     FsckKind = "ref-mismatch"     // a snapshot ref and a note that disagree
	FsckStaleRef        FsckKind = "stale-ref"        // a DELETED or ARCHIVED backup that still has a snapshot ref
	FsckMissingSnapshot FsckKind = "missing-snapshot" // a snapshot ref whose commit is not in the object store
	FsckDamagedSnapshot FsckKind = "damaged-snapshot" // a live snapshot with an object that is missing or cannot be read
	FsckBadRefName      FsckKind = "bad-ref-name"     // a snapshot ref not named by a backup ID
	FsckStateUnreadable FsckKind = "state-unreadable" // refs/backups/state cannot be read
	FsckUnknownLayout   FsckKind = "unknown-layout"   // refs/backups/state has a layout this build does not know
	FsckStrayIndex      FsckKind = "stray-index"      // a private index left by an interrupted snapshot
	FsckStaleLock       FsckKind = "stale-lock"       // a ref's lock file left by a killed git process
)

// FsckAction is what fsck --repair does about a finding.
type FsckAction string

// The repairs. Every state repair of one run goes into one batch.
const (
	RepairNone       FsckAction = ""             // nothing automatic; Finding.Repair says what to do
	RepairAdopt      FsckAction = "adopt"        // write a note with a creation event rebuilt from the commit
	RepairRecreate   FsckAction = "recreate-ref" // create the snapshot ref again (create-only)
	RepairTombstone  FsckAction = "tombstone"    // forced move to DELETED: the content is gone
	RepairDropRef    FsckAction = "drop-ref"     // delete the snapshot ref of a DELETED backup
	RepairRemoveFile FsckAction = "remove-file"  // delete a stray private index
	RepairRemoveLock FsckAction = "remove-lock"  // delete a stale lock file of a ref
)

// StrayIndexAge is how old a private index must be before fsck calls it stray:
// no snapshot takes that long, so its process is gone.
const StrayIndexAge = time.Hour

// TombstoneReason is the reason recorded when fsck marks a backup whose
// snapshot is gone as DELETED.
const TombstoneReason = "fsck: snapshot lost"

// Finding is one problem fsck found.
type Finding struct {
	Kind     FsckKind
	ID       string // the backup at fault; "" when not known
	Ref      string // the ref at fault; refs/backups/state:<path> for a note
	Path     string // the file at fault (a stray private index)
	Message  string
	Repair   string     // what --repair does about it, or why it does nothing and what to do instead
	Action   FsckAction // RepairNone when only a person can decide
	Repaired bool       // set by Store.Fsck when the repair was made

	Snapshot string // the commit concerned, when there is one

	backup  *Backup
	index   gitstate.PrivateIndex
	lock    gitstate.RefLock
	planned bool   // its repair is in the batch being committed
	reason  string // of a tombstone, when not TombstoneReason
	force   bool   // a tombstone is forced even where the move is legal
	target  string // where RepairPlaceArchive puts the archive at Path
}

// Name is what the finding is about, for people: the backup ID, else the
// ref, else the file.
func (f *Finding) Name() string {
	switch {
	case f.ID != "":
		return f.ID
	case f.Ref != "":
		return f.Ref
	}
	return f.Path
}

// FsckInput is everything fsck checks against each other. The coordinator
// reads it; PlanFsck decides on it without I/O.
type FsckInput struct {
	View     *View  // the folded state; nil when it could not be read
	StateErr error  // why the state could not be read
	Layout   string // layout of the state tree, when it was read
	// Refs maps the name of every snapshot ref (after refs/backups/snapshots/)
	// to the commit it points to.
	Refs map[string]string
	// Exists says which commits are in the object store: at least those of
	// Refs, and the snapshots of live backups whose ref is missing.
	Exists map[string]bool
	// Damaged says, for snapshot commits of live backups with an object that
	// is missing or cannot be read, what is wrong.
	Damaged map[string]string
	Indexes []gitstate.PrivateIndex // private index files, of any age
	Locks   []gitstate.RefLock      // lock files of refs/backups/* and packed-refs, of any age
	// Archives are the archive files the state names and those in the
	// archive directory; nil when not read.
	Archives *ArchiveFacts
	Now      time.Time
	// Self is this clone's ID: a snapshot ref kept after another clone marked
	// its backup DELETED is not dropped by a repair.
	Self string
}

var backupIDForm = regexp.MustCompile(`^(\d{8}-\d{6})-([0-9a-f]{7,40})$`)

// ParseBackupID splits an ID into its UTC time stamp (zero when the digits are
// not a valid time) and the hex prefix of its snapshot commit. ok is false when
// id does not have the form YYYYMMDD-HHMMSS-<hex>.
func ParseBackupID(id string) (stamp time.Time, hex string, ok bool) {
	m := backupIDForm.FindStringSubmatch(id)
	if m == nil {
		return time.Time{}, "", false
	}
	t, err := time.ParseInLocation("20060102-150405", m[1], time.UTC)
	if err != nil {
		t = time.Time{}
	}
	return t, m[2], true
}

// PlanFsck checks the state, the snapshot refs, the object store and the
// private index files against each other, and says for each problem what
// --repair does. It never plans to delete information: a note is never
// rewritten, only appended to, and a ref is dropped only when its backup is
// DELETED.
func PlanFsck(in FsckInput) []Finding {
	var fs []Finding
	switch {
	case in.StateErr != nil:
		fs = append(fs, Finding{
			Kind: FsckStateUnreadable, Ref: gitstate.StateRef,
			Message: fmt.Sprintf("%s cannot be read: %v", gitstate.StateRef, in.StateErr),
			Repair: "none: fsck does not rewrite a state it cannot read; fetch a good copy from another clone " +
				"(git fetch <remote> +" + gitstate.StateRef + ":" + gitstate.StateRef + "); as a last resort, git update-ref -d " +
				gitstate.StateRef + " and git backup fsck --repair start a new state that adopts every snapshot ref as CREATED " +
				"(states and history are lost)",
		})
	case in.Layout != gitstate.LayoutVersion:
		fs = append(fs, Finding{
			Kind: FsckUnknownLayout, Ref: gitstate.StateRef,
			Message: fmt.Sprintf("%s has layout %q; this git-backup reads %q", gitstate.StateRef, in.Layout, gitstate.LayoutVersion),
			Repair:  "none: upgrade git-backup (the state was probably written by a newer one), then run git backup fsck again",
		})
	}
	v := in.View
	if in.StateErr != nil || in.Layout != gitstate.LayoutVersion {
		v = nil // not understood: check only what needs no state
	}
	fs = append(fs, checkRefs(v, in)...)
	if v != nil {
		fs = append(fs, checkNotes(v, in)...)
	}
	if v != nil && in.Archives != nil {
		fs = append(fs, checkArchives(v, in)...)
	}
	fs = append(fs, checkIndexes(in)...)
	fs = append(fs, checkLocks(in)...)
	return fs
}

// checkRefs checks every snapshot ref against its note (when v is not nil)
// and the object store.
func checkRefs(v *View, in FsckInput) []Finding {
	var fs []Finding
	names := make([]string, 0, len(in.Refs))
	for n := range in.Refs {
		names = append(names, n)
	}
	sort.Strings(names)
	adopted := map[string]string{} // commit → ID adopted for it
	for _, id := range names {
		c := in.Refs[id]
		ref := gitstate.SnapshotRef(id)
		f := Finding{ID: id, Ref: ref, Snapshot: c}
		_, hex, okName := ParseBackupID(id)
		missing := fmt.Sprintf("%s points to commit %s, which is not in the object store", ref, c)
		missingRepair := "none: the snapshot's content is gone from this repository (git fsck says more); fetch it from a clone that has it " +
			"(git fetch <remote> " + ref + ":" + ref + ")"
		if !okName {
			f.ID = "" // not a backup ID: the ref names it
		}
		if v == nil {
			if !in.Exists[c] {
				f.Kind, f.Message, f.Repair = FsckMissingSnapshot, missing, missingRepair
				fs = append(fs, f)
			}
			continue
		}
		b := v.ByID(id)
		other := v.BySnapshot(c)
		switch {
		case b != nil && c != b.Snapshot:
			f.Kind = FsckRefMismatch
			f.Message = fmt.Sprintf("%s points to %s, but backup %s's note is for snapshot %s", ref, abbrevID(c, 12), id, b.Snapshot)
			f.Repair = fmt.Sprintf("none: fsck cannot tell which is right; compare git show %s and git show %s, then "+
				"git update-ref %s %s %s to point the ref at the note's snapshot", abbrevID(c, 12), abbrevID(b.Snapshot, 12), ref, b.Snapshot, c)
		case b != nil && (!okName || !strings.HasPrefix(b.Snapshot, hex)):
			f.Kind = FsckRefMismatch
			f.Message = fmt.Sprintf("backup ID %s does not name its snapshot %s (its hex part must be a prefix of the commit)", id, b.Snapshot)
			f.Repair = "none: the ref and the note agree on the commit but not with the ID; the note's creation event was written by hand " +
				"or damaged (git cat-file -p " + noteRef(v, b) + ")"
		case b != nil && b.State == Deleted && KeptLocally(b, true, in.Self) != "":
			f.Kind = FsckStaleRef
			f.Message = fmt.Sprintf("backup %s is DELETED but %s still exists: %s", id, ref, KeptLocally(b, true, in.Self))
			f.Repair = "none: git backup fetch drops it once the integration branch covers its changes; to drop it now, git update-ref -d " + ref + " " + c
		case b != nil && b.State == Deleted:
			f.Kind, f.Action = FsckStaleRef, RepairDropRef
			f.Message = fmt.Sprintf("backup %s is DELETED but %s still exists", id, ref)
			f.Repair = "drop the ref: the backup is DELETED, so nothing should keep its snapshot"
		case b != nil && !in.Exists[c]:
			f.Kind, f.Message = FsckMissingSnapshot, missing
			f.Repair = missingRepair + ", or mark the backup DELETED with git backup transition " + id + " deleted --force"
		case b != nil && b.State == Archived && KeptLocally(b, true, in.Self) != "":
			f.Kind = FsckStaleRef
			f.Message = fmt.Sprintf("backup %s is ARCHIVED but %s still exists: %s", id, ref, KeptLocally(b, true, in.Self))
			f.Repair = "none: the archive was written by the clone that archived it; git backup fetch drops the ref once the integration branch covers its changes; to drop it now, git update-ref -d " + ref + " " + c
		case b != nil && b.State == Archived && archiveHolds(in.Archives, b):
			f.Kind, f.Action = FsckStaleRef, RepairDropRef
			f.Message = fmt.Sprintf("backup %s is ARCHIVED and its archive verifies, but %s still exists (left by an interrupted archive or unarchive)", id, ref)
			f.Repair = "drop the ref: the verified archive holds the content"
		case b != nil && b.State == Archived:
			f.Kind = FsckStaleRef
			f.Message = fmt.Sprintf("backup %s is ARCHIVED but %s still exists", id, ref)
			f.Repair = "none: the ref is dropped only once the archive is verified; keep it until then (it holds the content)"
		case b != nil && in.Damaged[c] != "":
			f.Kind = FsckDamagedSnapshot
			f.Message = fmt.Sprintf("backup %s's snapshot %s cannot be read whole: %s", id, abbrevID(c, 12), in.Damaged[c])
			f.Repair = "none: git fsck names every damaged object; fetch the snapshot from a clone that has it " +
				"(git fetch <remote> " + ref + ":" + ref + "), or put the damaged objects back from a copy of the repository"
		case b != nil:
			continue // consistent
		case other != nil && other.ID == "":
			if !in.Exists[c] {
				f.Kind, f.Message, f.Repair = FsckMissingSnapshot, missing, missingRepair
				fs = append(fs, f)
			}
			continue // the damaged note is reported with the notes
		case other != nil:
			f.Kind = FsckRefMismatch
			f.Message = fmt.Sprintf("%s points to %s, which is the snapshot of backup %s", ref, abbrevID(c, 12), other.ID)
			f.Repair = fmt.Sprintf("none: this extra ref names no backup; once you have checked it, delete it with git update-ref -d %s %s", ref, c)
		case !okName:
			f.Kind = FsckBadRefName
			f.Message = fmt.Sprintf("%s is not named by a backup ID (YYYYMMDD-HHMMSS-<hex of the commit>) and has no note", ref)
			f.Repair = fmt.Sprintf("none: fsck adopts only refs named by a backup ID; rename it (git update-ref %s%s %s, then git update-ref -d %s) and run git backup fsck --repair again",
				gitstate.SnapshotsPrefix, "<YYYYMMDD-HHMMSS>-"+abbrevID(c, 7), c, ref)
		case !strings.HasPrefix(c, hex):
			f.Kind = FsckRefMismatch
			f.Message = fmt.Sprintf("%s points to %s, which its ID's hex %s does not name, and has no note", ref, abbrevID(c, 12), hex)
			f.Repair = "none: fsck adopts only refs whose ID names their commit; find where the ref should point with git show " + abbrevID(c, 12)
		case !in.Exists[c]:
			f.Kind, f.Message, f.Repair = FsckMissingSnapshot, missing+", and it has no note", missingRepair
		case adopted[c] != "":
			f.Kind = FsckRefMismatch
			f.Message = fmt.Sprintf("%s has no note and points to the same commit as %s", ref, gitstate.SnapshotRef(adopted[c]))
			f.Repair = fmt.Sprintf("none: fsck adopts %s for that commit; once you have checked it, delete this ref with git update-ref -d %s %s", adopted[c], ref, c)
		default:
			adopted[c] = id
			f.Kind, f.Action = FsckOrphanRef, RepairAdopt
			f.Message = fmt.Sprintf("%s has no note in %s", ref, gitstate.StateRef)
			f.Repair = "adopt it: write a note with a creation event rebuilt from the commit (CREATED, trigger fsck)"
		}
		f.backup = b
		fs = append(fs, f)
	}
	return fs
}

// checkNotes reports damaged notes and live backups without a snapshot ref.
func checkNotes(v *View, in FsckInput) []Finding {
	var fs []Finding
	for _, b := range v.Backups {
		if len(b.Damaged) > 0 {
			f := Finding{Kind: FsckDamagedNote, ID: b.ID, Ref: noteRef(v, b), Snapshot: b.Snapshot, backup: b}
			who := "backup " + b.ID
			if b.ID == "" {
				who = "the note of snapshot " + b.Snapshot
			}
			f.Message = who + ": " + strings.Join(b.Damaged, "; ")
			f.Repair = "none: fsck --repair never deletes information; read the note with git cat-file -p " + f.Ref +
				" and mend the bad lines by hand (the good lines still count)"
			fs = append(fs, f)
		}
		if b.ID == "" || !b.Live() {
			continue
		}
		if _, ok := in.Refs[b.ID]; ok {
			continue // checked with the refs
		}
		if !in.Exists[b.Snapshot] && createdElsewhere(b, in.Self) {
			// Another clone took it and has not pushed its snapshot (push
			// --snapshots): its content lives there, not lost.
			continue
		}
		ref := gitstate.SnapshotRef(b.ID)
		f := Finding{Kind: FsckMissingRef, ID: b.ID, Ref: ref, Snapshot: b.Snapshot, backup: b}
		if in.Exists[b.Snapshot] {
			f.Action = RepairRecreate
			f.Message = fmt.Sprintf("backup %s is %s but %s is missing; its commit %s still exists", b.ID, b.State, ref, abbrevID(b.Snapshot, 12))
			f.Repair = "recreate the ref at " + b.Snapshot
		} else {
			f.Action = RepairTombstone
			f.Message = fmt.Sprintf("backup %s is %s but %s is missing and its commit %s is gone", b.ID, b.State, ref, abbrevID(b.Snapshot, 12))
			f.Repair = fmt.Sprintf("mark it DELETED (forced move, trigger user, reason %q): its content cannot be recovered here", TombstoneReason)
		}
		fs = append(fs, f)
	}
	return fs
}

// archiveHolds reports whether the archive an ARCHIVED backup names was read
// and verified and holds that backup's snapshot.
func archiveHolds(af *ArchiveFacts, b *Backup) bool {
	if af == nil || b.Archive == nil {
		return false
	}
	f, ok := af.Recorded[*b.Archive]
	return ok && f.Exists && f.Err == nil && f.ID == b.ID && f.Snapshot == b.Snapshot
}

// createdElsewhere reports whether another clone than self took b, as its
// creation event says. It is false when either is not known.
func createdElsewhere(b *Backup, self string) bool {
	for _, e := range b.Events {
		if e.Kind == gitstate.KindCreate {
			return self != "" && e.Clone != "" && e.Clone != self
		}
	}
	return false
}

// checkIndexes reports private index files old enough to be left over.
func checkIndexes(in FsckInput) []Finding {
	var fs []Finding
	for _, ix := range in.Indexes {
		age := in.Now.Sub(ix.ModTime)
		if age < StrayIndexAge {
			continue // a snapshot may be using it
		}
		fs = append(fs, Finding{
			Kind: FsckStrayIndex, Path: ix.Path, Action: RepairRemoveFile, index: ix,
			Message: fmt.Sprintf("a private index left by an interrupted snapshot (%s old, %d bytes)", roughAge(age), ix.Size),
			Repair:  "remove the file",
		})
	}
	return fs
}

// checkLocks reports lock files of refs old enough to be left by a killed
// git process: git holds one for milliseconds.
func checkLocks(in FsckInput) []Finding {
	var fs []Finding
	for _, l := range in.Locks {
		age := in.Now.Sub(l.ModTime)
		if age < StrayIndexAge {
			continue // a git process may hold it
		}
		fs = append(fs, Finding{
			Kind: FsckStaleLock, Ref: l.Ref, Path: l.Path, Action: RepairRemoveLock, lock: l,
			Message: fmt.Sprintf("a lock file left by a killed git process (%s old): every change of %s fails while it exists", roughAge(age), l.Ref),
			Repair:  "remove the file",
		})
	}
	return fs
}

// roughAge prints a duration for people: 90m, 5h, 3d.
func roughAge(d time.Duration) string {
	switch {
	case d < 2*time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// noteRef names a backup's note as git can show it: refs/backups/state:<path>.
func noteRef(v *View, b *Backup) string {
	if v.State != nil {
		if p := v.State.NotePath(b.Snapshot); p != "" {
			return gitstate.StateRef + ":" + p
		}
	}
	return gitstate.StateRef
}

// abbrevID is the first n characters of an object ID.
func abbrevID(id string, n int) string {
	if len(id) > n {
		return id[:n]
	}
	return id
}
