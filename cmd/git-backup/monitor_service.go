package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/git-backup/git-backup/monitor"
)

type monitorInstallServiceCmd struct {
	Enable bool   `help:"Also run the commands that start it now and at each login (systemctl --user), and show their output."`
	Write  bool   `help:"macOS: write the launchd plist to ~/Library/LaunchAgents (it is only printed otherwise)."`
	OS     string `name:"os" hidden:"" help:"Act as on this operating system (linux, darwin). For tests."`
}

func (c *monitorInstallServiceCmd) Help() string {
	return `On Linux, writes the systemd user unit
$XDG_CONFIG_HOME/systemd/user/` + monitor.ServiceName + ` (~/.config when unset)
that runs this git-backup binary as "monitor --all" (every repository in the
global backup.repo; git backup hooks install and monitor --register add one),
restarted on failure, and prints the commands that start it. With --enable it
runs them when systemctl exists. Installing again rewrites the unit (after
moving the binary, for instance).

On macOS, prints the launchd agent instead; --write saves it to
~/Library/LaunchAgents and prints the launchctl command that loads it.

Exit status: 0 written (and enabled), 1 it could not be written or enabled.`
}

func (c *monitorInstallServiceCmd) Run(ctx context.Context, a *App) error {
	svc, launchd, err := userService(c.OS)
	if err != nil {
		return err
	}
	if launchd && !c.Write {
		fmt.Fprint(a.Stdout, svc.Content)
		a.note("git-backup: this is the launchd agent; --write saves it to %s", svc.Path)
		return nil
	}
	if err := svc.Install(); err != nil {
		return err
	}
	a.out("wrote %s", svc.Path)
	return c.enable(ctx, a, svc, launchd)
}

func (c *monitorInstallServiceCmd) enable(ctx context.Context, a *App, svc monitor.Service, launchd bool) error {
	if !c.Enable || launchd {
		a.out("start it now and at each login with:\n  %s", commandLines(svc.Enable))
		return nil
	}
	out, err := monitor.RunCommands(ctx, svc.Enable)
	if s := strings.TrimSpace(out); s != "" {
		a.out("%s", s)
	}
	if err != nil {
		return fmt.Errorf("enable %s: %w (the unit is written; run: %s)", monitor.ServiceName, err, commandLines(svc.Enable))
	}
	a.out("enabled and started %s (systemctl --user status %s shows it)", monitor.ServiceName, monitor.ServiceName)
	return nil
}

type monitorUninstallServiceCmd struct {
	Disable bool   `help:"First stop it and disable it (systemctl --user disable --now), and show the output."`
	OS      string `name:"os" hidden:"" help:"Act as on this operating system (linux, darwin). For tests."`
}

func (c *monitorUninstallServiceCmd) Help() string {
	return `Removes what install-service wrote. With --disable it first stops and
disables the systemd unit (when systemctl exists); otherwise it prints the
commands that do. Removing what is not installed is not an error.

Exit status: 0 removed or absent, 1 it could not be removed or disabled.`
}

func (c *monitorUninstallServiceCmd) Run(ctx context.Context, a *App) error {
	svc, launchd, err := userService(c.OS)
	if err != nil {
		return err
	}
	if c.Disable && !launchd {
		out, err := monitor.RunCommands(ctx, svc.Disable)
		if s := strings.TrimSpace(out); s != "" {
			a.out("%s", s)
		}
		if err != nil {
			return fmt.Errorf("disable %s: %w", monitor.ServiceName, err)
		}
	}
	removed, err := svc.Uninstall()
	if err != nil {
		return err
	}
	if !removed {
		a.out("%s is not installed", svc.Path)
		return nil
	}
	a.out("removed %s", svc.Path)
	if !c.Disable || launchd {
		a.out("if it runs, stop it with:\n  %s", commandLines(svc.Disable))
	}
	return nil
}

// userService is the service definition for goos (this system when empty)
// running this binary; launchd tells which kind it is.
func userService(goos string) (svc monitor.Service, launchd bool, err error) {
	if goos == "" {
		goos = runtime.GOOS
	}
	exe, err := os.Executable()
	if err != nil {
		return svc, false, fmt.Errorf("find this binary: %w", err)
	}
	if p, err := filepath.EvalSymlinks(exe); err == nil {
		exe = p
	}
	switch goos {
	case "darwin":
		svc, err = monitor.LaunchdService(exe)
		return svc, true, err
	case "linux":
		svc, err = monitor.SystemdService(exe)
		return svc, false, err
	}
	return svc, false, usagef("install-service: no user service manager known on %s (run git backup monitor --all from your own scheduler)", goos)
}

func commandLines(cmds [][]string) string {
	lines := make([]string, len(cmds))
	for i, c := range cmds {
		lines[i] = monitor.CommandLine(c)
	}
	return strings.Join(lines, " && ")
}
