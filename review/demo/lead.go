package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/deepreview/deep-review/review/llm"
)

// leadScript is what the scripted lead answers: a verdict per finding,
// found by its title in the prompt, and the synthesis.
type leadScript struct {
	Note     string `json:"note"`
	Verdicts []struct {
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
// synthesis, it gives the scripted one. It keeps no state between calls, so
// the lead may verify findings in parallel.
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

// where finds the cited place in a verification prompt: "Where: f.go:3-9".
var where = regexp.MustCompile(`Where: (\S+):(\d+)-(\d+)`)

// Turn answers one turn of a verification or of the synthesis.
func (l *ScriptedLead) Turn(ctx context.Context, req llm.Request) (*llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(req.Messages) == 0 {
		return nil, fmt.Errorf("scripted lead: no messages")
	}
	prompt := req.Messages[0].Text
	switch {
	case offers(req.Tools, "write_synthesis"):
		s := l.script.Synthesis
		var retros []map[string]string
		for _, name := range reviewerNames(prompt) {
			retros = append(retros, map[string]string{"reviewer": name, "text": s.Retros[name]})
		}
		return call("synthesis", "write_synthesis", map[string]any{
			"summary": s.Summary, "decision": s.Decision, "reason": s.Reason, "retros": retros, "retro": s.Retro,
		})
	case offers(req.Tools, "verify_finding"):
		for _, v := range l.script.Verdicts {
			if !strings.Contains(prompt, v.Title) {
				continue
			}
			if len(req.Messages) == 1 {
				m := where.FindStringSubmatch(prompt)
				if m == nil {
					return nil, fmt.Errorf("scripted lead: no cited place in the prompt for %q", v.Title)
				}
				var start, end int
				fmt.Sscan(m[2], &start)
				fmt.Sscan(m[3], &end)
				return call("blame", "git_blame", map[string]any{"path": m[1], "start": start, "end": end})
			}
			return call("verdict", "verify_finding", map[string]any{
				"accept": v.Accept, "severity": v.Severity, "pre_existing": v.PreExisting, "reason": v.Reason,
			})
		}
		return nil, fmt.Errorf("scripted lead: the script has no verdict for this finding")
	}
	return nil, fmt.Errorf("scripted lead: neither verify_finding nor write_synthesis was offered")
}

func offers(tools []llm.Tool, name string) bool {
	for _, t := range tools {
		if t.Name == name {
			return true
		}
	}
	return false
}

// reviewerNames are the "### Name" headings of the synthesis prompt.
func reviewerNames(prompt string) []string {
	var names []string
	for _, line := range strings.Split(prompt, "\n") {
		if name, ok := strings.CutPrefix(line, "### "); ok {
			names = append(names, strings.TrimSpace(name))
		}
	}
	return names
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
