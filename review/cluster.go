package review

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// nearbyLines is how far apart two ranges in one file may be and still be
// about the same code.
const nearbyLines = 3

// similarClaim is the word overlap (Jaccard) above which two titles are
// taken to make the same claim.
const similarClaim = 0.3

// sharedClaim is the share of the shorter claim's words (title and
// explanation) that the longer one must hold for the two to be the same
// claim; a terse reviewer's claim is often a subset of a thorough one's.
const sharedClaim = 0.4

// cluster merges candidates that point at the same file and overlapping or
// nearby lines with a similar claim, or quote the same code. A cluster keeps
// every reviewer, the clearest title and body (from the reviewer with the
// highest severity, then the longest explanation), the majority severity
// (ties go to the more severe) and the dissent.
func cluster(cands []candidate) []Finding {
	var groups [][]candidate
	for _, c := range cands {
		placed := false
		for gi, g := range groups {
			if belongs(c, g) {
				groups[gi] = append(g, c)
				placed = true
				break
			}
		}
		if !placed {
			groups = append(groups, []candidate{c})
		}
	}
	out := make([]Finding, 0, len(groups))
	for _, g := range groups {
		out = append(out, merge(g))
	}
	sortFindings(out)
	return out
}

func belongs(c candidate, g []candidate) bool {
	for _, o := range g {
		if o.File != c.File {
			continue
		}
		if sameQuote(o.Excerpt, c.Excerpt) && o.Citation != CitationUnverified && c.Citation != CitationUnverified {
			return true
		}
		near := c.StartLine <= o.EndLine+nearbyLines && o.StartLine <= c.EndLine+nearbyLines
		if near && (Similarity(o.Title, c.Title) >= similarClaim ||
			overlap(o.Title+" "+o.Explanation, c.Title+" "+c.Explanation) >= sharedClaim) {
			return true
		}
	}
	return false
}

func sameQuote(a, b string) bool {
	a, b = foldSpace(a), foldSpace(b)
	return a != "" && a == b
}

func merge(g []candidate) Finding {
	votes := map[Severity][]string{}
	for _, c := range g {
		votes[c.Severity] = appendUnique(votes[c.Severity], c.reviewer)
	}
	severity := g[0].Severity
	for _, s := range []Severity{Critical, Important, Suggestion} {
		if len(votes[s]) > len(votes[severity]) || (len(votes[s]) == len(votes[severity]) && s.Rank() < severity.Rank()) {
			severity = s
		}
	}
	best := g[0]
	for _, c := range g[1:] {
		if c.Severity.Rank() < best.Severity.Rank() ||
			(c.Severity == best.Severity && citationRank(c.Citation) < citationRank(best.Citation)) ||
			(c.Severity == best.Severity && c.Citation == best.Citation && len(c.Explanation) > len(best.Explanation)) {
			best = c
		}
	}
	f := best.Finding
	f.Severity = severity
	f.Reviewers = nil
	f.Notes = nil
	f.Tags = nil
	for _, c := range g {
		f.Reviewers = appendUnique(f.Reviewers, c.reviewer)
		for _, t := range c.Tags {
			f.Tags = appendUnique(f.Tags, t)
		}
		f.Notes = append(f.Notes, c.Notes...)
		if f.Patch == "" && c.Patch != "" {
			f.Patch, f.PatchChecked = c.Patch, c.PatchChecked
		}
		if f.Fix == "" && c.Fix != "" {
			f.Fix = c.Fix
		}
	}
	if len(votes) > 1 {
		var parts []string
		for _, s := range []Severity{Critical, Important, Suggestion} {
			if len(votes[s]) > 0 {
				parts = append(parts, fmt.Sprintf("%s per %s", s, strings.Join(votes[s], " and ")))
			}
		}
		f.Dissent = strings.Join(parts, ", ")
	}
	f.Fingerprint = Fingerprint(f.File, f.Title)
	return f
}

func citationRank(c string) int {
	switch c {
	case CitationVerified:
		return 0
	case CitationCorrected:
		return 1
	}
	return 2
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// Fingerprint identifies a finding across rounds by its file and its claim,
// not its lines, which move as the code changes.
func Fingerprint(file, title string) string {
	words := claimWords(title)
	sort.Strings(words)
	sum := sha256.Sum256([]byte(file + "\n" + strings.Join(words, " ")))
	return hex.EncodeToString(sum[:8])
}

// Similarity is the Jaccard overlap of the two texts' significant words, from
// 0 (nothing shared) to 1 (the same words).
func Similarity(a, b string) float64 {
	wa, wb := wordSet(a), wordSet(b)
	if len(wa) == 0 || len(wb) == 0 {
		return 0
	}
	shared := 0
	for w := range wa {
		if wb[w] {
			shared++
		}
	}
	return float64(shared) / float64(len(wa)+len(wb)-shared)
}

// overlap is the share of the smaller text's significant words that the
// other holds, from 0 to 1.
func overlap(a, b string) float64 {
	wa, wb := wordSet(a), wordSet(b)
	if len(wa) == 0 || len(wb) == 0 {
		return 0
	}
	if len(wa) > len(wb) {
		wa, wb = wb, wa
	}
	shared := 0
	for w := range wa {
		if wb[w] {
			shared++
		}
	}
	return float64(shared) / float64(len(wa))
}

func wordSet(s string) map[string]bool {
	set := map[string]bool{}
	for _, w := range claimWords(s) {
		set[w] = true
	}
	return set
}

var stopWords = map[string]bool{
	"a": true, "an": true, "the": true, "is": true, "are": true, "be": true, "to": true, "of": true,
	"in": true, "on": true, "and": true, "or": true, "for": true, "it": true, "its": true, "this": true,
	"that": true, "with": true, "when": true, "can": true, "may": true, "not": true, "no": true,
	"at": true, "by": true, "as": true, "from": true, "if": true, "which": true, "so": true,
}

// claimWords lowercases the text, splits it into words and drops stop words
// and crude plurals, so "Missing lock on map" and "map is missing a lock"
// match.
func claimWords(s string) []string {
	fields := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_'
	})
	var out []string
	for _, w := range fields {
		if stopWords[w] || len(w) < 2 {
			continue
		}
		if len(w) > 4 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
			w = strings.TrimSuffix(w, "s")
		}
		out = append(out, w)
	}
	return out
}
