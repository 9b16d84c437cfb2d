package archive

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Level is a compression level, as backup.compressionLevel spells it.
type Level string

// The compression levels. The zero Level means LevelDefault.
const (
	LevelFastest Level = "fastest" // about zstd -1
	LevelDefault Level = "default" // about zstd -3
	LevelBetter  Level = "better"  // about zstd -7
	LevelBest    Level = "best"    // about zstd -11
)

// levels maps each Level to its zstd level, in the order of Archiver.enc.
var levels = []struct {
	name Level
	zstd zstd.EncoderLevel
}{
	{LevelFastest, zstd.SpeedFastest},
	{LevelDefault, zstd.SpeedDefault},
	{LevelBetter, zstd.SpeedBetterCompression},
	{LevelBest, zstd.SpeedBestCompression},
}

// ParseLevel returns the Level named s; "" is LevelDefault.
func ParseLevel(s string) (Level, error) {
	if s == "" {
		return LevelDefault, nil
	}
	for _, l := range levels {
		if string(l.name) == s {
			return l.name, nil
		}
	}
	return "", fmt.Errorf("compression level %q: want fastest, default, better or best", s)
}

// index returns l's position in levels.
func (l Level) index() (int, error) {
	if l == "" {
		l = LevelDefault
	}
	for i, x := range levels {
		if x.name == l {
			return i, nil
		}
	}
	return 0, fmt.Errorf("compression level %q: want fastest, default, better or best", l)
}

// maxWindow bounds the history a zstd frame may ask the decoder to keep. The
// encoder uses 8 MiB; this leaves room for archives compressed by other
// tools, and keeps a crafted frame header from allocating gigabytes.
const maxWindow = 64 << 20

// Archiver writes and reads archives. It keeps one zstd encoder per
// compression level and one decoder, and reuses them from archive to archive
// (their buffers are the expensive part). A call that finds them in use makes
// its own for the time it needs one, so an Archiver is safe for concurrent use.
type Archiver struct {
	mu  sync.Mutex
	enc [4]*zstd.Encoder // idle encoders, by index into levels
	dec *zstd.Decoder    // the idle decoder

	// create makes the temporary file Write writes to; a seam for tests.
	create func(dir, pattern string) (file, error)
}

// New returns an Archiver. Encoders and the decoder are made on first use.
func New() *Archiver { return &Archiver{create: createTemp} }

// defaultArchiver serves the package-level functions.
var defaultArchiver = New()

// Close releases the idle encoders and decoder. The Archiver stays usable.
func (a *Archiver) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.enc = [4]*zstd.Encoder{}
	if a.dec != nil {
		a.dec.Close()
		a.dec = nil
	}
}

// encoder returns an idle encoder for level i, or a new one.
func (a *Archiver) encoder(i int) (*zstd.Encoder, error) {
	a.mu.Lock()
	e := a.enc[i]
	a.enc[i] = nil
	a.mu.Unlock()
	if e != nil {
		return e, nil
	}
	return zstd.NewWriter(nil,
		// The level chosen by backup.compressionLevel. It cannot change on
		// Reset, hence one encoder per level.
		zstd.WithEncoderLevel(levels[i].zstd),
		// A checksum of the content at the end of the frame: a flipped bit
		// that still decodes is caught when the archive is read.
		zstd.WithEncoderCRC(true),
		// Compress blocks ahead on a few goroutines while the next ones are
		// read from the object store. More cores than that buy little: the
		// blob reader and the verification pass are sequential anyway.
		zstd.WithEncoderConcurrency(min(runtime.GOMAXPROCS(0), 4)),
		// Split the stream into jobs compressed in parallel, still one frame
		// (with one checksum), so throughput follows the cores above.
		zstd.WithConcurrentBlocks(false),
		// An empty stream still makes a whole frame, so every archive is a
		// valid .zst file.
		zstd.WithZeroFrames(true),
		// The window stays at the level's default (8 MiB at most), which the
		// zstd tool decodes without --long and well under maxWindow.
	)
}

// putEncoder makes e idle again, unless another encoder of its level already is.
func (a *Archiver) putEncoder(i int, e *zstd.Encoder) {
	e.Reset(nil) // drop the file, stop any workers
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.enc[i] == nil {
		a.enc[i] = e
	}
}

// decoder returns the idle decoder, or a new one.
func (a *Archiver) decoder() (*zstd.Decoder, error) {
	a.mu.Lock()
	d := a.dec
	a.dec = nil
	a.mu.Unlock()
	if d != nil {
		return d, nil
	}
	return zstd.NewReader(nil,
		// Decode up to 4 blocks ahead on other goroutines while the caller
		// hashes and writes the content.
		zstd.WithDecoderConcurrency(min(runtime.GOMAXPROCS(0), 4)),
		// Refuse frames whose window is larger than maxWindow: archives come
		// from disk and may be damaged or crafted.
		zstd.WithDecoderMaxWindow(maxWindow),
		// For streams this bounds the window too; set both so neither default
		// (64 GiB here) applies.
		zstd.WithDecoderMaxMemory(maxWindow),
		// Allocate buffers as blocks need them rather than for the largest
		// possible block up front.
		zstd.WithDecoderLowmem(true),
		// Check every frame's checksum. This is the default, written out so
		// that nobody turns it off to go faster.
		zstd.IgnoreChecksum(false),
	)
}

// putDecoder makes d idle again, or closes it if another decoder is idle.
func (a *Archiver) putDecoder(d *zstd.Decoder) {
	d.Reset(nil) // stop decoding ahead and drop the file
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.dec == nil {
		a.dec = d
		return
	}
	d.Close()
}
