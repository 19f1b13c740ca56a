package cli

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/deepreview/deep-review/review/config"
	"github.com/deepreview/deep-review/review/llm"
)

// input is one setting that is both an action input (INPUT_<NAME> under
// Actions) and a command-line flag of the same name. The table below is the
// single list of them; action.yml is tested against it.
type input struct {
	name string
	// def is the flag's default; action.yml may show an expression instead
	// (github-token's ${{ github.token }}).
	def  string
	desc string
	// secret inputs are masked in the log as soon as they are read.
	secret bool
	// file inputs may also be set in the config file, which applies when
	// the input is not given; their default applies only after the file.
	// action.yml shows no default for them, so the runner does not pass
	// one that would hide the file's.
	file bool
}

var inputs = []input{
	{name: "github-token", desc: "Token for the GitHub API: reads the PR, writes the sticky comment. Defaults to the workflow's token; falls back to GITHUB_TOKEN.", secret: true},
	{name: "pr-number", desc: "Pull request to review when the event does not name one (workflow_dispatch, the command line)."},
	{name: "reviewers", file: true, desc: "Reviewers, one per line or comma-separated: provider:model[@effort], provider one of anthropic, openai, openai-compatible, gemini; effort low, medium, high or xhigh. Default: one per provider whose API key is set."},
	{name: "lead", file: true, def: "auto", desc: "The model that verifies merged findings and writes the summary: a reviewer spec, auto (the first reviewer's model) or none (deterministic rules decide)."},
	{name: "anthropic-api-key", desc: "Anthropic API key (or ANTHROPIC_API_KEY).", secret: true},
	{name: "openai-api-key", desc: "OpenAI API key (or OPENAI_API_KEY).", secret: true},
	{name: "gemini-api-key", desc: "Gemini API key (or GEMINI_API_KEY / GOOGLE_API_KEY).", secret: true},
	{name: "openai-compatible-api-key", desc: "Key for the OpenAI-compatible endpoint (or OPENAI_COMPATIBLE_API_KEY).", secret: true},
	{name: "anthropic-base-url", desc: "Anthropic API base URL (or ANTHROPIC_BASE_URL)."},
	{name: "openai-base-url", desc: "OpenAI API base URL (or OPENAI_BASE_URL)."},
	{name: "openai-compatible-base-url", desc: "Base URL of the OpenAI-compatible Chat Completions endpoint, e.g. http://localhost:11434/v1 (or OPENAI_COMPATIBLE_BASE_URL)."},
	{name: "gemini-base-url", desc: "Gemini API base URL (or GOOGLE_GEMINI_BASE_URL)."},
	{name: "config", def: ".github/deep-review.yml", desc: "Config file, read from the base branch."},
	{name: "instructions", file: true, desc: "Extra review instructions for every reviewer."},
	{name: "include", file: true, desc: "Globs of files to review, one per line or comma-separated; default all."},
	{name: "exclude", file: true, desc: "Globs of files to skip, in addition to vendored and generated files."},
	{name: "fail-on", file: true, def: "never", desc: "Fail the step when findings reach this severity: never, important or critical."},
	{name: "comment", def: "true", desc: "Post or update the sticky PR comment."},
	{name: "summary", def: "true", desc: "Write the report to the job summary."},
	{name: "artifact", def: "true", desc: "Upload the report folder as a workflow artifact."},
	{name: "annotations", def: "true", desc: "Annotate the top findings on their files and lines."},
	{name: "max-turns", file: true, def: "40", desc: "Most model turns per reviewer; the last one forces the reviewer to submit."},
	{name: "max-tokens", file: true, def: "2000000", desc: "Most tokens (input, cached and output together) per reviewer; near the limit the reviewer is made to submit."},
	{name: "reviewer-timeout", file: true, def: "15m", desc: "Wall-time limit per reviewer, e.g. 10m; a reviewer still running then is reported as timed out."},
	{name: "mode", def: "review", desc: "review: review PRs. plan: only list the stale open PRs as JSON in the pull-requests output, for a matrix job."},
	{name: "max-prs", def: "10", desc: "Most PRs one scheduled run reviews in review mode."},
	{name: "bot-login", def: "github-actions[bot]", desc: "Login whose comments carry deep-review's state; set it to your App's <slug>[bot] when the token is an App's."},
	{name: "out-dir", def: "deep-review-out", desc: "Folder for report.md, comment.md, report.html, report.json, report.sarif and raw/."},
}

// settings are the inputs, parsed and checked.
type settings struct {
	GitHubToken     string
	PRNumber        int
	Reviewers       string
	Lead            string
	Keys            map[string]string // provider -> API key
	BaseURLs        map[string]string // provider -> base URL
	Config          string
	Instructions    string
	Include         []string
	Exclude         []string
	FailOn          string
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
	// FileReviewers are the config file's reviewers, used when the
	// reviewers input is empty; FileKeys holds the keys their key-env
	// variables named, by reviewer label.
	FileReviewers []config.Reviewer
	FileKeys      map[string]string
	// Prices is the price table with the config file's overrides.
	Prices map[string]llm.Price
}

// inputValues holds the raw text of every input.
type inputValues map[string]*string

// registerInputs adds a string flag per input to fs.
func registerInputs(fs *flag.FlagSet) inputValues {
	v := inputValues{}
	for _, in := range inputs {
		if in.file {
			desc := in.desc + " Also settable in the config file."
			if in.def != "" {
				desc += " Default " + in.def + "."
			}
			v[in.name] = fs.String(in.name, "", desc)
			continue
		}
		v[in.name] = fs.String(in.name, in.def, in.desc)
	}
	// --out is the design's short alias of --out-dir.
	fs.Var(aliasValue{v["out-dir"]}, "out", "alias of --out-dir")
	return v
}

// aliasValue makes a second flag write the same string.
type aliasValue struct{ p *string }

func (a aliasValue) String() string {
	if a.p == nil {
		return ""
	}
	return *a.p
}
func (a aliasValue) Set(s string) error { *a.p = s; return nil }

// fromActionEnv fills every input that Actions passed as INPUT_<NAME> and
// that no flag set explicitly. Actions keeps the hyphens: INPUT_PR-NUMBER.
func (v inputValues) fromActionEnv(getenv func(string) string, setByFlag map[string]bool) {
	for _, in := range inputs {
		if setByFlag[in.name] {
			continue
		}
		if s := strings.TrimSpace(getenv("INPUT_" + strings.ToUpper(in.name))); s != "" {
			*v[in.name] = s
		}
	}
}

// parse checks every input and applies the environment fallbacks for keys,
// base URLs and the GitHub token (an input wins over the environment). An
// input that the config file may set takes, when not given, the file's
// value (cfg may be nil), then its default.
func (v inputValues) parse(getenv func(string) string, cfg *config.Config) (settings, error) {
	fromFile := fileValues(cfg)
	get := func(name string) string {
		if s := strings.TrimSpace(*v[name]); s != "" {
			return s
		}
		for _, in := range inputs {
			if in.name == name && in.file {
				if s := fromFile[name]; s != "" {
					return s
				}
				return in.def
			}
		}
		return ""
	}
	s := settings{
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
		Keys: map[string]string{
			"anthropic":         first(get("anthropic-api-key"), getenv("ANTHROPIC_API_KEY")),
			"openai":            first(get("openai-api-key"), getenv("OPENAI_API_KEY")),
			"gemini":            first(get("gemini-api-key"), getenv("GEMINI_API_KEY"), getenv("GOOGLE_API_KEY")),
			"openai-compatible": first(get("openai-compatible-api-key"), getenv("OPENAI_COMPATIBLE_API_KEY")),
		},
		BaseURLs: map[string]string{
			"anthropic":         first(get("anthropic-base-url"), getenv("ANTHROPIC_BASE_URL")),
			"openai":            first(get("openai-base-url"), getenv("OPENAI_BASE_URL")),
			"gemini":            first(get("gemini-base-url"), getenv("GOOGLE_GEMINI_BASE_URL")),
			"openai-compatible": first(get("openai-compatible-base-url"), getenv("OPENAI_COMPATIBLE_BASE_URL")),
		},
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
	switch s.FailOn = strings.ToLower(get("fail-on")); s.FailOn {
	case "never", "important", "critical":
	default:
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
	if s.OutDir == "" {
		return s, fmt.Errorf("out-dir is empty: name a folder for the report, e.g. deep-review-out")
	}
	if s.BotLogin == "" {
		return s, fmt.Errorf("bot-login is empty: use github-actions[bot], or your App's <slug>[bot]")
	}
	return s, nil
}

// secrets are the values that must never reach a log, prompt or comment.
func (s settings) secrets() []string {
	var out []string
	for _, k := range []string{s.GitHubToken, s.Keys["anthropic"], s.Keys["openai"], s.Keys["gemini"], s.Keys["openai-compatible"]} {
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

// fileValues are the config file's settings in input form, by input name.
func fileValues(cfg *config.Config) map[string]string {
	if cfg == nil {
		return nil
	}
	v := map[string]string{
		"lead":         cfg.Lead,
		"instructions": cfg.Instructions,
		"include":      strings.Join(cfg.Include, "\n"),
		"exclude":      strings.Join(cfg.Exclude, "\n"),
		"fail-on":      cfg.FailOn,
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
	return v
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
