package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// measurer runs pairs of commands alternately interleaved.
type measurer struct {
	runs, warmup int
}

// sample is one timed run: wall-clock time, and the CPU time (user and
// system) of the process and every process it waited for.
type sample struct {
	wall, cpu time.Duration
}

// trial prepares one run outside the timed region, then runs and times it.
// check looks at the output of the run.
type trial struct {
	prepare func() error
	run     func() (sample, []byte, error)
	check   func(out []byte) error
}

// pair times a and b alternately (a b, b a, a b, …), warm-up runs first, and
// returns the timed durations of each.
func (m *measurer) pair(a, b trial) (da, db []sample, err error) {
	one := func(t trial) (sample, error) {
		if t.prepare != nil {
			if err := t.prepare(); err != nil {
				return sample{}, err
			}
		}
		d, out, err := t.run()
		if err != nil {
			return sample{}, err
		}
		if t.check != nil {
			if err := t.check(out); err != nil {
				return sample{}, err
			}
		}
		return d, nil
	}
	for i := 0; i < m.warmup+m.runs; i++ {
		first, second := &a, &b
		rf, rs := &da, &db
		if i%2 == 1 {
			first, second = second, first
			rf, rs = rs, rf
		}
		d1, err := one(*first)
		if err != nil {
			return nil, nil, err
		}
		d2, err := one(*second)
		if err != nil {
			return nil, nil, err
		}
		if i >= m.warmup {
			*rf = append(*rf, d1)
			*rs = append(*rs, d2)
		}
	}
	return da, db, nil
}

// timeGit runs git with args in dir and returns how long the process took
// (start to exit, and CPU) and its stdout.
func timeGit(ctx context.Context, dir string, args ...string) (sample, []byte, error) {
	var stdout, stderr bytes.Buffer
	stdout.Grow(1 << 20)
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return sample{}, nil, fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return sample{wall: d, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}, stdout.Bytes(), nil
}

// gitOut runs git in dir (untimed) and returns its trimmed stdout.
func gitOut(ctx context.Context, dir string, stdin io.Reader, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Stdin = stdin
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// summarise turns samples into milliseconds: median, minimum, all runs, and
// the median CPU time.
func summarise(ss []sample) Durations {
	wall := make([]float64, len(ss))
	cpu := make([]float64, len(ss))
	for i, s := range ss {
		wall[i] = float64(s.wall.Microseconds()) / 1000
		cpu[i] = float64(s.cpu.Microseconds()) / 1000
	}
	return Durations{MedianMS: median(wall), MinMS: slices.Min(wall), RunsMS: wall, CPUMedianMS: median(cpu)}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

// newRow fills in a row's ratio and verdict. A target of 0 is no target: the
// ratio is reported, and met is true.
func newRow(what, command, baseline string, target float64, a, b []sample) Row {
	r := Row{What: what, Command: command, Baseline: baseline, Backup: summarise(a), Base: summarise(b), Target: target}
	if r.Base.MedianMS > 0 {
		r.Ratio = r.Backup.MedianMS / r.Base.MedianMS
	}
	if r.Base.CPUMedianMS > 0 {
		r.CPURatio = r.Backup.CPUMedianMS / r.Base.CPUMedianMS
	}
	r.Met = target == 0 || r.Ratio <= target
	return r
}

// printTable prints the report as a Markdown table with its footnotes.
func printTable(w io.Writer, rep Report) {
	fmt.Fprintln(w, "| what | git-backup | baseline | ratio | target | met |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | --- |")
	var foot []string
	for _, r := range rep.Rows {
		what := fmt.Sprintf("%s: `%s` vs `%s`", r.What, r.Command, r.Baseline)
		if r.Absolute {
			what = fmt.Sprintf("%s: `%s`", r.What, r.Command)
		}
		if r.Footnote != "" {
			foot = append(foot, r.Footnote)
			what += fmt.Sprintf(" [%d]", len(foot))
		}
		if r.Absolute {
			met := "yes"
			if !r.Met {
				met = "**no**"
			}
			fmt.Fprintf(w, "| %s | %.1f ms CPU, %.1f MB RSS | — | — | %s | %s |\n", what, r.Backup.CPUMedianMS, r.PeakRSSMB, r.TargetText, met)
			continue
		}
		target, met := fmt.Sprintf("≤ %g×", r.Target), "yes"
		if r.TargetText != "" {
			target = r.TargetText
		}
		if r.Target == 0 {
			target, met = "none", "—"
		} else if !r.Met {
			met = "**no**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.2f× | %s | %s |\n", what, ms(r.Backup), ms(r.Base), r.Ratio, target, met)
	}
	fmt.Fprintln(w)
	for i, f := range foot {
		fmt.Fprintf(w, "[%d] %s  \n", i+1, f)
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(w, "Skipped: %s  \n", s)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "%s  \n", n)
	}
	var cpu []string
	for i, r := range rep.Rows {
		if r.Absolute {
			cpu = append(cpu, fmt.Sprintf("row %d — (absolute target)", i+1))
			continue
		}
		cpu = append(cpu, fmt.Sprintf("row %d %.2f×", i+1, r.CPURatio))
	}
	fmt.Fprintf(w, "CPU-time ratios (user + system of the process and the processes it ran, medians; steadier than wall-clock on a busy machine): %s.  \n", strings.Join(cpu, ", "))
	m := rep.Machine
	model := ""
	if m.CPU != "" {
		model = ", " + m.CPU
	}
	kernel := ""
	if m.Kernel != "" {
		kernel = " " + m.Kernel
	}
	fmt.Fprintf(w, "Machine: %s/%s%s, nproc %d%s; %s; git %s. Date: %s.\n", m.OS, m.Arch, kernel, m.NProc, model, m.Go, m.Git, rep.Date)
}

func ms(d Durations) string { return fmt.Sprintf("%.1f ms (%.1f)", d.MedianMS, d.MinMS) }
