package publish

import (
	"sort"
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/git"
)

// LineRange is lines Start to End of a file, 1-based and inclusive.
type LineRange struct {
	Start, End int
}

// Hunks are the lines of the head a pull request review comment may be
// placed on: for each file, the RIGHT side of every hunk of the pull
// request's diff (added and context lines), in order. GitHub refuses a
// comment on any other line with 422, and a multi-line comment whose lines
// span two hunks.
type Hunks map[string][]LineRange

// ParseHunks reads the hunks of a unified diff (review.PR.Diff) file by
// file with review/git's diff parser, the one the gather and the diff tool
// use. Deleted and binary files have none; a renamed file is under its new
// name; a file whose part does not parse has none, and the others keep
// theirs.
func ParseHunks(diff string) Hunks {
	h := Hunks{}
	for _, part := range git.SplitDiff(diff) {
		f := part.File
		if f == nil || f.IsDelete || f.IsBinary || f.NewName == "" {
			continue
		}
		for _, frag := range f.TextFragments {
			if frag.NewLines <= 0 {
				continue
			}
			start := int(frag.NewPosition)
			h[f.NewName] = append(h[f.NewName], LineRange{Start: start, End: start + int(frag.NewLines) - 1})
		}
	}
	for _, rs := range h {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Start < rs[j].Start })
	}
	return h
}

// Anchor narrows lines start to end of path to the part GitHub lets a
// comment sit on: their overlap with one hunk, the largest when they touch
// several (the first of equal ones). It reports false when no line of the
// range is in a hunk.
func (h Hunks) Anchor(path string, start, end int) (LineRange, bool) {
	if end < start {
		end = start
	}
	var best LineRange
	found := false
	for _, r := range h[path] {
		lo, hi := max(start, r.Start), min(end, r.End)
		if lo > hi {
			continue
		}
		if !found || hi-lo > best.End-best.Start {
			best, found = LineRange{lo, hi}, true
		}
	}
	return best, found
}

// Contains reports whether lines start to end of path all lie in one hunk.
func (h Hunks) Contains(path string, start, end int) bool {
	for _, r := range h[path] {
		if r.Start <= start && end <= r.End && start <= end {
			return true
		}
	}
	return false
}

// Suggestion is a fix GitHub can apply with one click: the lines of the head
// it replaces and the lines that replace them (no line ends; empty deletes
// the lines).
type Suggestion struct {
	Lines       LineRange
	Replacement []string
}

// SuggestionFor turns a finding's patch into a suggestion when that is
// exact: the patch was checked to apply at the head (f.PatchChecked), it
// changes only f.File, in one hunk, and the head lines it replaces lie in
// one hunk of the pull request's diff. A patch that only adds lines
// becomes a suggestion on the line before the insertion (or after it, at
// the top of a file) that repeats that line. Anything else reports false,
// and the fix is shown as a diff or in prose instead.
func SuggestionFor(f review.Finding, h Hunks) (Suggestion, bool) {
	if !f.PatchChecked || strings.TrimSpace(f.Patch) == "" {
		return Suggestion{}, false
	}
	files, _, err := gitdiff.Parse(strings.NewReader(f.Patch))
	if err != nil || len(files) != 1 {
		return Suggestion{}, false
	}
	pf := files[0]
	if pf.IsNew || pf.IsDelete || pf.IsRename || pf.IsCopy || pf.IsBinary ||
		pf.OldName != f.File || pf.NewName != f.File || len(pf.TextFragments) != 1 {
		return Suggestion{}, false
	}
	s, ok := suggestion(pf.TextFragments[0])
	if !ok || !h.Contains(f.File, s.Lines.Start, s.Lines.End) {
		return Suggestion{}, false
	}
	return s, true
}

// suggestion converts one hunk of a patch against the head: the changed
// span from its first to its last added or deleted line, with the head
// lines (context and deleted) it covers and the lines it becomes (context
// and added).
func suggestion(frag *gitdiff.TextFragment) (Suggestion, bool) {
	first, last := -1, -1
	for i, l := range frag.Lines {
		if l.Op != gitdiff.OpContext {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return Suggestion{}, false
	}
	// oldAt is the head line number of frag.Lines[i] (for additions, of the
	// head line that follows them).
	oldAt := func(i int) int {
		n := int(frag.OldPosition)
		for _, l := range frag.Lines[:i] {
			if l.Old() {
				n++
			}
		}
		return n
	}
	var repl []string
	old := 0
	for _, l := range frag.Lines[first : last+1] {
		if l.Old() {
			old++
		}
		if l.New() {
			repl = append(repl, text(l))
		}
	}
	start := oldAt(first)
	switch {
	case old > 0:
		return Suggestion{Lines: LineRange{start, start + old - 1}, Replacement: repl}, true
	case first > 0:
		// Additions only: repeat the context line before them.
		before := text(frag.Lines[first-1])
		return Suggestion{Lines: LineRange{start - 1, start - 1}, Replacement: append([]string{before}, repl...)}, true
	case last+1 < len(frag.Lines):
		after := text(frag.Lines[last+1])
		return Suggestion{Lines: LineRange{start, start}, Replacement: append(repl, after)}, true
	}
	return Suggestion{}, false
}

// text is a patch line without its line end.
func text(l gitdiff.Line) string {
	return strings.TrimSuffix(l.Line, "\n")
}
