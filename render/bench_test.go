package render

import "testing"

// The large-PR path: 900 long findings and 3,000 reviewed files.
func BenchmarkMarkdownHuge(b *testing.B) {
	r := huge(300)
	for b.Loop() {
		Markdown(r, Options{})
	}
}

func BenchmarkCommentHuge(b *testing.B) {
	r := huge(300)
	for b.Loop() {
		Comment(r, Options{})
	}
}

func BenchmarkHTMLHuge(b *testing.B) {
	r := huge(300)
	for b.Loop() {
		if _, err := HTML(r, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSARIFHuge(b *testing.B) {
	r := huge(300)
	for b.Loop() {
		if _, err := SARIF(r, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSanitize(b *testing.B) {
	r := fixture()
	o := fixtureOptions()
	for b.Loop() {
		Sanitize(r.Summary, o)
	}
}
