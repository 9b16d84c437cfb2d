package transitions

import (
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// StateSince is when b entered its current state: the time of the last move
// its log applied, or its creation. Time policies count from it (a PENDING
// backup times out pendingTimeout after it became PENDING, not after it was
// created). It replays the folded log the way Fold does; for a backup with no
// log (built by hand) it is UpdatedAt, or CreatedAt when that is unset.
func (b *Backup) StateSince() time.Time {
	if b.Light && !b.since.IsZero() {
		return b.since
	}
	var (
		state   State
		since   time.Time
		pinned  bool
		created bool
	)
	for _, e := range b.Events { // Fold left them sorted and without duplicates
		switch {
		case e.Kind == gitstate.KindCreate:
			if !created {
				created, state, since = true, Created, e.Time.UTC()
			}
		case !created:
		case e.Kind == gitstate.KindPin:
			pinned = true
		case e.Kind == gitstate.KindUnpin:
			pinned = false
		case e.Kind == gitstate.KindMove:
			to := State(e.To)
			if known(to) && CheckMove(state, to, e.Forced, pinned, Trigger(e.Trigger)) == nil {
				state, since = to, e.Time.UTC()
			}
		}
	}
	if created && state == b.State {
		return since
	}
	if !b.UpdatedAt.IsZero() {
		return b.UpdatedAt
	}
	return b.CreatedAt
}
