// Command bench is git-backup's benchmark: it measures the performance targets
// of DESIGN.md against plain git on the same machine, in one run, and prints
// one table of ratios.
//
//	go run ./test/bench            # from the repository root; or test/bench.sh
//	go run ./test/bench -n 15 -json
//
// It builds the git-backup binary into a temporary directory, builds the
// repositories it needs there (a 50,000-file work tree; a repository with
// 10,000 backups written through the real store code; one with 1,000 live
// backups in every state the hooks look at; one with 10,000 backups an idle
// monitor cycle leaves alone), and times whole processes as a
// user runs them (`git backup …` through git's dispatcher, with the git on
// PATH; the hook as git-backup's hook script runs it). Each pair of commands runs alternately interleaved
// after warm-up runs, so machine noise affects both sides alike; the table
// shows medians and minimums. It asserts nothing: it reports.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// config is the command line.
type config struct {
	runs     int
	warmup   int
	json     bool
	keep     bool
	only     string
	dirs     int
	perDir   int
	changed  int
	backups  int
	fileSize int
}

func main() {
	var c config
	flag.IntVar(&c.runs, "n", 7, "timed runs of each command (the median and minimum are reported)")
	flag.IntVar(&c.warmup, "warmup", 1, "untimed warm-up runs of each command before the timed ones")
	flag.BoolVar(&c.json, "json", false, "print one JSON document instead of the Markdown table")
	flag.BoolVar(&c.keep, "keep", false, "keep the temporary directory (for profiling) and print its path on stderr")
	flag.StringVar(&c.only, "only", "create,unchanged,list,hook,commit,archive,cleanup,monitor", "comma-separated benchmarks to run: create, unchanged, list, hook, commit, archive, cleanup, monitor")
	flag.IntVar(&c.dirs, "dirs", 500, "directories of the large repository")
	flag.IntVar(&c.perDir, "files", 100, "files per directory of the large repository")
	flag.IntVar(&c.changed, "changed", 100, "tracked files changed before each create")
	flag.IntVar(&c.backups, "backups", 10000, "backups in the repository that list runs on")
	flag.IntVar(&c.fileSize, "size", 300, "approximate bytes per file")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./test/bench [flags]\n\nMeasures git-backup against plain git and prints a table of ratios.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 || c.runs < 1 || c.warmup < 0 || c.changed < 1 || c.changed > c.dirs*c.perDir || c.backups < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// Report is the whole result, also the -json document.
type Report struct {
	Date    string   `json:"date"`
	Machine Machine  `json:"machine"`
	Runs    int      `json:"runs"`
	Warmup  int      `json:"warmup"`
	Rows    []Row    `json:"rows"`
	Notes   []string `json:"notes"`
	Skipped []string `json:"skipped,omitempty"`
}

// Machine says where the numbers were measured.
type Machine struct {
	OS     string `json:"os"`
	Arch   string `json:"arch"`
	CPU    string `json:"cpu,omitempty"`
	NProc  int    `json:"nproc"`
	Go     string `json:"go"`
	Git    string `json:"git"`
	Kernel string `json:"kernel,omitempty"`
}

// Row is one line of the table: git-backup against its baseline.
type Row struct {
	What     string    `json:"what"`
	Command  string    `json:"command"`
	Baseline string    `json:"baseline"`
	Backup   Durations `json:"git_backup"`
	Base     Durations `json:"baseline_times"`
	Ratio    float64   `json:"ratio"`     // median over median
	CPURatio float64   `json:"cpu_ratio"` // the same for CPU time
	Target   float64   `json:"target"`
	Met      bool      `json:"met"`
	Footnote string    `json:"footnote,omitempty"`
	// TargetText spells the target when the ratio alone does not (archive:
	// a throughput and a size target).
	TargetText string `json:"target_text,omitempty"`
	// SizeRatio is the output size of git-backup over the baseline's (archive).
	SizeRatio float64 `json:"size_ratio,omitempty"`
	// Absolute marks a row with absolute targets and no baseline (monitor):
	// CPU time and peak RSS, no ratio.
	Absolute    bool    `json:"absolute,omitempty"`
	PeakRSSMB   float64 `json:"peak_rss_mb,omitempty"`
	RSSMedianMB float64 `json:"rss_median_mb,omitempty"`
}

// Durations summarises the timed runs of one command, in milliseconds.
type Durations struct {
	MedianMS    float64   `json:"median_ms"`
	MinMS       float64   `json:"min_ms"`
	RunsMS      []float64 `json:"runs_ms"`
	CPUMedianMS float64   `json:"cpu_median_ms"` // user + system, with the processes it started
}

func run(ctx context.Context, c config) error {
	want := map[string]bool{}
	for _, s := range strings.Split(c.only, ",") {
		s = strings.TrimSpace(s)
		switch s {
		case "create", "unchanged", "list", "hook", "commit", "archive", "cleanup", "monitor":
			want[s] = true
		case "":
		default:
			return fmt.Errorf("-only: unknown benchmark %q (create, unchanged, list, hook, commit, archive, cleanup, monitor)", s)
		}
	}
	tmp, err := os.MkdirTemp("", "git-backup-bench-")
	if err != nil {
		return err
	}
	if c.keep {
		fmt.Fprintf(os.Stderr, "bench: keeping %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	// Build with the user's Go environment, before isolating git from it.
	progress("building git-backup")
	if err := buildBinary(ctx, filepath.Join(tmp, "bin")); err != nil {
		return err
	}
	rep := Report{
		Date:    time.Now().UTC().Format("2006-01-02 15:04 MST"),
		Machine: machine(ctx),
		Runs:    c.runs,
		Warmup:  c.warmup,
	}
	if err := isolate(tmp); err != nil {
		return err
	}
	m := &measurer{runs: c.runs, warmup: c.warmup}
	if want["create"] || want["unchanged"] {
		big, err := newBigRepo(ctx, filepath.Join(tmp, "big"), c.dirs, c.perDir, c.changed, c.fileSize)
		if err != nil {
			return err
		}
		if want["create"] {
			row, err := benchCreate(ctx, m, big)
			if err != nil {
				return err
			}
			rep.Rows = append(rep.Rows, row)
		}
		if want["unchanged"] {
			row, err := benchUnchanged(ctx, m, big)
			if err != nil {
				return err
			}
			rep.Rows = append(rep.Rows, row)
		}
	}
	if want["list"] {
		rows, err := benchList(ctx, m, filepath.Join(tmp, "many"), c.backups)
		if err != nil {
			return err
		}
		rep.Rows = append(rep.Rows, rows...)
	}
	if want["hook"] || want["commit"] {
		h, err := newHookRepo(ctx, filepath.Join(tmp, "hooks"), filepath.Join(tmp, "bin", "git-backup"))
		if err != nil {
			return err
		}
		benches := []func(context.Context, *measurer, *hookRepo) (Row, error){}
		if want["hook"] {
			benches = append(benches, benchHook, benchHookCovering)
		}
		if want["commit"] {
			benches = append(benches, benchCommit)
		}
		for _, bench := range benches {
			row, err := bench(ctx, m, h)
			if err != nil {
				return err
			}
			rep.Rows = append(rep.Rows, row)
		}
	}
	if want["archive"] {
		if _, err := exec.LookPath("zstd"); err != nil {
			progress("zstd is not installed (the baseline of archive is git archive | zstd -3): skipping archive; install zstd to run it")
			rep.Skipped = append(rep.Skipped, "archive: zstd is not installed, so the baseline `git archive | zstd -3` cannot run.")
		} else {
			a, err := newArchiveRepo(ctx, filepath.Join(tmp, "archive"))
			if err != nil {
				return err
			}
			row, err := benchArchive(ctx, m, a, tmp)
			if err != nil {
				return err
			}
			rep.Rows = append(rep.Rows, row)
			if !c.keep {
				os.RemoveAll(a.dir)
			}
		}
	}
	if want["cleanup"] {
		r, err := newCleanupRepo(ctx, filepath.Join(tmp, "cleanup"))
		if err != nil {
			return err
		}
		row, err := benchCleanup(ctx, m, r)
		if err != nil {
			return err
		}
		rep.Rows = append(rep.Rows, row)
	}
	if want["monitor"] {
		row, err := benchMonitor(ctx, m, filepath.Join(tmp, "monitor"), filepath.Join(tmp, "bin", "git-backup"), c.backups)
		if err != nil {
			return err
		}
		rep.Rows = append(rep.Rows, row)
	}
	rep.Notes = notes(c, want)
	if c.json {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printTable(os.Stdout, rep)
	return nil
}

// notes are the table's footnotes on method.
func notes(c config, want map[string]bool) []string {
	ns := []string{
		fmt.Sprintf("Times are wall-clock milliseconds of whole processes: median of %d runs (minimum in parentheses), after %d warm-up run(s); "+
			"the two commands of a row run alternately interleaved (A B, B A, …). `git backup …` goes through git's dispatcher, as a user runs it. "+
			"ratio = git-backup median / baseline median.", c.runs, c.warmup),
	}
	if want["create"] || want["unchanged"] {
		ns = append(ns, fmt.Sprintf("Large repository: %d files (%d directories × %d files of about %d bytes), one commit, packed (written by `git fast-import`), index fresh (nothing racily clean); "+
			"%d tracked files in %d different directories get new content (not staged) before every timed create and every `git stash create`, outside the timed region.",
			c.dirs*c.perDir, c.dirs, c.perDir, c.fileSize, c.changed, min(c.changed, c.dirs)))
	}
	return append(ns, "Baselines run with git's defaults (`git status` may refresh the index); `core.untrackedCache` and `core.fsmonitor` are off, as they are by default.")
}

// isolate gives every git process (ours and the ones the store starts) a
// private HOME and no system config, so the user's settings change nothing.
func isolate(tmp string) error {
	home := filepath.Join(tmp, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}
	for _, k := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
		"GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES", "GIT_CONFIG", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_TRACE", "GIT_TRACE2",
		"GIT_TRACE2_PERF", "GIT_TRACE2_EVENT", "XDG_CONFIG_HOME", "GIT_BACKUP_IN_HOOK", "GIT_BACKUP_SKIP_HOOKS", "GIT_BACKUP_SHIM"} {
		os.Unsetenv(k)
	}
	set := map[string]string{
		"HOME":                home,
		"GIT_CONFIG_NOSYSTEM": "1",
		"GIT_CONFIG_GLOBAL":   filepath.Join(home, ".gitconfig"),
		"PATH":                filepath.Join(tmp, "bin") + string(os.PathListSeparator) + os.Getenv("PATH"),
		"LC_ALL":              "C",
		"TZ":                  "UTC",
	}
	for k, v := range set {
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	gitconfig := "[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n" +
		"[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n[advice]\n\tdetachedHead = false\n"
	return os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(gitconfig), 0o644)
}

// buildBinary builds cmd/git-backup of the module this program belongs to.
func buildBinary(ctx context.Context, bin string) error {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return fmt.Errorf("run the benchmark from inside the git-backup module (go run ./test/bench)")
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(bin, "git-backup"), "./cmd/git-backup")
	cmd.Dir = filepath.Dir(gomod)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build git-backup: %w", err)
	}
	return nil
}

// machine describes this machine and the tools measured.
func machine(ctx context.Context) Machine {
	m := Machine{OS: runtime.GOOS, Arch: runtime.GOARCH, NProc: runtime.NumCPU(), Go: runtime.Version()}
	if out, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output(); err == nil {
		m.Go = strings.TrimSpace(string(out))
	}
	if out, err := exec.CommandContext(ctx, "git", "version").Output(); err == nil {
		m.Git = strings.TrimPrefix(strings.TrimSpace(string(out)), "git version ")
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.Join(strings.Fields(v), " ")
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
