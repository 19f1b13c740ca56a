package pr

import "github.com/deepreview/deep-review/review"

// Size is how big a gathered pull request is, so the agent can budget its
// prompts: what reviewers see (Files, Additions, Deletions, DiffBytes) and
// what was left out (Skipped).
type Size struct {
	Commits   int
	Files     int
	Skipped   int
	Additions int
	Deletions int
	// DiffBytes is len(PR.Diff): the diff reviewers are given, skipped
	// files removed.
	DiffBytes int
}

// SizeOf measures p from its Files, Skipped, Commits and Diff. It is cheap:
// no I/O, one pass over the files.
func SizeOf(p *review.PR) Size {
	return Size{
		Commits:   len(p.Commits),
		Files:     len(p.Files),
		Skipped:   len(p.Skipped),
		Additions: p.Additions(),
		Deletions: p.Deletions(),
		DiffBytes: len(p.Diff),
	}
}
