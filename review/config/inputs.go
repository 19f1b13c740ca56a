package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/llm"
)

// Input is one setting that is both an action input (INPUT_<NAME> under
// Actions) and a command-line flag of the same name. Inputs is the single
// list of them; action.yml is tested against it.
type Input struct {
	Name string
	// Default is the flag's default; action.yml may show an expression
	// instead (github-token's ${{ github.token }}).
	Default     string
	Description string
	// Secret inputs are masked in the log as soon as they are read.
	Secret bool
	// File inputs may also be set in the config file, which applies when
	// the input is not given; their default applies only after the file.
	// action.yml shows no default for them, so the runner does not pass
	// one that would hide the file's.
	File bool
}

// Inputs lists every input in action.yml's order. Callers must not modify it.
var Inputs = []Input{
	{Name: "github-token", Description: "Token for the GitHub API: reads the PR, writes the sticky comment. Defaults to the workflow's token; falls back to GITHUB_TOKEN.", Secret: true},
	{Name: "pr-number", Description: "Pull request to review when the event does not name one (workflow_dispatch, the command line)."},
	{Name: "reviewers", File: true, Description: "Reviewers, one per line or comma-separated: provider:model[@effort], provider one of anthropic, openai, openai-compatible, gemini; effort low, medium, high or xhigh. Default: one per provider whose API key is set."},
	{Name: "lead", File: true, Default: "auto", Description: "The model that verifies merged findings and writes the summary: a reviewer spec, auto (the first reviewer's model) or none (deterministic rules decide)."},
	{Name: "anthropic-api-key", Description: "Anthropic API key (or ANTHROPIC_API_KEY).", Secret: true},
	{Name: "openai-api-key", Description: "OpenAI API key (or OPENAI_API_KEY).", Secret: true},
	{Name: "gemini-api-key", Description: "Gemini API key (or GEMINI_API_KEY / GOOGLE_API_KEY).", Secret: true},
	{Name: "openai-compatible-api-key", Description: "Key for the OpenAI-compatible endpoint (or OPENAI_COMPATIBLE_API_KEY).", Secret: true},
	{Name: "anthropic-base-url", Description: "Anthropic API base URL (or ANTHROPIC_BASE_URL)."},
	{Name: "openai-base-url", Description: "OpenAI API base URL (or OPENAI_BASE_URL)."},
	{Name: "openai-compatible-base-url", Description: "Base URL of the OpenAI-compatible Chat Completions endpoint, e.g. http://localhost:11434/v1 (or OPENAI_COMPATIBLE_BASE_URL)."},
	{Name: "gemini-base-url", Description: "Gemini API base URL (or GOOGLE_GEMINI_BASE_URL)."},
	{Name: "config", Default: ".github/deep-review.yml", Description: "Config file, read from the base branch."},
	{Name: "instructions", File: true, Description: "Extra review instructions for every reviewer."},
	{Name: "include", File: true, Description: "Globs of files to review, one per line or comma-separated; default all."},
	{Name: "exclude", File: true, Description: "Globs of files to skip, in addition to vendored and generated files."},
	{Name: "fail-on", File: true, Default: "never", Description: "Fail the step when findings reach this severity: never, important or critical."},
	{Name: "comment", Default: "true", Description: "Post or update the sticky PR comment."},
	{Name: "summary", Default: "true", Description: "Write the report to the job summary."},
	{Name: "artifact", Default: "true", Description: "Upload the report folder as a workflow artifact."},
	{Name: "annotations", Default: "true", Description: "Annotate the top findings on their files and lines."},
	{Name: "max-turns", File: true, Default: "40", Description: "Most model turns per reviewer; the last one forces the reviewer to submit."},
	{Name: "max-tokens", File: true, Default: "2000000", Description: "Most tokens (input, cached and output together) per reviewer; near the limit the reviewer is made to submit."},
	{Name: "reviewer-timeout", File: true, Default: "15m", Description: "Wall-time limit per reviewer, e.g. 10m; a reviewer still running then is reported as timed out."},
	{Name: "mode", Default: "review", Description: "review: review PRs. plan: only list the stale open PRs as JSON in the pull-requests output, for a matrix job."},
	{Name: "max-prs", Default: "10", Description: "Most PRs one scheduled run reviews in review mode."},
	{Name: "bot-login", Default: review.DefaultBotLogin, Description: "Login whose comments carry deep-review's state; set it to your App's <slug>[bot] when the token is an App's."},
	{Name: "out-dir", Default: "deep-review-out", Description: "Folder for report.md, comment.md, report.html, report.json, report.sarif and raw/."},
	{Name: "inline-comments", File: true, Default: InlineImportant, Description: "Lowest severity posted as inline review comments on the changed lines: critical, important, suggestion or none."},
	{Name: "max-inline-comments", File: true, Default: "20", Description: "Most new inline review comments per round, most severe first."},
	{Name: "scope", File: true, Default: ScopeAuto, Description: "auto: a later round reviews what changed since the last review; full: every round reviews the whole pull request."},
	{Name: "max-cost-usd", File: true, Description: "Most estimated US dollars one review may spend, e.g. 5; default no limit."},
	{Name: "state-key", Secret: true, Description: "A repository secret that signs the sticky comment's state marker, so no other comment can pose as the last review."},
}

// The inline-comments values, lowest severity posted first.
const (
	InlineCritical   = "critical"
	InlineImportant  = "important"
	InlineSuggestion = "suggestion"
	InlineNone       = "none"
)

// The scope values.
const (
	ScopeAuto = "auto"
	ScopeFull = "full"
)

// Settings are the inputs, parsed and checked.
type Settings struct {
	GitHubToken string
	PRNumber    int
	Reviewers   string
	Lead        string
	// Keys and BaseURLs are each provider's API key and base URL, by
	// Providers' Name, from its input or the environment.
	Keys            map[string]string
	BaseURLs        map[string]string
	Config          string
	Instructions    string
	Include         []string
	Exclude         []string
	FailOn          FailOn
	Comment         bool
	Summary         bool
	Artifact        bool
	Annotations     bool
	MaxTurns        int
	MaxTokens       int64
	ReviewerTimeout time.Duration
	Mode            string
	MaxPRs          int
	BotLogin        string
	OutDir          string
	// StateKey is the state-key secret; "" leaves the marker unsigned.
	StateKey string
	// Inline is the inline-comments value: InlineCritical, InlineImportant,
	// InlineSuggestion or InlineNone.
	Inline string
	// MaxInline is the most new inline comments per round, at least 1.
	MaxInline int
	// Scope is ScopeAuto or ScopeFull.
	Scope string
	// MaxCostUSD is the most estimated dollars per review; 0 means no limit.
	MaxCostUSD float64
	// FileReviewers are the config file's reviewers, used when the
	// reviewers input is empty; FileKeys holds the keys their key-env
	// variables named, by reviewer label.
	FileReviewers []Reviewer
	FileKeys      map[string]string
	// Prices is the price table with the config file's overrides.
	Prices map[string]llm.Price
}

// Values holds the raw text of every input, by name; a name that is
// missing is an input not given.
type Values map[string]string

// Settings checks every input and applies the environment fallbacks for keys,
// base URLs and the GitHub token (an input wins over the environment). An
// input that the config file may set takes, when not given, the file's
// value (cfg may be nil), then its default.
func (v Values) Settings(getenv func(string) string, cfg *Config) (Settings, error) {
	fromFile := fileValues(cfg)
	get := func(name string) string {
		if s := strings.TrimSpace(v[name]); s != "" {
			return s
		}
		for _, in := range Inputs {
			if in.Name == name && in.File {
				if s := fromFile[name]; s != "" {
					return s
				}
				return in.Default
			}
		}
		return ""
	}
	s := Settings{
		GitHubToken:  first(get("github-token"), getenv("GITHUB_TOKEN")),
		Reviewers:    get("reviewers"),
		Lead:         get("lead"),
		Config:       get("config"),
		Instructions: get("instructions"),
		Include:      splitList(get("include")),
		Exclude:      splitList(get("exclude")),
		Mode:         get("mode"),
		BotLogin:     get("bot-login"),
		OutDir:       get("out-dir"),
		StateKey:     get("state-key"),
		Keys:         map[string]string{},
		BaseURLs:     map[string]string{},
	}
	for _, p := range Providers {
		key := get(p.KeyInput)
		for _, env := range p.KeyEnv {
			key = first(key, getenv(env))
		}
		s.Keys[p.Name] = key
		s.BaseURLs[p.Name] = first(get(p.BaseURLInput), getenv(p.BaseURLEnv))
	}
	s.Prices = llm.DefaultPrices()
	if cfg != nil {
		overrides := map[string]llm.Price{}
		for model, p := range cfg.Prices {
			overrides[model] = llm.Price{Input: p.Input, CachedInput: p.CachedInput, CacheWrite: p.CacheWrite, Output: p.Output}
		}
		s.Prices = llm.MergePrices(overrides)
		if s.Reviewers == "" && len(cfg.Reviewers) > 0 {
			s.FileReviewers = cfg.Reviewers
			s.FileKeys = map[string]string{}
			for _, r := range cfg.Reviewers {
				if r.KeyEnv != "" {
					s.FileKeys[r.Label()] = strings.TrimSpace(getenv(r.KeyEnv))
				}
			}
		}
	}
	var err error
	if p := get("pr-number"); p != "" {
		if s.PRNumber, err = strconv.Atoi(strings.TrimPrefix(p, "#")); err != nil || s.PRNumber < 1 {
			return s, fmt.Errorf("pr-number %q: want a pull request number such as 42", p)
		}
	}
	if s.FailOn, err = ParseFailOn(get("fail-on")); err != nil {
		return s, fmt.Errorf("fail-on %q: use never, important or critical", get("fail-on"))
	}
	switch s.Mode {
	case "review", "plan":
	default:
		return s, fmt.Errorf("mode %q: use review or plan", s.Mode)
	}
	for name, dst := range map[string]*bool{"comment": &s.Comment, "summary": &s.Summary, "artifact": &s.Artifact, "annotations": &s.Annotations} {
		if *dst, err = parseBool(get(name)); err != nil {
			return s, fmt.Errorf("%s %q: use true or false", name, get(name))
		}
	}
	if s.MaxTurns, err = strconv.Atoi(get("max-turns")); err != nil || s.MaxTurns < 2 {
		return s, fmt.Errorf("max-turns %q: want a whole number of at least 2, e.g. 40", get("max-turns"))
	}
	if s.MaxPRs, err = strconv.Atoi(get("max-prs")); err != nil || s.MaxPRs < 1 {
		return s, fmt.Errorf("max-prs %q: want a whole number of at least 1", get("max-prs"))
	}
	if s.MaxTokens, err = strconv.ParseInt(strings.ReplaceAll(get("max-tokens"), "_", ""), 10, 64); err != nil || s.MaxTokens < 1000 {
		return s, fmt.Errorf("max-tokens %q: want a whole number of at least 1000, e.g. 2000000", get("max-tokens"))
	}
	if s.ReviewerTimeout, err = time.ParseDuration(get("reviewer-timeout")); err != nil || s.ReviewerTimeout <= 0 {
		return s, fmt.Errorf("reviewer-timeout %q: want a duration such as 10m or 90s", get("reviewer-timeout"))
	}
	switch s.Inline = strings.ToLower(get("inline-comments")); s.Inline {
	case InlineCritical, InlineImportant, InlineSuggestion, InlineNone:
	default:
		return s, fmt.Errorf("inline-comments %q: use critical, important, suggestion or none", get("inline-comments"))
	}
	if s.MaxInline, err = strconv.Atoi(get("max-inline-comments")); err != nil || s.MaxInline < 1 {
		return s, fmt.Errorf("max-inline-comments %q: want a whole number of at least 1, e.g. 20 (inline-comments: none turns them off)", get("max-inline-comments"))
	}
	switch s.Scope = strings.ToLower(get("scope")); s.Scope {
	case ScopeAuto, ScopeFull:
	default:
		return s, fmt.Errorf("scope %q: use auto or full", get("scope"))
	}
	if c := get("max-cost-usd"); c != "" {
		if s.MaxCostUSD, err = parseUSD(c); err != nil {
			return s, fmt.Errorf("max-cost-usd %q: want a positive number of US dollars such as 5 or 12.50", c)
		}
	}
	if s.OutDir == "" {
		return s, fmt.Errorf("out-dir is empty: name a folder for the report, e.g. deep-review-out")
	}
	if s.BotLogin == "" {
		return s, fmt.Errorf("bot-login is empty: use github-actions[bot], or your App's <slug>[bot]")
	}
	return s, nil
}

// Secrets are the values that must never reach a log, prompt or comment:
// the GitHub token, every API key and the state key, in that order, then
// the config file reviewers' keys.
func (s Settings) Secrets() []string {
	var out []string
	keys := []string{s.GitHubToken}
	for _, p := range Providers {
		keys = append(keys, s.Keys[p.Name])
	}
	for _, k := range append(keys, s.StateKey) {
		if k != "" {
			out = append(out, k)
		}
	}
	for _, k := range s.FileKeys {
		if k != "" {
			out = append(out, k)
		}
	}
	return out
}

// Key is the API key for provider: override when it is not blank (a config
// file reviewer's key-env), else the provider's input or environment.
func (s Settings) Key(provider, override string) string {
	return first(override, s.Keys[provider])
}

// BaseURL is the API base URL for provider: override when it is not blank
// (a config file reviewer's base-url), else the provider's input or
// environment.
func (s Settings) BaseURL(provider, override string) string {
	return first(override, s.BaseURLs[provider])
}

// fileValues are the config file's settings in input form, by input name.
func fileValues(cfg *Config) map[string]string {
	if cfg == nil {
		return nil
	}
	v := map[string]string{
		"lead":         cfg.Lead,
		"instructions": cfg.Instructions,
		"include":      strings.Join(cfg.Include, "\n"),
		"exclude":      strings.Join(cfg.Exclude, "\n"),
		"fail-on":      string(cfg.FailOn),
	}
	if cfg.MaxTurns > 0 {
		v["max-turns"] = strconv.Itoa(cfg.MaxTurns)
	}
	if cfg.MaxTokens > 0 {
		v["max-tokens"] = strconv.FormatInt(cfg.MaxTokens, 10)
	}
	if cfg.ReviewerTimeout > 0 {
		v["reviewer-timeout"] = cfg.ReviewerTimeout.String()
	}
	v["inline-comments"] = cfg.InlineComments
	if cfg.MaxInlineComments > 0 {
		v["max-inline-comments"] = strconv.Itoa(cfg.MaxInlineComments)
	}
	v["scope"] = cfg.Scope
	if cfg.MaxCostUSD > 0 {
		v["max-cost-usd"] = strconv.FormatFloat(cfg.MaxCostUSD, 'f', -1, 64)
	}
	return v
}

// parseUSD reads a positive, finite amount of dollars; a leading $ is
// allowed.
func parseUSD(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimPrefix(strings.TrimSpace(s), "$"), 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("not a positive amount")
	}
	return v, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "1", "on":
		return true, nil
	case "false", "no", "0", "off":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean")
}

func first(values ...string) string {
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// splitList splits a list given one per line or comma-separated.
func splitList(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		for _, item := range strings.Split(line, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}
