package git

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"
)

// Delta is what changed between the head an earlier round reviewed and the
// new head: the interdiff a later round focuses on.
type Delta struct {
	// Reviewed is the head the earlier round recorded.
	Reviewed string
	// From is where the interdiff starts: Reviewed itself when it is an
	// ancestor of the new head, or the new commit it became when the branch
	// was rebased (matched by patch id).
	From string
	// Rebased is set when From was found by patch id after a rebase or
	// force-push, not by ancestry.
	Rebased bool
	// Diff is the unified diff From..head.
	Diff string
	// Files are the paths the interdiff changes, sorted.
	Files []string
	// Touched maps each changed path to the head's line ranges the interdiff
	// added or changed, in order.
	Touched map[string][]LineRange
}

// LineRange is an inclusive range of line numbers.
type LineRange struct{ Start, End int }

// NoDeltaError is FindDelta's error when the reviewed head cannot be
// matched to the new history; the caller reviews the whole PR, and Reason
// says why in words for the report.
type NoDeltaError struct{ Reason string }

func (e *NoDeltaError) Error() string { return "no delta: " + e.Reason }

func noDelta(format string, args ...any) error {
	return &NoDeltaError{Reason: fmt.Sprintf(format, args...)}
}

// FindDelta finds the interdiff from reviewed (the head an earlier round
// recorded) to head, on a branch whose base is now base. When reviewed is an
// ancestor of head the interdiff starts there. After a rebase or force-push
// it matches the reviewed commits, by stable patch id, to a prefix of the
// new ones, and starts at the last of them. diffArgs are the arguments that
// every diff of the gather uses (prefixes, renames, no drivers). A
// *NoDeltaError says why no delta was found.
func FindDelta(ctx context.Context, repo Repo, reviewed, base, head string, diffArgs []string) (*Delta, error) {
	if reviewed == "" {
		return nil, noDelta("no earlier head is recorded")
	}
	if !repo.HasCommit(ctx, reviewed) {
		return nil, noDelta("the reviewed head %s is not in the repository (garbage collected, or never fetched)", short(reviewed))
	}
	d := &Delta{Reviewed: reviewed}
	if _, err := repo.Run(ctx, "merge-base", "--is-ancestor", reviewed, head); err == nil {
		d.From = reviewed
	} else if ExitCode(err) != 1 {
		return nil, fmt.Errorf("is %s an ancestor of %s: %w", short(reviewed), short(head), err)
	} else {
		from, err := rebasedCounterpart(ctx, repo, reviewed, base, head)
		if err != nil {
			return nil, err
		}
		d.From, d.Rebased = from, true
	}
	args := append(slices.Clone(diffArgs), d.From, head)
	raw, err := repo.Run(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("interdiff %s..%s: %w", short(d.From), short(head), err)
	}
	d.Diff = string(raw)
	zero := append(slices.Clone(diffArgs), "--unified=0", d.From, head)
	raw0, err := repo.Run(ctx, zero...)
	if err != nil {
		return nil, fmt.Errorf("interdiff %s..%s: %w", short(d.From), short(head), err)
	}
	if d.Files, d.Touched, err = touched(raw0); err != nil {
		return nil, fmt.Errorf("interdiff %s..%s: %w", short(d.From), short(head), err)
	}
	return d, nil
}

// rebasedCounterpart is the commit of head's branch that the reviewed head
// became after a rebase: the reviewed branch's commits (since it left base)
// must be, patch id for patch id, the first commits of the new branch.
func rebasedCounterpart(ctx context.Context, repo Repo, reviewed, base, head string) (string, error) {
	oldFork, err := repo.Output(ctx, "merge-base", reviewed, base)
	if err != nil || oldFork == "" {
		return "", noDelta("the reviewed head %s shares no history with the base", short(reviewed))
	}
	newFork, err := repo.Output(ctx, "merge-base", head, base)
	if err != nil || newFork == "" {
		return "", noDelta("the head %s shares no history with the base", short(head))
	}
	old, err := patchIDs(ctx, repo, oldFork, reviewed)
	if err != nil {
		return "", err
	}
	cur, err := patchIDs(ctx, repo, newFork, head)
	if err != nil {
		return "", err
	}
	if len(old) == 0 {
		return "", noDelta("the reviewed head %s has no commits of its own", short(reviewed))
	}
	matched := 0
	for matched < len(old) && matched < len(cur) && old[matched].patch == cur[matched].patch {
		matched++
	}
	if matched < len(old) {
		verb := "have"
		if len(old)-matched == 1 {
			verb = "has"
		}
		return "", noDelta("history was rewritten: %d of the %d reviewed commits %s no matching patch at the new head", len(old)-matched, len(old), verb)
	}
	return cur[matched-1].commit, nil
}

type patchID struct{ patch, commit string }

// patchIDs lists the stable patch id of every non-merge commit in from..to,
// oldest first. Commits whose patch is empty have none and are left out.
func patchIDs(ctx context.Context, repo Repo, from, to string) ([]patchID, error) {
	log, err := repo.Run(ctx, "log", "--reverse", "--no-merges", "--no-color", "--no-ext-diff", "--no-textconv",
		"-p", "--format=commit %H", from+".."+to, "--")
	if err != nil {
		return nil, fmt.Errorf("list commits %s..%s: %w", short(from), short(to), err)
	}
	out, err := repo.RunInput(ctx, log, "patch-id", "--stable")
	if err != nil {
		return nil, fmt.Errorf("patch ids of %s..%s: %w", short(from), short(to), err)
	}
	// patch-id prints in input order: "<patch-id> <commit>".
	var ids []patchID
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 {
			ids = append(ids, patchID{patch: f[0], commit: f[1]})
		}
	}
	return ids, sc.Err()
}

// touched reads a --unified=0 diff: the paths it changes and, for each, the
// head's line ranges it adds.
func touched(diff []byte) ([]string, map[string][]LineRange, error) {
	files, _, err := gitdiff.Parse(bytes.NewReader(diff))
	if err != nil {
		return nil, nil, err
	}
	var paths []string
	ranges := map[string][]LineRange{}
	for _, f := range files {
		name := f.NewName
		if f.IsDelete {
			name = f.OldName
		}
		paths = append(paths, name)
		for _, frag := range f.TextFragments {
			if frag.LinesAdded == 0 {
				continue
			}
			start := int(frag.NewPosition)
			ranges[name] = append(ranges[name], LineRange{Start: start, End: start + int(frag.NewLines) - 1})
		}
	}
	slices.Sort(paths)
	return slices.Compact(paths), ranges, nil
}
