package review

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// score computes each reviewer's line of the retro from what it did and how
// its findings fared: counts of the accepted findings it is credited with by
// their settled severity, unique insights (accepted findings only it found),
// coverage misses (accepted critical or important findings it did not
// find), false positives (its findings the lead rejected) and the files it
// reviewed. Reviewers keep the order of runs.
func score(r *Report, runs []Run) []ReviewerStats {
	stats := make([]ReviewerStats, 0, len(runs))
	for _, run := range runs {
		s := ReviewerStats{
			Name:           run.Name,
			Provider:       run.Provider,
			Model:          run.Model,
			Effort:         run.Effort,
			Label:          run.Label,
			Focus:          run.Focus,
			Status:         run.Status,
			Error:          run.Error,
			Salvaged:       run.Salvaged,
			DurationMS:     run.Duration.Milliseconds(),
			Turns:          run.Turns,
			ToolCalls:      run.ToolCalls,
			FilesReviewed:  run.FilesReviewed,
			Tokens:         run.Tokens,
			CostUSD:        run.CostUSD,
			CoverageMisses: []string{},
		}
		if s.ToolCalls == nil {
			s.ToolCalls = map[string]int{}
		}
		if s.FilesReviewed == nil {
			s.FilesReviewed = []string{}
		}
		if run.Submission != nil {
			s.DesignObservations = len(run.Submission.Concerns) + len(run.Submission.Strengths)
		}
		for _, f := range r.Findings {
			if f.Status == FindingDeclined {
				continue
			}
			found := contains(f.Reviewers, run.Name)
			switch {
			case found:
				s.Counts.Add(f.Severity)
				if len(f.Reviewers) == 1 {
					s.UniqueInsights++
				}
			case run.Submission != nil && f.Severity.Rank() <= Important.Rank():
				s.CoverageMisses = append(s.CoverageMisses, f.ID)
			}
		}
		for _, f := range r.Rejected {
			if contains(f.Reviewers, run.Name) {
				s.FalsePositives++
			}
		}
		s.Retro = retroFacts(s, r)
		stats = append(stats, s)
	}
	return stats
}

// retroFacts is a retro paragraph made only of what the reviewer did, for
// when no lead writes one.
func retroFacts(s ReviewerStats, r *Report) string {
	var b strings.Builder
	name := s.Name
	if s.Model != "" {
		name += " (" + s.Model + ")"
	}
	switch s.Status {
	case StatusOK:
		fmt.Fprintf(&b, "%s finished in %s after %s and %s", name, Duration(s.DurationMS), plural(s.Turns, "turn"), plural(s.TotalToolCalls(), "tool call"))
	case StatusTimedOut:
		fmt.Fprintf(&b, "%s timed out after %s and %s: %s", name, Duration(s.DurationMS), plural(s.Turns, "turn"), s.Error)
	default:
		fmt.Fprintf(&b, "%s failed after %s and %s: %s", name, Duration(s.DurationMS), plural(s.Turns, "turn"), s.Error)
	}
	if calls := ToolSummary(s.ToolCalls); calls != "" {
		fmt.Fprintf(&b, " (%s)", calls)
	}
	fmt.Fprintf(&b, ", reviewing %s.", plural(len(s.FilesReviewed), "file"))
	if s.Status != StatusOK {
		return b.String()
	}
	var unique, shared []string
	for _, f := range r.Findings {
		if f.Status == FindingDeclined || !contains(f.Reviewers, s.Name) {
			continue
		}
		if len(f.Reviewers) == 1 {
			unique = append(unique, f.ID)
		} else {
			shared = append(shared, f.ID)
		}
	}
	if len(unique) > 0 {
		fmt.Fprintf(&b, " Found %s alone.", strings.Join(unique, ", "))
	}
	if len(shared) > 0 {
		fmt.Fprintf(&b, " Shared %s with other reviewers.", strings.Join(shared, ", "))
	}
	if len(unique)+len(shared) == 0 {
		b.WriteString(" Its findings did not survive consolidation, or it reported none.")
	}
	if len(s.CoverageMisses) > 0 {
		fmt.Fprintf(&b, " Missed %s.", strings.Join(s.CoverageMisses, ", "))
	}
	if s.FalsePositives > 0 {
		fmt.Fprintf(&b, " %s rejected on verification.", plural(s.FalsePositives, "finding"))
	} else if r.Lead != nil {
		b.WriteString(" No false positives.")
	}
	return b.String()
}

// ToolSummary is a reviewer's tool calls as the report and the lead show
// them: "read_file 12, grep 4", most used first, ties by name; empty for
// none. It is the one summary of tool calls.
func ToolSummary(calls map[string]int) string {
	names := make([]string, 0, len(calls))
	for n := range calls {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if calls[names[i]] != calls[names[j]] {
			return calls[names[i]] > calls[names[j]]
		}
		return names[i] < names[j]
	})
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %d", n, calls[n]))
	}
	return strings.Join(parts, ", ")
}

// Duration formats milliseconds as the report shows them: "10 min 4 s",
// "46 s", "1.2 s".
func Duration(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	switch {
	case d >= time.Minute:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	case d >= 10*time.Second:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	default:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func itoa(n int) string { return strconv.Itoa(n) }
