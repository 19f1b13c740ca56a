package render

import (
	"path"
	"path/filepath"
	"strings"

	"github.com/alecthomas/chroma/v2"
	"github.com/alecthomas/chroma/v2/lexers"
)

// ignoredSuffixes are the backup and template suffixes chroma strips before
// matching ("main.go.orig" is Go); names ending in one take the slow path.
var ignoredSuffixes = []string{"~", ".bak", ".old", ".orig", ".dpkg-dist", ".dpkg-old", ".ucf-dist", ".ucf-new", ".ucf-old", ".rpmnew", ".rpmorig", ".rpmsave", ".in"}

// lexerMatcher finds the lexer for a file name as lexers.Match does, which
// tries every glob of every lexer (milliseconds a name; seconds for a large
// pull request's thousands of files). A name that only an extension glob
// ("*.go") can claim is answered from a cache keyed by everything from its
// first dot: such a glob matches the name exactly when it matches "x" and
// that key. Names that a more particular glob may claim ("Makefile",
// "*_test.go", "*.[ch]") go the slow way. Not safe for concurrent use.
type lexerMatcher struct {
	// particular are the globs that are not "*." and a literal.
	particular []string
	byKey      map[string]chroma.Lexer
	byName     map[string]chroma.Lexer
}

func newLexerMatcher() *lexerMatcher {
	m := &lexerMatcher{byKey: map[string]chroma.Lexer{}, byName: map[string]chroma.Lexer{}}
	for _, l := range lexers.GlobalLexerRegistry.Lexers {
		cfg := l.Config()
		for _, globs := range [][]string{cfg.Filenames, cfg.AliasFilenames} {
			for _, g := range globs {
				if rest, ok := strings.CutPrefix(g, "*."); !ok || strings.ContainsAny(rest, `*?[\`) {
					m.particular = append(m.particular, g)
				}
			}
		}
	}
	return m
}

// match is lexers.Match(path.Base(file)), or nil.
func (m *lexerMatcher) match(file string) chroma.Lexer {
	base := path.Base(file)
	if l, ok := m.byName[base]; ok {
		return l
	}
	key := ""
	if i := strings.IndexByte(base, '.'); i > 0 {
		key = base[i:]
	}
	if key == "" || m.isParticular(base) {
		l := lexers.Match(base)
		m.byName[base] = l
		return l
	}
	l, ok := m.byKey[key]
	if !ok {
		l = lexers.Match("x" + key)
		m.byKey[key] = l
	}
	return l
}

func (m *lexerMatcher) isParticular(base string) bool {
	for _, suf := range ignoredSuffixes {
		if strings.HasSuffix(base, suf) {
			return true
		}
	}
	for _, g := range m.particular {
		if ok, _ := filepath.Match(g, base); ok {
			return true
		}
	}
	return false
}
