// Package test holds git-backup's end-to-end tests: testscript suites in
// testdata/script that run the real git-backup binary against real git
// repositories, remotes and hooks, and the benchmark in bench/.
package test
