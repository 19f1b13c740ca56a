package render

import (
	"strings"
	"testing"
)

func TestALocalRangeIsNamedAsARangeWithNoRepositoryLinks(t *testing.T) {
	r := fixture()
	r.PR.Local, r.PR.Number, r.PR.Repo = true, 0, ""
	r.PR.BaseRef, r.PR.HeadRef = "main", "feature"
	o := fixtureOptions()
	o.RepoURL = "" // what the CLI derives from an unknown repository
	outputs := map[string]string{
		"markdown": string(Markdown(r, o)),
		"comment":  string(Comment(r, o)),
	}
	html, err := HTML(r, o)
	if err != nil {
		t.Fatal(err)
	}
	outputs["html"] = string(html)
	for name, got := range outputs {
		if strings.Contains(got, "PR #0") || strings.Contains(got, "pr-0") || strings.Contains(got, "of #0") || strings.Contains(got, "#0 —") {
			t.Errorf("%s names the local range as PR #0", name)
		}
		if !strings.Contains(got, "main..feature") {
			t.Errorf("%s does not name the range main..feature", name)
		}
		if strings.Contains(got, "/blob/"+r.PR.HeadSHA) || strings.Contains(got, "github.com/repo") {
			t.Errorf("%s links into a repository that is not known", name)
		}
	}
	if md := outputs["markdown"]; !strings.Contains(md, "| Round | 2 (of main..feature) |") || !strings.Contains(md, "| Range | main..feature — ") {
		t.Errorf("the Markdown header does not name the range:\n%s", md[:min(len(md), 800)])
	}
}
