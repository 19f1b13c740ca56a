package llm

import (
	"strings"
	"testing"
)

func TestParseSpecs(t *testing.T) {
	got, err := ParseSpecs("anthropic:claude-opus-5-5@high, openai:gpt-6.1-sol\n\ngemini:gemini-3-pro-preview@low\nopenai-compatible:llama3.3:70b")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"anthropic:claude-opus-5-5@high", "openai:gpt-6.1-sol", "gemini:gemini-3-pro-preview@low", "openai-compatible:llama3.3:70b"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("spec %d = %s, want %s", i, got[i], want[i])
		}
	}
	if got[3].Model != "llama3.3:70b" {
		t.Errorf("a model name with a colon was cut: %q", got[3].Model)
	}
}

func TestParseSpecErrorsNameTheInputAndTheFix(t *testing.T) {
	tests := map[string]string{
		"claude":                    "want provider:model",
		"bedrock:claude":            "unknown provider \"bedrock\"",
		"anthropic:@high":           "model is empty",
		"openai:gpt-6@max":          "unknown effort \"max\"",
		"openai:gpt-6,openai:gpt-6": "listed twice",
	}
	for in, want := range tests {
		_, err := ParseSpecs(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSpecs(%q) = %v, want an error with %q", in, err, want)
		}
	}
}
