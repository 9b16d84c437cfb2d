package monitor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/git-backup/git-backup/gitstate"
)

// ServiceName is the systemd user unit that runs `git backup monitor --all`.
const ServiceName = "git-backup-monitor.service"

// LaunchdLabel names the launchd agent that does the same on macOS.
const LaunchdLabel = "com.github.git-backup.monitor"

// Service is a service definition for the user's service manager: where it
// goes, what it says, and the commands that start and stop it.
type Service struct {
	Path    string
	Content string
	// Enable starts the service now and at each login; Disable undoes it.
	Enable  [][]string
	Disable [][]string
}

// SystemdService is the systemd user unit running exe monitor --all, under
// $XDG_CONFIG_HOME/systemd/user (~/.config when unset). SIGTERM, systemd's
// stop signal, lets the move in hand finish.
func SystemdService(exe string) (Service, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home, err := os.UserHomeDir()
		if err != nil {
			return Service{}, fmt.Errorf("find the user config dir: %w", err)
		}
		dir = filepath.Join(home, ".config")
	}
	unit := `[Unit]
Description=git-backup monitor: autosave, cleanup and alerts for the repositories in backup.repo
Documentation=man:git-backup(1)

[Service]
Type=simple
ExecStart=` + systemdQuote(exe) + ` monitor --all
Restart=on-failure
RestartSec=30
TimeoutStopSec=60

[Install]
WantedBy=default.target
`
	return Service{
		Path:    filepath.Join(dir, "systemd", "user", ServiceName),
		Content: unit,
		Enable:  [][]string{{"systemctl", "--user", "daemon-reload"}, {"systemctl", "--user", "enable", "--now", ServiceName}},
		Disable: [][]string{{"systemctl", "--user", "disable", "--now", ServiceName}, {"systemctl", "--user", "daemon-reload"}},
	}, nil
}

// systemdQuote quotes a path for ExecStart: % is a specifier, and spaces,
// quotes and backslashes need double quotes.
func systemdQuote(s string) string {
	s = strings.ReplaceAll(s, "%", "%%")
	if !strings.ContainsAny(s, " \t\"'\\") {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// LaunchdService is the launchd agent running exe monitor --all, under
// ~/Library/LaunchAgents, restarted when it exits with an error.
func LaunchdService(exe string) (Service, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return Service{}, fmt.Errorf("find the home dir: %w", err)
	}
	path := filepath.Join(home, "Library", "LaunchAgents", LaunchdLabel+".plist")
	plist := `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + LaunchdLabel + `</string>
	<key>ProgramArguments</key>
	<array>
		<string>` + xmlEscape(exe) + `</string>
		<string>monitor</string>
		<string>--all</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<dict>
		<key>SuccessfulExit</key>
		<false/>
	</dict>
	<key>StandardErrorPath</key>
	<string>` + xmlEscape(filepath.Join(home, "Library", "Logs", "git-backup-monitor.log")) + `</string>
</dict>
</plist>
`
	return Service{
		Path:    path,
		Content: plist,
		Enable:  [][]string{{"launchctl", "load", "-w", path}},
		Disable: [][]string{{"launchctl", "unload", "-w", path}},
	}, nil
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}

// Install writes the service definition, replacing an older one.
func (s Service) Install() error {
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o755); err != nil {
		return fmt.Errorf("install service: %w", err)
	}
	if err := gitstate.WriteFileAtomic(s.Path, []byte(s.Content), 0o644); err != nil {
		return fmt.Errorf("install service: %w", err)
	}
	return nil
}

// Uninstall removes the service definition; removed is false when there
// was none.
func (s Service) Uninstall() (removed bool, err error) {
	if err := os.Remove(s.Path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("uninstall service: %w", err)
	}
	return true, nil
}

// ErrNoServiceManager is returned by RunCommands when the service manager's
// program is not on PATH.
var ErrNoServiceManager = errors.New("service manager not found")

// RunCommands runs the commands one after the other (Enable or Disable) and
// returns their combined output; it stops at the first that fails.
func RunCommands(ctx context.Context, cmds [][]string) (string, error) {
	var out strings.Builder
	for _, argv := range cmds {
		prog, err := exec.LookPath(argv[0])
		if err != nil {
			return out.String(), fmt.Errorf("%w: %q is not on PATH", ErrNoServiceManager, argv[0])
		}
		b, err := exec.CommandContext(ctx, prog, argv[1:]...).CombinedOutput()
		out.Write(b)
		if err != nil {
			return out.String(), fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
		}
	}
	return out.String(), nil
}

// CommandLine is a command for people to copy: the argv joined by spaces,
// with the arguments that need it single-quoted.
func CommandLine(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts[i] = a
	}
	return strings.Join(parts, " ")
}
