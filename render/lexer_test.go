package render

import (
	"testing"

	"github.com/alecthomas/chroma/v2/lexers"
)

func TestLexerMatcherAgreesWithChroma(t *testing.T) {
	names := []string{"main.go", "pkg/main_test.go", "Makefile", "CMakeLists.txt", "notes.txt", "jquery.min.js", "x.h", "go.mod", "Dockerfile",
		"main.go.orig", ".bashrc", "README.md", "app.tsx", "v1.2.go", "build.gradle.kts", "a.B.PY", "LICENSE", "styles.css", "data.json", "x.pb.go"}
	m := newLexerMatcher()
	for range 2 { // the second pass is served from the caches
		for _, n := range names {
			got, want := m.match(n), lexers.Match(n)
			if (got == nil) != (want == nil) || (got != nil && got.Config().Name != want.Config().Name) {
				t.Errorf("match(%q) = %v, chroma says %v", n, got, want)
			}
		}
	}
}

func BenchmarkLexerMatcher(b *testing.B) {
	m := newLexerMatcher()
	for i := 0; b.Loop(); i++ {
		m.match("pkg/file" + string(rune('a'+i%26)) + ".go")
	}
}
