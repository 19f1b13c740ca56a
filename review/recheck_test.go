package review

import "testing"

func TestSpanRelocate(t *testing.T) {
	f := Finding{StartLine: 3, EndLine: 4, Excerpt: "\tif x == nil {\n\t\treturn"}
	span, ok := SpanOf(f)
	if !ok {
		t.Fatal("SpanOf found no span in an excerpt")
	}
	tests := []struct {
		name      string
		text      string
		start     int
		end       int
		wantFound bool
	}{
		{"unchanged", "a\nb\n\tif x == nil {\n\t\treturn\n}\n", 3, 4, true},
		{"moved down and re-indented", "new\nlines\na\nb\n  if x  == nil {\n        return\n}\n", 5, 6, true},
		{"nearest of two copies", "\tif x == nil {\n\t\treturn\nb\n\tif x == nil {\n\t\treturn\n", 4, 5, true},
		{"changed", "a\nb\n\tif x != nil {\n\t\treturn\n}\n", 0, 0, false},
		{"file emptied", "", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, end, found := span.Relocate(tt.text)
			if found != tt.wantFound || start != tt.start || end != tt.end {
				t.Errorf("Relocate = %d-%d %v, want %d-%d %v", start, end, found, tt.start, tt.end, tt.wantFound)
			}
		})
	}
}

func TestSpanOfNeedsAnExcerpt(t *testing.T) {
	if _, ok := SpanOf(Finding{StartLine: 1, EndLine: 1}); ok {
		t.Error("SpanOf found a span in a finding with no excerpt")
	}
}
