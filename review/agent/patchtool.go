package agent

import (
	"context"
	"fmt"
	"strings"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/git"
)

// ToolCheckPatch names the check_patch tool.
const ToolCheckPatch = "check_patch"

// maxCheckPatchBytes bounds a patch check_patch takes, as consolidation
// bounds a finding's patch.
const maxCheckPatchBytes = 64 << 10

// CheckPatchParams are check_patch's arguments.
type CheckPatchParams struct {
	Patch string `json:"patch"`
}

// CheckPatchTool is check_patch: git apply --check of a unified diff
// against the PR head in a scratch index (git.Repo.CheckPatch), so neither
// the checkout nor its index is touched. It answers that the patch applies
// or with git's error, for the model to fix the patch before submit_review;
// consolidation checks every submitted patch the same way. It is safe for
// concurrent use.
func CheckPatchTool(pr *review.PR) Tool {
	repo := git.Repo{Dir: pr.Dir}
	return NewTool(ToolCheckPatch,
		"Check that a unified diff applies with git apply at the PR head, without changing anything. Answers \"applies\" or git's error. Check each finding's patch before submit_review.",
		map[string]Field{
			"patch": {Description: "The unified diff, exactly as you will submit it: --- a/path and +++ b/path lines, then @@ -l,n +l,n @@ hunks."},
		},
		func(ctx context.Context, p CheckPatchParams) (string, error) {
			if pr.Dir == "" {
				return "", fmt.Errorf("%s: the checkout directory is empty; set pr.Dir to the repository", ToolCheckPatch)
			}
			if strings.TrimSpace(p.Patch) == "" {
				return "", Retry("patch is empty; give a unified diff")
			}
			if len(p.Patch) > maxCheckPatchBytes {
				return "", Retry("patch has %d bytes, more than the %d a finding's patch may have; make it smaller", len(p.Patch), maxCheckPatchBytes)
			}
			if !looksLikePatch(p.Patch) {
				return "", Retry("not a unified diff: it needs --- a/path and +++ b/path lines and an @@ hunk")
			}
			head := pr.HeadSHA
			if head == "" {
				head = "HEAD"
			}
			if err := repo.CheckPatch(ctx, head, p.Patch); err != nil {
				if ctx.Err() != nil {
					return "", ctx.Err()
				}
				return "", Retry("does not apply at the head %s: %s\nContext and removed lines must match the file exactly as read_file shows it after the tab (indentation kept), and each @@ header's line counts must match its hunk. Fix the patch and check it again.", short(head), oneLine(err.Error()))
			}
			return fmt.Sprintf("applies: the patch applies cleanly at the head %s.", short(head)), nil
		})
}
