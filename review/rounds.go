package review

import (
	"fmt"
	"sort"
	"strconv"
)

// applyRounds sets each finding's status, first round and ID against the
// previous round's state, and lists the earlier findings the head no longer
// has as addressed. A finding matches an earlier one by fingerprint, or by a
// similar title in the same file (lines move between rounds). IDs carry over
// when the severity letter still fits; new findings number on from the
// highest ID used before, so an ID never changes meaning within a PR.
func applyRounds(r *Report, findings []Finding, prev *State) {
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
	for i := range findings {
		f := &findings[i]
		f.Status, f.FirstRound = FindingNew, r.Round
		old := previousMatch(*f, prev, matched)
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
	var gone []string
	for _, fp := range prev.Fingerprints {
		if !matched[fp] {
			gone = append(gone, fp)
		}
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
			Notes:       []string{fmt.Sprintf("not found at %s in round %d", short(r.PR.HeadSHA), r.Round)},
		})
	}
}

func previousMatch(f Finding, prev *State, matched map[string]bool) string {
	if prev == nil {
		return ""
	}
	for _, fp := range prev.Fingerprints {
		if fp == f.Fingerprint && !matched[fp] {
			return fp
		}
	}
	best, bestScore := "", similarClaim
	for _, fp := range prev.Fingerprints {
		if matched[fp] || prev.Files[fp] != f.File {
			continue
		}
		if s := Similarity(prev.Titles[fp], f.Title); s > bestScore {
			best, bestScore = fp, s
		}
	}
	return best
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
