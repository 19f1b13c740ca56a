package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/param"
	"github.com/openai/openai-go/v3/shared"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/llm"
)

// Chat is an llm.Model on a Chat Completions endpoint at any base URL
// (Ollama, vLLM, OpenRouter, LiteLLM, Azure-style). It sends only what is
// configured: no reasoning effort, token limit or strict mode unless set,
// and tool_choice only when a tool is forced. It tolerates servers that
// omit usage, send empty content, omit tool call ids or types, or report a
// finish reason that disagrees with the tool calls they made: a reply with
// tool calls is a tool_use turn whatever its finish reason says.
type Chat struct {
	svc sdk.ChatCompletionService
	cfg Config
}

// NewChat returns the Chat Completions adapter for cfg. The API key may be
// empty for servers that need none; then no Authorization header is sent.
func NewChat(cfg Config) (*Chat, error) {
	if cfg.Provider == "" {
		cfg.Provider = llm.ProviderOpenAICompatible
	}
	if cfg.Model == "" {
		return nil, fmt.Errorf("%s: the model is empty", cfg.Provider)
	}
	return &Chat{svc: sdk.NewChatCompletionService(cfg.options()...), cfg: cfg}, nil
}

// Identity names the model.
func (m *Chat) Identity() llm.Identity {
	return llm.Identity{Provider: m.cfg.Provider, Model: m.cfg.Model, Effort: m.cfg.Effort}
}

// Turn sends the conversation and returns the reply.
func (m *Chat) Turn(ctx context.Context, req llm.Request) (*llm.Response, error) {
	params, err := m.params(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.cfg.name(), err)
	}
	resp, err := m.svc.New(ctx, params)
	if err != nil {
		return nil, wrap(m.cfg.name(), err)
	}
	out, err := chatReply(resp)
	if err != nil {
		return nil, fmt.Errorf("%s: completion %s: %w", m.cfg.name(), resp.ID, err)
	}
	return out, nil
}

func (m *Chat) params(req llm.Request) (sdk.ChatCompletionNewParams, error) {
	p := sdk.ChatCompletionNewParams{Model: m.cfg.Model}
	maxTokens := req.MaxOutputTokens
	if maxTokens <= 0 {
		maxTokens = m.cfg.MaxOutputTokens
	}
	switch {
	case maxTokens <= 0:
	case m.cfg.Provider == llm.ProviderOpenAI:
		// OpenAI's own endpoints (Azure's too) refuse max_tokens for
		// reasoning models.
		p.MaxCompletionTokens = param.NewOpt(maxTokens)
	default:
		// max_tokens: the one every compatible server understands.
		p.MaxTokens = param.NewOpt(maxTokens)
	}
	if m.cfg.Effort != "" {
		p.ReasoningEffort = shared.ReasoningEffort(m.cfg.Effort)
	}
	for _, t := range req.Tools {
		s, err := schema(t.Schema)
		if err != nil {
			return p, fmt.Errorf("tool %s: schema: %w", t.Name, err)
		}
		fn := shared.FunctionDefinitionParam{Name: t.Name, Parameters: s}
		if t.Description != "" {
			fn.Description = param.NewOpt(t.Description)
		}
		p.Tools = append(p.Tools, sdk.ChatCompletionFunctionTool(fn))
	}
	switch req.ToolChoice.Mode {
	case "", llm.ChoiceAuto:
	case llm.ChoiceRequired:
		p.ToolChoice = sdk.ChatCompletionToolChoiceOptionUnionParam{OfAuto: param.NewOpt("required")}
	case llm.ChoiceTool:
		if req.ToolChoice.Name == "" {
			return p, errors.New("tool choice \"tool\" names no tool")
		}
		p.ToolChoice = sdk.ChatCompletionToolChoiceOptionUnionParam{OfFunctionToolChoice: &sdk.ChatCompletionNamedToolChoiceParam{
			Function: sdk.ChatCompletionNamedToolChoiceFunctionParam{Name: req.ToolChoice.Name},
		}}
	default:
		return p, fmt.Errorf("unknown tool choice mode %q; use auto, required or tool", req.ToolChoice.Mode)
	}
	if req.System != "" {
		p.Messages = append(p.Messages, sdk.SystemMessage(req.System))
	}
	for i, msg := range req.Messages {
		ms, err := chatMessages(msg)
		if err != nil {
			return p, fmt.Errorf("message %d: %w", i+1, err)
		}
		p.Messages = append(p.Messages, ms...)
	}
	return p, nil
}

// chatOpaque is what a Chat reply keeps for the next turn: OpenRouter's
// reasoning_details, which that API asks to be sent back unchanged.
// reasoning_content (DeepSeek, vLLM) is not kept: those servers refuse it
// in a request.
type chatOpaque struct {
	ReasoningDetails json.RawMessage `json:"reasoning_details,omitempty"`
}

// chatMessages encodes one message: a user message's tool results become
// one tool message each (the Chat wire format), followed by its text.
func chatMessages(msg llm.Message) ([]sdk.ChatCompletionMessageParamUnion, error) {
	var out []sdk.ChatCompletionMessageParamUnion
	switch msg.Role {
	case llm.User:
		for _, r := range msg.ToolResults {
			if r.CallID == "" {
				return nil, fmt.Errorf("tool result for %s has no call id", r.Name)
			}
			out = append(out, sdk.ToolMessage(r.Content, r.CallID))
		}
		if msg.Text != "" {
			out = append(out, sdk.UserMessage(msg.Text))
		}
		if len(out) == 0 {
			return nil, errors.New("user message has neither text nor tool results")
		}
	case llm.Assistant:
		if msg.Text == "" && len(msg.ToolCalls) == 0 {
			return nil, errors.New("assistant message has neither text nor tool calls")
		}
		var a sdk.ChatCompletionAssistantMessageParam
		if msg.Text != "" {
			a.Content.OfString = param.NewOpt(msg.Text)
		}
		for _, c := range msg.ToolCalls {
			args := string(c.Arguments)
			if args == "" {
				args = "{}"
			}
			a.ToolCalls = append(a.ToolCalls, sdk.ChatCompletionMessageToolCallUnionParam{OfFunction: &sdk.ChatCompletionMessageFunctionToolCallParam{
				ID:       c.ID,
				Function: sdk.ChatCompletionMessageFunctionToolCallFunctionParam{Name: c.Name, Arguments: args},
			}})
		}
		var o chatOpaque
		if len(msg.Opaque) > 0 && json.Unmarshal(msg.Opaque, &o) == nil && len(o.ReasoningDetails) > 0 {
			a.SetExtraFields(map[string]any{"reasoning_details": o.ReasoningDetails})
		}
		out = append(out, sdk.ChatCompletionMessageParamUnion{OfAssistant: &a})
	default:
		return nil, fmt.Errorf("unknown role %q", msg.Role)
	}
	return out, nil
}

// chatReply maps the first choice to the neutral reply.
func chatReply(resp *sdk.ChatCompletion) (*llm.Response, error) {
	if len(resp.Choices) == 0 {
		return nil, errors.New("no choices in the reply")
	}
	choice := resp.Choices[0]
	msg := choice.Message
	out := llm.Message{Role: llm.Assistant, Text: msg.Content}
	for i, c := range msg.ToolCalls {
		if c.Type != "" && c.Type != "function" {
			continue
		}
		if c.Function.Name == "" {
			return nil, fmt.Errorf("tool call %d has no function name", i+1)
		}
		id := c.ID
		if id == "" {
			// Some servers send no ids; results still need one to match.
			id = fmt.Sprintf("call_%d", i+1)
		}
		out.ToolCalls = append(out.ToolCalls, llm.ToolCall{ID: id, Name: c.Function.Name, Arguments: arguments(c.Function.Arguments)})
	}
	var raw struct {
		ReasoningDetails json.RawMessage `json:"reasoning_details"`
	}
	if json.Unmarshal([]byte(msg.RawJSON()), &raw) == nil && len(raw.ReasoningDetails) > 0 && string(raw.ReasoningDetails) != "null" {
		opaque, err := json.Marshal(chatOpaque{ReasoningDetails: raw.ReasoningDetails})
		if err != nil {
			return nil, fmt.Errorf("encode reasoning details: %w", err)
		}
		out.Opaque = opaque
	}
	stop := llm.StopEndTurn
	switch {
	case len(out.ToolCalls) > 0:
		stop = llm.StopToolUse
	case choice.FinishReason == "length":
		stop = llm.StopMaxTokens
	case choice.FinishReason == "content_filter" || (msg.Refusal != "" && msg.Content == ""):
		stop = llm.StopRefusal
		if out.Text == "" {
			out.Text = msg.Refusal
		}
	}
	u := resp.Usage
	cached := u.PromptTokensDetails.CachedTokens
	written := u.PromptTokensDetails.CacheWriteTokens
	return &llm.Response{
		Message: out,
		Usage: review.Tokens{
			Input:       max(0, u.PromptTokens-cached-written),
			CachedInput: cached,
			CacheWrite:  written,
			Output:      u.CompletionTokens,
			Reasoning:   u.CompletionTokensDetails.ReasoningTokens,
		},
		Stop: stop,
	}, nil
}
