package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/deepreview/deep-review/review/lead"
	"github.com/deepreview/deep-review/review/llm"
)

// leadScript is what the scripted lead answers: a verdict per finding,
// found by the consolidated ID the real lead gives it in the prompt's
// finding-ref block (lead.FindingRef), and the synthesis.
type leadScript struct {
	Note     string `json:"note"`
	Verdicts []struct {
		// ID is the finding's consolidated ID as the lead verifies it.
		ID string `json:"id"`
		// Title is for the reader of the script; the demo's tests check
		// that the finding with ID has it.
		Title       string `json:"title"`
		Accept      bool   `json:"accept"`
		Severity    string `json:"severity"`
		PreExisting bool   `json:"pre_existing"`
		Reason      string `json:"reason"`
	} `json:"verdicts"`
	Synthesis struct {
		Summary  string            `json:"summary"`
		Decision string            `json:"decision"`
		Reason   string            `json:"reason"`
		Retros   map[string]string `json:"retros"`
		Retro    string            `json:"retro"`
	} `json:"synthesis"`
}

// ScriptedLead is the demo's lead model: answers we wrote, given through the
// real lead's loop and tools. For each finding it first blames the cited
// lines, as a lead would, then gives the scripted verdict; asked for the
// synthesis, it gives the scripted one. It reads which finding it verifies
// from the prompt's machine-readable finding-ref block, never from the
// prompt's prose, and the synthesis needs nothing from the prompt. It keeps
// no state between calls, so the lead may verify findings in parallel.
type ScriptedLead struct {
	script leadScript
}

// Lead loads the scripted lead.
func Lead() (*ScriptedLead, error) {
	data, err := files.ReadFile("testdata/lead.json")
	if err != nil {
		return nil, fmt.Errorf("demo lead: %w", err)
	}
	var l ScriptedLead
	if err := json.Unmarshal(data, &l.script); err != nil {
		return nil, fmt.Errorf("demo lead: %w", err)
	}
	return &l, nil
}

// Identity labels the lead as scripted wherever the report names it.
func (l *ScriptedLead) Identity() llm.Identity {
	return llm.Identity{Provider: llm.ProviderReplay, Model: "scripted lead", Label: "scripted replay"}
}

// Turn answers one turn of a verification or of the synthesis.
func (l *ScriptedLead) Turn(ctx context.Context, req llm.Request) (*llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(req.Messages) == 0 {
		return nil, fmt.Errorf("scripted lead: no messages")
	}
	switch {
	case offers(req.Tools, lead.ToolSynthesis):
		s := l.script.Synthesis
		names := make([]string, 0, len(s.Retros))
		for name := range s.Retros {
			names = append(names, name)
		}
		slices.Sort(names)
		var retros []map[string]string
		for _, name := range names {
			retros = append(retros, map[string]string{"reviewer": name, "text": s.Retros[name]})
		}
		return call("synthesis", lead.ToolSynthesis, map[string]any{
			"summary": s.Summary, "decision": s.Decision, "reason": s.Reason, "retros": retros, "retro": s.Retro,
		})
	case offers(req.Tools, lead.ToolVerify):
		ref, err := lead.ParseFindingRef(req.Messages[0].Text)
		if err != nil {
			return nil, fmt.Errorf("scripted lead: %w", err)
		}
		for _, v := range l.script.Verdicts {
			if v.ID != ref.ID {
				continue
			}
			if len(req.Messages) == 1 {
				return call("blame", "git_blame", map[string]any{"path": ref.File, "start": ref.StartLine, "end": ref.EndLine})
			}
			return call("verdict", lead.ToolVerify, map[string]any{
				"accept": v.Accept, "severity": v.Severity, "pre_existing": v.PreExisting, "reason": v.Reason,
			})
		}
		return nil, fmt.Errorf("scripted lead: the script has no verdict for finding %s", ref.ID)
	}
	return nil, fmt.Errorf("scripted lead: neither %s nor %s was offered", lead.ToolVerify, lead.ToolSynthesis)
}

func offers(tools []llm.Tool, name string) bool {
	for _, t := range tools {
		if t.Name == name {
			return true
		}
	}
	return false
}

// call is a response that calls one tool.
func call(id, name string, args map[string]any) (*llm.Response, error) {
	raw, err := json.Marshal(args)
	if err != nil {
		return nil, err
	}
	return &llm.Response{
		Message: llm.Message{Role: llm.Assistant, ToolCalls: []llm.ToolCall{{ID: id, Name: name, Arguments: raw}}},
		Stop:    llm.StopToolUse,
	}, nil
}
