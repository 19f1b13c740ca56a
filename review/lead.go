package review

import (
	"context"
	"fmt"
	"strings"
)

// applyLead asks the lead to judge every finding. Accepted findings take the
// lead's severity (the reviewers' own grades stay in the dissent); rejected
// ones move to rejected with the lead's reason; pre-existing ones stay
// findings, with the lead's severity, their evidence and the lead's reason,
// in a list of their own that does not count toward the verdict, since the
// pull request did not cause them. When the lead fails as a whole, every
// finding stands and each says so.
func applyLead(ctx context.Context, in Input, findings []Finding) (kept, rejected, preExisting []Finding) {
	judgements, err := in.Lead.Verify(ctx, in.PR, findings)
	if err != nil || len(judgements) != len(findings) {
		if err == nil {
			err = fmt.Errorf("%d judgements for %d findings", len(judgements), len(findings))
		}
		for i := range findings {
			findings[i].Notes = append(findings[i].Notes, "not verified by the lead: "+err.Error())
		}
		return findings, nil, nil
	}
	for i, f := range findings {
		j := judgements[i]
		switch {
		case j.Err != nil:
			f.Notes = append(f.Notes, "not verified by the lead: "+j.Err.Error())
			kept = append(kept, f)
		case !j.Accept:
			f.Reason = strings.TrimSpace(j.Reason)
			rejected = append(rejected, f)
		default:
			if j.Severity.Valid() && j.Severity != f.Severity {
				f.Notes = append(f.Notes, fmt.Sprintf("the lead settled the severity at %s (reviewers: %s)", j.Severity, f.Severity))
				if f.Dissent == "" {
					f.Dissent = fmt.Sprintf("%s per %s", f.Severity, strings.Join(f.Reviewers, " and "))
				}
				f.Severity = j.Severity
			}
			tag := "regression"
			if j.PreExisting {
				tag = "pre-existing"
				f.Tags = without(f.Tags, "regression")
			}
			if !contains(f.Tags, tag) {
				f.Tags = append([]string{tag}, f.Tags...)
			}
			if r := strings.TrimSpace(j.Reason); r != "" {
				f.Notes = append(f.Notes, "lead: "+r)
			}
			if j.PreExisting {
				preExisting = append(preExisting, f)
				continue
			}
			kept = append(kept, f)
		}
	}
	sortFindings(kept)
	sortFindings(preExisting)
	return kept, rejected, preExisting
}

func without(tags []string, tag string) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if t != tag {
			out = append(out, t)
		}
	}
	return out
}

// previewIDs gives findings the IDs applyRounds will give them, so the lead
// sees and names them by consolidated ID (C1, I2) rather than by position.
// applyRounds keeps a preset ID whose letter still fits the severity, so an
// ID changes only when the lead regrades the finding.
func previewIDs(r *Report, findings []Finding, prev *State, runs []Run) {
	// An exact-capacity copy: applyRounds' appends and sort then work on a
	// new array, and scratch[i] stays findings[i].
	scratch := make([]Finding, len(findings))
	copy(scratch, findings)
	sr := &Report{PR: r.PR, Round: r.Round}
	applyRounds(sr, scratch, prev, runs, nil)
	for i := range findings {
		findings[i].ID = scratch[i].ID
	}
}

// applySynthesis lets the lead write the summary, verdict and retro. The
// lead may not wave through a critical finding the rules would rework: its
// verdict is taken only when it is at least as strict as the rules' for
// critical findings. A failed synthesis leaves the rules' text and says so.
func applySynthesis(ctx context.Context, lead Lead, r *Report) {
	s, err := lead.Synthesize(ctx, r)
	if err != nil || s == nil {
		if err == nil {
			err = fmt.Errorf("no synthesis")
		}
		r.Verdict.Reason += fmt.Sprintf(" (The lead's synthesis failed, so the rules decided: %v.)", err)
		return
	}
	if strings.TrimSpace(s.Summary) != "" {
		r.Summary = strings.TrimSpace(s.Summary)
	}
	rules := r.Verdict
	if s.Decision.Valid() && !(rules.Decision == Rework && s.Decision != Rework) {
		r.Verdict = Verdict{Decision: s.Decision, Reason: strings.TrimSpace(s.Reason), DecidedBy: DecidedByLead}
		if r.Verdict.Reason == "" {
			r.Verdict.Reason = rules.Reason
		}
	}
	for i := range r.Reviewers {
		if text := strings.TrimSpace(s.Retros[r.Reviewers[i].Name]); text != "" {
			r.Reviewers[i].Retro = text
		}
	}
	r.Retro = strings.TrimSpace(s.Retro)
}
