package hooks

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/git-backup/git-backup/gitstate"
)

const (
	oidA   = "1111111111111111111111111111111111111111"
	oidB   = "2222222222222222222222222222222222222222"
	oidZ   = "0000000000000000000000000000000000000000"
	oidUp  = "ABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCD"
	oid256 = "3333333333333333333333333333333333333333333333333333333333333333"
)

func TestParseRewrites(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
		bad  int
	}{
		{"empty", "", map[string]string{}, 0},
		{"one", oidA + " " + oidB + "\n", map[string]string{oidA: oidB}, 0},
		{"no final newline", oidA + " " + oidB, map[string]string{oidA: oidB}, 0},
		{"extra field (rebase)", oidA + " " + oidB + " extra info\n", map[string]string{oidA: oidB}, 0},
		{"tabs and CRLF", oidA + "\t" + oidB + "\r\n", map[string]string{oidA: oidB}, 0},
		{"blank lines skipped silently", "\n\n" + oidA + " " + oidB + "\n\n", map[string]string{oidA: oidB}, 0},
		{"upper case folded", oidUp + " " + oidUp + "\n", map[string]string{strings.ToLower(oidUp): strings.ToLower(oidUp)}, 0},
		{"sha256", oid256 + " " + oidA + "\n", map[string]string{oid256: oidA}, 0},
		{"several, last wins", oidA + " " + oidB + "\n" + oidA + " " + oidZ + "\n", map[string]string{oidA: oidZ}, 0},
		{"one field", oidA + "\n", map[string]string{}, 1},
		{"short oid", oidA[:39] + " " + oidB + "\n", map[string]string{}, 1},
		{"41 hex", oidA + "1 " + oidB + "\n", map[string]string{}, 1},
		{"not hex", strings.Repeat("g", 40) + " " + oidB + "\n", map[string]string{}, 1},
		{"garbage among good", "x\n" + oidA + " " + oidB + "\nfoo bar\n", map[string]string{oidA: oidB}, 2},
		{"too long a line", strings.Repeat("a", 2<<20) + "\n" + oidA + " " + oidB + "\n", map[string]string{}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, bad := ParseRewrites(strings.NewReader(tt.in))
			if !reflect.DeepEqual(got, tt.want) || bad != tt.bad {
				t.Errorf("ParseRewrites(%.60q) = %v, %d; want %v, %d", tt.in, got, bad, tt.want, tt.bad)
			}
		})
	}
}

func TestParsePushes(t *testing.T) {
	push := func(lref, l, rref, r string) gitstate.Push {
		return gitstate.Push{LocalRef: lref, Local: l, RemoteRef: rref, Remote: r}
	}
	tests := []struct {
		name string
		in   string
		want []gitstate.Push
		bad  int
	}{
		{"empty", "", nil, 0},
		{"new branch", "refs/heads/f " + oidA + " refs/heads/f " + oidZ + "\n",
			[]gitstate.Push{push("refs/heads/f", oidA, "refs/heads/f", oidZ)}, 0},
		{"delete", "(delete) " + oidZ + " refs/heads/old " + oidB + "\n",
			[]gitstate.Push{push("(delete)", oidZ, "refs/heads/old", oidB)}, 0},
		{"two, CRLF, blank line", "refs/heads/a " + oidA + " refs/heads/a " + oidB + "\r\n\nrefs/tags/v1 " + oidB + " refs/tags/v1 " + oidZ,
			[]gitstate.Push{push("refs/heads/a", oidA, "refs/heads/a", oidB), push("refs/tags/v1", oidB, "refs/tags/v1", oidZ)}, 0},
		{"upper case folded", "HEAD " + oidUp + " refs/heads/x " + oidZ + "\n",
			[]gitstate.Push{push("HEAD", strings.ToLower(oidUp), "refs/heads/x", oidZ)}, 0},
		{"sha256", "refs/heads/f " + oid256 + " refs/heads/f " + oid256 + "\n",
			[]gitstate.Push{push("refs/heads/f", oid256, "refs/heads/f", oid256)}, 0},
		{"three fields", "refs/heads/f " + oidA + " refs/heads/f\n", nil, 1},
		{"five fields", "refs/heads/f " + oidA + " refs/heads/f " + oidZ + " more\n", nil, 1},
		{"bad local oid", "refs/heads/f " + oidA[:39] + "x refs/heads/f " + oidZ + "\n", nil, 1},
		{"bad remote oid", "refs/heads/f " + oidA + " refs/heads/f zzz\n", nil, 1},
		{"oids in ref places", oidA + " refs/heads/f " + oidA + " refs/heads/f\n", nil, 1},
		{"garbage among good", "hello\nrefs/heads/f " + oidA + " refs/heads/f " + oidZ + "\n\x00\xff\n",
			[]gitstate.Push{push("refs/heads/f", oidA, "refs/heads/f", oidZ)}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, bad := ParsePushes(strings.NewReader(tt.in))
			if !reflect.DeepEqual(got, tt.want) || bad != tt.bad {
				t.Errorf("ParsePushes(%q) = %v, %d; want %v, %d", tt.in, got, bad, tt.want, tt.bad)
			}
		})
	}
}

func TestIsOID(t *testing.T) {
	for s, want := range map[string]bool{
		oidA: true, oidUp: true, oid256: true, "": false, oidA[:39]: false, oidA + "0": false,
		oid256[:63]: false, strings.Repeat("g", 40): false, " " + oidA[1:]: false,
	} {
		if got := isOID(s); got != want {
			t.Errorf("isOID(%q) = %v, want %v", s, got, want)
		}
	}
}

// validOID is what the parsers promise for every OID they return.
func validOID(s string) bool {
	return isOID(s) && s == strings.ToLower(s)
}

func FuzzParsePushes(f *testing.F) {
	f.Add([]byte("refs/heads/f " + oidA + " refs/heads/f " + oidZ + "\n"))
	f.Add([]byte("(delete) " + oidZ + " refs/heads/old " + oidUp + "\r\n\n x \n"))
	f.Add([]byte("a b c d\n\x00\xff"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, bad := ParsePushes(bytes.NewReader(data))
		if bad < 0 || len(ps)+bad > bytes.Count(data, []byte("\n"))+1 {
			t.Fatalf("%d pushes and %d bad lines from %d lines", len(ps), bad, bytes.Count(data, []byte("\n"))+1)
		}
		for _, p := range ps {
			if !validOID(p.Local) || !validOID(p.Remote) {
				t.Fatalf("invalid OID in %+v", p)
			}
			if p.LocalRef == "" || p.RemoteRef == "" || strings.ContainsAny(p.LocalRef+p.RemoteRef, " \t\n") {
				t.Fatalf("bad ref in %+v", p)
			}
		}
	})
}

func FuzzParseRewrites(f *testing.F) {
	f.Add([]byte(oidA + " " + oidB + "\n"))
	f.Add([]byte(oidUp + " " + oid256 + " extra\r\n\n" + oidA + "\n"))
	f.Add([]byte("\x00\xff\n \t\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, bad := ParseRewrites(bytes.NewReader(data))
		if bad < 0 || len(m)+bad > bytes.Count(data, []byte("\n"))+1 {
			t.Fatalf("%d rewrites and %d bad lines from %d lines", len(m), bad, bytes.Count(data, []byte("\n"))+1)
		}
		for old, nw := range m {
			if !validOID(old) || !validOID(nw) {
				t.Fatalf("invalid OID in %s -> %s", old, nw)
			}
		}
	})
}
