package hooks

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// FuzzCheckArgs checks that a hook accepts exactly the arguments git gives
// it, and that a refusal names the hook.
func FuzzCheckArgs(f *testing.F) {
	f.Add("post-commit", uint8(0), "", "", "")
	f.Add("post-merge", uint8(1), "1", "", "")
	f.Add("post-merge", uint8(1), "01", "", "")
	f.Add("post-rewrite", uint8(2), "rebase", "extra", "")
	f.Add("post-rewrite", uint8(1), "Amend", "", "")
	f.Add("pre-push", uint8(2), "origin", "git@host:x\n--upload-pack=evil", "")
	f.Add("post-checkout", uint8(3), "0000000000000000000000000000000000000000", "abc", "1")
	f.Add("../../post-commit", uint8(0), "", "", "")
	f.Fuzz(func(t *testing.T, name string, n uint8, a1, a2, a3 string) {
		args := []string{a1, a2, a3}[:n%4]
		var want bool
		switch name {
		case "post-commit":
			want = len(args) == 0
		case "post-merge":
			want = len(args) == 1 && (args[0] == "0" || args[0] == "1")
		case "post-rewrite":
			want = len(args) >= 1 && (args[0] == "amend" || args[0] == "rebase")
		case "pre-push":
			want = len(args) == 2
		}
		err := CheckArgs(name, args)
		if (err == nil) != want {
			t.Fatalf("CheckArgs(%q, %q) = %v, want accepted %v", name, args, err, want)
		}
		if err != nil && !strings.Contains(err.Error(), name) && !strings.Contains(err.Error(), "hook") {
			t.Fatalf("CheckArgs(%q, %q) = %v: does not name the hook", name, args, err)
		}
		if want != slices.Contains(Names, name) && want {
			t.Fatalf("accepted a hook git-backup does not install: %q", name)
		}
	})
}

// FuzzHuskyLine checks install and uninstall on a user's Husky script of any
// content: our line is added on a line of its own, found again, and removing
// it gives the script back byte for byte.
func FuzzHuskyLine(f *testing.F) {
	f.Add([]byte("#!/usr/bin/env sh\nnpx lint-staged\n"), "post-commit")
	f.Add([]byte("no final newline"), "pre-push")
	f.Add([]byte(""), "post-merge")
	f.Add([]byte("\r\n\r\n"), "post-rewrite")
	f.Add([]byte(huskyHeader), "post-commit")
	f.Fuzz(func(t *testing.T, b []byte, name string) {
		if bytes.Contains(b, []byte(huskyMarker)) || !slices.Contains(Names, name) {
			return // a script with our line already is left unchanged by install
		}
		added := addHuskyLine(b, name)
		if !bytes.HasPrefix(added, b) {
			t.Fatalf("install changed the user's lines: %q -> %q", b, added)
		}
		if n := bytes.Count(added, []byte(huskyMarker)); n != 1 {
			t.Fatalf("install added %d marked lines", n)
		}
		lines := strings.Split(string(added), "\n")
		found := false
		for _, l := range lines {
			if strings.Contains(l, huskyMarker) {
				found = l == huskyLine(name)
			}
		}
		if !found {
			t.Fatalf("our line is not on a line of its own in %q", added)
		}
		if got := removeHuskyLines(added); got != string(b) {
			t.Fatalf("uninstall did not give the script back:\n   had %q\n  gave %q", b, got)
		}
	})
}

// FuzzShimVersion checks that only our own hook, with its version line near
// the top, is taken for one of ours (install replaces those).
func FuzzShimVersion(f *testing.F) {
	f.Add(Shim("post-commit"))
	f.Add([]byte("#!/bin/sh\n" + Marker + "999999999999999999999\n"))
	f.Add([]byte("#!/bin/sh\n" + Marker + "-3\n"))
	f.Add([]byte(strings.Repeat("\n", 25) + Marker + "3\n"))
	f.Add([]byte("#!/bin/sh\nexec husky\n"))
	f.Fuzz(func(t *testing.T, content []byte) {
		v := ShimVersion(content)
		if v < 0 {
			t.Fatalf("negative version %d", v)
		}
		if v == 0 {
			return
		}
		lines := strings.Split(string(content), "\n")
		ok := false
		for i, l := range lines {
			if i >= 20 {
				break
			}
			if strings.HasPrefix(l, Marker) {
				ok = true
			}
		}
		if !ok {
			t.Fatalf("version %d found in %q without a marker line in its first 20 lines", v, content)
		}
	})
}
