package review

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Span is where a finding's code was when it was reported, with a digest of
// that code, so a later round can look it up at a new head without asking a
// model: Lines non-blank lines whose white-space-folded text hashes to Sum.
type Span struct {
	Start int    `json:"s"`
	End   int    `json:"e"`
	Lines int    `json:"n"`
	Sum   string `json:"h"`
}

// SpanOf is the span of a finding whose excerpt was read from the head; it
// reports false for a finding with no excerpt.
func SpanOf(f Finding) (Span, bool) {
	q := quoteLines(strings.TrimSuffix(f.Excerpt, "\n…"))
	if len(q) == 0 {
		return Span{}, false
	}
	return Span{Start: f.StartLine, End: f.EndLine, Lines: len(q), Sum: digest(q)}, true
}

func digest(lines []string) string {
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:6])
}

// Relocate finds the span's code in a file's text: the line range that now
// holds it, nearest to where it was, and false when the code is gone or
// changed.
func (s Span) Relocate(text string) (start, end int, ok bool) {
	lines := splitLines(text)
	// folded are the non-blank lines, white space folded; at[i] is the
	// 1-based line folded[i] came from.
	var folded []string
	var at []int
	for i, l := range lines {
		if f := foldSpace(l); f != "" {
			folded = append(folded, f)
			at = append(at, i+1)
		}
	}
	best, bestDist := -1, 0
	for i := 0; i+s.Lines <= len(folded); i++ {
		if digest(folded[i:i+s.Lines]) != s.Sum {
			continue
		}
		d := at[i] - s.Start
		if d < 0 {
			d = -d
		}
		if best < 0 || d < bestDist {
			best, bestDist = i, d
		}
	}
	if best < 0 || s.Lines == 0 {
		return 0, 0, false
	}
	start, end = at[best], at[best+s.Lines-1]
	if s.End-s.Start+1 > maxExcerptLines {
		// The excerpt, and so the digest, held only the first lines.
		end = start + s.End - s.Start
	}
	return start, end, true
}

// Delta is what changed between the head the last round reviewed and this
// head: the interdiff a later round focuses on.
type Delta struct {
	// Reviewed is the head the last round recorded; From is where the
	// interdiff starts (Reviewed, or the commit it became after a rebase,
	// then Rebased is set).
	Reviewed string
	From     string
	Rebased  bool
	// Diff is the unified interdiff From..head; Files the paths it changes.
	Diff  string
	Files []string
	// Touched maps each changed path to the head's line ranges the
	// interdiff added or changed.
	Touched map[string][]LineRange
	// Unchanged are the PR's files the interdiff does not change.
	Unchanged []string
}

// LineRange is an inclusive range of line numbers.
type LineRange struct{ Start, End int }

// Touches reports whether the delta added or changed any of file's lines
// start..end.
func (d *Delta) Touches(file string, start, end int) bool {
	for _, lr := range d.Touched[file] {
		if lr.Start <= end && start <= lr.End {
			return true
		}
	}
	return false
}

// Scope is what a round reviewed: the delta since the last round or the
// whole pull request, with the reason in words for the report.
type Scope struct {
	// Mode is ScopeDelta or ScopeFull.
	Mode string `json:"mode"`
	// From is where the delta starts; Rebased says it was matched by
	// patch id after a rebase or force-push.
	From    string   `json:"from,omitempty"`
	Rebased bool     `json:"rebased,omitempty"`
	Files   []string `json:"files,omitempty"`
	Reason  string   `json:"reason,omitempty"`
}

// The scopes of a round.
const (
	ScopeDelta = "delta"
	ScopeFull  = "full"
)

// ScopeOf is the scope of a review of p: nil for a first round.
func ScopeOf(p *PR) *Scope {
	switch {
	case p.Delta != nil:
		return &Scope{Mode: ScopeDelta, From: p.Delta.From, Rebased: p.Delta.Rebased, Files: p.Delta.Files}
	case p.Previous != nil:
		return &Scope{Mode: ScopeFull, Reason: p.DeltaReason}
	}
	return nil
}

// Earlier is one open finding of the last round, looked up at this head
// before the reviewers run, without a model.
type Earlier struct {
	Fingerprint string
	ID          string
	Severity    Severity
	Title       string
	File        string
	Brief       string
	FirstRound  int
	Declined    bool
	// StartLine, EndLine and Excerpt are where its code is now (when
	// Unchanged) or was (otherwise).
	StartLine int
	EndLine   int
	Excerpt   string
	// Unchanged is set when its code is still at the head as it was: the
	// finding is carried without asking a model. Otherwise Reason says
	// what changed, and the finding is a candidate for addressed.
	Unchanged bool
	Reason    string
}

// Recheck looks up each open finding of the last round at the head: its
// file, and its code by the digest the state kept, wherever in the file it
// moved. Findings the state holds no span for (markers from before spans)
// are left out: the rounds then decide as before, by whether a reviewer
// reports them again.
func Recheck(prev *State, head FileReader) []Earlier {
	if prev == nil {
		return nil
	}
	declined := map[string]bool{}
	for _, fp := range prev.Declined {
		declined[fp] = true
	}
	var out []Earlier
	for _, fp := range prev.Fingerprints {
		span, ok := prev.Spans[fp]
		if !ok {
			continue
		}
		e := Earlier{
			Fingerprint: fp, ID: prev.IDs[fp], Severity: severityOfID(prev.IDs[fp]),
			Title: prev.Titles[fp], File: prev.Files[fp], Brief: prev.Briefs[fp],
			FirstRound: prev.FirstRounds[fp], Declined: declined[fp],
			StartLine: span.Start, EndLine: span.End,
		}
		data, err := head.ReadFile(e.File)
		switch {
		case err != nil:
			e.Reason = fmt.Sprintf("%s is not in the head", e.File)
		default:
			lines := splitLines(string(data))
			if start, end, found := span.Relocate(string(data)); found {
				e.StartLine, e.EndLine, e.Unchanged = start, end, true
			} else {
				e.Reason = fmt.Sprintf("the code it is about changed in %s", e.File)
			}
			e.Excerpt = excerpt(lines, e.StartLine, e.EndLine)
		}
		out = append(out, e)
	}
	return out
}

// finding is the earlier finding as this round's report shows it when no
// reviewer reported it again.
func (e Earlier) finding(note string) Finding {
	f := Finding{
		ID: e.ID, Severity: e.Severity, Title: e.Title, File: e.File,
		StartLine: e.StartLine, EndLine: e.EndLine, Excerpt: e.Excerpt,
		Explanation: e.Brief, FirstRound: e.FirstRound, Fingerprint: e.Fingerprint,
		Status: FindingCarried, Notes: []string{note},
	}
	if e.Unchanged {
		f.Citation = CitationVerified
	}
	if e.Declined {
		f.Status = FindingDeclined
	}
	if f.Title == "" {
		f.Title = "Finding " + f.ID + " of an earlier round"
	}
	return f
}

// addressedCandidates are the earlier findings whose code changed and that
// no reviewer reported again: each may be fixed, and a lead, when one runs,
// confirms it.
func addressedCandidates(p *PR, findings []Finding) []Earlier {
	if p.Previous == nil || len(p.Earlier) == 0 {
		return nil
	}
	matched := map[string]bool{}
	rechecked := earlierByFingerprint(p.Earlier)
	for _, f := range findings {
		if fp := previousMatch(f, p.Previous, matched, rechecked); fp != "" {
			matched[fp] = true
		}
	}
	var out []Earlier
	for _, e := range p.Earlier {
		if !e.Unchanged && !e.Declined && !matched[e.Fingerprint] {
			out = append(out, e)
		}
	}
	return out
}

// verifyWithCandidates has the lead verify this round's findings and, in
// the same parallel run, each addressed candidate (does it still hold at
// the head?). It returns the kept, rejected and pre-existing findings, and
// the lead's judgement of each candidate by fingerprint: one it keeps, or
// finds older than the pull request, still holds.
func verifyWithCandidates(ctx context.Context, in Input, findings []Finding, candidates []Earlier) (kept, rejected, pre []Finding, settled map[string]Judgement) {
	if len(candidates) == 0 {
		kept, rejected, pre = applyLead(ctx, in, findings)
		return kept, rejected, pre, nil
	}
	all := append([]Finding(nil), findings...)
	isCandidate := map[string]bool{}
	for _, e := range candidates {
		f := e.finding(fmt.Sprintf("reported in round %d; its code changed since, so it may be fixed: check whether it still holds at the head", e.FirstRound))
		f.Reviewers = nil
		all = append(all, f)
		isCandidate[e.Fingerprint] = true
	}
	k, rej, p := applyLead(ctx, in, all)
	settled = map[string]Judgement{}
	holds := func(fs []Finding) []Finding {
		var out []Finding
		for _, f := range fs {
			if isCandidate[f.Fingerprint] {
				settled[f.Fingerprint] = Judgement{Accept: true, Reason: leadNote(f.Notes)}
				continue
			}
			out = append(out, f)
		}
		return out
	}
	kept, pre = holds(k), holds(p)
	for _, f := range rej {
		if isCandidate[f.Fingerprint] {
			settled[f.Fingerprint] = Judgement{Accept: false, Reason: f.Reason}
			continue
		}
		rejected = append(rejected, f)
	}
	return kept, rejected, pre, settled
}

// leadNote is the lead's remark among a finding's notes.
func leadNote(notes []string) string {
	for _, n := range notes {
		if r, ok := strings.CutPrefix(n, "lead: "); ok {
			return r
		}
	}
	return ""
}

// markPreExistingInPR marks the new findings of a delta round that lie on
// lines the delta did not touch.
func markPreExistingInPR(findings []Finding, d *Delta) {
	if d == nil {
		return
	}
	for i := range findings {
		f := &findings[i]
		if f.Status == FindingNew && !d.Touches(f.File, f.StartLine, f.EndLine) {
			f.PreExistingInPR = true
		}
	}
}

// earlierByFingerprint indexes re-checked earlier findings.
func earlierByFingerprint(es []Earlier) map[string]Earlier {
	m := make(map[string]Earlier, len(es))
	for _, e := range es {
		m[e.Fingerprint] = e
	}
	return m
}
