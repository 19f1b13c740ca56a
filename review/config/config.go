// Package config turns the action inputs and the configuration file into
// settings: Inputs is the one table of inputs, Values.Settings applies them
// over the file, and Parse reads the file (the `config` input,
// by default .github/deep-review.yml).
//
// The file is read from the pull request's base commit, never from its head,
// so a pull request cannot change how it is itself reviewed: it cannot drop
// reviewers, raise budgets, silence paths or rewrite the instructions. The
// package does no I/O: review/pr reads the file at the base (pr.ReadAt,
// pr.Pull.ReadBase) and Parse checks it.
//
// Precedence, highest first: action inputs and command-line flags that are
// set explicitly, then this file, then the built-in defaults. A setting the
// file leaves out (a zero value in Config) falls through to the default.
//
// The schema is strict: an unknown key, a wrong type or an invalid value is an
// error naming the file, the line and the field, e.g.
//
//	.github/deep-review.yml:7: reviewers[1].api: "rest" is not one of chat, responses
//
// API keys never belong in the file, which anyone who can read the repository
// can read: a reviewer names the environment variable holding its key
// (key-env), set from a repository secret. A literal key is rejected without
// repeating its value.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/deepreview/deep-review/review/llm"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// DefaultPath is where the file is looked for when the config input is not
// set.
const DefaultPath = ".github/deep-review.yml"

// maxErrors is how many problems Parse reports before summing up the rest.
const maxErrors = 20

// MaxSize is the largest config file Parse accepts, in bytes.
const MaxSize = 64 << 10

// Lead values besides a reviewer spec.
const (
	LeadAuto = "auto"
	LeadNone = "none"
)

// APIs a reviewer of provider openai or openai-compatible may name.
const (
	APIChat      = "chat"
	APIResponses = "responses"
)

// Config is the validated content of the file. Zero values mean "not set":
// the caller then uses the action input or the built-in default.
type Config struct {
	// Reviewers in file order; nil when the file names none. No two share
	// a display name (Reviewer.Label).
	Reviewers []Reviewer
	// Lead is "auto", "none", a reviewer spec in provider:model[@effort]
	// form, or "" when unset.
	Lead string
	// MaxTurns is the most model turns per reviewer (at least 2), 0 if unset.
	MaxTurns int
	// MaxTokens is the most tokens per reviewer (at least 1000), 0 if unset.
	MaxTokens int64
	// ReviewerTimeout is the wall-time limit per reviewer, 0 if unset.
	ReviewerTimeout time.Duration
	// Include and Exclude are doublestar globs, each checked to be valid.
	Include, Exclude []string
	// Instructions are extra review instructions, surrounding whitespace
	// removed.
	Instructions string
	// Prices override the built-in price table, keyed by model name
	// (e.g. claude-opus-5-5); nil when unset.
	Prices map[string]Price
	// FailOn is FailOnNever, FailOnImportant, FailOnCritical, or "" when
	// unset.
	FailOn FailOn
	// InlineComments is one of the Inline* values, or "" when unset.
	InlineComments string
	// MaxInlineComments is the most new inline comments per round (at
	// least 1), 0 if unset.
	MaxInlineComments int
	// Scope is ScopeAuto, ScopeFull, or "" when unset.
	Scope string
	// MaxCostUSD is budgets.max-cost-usd, a positive amount, 0 if unset.
	MaxCostUSD float64
}

// Reviewer is one entry of the reviewers list.
type Reviewer struct {
	// Name is the display name; "" means the spec is shown.
	Name string
	// Spec is the parsed provider:model[@effort]; an effort key in the file
	// overrides the spec's own.
	Spec llm.Spec
	// BaseURL is the API endpoint, an absolute http(s) URL, or "".
	BaseURL string
	// API is "chat", "responses" or "" (the provider's default); only
	// openai and openai-compatible reviewers may set it.
	API string
	// KeyEnv names the environment variable holding the API key, or "" for
	// the provider's usual key input.
	KeyEnv string
	// Focus is what this reviewer should look at most (one reviewer on
	// security, another on tests), surrounding whitespace removed; "" for
	// none.
	Focus string
	// ContextTokens is the model's context window in tokens, over the
	// built-in table (llm.ContextWindow); 0 uses the table.
	ContextTokens int
}

// Label is the reviewer's display name: Name when set, else the spec.
func (r Reviewer) Label() string {
	if r.Name != "" {
		return r.Name
	}
	return r.Spec.String()
}

// Price is what a model costs, in USD per million tokens.
type Price struct {
	Input       float64
	CachedInput float64
	CacheWrite  float64
	Output      float64
}

// Error is one problem in the file, at a line, in a field.
type Error struct {
	// File is the path the caller passed to Parse.
	File string
	// Line is 1-based: the line of the key, or of the list item, at fault;
	// 0 when no line applies (e.g. the file is too large).
	Line int
	// Field is the dotted path of the setting, e.g. reviewers[1].api; ""
	// for a problem with the YAML itself.
	Field string
	// Message says what is wrong and how to fix it.
	Message string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Parse validates data, the content of the file at path (used only in
// errors), and returns its settings. An empty file, or one holding only
// comments, is a valid empty Config. Every problem found is reported, each
// as an *Error, joined with errors.Join in line order.
func Parse(data []byte, path string) (cfg *Config, err error) {
	if len(data) > MaxSize {
		return nil, &Error{File: path, Message: fmt.Sprintf("the file is %d bytes; the limit is %d", len(data), MaxSize)}
	}
	file, err := parseYAML(data)
	if err != nil {
		e := &Error{File: path, Message: err.Error()}
		if ye, ok := errors.AsType[yaml.Error](err); ok {
			e.Message = ye.GetMessage()
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				e.Line = tk.Position.Line
			}
		}
		return nil, e
	}
	p := &decoder{file: path, anchors: map[string]ast.Node{}}
	cfg = &Config{}
	var body ast.Node
	switch docs := file.Docs; {
	case len(docs) > 1:
		return nil, &Error{File: path, Line: max(line(docs[1]), line(docs[1].Body)), Message: "more than one YAML document; keep one"}
	case len(docs) == 1:
		body = docs[0].Body
	}
	if body != nil {
		ast.Walk(p, body)
		p.top(body, cfg)
	}
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b *Error) int { return a.Line - b.Line })
		if n := len(p.errs); n > maxErrors {
			p.errs = append(p.errs[:maxErrors], &Error{File: path, Message: fmt.Sprintf("and %d more problems", n-maxErrors)})
		}
		errs := make([]error, len(p.errs))
		for i, e := range p.errs {
			errs[i] = e
		}
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

// maxDepth is the deepest nesting of flow collections ([...] and {...})
// parseYAML accepts: the schema needs three, and the parser's time and memory
// grow faster than linearly with depth.
const maxDepth = 32

// maxBrackets bounds how many [ and { characters a file may hold.
const maxBrackets = 4096

// parseYAML parses data, turning a panic inside the YAML parser into an
// error so that no file, however malformed, can crash the run.
func parseYAML(data []byte) (file *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			file, err = nil, fmt.Errorf("the YAML parser failed on this file (%v); check its syntax", r)
		}
	}()
	// The lexer slows down sharply on hundreds of thousands of nested
	// brackets, before any depth can be checked on its tokens: bound their
	// count first. A real config file has a few dozen.
	if n := bytes.Count(data, []byte("[")) + bytes.Count(data, []byte("{")); n > maxBrackets {
		return nil, fmt.Errorf("the file holds %d [ and { characters; the limit is %d", n, maxBrackets)
	}
	tokens := lexer.Tokenize(string(data))
	depth := 0
	for _, tk := range tokens {
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			if depth++; depth > maxDepth {
				return nil, &yaml.SyntaxError{Message: fmt.Sprintf("[ and { nest more than %d deep", maxDepth), Token: tk}
			}
		case token.SequenceEndType, token.MappingEndType:
			depth = max(depth-1, 0)
		}
	}
	return parser.Parse(tokens, 0)
}

// decoder walks the YAML tree along the schema, collecting errors.
type decoder struct {
	file    string
	anchors map[string]ast.Node
	errs    []*Error
}

// Visit collects anchors so that aliases can be resolved (ast.Visitor).
func (p *decoder) Visit(n ast.Node) ast.Visitor {
	if a, ok := n.(*ast.AnchorNode); ok && a.Name != nil {
		p.anchors[a.Name.String()] = a.Value
	}
	return p
}

func (p *decoder) errorf(lineNo int, field, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: lineNo, Field: field, Message: fmt.Sprintf(format, args...)})
}

// resolve follows anchors and aliases to the node they stand for. Tags are
// refused: the schema has no use for them.
func (p *decoder) resolve(n ast.Node, at int, field string) (ast.Node, bool) {
	for range 16 {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.AliasNode:
			if v.Value == nil {
				p.errorf(at, field, "an alias without a name")
				return nil, false
			}
			target, ok := p.anchors[v.Value.String()]
			if !ok {
				p.errorf(at, field, "alias *%s names no anchor", v.Value.String())
				return nil, false
			}
			n = target
		case *ast.TagNode:
			p.errorf(at, field, "YAML tags are not supported; remove %s", v.Start.Value)
			return nil, false
		default:
			return n, true
		}
	}
	p.errorf(at, field, "aliases nest too deeply")
	return nil, false
}

// line is the 1-based line of n, or 0. Some nodes' GetToken dereferences a
// token the parser may leave nil (a document without "---"), hence the
// recover.
func line(n ast.Node) (l int) {
	if n == nil {
		return 0
	}
	defer func() {
		if recover() != nil {
			l = 0
		}
	}()
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

// kind names a node's type for "want X, got Y" messages.
func kind(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode:
		return "an integer"
	case *ast.FloatNode:
		return "a number"
	case *ast.InfinityNode:
		return "infinity"
	case *ast.NanNode:
		return "not-a-number"
	case *ast.BoolNode:
		return "a boolean"
	case *ast.NullNode:
		return "nothing"
	}
	return "a " + n.Type().String()
}

// entry is one key: value of a mapping.
type entry struct {
	key   string
	line  int
	value ast.Node
}

// mapping returns the entries of n, or reports that n is not a mapping.
func (p *decoder) mapping(n ast.Node, at int, field string) ([]entry, bool) {
	n, ok := p.resolve(n, at, field)
	if !ok {
		return nil, false
	}
	m, ok := n.(ast.MapNode)
	if !ok {
		p.errorf(at, field, "want a mapping of key: value, got %s", kind(n))
		return nil, false
	}
	var out []entry
	seen := map[string]bool{}
	it := m.MapRange()
	for it.Next() {
		kv := it.KeyValue()
		if kv == nil || kv.Key == nil {
			continue
		}
		k := keyText(kv.Key)
		at := line(kv.Key)
		if seen[k] {
			p.errorf(at, join(field, k), "set twice; keep one")
			continue
		}
		seen[k] = true
		if _, merge := kv.Key.(*ast.MergeKeyNode); merge {
			p.errorf(at, field, "merge keys (<<) are not supported; write the keys out")
			continue
		}
		out = append(out, entry{key: k, line: at, value: kv.Value})
	}
	return out, true
}

func keyText(k ast.MapKeyNode) string {
	switch v := k.(type) {
	case *ast.StringNode:
		return v.Value
	case *ast.MappingKeyNode:
		if s, ok := v.Value.(*ast.StringNode); ok {
			return s.Value
		}
		if v.Value != nil {
			return v.Value.String()
		}
	}
	return k.String()
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// isNull reports whether n is an explicit or implicit null ("key:" alone).
func isNull(n ast.Node) bool {
	_, null := n.(*ast.NullNode)
	return n == nil || null
}

func (p *decoder) str(n ast.Node, at int, field string) (string, bool) {
	n, ok := p.resolve(n, at, field)
	if !ok {
		return "", false
	}
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		if v.Value == nil {
			return "", true
		}
		return v.Value.Value, true
	}
	p.errorf(at, field, "want a string, got %s; quote it if it is meant as text", kind(n))
	return "", false
}

func (p *decoder) integer(n ast.Node, at int, field string) (int64, bool) {
	n, ok := p.resolve(n, at, field)
	if !ok {
		return 0, false
	}
	if v, ok := n.(*ast.IntegerNode); ok {
		switch i := v.Value.(type) {
		case int64:
			return i, true
		case uint64:
			if i <= math.MaxInt64 {
				return int64(i), true
			}
		}
		p.errorf(at, field, "%s is too large", v.Token.Value)
		return 0, false
	}
	p.errorf(at, field, "want a whole number, got %s", kind(n))
	return 0, false
}

func (p *decoder) number(n ast.Node, at int, field string) (float64, bool) {
	n, ok := p.resolve(n, at, field)
	if !ok {
		return 0, false
	}
	switch v := n.(type) {
	case *ast.IntegerNode:
		switch i := v.Value.(type) {
		case int64:
			return float64(i), true
		case uint64:
			return float64(i), true
		}
	case *ast.FloatNode:
		if !math.IsInf(v.Value, 0) && !math.IsNaN(v.Value) {
			return v.Value, true
		}
	}
	p.errorf(at, field, "want a number, got %s", kind(n))
	return 0, false
}

// strings reads a list of strings; a single string is a list of one.
func (p *decoder) stringList(n ast.Node, at int, field string) ([]string, bool) {
	n, ok := p.resolve(n, at, field)
	if !ok {
		return nil, false
	}
	switch v := n.(type) {
	case *ast.StringNode:
		return []string{v.Value}, true
	case *ast.SequenceNode:
		out := make([]string, 0, len(v.Values))
		good := true
		for i, item := range v.Values {
			s, ok := p.str(item, lineOr(item, at), fmt.Sprintf("%s[%d]", field, i))
			good = good && ok
			out = append(out, s)
		}
		return out, good
	}
	p.errorf(at, field, "want a list of strings, got %s", kind(n))
	return nil, false
}

func lineOr(n ast.Node, fallback int) int {
	if l := line(n); l > 0 {
		return l
	}
	return fallback
}

// secretKey reports whether a key name looks like it holds a credential.
func secretKey(k string) bool {
	k = strings.ToLower(k)
	if k == "key-env" {
		return false
	}
	for _, word := range []string{"key", "token", "secret", "password"} {
		if strings.Contains(k, word) {
			return true
		}
	}
	return false
}

// unknown reports a key the schema does not have. A key that looks like a
// credential gets its own message, and its value is never repeated.
func (p *decoder) unknown(e entry, field string, known []string) {
	norm := strings.NewReplacer("_", "-", " ", "-").Replace(strings.ToLower(e.key))
	if slices.Contains(known, norm) {
		p.errorf(e.line, join(field, e.key), "unknown key; did you mean %s?", norm)
		return
	}
	if secretKey(e.key) {
		p.errorf(e.line, join(field, e.key), "API keys must not be written in the config file, which anyone who can read the repository can read: remove it (and revoke the key if it was real), store the key as a repository secret, pass it to the step in env:, and name that variable with key-env")
		return
	}
	p.errorf(e.line, join(field, e.key), "unknown key; the keys here are %s", strings.Join(known, ", "))
}

var topKeys = []string{"reviewers", "lead", "budgets", "include", "exclude", "instructions", "prices", "fail-on", "inline-comments", "max-inline-comments", "scope"}

func (p *decoder) top(body ast.Node, cfg *Config) {
	if isNull(body) {
		return
	}
	entries, ok := p.mapping(body, lineOr(body, 1), "")
	if !ok {
		return
	}
	for _, e := range entries {
		if isNull(e.value) && slices.Contains(topKeys, e.key) {
			continue // "key:" with nothing after it leaves the setting unset
		}
		switch e.key {
		case "reviewers":
			cfg.Reviewers = p.reviewers(e)
		case "lead":
			cfg.Lead = p.lead(e)
		case "budgets":
			p.budgets(e, cfg)
		case "include", "exclude":
			globs := p.globs(e)
			if e.key == "include" {
				cfg.Include = globs
			} else {
				cfg.Exclude = globs
			}
		case "instructions":
			s, _ := p.str(e.value, e.line, e.key)
			cfg.Instructions = strings.TrimSpace(s)
		case "prices":
			cfg.Prices = p.prices(e)
		case "fail-on":
			if s, ok := p.str(e.value, e.line, e.key); ok {
				f, err := ParseFailOn(s)
				if err != nil {
					p.errorf(e.line, e.key, "%q is not one of never, important, critical", strings.ToLower(strings.TrimSpace(s)))
				}
				cfg.FailOn = f
			}
		case "inline-comments":
			if s, ok := p.str(e.value, e.line, e.key); ok {
				switch s = strings.ToLower(strings.TrimSpace(s)); s {
				case InlineCritical, InlineImportant, InlineSuggestion, InlineNone:
					cfg.InlineComments = s
				default:
					p.errorf(e.line, e.key, "%q is not one of critical, important, suggestion, none", s)
				}
			}
		case "max-inline-comments":
			if v, ok := p.integer(e.value, e.line, e.key); ok {
				if v < 1 || v > math.MaxInt32 {
					p.errorf(e.line, e.key, "%d: want a whole number of at least 1, e.g. 20 (inline-comments: none turns them off)", v)
				} else {
					cfg.MaxInlineComments = int(v)
				}
			}
		case "scope":
			if s, ok := p.str(e.value, e.line, e.key); ok {
				switch s = strings.ToLower(strings.TrimSpace(s)); s {
				case ScopeAuto, ScopeFull:
					cfg.Scope = s
				default:
					p.errorf(e.line, e.key, "%q is not one of auto, full", s)
				}
			}
		default:
			p.unknown(e, "", topKeys)
		}
	}
}

func (p *decoder) reviewers(e entry) []Reviewer {
	n, ok := p.resolve(e.value, e.line, e.key)
	if !ok {
		return nil
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		p.errorf(e.line, e.key, "want a list of reviewers, got %s", kind(n))
		return nil
	}
	var out []Reviewer
	seen := map[string]int{}
	for i, item := range seq.Values {
		field := fmt.Sprintf("reviewers[%d]", i)
		at := lineOr(item, e.line)
		r, ok := p.reviewer(item, at, field)
		if !ok {
			continue
		}
		if first, dup := seen[r.Label()]; dup {
			p.errorf(at, field, "%q is the same reviewer as reviewers[%d]; give one a different name", r.Label(), first)
			continue
		}
		seen[r.Label()] = i
		out = append(out, r)
	}
	return out
}

var reviewerKeys = []string{"name", "spec", "base-url", "api", "key-env", "effort", "focus", "context-tokens"}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (p *decoder) spec(n ast.Node, at int, field string) (llm.Spec, bool) {
	s, ok := p.str(n, at, field)
	if !ok {
		return llm.Spec{}, false
	}
	spec, err := llm.ParseSpec(s)
	if err != nil {
		p.errorf(at, field, "%s", strings.TrimPrefix(err.Error(), "reviewer "))
		return llm.Spec{}, false
	}
	return spec, true
}

func (p *decoder) reviewer(n ast.Node, at int, field string) (Reviewer, bool) {
	n, ok := p.resolve(n, at, field)
	if !ok {
		return Reviewer{}, false
	}
	switch n.(type) {
	case *ast.StringNode, *ast.LiteralNode:
		spec, ok := p.spec(n, at, field)
		return Reviewer{Spec: spec}, ok
	case ast.MapNode:
	default:
		p.errorf(at, field, "want a spec such as anthropic:claude-opus-5-5@high or a mapping with spec:, got %s", kind(n))
		return Reviewer{}, false
	}
	entries, ok := p.mapping(n, at, field)
	if !ok {
		return Reviewer{}, false
	}
	var r Reviewer
	var effort string
	var apiLine, effortLine int
	hasSpec, good := false, true
	for _, e := range entries {
		f := join(field, e.key)
		var ok bool
		switch e.key {
		case "name":
			r.Name, ok = p.str(e.value, e.line, f)
			if r.Name = strings.TrimSpace(r.Name); strings.ContainsAny(r.Name, "\r\n") {
				p.errorf(e.line, f, "a name is one line of text")
				ok = false
			}
		case "spec":
			r.Spec, ok = p.spec(e.value, e.line, f)
			hasSpec = true
		case "base-url":
			if r.BaseURL, ok = p.str(e.value, e.line, f); ok {
				r.BaseURL = strings.TrimSpace(r.BaseURL)
				u, err := url.Parse(r.BaseURL)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					p.errorf(e.line, f, "%q is not an http(s) URL such as http://localhost:11434/v1", r.BaseURL)
					ok = false
				} else if u.User != nil {
					p.errorf(e.line, f, "the URL carries credentials (user:password@); remove them and use key-env")
					ok = false
				}
			}
		case "api":
			apiLine = e.line
			if r.API, ok = p.str(e.value, e.line, f); ok && r.API != APIChat && r.API != APIResponses {
				p.errorf(e.line, f, "%q is not one of chat, responses", r.API)
				ok = false
			}
		case "key-env":
			if r.KeyEnv, ok = p.str(e.value, e.line, f); ok && !envName.MatchString(r.KeyEnv) {
				// Never echo it: a key pasted here by mistake must not
				// reach the log.
				p.errorf(e.line, f, "want the name of an environment variable such as OLLAMA_KEY (letters, digits and _), not the key itself; the value is not shown")
				r.KeyEnv, ok = "", false
			}
		case "effort":
			effortLine = e.line
			effort, ok = p.str(e.value, e.line, f)
		case "focus":
			r.Focus, ok = p.str(e.value, e.line, f)
			r.Focus = strings.TrimSpace(r.Focus)
		case "context-tokens":
			var v int64
			if v, ok = p.integer(e.value, e.line, f); ok {
				if v < 8000 || v > math.MaxInt32 {
					p.errorf(e.line, f, "%d: want the model's context window in tokens, at least 8000, e.g. 200000", v)
					ok = false
				} else {
					r.ContextTokens = int(v)
				}
			}
		default:
			p.unknown(e, field, reviewerKeys)
		}
		good = good && ok
	}
	if !hasSpec {
		p.errorf(at, field+".spec", "missing; name the model as provider:model[@effort], e.g. anthropic:claude-opus-5-5@high")
		return Reviewer{}, false
	}
	if !good {
		return Reviewer{}, false
	}
	if effort != "" {
		s, err := llm.ParseSpec(r.Spec.Provider + ":" + r.Spec.Model + "@" + effort)
		if err != nil {
			p.errorf(effortLine, field+".effort", "%q is not one of low, medium, high, xhigh", effort)
			return Reviewer{}, false
		}
		r.Spec = s
	}
	if r.API != "" && r.Spec.Provider != llm.ProviderOpenAI && r.Spec.Provider != llm.ProviderOpenAICompatible {
		p.errorf(apiLine, field+".api", "only openai and openai-compatible reviewers choose an API; remove it for %s", r.Spec.Provider)
		return Reviewer{}, false
	}
	return r, true
}

func (p *decoder) lead(e entry) string {
	s, ok := p.str(e.value, e.line, e.key)
	if !ok {
		return ""
	}
	switch s = strings.TrimSpace(s); s {
	case LeadAuto, LeadNone:
		return s
	}
	spec, err := llm.ParseSpec(s)
	if err != nil {
		p.errorf(e.line, e.key, "%s; or use auto or none", strings.TrimPrefix(err.Error(), "reviewer "))
		return ""
	}
	return spec.String()
}

var budgetKeys = []string{"max-turns", "max-tokens", "reviewer-timeout", "max-cost-usd"}

func (p *decoder) budgets(e entry, cfg *Config) {
	entries, ok := p.mapping(e.value, e.line, e.key)
	if !ok {
		return
	}
	for _, b := range entries {
		f := join(e.key, b.key)
		if isNull(b.value) && slices.Contains(budgetKeys, b.key) {
			continue
		}
		switch b.key {
		case "max-turns":
			if v, ok := p.integer(b.value, b.line, f); ok {
				if v < 2 || v > math.MaxInt32 {
					p.errorf(b.line, f, "%d: want a whole number of at least 2, e.g. 40", v)
				} else {
					cfg.MaxTurns = int(v)
				}
			}
		case "max-tokens":
			if v, ok := p.integer(b.value, b.line, f); ok {
				if v < 1000 {
					p.errorf(b.line, f, "%d: want a whole number of at least 1000, e.g. 2000000", v)
				} else {
					cfg.MaxTokens = v
				}
			}
		case "reviewer-timeout":
			n, ok := p.resolve(b.value, b.line, f)
			if !ok {
				continue
			}
			s, isString := n.(*ast.StringNode)
			if !isString {
				p.errorf(b.line, f, "want a duration such as 15m or 90s, got %s", kind(n))
				continue
			}
			d, err := time.ParseDuration(strings.TrimSpace(s.Value))
			if err != nil || d <= 0 {
				p.errorf(b.line, f, "%q: want a positive duration such as 15m or 90s", s.Value)
				continue
			}
			cfg.ReviewerTimeout = d
		case "max-cost-usd":
			if v, ok := p.number(b.value, b.line, f); ok {
				if v <= 0 {
					p.errorf(b.line, f, "%g: want a positive number of US dollars, e.g. 5", v)
				} else {
					cfg.MaxCostUSD = v
				}
			}
		default:
			p.unknown(b, e.key, budgetKeys)
		}
	}
}

func (p *decoder) globs(e entry) []string {
	list, ok := p.stringList(e.value, e.line, e.key)
	if !ok {
		return nil
	}
	var out []string
	for i, g := range list {
		g = strings.TrimSpace(g)
		if g == "" {
			p.errorf(e.line, fmt.Sprintf("%s[%d]", e.key, i), "an empty glob; remove it")
			continue
		}
		if !doublestar.ValidatePattern(g) {
			p.errorf(e.line, fmt.Sprintf("%s[%d]", e.key, i), "%q is not a valid glob (check its brackets and braces)", g)
			continue
		}
		out = append(out, g)
	}
	return out
}

var priceKeys = []string{"input", "cached-input", "cache-write", "output"}

// prices reads model: {input, cached-input, cache-write, output}. input and
// output are required; cached-input and cache-write default to input, so a
// partial entry never under-counts.
func (p *decoder) prices(e entry) map[string]Price {
	models, ok := p.mapping(e.value, e.line, e.key)
	if !ok {
		return nil
	}
	out := map[string]Price{}
	for _, m := range models {
		field := join(e.key, m.key)
		if strings.TrimSpace(m.key) == "" {
			p.errorf(m.line, e.key, "an empty model name")
			continue
		}
		entries, ok := p.mapping(m.value, m.line, field)
		if !ok {
			continue
		}
		var price Price
		set := map[string]bool{}
		good := true
		for _, k := range entries {
			f := join(field, k.key)
			var dst *float64
			switch k.key {
			case "input":
				dst = &price.Input
			case "cached-input":
				dst = &price.CachedInput
			case "cache-write":
				dst = &price.CacheWrite
			case "output":
				dst = &price.Output
			default:
				p.unknown(k, field, priceKeys)
				good = false
				continue
			}
			v, ok := p.number(k.value, k.line, f)
			if ok && v < 0 {
				p.errorf(k.line, f, "%g is negative; prices are USD per million tokens, 0 or more", v)
				ok = false
			}
			good = good && ok
			*dst = v
			set[k.key] = true
		}
		for _, required := range []string{"input", "output"} {
			if !set[required] {
				p.errorf(m.line, join(field, required), "missing; give the USD price per million tokens")
				good = false
			}
		}
		if !good {
			continue
		}
		if !set["cached-input"] {
			price.CachedInput = price.Input
		}
		if !set["cache-write"] {
			price.CacheWrite = price.Input
		}
		out[m.key] = price
	}
	return out
}
