package agent

import (
	"fmt"
	"strings"

	"github.com/deepreview/deep-review/review"
)

// deltaLead is what a later round's first message leads with when the delta
// since the last reviewed head is known: that interdiff, per file, and the
// pull request's files it leaves unchanged. The whole PR stays one diff
// tool call away. Empty for a first round or a full review.
func deltaLead(pr *review.PR, budget int) string {
	d := pr.Delta
	if d == nil {
		if pr.Previous != nil && pr.DeltaReason != "" {
			return fmt.Sprintf("\n## This round reviews the whole pull request\n\nThe last round reviewed %s; this round reviews everything again because %s.\n",
				short(pr.Previous.HeadSHA), pr.DeltaReason)
		}
		return ""
	}
	var b strings.Builder
	how := "the head it reviewed is an ancestor of this head"
	if d.Rebased {
		how = fmt.Sprintf("the branch was rebased; its reviewed commits match, patch for patch, the new commits up to %s", short(d.From))
	}
	fmt.Fprintf(&b, "\n## What changed since the last round\n\nThe last round reviewed %s (%s). Spend your effort on this interdiff, %s..%s: what the latest push changed. Keep the whole pull request in view: its full diff is one `diff` call away (no path for all of it, or one path), and every tool reads the whole head. Report what the interdiff breaks, and anything else you find on the way.\n\n",
		short(d.Reviewed), how, short(d.From), short(pr.HeadSHA))
	if len(d.Files) == 0 {
		b.WriteString("The interdiff changes no file of the pull request.\n")
	} else {
		b.WriteString(promptDiff(d.Diff, budget))
	}
	if len(d.Unchanged) > 0 {
		b.WriteString("\nThe pull request's files the interdiff leaves unchanged (reviewed last round):\n\n")
		u := section{max: 10_000, what: "unchanged files"}
		for _, f := range d.Unchanged {
			u.add(f + "\n")
		}
		b.WriteString(Fence("unchanged-files", u.String()))
	}
	return b.String()
}

// earlierFindings lists the last round's findings as re-checked at this
// head: those still open, so the reviewer does not report them again, and
// those whose code changed, so it may say whether each is fixed.
func earlierFindings(pr *review.PR) string {
	prev := pr.Previous
	if prev == nil || len(pr.Earlier) == 0 {
		return ""
	}
	var open, changed section
	open = section{max: 8_000, what: "open findings"}
	changed = section{max: 8_000, what: "changed findings"}
	for _, e := range pr.Earlier {
		line := fmt.Sprintf("%s %s (%s:%d-%d)", e.ID, capBytes(oneLine(e.Title), 300), e.File, e.StartLine, e.EndLine)
		switch {
		case e.Declined:
			open.add(line + " — declined by a maintainer\n")
		case e.Unchanged:
			open.add(line + "\n")
		default:
			changed.add(line + ": " + e.Reason + "\n")
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n## Findings of earlier rounds\n\nRound %d's findings were looked up at this head before you started.", prev.Round)
	if s := open.String(); s != "" {
		b.WriteString(" These still stand, their code unchanged: they are carried into this round's report as they are, so do not report them again (a finding you would add to one of them, or evidence that one is wrong, goes in your summary).\n\n")
		b.WriteString(Fence("open-findings", s))
	} else {
		b.WriteString("\n")
	}
	if s := changed.String(); s != "" {
		b.WriteString("\nThe code of these changed since. Check whether each still holds at the head: report it again if it does (with its current lines); say in your summary which are fixed.\n\n")
		b.WriteString(Fence("changed-findings", s))
	}
	return b.String()
}
