// Package anthropic is the llm.Model adapter for Anthropic's Messages API,
// through the official SDK (github.com/anthropics/anthropic-sdk-go/v2).
package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/anthropics/anthropic-sdk-go/v2/packages/param"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/llm"
)

// Defaults used when a Config field is zero.
const (
	// DefaultMaxRetries is how many times a request is retried. The SDK
	// retries connection errors and the statuses 408, 409, 429 and 5xx,
	// including Anthropic's 529 overloaded_error, with exponential backoff
	// that honours Retry-After and retry-after-ms, and obeys x-should-retry.
	DefaultMaxRetries = 4
	// DefaultMaxOutputTokens bounds a reply when neither the request nor the
	// config does. Thinking counts against it.
	DefaultMaxOutputTokens = 32000
	// DefaultRequestTimeout bounds one attempt. Setting it also lets the SDK
	// send large max_tokens without streaming.
	DefaultRequestTimeout = 10 * time.Minute
)

// Config configures one Anthropic model. Only APIKey and Model are required.
type Config struct {
	// Model is the model id, e.g. claude-opus-5-5.
	Model string
	// Effort is "", low, medium, high or xhigh. When set, adaptive thinking
	// is on and output_config.effort carries it.
	Effort string
	// APIKey authenticates; it is never logged or recorded.
	APIKey string
	// BaseURL is the API root (no /v1); empty means the public API.
	BaseURL string
	// HTTPClient sends the requests; nil means http.DefaultClient's
	// behaviour through the SDK.
	HTTPClient *http.Client
	// MaxRetries: 0 means DefaultMaxRetries, negative means none.
	MaxRetries int
	// MaxOutputTokens applies when a request sets none; 0 means
	// DefaultMaxOutputTokens.
	MaxOutputTokens int64
	// RequestTimeout bounds each attempt; 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
}

// Model is an llm.Model for one Anthropic model. It keeps no conversation
// state: every Turn sends the whole conversation, which keeps a byte-stable
// prefix (tools, system, earlier messages) for the prompt cache.
type Model struct {
	client    sdk.Client
	model     string
	effort    string
	maxTokens int64
}

// New returns the adapter for cfg. The SDK reads no environment variable:
// key and base URL come only from cfg.
func New(cfg Config) (*Model, error) {
	if cfg.Model == "" {
		return nil, errors.New("anthropic: the model is empty")
	}
	if cfg.APIKey == "" {
		return nil, fmt.Errorf("anthropic:%s: no API key", cfg.Model)
	}
	retries := cfg.MaxRetries
	if retries == 0 {
		retries = DefaultMaxRetries
	}
	if retries < 0 {
		retries = 0
	}
	timeout := cfg.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	maxTokens := cfg.MaxOutputTokens
	if maxTokens <= 0 {
		maxTokens = DefaultMaxOutputTokens
	}
	opts := []option.RequestOption{
		option.WithoutEnvironmentDefaults(),
		option.WithAPIKey(cfg.APIKey),
		option.WithMaxRetries(retries),
		option.WithRequestTimeout(timeout),
	}
	if cfg.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(cfg.BaseURL))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	return &Model{client: sdk.NewClient(opts...), model: cfg.Model, effort: cfg.Effort, maxTokens: maxTokens}, nil
}

// Identity names the model.
func (m *Model) Identity() llm.Identity {
	return llm.Identity{Provider: llm.ProviderAnthropic, Model: m.model, Effort: m.effort}
}

// Turn sends the conversation and returns the assistant's reply. The reply's
// Opaque holds its content blocks (thinking with signatures included) as
// request params, and is sent back verbatim when the message comes back in
// a later request.
//
// With an effort set, thinking is adaptive, except on a turn that forces a
// tool (the API refuses forced tool use with thinking on) and on the rest
// of a tool loop that such a turn began, since a tool loop keeps one
// thinking configuration.
func (m *Model) Turn(ctx context.Context, req llm.Request) (*llm.Response, error) {
	params, thinkingOff, err := m.params(req)
	if err != nil {
		return nil, err
	}
	msg, err := m.client.Messages.New(ctx, params)
	if err != nil {
		return nil, m.wrap(err)
	}
	return response(msg, thinkingOff)
}

// opaque is what an assistant message keeps in Message.Opaque.
type opaque struct {
	// Content is the reply's content blocks as request params.
	Content []json.RawMessage `json:"content"`
	// ThinkingOff records that the reply was made with thinking disabled
	// although an effort asked for it.
	ThinkingOff bool `json:"thinking_off,omitempty"`
}

func decodeOpaque(raw json.RawMessage) (opaque, bool) {
	var o opaque
	if len(raw) == 0 || json.Unmarshal(raw, &o) != nil || len(o.Content) == 0 {
		return opaque{}, false
	}
	return o, true
}

// inThinkingOffLoop reports whether the request continues a tool loop
// whose last assistant turn had thinking turned off.
func inThinkingOffLoop(msgs []llm.Message) bool {
	n := len(msgs)
	if n < 2 || msgs[n-1].Role != llm.User || len(msgs[n-1].ToolResults) == 0 || msgs[n-2].Role != llm.Assistant {
		return false
	}
	o, ok := decodeOpaque(msgs[n-2].Opaque)
	return ok && o.ThinkingOff
}

// params builds the request. Everything before the newest message is
// encoded the same way on every turn, so consecutive requests share a
// byte-identical prefix; the top-level cache_control puts the automatic
// breakpoint on the last block, and the system block carries its own.
func (m *Model) params(req llm.Request) (p sdk.MessageNewParams, thinkingOff bool, err error) {
	maxTokens := req.MaxOutputTokens
	if maxTokens <= 0 {
		maxTokens = m.maxTokens
	}
	p = sdk.MessageNewParams{
		Model:        sdk.Model(m.model),
		MaxTokens:    maxTokens,
		CacheControl: sdk.NewCacheControlEphemeralParam(),
	}
	if req.System != "" {
		p.System = []sdk.TextBlockParam{{Text: req.System, CacheControl: sdk.NewCacheControlEphemeralParam()}}
	}
	for _, t := range req.Tools {
		schema := t.Schema
		if len(schema) == 0 {
			schema = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		tool := sdk.ToolParam{
			Name:        t.Name,
			InputSchema: param.Override[sdk.ToolInputSchemaParam](schema),
		}
		if t.Description != "" {
			tool.Description = sdk.String(t.Description)
		}
		p.Tools = append(p.Tools, sdk.ToolUnionParam{OfTool: &tool})
	}
	forced := false
	switch req.ToolChoice.Mode {
	case "", llm.ChoiceAuto:
	case llm.ChoiceRequired:
		p.ToolChoice = sdk.ToolChoiceUnionParam{OfAny: &sdk.ToolChoiceAnyParam{}}
		forced = true
	case llm.ChoiceTool:
		if req.ToolChoice.Name == "" {
			return p, false, errors.New("anthropic: tool choice \"tool\" names no tool")
		}
		p.ToolChoice = sdk.ToolChoiceParamOfTool(req.ToolChoice.Name)
		forced = true
	default:
		return p, false, fmt.Errorf("anthropic: unknown tool choice mode %q; use auto, required or tool", req.ToolChoice.Mode)
	}
	if m.effort != "" {
		p.OutputConfig = sdk.OutputConfigParam{Effort: sdk.OutputConfigEffort(m.effort)}
		if forced || inThinkingOffLoop(req.Messages) {
			thinkingOff = true
			p.Thinking = sdk.ThinkingConfigParamUnion{OfDisabled: ptr(sdk.NewThinkingConfigDisabledParam())}
		} else {
			p.Thinking = sdk.ThinkingConfigParamUnion{OfAdaptive: &sdk.ThinkingConfigAdaptiveParam{}}
		}
	}
	for i, msg := range req.Messages {
		mp, err := messageParam(msg)
		if err != nil {
			return p, false, fmt.Errorf("anthropic: message %d: %w", i+1, err)
		}
		p.Messages = append(p.Messages, mp)
	}
	return p, thinkingOff, nil
}

// messageParam encodes one message. Tool results come first in a user
// message, all of them in the one message, as the API requires.
func messageParam(msg llm.Message) (sdk.MessageParam, error) {
	switch msg.Role {
	case llm.User:
		var blocks []sdk.ContentBlockParamUnion
		for _, r := range msg.ToolResults {
			if r.CallID == "" {
				return sdk.MessageParam{}, fmt.Errorf("tool result for %s has no call id", r.Name)
			}
			if r.Content == "" {
				// The API refuses empty text blocks; a result may have no content.
				b := sdk.ToolResultBlockParam{ToolUseID: r.CallID}
				if r.IsError {
					b.IsError = sdk.Bool(true)
				}
				blocks = append(blocks, sdk.ContentBlockParamUnion{OfToolResult: &b})
				continue
			}
			blocks = append(blocks, sdk.NewToolResultBlock(r.CallID, r.Content, r.IsError))
		}
		if msg.Text != "" {
			blocks = append(blocks, sdk.NewTextBlock(msg.Text))
		}
		if len(blocks) == 0 {
			return sdk.MessageParam{}, errors.New("user message has neither text nor tool results")
		}
		return sdk.NewUserMessage(blocks...), nil
	case llm.Assistant:
		if o, ok := decodeOpaque(msg.Opaque); ok {
			blocks := make([]sdk.ContentBlockParamUnion, len(o.Content))
			for i, b := range o.Content {
				blocks[i] = param.Override[sdk.ContentBlockParamUnion](b)
			}
			return sdk.NewAssistantMessage(blocks...), nil
		}
		// No Opaque state of ours (another provider's, or none): rebuild
		// from the neutral fields.
		var blocks []sdk.ContentBlockParamUnion
		if msg.Text != "" {
			blocks = append(blocks, sdk.NewTextBlock(msg.Text))
		}
		for _, c := range msg.ToolCalls {
			args := c.Arguments
			if len(args) == 0 {
				args = json.RawMessage(`{}`)
			}
			blocks = append(blocks, sdk.NewToolUseBlock(c.ID, args, c.Name))
		}
		if len(blocks) == 0 {
			return sdk.MessageParam{}, errors.New("assistant message has neither text nor tool calls")
		}
		return sdk.NewAssistantMessage(blocks...), nil
	default:
		return sdk.MessageParam{}, fmt.Errorf("unknown role %q", msg.Role)
	}
}

// response maps the API's message to the neutral one.
func response(msg *sdk.Message, thinkingOff bool) (*llm.Response, error) {
	out := llm.Message{Role: llm.Assistant}
	var text []string
	blocks := make([]json.RawMessage, 0, len(msg.Content))
	for _, b := range msg.Content {
		switch b.Type {
		case "text":
			text = append(text, b.Text)
		case "tool_use":
			args := b.Input
			if len(args) == 0 {
				args = json.RawMessage(`{}`)
			}
			out.ToolCalls = append(out.ToolCalls, llm.ToolCall{ID: b.ID, Name: b.Name, Arguments: append(json.RawMessage(nil), args...)})
		}
		raw, err := json.Marshal(b.ToParam())
		if err != nil {
			return nil, fmt.Errorf("anthropic: encode %s block: %w", b.Type, err)
		}
		blocks = append(blocks, raw)
	}
	out.Text = strings.Join(text, "")
	if len(blocks) > 0 {
		data, err := json.Marshal(opaque{Content: blocks, ThinkingOff: thinkingOff})
		if err != nil {
			return nil, fmt.Errorf("anthropic: encode content: %w", err)
		}
		out.Opaque = data
	}
	u := msg.Usage
	return &llm.Response{
		Message: out,
		Usage: review.Tokens{
			Input:       u.InputTokens,
			CachedInput: u.CacheReadInputTokens,
			CacheWrite:  u.CacheCreationInputTokens,
			Output:      u.OutputTokens,
			Reasoning:   u.OutputTokensDetails.ThinkingTokens,
		},
		Stop: stop(msg.StopReason, len(out.ToolCalls) > 0),
	}, nil
}

func stop(r sdk.StopReason, calls bool) string {
	switch r {
	case "end_turn", "stop_sequence":
		if calls {
			return llm.StopToolUse
		}
		return llm.StopEndTurn
	case "tool_use":
		return llm.StopToolUse
	case "max_tokens", "model_context_window_exceeded":
		return llm.StopMaxTokens
	case "refusal":
		return llm.StopRefusal
	default:
		if calls {
			return llm.StopToolUse
		}
		return llm.StopOther
	}
}

// wrap puts the provider's message, error type and request id in front,
// keeping the SDK error for errors.As.
func (m *Model) wrap(err error) error {
	var apiErr *sdk.Error
	if errors.As(err, &apiErr) {
		msg := apiErr.Message
		if msg == "" {
			msg = http.StatusText(apiErr.StatusCode)
		}
		s := fmt.Sprintf("anthropic:%s: %d", m.model, apiErr.StatusCode)
		if t := apiErr.Type(); t != "" {
			s += " " + string(t)
		}
		s += ": " + msg
		if apiErr.RequestID != "" {
			s += " (request id " + apiErr.RequestID + ")"
		}
		return &Error{msg: s, err: err, contextLength: llm.IsContextLengthMessage(apiErr.StatusCode, msg)}
	}
	return fmt.Errorf("anthropic:%s: %w", m.model, err)
}

// Error is an API error with the provider's message and request id in its
// text. Unwrap gives the SDK's *anthropic.Error; a refusal of a request
// larger than the context window matches llm.ErrContextLength.
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

func ptr[T any](v T) *T { return &v }
