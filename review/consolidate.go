package review

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// FileReader reads a file of the repository at the head of the pull request.
// Paths are relative to the repository root; a missing file is an error.
type FileReader interface {
	ReadFile(path string) ([]byte, error)
}

// Lead verifies findings and writes the report's synthesis. It is optional:
// without one, or when it fails, the rules decide.
type Lead interface {
	// Verify judges every finding, in the order given; implementations may
	// work on them in parallel.
	Verify(ctx context.Context, pr *PR, findings []Finding) ([]Judgement, error)
	// Synthesize writes the executive summary, the verdict and the retro
	// paragraphs for a report whose findings are settled.
	Synthesize(ctx context.Context, r *Report) (*Synthesis, error)
	// Stats is what the lead cost so far.
	Stats() LeadStats
}

// Judgement is the lead's decision on one finding.
type Judgement struct {
	Accept bool
	Reason string
	// Severity settles the severity; empty keeps the finding's.
	Severity Severity
	// PreExisting is true when blame shows the code predates the pull
	// request; such findings become design observations.
	PreExisting bool
	// Err is set when the lead could not judge this finding; the finding is
	// then kept as it was, with a note.
	Err error
}

// Synthesis is the lead's prose for the report.
type Synthesis struct {
	Summary  string
	Decision Decision
	Reason   string
	// Retros maps a reviewer's name to its retro paragraph.
	Retros map[string]string
	// Retro is the closing paragraph of the retro.
	Retro string
}

// Input is everything consolidation needs.
type Input struct {
	PR   *PR
	Runs []Run
	// Head reads files at the head; excerpts come from it, never from a model.
	Head FileReader
	// CheckPatch reports whether a patch applies at the head; nil skips the
	// check and keeps every patch.
	CheckPatch func(ctx context.Context, patch string) error
	// Lead verifies and writes the synthesis; nil means the rules decide.
	Lead Lead
	// Budget, when set, is the run's cost cap (CapUSD). When the runs'
	// cost and LeadCostUSD's estimate for the findings to verify would pass
	// it, the lead is skipped, the rules decide, and the report says so.
	Budget *Budget
	// LeadCostUSD estimates what the lead would cost to verify n findings
	// and write the synthesis.
	LeadCostUSD func(n int) float64
	GeneratedAt time.Time
	Started     time.Time
	// Now, when set, is read once the lead is done and replaces
	// GeneratedAt, so the wall-clock time covers the lead's work too.
	Now func() time.Time
}

// maxExcerptLines bounds an excerpt; the rest is elided.
const maxExcerptLines = 40

// Bounds on what a model may put in the report: prose this long is no
// longer read by anyone, and renderers of Markdown slow down sharply on it.
const (
	maxTitleRunes = 300
	maxProseRunes = 8000
	maxPatchBytes = 64 << 10
)

// clip shortens s to n runes, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + " …[cut]"
}

// cachedReader reads each file of the head once per consolidation.
type cachedReader struct {
	r     FileReader
	files map[string]cachedFile
}

type cachedFile struct {
	data []byte
	err  error
}

func (c *cachedReader) ReadFile(path string) ([]byte, error) {
	if f, ok := c.files[path]; ok {
		return f.data, f.err
	}
	data, err := c.r.ReadFile(path)
	c.files[path] = cachedFile{data, err}
	return data, err
}

// candidate is one reviewer's finding after its citation was checked.
type candidate struct {
	Finding
	reviewer string
}

// Consolidate turns the reviewers' runs into one report: citations checked
// against the head, patches checked, duplicates merged with attribution, the
// lead's verification applied when there is a lead, IDs assigned in severity
// order (stable across rounds), the verdict decided and every reviewer
// scored. Runs without a submission count as failed reviewers; their names
// stay in the report.
func Consolidate(ctx context.Context, in Input) *Report {
	r := &Report{
		Schema:      SchemaVersion,
		PR:          *in.PR,
		Round:       1,
		GeneratedAt: in.GeneratedAt.UTC(),
		Skipped:     in.PR.Skipped,
	}
	if in.PR.Previous != nil {
		r.Round = in.PR.Previous.Round + 1
	}

	in.Head = &cachedReader{r: in.Head, files: map[string]cachedFile{}}
	var cands []candidate
	for _, run := range in.Runs {
		if run.Submission == nil {
			continue
		}
		for _, sf := range run.Submission.Findings {
			cands = append(cands, checkCitation(ctx, in, run.Name, sf))
		}
	}
	findings := cluster(cands)

	candidates := addressedCandidates(in.PR, findings)
	if in.Budget != nil {
		b := *in.Budget
		r.Budget = &b
		if in.Lead != nil && b.CapUSD > 0 && in.LeadCostUSD != nil {
			spent := 0.0
			for _, run := range in.Runs {
				spent += run.CostUSD
			}
			n := len(findings) + len(candidates)
			if need := in.LeadCostUSD(n); spent+need > b.CapUSD {
				what := fmt.Sprintf("%d findings", n)
				if n == 1 {
					what = "1 finding"
				}
				r.Budget.LeadSkipped = fmt.Sprintf("$%.2f of the $%.2f cap was left, and verifying %s would take about $%.2f", max(0, b.CapUSD-spent), b.CapUSD, what, need)
				in.Lead = nil
			}
		}
	}
	var settled map[string]Judgement
	r.PreExisting = []Finding{}
	if in.Lead != nil {
		previewIDs(r, findings, in.PR.Previous, in.Runs)
		var rejected []Finding
		findings, rejected, r.PreExisting, settled = verifyWithCandidates(ctx, in, findings, candidates)
		r.Rejected = rejected
		if r.PreExisting == nil {
			r.PreExisting = []Finding{}
		}
	}
	applyRounds(r, findings, in.PR.Previous, in.Runs, settled)
	markPreExistingInPR(r.Findings, in.PR.Delta)
	r.Scope = ScopeOf(in.PR)
	for i := range r.Rejected {
		r.Rejected[i].ID = fmt.Sprintf("R%d", i+1)
	}
	for i := range r.PreExisting {
		r.PreExisting[i].ID = fmt.Sprintf("P%d", i+1)
		r.PreExisting[i].Status = FindingNew
	}
	mergeObservations(r, in.Runs)
	mergeLimitations(r, in.PR.Limitations, in.Runs)
	r.Reviewers = score(r, in.Runs)

	r.Verdict = RulesVerdict(r.Findings)
	r.Summary = rulesSummary(r, in.Runs)
	if r.Budget != nil && r.Budget.LeadSkipped != "" {
		r.Verdict.Reason += " (The lead was skipped to stay within max-cost-usd: " + r.Budget.LeadSkipped + "; the rules decided.)"
	}
	if in.Lead != nil {
		applySynthesis(ctx, in.Lead, r)
		stats := in.Lead.Stats()
		r.Lead = &stats
	}
	if in.Now != nil {
		r.GeneratedAt = in.Now().UTC()
	}
	if !in.Started.IsZero() {
		r.WallClockMS = r.GeneratedAt.Sub(in.Started).Milliseconds()
	}
	return r
}

// checkCitation fills the excerpt from the head and sets the citation state:
// verified when the cited lines hold the quote, corrected when the quote was
// found elsewhere in the file, unverified when the file or the quote is not
// there. A patch that does not apply is dropped with a note.
func checkCitation(ctx context.Context, in Input, reviewer string, sf SubmittedFinding) candidate {
	f := Finding{
		Severity:    sf.Severity,
		Tags:        normaliseTags(sf.Tags),
		Title:       clip(strings.TrimSpace(sf.Title), maxTitleRunes),
		File:        cleanPath(sf.File),
		StartLine:   sf.StartLine,
		EndLine:     sf.EndLine,
		Explanation: clip(strings.TrimSpace(sf.Explanation), maxProseRunes),
		Fix:         clip(strings.TrimSpace(sf.Fix), maxProseRunes),
		Patch:       sf.Patch,
		Reviewers:   []string{reviewer},
		Status:      FindingNew,
	}
	if f.EndLine < f.StartLine {
		f.EndLine = f.StartLine
	}
	if len(f.Patch) > maxPatchBytes {
		f.Notes = append(f.Notes, fmt.Sprintf("%s's patch was dropped: %d bytes is more than a fix for one finding", reviewer, len(f.Patch)))
		f.Patch = ""
	}
	data, err := in.Head.ReadFile(f.File)
	if err != nil {
		f.Citation = CitationUnverified
		f.Notes = append(f.Notes, fmt.Sprintf("%s does not exist at the head", f.File))
	} else {
		lines := splitLines(string(data))
		f.StartLine, f.EndLine, f.Citation = locate(lines, f.StartLine, f.EndLine, sf.Quote)
		switch f.Citation {
		case CitationCorrected:
			f.Notes = append(f.Notes, fmt.Sprintf("%s cited lines %d-%d; the quoted code is at %d-%d", reviewer, sf.StartLine, sf.EndLine, f.StartLine, f.EndLine))
		case CitationUnverified:
			f.Notes = append(f.Notes, fmt.Sprintf("the code %s quoted is not in %s at the head", reviewer, f.File))
		}
		f.Excerpt = excerpt(lines, f.StartLine, f.EndLine)
	}
	if f.Patch != "" && in.CheckPatch != nil {
		if err := in.CheckPatch(ctx, f.Patch); err != nil {
			f.Notes = append(f.Notes, fmt.Sprintf("%s's patch was dropped: it does not apply at the head (%v)", reviewer, err))
			f.Patch = ""
		} else {
			f.PatchChecked = true
		}
	}
	return candidate{Finding: f, reviewer: reviewer}
}

// locate checks the cited range against the quote. Line numbers are 1-based
// and inclusive; the range is clamped to the file.
func locate(lines []string, start, end int, quote string) (int, int, string) {
	n := len(lines)
	clamp := func(v int) int { return max(1, min(v, max(n, 1))) }
	start, end = clamp(start), clamp(end)
	q := quoteLines(quote)
	if len(q) == 0 {
		return start, end, CitationVerified
	}
	// The quote inside the cited range (with a little slack for
	// off-by-a-few line numbers) verifies it.
	if at := findLines(lines, q, max(1, start-2), min(n, end+2)); at > 0 {
		if at >= start && at+len(q)-1 <= end {
			return start, end, CitationVerified
		}
		return at, at + len(q) - 1, CitationCorrected
	}
	if at := findLines(lines, q, 1, n); at > 0 {
		return at, at + len(q) - 1, CitationCorrected
	}
	return start, end, CitationUnverified
}

// quoteLines is the quote's non-blank lines with white space folded.
func quoteLines(quote string) []string {
	var out []string
	for _, l := range strings.Split(quote, "\n") {
		if l = foldSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// findLines returns the 1-based line in [from, to] where the quote's lines
// start, comparing with white space folded and skipping blank file lines
// inside the match; 0 when absent.
func findLines(lines, q []string, from, to int) int {
	for i := from; i <= to; i++ {
		j, k := i, 0
		for k < len(q) && j <= len(lines) {
			l := foldSpace(lines[j-1])
			switch {
			case l == "" && k > 0:
			case l == q[k] || (len(q) == 1 && strings.Contains(l, q[k])):
				k++
			default:
				k = -1
			}
			if k < 0 {
				break
			}
			j++
		}
		if k == len(q) {
			return i
		}
	}
	return 0
}

func foldSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// excerpt is lines start..end of the file, verbatim, bounded.
func excerpt(lines []string, start, end int) string {
	if len(lines) == 0 || start < 1 || start > len(lines) {
		return ""
	}
	end = min(end, len(lines))
	if end-start+1 > maxExcerptLines {
		return strings.Join(lines[start-1:start-1+maxExcerptLines], "\n") + "\n…"
	}
	return strings.Join(lines[start-1:end], "\n")
}

func cleanPath(p string) string {
	p = strings.TrimSpace(p)
	p = strings.TrimPrefix(p, "./")
	return strings.TrimPrefix(p, "/")
}

func normaliseTags(tags []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// RulesVerdict decides by the design's rules: any critical finding means
// Rework, any important one Merge with fixes, suggestions alone Merge with
// optional fixes, none Merge as-is. Declined findings do not count.
func RulesVerdict(findings []Finding) Verdict {
	var worst []Finding
	rank := 3
	for _, f := range findings {
		if f.Status == FindingDeclined {
			continue
		}
		switch r := f.Severity.Rank(); {
		case r < rank:
			rank, worst = r, []Finding{f}
		case r == rank:
			worst = append(worst, f)
		}
	}
	v := Verdict{DecidedBy: DecidedByRules}
	switch rank {
	case 0:
		v.Decision = Rework
	case 1:
		v.Decision = MergeWithFixes
	case 2:
		v.Decision = MergeWithOptionalFixes
	default:
		v.Decision = Merge
		v.Reason = "No reviewer found an issue that holds up against the code."
		return v
	}
	var ids []string
	for _, f := range worst {
		ids = append(ids, f.ID+" "+f.Title)
	}
	noun := map[int]string{0: "critical issue", 1: "important issue", 2: "suggestion"}[rank]
	v.Reason = fmt.Sprintf("%s: %s", plural(len(worst), noun), strings.Join(ids, "; "))
	return v
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// rulesSummary states what the reviewers found without a lead to write
// prose: the counts, the top findings and each reviewer's own summary,
// attributed.
func rulesSummary(r *Report, runs []Run) string {
	var b strings.Builder
	ok := 0
	for _, run := range runs {
		if run.Submission != nil {
			ok++
		}
	}
	c := r.Counts()
	fmt.Fprintf(&b, "%d of %d reviewers submitted a review of %s (%d files, +%d/-%d). Consolidated: %s, %s, %s",
		ok, len(runs), plural(len(r.PR.Commits), "commit"), len(r.PR.Files), r.PR.Additions(), r.PR.Deletions(),
		plural(c.Critical, "critical issue"), plural(c.Important, "important issue"), plural(c.Suggestion, "suggestion"))
	if n := len(r.Rejected); n > 0 {
		fmt.Fprintf(&b, "; %d rejected on verification", n)
	}
	b.WriteString(".")
	for _, run := range runs {
		if run.Submission != nil && strings.TrimSpace(run.Submission.Summary) != "" {
			fmt.Fprintf(&b, "\n\n%s: %s", run.Name, strings.TrimSpace(run.Submission.Summary))
		}
	}
	return b.String()
}

// sortFindings orders findings by severity, then by how many reviewers
// found them, then by place.
func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() < b.Severity.Rank()
		}
		if len(a.Reviewers) != len(b.Reviewers) {
			return len(a.Reviewers) > len(b.Reviewers)
		}
		if a.File != b.File {
			return a.File < b.File
		}
		return a.StartLine < b.StartLine
	})
}
