// Package llm is the one-turn model interface every provider adapter
// implements, with the provider-neutral message types the agent loop speaks.
package llm

import (
	"context"
	"encoding/json"

	"github.com/deepreview/deep-review/review"
)

// Model takes one turn of a conversation. Implementations are safe for
// concurrent use: a reviewer calls Turn once at a time, but the lead
// verifies findings in parallel on one Model, each in its own conversation.
type Model interface {
	Turn(ctx context.Context, req Request) (*Response, error)
}

// Role is who speaks a message.
type Role string

// The roles. Tool results travel in a user message.
const (
	User      Role = "user"
	Assistant Role = "assistant"
)

// Message is one message of the conversation.
type Message struct {
	Role Role `json:"role"`
	// Text is the message's prose, if any.
	Text string `json:"text,omitempty"`
	// ToolCalls are the calls an assistant message made.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolResults answer the previous assistant message's calls, all of
	// them in one user message.
	ToolResults []ToolResult `json:"tool_results,omitempty"`
	// Opaque is provider state that must round-trip untouched (thinking
	// signatures, encrypted reasoning, thought signatures): the adapter that
	// produced it puts it here and reads it back on the next turn.
	Opaque json.RawMessage `json:"opaque,omitempty"`
}

// ToolCall is one call the model asked for.
type ToolCall struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// ToolResult answers one ToolCall.
type ToolResult struct {
	CallID  string `json:"call_id"`
	Name    string `json:"name"`
	Content string `json:"content"`
	IsError bool   `json:"is_error,omitempty"`
}

// Tool describes one tool to the model. Schema is a JSON Schema object that
// every provider accepts: no $ref or oneOf, every property required, nullable
// as a type union.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
}

// ToolChoice says whether and which tool the model must call.
type ToolChoice struct {
	// Mode is "auto" (the default, when empty), "required" (some tool) or
	// "tool" (the named one).
	Mode string `json:"mode,omitempty"`
	Name string `json:"name,omitempty"`
}

// Tool choice modes.
const (
	ChoiceAuto     = "auto"
	ChoiceRequired = "required"
	ChoiceTool     = "tool"
)

// Request is one turn's input.
type Request struct {
	System     string     `json:"system"`
	Messages   []Message  `json:"messages"`
	Tools      []Tool     `json:"tools"`
	ToolChoice ToolChoice `json:"tool_choice"`
	// MaxOutputTokens bounds the reply; 0 lets the adapter choose.
	MaxOutputTokens int64 `json:"max_output_tokens,omitempty"`
}

// Stop reasons, normalised across providers.
const (
	StopEndTurn   = "end_turn"
	StopToolUse   = "tool_use"
	StopMaxTokens = "max_tokens"
	StopRefusal   = "refusal"
	StopOther     = "other"
)

// Response is one turn's output: the assistant message and what it cost.
type Response struct {
	Message Message       `json:"message"`
	Usage   review.Tokens `json:"usage"`
	Stop    string        `json:"stop"`
}

// Identity names a model as the report shows it.
type Identity struct {
	Provider string
	Model    string
	Effort   string
	// Label is set when the turns do not come from a live model
	// ("scripted replay", "recorded replay").
	Label string
}
