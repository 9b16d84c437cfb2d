package transitions

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// The hand-written encoder must write exactly what encoding/json writes.
func TestAppendBackupsJSON_matchesEncodingJSON(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 4).Draw(t, "n")
		str := rapid.OneOf(rapid.String(), rapid.StringMatching(`[\x00-\x1f"\\<>&\x{2028}\x{2029}\x{fffd}é]*`),
			rapid.Custom(func(t *rapid.T) string { return string(rapid.SliceOf(rapid.Byte()).Draw(t, "raw")) }))
		opt := func(t *rapid.T, label string) *string {
			if rapid.Bool().Draw(t, label+"nil") {
				return nil
			}
			s := str.Draw(t, label)
			return &s
		}
		var bs []*Backup
		for i := 0; i < n; i++ {
			bs = append(bs, &Backup{
				ID: str.Draw(t, "id"), State: State(str.Draw(t, "state")), Snapshot: str.Draw(t, "snap"),
				Base: opt(t, "base"), Branch: opt(t, "branch"),
				CreatedAt: time.Unix(rapid.Int64Range(0, 4e9).Draw(t, "c"), rapid.Int64Range(0, 999999999).Draw(t, "cn")).UTC(),
				UpdatedAt: time.Unix(rapid.Int64Range(0, 4e9).Draw(t, "u"), 0).UTC(),
				Trigger:   str.Draw(t, "trigger"), Message: str.Draw(t, "msg"),
				Files: rapid.Int().Draw(t, "files"), SizeBytes: rapid.Int64().Draw(t, "size"),
				Confidence: rapid.Float64Range(0, 1).Draw(t, "conf"), Pinned: rapid.Bool().Draw(t, "pinned"),
				CoveredBy: opt(t, "cov"), Archive: opt(t, "archive"),
			})
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if bs == nil {
			bs = []*Backup{}
		}
		if err := enc.Encode(bs); err != nil {
			t.Fatal(err)
		}
		got := AppendBackupsJSON(nil, bs)
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("got\n%s\nwant\n%s", got, want.Bytes())
		}
	})
}
