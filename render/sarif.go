package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"

	"github.com/deepreview/deep-review/review"
)

// SARIF constants.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	// defaultRule is the rule of findings without a tag.
	defaultRule = "deep-review/finding"
	// FingerprintKey names the partialFingerprints entry that carries a
	// finding's fingerprint across rounds.
	FingerprintKey = "deepReviewFingerprint/v1"
	toolName       = "deep-review"
	toolURI        = "https://github.com/deepreview/deep-review"
	srcRoot        = "%SRCROOT%"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool                     sarifTool         `json:"tool"`
	Invocations              []sarifInvocation `json:"invocations,omitempty"`
	VersionControlProvenance []sarifVCS        `json:"versionControlProvenance,omitempty"`
	Results                  []sarifResult     `json:"results"`
	Properties               map[string]any    `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string           `json:"id"`
	Name                 string           `json:"name"`
	ShortDescription     sarifMessage     `json:"shortDescription"`
	FullDescription      sarifMessage     `json:"fullDescription"`
	DefaultConfiguration *sarifRuleConfig `json:"defaultConfiguration,omitempty"`
	Properties           map[string]any   `json:"properties,omitempty"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level   string       `json:"level"`
	Message sarifMessage `json:"message"`
}

type sarifVCS struct {
	RepositoryURI string `json:"repositoryUri"`
	RevisionID    string `json:"revisionId,omitempty"`
	Branch        string `json:"branch,omitempty"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifMessage       `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints,omitempty"`
	Fixes               []sarifFix         `json:"fixes,omitempty"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]any     `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           *sarifRegion          `json:"region,omitempty"`
}

type sarifArtifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int           `json:"startLine"`
	StartColumn int           `json:"startColumn,omitempty"`
	EndLine     int           `json:"endLine,omitempty"`
	EndColumn   int           `json:"endColumn,omitempty"`
	Snippet     *sarifMessage `json:"snippet,omitempty"`
}

type sarifFix struct {
	Description     sarifMessage          `json:"description"`
	ArtifactChanges []sarifArtifactChange `json:"artifactChanges"`
}

type sarifArtifactChange struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Replacements     []sarifReplacement    `json:"replacements"`
}

type sarifReplacement struct {
	DeletedRegion   sarifRegion   `json:"deletedRegion"`
	InsertedContent *sarifMessage `json:"insertedContent,omitempty"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification,omitempty"`
}

// sarifLevel maps a severity to a SARIF level.
func sarifLevel(s review.Severity) string {
	switch s {
	case review.Critical:
		return "error"
	case review.Important:
		return "warning"
	}
	return "note"
}

// ruleID is the rule of a tag, "deep-review/security".
func ruleID(tag string) string {
	t := strings.Trim(slugRE.ReplaceAllString(strings.ToLower(tag), "-"), "-")
	if t == "" {
		return defaultRule
	}
	return "deep-review/" + t
}

// firstTag is the finding's first non-empty tag.
func firstTag(f review.Finding) string {
	for _, t := range f.Tags {
		if strings.TrimSpace(t) != "" {
			return t
		}
	}
	return ""
}

// sarifURI is a repository-relative URI for a path.
func sarifURI(p string) string {
	p = strings.TrimLeft(path.Clean("/"+strings.ReplaceAll(p, `\`, "/")), "/")
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// SARIF renders report.sarif, SARIF 2.1.0 fit for code-scanning upload:
// one result per accepted finding (a declined one carries an external
// suppression), level error, warning or note by severity, a rule per tag
// (the first tag of a finding is its rule; untagged findings use
// "deep-review/finding"), a physical location relative to the repository
// root with its region and excerpt, partialFingerprints[FingerprintKey] from
// the finding's fingerprint, and a fix whose replacements come from the
// hunks of the finding's patch when it parses. Text is scrubbed of secrets
// and markers. Rules and results are in a stable order.
func SARIF(r *review.Report, o Options) ([]byte, error) {
	s := newScrubber(o)
	plain := func(t string) string { return strings.TrimSpace(s.plain(t)) }

	// One rule per tag, sorted, after the default rule.
	tags := map[string]string{}
	for _, f := range r.Findings {
		for _, t := range f.Tags {
			if id := ruleID(t); id != defaultRule {
				if _, ok := tags[id]; !ok {
					tags[id] = plain(strings.TrimSpace(t))
				}
			}
		}
	}
	ids := make([]string, 0, len(tags))
	for id := range tags {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	rules := []sarifRule{{
		ID: defaultRule, Name: "Finding",
		ShortDescription: sarifMessage{Text: "A deep-review finding"},
		FullDescription:  sarifMessage{Text: "A finding of deep-review's reviewers, confirmed by consolidation."},
		Properties:       map[string]any{"tags": []string{"deep-review"}},
	}}
	index := map[string]int{defaultRule: 0}
	for _, id := range ids {
		index[id] = len(rules)
		tag := tags[id]
		rules = append(rules, sarifRule{
			ID: id, Name: ruleName(tag),
			ShortDescription: sarifMessage{Text: "A deep-review finding tagged " + tag},
			FullDescription:  sarifMessage{Text: "A finding of deep-review's reviewers tagged " + tag + "."},
			Properties:       map[string]any{"tags": []string{tag}},
		})
	}

	results := []sarifResult{}
	for _, f := range r.Findings {
		id := ruleID(firstTag(f))
		msg := plain(f.Title)
		if f.ID != "" {
			msg = f.ID + ": " + msg
		}
		if e := plain(f.Explanation); e != "" {
			msg += "\n\n" + e
		}
		if fx := plain(f.Fix); fx != "" {
			msg += "\n\nFix: " + fx
		}
		loc := sarifPhysicalLocation{ArtifactLocation: sarifArtifactLocation{URI: sarifURI(s.code(f.File)), URIBaseID: srcRoot}}
		if f.StartLine > 0 {
			reg := &sarifRegion{StartLine: f.StartLine, EndLine: max(f.EndLine, f.StartLine)}
			if ex := s.code(f.Excerpt); strings.TrimSpace(ex) != "" {
				reg.Snippet = &sarifMessage{Text: ex}
			}
			loc.Region = reg
		}
		res := sarifResult{
			RuleID: id, RuleIndex: index[id], Level: sarifLevel(f.Severity),
			Message:   sarifMessage{Text: msg},
			Locations: []sarifLocation{{PhysicalLocation: loc}},
			Properties: map[string]any{
				"id": f.ID, "severity": string(f.Severity), "tags": scrubAll(s, f.Tags), "reviewers": scrubAll(s, f.Reviewers),
				"citation": f.Citation, "status": f.Status, "firstRound": f.FirstRound,
			},
		}
		if f.Fingerprint != "" {
			res.PartialFingerprints = map[string]string{FingerprintKey: f.Fingerprint}
		}
		if fix, ok := patchFix(s, f); ok {
			res.Fixes = []sarifFix{fix}
		}
		if f.Status == review.FindingDeclined {
			res.Suppressions = []sarifSuppression{{Kind: "external", Justification: "Declined by a maintainer in the deep-review comment."}}
		}
		results = append(results, res)
	}

	inv := sarifInvocation{ExecutionSuccessful: r.Reviewed()}
	for _, st := range r.Reviewers {
		if st.Status == review.StatusOK {
			continue
		}
		text := fmt.Sprintf("Reviewer %s %s", st.Name, st.Status)
		if st.Error != "" {
			text += ": " + st.Error
		}
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{Level: "error", Message: sarifMessage{Text: plain(text)}})
	}
	run := sarifRun{
		Tool:        sarifTool{Driver: sarifDriver{Name: toolName, InformationURI: toolURI, Rules: rules}},
		Invocations: []sarifInvocation{inv},
		Results:     results,
		Properties: map[string]any{
			"repo": plain(r.PR.Repo), "pullRequest": r.PR.Number, "round": r.Round,
			"verdict": string(r.Verdict.Decision), "decidedBy": r.Verdict.DecidedBy,
		},
	}
	if repo := strings.TrimSuffix(o.RepoURL, "/"); repo != "" {
		run.VersionControlProvenance = []sarifVCS{{RepositoryURI: repo, RevisionID: r.PR.HeadSHA, Branch: plain(r.PR.HeadRef)}}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}}); err != nil {
		return nil, fmt.Errorf("encode report.sarif for PR #%d: %w", r.PR.Number, err)
	}
	return b.Bytes(), nil
}

func scrubAll(s *scrubber, xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = s.code(x)
	}
	return out
}

// ruleName is a tag as a PascalCase rule name, "BreakingChange".
func ruleName(tag string) string {
	var b strings.Builder
	for _, w := range slugRE.Split(strings.ToLower(tag), -1) {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	if b.Len() == 0 {
		return "Finding"
	}
	return b.String()
}

// patchFix turns a finding's unified diff into a SARIF fix: one artifact
// change per file, one replacement per hunk, covering exactly the lines from
// the hunk's first to its last change. It reports false when there is no
// patch, or when it does not parse or creates, deletes or renames a file
// (which a replacement cannot express).
func patchFix(s *scrubber, f review.Finding) (sarifFix, bool) {
	if strings.TrimSpace(f.Patch) == "" {
		return sarifFix{}, false
	}
	files, _, err := gitdiff.Parse(strings.NewReader(f.Patch))
	if err != nil || len(files) == 0 {
		return sarifFix{}, false
	}
	fix := sarifFix{Description: sarifMessage{Text: strings.TrimSpace(s.plain(f.Fix))}}
	if fix.Description.Text == "" {
		fix.Description.Text = "Apply the suggested patch."
	}
	for _, file := range files {
		if file.IsNew || file.IsDelete || file.IsRename || file.IsCopy || file.IsBinary || len(file.TextFragments) == 0 {
			return sarifFix{}, false
		}
		name := file.NewName
		if !strings.Contains(f.Patch, "diff --git ") && (strings.HasPrefix(name, "b/") || strings.HasPrefix(name, "a/")) {
			// A patch without a "diff --git" line keeps git's prefixes.
			name = name[2:]
		}
		change := sarifArtifactChange{ArtifactLocation: sarifArtifactLocation{URI: sarifURI(s.code(name)), URIBaseID: srcRoot}}
		for _, frag := range file.TextFragments {
			if rep, ok := replacement(s, frag); ok {
				change.Replacements = append(change.Replacements, rep)
			}
		}
		if len(change.Replacements) == 0 {
			return sarifFix{}, false
		}
		fix.ArtifactChanges = append(fix.ArtifactChanges, change)
	}
	return fix, true
}

// replacement is one hunk as a replacement of whole old lines: the deleted
// region runs from column 1 of the first changed old line to column 1 of the
// line after the last, and the inserted content is the new lines in
// between, newlines included. A pure insertion is a zero-length region.
func replacement(s *scrubber, frag *gitdiff.TextFragment) (sarifReplacement, bool) {
	first, last := -1, -1
	for i, l := range frag.Lines {
		if l.Op != gitdiff.OpContext {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return sarifReplacement{}, false
	}
	line := int(frag.OldPosition)
	if frag.OldLines == 0 {
		line++ // "-3,0" inserts after line 3
	}
	for _, l := range frag.Lines[:first] {
		if l.Old() {
			line++
		}
	}
	deleted := 0
	var inserted strings.Builder
	for _, l := range frag.Lines[first : last+1] {
		if l.Old() {
			deleted++
		}
		if l.New() {
			inserted.WriteString(l.Line)
		}
	}
	line = max(line, 1)
	rep := sarifReplacement{DeletedRegion: sarifRegion{StartLine: line, StartColumn: 1, EndLine: line + deleted, EndColumn: 1}}
	if inserted.Len() > 0 {
		rep.InsertedContent = &sarifMessage{Text: s.code(inserted.String())}
	}
	return rep, true
}
