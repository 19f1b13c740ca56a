// Package render turns a review.Report into the formats deep-review
// publishes: the job summary (Markdown), the sticky comment, report.json,
// report.html and report.sarif. Every function is pure: the same report and
// options give the same bytes, with no network, clock or map order involved.
// Every string that came from a model or from the pull request is sanitised
// (see Sanitize) before it is rendered, in every format.
package render

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/deepreview/deep-review/review"
)

// Options are what rendering needs beyond the report.
type Options struct {
	// Secrets are values that must never be published (API keys, tokens);
	// every occurrence is replaced by "[redacted]".
	Secrets []string
	// RepoURL is the repository's web address (https://github.com/o/r);
	// links into it are kept and file locations link to it. Empty means no
	// link is kept.
	RepoURL string
	// MaxBytes caps the output size; 0 means the format's default
	// (SummaryLimit for Markdown, CommentLimit for Comment).
	MaxBytes int
}

// The default size limits.
const (
	// SummaryLimit is below GitHub's 1 MiB job summary limit (a larger
	// summary is dropped whole).
	SummaryLimit = 1_000_000
	// CommentLimit is below GitHub's 65,536 character comment limit.
	CommentLimit = 65_000
)

// artifactLink names where the full report is.
func artifactLink(r *review.Report) string {
	if linkable(r.Links.Artifact) {
		return "[the workflow artifact](" + r.Links.Artifact + ")"
	}
	return "the workflow artifact"
}

// linkable reports whether u, a URL the caller gave, can be a Markdown or
// HTML link as it is: http(s), nothing that would end the link early.
func linkable(u string) bool {
	l := strings.ToLower(u)
	return (strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://")) && !strings.ContainsAny(u, " \t\n<>()[]\"'`\\")
}

// wallClock renders a duration as "23 min 53 s".
func wallClock(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	s := int64(d.Round(time.Second) / time.Second)
	h, m, sec := s/3600, s/60%60, s%60
	switch {
	case h > 0:
		return fmt.Sprintf("%d h %d min %d s", h, m, sec)
	case m > 0:
		return fmt.Sprintf("%d min %d s", m, sec)
	}
	return fmt.Sprintf("%d s", sec)
}

// clock renders a duration as m:ss ("10:04").
func clock(ms int64) string {
	s := (ms + 500) / 1000
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// thousands renders n with comma separators.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func dollars(c float64) string { return fmt.Sprintf("$%.2f", c) }

func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// lineRange renders "10-20", "10" or "".
func lineRange(start, end int) string {
	switch {
	case start <= 0:
		return ""
	case end <= start:
		return strconv.Itoa(start)
	}
	return fmt.Sprintf("%d-%d", start, end)
}

// location renders "path:10-20".
func location(file string, start, end int) string {
	if lr := lineRange(start, end); lr != "" {
		return file + ":" + lr
	}
	return file
}

// blobURL links to file at the reviewed head, or is empty when the
// repository URL or the head is unknown.
func blobURL(o Options, head, file string, start, end int) string {
	repo := strings.TrimSuffix(o.RepoURL, "/")
	if repo == "" || head == "" || file == "" {
		return ""
	}
	parts := strings.Split(file, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	u := repo + "/blob/" + url.PathEscape(head) + "/" + strings.Join(parts, "/")
	if start > 0 {
		u += "#L" + strconv.Itoa(start)
		if end > start {
			u += "-L" + strconv.Itoa(end)
		}
	}
	return u
}

// language is the fence language for a file, from its name.
func language(m *lexerMatcher, file string) string {
	if file == "" {
		return ""
	}
	l := m.match(file)
	if l == nil {
		return ""
	}
	cfg := l.Config()
	if len(cfg.Aliases) > 0 {
		return cfg.Aliases[0]
	}
	return strings.ToLower(strings.ReplaceAll(cfg.Name, " ", ""))
}

// reviewers indexes the report's reviewers by name.
type reviewers map[string]review.ReviewerStats

func indexReviewers(r *review.Report) reviewers {
	m := reviewers{}
	for _, s := range r.Reviewers {
		m[s.Name] = s
	}
	return m
}

// display is a reviewer's name with its label, "Claude (scripted replay)",
// so replayed words are never mistaken for a live model's.
func (rv reviewers) display(name string) string {
	if s, ok := rv[name]; ok && s.Label != "" {
		return name + " (" + s.Label + ")"
	}
	return name
}

// modelOf is "provider:model@effort".
func modelOf(s review.ReviewerStats) string {
	m := s.Model
	if s.Provider != "" {
		m = s.Provider + ":" + m
	}
	if s.Effort != "" {
		m += "@" + s.Effort
	}
	return m
}

// decidedBy says who took the verdict.
func decidedBy(v review.Verdict, lead *review.LeadStats) string {
	switch v.DecidedBy {
	case review.DecidedByLead:
		return "decided by the lead"
	case review.DecidedByRules:
		if lead != nil {
			return "decided by the rules: the lead did not settle it"
		}
		return "decided by the rules, no lead"
	case "":
		return ""
	}
	return "decided by " + v.DecidedBy
}

// severityTitle names the section of a severity.
func severityTitle(s review.Severity) string {
	switch s {
	case review.Critical:
		return "Critical issues"
	case review.Important:
		return "Important issues"
	}
	return "Suggestions"
}

var severities = []review.Severity{review.Critical, review.Important, review.Suggestion}

// open is the report's accepted findings of severity s that nobody declined,
// in ID order as the report lists them.
func open(r *review.Report, s review.Severity) []review.Finding {
	var out []review.Finding
	for _, f := range r.Findings {
		if f.Severity == s && f.Status != review.FindingDeclined {
			out = append(out, f)
		}
	}
	return out
}

// rankedUntested is the untested scenarios ranked by risk, stable.
func rankedUntested(t review.Testing) []review.Untested {
	u := append([]review.Untested(nil), t.Untested...)
	sort.SliceStable(u, func(i, j int) bool { return review.RiskRank(u[i].Risk) < review.RiskRank(u[j].Risk) })
	return u
}

// withStatus is the report's findings with one status, in report order.
func withStatus(r *review.Report, status string) []review.Finding {
	var out []review.Finding
	for _, f := range r.Findings {
		if f.Status == status {
			out = append(out, f)
		}
	}
	return out
}
