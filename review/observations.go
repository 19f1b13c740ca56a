package review

import (
	"sort"
	"strings"
)

// similarObservation is the word overlap above which two reviewers' concerns
// or strengths are taken to say the same thing.
const similarObservation = 0.45

// sameScenario is the share of the shorter scenario's words the longer one
// must hold for two untested scenarios to be one ("Link without expiry"
// inside "A link stored without an expiry is still served").
const sameScenario = 0.6

// mergeObservations merges the reviewers' design concerns, strengths,
// testing, documentation, commit-structure notes and unresolved feedback,
// keeping who said what. Prose sections take the most thorough reviewer's
// text and name the reviewer.
func mergeObservations(r *Report, runs []Run) {
	var testing, docs, commits []Attributed
	seenFeedback := map[string]bool{}
	for _, run := range runs {
		s := run.Submission
		if s == nil {
			continue
		}
		for _, c := range s.Concerns {
			r.Concerns = addConcern(r.Concerns, Concern{Text: clip(strings.TrimSpace(c.Text), maxProseRunes), Scope: c.Scope, Reviewers: []string{run.Name}})
		}
		for _, text := range s.Strengths {
			r.Strengths = addStrength(r.Strengths, Strength{Text: clip(strings.TrimSpace(text), maxProseRunes), Reviewers: []string{run.Name}})
		}
		for _, u := range s.Testing.Untested {
			r.Testing.Untested = addUntested(r.Testing.Untested, u)
		}
		testing = append(testing, Attributed{Text: clip(strings.TrimSpace(s.Testing.Assessment), maxProseRunes), Reviewers: []string{run.Name}})
		docs = append(docs, Attributed{Text: clip(strings.TrimSpace(s.Documentation), maxProseRunes), Reviewers: []string{run.Name}})
		commits = append(commits, Attributed{Text: clip(strings.TrimSpace(s.CommitStructure), maxProseRunes), Reviewers: []string{run.Name}})
		for _, fb := range s.UnresolvedFeedback {
			key := fb.URL
			if key == "" {
				key = fb.Author + "\n" + fb.Summary
			}
			if !seenFeedback[key] {
				seenFeedback[key] = true
				r.UnresolvedFeedback = append(r.UnresolvedFeedback, fb)
			}
		}
	}
	sort.SliceStable(r.Testing.Untested, func(i, j int) bool {
		return RiskRank(r.Testing.Untested[i].Risk) < RiskRank(r.Testing.Untested[j].Risk)
	})
	r.Testing.Assessment = thorough(testing)
	r.Documentation = thorough(docs)
	r.CommitStructure = thorough(commits)
}

func addConcern(list []Concern, c Concern) []Concern {
	if c.Text == "" {
		return list
	}
	for i := range list {
		if Similarity(list[i].Text, c.Text) >= similarObservation {
			list[i].Reviewers = appendUnique(list[i].Reviewers, c.Reviewers[0])
			if len(c.Text) > len(list[i].Text) {
				list[i].Text = c.Text
			}
			return list
		}
	}
	if c.Scope != ScopeFuture {
		c.Scope = ScopeInScope
	}
	return append(list, c)
}

func addStrength(list []Strength, s Strength) []Strength {
	if s.Text == "" {
		return list
	}
	for i := range list {
		if Similarity(list[i].Text, s.Text) >= similarObservation {
			list[i].Reviewers = appendUnique(list[i].Reviewers, s.Reviewers[0])
			if len(s.Text) > len(list[i].Text) {
				list[i].Text = s.Text
			}
			return list
		}
	}
	return append(list, s)
}

func addUntested(list []Untested, u Untested) []Untested {
	if strings.TrimSpace(u.Scenario) == "" {
		return list
	}
	for i := range list {
		if Similarity(list[i].Scenario, u.Scenario) >= similarObservation || overlap(list[i].Scenario, u.Scenario) >= sameScenario {
			if RiskRank(u.Risk) < RiskRank(list[i].Risk) {
				list[i].Risk = u.Risk
			}
			return list
		}
	}
	return append(list, u)
}

// RiskRank orders untested scenarios by their risk: critical, high, an
// unstated or unknown risk, medium (or moderate), then low. Lower ranks
// come first; it is the one ordering the report and its renderings use.
func RiskRank(risk string) int {
	r := strings.ToLower(strings.TrimSpace(risk))
	switch {
	case strings.HasPrefix(r, "critical"):
		return 0
	case strings.HasPrefix(r, "high"):
		return 1
	case strings.HasPrefix(r, "medium"), strings.HasPrefix(r, "moderate"):
		return 3
	case strings.HasPrefix(r, "low"):
		return 4
	}
	return 2
}

// thorough picks the longest text and names who wrote it, and who agreed
// by writing something too.
func thorough(texts []Attributed) string {
	best := -1
	for i, t := range texts {
		if t.Text != "" && (best < 0 || len(t.Text) > len(texts[best].Text)) {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return texts[best].Text + " (" + texts[best].Reviewers[0] + ")"
}

// mergeLimitations lists what the code admits: the reviewers' limitations
// and the gatherer's candidates from added lines, one per file and line.
func mergeLimitations(r *Report, candidates []Limitation, runs []Run) {
	seen := map[string]bool{}
	add := func(l Limitation) {
		l.File = cleanPath(l.File)
		l.Quote = strings.TrimSpace(l.Quote)
		key := l.File + ":" + itoa(l.Line)
		if l.File == "" || l.Quote == "" || seen[key] {
			return
		}
		seen[key] = true
		r.Limitations = append(r.Limitations, l)
	}
	for _, run := range runs {
		if run.Submission != nil {
			for _, l := range run.Submission.Limitations {
				add(l)
			}
		}
	}
	for _, l := range candidates {
		add(l)
	}
	sort.SliceStable(r.Limitations, func(i, j int) bool {
		a, b := r.Limitations[i], r.Limitations[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
}
