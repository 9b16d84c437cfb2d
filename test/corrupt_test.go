package test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/git-backup/git-backup/archive"
	"github.com/git-backup/git-backup/gitstate"
)

// The corruption suite damages a real repository, one way at a time, and runs
// the commands a user would run next. For every command it checks: no panic,
// an exit code of the contract, an error that names the damaged thing and
// says a way out, and no wrong deletion (a snapshot ref, an archive or a
// backup lost without its content shown safe).

// Roles of the fixture's backups.
const (
	roleCovered   = "covered"   // CLEANABLE, its changes committed on main
	roleCleanable = "cleanable" // CLEANABLE, not covered
	roleArchived  = "archived"  // ARCHIVED, snapshot pruned
	roleArchived2 = "archived2" // ARCHIVED too, to swap archives
	rolePending   = "pending"   // PENDING
	roleCreated   = "created"   // CREATED
)

var allRoles = []string{roleCovered, roleCleanable, roleArchived, roleArchived2, rolePending, roleCreated}

// corruptFixture is the undamaged repository every case starts from.
type corruptFixture struct {
	root  string            // holds repo/ and remote.git/
	ids   map[string]string // role → backup ID
	snaps map[string]string // role → snapshot commit
	files map[string]string // role → the file its backup changed
	list  map[string]string // backup ID → state, as listed
}

func buildCorruptFixture(t *testing.T) *corruptFixture {
	t.Helper()
	env := e2eEnv(t)
	// The fixture is built in one place and copied from another: every case
	// is a moved repository, whose state records archive paths that are gone.
	build := filepath.Join(t.TempDir(), "build")
	f := &corruptFixture{root: build, ids: map[string]string{}, snaps: map[string]string{}, files: map[string]string{}}
	remote := filepath.Join(f.root, "remote.git")
	dir := filepath.Join(f.root, "repo")
	mustRun(t, env, "", "git", "init", "-q", "--bare", remote)
	mustRun(t, env, "", "git", "clone", "-q", remote, dir)
	mustRun(t, env, dir, "git", "config", "backup.autoInstallHooks", "false")
	mustRun(t, env, dir, "git", "config", "backup.autosaveInterval", "0")
	writeKillFile(t, dir, "base.txt", 10)
	mustRun(t, env, dir, "git", "add", "base.txt")
	mustRun(t, env, dir, "git", "commit", "-q", "-m", "base")
	mustRun(t, env, dir, "git", "push", "-q", "origin", "main")
	for i, role := range allRoles {
		name := fmt.Sprintf("%s.txt", role)
		writeKillFile(t, dir, name, 200*(i+1))
		id := strings.TrimSpace(mustRun(t, env, dir, "git", "backup", "create", "-q", "-m", role, "--", name))
		f.ids[role], f.files[role] = id, name
		f.snaps[role] = strings.TrimSpace(mustRun(t, env, dir, "git", "rev-parse", "refs/backups/snapshots/"+id))
	}
	mustRun(t, env, dir, "git", "add", f.files[roleCovered])
	mustRun(t, env, dir, "git", "commit", "-q", "-m", "cover")
	for _, role := range []string{roleCovered, roleCleanable} {
		mustRun(t, env, dir, "git", "backup", "transition", f.ids[role], "pending", "--yes")
		mustRun(t, env, dir, "git", "backup", "transition", f.ids[role], "cleanable", "--yes")
	}
	mustRun(t, env, dir, "git", "backup", "transition", f.ids[rolePending], "pending", "--yes")
	mustRun(t, env, dir, "git", "backup", "archive", "--yes", "--force", "--prune-grace", "0", f.ids[roleArchived], f.ids[roleArchived2])
	mustRun(t, env, dir, "git", "backup", "sync")
	// The work tree keeps one uncommitted change, so `create` has work; the
	// backed-up files go, so that no command heals a damaged object by
	// hashing the file again.
	for _, role := range allRoles {
		if role != roleCovered {
			os.Remove(filepath.Join(dir, f.files[role]))
		}
	}
	writeKillFile(t, dir, "work.txt", 50)
	f.list = listStates(t, env, dir)
	for _, role := range allRoles {
		want := map[string]string{roleCovered: "CLEANABLE", roleCleanable: "CLEANABLE", roleArchived: "ARCHIVED",
			roleArchived2: "ARCHIVED", rolePending: "PENDING", roleCreated: "CREATED"}[role]
		if got := f.list[f.ids[role]]; got != want {
			t.Fatalf("fixture: backup %s (%s) is %s, want %s", f.ids[role], role, got, want)
		}
	}
	f.root = filepath.Join(filepath.Dir(build), "moved")
	if err := os.Rename(build, f.root); err != nil {
		t.Fatal(err)
	}
	return f
}

// listStates returns backup ID → state from list --json, or nil when list fails.
func listStates(t *testing.T, env []string, dir string) map[string]string {
	t.Helper()
	out, _, code := runIn(t, env, dir, filepath.Join(binDir, "git-backup"), "list", "--json")
	if code != 0 {
		return nil
	}
	var bs []struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	if json.Unmarshal([]byte(out), &bs) != nil {
		return nil
	}
	m := map[string]string{}
	for _, b := range bs {
		m[b.ID] = b.State
	}
	return m
}

// corruptCase is a repository copied from the fixture, to be damaged.
type corruptCase struct {
	t      *testing.T
	rng    *rand.Rand // nil in round 0: damage goes to the middle of things
	f      *corruptFixture
	env    []string
	root   string
	dir    string // the work tree
	gitDir string
}

func (f *corruptFixture) copy(t *testing.T) *corruptCase {
	t.Helper()
	root := t.TempDir()
	if out, err := exec.Command("cp", "-a", f.root+"/.", root).CombinedOutput(); err != nil {
		t.Fatalf("copy fixture: %v\n%s", err, out)
	}
	c := &corruptCase{t: t, f: f, env: e2eEnv(t), root: root, dir: filepath.Join(root, "repo")}
	c.gitDir = filepath.Join(c.dir, ".git")
	c.git("remote", "set-url", "origin", filepath.Join(root, "remote.git"))
	return c
}

func (c *corruptCase) git(args ...string) string {
	c.t.Helper()
	return strings.TrimSpace(mustRun(c.t, c.env, c.dir, "git", args...))
}

// looseObject is the path of object id's loose file; the test fails when the
// object is not loose.
func (c *corruptCase) looseObject(id string) string {
	c.t.Helper()
	p := filepath.Join(c.gitDir, "objects", id[:2], id[2:])
	if _, err := os.Stat(p); err != nil {
		c.t.Fatalf("object %s is not loose: %v", id, err)
	}
	return p
}

// pick is where in n bytes to damage: the middle in round 0, anywhere after.
func (c *corruptCase) pick(n int) int {
	if c.rng == nil || n < 2 {
		return n / 2
	}
	return c.rng.IntN(n - 1)
}

// writeOver replaces a file that git keeps read-only.
func (c *corruptCase) writeOver(p string, data []byte) {
	c.t.Helper()
	os.Chmod(p, 0o644)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func (c *corruptCase) archivePath(role string) string {
	return filepath.Join(c.gitDir, "backup", "archive", c.f.ids[role]+".tar.zst")
}

// damage is one way of damaging a repository.
type damage struct {
	group, name string
	target      string // the role the commands aim at
	// apply damages c and returns what names the damaged thing: object IDs,
	// paths, refs, keys. A failing command must print at least one.
	apply func(c *corruptCase) []string
	hints []string // a way out: a failing command must print at least one
	// damaged are the roles whose content the damage makes unreadable: no
	// command may drop their snapshot ref or archive, or move them on.
	damaged []string
	// lost are the roles whose content is gone for good: fsck --repair may
	// mark them DELETED.
	lost []string
	// mustFail are the commands that must not succeed (they would print a
	// wrong answer): "diff", "restore", "fsck".
	mustFail []string
	// extra commands run after corruptCommands for this damage alone.
	extra []corruptCommand
	// allNames asks a failing command to print every name, not one of them.
	allNames bool
	// quiet marks damage to derived files git-backup rebuilds: every command
	// must work as on the undamaged fixture and list the same states.
	quiet bool
}

var (
	hintsObjects = []string{"git fsck", "git backup fsck"}
	hintsNote    = []string{"git cat-file", "git backup fsck", "transition"}
	hintsArchive = []string{"git backup fsck", "good copy", "put it at"}
	hintsConfig  = []string{"fix", "edit", "git config", "valid"}
)

func corruptDamages() []damage {
	var ds []damage
	// 1. Damaged objects.
	ds = append(ds,
		damage{group: "objects", name: "snapshot-commit-truncated", target: roleCreated,
			damaged: []string{roleCreated}, mustFail: []string{"fsck"}, hints: hintsObjects,
			apply: func(c *corruptCase) []string {
				id := c.f.snaps[roleCreated]
				p := c.looseObject(id)
				b, _ := os.ReadFile(p)
				c.writeOver(p, b[:len(b)/3])
				return []string{id, c.f.ids[roleCreated]}
			}},
		damage{group: "objects", name: "snapshot-commit-overwritten", target: roleCleanable,
			damaged: []string{roleCleanable}, mustFail: []string{"fsck"}, hints: hintsObjects,
			apply: func(c *corruptCase) []string {
				id := c.f.snaps[roleCleanable]
				p := c.looseObject(id)
				b, _ := os.ReadFile(p)
				rng := rand.New(rand.NewPCG(1, 2))
				for i := range b {
					b[i] = byte(rng.IntN(256))
				}
				c.writeOver(p, b)
				return []string{id, c.f.ids[roleCleanable]}
			}},
		damage{group: "objects", name: "snapshot-blob-missing", target: roleCleanable,
			damaged: []string{roleCleanable}, mustFail: []string{"diff", "restore", "fsck"}, hints: hintsObjects,
			apply: func(c *corruptCase) []string {
				blob := c.git("rev-parse", c.f.snaps[roleCleanable]+":"+c.f.files[roleCleanable])
				if err := os.Remove(c.looseObject(blob)); err != nil {
					c.t.Fatal(err)
				}
				return []string{blob, c.f.ids[roleCleanable]}
			}},
		damage{group: "objects", name: "snapshot-tree-corrupt", target: roleCovered,
			damaged: []string{roleCovered}, mustFail: []string{"diff", "restore", "fsck"}, hints: hintsObjects,
			apply: func(c *corruptCase) []string {
				tree := c.git("rev-parse", c.f.snaps[roleCovered]+"^{tree}")
				p := c.looseObject(tree)
				b, _ := os.ReadFile(p)
				at := 2 + c.pick(len(b)-2) // past the zlib header, which git may not check
				b[at] ^= 0xff
				b[at+1] ^= 0x55
				c.writeOver(p, b)
				return []string{tree, c.f.ids[roleCovered]}
			}},
		damage{group: "objects", name: "pack-snapshot-blob-flipped", target: rolePending,
			damaged: []string{rolePending}, mustFail: []string{"diff", "restore", "fsck"}, hints: hintsObjects,
			apply: func(c *corruptCase) []string {
				blob := c.git("rev-parse", c.f.snaps[rolePending]+":"+c.f.files[rolePending])
				pack := c.flipInPack(blob)
				return []string{blob, c.f.ids[rolePending], pack}
			}},
		damage{group: "objects", name: "pack-snapshot-commit-flipped", target: roleCreated,
			damaged: []string{roleCreated}, mustFail: []string{"fsck"}, hints: hintsObjects,
			apply: func(c *corruptCase) []string {
				pack := c.flipInPack(c.f.snaps[roleCreated])
				return []string{c.f.snaps[roleCreated], c.f.ids[roleCreated], pack}
			}},
		damage{group: "objects", name: "state-commit-missing", target: rolePending,
			// No new state commit may be written on a parent that is gone.
			damaged: allRoles, mustFail: []string{"fsck", "create", "archive", "cleanup", "monitor"}, hints: hintsObjects,
			apply: func(c *corruptCase) []string {
				id := c.git("rev-parse", "refs/backups/state")
				if err := os.Remove(c.looseObject(id)); err != nil {
					c.t.Fatal(err)
				}
				return []string{id, "refs/backups/state"}
			}},
		damage{group: "objects", name: "state-commit-corrupt", target: rolePending,
			// No new state commit may be written on a parent that is gone.
			damaged: allRoles, mustFail: []string{"fsck", "create", "archive", "cleanup", "monitor"}, hints: hintsObjects,
			apply: func(c *corruptCase) []string {
				id := c.git("rev-parse", "refs/backups/state")
				p := c.looseObject(id)
				c.writeOver(p, []byte("this is no zlib stream"))
				return []string{id, "refs/backups/state"}
			}},
		damage{group: "objects", name: "note-blob-missing", target: rolePending,
			damaged: []string{rolePending}, mustFail: []string{"fsck"}, hints: hintsObjects,
			apply: func(c *corruptCase) []string {
				blob := c.noteBlob(rolePending)
				if err := os.Remove(c.looseObject(blob)); err != nil {
					c.t.Fatal(err)
				}
				return []string{blob, c.f.ids[rolePending], c.f.snaps[rolePending]}
			}},
		damage{group: "objects", name: "note-blob-corrupt", target: roleCleanable,
			damaged: []string{roleCleanable}, mustFail: []string{"fsck"}, hints: hintsObjects,
			apply: func(c *corruptCase) []string {
				blob := c.noteBlob(roleCleanable)
				p := c.looseObject(blob)
				b, _ := os.ReadFile(p)
				b[len(b)-3] ^= 0xff
				c.writeOver(p, b)
				return []string{blob, c.f.ids[roleCleanable], c.f.snaps[roleCleanable]}
			}},
	)
	// 2. A truncated packed-refs.
	ds = append(ds,
		damage{group: "packed-refs", name: "packed-refs-cut-midline", target: rolePending,
			damaged: allRoles, mustFail: []string{"fsck"}, hints: []string{gitstate.PackedRefsHint},
			apply: func(c *corruptCase) []string {
				c.git("pack-refs", "--all")
				p := filepath.Join(c.gitDir, "packed-refs")
				b, _ := os.ReadFile(p)
				i := bytes.Index(b, []byte("refs/backups/snapshots/"+c.f.ids[rolePending]))
				if i < 0 {
					c.t.Fatalf("packed-refs has no ref of %s:\n%s", c.f.ids[rolePending], b)
				}
				c.writeOver(p, b[:i+len("refs/backups/snapshots/")+6])
				return []string{"packed-refs"}
			}},
		damage{group: "packed-refs", name: "packed-refs-cut-half", target: rolePending,
			damaged: allRoles, mustFail: []string{"fsck"}, hints: []string{gitstate.PackedRefsHint},
			apply: func(c *corruptCase) []string {
				c.git("pack-refs", "--all")
				p := filepath.Join(c.gitDir, "packed-refs")
				b, _ := os.ReadFile(p)
				c.writeOver(p, b[:len(b)/2])
				return []string{"packed-refs"}
			}},
	)
	// 3. A state tree with a note of garbage.
	note := func(name string, content func(c *corruptCase) []byte) damage {
		return damage{group: "notes", name: name, target: rolePending,
			damaged: []string{rolePending}, mustFail: []string{"fsck"}, hints: hintsNote,
			apply: func(c *corruptCase) []string {
				path := c.replaceNote(rolePending, content(c))
				return []string{c.f.ids[rolePending], c.f.snaps[rolePending], path}
			}}
	}
	ds = append(ds,
		note("note-binary", func(c *corruptCase) []byte {
			rng := rand.New(rand.NewPCG(3, 4))
			b := make([]byte, 300)
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			return b
		}),
		note("note-huge-line", func(c *corruptCase) []byte {
			return append(bytes.Repeat([]byte("x"), scale("GIT_BACKUP_CORRUPT_HUGE", 2<<20, 64<<20)), '\n')
		}),
		note("note-wrong-shape", func(c *corruptCase) []byte {
			return []byte(`{"kind":{"nested":true},"time":17,"clock":"yesterday","id":["a"],"snapshot":null}` + "\n" + `[1,2,3]` + "\n")
		}),
		note("note-other-snapshot", func(c *corruptCase) []byte {
			return []byte(c.git("cat-file", "blob", c.noteBlob(roleCreated)) + "\n")
		}),
	)
	// 4. Damaged archives.
	arch := func(name string, lost bool, do func(c *corruptCase)) damage {
		d := damage{group: "archives", name: name, target: roleArchived,
			damaged: []string{roleArchived}, mustFail: []string{"diff", "restore", "fsck"}, hints: hintsArchive,
			apply: func(c *corruptCase) []string {
				do(c)
				return []string{c.archivePath(roleArchived), c.f.ids[roleArchived]}
			}}
		if lost {
			d.lost = []string{roleArchived}
		}
		return d
	}
	ds = append(ds,
		arch("archive-frame-flipped", false, func(c *corruptCase) {
			p := c.archivePath(roleArchived)
			b, _ := os.ReadFile(p)
			b[c.pick(len(b))] ^= 0x10
			c.writeOver(p, b)
		}),
		arch("archive-manifest-flipped", false, func(c *corruptCase) {
			c.rewriteArchive(roleArchived, func(tar []byte) []byte {
				i := bytes.Index(tar, []byte(`"blob":"`))
				if i < 0 {
					c.t.Fatal("no blob in the manifest")
				}
				tar[i+len(`"blob":"`)+3] ^= 0x01 // one hex digit of a blob ID
				return tar
			})
		}),
		arch("archive-content-flipped", false, func(c *corruptCase) {
			c.rewriteArchive(roleArchived, func(tar []byte) []byte {
				i := bytes.Index(tar, []byte(c.f.files[roleArchived]+" line 7 "))
				if i < 0 {
					c.t.Fatal("no file content in the archive")
				}
				tar[i] ^= 0x20
				return tar
			})
		}),
		arch("archive-truncated", false, func(c *corruptCase) {
			p := c.archivePath(roleArchived)
			b, _ := os.ReadFile(p)
			c.writeOver(p, b[:len(b)/2])
		}),
		arch("archive-of-another-backup", false, func(c *corruptCase) {
			b, err := os.ReadFile(c.archivePath(roleArchived2))
			if err != nil {
				c.t.Fatal(err)
			}
			c.writeOver(c.archivePath(roleArchived), b)
		}),
		arch("archive-deleted", true, func(c *corruptCase) {
			if err := os.Remove(c.archivePath(roleArchived)); err != nil {
				c.t.Fatal(err)
			}
		}),
	)
	// 5. Configuration with garbage.
	cfg := func(name string, hints []string, do func(c *corruptCase) []string) damage {
		return damage{group: "config", name: name, target: rolePending, damaged: allRoles, hints: hints,
			mustFail: []string{"fsck", "monitor"}, apply: do, allNames: true}
	}
	ds = append(ds,
		cfg("repo-config-broken-line", []string{"line"}, func(c *corruptCase) []string {
			p := filepath.Join(c.gitDir, "config")
			b, _ := os.ReadFile(p)
			c.writeOver(p, append(b, []byte("[backup\n\tpendingTimeout = 7d\n")...))
			return []string{".git/config", "bad config line"}
		}),
		cfg("global-config-garbage", []string{"line"}, func(c *corruptCase) []string {
			home := envValue(c.env, "HOME")
			p := filepath.Join(home, ".gitconfig")
			b, _ := os.ReadFile(p)
			c.writeOver(p, append(b, []byte("\x00\x01\xfe garbage = [[[\n")...))
			return []string{p, "bad config line"}
		}),
		cfg("repo-key-invalid-duration", hintsConfig, func(c *corruptCase) []string {
			c.git("config", "backup.pendingTimeout", "banana")
			return []string{"backup.pendingTimeout", filepath.Join(c.gitDir, "config"), "1m to 3650d"}
		}),
		cfg("repo-key-out-of-range", hintsConfig, func(c *corruptCase) []string {
			c.git("config", "backup.autoCleanupConfidence", "7")
			return []string{"backup.autoCleanupConfidence", filepath.Join(c.gitDir, "config"), "from 0 to 1"}
		}),
		cfg("repo-key-unknown-strategy", hintsConfig, func(c *corruptCase) []string {
			c.git("config", "backup.cleanupStrategy", "sideways")
			return []string{"backup.cleanupStrategy", filepath.Join(c.gitDir, "config"), "oldest_first, largest_first, confidence_based"}
		}),
		cfg("global-key-invalid", hintsConfig, func(c *corruptCase) []string {
			c.git("config", "--global", "backup.minAge", "-3 parsecs")
			return []string{"backup.minAge", filepath.Join(envValue(c.env, "HOME"), ".gitconfig"), "1m to 30d"}
		}),
	)
	// git-backup's own files under <git common dir>/backup/: derived data is
	// rebuilt, the rest is reported; none is trusted.
	own := func(name string, rel string, content func(c *corruptCase, old []byte) []byte) damage {
		return damage{group: "backup-files", name: name, target: rolePending, quiet: true,
			hints: []string{"remove", "delete", "fix"},
			apply: func(c *corruptCase) []string {
				p := filepath.Join(c.gitDir, "backup", filepath.FromSlash(rel))
				old, _ := os.ReadFile(p)
				os.MkdirAll(filepath.Dir(p), 0o755)
				c.writeOver(p, content(c, old))
				return []string{p}
			}}
	}
	garbage := func(c *corruptCase, old []byte) []byte { return []byte("\x00\xff{{{ not what was written\n") }
	half := func(c *corruptCase, old []byte) []byte { return old[:len(old)/2] }
	ds = append(ds,
		own("fold-cache-garbage", "cache/fold", garbage),
		own("fold-cache-truncated", "cache/fold", half),
		own("fold-cache-of-other-state", "cache/fold", func(c *corruptCase, old []byte) []byte {
			// a well-formed cache written for a later state: every backup DELETED
			return bytes.ReplaceAll(bytes.ReplaceAll(bytes.ReplaceAll(old, []byte("CLEANABLE"), []byte("DELETED")),
				[]byte("PENDING"), []byte("DELETED")), []byte("CREATED"), []byte("DELETED"))
		}),
		own("monitor-json-garbage", "monitor.json", garbage),
		own("pause-garbage", "paused", garbage),
		own("clone-id-garbage", "clone-id", garbage),
		own("clone-id-truncated", "clone-id", half),
		own("access-garbage", "access.json", garbage),
		own("sync-garbage", "sync.json", garbage),
		own("config-history-garbage", "config-history.jsonl", garbage),
		own("pushes-garbage", "pushes.jsonl", garbage),
		damage{group: "backup-files", name: "registry-garbage", target: rolePending, quiet: true,
			extra: []corruptCommand{{"monitor-all", []string{"monitor", "--once", "--all"}}},
			apply: func(c *corruptCase) []string {
				for _, v := range []string{"\x01not a path\x7f", filepath.Join(c.root, "gone"), c.dir} {
					c.git("config", "--global", "--add", "backup.repo", v)
				}
				return []string{"backup.repo"}
			}},
	)
	return ds
}

func envValue(env []string, key string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// noteBlob is the blob of role's note in the state tree.
func (c *corruptCase) noteBlob(role string) string {
	snap := c.f.snaps[role]
	return c.git("rev-parse", "refs/backups/state:"+snap[:2]+"/"+snap[2:])
}

// replaceNote commits a state whose note for role is content, with plumbing,
// and returns the note's path in the state tree.
func (c *corruptCase) replaceNote(role string, content []byte) string {
	c.t.Helper()
	snap := c.f.snaps[role]
	path := snap[:2] + "/" + snap[2:]
	np := filepath.Join(c.root, "note")
	if err := os.WriteFile(np, content, 0o644); err != nil {
		c.t.Fatal(err)
	}
	blob := c.git("hash-object", "-w", np)
	env := append(slices.Clip(c.env), "GIT_INDEX_FILE="+filepath.Join(c.root, "state-index"))
	mustRun(c.t, env, c.dir, "git", "read-tree", "refs/backups/state")
	mustRun(c.t, env, c.dir, "git", "update-index", "--cacheinfo", "100644,"+blob+","+path)
	tree := strings.TrimSpace(mustRun(c.t, env, c.dir, "git", "write-tree"))
	commit := c.git("commit-tree", "-p", "refs/backups/state", "-m", "damage", tree)
	c.git("update-ref", "refs/backups/state", commit)
	return "refs/backups/state:" + path
}

// flipInPack packs every object (git gc), then flips bytes in the middle of
// object id's data in the pack, and returns the pack's path.
func (c *corruptCase) flipInPack(id string) string {
	c.t.Helper()
	c.git("gc", "-q")
	packs, _ := filepath.Glob(filepath.Join(c.gitDir, "objects", "pack", "*.pack"))
	for _, pack := range packs {
		idx := strings.TrimSuffix(pack, ".pack") + ".idx"
		out := c.git("verify-pack", "-v", idx)
		for _, line := range strings.Split(out, "\n") {
			fs := strings.Fields(line)
			if len(fs) < 5 || fs[0] != id {
				continue
			}
			var size, off int
			fmt.Sscan(fs[3], &size)
			fmt.Sscan(fs[4], &off)
			b, err := os.ReadFile(pack)
			if err != nil {
				c.t.Fatal(err)
			}
			at := off + c.pick(size)
			b[at] ^= 0xff
			b[at+1] ^= 0xa5
			c.writeOver(pack, b)
			return pack
		}
	}
	c.t.Fatalf("object %s is in no pack", id)
	return ""
}

// rewriteArchive decompresses role's archive, changes the tar stream and
// compresses it again: a well-formed zstd frame around damaged content.
func (c *corruptCase) rewriteArchive(role string, change func([]byte) []byte) {
	c.t.Helper()
	p := c.archivePath(role)
	raw, err := os.ReadFile(p)
	if err != nil {
		c.t.Fatal(err)
	}
	tar, err := zstdDecode(raw)
	if err != nil {
		c.t.Fatal(err)
	}
	out, err := zstdEncode(change(tar))
	if err != nil {
		c.t.Fatal(err)
	}
	c.writeOver(p, out)
}

// A corruptCommand is one command a user runs after the damage; T is the
// target backup, A a backup to archive, DIR a new directory.
type corruptCommand struct {
	name string
	args []string
}

var corruptCommands = []corruptCommand{
	{"list", []string{"list"}},
	{"list-json", []string{"list", "--json"}},
	{"show", []string{"show", "T"}},
	{"status", []string{"status"}},
	{"diff", []string{"diff", "T"}},
	{"restore", []string{"restore", "T", "--to", "DIR"}},
	{"unarchive", []string{"unarchive", "--yes", "T"}},
	{"fsck", []string{"fsck"}},
	{"create", []string{"create", "-m", "after the damage"}},
	{"archive", []string{"archive", "--yes", "--prune-grace", "0", "A"}},
	{"cleanup", []string{"cleanup", "--yes", "--time-offset", "10d", "--prune-grace", "0"}},
	{"monitor", []string{"monitor", "--once", "--time-offset", "10d"}},
	{"sync", []string{"sync"}},
	{"fsck-repair", []string{"fsck", "--repair"}},
	{"fsck-again", []string{"fsck"}},
}

// repoView is what a command may lose: snapshot refs, archive files, states.
type repoView struct {
	refs     map[string]string // backup ID → snapshot commit
	archives map[string]string // backup ID → sha256 of its archive file
	states   map[string]string // nil when list fails
}

// view reads the refs and archives with no git-backup or git code: it must
// work on a damaged repository.
func (c *corruptCase) view() repoView {
	v := repoView{refs: map[string]string{}, archives: map[string]string{}}
	if b, err := os.ReadFile(filepath.Join(c.gitDir, "packed-refs")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			id, name, ok := strings.Cut(line, " ")
			if ok && len(id) == 40 && strings.HasPrefix(name, "refs/backups/snapshots/") {
				v.refs[strings.TrimPrefix(name, "refs/backups/snapshots/")] = id
			}
		}
	}
	loose, _ := filepath.Glob(filepath.Join(c.gitDir, "refs", "backups", "snapshots", "*"))
	for _, p := range loose {
		if b, err := os.ReadFile(p); err == nil && !strings.HasSuffix(p, ".lock") {
			v.refs[filepath.Base(p)] = strings.TrimSpace(string(b))
		}
	}
	as, _ := filepath.Glob(filepath.Join(c.gitDir, "backup", "archive", "*.tar.zst"))
	for _, p := range as {
		if b, err := os.ReadFile(p); err == nil {
			sum := sha256.Sum256(b)
			v.archives[strings.TrimSuffix(filepath.Base(p), ".tar.zst")] = hex.EncodeToString(sum[:])
		}
	}
	v.states = listStates(c.t, c.env, c.dir)
	return v
}

// corruptTally counts the suite's figures.
type corruptTally struct {
	cases, commands, panics, wrongDeletions, failures, named, unclear, wrongAnswers int
}

func (t *corruptTally) add(o corruptTally) {
	t.cases++
	t.commands += o.commands
	t.panics += o.panics
	t.wrongDeletions += o.wrongDeletions
	t.failures += o.failures
	t.named += o.named
	t.unclear += o.unclear
	t.wrongAnswers += o.wrongAnswers
}

// check compares the views before and after one command and returns the
// wrong deletions it finds.
func (c *corruptCase) wrongDeletions(d damage, cmd string, before, after repoView) []string {
	roleOf := map[string]string{}
	for role, id := range c.f.ids {
		roleOf[id] = role
	}
	var bad []string
	for id, snap := range before.refs {
		if _, ok := after.refs[id]; ok {
			continue
		}
		role := roleOf[id]
		if _, ok := after.archives[id]; ok {
			if c.verifiedArchive(id) && c.f.snaps[role] == snap {
				continue
			}
			bad = append(bad, fmt.Sprintf("the snapshot ref of %s (%s) was dropped for an archive that does not verify", id, role))
			continue
		}
		if after.states != nil && after.states[id] == "DELETED" && role == roleCovered {
			continue
		}
		bad = append(bad, fmt.Sprintf("the snapshot ref of %s (%s) was dropped with no archive (state now %q)", id, role, after.states[id]))
	}
	for id, sum := range before.archives {
		if after.archives[id] == sum {
			continue
		}
		role := roleOf[id]
		if _, ok := after.refs[id]; ok && after.refs[id] == c.f.snaps[role] && !slices.Contains(d.damaged, role) {
			continue // unarchived
		}
		if after.states != nil && after.states[id] == "DELETED" && slices.Contains(d.lost, role) && cmd == "fsck-repair" {
			continue
		}
		bad = append(bad, fmt.Sprintf("the archive of %s (%s) was removed or changed (state now %q)", id, role, after.states[id]))
	}
	if after.states != nil && before.states != nil {
		for id, st := range after.states {
			role, was := roleOf[id], before.states[id]
			if st == was || role == "" {
				continue
			}
			if st == "ARCHIVED" && c.verifiedArchive(id) {
				continue // its content is in an archive that verifies
			}
			if slices.Contains(d.damaged, role) && (st == "ARCHIVED" || st == "DELETED") && !(slices.Contains(d.lost, role) && cmd == "fsck-repair") {
				bad = append(bad, fmt.Sprintf("damaged backup %s (%s) moved %s → %s", id, role, was, st))
			}
			if st == "DELETED" && role != roleCovered && !(slices.Contains(d.lost, role) && cmd == "fsck-repair") {
				bad = append(bad, fmt.Sprintf("backup %s (%s) moved %s → DELETED without being covered", id, role, was))
			}
		}
	}
	return bad
}

// verifiedArchive reports whether backup id's archive verifies and holds its
// snapshot.
func (c *corruptCase) verifiedArchive(id string) bool {
	m, err := archive.Verify(filepath.Join(c.gitDir, "backup", "archive", id+".tar.zst"))
	return err == nil && m.Backup.ID == id && (m.Backup.Snapshot == c.snapOf(id))
}

func (c *corruptCase) snapOf(id string) string {
	for role, x := range c.f.ids {
		if x == id {
			return c.f.snaps[role]
		}
	}
	return ""
}

var crashMarks = regexp.MustCompile(`(?m)^(panic: |fatal error: |goroutine \d+ \[|SIGSEGV|runtime error: )`)

// TestCorruption damages the fixture in every way of corruptDamages and runs
// corruptCommands against each.
func TestCorruption(t *testing.T) {
	fx := buildCorruptFixture(t)
	var tally corruptTally
	var unclear []string
	var mu sync.Mutex
	rounds := scale("GIT_BACKUP_CORRUPT_ROUNDS", 1, 4)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("GIT_BACKUP_CORRUPT_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (GIT_BACKUP_CORRUPT_SEED reruns it; round 0 damages the middle of each thing, later rounds random places)", seed)
	t.Run("cases", func(t *testing.T) {
		for round := range rounds {
			for i, d := range corruptDamages() {
				t.Run(fmt.Sprintf("%s/%s/%d", d.group, d.name, round), func(t *testing.T) {
					t.Parallel()
					c := fx.copy(t)
					if round > 0 {
						c.rng = rand.New(rand.NewPCG(seed, uint64(round*1000+i)))
					}
					names := d.apply(c)
					var one corruptTally
					var words []string
					runCorruptCase(t, c, d, names, &one, &words)
					mu.Lock()
					defer mu.Unlock()
					tally.add(one)
					unclear = append(unclear, words...)
				})
			}
		}
	})
	report(t, "corruption",
		fmt.Sprintf("%d damage cases (objects, packed-refs, notes, archives, config) × %d commands", tally.cases, len(corruptCommands)),
		fmt.Sprintf("commands run %d, panics %d, wrong deletions %d, wrong answers %d, failures naming the damaged thing and a way out %d/%d",
			tally.commands, tally.panics, tally.wrongDeletions, tally.wrongAnswers, tally.named, tally.failures))
	if len(unclear) > 0 {
		t.Errorf("%d unclear error(s):\n%s", len(unclear), strings.Join(unclear, "\n"))
	}
}

func runCorruptCase(t *testing.T, c *corruptCase, d damage, names []string, tally *corruptTally, unclear *[]string) {
	bin := filepath.Join(binDir, "git-backup")
	target := c.f.ids[d.target]
	toArchive := roleCleanable
	if d.target == roleCovered || d.target == roleCleanable {
		toArchive = d.target
	}
	for _, cmd := range slices.Concat(corruptCommands, d.extra) {
		if cmd.name == "unarchive" && d.target != roleArchived {
			continue
		}
		args := make([]string, len(cmd.args))
		for i, a := range cmd.args {
			switch a {
			case "T":
				a = target
			case "A":
				a = c.f.ids[toArchive]
			case "DIR":
				a = filepath.Join(c.root, "restored-"+cmd.name)
			}
			args[i] = a
		}
		before := c.view()
		start := time.Now()
		stdout, stderr, code := runIn(t, c.env, c.dir, bin, args...)
		after := c.view()
		tally.commands++
		line := fmt.Sprintf("git backup %s (after %s, %v) → exit %d\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), d.name, time.Since(start).Round(time.Millisecond), code, clip(stdout), clip(stderr))
		if crashMarks.MatchString(stderr) || code < 0 || code > 4 {
			tally.panics++
			t.Errorf("crash: %s", line)
			continue
		}
		for _, w := range c.wrongDeletions(d, cmd.name, before, after) {
			tally.wrongDeletions++
			t.Errorf("wrong deletion: %s\n%s", w, line)
		}
		if d.quiet {
			if code != 0 && cmd.name != "unarchive" {
				t.Errorf("damaged %s should be rebuilt or ignored: %s", names[0], line)
			}
			if cmd.name == "list-json" && code == 0 {
				if got := listStates(t, c.env, c.dir); !sameStates(got, c.f.list) {
					tally.wrongAnswers++
					t.Errorf("list after %s: %v, want %v", d.name, got, c.f.list)
				}
			}
			continue
		}
		if code == 0 {
			if slices.Contains(d.mustFail, cmd.name) {
				tally.wrongAnswers++
				t.Errorf("wrong answer: the command succeeded on damaged content: %s", line)
			}
			continue
		}
		tally.failures++
		if cmd.name == "restore" {
			if _, err := os.Stat(filepath.Join(c.root, "restored-restore")); err == nil {
				tally.wrongAnswers++
				t.Errorf("wrong answer: a failed restore --to left its directory behind: %s", line)
			}
		}
		out := stdout + stderr
		named := containsAny(out, names)
		if d.allNames {
			named = containsAll(out, names)
		}
		hinted := containsAny(out, d.hints)
		if named && hinted {
			tally.named++
			continue
		}
		*unclear = append(*unclear, fmt.Sprintf("--- %s/%s: names %v: %v, hint %v: %v\n%s", d.group, d.name, names, named, d.hints, hinted, line))
	}
}

func sameStates(a, b map[string]string) bool {
	for id, st := range b {
		if a[id] != st {
			return false
		}
	}
	return len(a) >= len(b)
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

func containsAll(s string, subs []string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + fmt.Sprintf("… (%d bytes)", len(s))
	}
	return s
}

func zstdDecode(b []byte) ([]byte, error) {
	d, err := zstd.NewReader(nil)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.DecodeAll(b, nil)
}

func zstdEncode(b []byte) ([]byte, error) {
	e, err := zstd.NewWriter(nil, zstd.WithEncoderCRC(true))
	if err != nil {
		return nil, err
	}
	defer e.Close()
	return e.EncodeAll(b, nil), nil
}
