package sphinx

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

func loadDict(t testing.TB) map[string][]string {
	f, err := os.Open("/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 2 {
			continue
		}
		w := fs[0]
		if i := strings.IndexByte(w, '('); i > 0 {
			w = w[:i]
		}
		m[w] = append(m[w], strings.Join(fs[1:], " "))
	}
	return m
}

func editDist1(a, b []string) bool {
	if len(a) == len(b) {
		d := 0
		for i := range a {
			if a[i] != b[i] {
				d++
			}
		}
		return d == 1
	}
	if len(a)+1 == len(b) {
		a, b = b, a
	}
	if len(a) != len(b)+1 {
		return false
	}
	for i := range a {
		c := append(append([]string{}, a[:i]...), a[i+1:]...)
		if strings.Join(c, " ") == strings.Join(b, " ") {
			return true
		}
	}
	return false
}

func neighbours(dict map[string][]string, words []string) []string {
	prons := map[string]bool{}
	isWord := map[string]bool{}
	for _, w := range words {
		isWord[w] = true
		for _, p := range dict[w] {
			prons[p] = true
		}
	}
	var out []string
	for w, ps := range dict {
		if isWord[w] || strings.ContainsAny(w, "'.-_") {
			continue
		}
		homophone := false
		near := false
		for _, p := range ps {
			if prons[p] {
				homophone = true
			}
			for q := range prons {
				if editDist1(strings.Fields(p), strings.Fields(q)) {
					near = true
				}
			}
		}
		if near && !homophone {
			out = append(out, w)
		}
	}
	return out
}

func TestNeighbours(t *testing.T) {
	d := loadDict(t)
	for _, w := range []string{"two", "nine", "one", "yes", "agent", "repeat", "zero", "number", "option"} {
		n := neighbours(d, []string{w})
		t.Logf("%s: %d %v", w, len(n), n[:min(len(n), 40)])
	}
}
