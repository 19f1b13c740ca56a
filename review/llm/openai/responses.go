package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/openai/openai-go/v3/packages/param"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"

	"github.com/deepreview/deep-review/review"
	"github.com/deepreview/deep-review/review/llm"
)

// Responses is an llm.Model on OpenAI's Responses API. It is stateless:
// every request says store:false and asks for the encrypted reasoning, and
// the output items of each reply travel in its Message.Opaque and are sent
// back verbatim, so reasoning carries across turns without server state.
type Responses struct {
	svc responses.ResponseService
	cfg Config
}

// NewResponses returns the Responses adapter for cfg; it needs an API key.
func NewResponses(cfg Config) (*Responses, error) {
	if cfg.Provider == "" {
		cfg.Provider = llm.ProviderOpenAI
	}
	if cfg.Model == "" {
		return nil, fmt.Errorf("%s: the model is empty", cfg.Provider)
	}
	if cfg.APIKey == "" {
		return nil, fmt.Errorf("%s: no API key", cfg.name())
	}
	return &Responses{svc: responses.NewResponseService(cfg.options()...), cfg: cfg}, nil
}

// Identity names the model.
func (m *Responses) Identity() llm.Identity {
	return llm.Identity{Provider: m.cfg.Provider, Model: m.cfg.Model, Effort: m.cfg.Effort}
}

// Turn sends the conversation and returns the reply. A reply cut short by
// max_output_tokens comes back with Stop max_tokens, one withheld by the
// content filter with Stop refusal; a failed or otherwise unfinished
// response is an error carrying the provider's code and message.
func (m *Responses) Turn(ctx context.Context, req llm.Request) (*llm.Response, error) {
	params, err := m.params(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.cfg.name(), err)
	}
	resp, err := m.svc.New(ctx, params)
	if err != nil {
		return nil, wrap(m.cfg.name(), err)
	}
	out, err := responsesReply(resp)
	if err != nil {
		return nil, fmt.Errorf("%s: response %s: %w", m.cfg.name(), resp.ID, err)
	}
	return out, nil
}

func (m *Responses) params(req llm.Request) (responses.ResponseNewParams, error) {
	p := responses.ResponseNewParams{
		Model:   m.cfg.Model,
		Store:   param.NewOpt(false),
		Include: []responses.ResponseIncludable{responses.ResponseIncludableReasoningEncryptedContent},
	}
	if req.System != "" {
		p.Instructions = param.NewOpt(req.System)
	}
	maxTokens := req.MaxOutputTokens
	if maxTokens <= 0 {
		maxTokens = m.cfg.MaxOutputTokens
	}
	if maxTokens > 0 {
		p.MaxOutputTokens = param.NewOpt(maxTokens)
	}
	if m.cfg.Effort != "" {
		p.Reasoning = shared.ReasoningParam{Effort: shared.ReasoningEffort(m.cfg.Effort)}
	}
	for _, t := range req.Tools {
		s, err := schema(t.Schema)
		if err != nil {
			return p, fmt.Errorf("tool %s: schema: %w", t.Name, err)
		}
		fn := responses.FunctionToolParam{Name: t.Name, Parameters: s, Strict: param.NewOpt(strict(s))}
		if t.Description != "" {
			fn.Description = param.NewOpt(t.Description)
		}
		p.Tools = append(p.Tools, responses.ToolUnionParam{OfFunction: &fn})
	}
	switch req.ToolChoice.Mode {
	case "", llm.ChoiceAuto:
	case llm.ChoiceRequired:
		p.ToolChoice = responses.ResponseNewParamsToolChoiceUnion{OfToolChoiceMode: param.NewOpt(responses.ToolChoiceOptionsRequired)}
	case llm.ChoiceTool:
		if req.ToolChoice.Name == "" {
			return p, errors.New("tool choice \"tool\" names no tool")
		}
		p.ToolChoice = responses.ResponseNewParamsToolChoiceUnion{OfFunctionTool: &responses.ToolChoiceFunctionParam{Name: req.ToolChoice.Name}}
	default:
		return p, fmt.Errorf("unknown tool choice mode %q; use auto, required or tool", req.ToolChoice.Mode)
	}
	var items responses.ResponseInputParam
	for i, msg := range req.Messages {
		its, err := inputItems(msg)
		if err != nil {
			return p, fmt.Errorf("message %d: %w", i+1, err)
		}
		items = append(items, its...)
	}
	p.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: items}
	return p, nil
}

// inputItems encodes one message as input items: a user message's
// function_call_output items (matched to the calls by call id) then its
// text; an assistant message's own output items when it carries them, or
// else its text and function_call items rebuilt from the neutral fields.
func inputItems(msg llm.Message) ([]responses.ResponseInputItemUnionParam, error) {
	var items []responses.ResponseInputItemUnionParam
	switch msg.Role {
	case llm.User:
		for _, r := range msg.ToolResults {
			if r.CallID == "" {
				return nil, fmt.Errorf("tool result for %s has no call id", r.Name)
			}
			out := &responses.ResponseInputItemFunctionCallOutputParam{
				CallID: param.NewOpt(r.CallID),
				Output: responses.ResponseInputItemFunctionCallOutputOutputUnionParam{OfString: param.NewOpt(r.Content)},
			}
			items = append(items, responses.ResponseInputItemUnionParam{OfFunctionCallOutput: out})
		}
		if msg.Text != "" {
			items = append(items, easyMessage(responses.EasyInputMessageRoleUser, msg.Text))
		}
		if len(items) == 0 {
			return nil, errors.New("user message has neither text nor tool results")
		}
	case llm.Assistant:
		if len(msg.Opaque) > 0 {
			var raw []json.RawMessage
			if err := json.Unmarshal(msg.Opaque, &raw); err == nil && len(raw) > 0 {
				for _, r := range raw {
					items = append(items, param.Override[responses.ResponseInputItemUnionParam](r))
				}
				return items, nil
			}
		}
		if msg.Text != "" {
			items = append(items, easyMessage(responses.EasyInputMessageRoleAssistant, msg.Text))
		}
		for _, c := range msg.ToolCalls {
			args := string(c.Arguments)
			if args == "" {
				args = "{}"
			}
			items = append(items, responses.ResponseInputItemUnionParam{OfFunctionCall: &responses.ResponseFunctionToolCallParam{
				CallID: c.ID, Name: c.Name, Arguments: args,
			}})
		}
		if len(items) == 0 {
			return nil, errors.New("assistant message has neither text nor tool calls")
		}
	default:
		return nil, fmt.Errorf("unknown role %q", msg.Role)
	}
	return items, nil
}

func easyMessage(role responses.EasyInputMessageRole, text string) responses.ResponseInputItemUnionParam {
	return responses.ResponseInputItemUnionParam{OfMessage: &responses.EasyInputMessageParam{
		Role:    role,
		Content: responses.EasyInputMessageContentUnionParam{OfString: param.NewOpt(text)},
	}}
}

// responsesReply maps a response to the neutral reply.
func responsesReply(resp *responses.Response) (*llm.Response, error) {
	stopReason := ""
	switch resp.Status {
	case responses.ResponseStatusCompleted, "":
	case responses.ResponseStatusIncomplete:
		switch reason := resp.IncompleteDetails.Reason; reason {
		case "max_output_tokens":
			stopReason = llm.StopMaxTokens
		case "content_filter":
			stopReason = llm.StopRefusal
		default:
			return nil, fmt.Errorf("incomplete: %s", orUnknown(reason))
		}
	case responses.ResponseStatusFailed:
		return nil, fmt.Errorf("failed: %s: %s", orUnknown(string(resp.Error.Code)), orUnknown(resp.Error.Message))
	default:
		return nil, fmt.Errorf("status %q, want completed; background responses are not supported", resp.Status)
	}

	out := llm.Message{Role: llm.Assistant}
	var text []string
	refused := false
	items := make([]json.RawMessage, 0, len(resp.Output))
	for _, item := range resp.Output {
		switch item.Type {
		case "message":
			for _, c := range item.AsMessage().Content {
				switch c.Type {
				case "output_text":
					text = append(text, c.Text)
				case "refusal":
					text = append(text, c.Refusal)
					refused = true
				}
			}
		case "function_call":
			fc := item.AsFunctionCall()
			out.ToolCalls = append(out.ToolCalls, llm.ToolCall{ID: fc.CallID, Name: fc.Name, Arguments: arguments(fc.Arguments)})
		}
		if raw := item.RawJSON(); raw != "" {
			items = append(items, json.RawMessage(raw))
		}
	}
	out.Text = strings.Join(text, "")
	if len(items) > 0 {
		opaque, err := json.Marshal(items)
		if err != nil {
			return nil, fmt.Errorf("encode output items: %w", err)
		}
		out.Opaque = opaque
	}
	if stopReason == "" {
		switch {
		case len(out.ToolCalls) > 0:
			stopReason = llm.StopToolUse
		case refused:
			stopReason = llm.StopRefusal
		default:
			stopReason = llm.StopEndTurn
		}
	}
	u := resp.Usage
	cached := u.InputTokensDetails.CachedTokens
	written := u.InputTokensDetails.CacheWriteTokens
	return &llm.Response{
		Message: out,
		Usage: review.Tokens{
			Input:       max(0, u.InputTokens-cached-written),
			CachedInput: cached,
			CacheWrite:  written,
			Output:      u.OutputTokens,
			Reasoning:   u.OutputTokensDetails.ReasoningTokens,
		},
		Stop: stopReason,
	}, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "no reason given"
	}
	return s
}
