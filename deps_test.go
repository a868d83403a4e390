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
	for _, pkg := range []string{"dialog", "prompts"} {
		self := module + "/" + pkg
		for _, dep := range deps(t, "./"+pkg) {
			switch dep {
			case self, module, module + "/prompts":
				continue
			}
			t.Errorf("%s imports %s; it may import only the standard library, the root and prompts", pkg, dep)
		}
	}
	// knowledge satisfies dialog.Answerer with dialog's types and indexes
	// with bleve; network adapters (the model's included) stay out of it.
	for _, dep := range deps(t, "./knowledge") {
		switch {
		case dep == module+"/knowledge", dep == module, dep == module+"/prompts", dep == module+"/dialog":
		case strings.HasPrefix(dep, module+"/"):
			t.Errorf("knowledge imports %s; of the module it may import only the root, prompts and dialog", dep)
		case strings.Contains(dep, "go-openai"), strings.Contains(dep, "go-redis"), strings.Contains(dep, "pion"),
			strings.Contains(dep, "gin-gonic"):
			t.Errorf("knowledge imports the network adapter %s", dep)
		}
	}
}
