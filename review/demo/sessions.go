package demo

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/llm"
	"github.com/deepreview/deep-review/review/pr"
)

// Reviewer is one scripted reviewer of the demo.
type Reviewer struct {
	Name    string
	Session *llm.Session
}

// Reviewers loads the three scripted sessions, in a fixed order.
func Reviewers() ([]Reviewer, error) {
	var out []Reviewer
	for _, name := range []string{"alpha", "bravo", "charlie"} {
		data, err := files.ReadFile(path.Join("testdata/sessions", name+".json"))
		if err != nil {
			return nil, fmt.Errorf("demo session %s: %w", name, err)
		}
		s, err := llm.ParseSession(data)
		if err != nil {
			return nil, fmt.Errorf("demo session %s: %w", name, err)
		}
		out = append(out, Reviewer{Name: strings.ToUpper(name[:1]) + name[1:], Session: s})
	}
	return out, nil
}

// Describe gives the locally gathered fixture the metadata a pull request
// on GitHub would have.
func Describe(pr *review.PR) {
	pr.Repo = "example/shortlink"
	pr.Number = 1
	pr.Local = false
	pr.Title = "Add link expiry, bulk import and a janitor"
	pr.Author = "dana-demo"
	pr.Body = "Links can now expire. Also adds POST /import for bulk loading and a janitor that drops expired links."
}

// Gather reads the fixture repository in dir (built by BuildRepo) as the
// demo's pull request: the local range from BaseRef to HeadRef, described
// as a PR on GitHub would be.
func Gather(ctx context.Context, dir string) (*review.PR, error) {
	p, err := pr.Local(ctx, pr.LocalOptions{Dir: dir, Base: BaseRef, Head: HeadRef})
	if err != nil {
		return nil, err
	}
	Describe(p)
	return p, nil
}
