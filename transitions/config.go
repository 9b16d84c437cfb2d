package transitions

import "github.com/git-backup/git-backup/gitstate"

// LoadPolicy builds the policy from git config entries (all scopes, later
// entries win), starting from DefaultPolicy.
func LoadPolicy(entries []gitstate.ConfigEntry) (Policy, error) {
	p := DefaultPolicy()
	for _, e := range entries {
		if e.Key == "backup.integrationbranch" {
			p.IntegrationBranch = e.Value
		}
	}
	return p, nil
}
