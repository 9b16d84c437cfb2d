package transitions

import (
	"reflect"
	"testing"

	"github.com/git-backup/git-backup/gitstate"
)

func TestTemplates_valid(t *testing.T) {
	names := TemplateNames()
	if !reflect.DeepEqual(names, []string{"conservative", "aggressive", "development", "default"}) {
		t.Errorf("templates = %v", names)
	}
	for _, tp := range Templates() {
		if len(tp.Values) != len(templateKeys) {
			t.Errorf("%s sets %d keys, want %d", tp.Name, len(tp.Values), len(templateKeys))
		}
		ws, err := CheckWrites(nil, tp.Writes("global"))
		if err != nil {
			t.Errorf("template %s: %v", tp.Name, err)
			continue
		}
		var es []gitstate.ConfigEntry
		for _, w := range ws {
			if w.Values[0] != tp.Values[w.Key.Name] {
				t.Errorf("template %s: %s = %q is not canonical (%q)", tp.Name, w.Key.Name, tp.Values[w.Key.Name], w.Values[0])
			}
			es = append(es, gitstate.ConfigEntry{Scope: "global", Key: w.Key.Name, Value: w.Values[0]})
		}
		if _, err := LoadPolicy(es); err != nil {
			t.Errorf("template %s does not load: %v", tp.Name, err)
		}
		for k := range tp.Values {
			key, _ := LookupKey(k)
			if key.Secret || k == "backup.integrationBranch" || k == "backup.archiveDir" {
				t.Errorf("template %s sets %s", tp.Name, k)
			}
		}
	}
}

func TestTemplates_defaultIsTheDefaults(t *testing.T) {
	tp, ok := LookupTemplate("default")
	if !ok {
		t.Fatal("no default template")
	}
	var es []gitstate.ConfigEntry
	for k, v := range tp.Values {
		es = append(es, gitstate.ConfigEntry{Scope: "local", Key: k, Value: v})
	}
	p, err := LoadPolicy(es)
	if err != nil || p != DefaultPolicy() {
		t.Errorf("default template = %+v, %v", p, err)
	}
}

func TestTemplates_differ(t *testing.T) {
	load := func(name string) Policy {
		tp, _ := LookupTemplate(name)
		var es []gitstate.ConfigEntry
		for k, v := range tp.Values {
			es = append(es, gitstate.ConfigEntry{Scope: "local", Key: k, Value: v})
		}
		p, _ := LoadPolicy(es)
		return p
	}
	c, a := load("conservative"), load("aggressive")
	if !(c.PendingTimeout > a.PendingTimeout && c.AutoCleanupConfidence > a.AutoCleanupConfidence && c.MinAge > a.MinAge) {
		t.Errorf("conservative is not more careful than aggressive: %+v vs %+v", c, a)
	}
	if _, ok := LookupTemplate("reckless"); ok {
		t.Error("unknown template found")
	}
}
