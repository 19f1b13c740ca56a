// Package review is deep-review's domain: the pull request, the reviewers'
// submissions, the consolidated report and the rules that turn one into the
// other. It does no I/O; everything it needs from the repository or a model is
// passed in.
package review

import "time"

// SchemaVersion is the version of report.json this package writes.
const SchemaVersion = 1

// Severity ranks a finding by impact. The zero value is invalid.
type Severity string

// The severities, most severe first.
const (
	Critical   Severity = "critical"
	Important  Severity = "important"
	Suggestion Severity = "suggestion"
)

// Rank orders severities: Critical is 0, Important 1, Suggestion 2 and
// anything else 3.
func (s Severity) Rank() int {
	switch s {
	case Critical:
		return 0
	case Important:
		return 1
	case Suggestion:
		return 2
	}
	return 3
}

// Valid reports whether s is one of the three severities.
func (s Severity) Valid() bool { return s.Rank() < 3 }

// IDPrefix is the letter of the finding IDs of this severity (C1, I1, S1).
func (s Severity) IDPrefix() string {
	switch s {
	case Critical:
		return "C"
	case Important:
		return "I"
	}
	return "S"
}

// Decision is the verdict on a pull request.
type Decision string

// The decisions, from best to worst.
const (
	Merge                  Decision = "merge"
	MergeWithOptionalFixes Decision = "merge-with-optional-fixes"
	MergeWithFixes         Decision = "merge-with-fixes"
	Rework                 Decision = "rework"
)

// Valid reports whether d is one of the four decisions.
func (d Decision) Valid() bool {
	switch d {
	case Merge, MergeWithOptionalFixes, MergeWithFixes, Rework:
		return true
	}
	return false
}

// Label is the decision as a person reads it ("Merge with fixes").
func (d Decision) Label() string {
	switch d {
	case Merge:
		return "Merge as-is"
	case MergeWithOptionalFixes:
		return "Merge with optional fixes"
	case MergeWithFixes:
		return "Merge with fixes"
	case Rework:
		return "Rework"
	}
	return string(d)
}

// Who decided a verdict.
const (
	DecidedByLead  = "lead"
	DecidedByRules = "rules"
)

// Verdict is the decision with its reason and who took it.
type Verdict struct {
	Decision  Decision `json:"decision"`
	Reason    string   `json:"reason"`
	DecidedBy string   `json:"decided_by"`
}

// Commit is one commit of a pull request.
type Commit struct {
	SHA     string `json:"sha"`
	Subject string `json:"subject"`
}

// ChangedFile is one file the pull request touches.
type ChangedFile struct {
	Path      string `json:"path"`
	OldPath   string `json:"old_path,omitempty"`
	Status    string `json:"status"` // added, modified, removed, renamed
	Additions int    `json:"additions"`
	Deletions int    `json:"deletions"`
	Binary    bool   `json:"binary,omitempty"`
}

// SkippedFile is a changed file left out of the review, with the reason.
type SkippedFile struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Comment is earlier feedback on the pull request by a person.
type Comment struct {
	Author     string `json:"author"`
	URL        string `json:"url"`
	Body       string `json:"body"`
	Path       string `json:"path,omitempty"`
	Line       int    `json:"line,omitempty"`
	Resolved   bool   `json:"resolved,omitempty"`
	Outdated   bool   `json:"outdated,omitempty"`
	InThread   bool   `json:"in_thread,omitempty"`
	CreatedAt  string `json:"created_at,omitempty"`
	ThreadID   string `json:"thread_id,omitempty"`
	IsReviewer bool   `json:"-"`
}

// PR is everything gathered about a pull request before the review. Title,
// Body and Comments are untrusted text written by people outside our control.
type PR struct {
	Repo      string   `json:"repo"`
	Number    int      `json:"number"`
	Title     string   `json:"title"`
	Body      string   `json:"body,omitempty"`
	Author    string   `json:"author"`
	URL       string   `json:"url,omitempty"`
	BaseRef   string   `json:"base_ref"`
	HeadRef   string   `json:"head_ref"`
	BaseSHA   string   `json:"base_sha"`
	HeadSHA   string   `json:"head_sha"`
	MergeBase string   `json:"merge_base"`
	Commits   []Commit `json:"commits"`
	Draft     bool     `json:"-"`
	// Local marks a review of a local range (BaseRef..HeadRef) rather than
	// of a pull request: Number is 0 and Repo may be "" (unknown).
	Local bool `json:"local,omitempty"`

	// Dir is the checkout at the head; the repository tools read it.
	Dir string `json:"-"`
	// Diff is the unified diff from the merge base to the head.
	Diff     string        `json:"-"`
	Files    []ChangedFile `json:"-"`
	Skipped  []SkippedFile `json:"-"`
	Comments []Comment     `json:"-"`
	// Limitations are candidate acknowledged limitations found on added lines.
	Limitations []Limitation `json:"-"`
	// Previous is the state of the last round, if there was one.
	Previous *State `json:"-"`
	// Delta is what changed since the head the last round reviewed, when
	// it could be found; nil means the whole PR is reviewed (DeltaReason
	// says why, when there was a last round).
	Delta       *Delta `json:"-"`
	DeltaReason string `json:"-"`
	// Earlier are the last round's open findings, re-checked at this head
	// before the reviewers run.
	Earlier []Earlier `json:"-"`
}

// Additions is the number of lines the pull request adds.
func (p *PR) Additions() int {
	n := 0
	for _, f := range p.Files {
		n += f.Additions
	}
	return n
}

// Deletions is the number of lines the pull request removes.
func (p *PR) Deletions() int {
	n := 0
	for _, f := range p.Files {
		n += f.Deletions
	}
	return n
}

// Untested is a scenario no test covers, with the risk of leaving it so.
type Untested struct {
	Scenario string `json:"scenario"`
	Risk     string `json:"risk"`
}

// Testing is the assessment of the pull request's tests.
type Testing struct {
	Assessment string     `json:"assessment"`
	Untested   []Untested `json:"untested"`
}

// Limitation is something the code's own comments admit.
type Limitation struct {
	File  string `json:"file"`
	Line  int    `json:"line"`
	Quote string `json:"quote"`
}

// Feedback is an earlier review comment the head does not address.
type Feedback struct {
	Author  string `json:"author"`
	URL     string `json:"url"`
	Summary string `json:"summary"`
}

// Concern scopes.
const (
	ScopeFuture  = "future"
	ScopeInScope = "in-scope"
)

// SubmittedFinding is one finding as a reviewer submitted it.
type SubmittedFinding struct {
	Severity    Severity `json:"severity"`
	Tags        []string `json:"tags"`
	Title       string   `json:"title"`
	File        string   `json:"file"`
	StartLine   int      `json:"start_line"`
	EndLine     int      `json:"end_line"`
	Quote       string   `json:"quote"`
	Explanation string   `json:"explanation"`
	Fix         string   `json:"fix"`
	Patch       string   `json:"patch"`
}

// SubmittedConcern is a design concern as a reviewer submitted it.
type SubmittedConcern struct {
	Text  string `json:"text"`
	Scope string `json:"scope"`
}

// Submission is the argument of a reviewer's submit_review call.
type Submission struct {
	Summary            string             `json:"summary"`
	Verdict            Decision           `json:"verdict"`
	Findings           []SubmittedFinding `json:"findings"`
	Concerns           []SubmittedConcern `json:"concerns"`
	Strengths          []string           `json:"strengths"`
	Testing            Testing            `json:"testing"`
	Documentation      string             `json:"documentation"`
	CommitStructure    string             `json:"commit_structure"`
	Limitations        []Limitation       `json:"limitations"`
	UnresolvedFeedback []Feedback         `json:"unresolved_feedback"`
	FilesReviewed      []string           `json:"files_reviewed"`
}

// Tokens is a model's usage normalised across providers. Input excludes the
// cached and cache-write tokens, so the four input-side counts add up.
type Tokens struct {
	Input       int64 `json:"input"`
	CachedInput int64 `json:"cached_input"`
	CacheWrite  int64 `json:"cache_write"`
	Output      int64 `json:"output"`
	Reasoning   int64 `json:"reasoning"`
}

// Add returns the sum of t and u.
func (t Tokens) Add(u Tokens) Tokens {
	return Tokens{
		Input:       t.Input + u.Input,
		CachedInput: t.CachedInput + u.CachedInput,
		CacheWrite:  t.CacheWrite + u.CacheWrite,
		Output:      t.Output + u.Output,
		Reasoning:   t.Reasoning + u.Reasoning,
	}
}

// Total is every token counted once.
func (t Tokens) Total() int64 { return t.Input + t.CachedInput + t.CacheWrite + t.Output }

// Reviewer statuses.
const (
	StatusOK       = "ok"
	StatusFailed   = "failed"
	StatusTimedOut = "timed-out"
)

// Counts are findings by severity.
type Counts struct {
	Critical   int `json:"critical"`
	Important  int `json:"important"`
	Suggestion int `json:"suggestion"`
}

// Add counts one finding of severity s.
func (c *Counts) Add(s Severity) {
	switch s {
	case Critical:
		c.Critical++
	case Important:
		c.Important++
	case Suggestion:
		c.Suggestion++
	}
}

// Total is the number of findings counted.
func (c Counts) Total() int { return c.Critical + c.Important + c.Suggestion }

// Run is what one reviewer did: its identity, how it went and what it
// submitted. The agent fills it; consolidation reads it.
type Run struct {
	Name     string `json:"name"`
	Provider string `json:"provider"`
	Model    string `json:"model"`
	Effort   string `json:"effort,omitempty"`
	// Label says how the reviewer's words came about when they did not come
	// from a live model, e.g. "scripted replay".
	Label string `json:"label,omitempty"`
	// Focus is the reviewer's emphasis, when it had one.
	Focus string `json:"focus,omitempty"`

	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// Salvaged, when set, says why a reviewer whose model turn failed still
	// submitted: on one forced submit_review turn with shortened tool results.
	Salvaged      string         `json:"salvaged,omitempty"`
	Duration      time.Duration  `json:"duration"`
	Turns         int            `json:"turns"`
	ToolCalls     map[string]int `json:"tool_calls"`
	FilesReviewed []string       `json:"files_reviewed"`
	Tokens        Tokens         `json:"tokens"`
	CostUSD       float64        `json:"cost_usd"`

	// Submission is nil when the reviewer never submitted.
	Submission *Submission `json:"submission,omitempty"`
}

// ReviewerStats is one reviewer's line in the report.
type ReviewerStats struct {
	Name               string         `json:"name"`
	Provider           string         `json:"provider"`
	Model              string         `json:"model"`
	Effort             string         `json:"effort"`
	Label              string         `json:"label,omitempty"`
	Focus              string         `json:"focus,omitempty"`
	Status             string         `json:"status"`
	Error              string         `json:"error"`
	Salvaged           string         `json:"salvaged,omitempty"`
	DurationMS         int64          `json:"duration_ms"`
	Turns              int            `json:"turns"`
	ToolCalls          map[string]int `json:"tool_calls"`
	FilesReviewed      []string       `json:"files_reviewed"`
	Counts             Counts         `json:"counts"`
	DesignObservations int            `json:"design_observations"`
	FalsePositives     int            `json:"false_positives"`
	UniqueInsights     int            `json:"unique_insights"`
	CoverageMisses     []string       `json:"coverage_misses"`
	Tokens             Tokens         `json:"tokens"`
	CostUSD            float64        `json:"cost_usd"`
	Retro              string         `json:"retro"`
}

// TotalToolCalls is the number of tool calls the reviewer made.
func (s ReviewerStats) TotalToolCalls() int {
	n := 0
	for _, c := range s.ToolCalls {
		n += c
	}
	return n
}

// Citation states.
const (
	CitationVerified   = "verified"
	CitationCorrected  = "corrected"
	CitationUnverified = "unverified"
)

// Finding statuses.
const (
	FindingNew      = "new"
	FindingCarried  = "carried"
	FindingDeclined = "declined"
)

// Finding is one consolidated finding of the report.
type Finding struct {
	ID          string   `json:"id"`
	Severity    Severity `json:"severity"`
	Tags        []string `json:"tags"`
	Title       string   `json:"title"`
	File        string   `json:"file"`
	StartLine   int      `json:"start_line"`
	EndLine     int      `json:"end_line"`
	Excerpt     string   `json:"excerpt"`
	Explanation string   `json:"explanation"`
	Fix         string   `json:"fix"`
	Patch       string   `json:"patch"`
	Reviewers   []string `json:"reviewers"`
	Citation    string   `json:"citation"`
	Status      string   `json:"status"`
	FirstRound  int      `json:"first_round"`
	// Dissent records severities other reviewers gave ("suggestion per Gemini").
	Dissent string `json:"dissent,omitempty"`
	// Notes are consolidation remarks (a dropped patch, a corrected range).
	Notes []string `json:"notes,omitempty"`
	// Reason is why the lead rejected the finding; set in rejected[] only.
	Reason string `json:"reason,omitempty"`
	// Fingerprint identifies the finding across rounds.
	Fingerprint string `json:"fingerprint"`
	// PatchChecked is set when Patch was checked to apply at the head.
	PatchChecked bool `json:"patch_checked,omitempty"`
	// PreExistingInPR marks a new finding of a delta round on lines the
	// delta did not touch: a late discovery on code that was already there
	// last round, not a regression of the last push.
	PreExistingInPR bool `json:"pre_existing_in_pr,omitempty"`
}

// Concern is a design concern with the reviewers who raised it.
type Concern struct {
	Text      string   `json:"text"`
	Scope     string   `json:"scope"`
	Reviewers []string `json:"reviewers"`
}

// Strength is something the pull request does well.
type Strength struct {
	Text      string   `json:"text"`
	Reviewers []string `json:"reviewers"`
}

// Attributed is a piece of prose with the reviewers who wrote it.
type Attributed struct {
	Text      string   `json:"text"`
	Reviewers []string `json:"reviewers"`
}

// Report is the consolidated review: the source of every rendered format.
type Report struct {
	Schema   int       `json:"schema"`
	PR       PR        `json:"pr"`
	Round    int       `json:"round"`
	Verdict  Verdict   `json:"verdict"`
	Summary  string    `json:"summary"`
	Findings []Finding `json:"findings"`
	Rejected []Finding `json:"rejected"`
	// PreExisting are findings the lead accepted as real but older than the
	// pull request: kept with their severity and evidence, numbered P1, P2…,
	// and left out of the verdict and the counts.
	PreExisting        []Finding       `json:"pre_existing,omitempty"`
	Addressed          []Finding       `json:"addressed"`
	Concerns           []Concern       `json:"concerns"`
	Strengths          []Strength      `json:"strengths"`
	Testing            Testing         `json:"testing"`
	Documentation      string          `json:"documentation"`
	CommitStructure    string          `json:"commit_structure"`
	Limitations        []Limitation    `json:"limitations"`
	UnresolvedFeedback []Feedback      `json:"unresolved_feedback"`
	Reviewers          []ReviewerStats `json:"reviewers"`
	Lead               *LeadStats      `json:"lead,omitempty"`
	Skipped            []SkippedFile   `json:"skipped,omitempty"`
	Retro              string          `json:"retro,omitempty"`
	WallClockMS        int64           `json:"wall_clock_ms"`
	GeneratedAt        time.Time       `json:"generated_at"`
	// Budget is the run's cost cap and what it made the run skip, when a
	// cap was set.
	Budget *Budget `json:"budget,omitempty"`
	// Scope says whether this round reviewed the delta since the last
	// round or the whole pull request, and why.
	Scope *Scope `json:"scope,omitempty"`
	// Links point to where the report lives; filled by the caller.
	Links Links `json:"links,omitempty"`
}

// Budget is the estimated-cost cap of a run (max-cost-usd).
type Budget struct {
	CapUSD float64 `json:"cap_usd"`
	// LeadSkipped says why the lead did not run, when the cap left too
	// little for it; the rules decided instead.
	LeadSkipped string `json:"lead_skipped,omitempty"`
}

// LeadStats is what the lead model cost, when one ran.
type LeadStats struct {
	Name       string  `json:"name"`
	Model      string  `json:"model"`
	Status     string  `json:"status"`
	Error      string  `json:"error,omitempty"`
	DurationMS int64   `json:"duration_ms"`
	Tokens     Tokens  `json:"tokens"`
	CostUSD    float64 `json:"cost_usd"`
}

// Links are URLs the rendered report points at.
type Links struct {
	Run      string `json:"run,omitempty"`
	Artifact string `json:"artifact,omitempty"`
	// Inline says, by fingerprint, where each finding's inline review
	// comment is, or why it has none; filled by the publisher.
	Inline map[string]InlineLink `json:"inline,omitempty"`
}

// Counts is the number of accepted findings by severity, declined ones
// excluded.
func (r *Report) Counts() Counts {
	var c Counts
	for _, f := range r.Findings {
		if f.Status != FindingDeclined {
			c.Add(f.Severity)
		}
	}
	return c
}

// Tokens is the sum of every reviewer's and the lead's tokens.
func (r *Report) Tokens() Tokens {
	var t Tokens
	for _, s := range r.Reviewers {
		t = t.Add(s.Tokens)
	}
	if r.Lead != nil {
		t = t.Add(r.Lead.Tokens)
	}
	return t
}

// CostUSD is the estimated cost of every model call of the review.
func (r *Report) CostUSD() float64 {
	c := 0.0
	for _, s := range r.Reviewers {
		c += s.CostUSD
	}
	if r.Lead != nil {
		c += r.Lead.CostUSD
	}
	return c
}

// State is what the sticky comment remembers between rounds.
type State struct {
	Round        int      `json:"round"`
	HeadSHA      string   `json:"head_sha"`
	Fingerprints []string `json:"fingerprints"`
	// IDs maps a fingerprint to the finding ID it had, so IDs stay stable.
	IDs map[string]string `json:"ids,omitempty"`
	// FirstRounds maps a fingerprint to the round it first appeared in.
	FirstRounds map[string]int `json:"first_rounds,omitempty"`
	// Titles maps a fingerprint to its finding's title, for the addressed list.
	Titles map[string]string `json:"titles,omitempty"`
	// Files maps a fingerprint to its finding's file.
	Files    map[string]string `json:"files,omitempty"`
	Declined []string          `json:"declined,omitempty"`

	// Repo ("owner/name") and Number name the pull request the state
	// belongs to; a comment whose marker names another is not ours.
	// Markers written before they existed lack them.
	Repo   string `json:"repo,omitempty"`
	Number int    `json:"number,omitempty"`
	// Reviewers are the names of the round's reviewers, in order; FoundBy
	// maps a fingerprint to the reviewers who found it, one bit per
	// position in Reviewers (bit 0 is Reviewers[0]; the 65th reviewer and
	// later are not recorded). A fingerprint without an entry has unknown
	// finders.
	Reviewers []string          `json:"reviewers,omitempty"`
	FoundBy   map[string]uint64 `json:"found_by,omitempty"`
	// Gone lists earlier findings that are no longer open (addressed),
	// most recent first, at most maxGoneFindings: their IDs, first rounds,
	// titles, files and declines stay in the maps above, so a finding that
	// comes back is the same finding.
	Gone []string `json:"gone,omitempty"`
	// Lines maps a finding ID to DeclineLineDigest of the unticked
	// decline-list line the renderer wrote for it; only a ticked line that
	// matches it character for character declines the finding.
	Lines map[string]string `json:"lines,omitempty"`
	// Spans maps a fingerprint to where its code was and a digest of it,
	// so the next round finds it again without a model; Briefs to the
	// start of its explanation (a bounded total), so a finding carried
	// without being reported again still says what it is about.
	Spans  map[string]Span   `json:"spans,omitempty"`
	Briefs map[string]string `json:"briefs,omitempty"`
}

// Reviewed reports whether at least one reviewer ended with StatusOK: only
// such a review moves the recorded round and head (see StateOf). This is the
// one "every reviewer failed" rule.
func (r *Report) Reviewed() bool {
	for _, s := range r.Reviewers {
		if s.Status == StatusOK {
			return true
		}
	}
	return false
}
