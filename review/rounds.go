package review

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// applyRounds sets each finding's status, first round and ID against the
// previous round's state, and lists the earlier findings the head no longer
// has as addressed. A finding matches an earlier one by fingerprint, or by a
// similar title in the same file (lines move between rounds); the earlier
// ones include those addressed in recent rounds (State.Gone), so a finding
// that comes back keeps its ID, first round and decline. IDs carry over
// when the severity letter still fits; new findings number on from the
// highest ID used before, so an ID never changes meaning within a PR.
//
// An earlier finding that is not found again is addressed only when one of
// the reviewers who found it looked again: when every one of its finders
// that ran this round failed (or, with unknown finders, every reviewer
// failed), it stays open as carried, with the reviewers who found it and a
// note, rebuilt from the state (its severity from the ID's letter).
//
// When the earlier findings were re-checked at the head (PR.Earlier), one
// whose code is unchanged is carried without any model asked again; one
// whose code changed is addressed, unless the lead, asked in settled,
// found that it still holds.
func applyRounds(r *Report, findings []Finding, prev *State, runs []Run, settled map[string]Judgement) {
	rechecked := earlierByFingerprint(r.PR.Earlier)
	matched := map[string]bool{}
	declined := map[string]bool{}
	if prev != nil {
		for _, fp := range prev.Declined {
			declined[fp] = true
		}
	}
	taken := map[string]bool{}
	next := map[string]int{}
	if prev != nil {
		for _, id := range prev.IDs {
			taken[id] = true
			bumpNext(next, id)
		}
	}
	// A preset ID (previewIDs) is kept when its letter fits the severity
	// and no earlier round used it for another finding.
	preset := map[string]bool{}
	for i := range findings {
		f := &findings[i]
		if f.ID != "" && f.ID[:1] == f.Severity.IDPrefix() && !taken[f.ID] && !preset[f.ID] {
			preset[f.ID] = true
			continue
		}
		f.ID = ""
	}
	for i := range findings {
		f := &findings[i]
		f.Status, f.FirstRound = FindingNew, r.Round
		old := previousMatch(*f, prev, matched, rechecked)
		if old == "" {
			continue
		}
		matched[old] = true
		f.Fingerprint = old
		f.Status = FindingCarried
		if fr := prev.FirstRounds[old]; fr > 0 {
			f.FirstRound = fr
		}
		if declined[old] {
			f.Status = FindingDeclined
		}
		if id := prev.IDs[old]; id != "" && id[:1] == f.Severity.IDPrefix() {
			if f.ID != "" {
				delete(preset, f.ID)
			}
			f.ID = id
		}
	}
	for i := range findings {
		f := &findings[i]
		if f.ID != "" {
			continue
		}
		p := f.Severity.IDPrefix()
		for {
			next[p]++
			if preset[p+strconv.Itoa(next[p])] {
				continue
			}
			id := p + strconv.Itoa(next[p])
			if !taken[id] {
				f.ID, taken[id] = id, true
				break
			}
		}
	}
	r.Findings = findings
	if prev == nil {
		return
	}
	status := map[string]string{}
	for _, run := range runs {
		status[run.Name] = run.Status
	}
	var gone []string
	addressedBy := map[string]string{}
	kept := false
	for _, fp := range prev.Fingerprints {
		if matched[fp] {
			continue
		}
		finders, failed := unchecked(prev, fp, runs, status)
		if e, ok := rechecked[fp]; ok {
			j, asked := settled[fp]
			switch {
			case e.Unchanged:
				f := e.finding(fmt.Sprintf("carried: its code is unchanged at %s; no model was asked again", short(r.PR.HeadSHA)))
				f.Reviewers = finders
				r.Findings = append(r.Findings, f)
				matched[fp], kept = true, true
				continue
			case asked && j.Accept:
				note := fmt.Sprintf("carried: its code changed, and the lead found it still holds at %s", short(r.PR.HeadSHA))
				if j.Reason != "" {
					note += ": " + j.Reason
				}
				f := e.finding(note)
				f.Reviewers = finders
				r.Findings = append(r.Findings, f)
				matched[fp], kept = true, true
				continue
			case asked:
				addressedBy[fp] = "the lead confirmed it is fixed"
				if j.Reason != "" {
					addressedBy[fp] += ": " + j.Reason
				}
				gone = append(gone, fp)
				continue
			case len(failed) == 0 || e.Reason != "":
				addressedBy[fp] = e.Reason
				gone = append(gone, fp)
				continue
			}
		}
		if len(failed) == 0 {
			gone = append(gone, fp)
			continue
		}
		matched[fp] = true
		kept = true
		f := Finding{
			ID:          prev.IDs[fp],
			Severity:    severityOfID(prev.IDs[fp]),
			Title:       prev.Titles[fp],
			File:        prev.Files[fp],
			Reviewers:   finders,
			Status:      FindingCarried,
			FirstRound:  prev.FirstRounds[fp],
			Fingerprint: fp,
			Notes:       []string{fmt.Sprintf("not checked again at %s in round %d: %s did not finish", short(r.PR.HeadSHA), r.Round, strings.Join(failed, ", "))},
		}
		if f.Title == "" {
			f.Title = "Finding " + f.ID + " of an earlier round"
		}
		if f.FirstRound == 0 {
			f.FirstRound = prev.Round
		}
		if declined[fp] {
			f.Status = FindingDeclined
		}
		r.Findings = append(r.Findings, f)
	}
	if kept {
		sortFindings(r.Findings)
	}
	sort.Strings(gone)
	for _, fp := range gone {
		r.Addressed = append(r.Addressed, Finding{
			ID:          prev.IDs[fp],
			Title:       prev.Titles[fp],
			File:        prev.Files[fp],
			Fingerprint: fp,
			FirstRound:  prev.FirstRounds[fp],
			Status:      "addressed",
			Notes:       []string{addressedNote(addressedBy[fp], r)},
		})
	}
}

// unchecked returns the finders of the earlier finding fp and, when none of
// those that ran this round ended ok, the ones that failed; failed is empty
// when the finding was looked for again. Unknown finders (a marker from
// before they were recorded) are every reviewer of this round.
func unchecked(prev *State, fp string, runs []Run, status map[string]string) (finders, failed []string) {
	if mask, ok := prev.FoundBy[fp]; ok {
		for i, name := range prev.Reviewers {
			if i < 64 && mask&(1<<uint(i)) != 0 {
				finders = append(finders, name)
			}
		}
	}
	if len(finders) == 0 {
		for _, run := range runs {
			finders = append(finders, run.Name)
		}
	}
	for _, name := range finders {
		st, ran := status[name]
		switch {
		case !ran:
		case st == StatusOK:
			return finders, nil
		default:
			failed = append(failed, name)
		}
	}
	return finders, failed
}

// severityOfID is the severity an ID's letter stands for (C1 critical, I1
// important, anything else a suggestion).
func severityOfID(id string) Severity {
	switch {
	case strings.HasPrefix(id, Critical.IDPrefix()):
		return Critical
	case strings.HasPrefix(id, Important.IDPrefix()):
		return Important
	}
	return Suggestion
}

// previousMatch is the earlier finding f is: the same fingerprint, or a
// similar title in the same file (lines move between rounds). An earlier
// finding re-checked at this head (rechecked) is matched by title only
// where it is now: near its code when that is unchanged, never when its
// code changed or is gone, so a new finding about the fix is not taken
// for the finding it fixed.
func previousMatch(f Finding, prev *State, matched map[string]bool, rechecked map[string]Earlier) string {
	if prev == nil {
		return ""
	}
	earlier := append(append([]string(nil), prev.Fingerprints...), prev.Gone...)
	for _, fp := range earlier {
		if fp == f.Fingerprint && !matched[fp] {
			return fp
		}
	}
	best, bestScore := "", similarClaim
	for _, fp := range earlier {
		if matched[fp] || prev.Files[fp] != f.File {
			continue
		}
		if e, ok := rechecked[fp]; ok && (!e.Unchanged || !near(e, f)) {
			continue
		}
		if s := Similarity(prev.Titles[fp], f.Title); s > bestScore {
			best, bestScore = fp, s
		}
	}
	return best
}

// near reports whether f's lines are within a few lines of where e's code
// is now.
func near(e Earlier, f Finding) bool {
	const slack = 3
	return f.StartLine <= e.EndLine+slack && e.StartLine <= f.EndLine+slack
}

func bumpNext(next map[string]int, id string) {
	if len(id) < 2 {
		return
	}
	n, err := strconv.Atoi(id[1:])
	if err == nil && n > next[id[:1]] {
		next[id[:1]] = n
	}
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// addressedNote says why an earlier finding counts as addressed.
func addressedNote(why string, r *Report) string {
	if why == "" {
		return fmt.Sprintf("not found at %s in round %d", short(r.PR.HeadSHA), r.Round)
	}
	return fmt.Sprintf("%s (at %s, round %d)", why, short(r.PR.HeadSHA), r.Round)
}
