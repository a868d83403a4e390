package signoff_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/signoff/signoff"

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", pkg, err, out)
	}
	return strings.Fields(string(out))
}

// TestDependencyDirection keeps the architecture of DESIGN.md: the root
// imports only the standard library; dialog, prompts and knowledge decide and
// know nothing of HTTP frameworks, Redis, WebRTC or language models, and
// import of the module only the root and prompts.
func TestDependencyDirection(t *testing.T) {
	for _, dep := range deps(t, ".") {
		if dep != module {
			t.Errorf("the root package imports %s; it may import only the standard library", dep)
		}
	}
	for _, pkg := range []string{"dialog", "prompts", "knowledge"} {
		self := module + "/" + pkg
		for _, dep := range deps(t, "./"+pkg) {
			switch dep {
			case self, module, module + "/prompts":
				continue
			}
			t.Errorf("%s imports %s; it may import only the standard library, the root and prompts", pkg, dep)
		}
	}
}
