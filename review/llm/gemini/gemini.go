// Package gemini is the llm.Model adapter for the Gemini API, through the
// official SDK (google.golang.org/genai).
package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"google.golang.org/genai"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/llm"
)

// Defaults used when a Config field is zero.
const (
	// DefaultMaxRetries is how many times a request is retried. The SDK
	// retries nothing unless told to; this adapter always configures it to
	// retry connection errors and the statuses 408, 429, 500, 502, 503 and
	// 504 with exponential backoff and jitter. The SDK does not read
	// Retry-After.
	DefaultMaxRetries = 4
	// DefaultRetryDelay is the first backoff; each retry doubles it, up to
	// a minute.
	DefaultRetryDelay = time.Second
	// DefaultRequestTimeout bounds one call, retries included (the SDK
	// applies its timeout around all attempts).
	DefaultRequestTimeout = 10 * time.Minute
	// DefaultBaseURL is the Gemini API root.
	DefaultBaseURL = "https://generativelanguage.googleapis.com/"
)

// Config configures one Gemini model. APIKey and Model are required, even
// with a custom BaseURL: the SDK refuses to build a client without a key.
type Config struct {
	// Model is the model id, e.g. gemini-3-pro-preview.
	Model string
	// Effort is "", low, medium, high or xhigh. Gemini 3 models get it as
	// a thinking level (xhigh is HIGH); Gemini 2.x models as a thinking
	// budget.
	Effort string
	// APIKey is sent as x-goog-api-key; it is never logged or recorded.
	APIKey string
	// BaseURL is the API root (the SDK adds /v1beta); empty means
	// DefaultBaseURL. Never taken from the environment.
	BaseURL string
	// HTTPClient sends the requests; nil means a plain http.Client.
	HTTPClient *http.Client
	// MaxRetries: 0 means DefaultMaxRetries, negative means none.
	MaxRetries int
	// RetryDelay is the first backoff; 0 means DefaultRetryDelay.
	RetryDelay time.Duration
	// MaxOutputTokens applies when a request sets none; 0 sends no limit.
	MaxOutputTokens int64
	// RequestTimeout bounds one call with its retries; 0 means
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
}

// Model is an llm.Model for one Gemini model. Each reply's Opaque holds
// the candidate's content as the SDK decoded it, thought signatures
// included, and is sent back as that content on later turns. Function calls
// that come without an id get one ("gemini_call_N"), which is dropped
// again when the responses are sent.
type Model struct {
	client *genai.Client
	cfg    Config
	calls  int
}

// generatedIDPrefix marks ids this adapter made up for calls that had none.
const generatedIDPrefix = "gemini_call_"

// New returns the adapter for cfg. The client's backend is the Gemini API,
// set explicitly so no GOOGLE_GENAI_USE_VERTEXAI or other variable of the
// environment changes it; key and base URL come only from cfg.
func New(cfg Config) (*Model, error) {
	if cfg.Model == "" {
		return nil, errors.New("gemini: the model is empty")
	}
	if cfg.APIKey == "" {
		return nil, fmt.Errorf("gemini:%s: no API key", cfg.Model)
	}
	attempts := cfg.MaxRetries
	if attempts == 0 {
		attempts = DefaultMaxRetries
	}
	attempts = max(attempts, 0) + 1
	delay := cfg.RetryDelay
	if delay <= 0 {
		delay = DefaultRetryDelay
	}
	timeout := cfg.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	seconds := delay.Seconds()
	client, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		APIKey:     cfg.APIKey,
		Backend:    genai.BackendGeminiAPI,
		HTTPClient: hc,
		HTTPOptions: genai.HTTPOptions{
			BaseURL: base,
			Timeout: &timeout,
			RetryOptions: &genai.HTTPRetryOptions{
				Attempts:        genai.Ptr(int32(attempts)),
				InitialDelay:    &seconds,
				MaxDelay:        genai.Ptr(60.0),
				ExpBase:         genai.Ptr(2.0),
				Jitter:          &seconds,
				HTTPStatusCodes: []int32{408, 429, 500, 502, 503, 504},
			},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("gemini:%s: %w", cfg.Model, err)
	}
	return &Model{client: client, cfg: cfg}, nil
}

// Identity names the model.
func (m *Model) Identity() llm.Identity {
	return llm.Identity{Provider: llm.ProviderGemini, Model: m.cfg.Model, Effort: m.cfg.Effort}
}

// Turn sends the conversation and returns the reply. Gemini reports STOP
// for tool turns too, so the stop reason follows the function calls. Usage
// is normalised: Input is the prompt less its cached part, Output counts
// the thoughts as well as the candidates (both are billed as output).
func (m *Model) Turn(ctx context.Context, req llm.Request) (*llm.Response, error) {
	contents, config, err := m.request(req)
	if err != nil {
		return nil, fmt.Errorf("gemini:%s: %w", m.cfg.Model, err)
	}
	resp, err := m.client.Models.GenerateContent(ctx, m.cfg.Model, contents, config)
	if err != nil {
		return nil, m.wrap(err)
	}
	out, err := m.reply(resp)
	if err != nil {
		return nil, fmt.Errorf("gemini:%s: response %s: %w", m.cfg.Model, resp.ResponseID, err)
	}
	return out, nil
}

func (m *Model) request(req llm.Request) ([]*genai.Content, *genai.GenerateContentConfig, error) {
	config := &genai.GenerateContentConfig{}
	if req.System != "" {
		config.SystemInstruction = &genai.Content{Parts: []*genai.Part{{Text: req.System}}}
	}
	maxTokens := req.MaxOutputTokens
	if maxTokens <= 0 {
		maxTokens = m.cfg.MaxOutputTokens
	}
	if maxTokens > 0 {
		config.MaxOutputTokens = int32(min(maxTokens, 1<<31-1))
	}
	if tc := thinking(m.cfg.Model, m.cfg.Effort); tc != nil {
		config.ThinkingConfig = tc
	}
	if len(req.Tools) > 0 {
		tool := &genai.Tool{}
		for _, t := range req.Tools {
			var s map[string]any
			if len(t.Schema) > 0 {
				if err := json.Unmarshal(t.Schema, &s); err != nil {
					return nil, nil, fmt.Errorf("tool %s: schema: %w", t.Name, err)
				}
			} else {
				s = map[string]any{"type": "object", "properties": map[string]any{}}
			}
			tool.FunctionDeclarations = append(tool.FunctionDeclarations, &genai.FunctionDeclaration{
				Name: t.Name, Description: t.Description, ParametersJsonSchema: s,
			})
		}
		config.Tools = []*genai.Tool{tool}
	}
	switch req.ToolChoice.Mode {
	case "", llm.ChoiceAuto:
	case llm.ChoiceRequired:
		config.ToolConfig = &genai.ToolConfig{FunctionCallingConfig: &genai.FunctionCallingConfig{Mode: genai.FunctionCallingConfigModeAny}}
	case llm.ChoiceTool:
		if req.ToolChoice.Name == "" {
			return nil, nil, errors.New("tool choice \"tool\" names no tool")
		}
		config.ToolConfig = &genai.ToolConfig{FunctionCallingConfig: &genai.FunctionCallingConfig{
			Mode: genai.FunctionCallingConfigModeAny, AllowedFunctionNames: []string{req.ToolChoice.Name},
		}}
	default:
		return nil, nil, fmt.Errorf("unknown tool choice mode %q; use auto, required or tool", req.ToolChoice.Mode)
	}
	var contents []*genai.Content
	for i, msg := range req.Messages {
		c, err := content(msg)
		if err != nil {
			return nil, nil, fmt.Errorf("message %d: %w", i+1, err)
		}
		contents = append(contents, c)
	}
	return contents, config, nil
}

// thinking maps an effort to Gemini's control: a level for Gemini 3 and
// later, a token budget for Gemini 2.x.
func thinking(model, effort string) *genai.ThinkingConfig {
	if effort == "" {
		return nil
	}
	if strings.HasPrefix(model, "gemini-2") {
		budget := map[string]int32{"low": 2048, "medium": 8192, "high": 24576, "xhigh": 32768}[effort]
		return &genai.ThinkingConfig{ThinkingBudget: &budget}
	}
	level := map[string]genai.ThinkingLevel{
		"low": genai.ThinkingLevelLow, "medium": genai.ThinkingLevelMedium,
		"high": genai.ThinkingLevelHigh, "xhigh": genai.ThinkingLevelHigh,
	}[effort]
	return &genai.ThinkingConfig{ThinkingLevel: level}
}

// content encodes one message. All function responses of a user message
// go in its one Content, in call order, followed by its text.
func content(msg llm.Message) (*genai.Content, error) {
	switch msg.Role {
	case llm.User:
		c := &genai.Content{Role: genai.RoleUser}
		for _, r := range msg.ToolResults {
			if r.Name == "" {
				return nil, fmt.Errorf("tool result %s has no tool name; Gemini matches results by name", r.CallID)
			}
			fr := &genai.FunctionResponse{Name: r.Name, Response: map[string]any{"output": r.Content}}
			if r.IsError {
				fr.Response = map[string]any{"error": r.Content}
			}
			if !strings.HasPrefix(r.CallID, generatedIDPrefix) {
				fr.ID = r.CallID
			}
			c.Parts = append(c.Parts, &genai.Part{FunctionResponse: fr})
		}
		if msg.Text != "" {
			c.Parts = append(c.Parts, &genai.Part{Text: msg.Text})
		}
		if len(c.Parts) == 0 {
			return nil, errors.New("user message has neither text nor tool results")
		}
		return c, nil
	case llm.Assistant:
		if len(msg.Opaque) > 0 {
			var c genai.Content
			if err := json.Unmarshal(msg.Opaque, &c); err == nil && len(c.Parts) > 0 {
				c.Role = genai.RoleModel
				return &c, nil
			}
		}
		c := &genai.Content{Role: genai.RoleModel}
		if msg.Text != "" {
			c.Parts = append(c.Parts, &genai.Part{Text: msg.Text})
		}
		for _, call := range msg.ToolCalls {
			var args map[string]any
			if len(call.Arguments) > 0 {
				if err := json.Unmarshal(call.Arguments, &args); err != nil {
					args = map[string]any{}
				}
			}
			fc := &genai.FunctionCall{Name: call.Name, Args: args}
			if !strings.HasPrefix(call.ID, generatedIDPrefix) {
				fc.ID = call.ID
			}
			c.Parts = append(c.Parts, &genai.Part{FunctionCall: fc})
		}
		if len(c.Parts) == 0 {
			return nil, errors.New("assistant message has neither text nor tool calls")
		}
		return c, nil
	default:
		return nil, fmt.Errorf("unknown role %q", msg.Role)
	}
}

// reply maps the first candidate to the neutral reply.
func (m *Model) reply(resp *genai.GenerateContentResponse) (*llm.Response, error) {
	out := &llm.Response{Message: llm.Message{Role: llm.Assistant}}
	if u := resp.UsageMetadata; u != nil {
		cached := int64(u.CachedContentTokenCount)
		out.Usage = review.Tokens{
			Input:       max(0, int64(u.PromptTokenCount)-cached),
			CachedInput: cached,
			Output:      int64(u.CandidatesTokenCount) + int64(u.ThoughtsTokenCount),
			Reasoning:   int64(u.ThoughtsTokenCount),
		}
	}
	if len(resp.Candidates) == 0 {
		if pf := resp.PromptFeedback; pf != nil && pf.BlockReason != "" {
			out.Stop = llm.StopRefusal
			out.Message.Text = strings.TrimSpace("prompt blocked: " + string(pf.BlockReason) + " " + pf.BlockReasonMessage)
			return out, nil
		}
		return nil, errors.New("no candidates in the reply")
	}
	cand := resp.Candidates[0]
	var text []string
	if cand.Content != nil {
		for _, p := range cand.Content.Parts {
			switch {
			case p.FunctionCall != nil:
				id := p.FunctionCall.ID
				if id == "" {
					m.calls++
					id = fmt.Sprintf("%s%d", generatedIDPrefix, m.calls)
				}
				args, err := json.Marshal(p.FunctionCall.Args)
				if err != nil || p.FunctionCall.Args == nil {
					args = []byte(`{}`)
				}
				out.Message.ToolCalls = append(out.Message.ToolCalls, llm.ToolCall{ID: id, Name: p.FunctionCall.Name, Arguments: args})
			case p.Text != "" && !p.Thought:
				text = append(text, p.Text)
			}
		}
		if len(cand.Content.Parts) > 0 {
			c := *cand.Content
			c.Role = genai.RoleModel
			opaque, err := json.Marshal(&c)
			if err != nil {
				return nil, fmt.Errorf("encode candidate content: %w", err)
			}
			out.Message.Opaque = opaque
		}
	}
	out.Message.Text = strings.Join(text, "")
	switch {
	case len(out.Message.ToolCalls) > 0:
		out.Stop = llm.StopToolUse
	case cand.FinishReason == genai.FinishReasonStop || cand.FinishReason == "":
		out.Stop = llm.StopEndTurn
	case cand.FinishReason == genai.FinishReasonMaxTokens:
		out.Stop = llm.StopMaxTokens
	case refusal[cand.FinishReason]:
		out.Stop = llm.StopRefusal
	default:
		out.Stop = llm.StopOther
	}
	return out, nil
}

var refusal = map[genai.FinishReason]bool{
	genai.FinishReasonSafety: true, genai.FinishReasonRecitation: true, genai.FinishReasonBlocklist: true,
	genai.FinishReasonProhibitedContent: true, genai.FinishReasonSPII: true,
}

// Error is an API error with the provider's status and message in its
// text. Unwrap gives the SDK's genai.APIError.
type Error struct {
	msg           string
	err           error
	contextLength bool
}

// Is matches llm.ErrContextLength when the provider refused the request's size.
func (e *Error) Is(target error) bool { return target == llm.ErrContextLength && e.contextLength }

// Error is the text: model, status, provider message and request id when known.
func (e *Error) Error() string { return e.msg }

// Unwrap returns the SDK error.
func (e *Error) Unwrap() error { return e.err }

func (m *Model) wrap(err error) error {
	var apiErr genai.APIError
	if errors.As(err, &apiErr) {
		s := fmt.Sprintf("gemini:%s: %d", m.cfg.Model, apiErr.Code)
		if apiErr.Status != "" {
			s += " " + apiErr.Status
		}
		msg := apiErr.Message
		if msg == "" {
			msg = http.StatusText(apiErr.Code)
		}
		return &Error{msg: s + ": " + msg, err: err, contextLength: llm.IsContextLengthMessage(apiErr.Code, msg)}
	}
	return fmt.Errorf("gemini:%s: %w", m.cfg.Model, err)
}
