package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/bluekeyes/go-gitdiff/gitdiff"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/deepreview/deep-review/review"
)

func TestSARIFGolden(t *testing.T) {
	got, err := SARIF(fixture(), fixtureOptions())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.sarif.golden", got)
}

// sarifSchemaErr validates out against the SARIF 2.1.0 constraints kept in
// testdata.
func sarifSchemaErr(out []byte) error {
	f, err := os.Open("testdata/sarif-2.1.0-required.schema.json")
	if err != nil {
		return err
	}
	defer f.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif.schema.json", schemaDoc); err != nil {
		return err
	}
	sch, err := c.Compile("sarif.schema.json")
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return sch.Validate(inst)
}

func validateSARIF(t *testing.T, out []byte) {
	t.Helper()
	if err := sarifSchemaErr(out); err != nil {
		t.Errorf("report.sarif does not validate: %v", err)
	}
}

func TestSARIFValidates(t *testing.T) {
	for name, r := range map[string]*review.Report{"fixture": fixture(), "huge": huge(20), "empty": {Round: 1}} {
		t.Run(name, func(t *testing.T) {
			out, err := SARIF(r, fixtureOptions())
			if err != nil {
				t.Fatal(err)
			}
			validateSARIF(t, out)
		})
	}
}

func TestSARIFSchemaRejectsBrokenLogs(t *testing.T) {
	// The schema must be able to fail, or the test above proves nothing.
	for name, broken := range map[string]string{
		"no driver name":  `{"version":"2.1.0","runs":[{"tool":{"driver":{}},"results":[]}]}`,
		"no message text": `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"r","message":{},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a.go"}}}]}]}]}`,
		"absolute uri":    `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"r","message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"/etc/a.go"}}}]}]}]}`,
		"bad level":       `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"r","level":"fatal","message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a.go"}}}]}]}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if sarifSchemaErr([]byte(broken)) == nil {
				t.Errorf("the schema accepts a log with %s", name)
			}
		})
	}
}

type sarifOut struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Name  string `json:"name"`
				Rules []struct {
					ID string `json:"id"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Level     string `json:"level"`
			Message   struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region struct {
						StartLine int `json:"startLine"`
						EndLine   int `json:"endLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Fixes               []struct {
				ArtifactChanges []struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Replacements []struct {
						DeletedRegion struct {
							StartLine   int `json:"startLine"`
							StartColumn int `json:"startColumn"`
							EndLine     int `json:"endLine"`
							EndColumn   int `json:"endColumn"`
						} `json:"deletedRegion"`
						InsertedContent *struct {
							Text string `json:"text"`
						} `json:"insertedContent"`
					} `json:"replacements"`
				} `json:"artifactChanges"`
			} `json:"fixes"`
			Suppressions []struct {
				Kind string `json:"kind"`
			} `json:"suppressions"`
		} `json:"results"`
	} `json:"runs"`
}

func decodeSARIF(t *testing.T, r *review.Report) sarifOut {
	t.Helper()
	out, err := SARIF(r, fixtureOptions())
	if err != nil {
		t.Fatal(err)
	}
	var s sarifOut
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSARIFResults(t *testing.T) {
	r := fixture()
	s := decodeSARIF(t, r)
	run := s.Runs[0]
	if run.Tool.Driver.Name != "deep-review" {
		t.Errorf("driver name = %q", run.Tool.Driver.Name)
	}
	if len(run.Results) != len(r.Findings) {
		t.Fatalf("%d results, want %d", len(run.Results), len(r.Findings))
	}
	wantLevels := map[review.Severity]string{review.Critical: "error", review.Important: "warning", review.Suggestion: "note"}
	for i, res := range run.Results {
		f := r.Findings[i]
		if res.Level != wantLevels[f.Severity] {
			t.Errorf("%s: level %q", f.ID, res.Level)
		}
		if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID || res.RuleID != "deep-review/"+f.Tags[0] {
			t.Errorf("%s: rule %q at %d", f.ID, res.RuleID, res.RuleIndex)
		}
		loc := res.Locations[0].PhysicalLocation
		if loc.ArtifactLocation.URI != f.File || loc.Region.StartLine != f.StartLine || loc.Region.EndLine != f.EndLine {
			t.Errorf("%s: location %+v", f.ID, loc)
		}
		if res.PartialFingerprints[FingerprintKey] != f.Fingerprint {
			t.Errorf("%s: fingerprints %v", f.ID, res.PartialFingerprints)
		}
		if (f.Patch != "") != (len(res.Fixes) == 1) {
			t.Errorf("%s: %d fixes for patch %q", f.ID, len(res.Fixes), f.Patch)
		}
		if (f.Status == review.FindingDeclined) != (len(res.Suppressions) == 1) {
			t.Errorf("%s: suppressions %v", f.ID, res.Suppressions)
		}
		if strings.Contains(res.Message.Text, fixtureSecret) {
			t.Errorf("%s: message holds the secret", f.ID)
		}
	}
	var ids []string
	for _, rule := range run.Tool.Driver.Rules {
		ids = append(ids, rule.ID)
	}
	want := []string{"deep-review/finding", "deep-review/enhancement", "deep-review/regression", "deep-review/security", "deep-review/style"}
	if strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("rules = %v, want %v", ids, want)
	}
}

// applyReplacements applies SARIF whole-line replacements (regions from
// column 1 to column 1) to content, last first.
func applyReplacements(t *testing.T, content string, reps []struct {
	start, end int
	text       string
}) string {
	t.Helper()
	lines := strings.SplitAfter(content, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	sort.Slice(reps, func(i, j int) bool { return reps[i].start > reps[j].start })
	for _, r := range reps {
		if r.start < 1 || r.end > len(lines)+1 || r.end < r.start {
			t.Fatalf("region %d-%d outside a %d-line file", r.start, r.end, len(lines))
		}
		var ins []string
		if r.text != "" {
			ins = strings.SplitAfter(strings.TrimSuffix(r.text, "\n"), "\n")
			ins[len(ins)-1] += "\n"
		}
		lines = append(lines[:r.start-1], append(ins, lines[r.end-1:]...)...)
	}
	return strings.Join(lines, "")
}

// TestSARIFFixesApply checks that applying a result's replacements to the
// old file gives what applying the patch itself gives.
func TestSARIFFixesApply(t *testing.T) {
	old := "package p\n\nimport \"fmt\"\n\nfunc a() {\n\tfmt.Println(1)\n}\n\nfunc b() {\n\tfmt.Println(2)\n\tfmt.Println(3)\n}\n\nfunc c() {}\n"
	patches := map[string]string{
		"one replacement":                       "--- a/p.go\n+++ b/p.go\n@@ -5,3 +5,3 @@\n func a() {\n-\tfmt.Println(1)\n+\tfmt.Println(10)\n }\n",
		"two hunks with deletion and insertion": "--- a/p.go\n+++ b/p.go\n@@ -2,3 +2,4 @@\n \n import \"fmt\"\n+import \"os\"\n \n@@ -9,4 +10,3 @@\n func b() {\n \tfmt.Println(2)\n-\tfmt.Println(3)\n }\n",
		"insertion at the top":                  "--- a/p.go\n+++ b/p.go\n@@ -1,2 +1,3 @@\n+// Package p.\n package p\n \n",
		"change spread with inner context":      "--- a/p.go\n+++ b/p.go\n@@ -9,5 +9,5 @@\n func b() {\n-\tfmt.Println(2)\n+\tfmt.Println(20)\n \tfmt.Println(3)\n-}\n+} // b\n \n",
	}
	for name, patch := range patches {
		t.Run(name, func(t *testing.T) {
			files, _, err := gitdiff.Parse(strings.NewReader(patch))
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := gitdiff.Apply(&want, strings.NewReader(old), files[0]); err != nil {
				t.Fatalf("the test patch does not apply: %v", err)
			}
			r := fixture()
			r.Findings = []review.Finding{{ID: "S1", Severity: review.Suggestion, Title: "t", File: "p.go", StartLine: 5, EndLine: 6, Patch: patch, Fingerprint: "fp"}}
			s := decodeSARIF(t, r)
			fixes := s.Runs[0].Results[0].Fixes
			if len(fixes) != 1 || len(fixes[0].ArtifactChanges) != 1 || fixes[0].ArtifactChanges[0].ArtifactLocation.URI != "p.go" {
				t.Fatalf("fixes = %+v", fixes)
			}
			var reps []struct {
				start, end int
				text       string
			}
			for _, rep := range fixes[0].ArtifactChanges[0].Replacements {
				d := rep.DeletedRegion
				if d.StartColumn != 1 || d.EndColumn != 1 {
					t.Fatalf("region %+v is not whole lines", d)
				}
				text := ""
				if rep.InsertedContent != nil {
					text = rep.InsertedContent.Text
				}
				reps = append(reps, struct {
					start, end int
					text       string
				}{d.StartLine, d.EndLine, text})
			}
			if got := applyReplacements(t, old, reps); got != want.String() {
				t.Errorf("replacements give\n%s\nwant\n%s", got, want.String())
			}
		})
	}
}

// TestSARIFZeroContextInsertion follows git apply --unidiff-zero: "-14,0"
// inserts after line 14 (go-gitdiff's Apply reads it as before).
func TestSARIFZeroContextInsertion(t *testing.T) {
	r := fixture()
	r.Findings = []review.Finding{{ID: "S1", Severity: review.Suggestion, Title: "t", File: "p.go", StartLine: 14, EndLine: 14,
		Patch: "--- a/p.go\n+++ b/p.go\n@@ -14,0 +15,2 @@\n+\n+func d() {}\n", Fingerprint: "fp"}}
	reps := decodeSARIF(t, r).Runs[0].Results[0].Fixes[0].ArtifactChanges[0].Replacements
	if len(reps) != 1 {
		t.Fatalf("%d replacements", len(reps))
	}
	d := reps[0].DeletedRegion
	if d.StartLine != 15 || d.EndLine != 15 || d.StartColumn != 1 || d.EndColumn != 1 || reps[0].InsertedContent.Text != "\nfunc d() {}\n" {
		t.Errorf("replacement = %+v %q, want an insertion at 15:1", d, reps[0].InsertedContent.Text)
	}
}

func TestSARIFSkipsAFixItCannotExpress(t *testing.T) {
	r := fixture()
	r.Findings = r.Findings[:1]
	for name, patch := range map[string]string{
		"not a diff": "just prose",
		"a new file": "diff --git a/n.go b/n.go\nnew file mode 100644\n--- /dev/null\n+++ b/n.go\n@@ -0,0 +1 @@\n+package n\n",
	} {
		r.Findings[0].Patch = patch
		if fixes := decodeSARIF(t, r).Runs[0].Results[0].Fixes; len(fixes) != 0 {
			t.Errorf("%s: fixes = %+v", name, fixes)
		}
	}
}
