package monitor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

var _ Metrics = (*Recorder)(nil)

// MetricsAddr resolves --metrics-addr: a port alone ("9464" or ":9464")
// listens on loopback only. Any other host must be written out, so exposing
// the metrics beyond this machine is always a deliberate choice.
func MetricsAddr(addr string) (string, error) {
	if addr == "" {
		return "", errors.New("metrics address: empty (give a port, or host:port)")
	}
	if _, err := strconv.ParseUint(addr, 10, 16); err == nil {
		return net.JoinHostPort("127.0.0.1", addr), nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("metrics address %q: %w", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", fmt.Errorf("metrics address %q: port %q is not a number", addr, port)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// ListenMetrics opens the listener for --metrics-addr (see MetricsAddr).
func ListenMetrics(addr string) (net.Listener, error) {
	a, err := MetricsAddr(addr)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", a)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics: %w", err)
	}
	return ln, nil
}

// ServeMetrics serves Prometheus metrics from src on addr (loopback unless a
// host is given) at /metrics until ctx is done.
func ServeMetrics(ctx context.Context, addr string, src MetricsSource) error {
	ln, err := ListenMetrics(addr)
	if err != nil {
		return err
	}
	return ServeMetricsOn(ctx, ln, src)
}

// ServeMetricsOn is ServeMetrics on an open listener, which it closes.
func ServeMetricsOn(ctx context.Context, ln net.Listener, src MetricsSource) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", MetricsHandler(src))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-done
		return nil
	}
	return fmt.Errorf("serve metrics: %w", err)
}

// MetricsHandler is the /metrics handler: a private registry (not the
// process-wide default) holding one collector that reads src at each scrape.
func MetricsHandler(src MetricsSource) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{src})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

var (
	descDisk = prometheus.NewDesc("git_backup_disk_used_percent",
		"Percent used of the file system holding the git dir, the archive dir or /.", []string{"repo", "filesystem"}, nil)
	descBackups = prometheus.NewDesc("git_backup_backups",
		"Backups by state.", []string{"repo", "state"}, nil)
	descBytes = prometheus.NewDesc("git_backup_backup_bytes",
		"Bytes changed by the backups in each state.", []string{"repo", "state"}, nil)
	descHeld = prometheus.NewDesc("git_backup_held_bytes",
		"Bytes held by backups and archives (compared with backup.maxSize).", []string{"repo"}, nil)
	descTransitions = prometheus.NewDesc("git_backup_transitions_total",
		"Moves applied by the monitor since it started, by trigger and state.", []string{"repo", "trigger", "from", "to"}, nil)
	descLastCycle = prometheus.NewDesc("git_backup_last_cycle_timestamp_seconds",
		"Unix time of the last monitor cycle.", []string{"repo"}, nil)
	descLevel = prometheus.NewDesc("git_backup_disk_level",
		"1 for the disk level reached at the last cycle.", []string{"repo", "level"}, nil)
)

// collector turns a MetricsSource into constant metrics at each scrape.
type collector struct{ src MetricsSource }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDisk, descBackups, descBytes, descHeld, descTransitions, descLastCycle, descLevel} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, r := range c.src.Snapshot() {
		for fs, p := range r.DiskPercent {
			ch <- prometheus.MustNewConstMetric(descDisk, prometheus.GaugeValue, p, r.Repo, fs)
		}
		for st, n := range r.Backups {
			ch <- prometheus.MustNewConstMetric(descBackups, prometheus.GaugeValue, float64(n), r.Repo, st)
		}
		for st, n := range r.Bytes {
			ch <- prometheus.MustNewConstMetric(descBytes, prometheus.GaugeValue, float64(n), r.Repo, st)
		}
		for k, n := range r.Transitions {
			ch <- prometheus.MustNewConstMetric(descTransitions, prometheus.CounterValue, float64(n), r.Repo, k.Trigger, k.From, k.To)
		}
		if !r.LastCycle.IsZero() {
			ch <- prometheus.MustNewConstMetric(descHeld, prometheus.GaugeValue, float64(r.HeldBytes), r.Repo)
			ch <- prometheus.MustNewConstMetric(descLastCycle, prometheus.GaugeValue, float64(r.LastCycle.UnixNano())/1e9, r.Repo)
		}
		if r.Level != "" {
			ch <- prometheus.MustNewConstMetric(descLevel, prometheus.GaugeValue, 1, r.Repo, r.Level)
		}
	}
}
