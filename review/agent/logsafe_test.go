package agent

import (
	"strings"
	"testing"
)

// liveCommand reports whether some line of log would be read by the Actions
// runner as a workflow command (::cmd:: or the legacy ##[cmd]), which the
// runner recognises after leading whitespace.
func liveCommand(log string) (string, bool) {
	for _, line := range strings.Split(log, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "::") || strings.HasPrefix(t, "##[") {
			return line, true
		}
	}
	return "", false
}

func TestProgressLinesCannotIssueWorkflowCommands(t *testing.T) {
	t.Parallel()
	hostile := []Progress{
		{Event: EventTool, Turn: 1, Tool: "::stop-commands::tok", Args: `{"path":"a.go"}`},
		{Event: EventTool, Turn: 1, Tool: "read_file\n::warning::forged", Args: "{}\r\n  ::add-mask::x"},
		{Event: EventTool, Turn: 2, Tool: "grep", Args: "\x1b[2K\r::error file=a.go::boom"},
		{Event: EventDone, Turn: 3, Text: "failed: model turn 3: provider said\n::set-output name=verdict::merge"},
		{Event: EventForce, Turn: 3, Text: "submit_review\n##[warning]legacy"},
		{Reviewer: "r1", Event: EventDone, Text: "x\n\t::endgroup::"},
	}
	for _, p := range hostile {
		got := p.String()
		if line, live := liveCommand(got); live {
			t.Errorf("Progress %+v printed a live workflow command line %q", p, line)
		}
		for _, r := range got {
			if r < 0x20 && r != '\t' {
				t.Errorf("Progress %+v printed control character %q in %q", p, r, got)
			}
		}
	}
}

func TestLogSafe(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"plain text is unchanged", "turn 1: read_file {\"path\":\"a.go\"}", "turn 1: read_file {\"path\":\"a.go\"}"},
		{"a command at the start is neutralised", "::warning::x", ": :warning::x"},
		{"a command after a newline is neutralised", "a\n  ::error::y", "a\n  : :error::y"},
		{"a legacy command is neutralised", "##[group]z", "# #[group]z"},
		{"control characters are dropped", "a\x1b[31mb\x00c\rd", "a[31mbcd"},
		{"colons inside a line stay", "see a::b", "see a::b"},
	}
	for _, tt := range tests {
		if got := LogSafe(tt.in); got != tt.want {
			t.Errorf("%s: LogSafe(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}
