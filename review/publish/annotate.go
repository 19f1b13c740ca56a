package publish

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sethvargo/go-githubactions"

	"github.com/deepreview/deep-review/review"
)

// Annotation limits: GitHub shows 10 of each level per step and cuts a
// message at 4096 characters.
const (
	maxAnnotationsPerLevel = 10
	maxAnnotationChars     = 4096
	maxTitleChars          = 255
)

// annotate writes the top findings as annotations on their file and lines:
// critical as error, important as warning, suggestion as notice, at most 10
// per level in report order, then one notice counting the findings left
// out. Declined findings are not annotated. It returns the number written.
func annotate(a *githubactions.Action, findings []review.Finding) int {
	fs := make([]review.Finding, 0, len(findings))
	for _, f := range findings {
		if f.Status != review.FindingDeclined && f.Severity.Valid() {
			fs = append(fs, f)
		}
	}
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Severity.Rank() < fs[j].Severity.Rank() })

	perLevel := map[review.Severity]int{}
	written, more := 0, 0
	for _, f := range fs {
		if perLevel[f.Severity] == maxAnnotationsPerLevel {
			more++
			continue
		}
		perLevel[f.Severity]++
		written++
		fields := map[string]string{"title": cut(annotationTitle(f), maxTitleChars)}
		if f.File != "" {
			fields["file"] = f.File
			if f.StartLine > 0 {
				fields["line"] = strconv.Itoa(f.StartLine)
				if f.EndLine > f.StartLine {
					fields["endLine"] = strconv.Itoa(f.EndLine)
				}
			}
		}
		msg := cut(annotationMessage(f), maxAnnotationChars)
		out := a.WithFieldsMap(fields)
		switch f.Severity {
		case review.Critical:
			out.Errorf("%s", msg)
		case review.Important:
			out.Warningf("%s", msg)
		default:
			out.Noticef("%s", msg)
		}
	}
	if more > 0 {
		a.Noticef("deep-review: %d more finding(s) are in the report than annotations can show (at most %d per level); see the job summary or the artifact", more, maxAnnotationsPerLevel)
		written++
	}
	return written
}

func annotationTitle(f review.Finding) string {
	t := strings.Join(strings.Fields(f.Title), " ")
	if f.ID != "" {
		t = f.ID + ": " + t
	}
	return t
}

func annotationMessage(f review.Finding) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(f.Explanation))
	if fix := strings.TrimSpace(f.Fix); fix != "" {
		fmt.Fprintf(&b, "\n\nFix: %s", fix)
	}
	if len(f.Reviewers) > 0 {
		fmt.Fprintf(&b, "\n\n[%s]", strings.Join(f.Reviewers, ", "))
	}
	if b.Len() == 0 {
		return annotationTitle(f)
	}
	return b.String()
}

// cut keeps the first n characters of s, marking a cut with an ellipsis.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)
	return string(rs[:n-1]) + "…"
}
