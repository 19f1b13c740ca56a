package lead

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/agent"
)

// ToolSynthesis is the final tool of the synthesis.
const ToolSynthesis = "write_synthesis"

//go:embed prompts/synthesize.md
var synthesisText string

// SynthesisSystemPrompt is the system prompt of the synthesis.
func SynthesisSystemPrompt() string { return strings.TrimSpace(synthesisText) + "\n" }

// SynthesisParams are write_synthesis's arguments.
type SynthesisParams struct {
	Summary  string        `json:"summary"`
	Decision string        `json:"decision"`
	Reason   string        `json:"reason"`
	Retros   []RetroParams `json:"retros"`
	Retro    string        `json:"retro"`
}

// RetroParams is one reviewer's retro paragraph.
type RetroParams struct {
	Reviewer string `json:"reviewer"`
	Text     string `json:"text"`
}

var synthesisFields = map[string]agent.Field{
	"summary": {Description: "The executive summary: what the pull request does, how good the change is, and the issues that need attention by ID (C1, I2...), regression or not."},
	"decision": {Description: "merge: nothing to fix; merge-with-optional-fixes: suggestions only; merge-with-fixes: important issues to fix first; rework: a critical issue or a wrong approach.",
		Enum: []string{string(review.Merge), string(review.MergeWithOptionalFixes), string(review.MergeWithFixes), string(review.Rework)}},
	"reason":            {Description: "The verdict's reason in one line, naming the findings that drive it by ID."},
	"retros":            {Description: "One retro paragraph per reviewer, every reviewer of the report exactly once."},
	"retros[].reviewer": {Description: "The reviewer's name exactly as the report gives it."},
	"retros[].text":     {Description: "The paragraph, grounded in the reviewer's measured numbers and the finding IDs; no invented facts."},
	"retro":             {Description: "A closing paragraph comparing the reviewers."},
}

// Bounds of the synthesis' text.
const (
	maxSummaryBytes = 6000
	maxRetroBytes   = 3000
	// maxReportBytes bounds the report as the synthesis prompt shows it.
	maxReportBytes = 120_000
)

// synthesisTool is write_synthesis, checked against the report: the
// decision must be rework when a critical finding stands, and the retros
// must name every reviewer of the report exactly once.
func synthesisTool(r *review.Report) agent.Tool {
	return agent.NewTool(ToolSynthesis,
		"Write the report's executive summary, verdict and retro. Call it once; this ends the synthesis.",
		synthesisFields,
		func(ctx context.Context, p SynthesisParams) (string, error) {
			if _, err := toSynthesis(r, p); err != nil {
				return "", err
			}
			return "Synthesis recorded.", nil
		})
}

// toSynthesis validates p against the report and returns it with reviewer
// names as the report spells them. Problems come back as one ToolError.
func toSynthesis(r *review.Report, p SynthesisParams) (*review.Synthesis, error) {
	var probs []string
	if len(strings.Fields(p.Summary)) < 5 {
		probs = append(probs, "summary: write the executive summary (what the PR does, its quality, the issues by ID)")
	}
	d := review.Decision(p.Decision)
	if !d.Valid() {
		probs = append(probs, fmt.Sprintf("decision: %q is not one of merge, merge-with-optional-fixes, merge-with-fixes, rework", p.Decision))
	}
	if crit := criticalIDs(r); len(crit) > 0 && d != review.Rework && d != "" {
		probs = append(probs, fmt.Sprintf("decision: %s stands as critical, so the decision is rework", strings.Join(crit, ", ")))
	}
	if strings.TrimSpace(p.Reason) == "" {
		probs = append(probs, "reason: give the verdict's reason in one line")
	}
	names := map[string]string{} // folded name → report name
	for _, s := range r.Reviewers {
		names[strings.ToLower(strings.TrimSpace(s.Name))] = s.Name
	}
	retros := map[string]string{}
	for i, rt := range p.Retros {
		name, ok := names[strings.ToLower(strings.TrimSpace(rt.Reviewer))]
		switch {
		case !ok:
			probs = append(probs, fmt.Sprintf("retros[%d].reviewer: %q is not a reviewer of this report; the reviewers are %s", i, rt.Reviewer, reviewerList(r)))
		case retros[name] != "":
			probs = append(probs, fmt.Sprintf("retros[%d].reviewer: %q has a retro already; write one per reviewer", i, rt.Reviewer))
		case strings.TrimSpace(rt.Text) == "":
			probs = append(probs, fmt.Sprintf("retros[%d].text: write %s's retro", i, name))
		default:
			retros[name] = clip(rt.Text, maxRetroBytes)
		}
	}
	var missing []string
	for _, s := range r.Reviewers {
		if _, ok := retros[s.Name]; !ok && !mentioned(p.Retros, s.Name) {
			missing = append(missing, s.Name)
		}
	}
	if len(missing) > 0 {
		probs = append(probs, fmt.Sprintf("retros: add a retro for %s", strings.Join(missing, ", ")))
	}
	if len(r.Reviewers) > 1 && strings.TrimSpace(p.Retro) == "" {
		probs = append(probs, "retro: write the closing paragraph comparing the reviewers")
	}
	if len(probs) > 0 {
		return nil, agent.Retry("%s: fix these fields and call it again:\n%s", ToolSynthesis, strings.Join(probs, "\n"))
	}
	return &review.Synthesis{
		Summary:  clip(p.Summary, maxSummaryBytes),
		Decision: d,
		Reason:   clip(oneLine(p.Reason), 500),
		Retros:   retros,
		Retro:    clip(p.Retro, maxRetroBytes),
	}, nil
}

// mentioned reports whether some retro names the reviewer, even an invalid
// one, so a retro with empty text is not reported twice.
func mentioned(rs []RetroParams, name string) bool {
	for _, rt := range rs {
		if strings.EqualFold(strings.TrimSpace(rt.Reviewer), name) {
			return true
		}
	}
	return false
}

func reviewerList(r *review.Report) string {
	var names []string
	for _, s := range r.Reviewers {
		names = append(names, fmt.Sprintf("%q", s.Name))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// criticalIDs are the IDs of the critical findings that stand.
func criticalIDs(r *review.Report) []string {
	var ids []string
	for _, f := range r.Findings {
		if f.Severity == review.Critical && f.Status != review.FindingDeclined {
			ids = append(ids, f.ID)
		}
	}
	return ids
}

// Synthesize writes the executive summary, the verdict with its reason, a
// retro paragraph per reviewer and the closing retro, in one short run with
// write_synthesis as its only tool (a few turns, so an invalid call can be
// corrected). It fails when the model never makes a valid call.
func (l *Lead) Synthesize(ctx context.Context, r *review.Report) (*review.Synthesis, error) {
	start := l.cfg.Now()
	defer func() { l.took(l.cfg.Now().Sub(start)) }()
	if l.cfg.Model == nil {
		l.setSynthErr(review.StatusFailed, errNoModel)
		return nil, errNoModel
	}
	if r == nil {
		err := errors.New("synthesize: no report")
		l.setSynthErr(review.StatusFailed, err)
		return nil, err
	}
	res := agent.Loop(ctx, agent.LoopConfig{
		Model:           l.cfg.Model,
		System:          SynthesisSystemPrompt(),
		Prompt:          SynthesisPrompt(r),
		Tools:           []agent.Tool{synthesisTool(r)},
		Final:           ToolSynthesis,
		MaxTurns:        synthesisTurns,
		MaxTokens:       l.cfg.SynthesisMaxTokens,
		Timeout:         l.cfg.SynthesisTimeout,
		MaxOutputTokens: l.cfg.MaxOutputTokens,
		Progress:        l.progress("synthesis"),
		Now:             l.cfg.Now,
	})
	l.record(res.Tokens)
	if res.Final == nil {
		err := res.Err
		if err == nil {
			err = fmt.Errorf("no %s call", ToolSynthesis)
		}
		l.setSynthErr(res.Status, err)
		return nil, err
	}
	var p SynthesisParams
	if err := agent.DecodeArgs(res.Final, &p); err != nil {
		l.setSynthErr(review.StatusFailed, err)
		return nil, fmt.Errorf("the lead's %s arguments: %w", ToolSynthesis, err)
	}
	s, err := toSynthesis(r, p)
	if err != nil { // the tool accepted these arguments, so this is a bug
		l.setSynthErr(review.StatusFailed, err)
		return nil, fmt.Errorf("the lead's %s arguments: %w", ToolSynthesis, err)
	}
	l.mu.Lock()
	l.synthErr, l.synthStatus = "", ""
	l.mu.Unlock()
	return s, nil
}

func (l *Lead) setSynthErr(status string, err error) {
	if status == "" || status == review.StatusOK {
		status = review.StatusFailed
	}
	l.mu.Lock()
	l.synthErr, l.synthStatus = err.Error(), status
	l.mu.Unlock()
}

// SynthesisPrompt is the settled report as the synthesis reads it: the pull
// request, the findings by ID, the rejected ones with the lead's reasons,
// concerns, strengths, testing, the rules' verdict and each reviewer's
// measured numbers. Text from the PR and the models is fenced as untrusted;
// the whole is bounded.
func SynthesisPrompt(r *review.Report) string {
	var b strings.Builder
	pr := &r.PR
	name := pr.Repo
	if pr.Number > 0 {
		name = fmt.Sprintf("%s#%d", pr.Repo, pr.Number)
	}
	fmt.Fprintf(&b, "Write the synthesis of the review of %s, round %d.\n\n## Pull request\n\n", name, r.Round)
	fmt.Fprintf(&b, "- Head: %s, merge base: %s\n", short(pr.HeadSHA), short(pr.MergeBase))
	fmt.Fprintf(&b, "- Size: %d files changed, +%d -%d lines, %d commits\n\n", len(pr.Files), pr.Additions(), pr.Deletions(), len(pr.Commits))
	b.WriteString(fence("metadata", fmt.Sprintf("title: %s\nauthor: %s\nbase branch: %s\nhead branch: %s\n", oneLine(pr.Title), oneLine(pr.Author), oneLine(pr.BaseRef), oneLine(pr.HeadRef))))
	if body := strings.TrimSpace(pr.Body); body != "" {
		b.WriteString("\nDescription:\n")
		b.WriteString(fence("description", clip(body, 3000)))
	}
	if len(pr.Commits) > 0 {
		var c strings.Builder
		for i, cm := range pr.Commits {
			if i == 50 {
				fmt.Fprintf(&c, "… and %d more\n", len(pr.Commits)-50)
				break
			}
			fmt.Fprintf(&c, "%s %s\n", short(cm.SHA), clip(oneLine(cm.Subject), 200))
		}
		b.WriteString("\nCommits, oldest first:\n")
		b.WriteString(fence("commits", c.String()))
	}
	if len(pr.Files) > 0 {
		var c strings.Builder
		for i, f := range pr.Files {
			if i == 60 {
				fmt.Fprintf(&c, "… and %d more\n", len(pr.Files)-60)
				break
			}
			fmt.Fprintf(&c, "%s +%d -%d %s\n", f.Status, f.Additions, f.Deletions, f.Path)
		}
		b.WriteString("\nChanged files:\n")
		b.WriteString(fence("files", c.String()))
	}

	c := r.Counts()
	fmt.Fprintf(&b, "\n## Accepted findings: %d critical, %d important, %d suggestions\n\n", c.Critical, c.Important, c.Suggestion)
	if len(r.Findings) == 0 {
		b.WriteString("None: no finding held up against the code.\n")
	} else {
		var f strings.Builder
		for _, x := range r.Findings {
			writeFinding(&f, x, true)
		}
		b.WriteString(fence("findings", f.String()))
	}
	if len(r.Rejected) > 0 {
		fmt.Fprintf(&b, "\n## Rejected on verification (false positives): %d\n\n", len(r.Rejected))
		var f strings.Builder
		for _, x := range r.Rejected {
			writeFinding(&f, x, false)
			fmt.Fprintf(&f, "   rejected because: %s\n", clip(oneLine(x.Reason), 600))
		}
		b.WriteString(fence("rejected", f.String()))
	}
	if len(r.PreExisting) > 0 {
		fmt.Fprintf(&b, "\n## Pre-existing issues this PR touches (accepted, older than the PR, not counted in the verdict): %d\n\n", len(r.PreExisting))
		var f strings.Builder
		for _, x := range r.PreExisting {
			writeFinding(&f, x, true)
		}
		b.WriteString(fence("pre-existing", f.String()))
	}
	if len(r.Addressed) > 0 {
		fmt.Fprintf(&b, "\n## Addressed since the last round: %d\n\n", len(r.Addressed))
		var f strings.Builder
		for _, x := range r.Addressed {
			fmt.Fprintf(&f, "%s %s (%s)\n", x.ID, clip(oneLine(x.Title), 200), x.File)
		}
		b.WriteString(fence("addressed", f.String()))
	}
	if len(r.Concerns) > 0 {
		b.WriteString("\n## Design concerns\n\n")
		var f strings.Builder
		for _, x := range r.Concerns {
			fmt.Fprintf(&f, "- (%s; %s) %s\n", x.Scope, strings.Join(x.Reviewers, ", "), clip(oneLine(x.Text), 800))
		}
		b.WriteString(fence("concerns", f.String()))
	}
	if len(r.Strengths) > 0 {
		b.WriteString("\n## Strengths\n\n")
		var f strings.Builder
		for _, x := range r.Strengths {
			fmt.Fprintf(&f, "- (%s) %s\n", strings.Join(x.Reviewers, ", "), clip(oneLine(x.Text), 600))
		}
		b.WriteString(fence("strengths", f.String()))
	}
	if t := strings.TrimSpace(r.Testing.Assessment); t != "" || len(r.Testing.Untested) > 0 {
		b.WriteString("\n## Testing\n\n")
		var f strings.Builder
		f.WriteString(clip(oneLine(t), 1500) + "\n")
		for _, u := range r.Testing.Untested {
			fmt.Fprintf(&f, "- untested: %s (risk: %s)\n", clip(oneLine(u.Scenario), 300), clip(oneLine(u.Risk), 300))
		}
		b.WriteString(fence("testing", f.String()))
	}
	if d := strings.TrimSpace(r.Documentation); d != "" {
		b.WriteString("\n## Documentation\n\n")
		b.WriteString(fence("documentation", clip(d, 1500)))
	}
	if d := strings.TrimSpace(r.CommitStructure); d != "" {
		b.WriteString("\n## Commit structure\n\n")
		b.WriteString(fence("commit-structure", clip(d, 1500)))
	}
	if n := len(r.UnresolvedFeedback); n > 0 {
		fmt.Fprintf(&b, "\n%d earlier human review comments are still unaddressed.\n", n)
	}
	if s := strings.TrimSpace(r.Summary); s != "" {
		b.WriteString("\n## The reviewers' own summaries, as the rules put them together\n\n")
		b.WriteString(fence("reviewer-summaries", clip(s, 8000)))
	}
	b.WriteString("\n## The rules' verdict\n\n")
	b.WriteString(fence("rules-verdict", r.Verdict.Decision.Label()+": "+clip(oneLine(r.Verdict.Reason), 600)))

	b.WriteString("\n## Reviewers (numbers measured by deep-review)\n")
	for _, s := range r.Reviewers {
		writeReviewer(&b, r, s)
	}
	b.WriteString("\nCall write_synthesis with the summary, the decision and its reason, one retro per reviewer above, and the closing retro.\n")
	out := b.String()
	if len(out) > maxReportBytes {
		out = clip(out, maxReportBytes) + "\n[the report was cut to fit; the reviewers' numbers above are complete]\n"
	}
	return out
}

// writeFinding is one finding on two or three lines.
func writeFinding(b *strings.Builder, f review.Finding, accepted bool) {
	id := f.ID
	if id == "" {
		id = "-"
	}
	fmt.Fprintf(b, "%s [%s] %s — %s:%d-%d; raised by %s", id, f.Severity, clip(oneLine(f.Title), 300), f.File, f.StartLine, f.EndLine, strings.Join(f.Reviewers, ", "))
	if len(f.Tags) > 0 {
		fmt.Fprintf(b, "; tags: %s", strings.Join(f.Tags, ", "))
	}
	if f.Dissent != "" {
		fmt.Fprintf(b, "; dissent: %s", oneLine(f.Dissent))
	}
	if accepted && f.Status == review.FindingCarried {
		fmt.Fprintf(b, "; carried since round %d", f.FirstRound)
	}
	if accepted && f.Status == review.FindingDeclined {
		b.WriteString("; declined by a maintainer")
	}
	if f.Citation == review.CitationUnverified {
		b.WriteString("; citation unverified")
	}
	fmt.Fprintf(b, "\n   %s\n", clip(oneLine(f.Explanation), 500))
	for _, n := range f.Notes {
		if strings.HasPrefix(n, "lead: ") {
			fmt.Fprintf(b, "   %s\n", clip(oneLine(n), 500))
		}
	}
}

// writeReviewer is one reviewer's measured numbers, under "### name".
func writeReviewer(b *strings.Builder, r *review.Report, s review.ReviewerStats) {
	fmt.Fprintf(b, "\n### %s\n", oneLine(s.Name))
	model := strings.TrimSpace(strings.Join([]string{s.Provider, s.Model}, " "))
	if s.Effort != "" {
		model += ", effort " + s.Effort
	}
	if s.Label != "" {
		model += " (" + s.Label + ")"
	}
	fmt.Fprintf(b, "- model: %s\n", orNone(model))
	fmt.Fprintf(b, "- status: %s", s.Status)
	if s.Error != "" {
		fmt.Fprintf(b, " (%s)", clip(oneLine(neutralise(s.Error)), 300))
	}
	b.WriteString("\n")
	fmt.Fprintf(b, "- duration %s, %d turns, %d tool calls%s\n", (time.Duration(s.DurationMS) * time.Millisecond).Round(time.Second), s.Turns, s.TotalToolCalls(), toolBreakdown(s.ToolCalls))
	fmt.Fprintf(b, "- files reviewed: %d\n", len(s.FilesReviewed))
	fmt.Fprintf(b, "- accepted findings credited: %d critical, %d important, %d suggestions; design observations: %d\n", s.Counts.Critical, s.Counts.Important, s.Counts.Suggestion, s.DesignObservations)
	var unique, fps []string
	for _, f := range r.Findings {
		if f.Status != review.FindingDeclined && len(f.Reviewers) == 1 && f.Reviewers[0] == s.Name {
			unique = append(unique, f.ID)
		}
	}
	for _, f := range r.Rejected {
		for _, n := range f.Reviewers {
			if n == s.Name {
				fps = append(fps, f.ID)
			}
		}
	}
	fmt.Fprintf(b, "- unique insights: %d%s\n", s.UniqueInsights, idList(unique))
	fmt.Fprintf(b, "- coverage misses: %d%s\n", len(s.CoverageMisses), idList(s.CoverageMisses))
	fmt.Fprintf(b, "- false positives: %d%s\n", s.FalsePositives, idList(fps))
	fmt.Fprintf(b, "- tokens: %d", s.Tokens.Total())
	if s.CostUSD > 0 {
		fmt.Fprintf(b, ", cost $%.2f", s.CostUSD)
	}
	b.WriteString("\n")
}

func toolBreakdown(calls map[string]int) string {
	if len(calls) == 0 {
		return ""
	}
	return " (" + review.ToolSummary(calls) + ")"
}

func idList(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return " (" + strings.Join(ids, ", ") + ")"
}
