package espeak_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the promise of doc.go: a synthesiser knows nothing of
// channels, the dialog, HTTP, Redis or WebRTC, nor of package speech, which
// adapts it.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "github.com/signoff/signoff/speech" {
			t.Errorf("speech/espeak imports %s", dep)
		}
		for _, banned := range []string{"net/http", "github.com/gin-gonic/", "github.com/redis/", "github.com/pion/", "github.com/sashabaranov/", "github.com/signoff/signoff/channels", "github.com/signoff/signoff/dialog"} {
			if dep == banned || strings.HasSuffix(banned, "/") && strings.HasPrefix(dep, banned) || strings.HasPrefix(dep, banned+"/") {
				t.Errorf("speech/espeak imports %s", dep)
			}
		}
	}
}
