package transitions

import (
	"bufio"
	"bytes"
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The fold cache remembers each note's fold by note blob ID, plus each
// backup's coverage against the integration tips it was measured on. A fold
// depends only on the snapshot and the note's bytes, so an entry is valid
// for as long as its blob is the note; when refs/backups/state has not moved
// at all, the whole view is rebuilt from the cache without reading an object.
// The cache is derived data: a missing, damaged or older cache is rebuilt.
// Its last line is a CRC-32C of the lines before it, so a truncated file or
// flipped bytes read as no cache rather than as wrong states.

const (
	foldCacheName   = "fold"
	foldCacheHeader = "git-backup fold cache 5"
)

// foldCache is the decoded cache file.
type foldCache struct {
	state, tree, layout string
	tips                string                // signature of the tips coverage was measured on
	notes               map[string]cachedNote // snapshot → note
	coverage            map[string]float64    // snapshot → coverage against tips
	checked             map[string]bool       // snapshot → a hook or cycle decided it against tips
	entries             map[string]*Backup    // note blob → light fold (undamaged notes only)
}

type cachedNote struct{ blob, path string }

func newFoldCache() *foldCache {
	return &foldCache{notes: map[string]cachedNote{}, coverage: map[string]float64{}, checked: map[string]bool{}, entries: map[string]*Backup{}}
}

// encode writes the cache in a line format that decodes several times faster
// than JSON: the point of the cache is to make list cheap.
func (c *foldCache) encode() []byte {
	var b bytes.Buffer
	b.WriteString(foldCacheHeader + "\n")
	fmt.Fprintf(&b, "state\t%s\t%s\t%s\n", c.state, c.tree, strconv.Quote(c.layout))
	fmt.Fprintf(&b, "tips\t%s\n", c.tips)
	checked := make([]string, 0, len(c.checked))
	for s := range c.checked {
		if _, ok := c.notes[s]; ok {
			checked = append(checked, s)
		}
	}
	slices.Sort(checked)
	for _, s := range checked {
		fmt.Fprintf(&b, "k\t%s\n", s)
	}
	snaps := make([]string, 0, len(c.notes))
	for s := range c.notes {
		snaps = append(snaps, s)
	}
	slices.Sort(snaps)
	for _, s := range snaps {
		n := c.notes[s]
		cov := "-"
		if v, ok := c.coverage[s]; ok {
			cov = strconv.FormatFloat(v, 'g', -1, 64)
		}
		e := c.entries[n.blob]
		if e == nil {
			fmt.Fprintf(&b, "n\t%s\t%s\t%s\t%s\n", s, n.blob, strconv.Quote(n.path), cov)
			continue
		}
		fmt.Fprintf(&b, "e\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%d\t%d\t%t\t%s\t%s\t%s\t%s\t%s\t%t\t%d\t%s\t%d\n",
			s, n.blob, strconv.Quote(n.path), cov,
			e.ID, e.State, e.CreatedAt.UnixNano(), e.UpdatedAt.UnixNano(),
			strconv.Quote(e.Trigger), strconv.Quote(e.Message), e.Files, e.SizeBytes, e.Pinned,
			optQuote(e.CoveredBy), optQuote(e.Archive), e.Tree, optQuote(e.Base), optQuote(e.Branch),
			e.IncludeIgnored, e.TestPaths, strconv.FormatFloat(e.RecordedCoverage, 'g', -1, 64), e.since.UnixNano())
	}
	fmt.Fprintf(&b, "%s%08x\n", foldCacheSum, crc32.Checksum(b.Bytes(), castagnoli))
	return b.Bytes()
}

// foldCacheSum starts the cache's last line: the checksum of the lines before.
const foldCacheSum = "sum\t"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checkFoldCacheSum returns the cache without its checksum line, or nil when
// the line is missing or does not match.
func checkFoldCacheSum(data []byte) []byte {
	const line = len(foldCacheSum) + 8 + 1
	if len(data) < line || data[len(data)-1] != '\n' {
		return nil
	}
	body, tail := data[:len(data)-line], data[len(data)-line:]
	if !bytes.HasPrefix(tail, []byte(foldCacheSum)) {
		return nil
	}
	want, err := strconv.ParseUint(string(tail[len(foldCacheSum):line-1]), 16, 32)
	if err != nil || uint32(want) != crc32.Checksum(body, castagnoli) {
		return nil
	}
	return body
}

func optQuote(s *string) string {
	if s == nil {
		return "-"
	}
	return strconv.Quote(*s)
}

func optUnquote(s string) (*string, error) {
	if s == "-" {
		return nil, nil
	}
	u, err := unquote(s)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// decodeFoldCache parses a cache file; any problem gives nil, and so does a
// value no fold gives (an unknown state, a coverage outside [0,1]): a cache
// damaged that way is rebuilt, not believed.
func decodeFoldCache(data []byte) *foldCache {
	if !bytes.HasPrefix(data, []byte(foldCacheHeader+"\n")) {
		return nil
	}
	if data = checkFoldCacheSum(data); data == nil {
		return nil
	}
	n := bytes.Count(data, []byte{'\n'})
	c := &foldCache{notes: make(map[string]cachedNote, n), coverage: make(map[string]float64, n), checked: map[string]bool{}, entries: make(map[string]*Backup, n)}
	sc := bufio.NewScanner(bytes.NewReader(data[len(foldCacheHeader)+1:]))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var f []string
	for sc.Scan() {
		f = splitTabs(f[:0], sc.Text())
		var err error
		switch {
		case f[0] == "state" && len(f) == 4:
			c.state, c.tree = f[1], f[2]
			c.layout, err = unquote(f[3])
		case f[0] == "tips" && len(f) == 2:
			c.tips = f[1]
		case f[0] == "k" && len(f) == 2:
			c.checked[f[1]] = true
		case f[0] == "n" && len(f) == 5:
			err = c.addNote(f[1], f[2], f[3], f[4])
		case f[0] == "e" && len(f) == 23:
			if err = c.addNote(f[1], f[2], f[3], f[4]); err == nil {
				err = c.addEntry(f[1], f[2], f[5:])
			}
		default:
			err = fmt.Errorf("bad line")
		}
		if err != nil {
			return nil
		}
	}
	if sc.Err() != nil || c.state == "" {
		return nil
	}
	return c
}

// splitTabs splits s at tabs into f, reusing f's storage.
func splitTabs(f []string, s string) []string {
	for {
		i := strings.IndexByte(s, '\t')
		if i < 0 {
			return append(f, s)
		}
		f = append(f, s[:i])
		s = s[i+1:]
	}
}

// unquote is strconv.Unquote with a fast path for strings without escapes.
func unquote(s string) (string, error) {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' && strings.IndexByte(s, '\\') < 0 {
		return s[1 : len(s)-1], nil
	}
	return strconv.Unquote(s)
}

func (c *foldCache) addNote(snap, blob, qpath, cov string) error {
	path, err := unquote(qpath)
	if err != nil {
		return err
	}
	c.notes[snap] = cachedNote{blob: blob, path: path}
	if cov != "-" {
		v, err := strconv.ParseFloat(cov, 64)
		if err != nil {
			return err
		}
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("coverage %v outside [0,1]", v)
		}
		c.coverage[snap] = v
	}
	return nil
}

// addEntry decodes the fields after the note columns of an "e" line.
func (c *foldCache) addEntry(snap, blob string, f []string) error {
	b := &Backup{Snapshot: snap, NoteBlob: blob, Light: true, ID: f[0], State: State(f[1])}
	var err error
	var created, updated int64
	errs := []error{}
	parseInt := func(s string) int64 {
		n, e := strconv.ParseInt(s, 10, 64)
		errs = append(errs, e)
		return n
	}
	created, updated = parseInt(f[2]), parseInt(f[3])
	b.CreatedAt, b.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	if b.Trigger, err = unquote(f[4]); err != nil {
		return err
	}
	if b.Message, err = unquote(f[5]); err != nil {
		return err
	}
	b.Files, b.SizeBytes = int(parseInt(f[6])), parseInt(f[7])
	b.Pinned = f[8] == "true"
	if b.CoveredBy, err = optUnquote(f[9]); err != nil {
		return err
	}
	if b.Archive, err = optUnquote(f[10]); err != nil {
		return err
	}
	b.Tree = f[11]
	if b.Base, err = optUnquote(f[12]); err != nil {
		return err
	}
	if b.Branch, err = optUnquote(f[13]); err != nil {
		return err
	}
	b.IncludeIgnored = f[14] == "true"
	b.TestPaths = int(parseInt(f[15]))
	if b.RecordedCoverage, err = strconv.ParseFloat(f[16], 64); err != nil {
		return err
	}
	b.since = time.Unix(0, parseInt(f[17])).UTC()
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	// Only what a fold of an undamaged note can give is trusted.
	switch {
	case b.ID == "" || !slices.Contains(States, b.State):
		return fmt.Errorf("entry %q: no ID or unknown state %q", blob, b.State)
	case b.Files < 0 || b.SizeBytes < 0 || b.TestPaths < 0:
		return fmt.Errorf("entry %q: negative count", blob)
	case !(b.RecordedCoverage == -1 || b.RecordedCoverage >= 0 && b.RecordedCoverage <= 1):
		return fmt.Errorf("entry %q: recorded coverage %v", blob, b.RecordedCoverage)
	}
	c.entries[blob] = b
	return nil
}

// lightCopy is the part of a full fold that the cache keeps.
func lightCopy(b *Backup) *Backup {
	l := *b
	l.since = b.StateSince()
	l.Events, l.Paths, l.Light = nil, nil, true
	return &l
}
