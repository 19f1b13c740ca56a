package render

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"

	"github.com/deepreview/deep-review/review"
)

const fuzzRepo = "https://github.com/acme/widgets"

var (
	fuzzSecrets = []string{"s3cr3t-value-1234", "hunter2-but-longer"}
	// hrefRE finds the links a Markdown renderer makes of the output.
	hrefRE = regexp.MustCompile(`(?i)\b(?:href|src)="([^"]*)"`)
	// rawRE finds elements and comments that only raw HTML can produce.
	rawRE = regexp.MustCompile(`(?i)<(?:img|script|style|iframe|object|svg|math|form|input|textarea|details|!--)`)
)

// maxRendered bounds the outputs the fuzz target renders: goldmark's
// emphasis parsing is quadratic (60 KB of "*a_" takes seconds), which would
// stall the fuzzer without testing Sanitize.
const maxRendered = 16 << 10

// FuzzSanitize feeds Sanitize arbitrary untrusted Markdown. It must never
// panic, and what it returns must hold no state marker ParseState would
// read, no configured secret, and, once a CommonMark renderer that passes
// raw HTML through has made HTML of it, no image, no raw element or comment
// and no link outside the repository.
func FuzzSanitize(f *testing.F) {
	for _, seed := range []string{
		"",
		"thanks @octocat! cc @acme/core, mail jane@example.com",
		"see ![x](https://evil.example/p.png) and [docs](https://evil.example/x) and [file](" + fuzzRepo + "/blob/main/a.go#L3)",
		"a <b>bold</b> <img src=x onerror=alert(1)> <script>alert(1)</script> <!-- hidden --> b",
		"x " + review.MarkerPrefix + "eyJyb3VuZCI6OTl9 --> y",
		"`" + review.MarkerPrefix + "e30= -->`",
		"```go\nfmt.Println(\"s3cr3t-value-1234\")\n",
		"key ghp_abcdefghijklmnopqrstuvwxyz0123456789 and sk-ant-api03-abcdefgh and AIzaSyA-abcdefghijklmnopqrstu",
		"# heading\n> quote <https://evil.example> www.evil.example/path http://evil.example",
		"<DEEP-REVIEW:STATE e30= -->",
		"[a](<javascript:alert(1)>) [b]: https://evil.example\n[b]",
		"~~~\n<!-- deep-review:state e30= -->\n~~~",
		"\uE000code\uE001 `unclosed",
	} {
		f.Add(seed)
	}
	md := goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough),
		goldmark.WithRendererOptions(html.WithUnsafe()))
	f.Fuzz(func(t *testing.T, in string) {
		out := Sanitize(in, Options{Secrets: fuzzSecrets, RepoURL: fuzzRepo})
		if _, found, _ := review.ParseState(out); found {
			t.Fatalf("a state marker survived:\nin:  %q\nout: %q", in, out)
		}
		for _, s := range fuzzSecrets {
			if strings.Contains(out, s) {
				t.Fatalf("secret %q survived:\nin:  %q\nout: %q", s, in, out)
			}
		}
		if len(out) > maxRendered {
			return
		}
		var buf bytes.Buffer
		if err := md.Convert([]byte(out), &buf); err != nil {
			t.Fatalf("render the output: %v", err)
		}
		page := buf.String()
		if m := rawRE.FindString(page); m != "" {
			t.Fatalf("the rendered output holds %q:\nin:   %q\nout:  %q\nhtml: %q", m, in, out, page)
		}
		for _, m := range hrefRE.FindAllStringSubmatch(page, -1) {
			if !intoRepo(m[1]) {
				t.Fatalf("the rendered output links to %q:\nin:   %q\nout:  %q\nhtml: %q", m[1], in, out, page)
			}
		}
	})
}

// intoRepo reports whether a link points into fuzzRepo: the repository's
// address (GitHub's host and names are case-insensitive) followed by
// nothing, a path, a query or a fragment.
func intoRepo(href string) bool {
	if len(href) < len(fuzzRepo) || !strings.EqualFold(href[:len(fuzzRepo)], fuzzRepo) {
		return false
	}
	rest := href[len(fuzzRepo):]
	return rest == "" || strings.ContainsAny(rest[:1], "/?#")
}
