package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"reflect"
	"strings"

	"github.com/deepreview/deep-review/review"
)

// submitFields documents submit_review's schema.
var submitFields = map[string]Field{
	"summary": {Description: "Two to five sentences: what the PR does and the most important problems, for a reader who has not seen it."},
	"verdict": {Description: "merge: nothing to fix; merge-with-optional-fixes: suggestions only; merge-with-fixes: important issues to fix first; rework: critical issues or a wrong approach.",
		Enum: []string{string(review.Merge), string(review.MergeWithOptionalFixes), string(review.MergeWithFixes), string(review.Rework)}},
	"findings": {Description: "Every problem worth acting on, most severe first. Empty when there is none."},
	"findings[].severity": {Description: "critical: data loss, a security hole, a crash on a common path; important: a real bug or regression; suggestion: the rest worth doing.",
		Enum: []string{string(review.Critical), string(review.Important), string(review.Suggestion)}},
	"findings[].tags":        {Description: "Kinds, e.g. regression (introduced by this PR, per git_blame), pre-existing, gap, security, enhancement, performance, docs."},
	"findings[].title":       {Description: "The problem stated as a claim, e.g. \"Timeout path kills a recycled PID\"."},
	"findings[].file":        {Description: "Path relative to the repository root."},
	"findings[].start_line":  {Description: "First line of the cited code at the head (1-based)."},
	"findings[].end_line":    {Description: "Last line of the cited code (inclusive, >= start_line)."},
	"findings[].quote":       {Description: "The cited lines copied verbatim from the file at the head."},
	"findings[].explanation": {Description: "What goes wrong, when, and for whom; whether it is a regression or pre-existing and how you know."},
	"findings[].fix":         {Description: "The fix in prose."},
	"findings[].patch":       {Description: "The fix as a unified diff (--- a/path, +++ b/path, @@ hunks) that applies with git apply from the repository root, or an empty string."},
	"concerns":               {Description: "Design concerns, beyond single-line bugs."},
	"concerns[].scope":       {Description: "in-scope: this PR should address it; future: worth a later change.", Enum: []string{review.ScopeFuture, review.ScopeInScope}},
	"strengths":              {Description: "What the PR does well, specifically."},
	"testing":                {Description: "How well the tests cover the change."},
	"testing.untested":       {Description: "Scenarios no test covers, riskiest first."},
	"documentation":          {Description: "Whether docs and comments match the change; stale or missing docs."},
	"commit_structure":       {Description: "Whether the commits are coherent, self-contained steps."},
	"limitations":            {Description: "Limitations the changed code admits in its own comments (TODO, FIXME, \"not tested\", \"known issue\"), with file and line."},
	"unresolved_feedback":    {Description: "Earlier human review comments the head still does not address."},
	"files_reviewed":         {Description: "Every file you examined."},
}

// SubmitTool is the final tool, submit_review: its arguments are a
// review.Submission, checked by ParseSubmission; an invalid one comes back to
// the model as an error result naming each bad field.
func SubmitTool() Tool {
	schema, err := SchemaFor(reflect.TypeOf(review.Submission{}), submitFields)
	if err != nil {
		panic(fmt.Sprintf("submit_review schema: %v", err))
	}
	return Tool{
		Name:        ToolSubmit,
		Description: "Submit your review. Call it once, at the end, with everything you found; this ends the review.",
		Schema:      schema,
		run: func(ctx context.Context, raw json.RawMessage) (string, error) {
			s, err := ParseSubmission(raw)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("Review submitted: %d findings, verdict %s.", len(s.Findings), s.Verdict), nil
		},
	}
}

// ParseSubmission decodes and validates submit_review's arguments and
// returns them normalised (paths cleaned, text trimmed, nil lists empty).
// An invalid submission is a *ToolError listing every problem, one per line,
// each starting with the field's path, e.g.
// `findings[2].severity: "high" is not one of critical, important, suggestion`.
func ParseSubmission(raw json.RawMessage) (*review.Submission, error) {
	var s review.Submission
	if err := DecodeArgs(raw, &s); err != nil {
		return nil, Retry("submit_review: %v", err)
	}
	var v validator
	s.Summary = strings.TrimSpace(s.Summary)
	v.nonEmpty("summary", s.Summary)
	switch s.Verdict {
	case review.Merge, review.MergeWithOptionalFixes, review.MergeWithFixes, review.Rework:
	default:
		v.add("verdict", "%q is not one of %s, %s, %s, %s", s.Verdict, review.Merge, review.MergeWithOptionalFixes, review.MergeWithFixes, review.Rework)
	}
	for i := range s.Findings {
		f := &s.Findings[i]
		p := fmt.Sprintf("findings[%d]", i)
		if !f.Severity.Valid() {
			v.add(p+".severity", "%q is not one of critical, important, suggestion", f.Severity)
		}
		f.Title = strings.TrimSpace(f.Title)
		v.nonEmpty(p+".title", f.Title)
		f.File = v.path(p+".file", f.File)
		if f.StartLine < 1 {
			v.add(p+".start_line", "%d is not a line number; lines start at 1", f.StartLine)
		}
		if f.EndLine < f.StartLine {
			v.add(p+".end_line", "%d is before start_line %d", f.EndLine, f.StartLine)
		}
		f.Explanation = strings.TrimSpace(f.Explanation)
		v.nonEmpty(p+".explanation", f.Explanation)
		f.Fix = strings.TrimSpace(f.Fix)
		v.nonEmpty(p+".fix", f.Fix)
		if strings.TrimSpace(f.Patch) == "" {
			f.Patch = ""
		} else if !looksLikePatch(f.Patch) {
			v.add(p+".patch", "not a unified diff (it needs ---/+++ file lines and an @@ hunk); send a diff that applies with git apply from the repository root, or an empty string")
		}
		tags := f.Tags[:0]
		for _, t := range f.Tags {
			if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
				tags = append(tags, t)
			}
		}
		f.Tags = tags
	}
	for i := range s.Concerns {
		c := &s.Concerns[i]
		p := fmt.Sprintf("concerns[%d]", i)
		c.Text = strings.TrimSpace(c.Text)
		v.nonEmpty(p+".text", c.Text)
		if c.Scope != review.ScopeFuture && c.Scope != review.ScopeInScope {
			v.add(p+".scope", "%q is not one of future, in-scope", c.Scope)
		}
	}
	for i := range s.Strengths {
		s.Strengths[i] = strings.TrimSpace(s.Strengths[i])
		v.nonEmpty(fmt.Sprintf("strengths[%d]", i), s.Strengths[i])
	}
	for i := range s.Testing.Untested {
		u := &s.Testing.Untested[i]
		u.Scenario = strings.TrimSpace(u.Scenario)
		v.nonEmpty(fmt.Sprintf("testing.untested[%d].scenario", i), u.Scenario)
	}
	for i := range s.Limitations {
		l := &s.Limitations[i]
		p := fmt.Sprintf("limitations[%d]", i)
		l.File = v.path(p+".file", l.File)
		if l.Line < 1 {
			v.add(p+".line", "%d is not a line number; lines start at 1", l.Line)
		}
		l.Quote = strings.TrimSpace(l.Quote)
		v.nonEmpty(p+".quote", l.Quote)
	}
	for i := range s.UnresolvedFeedback {
		u := &s.UnresolvedFeedback[i]
		u.Summary = strings.TrimSpace(u.Summary)
		v.nonEmpty(fmt.Sprintf("unresolved_feedback[%d].summary", i), u.Summary)
	}
	files := s.FilesReviewed[:0]
	for i, f := range s.FilesReviewed {
		if c := v.path(fmt.Sprintf("files_reviewed[%d]", i), f); c != "" {
			files = append(files, c)
		}
	}
	s.FilesReviewed = files
	if err := v.err(); err != nil {
		return nil, err
	}
	normaliseLists(&s)
	return &s, nil
}

// normaliseLists makes nil lists empty so report.json holds [] not null.
func normaliseLists(s *review.Submission) {
	if s.Findings == nil {
		s.Findings = []review.SubmittedFinding{}
	}
	for i := range s.Findings {
		if s.Findings[i].Tags == nil {
			s.Findings[i].Tags = []string{}
		}
	}
	if s.Concerns == nil {
		s.Concerns = []review.SubmittedConcern{}
	}
	if s.Strengths == nil {
		s.Strengths = []string{}
	}
	if s.Testing.Untested == nil {
		s.Testing.Untested = []review.Untested{}
	}
	if s.Limitations == nil {
		s.Limitations = []review.Limitation{}
	}
	if s.UnresolvedFeedback == nil {
		s.UnresolvedFeedback = []review.Feedback{}
	}
	if s.FilesReviewed == nil {
		s.FilesReviewed = []string{}
	}
}

func looksLikePatch(p string) bool {
	hasOld, hasNew, hasHunk := false, false, false
	for _, line := range strings.Split(p, "\n") {
		switch {
		case strings.HasPrefix(line, "--- "):
			hasOld = true
		case strings.HasPrefix(line, "+++ "):
			hasNew = true
		case strings.HasPrefix(line, "@@"):
			hasHunk = true
		}
	}
	return hasOld && hasNew && hasHunk
}

// maxProblems bounds the problems one invalid submission reports.
const maxProblems = 20

type validator struct {
	problems []string
	more     int
}

func (v *validator) add(field, format string, args ...any) {
	if len(v.problems) == maxProblems {
		v.more++
		return
	}
	v.problems = append(v.problems, field+": "+fmt.Sprintf(format, args...))
}

func (v *validator) nonEmpty(field, s string) {
	if strings.TrimSpace(s) == "" {
		v.add(field, "is empty")
	}
}

// path checks a repository path and returns it cleaned, or "" when invalid.
func (v *validator) path(field, p string) string {
	p = strings.TrimSpace(p)
	if p == "" {
		v.add(field, "is empty; give a path relative to the repository root")
		return ""
	}
	c, err := cleanPath(p)
	if err != nil {
		v.add(field, "%s", strings.TrimPrefix(err.Error(), "path "))
		return ""
	}
	return path.Clean(c)
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	msg := "submit_review: the submission is invalid; fix these fields and call submit_review again:\n" + strings.Join(v.problems, "\n")
	if v.more > 0 {
		msg += fmt.Sprintf("\n(and %d more problems)", v.more)
	}
	return Retry("%s", msg)
}
