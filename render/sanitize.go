package render

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Redacted replaces every secret value Sanitize finds.
const Redacted = "[redacted]"

// minSecretLen is the shortest configured secret Sanitize replaces; shorter
// values would redact ordinary words.
const minSecretLen = 4

// tokenRE matches the well-known shapes of API keys and GitHub tokens.
var tokenRE = regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,}|sk-ant-[A-Za-z0-9_-]{8,}|sk-[A-Za-z0-9_-]{16,}|AIza[0-9A-Za-z_-]{20,})`)

// markerRE matches the name of our state marker, in any case, so no text we
// render can carry something ParseState would read.
var markerRE = regexp.MustCompile(`(?i)deep-review:state`)

const markerRemoved = "[marker removed]"

var (
	commentRE = regexp.MustCompile(`(?s)<!--.*?(?:-->|$)`)
	// elementRE drops elements whose content is never prose.
	elementRE = regexp.MustCompile(`(?is)<script\b.*?(?:</script\s*>|$)|<style\b.*?(?:</style\s*>|$)|<iframe\b.*?(?:</iframe\s*>|$)|<textarea\b.*?(?:</textarea\s*>|$)|<template\b.*?(?:</template\s*>|$)|<noscript\b.*?(?:</noscript\s*>|$)|<title\b.*?(?:</title\s*>|$)|<xmp\b.*?(?:</xmp\s*>|$)|<object\b.*?(?:</object\s*>|$)`)
	tagRE     = regexp.MustCompile(`(?s)</?[A-Za-z][A-Za-z0-9-]*(?:\s[^>]*)?/?>|<![A-Za-z\[][^>]*>|<\?.*?(?:\?>|$)`)
	// openTagRE finds what is left of a tag that was never closed.
	openTagRE = regexp.MustCompile(`<([A-Za-z/!?])`)
	// inlineRE finds, leftmost first: images, links, autolinks, bare URLs,
	// www. links and @mentions.
	inlineRE = regexp.MustCompile(
		`(?P<image>!\[[^\]\n]*\]\([^)\n]*\)|!\[[^\]\n]*\]\[[^\]\n]*\])` +
			`|(?P<link>\[(?P<ltext>[^\]\n]*)\]\((?P<lurl>[^)\s]*)(?:\s+"[^"\n]*")?\))` +
			`|(?P<auto><(?P<aurl>(?i:https?|ftp|mailto):[^>\s]+)>)` +
			`|(?P<bare>(?i:https?|ftp)://[^\s<>\x60\x{E000}\x{E001}]+)` +
			`|(?P<www>\bwww\.[A-Za-z0-9-]+\.[^\s<>\x60\x{E000}\x{E001}]+)` +
			`|(?P<mention>(?:^|[^A-Za-z0-9_\x60@./+-])@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9_.-]+)?)`)
	mentionRE = regexp.MustCompile(`(^|[^A-Za-z0-9_\x60@./+-])@([A-Za-z0-9][A-Za-z0-9-]{0,38}(?:/[A-Za-z0-9_.-]+)?)`)
	fenceRE   = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})(.*)$")
)

// Placeholders stand for inline code spans while prose is rewritten; input
// text never carries them (they are removed first).
const (
	phOpen  = '\uE000'
	phClose = '\uE001'
)

// scrubber holds what Sanitize needs from Options, prepared once.
type scrubber struct {
	secrets []string
	repo    string
}

func newScrubber(o Options) *scrubber {
	s := &scrubber{repo: strings.TrimSuffix(strings.TrimSpace(o.RepoURL), "/")}
	seen := map[string]bool{}
	for _, v := range o.Secrets {
		v = strings.TrimSpace(v)
		if len(v) < minSecretLen || seen[v] {
			continue
		}
		seen[v] = true
		s.secrets = append(s.secrets, v)
	}
	// Longest first, so a secret that contains another is replaced whole.
	sort.Slice(s.secrets, func(i, j int) bool {
		if len(s.secrets[i]) != len(s.secrets[j]) {
			return len(s.secrets[i]) > len(s.secrets[j])
		}
		return s.secrets[i] < s.secrets[j]
	})
	return s
}

// Sanitize makes untrusted Markdown (model output, PR text) safe to publish:
// @mentions are wrapped in code spans so nobody is notified (email addresses
// stay as they are), images, raw HTML and HTML comments (our state marker
// among them) are dropped, links are kept only when they point into
// o.RepoURL and otherwise become text, and secret values (o.Secrets of at
// least four characters, and the well-known token shapes ghp_, gho_, ghs_,
// ghu_, ghr_, github_pat_, sk-, sk-ant-, AIza) become "[redacted]". Code spans
// and fenced blocks keep their text, except that secrets and markers are
// scrubbed there too, and a fence left open is closed so it cannot swallow
// what follows. Sanitize is pure and safe for concurrent use.
func Sanitize(text string, o Options) string {
	return newScrubber(o).markdown(text)
}

// code scrubs text shown verbatim (code, paths, excerpts): secrets and
// markers only.
func (s *scrubber) code(t string) string {
	t = strings.NewReplacer(string(phOpen), "", string(phClose), "").Replace(t)
	for _, v := range s.secrets {
		t = strings.ReplaceAll(t, v, Redacted)
	}
	if mayHoldToken(t) {
		t = tokenRE.ReplaceAllString(t, Redacted)
	}
	if mayHoldMarker(t) {
		t = markerRE.ReplaceAllString(t, markerRemoved)
	}
	return t
}

// tokenPrefixes are the literal starts of the shapes tokenRE matches.
var tokenPrefixes = []string{"ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_", "sk-", "AIza"}

// mayHoldToken is a fast test that rules out most text before tokenRE runs.
func mayHoldToken(t string) bool {
	for _, p := range tokenPrefixes {
		if strings.Contains(t, p) {
			return true
		}
	}
	return false
}

// mayHoldMarker is a fast test that rules out most text before markerRE
// runs: it looks for "deep-review:state" in any case around each colon.
func mayHoldMarker(t string) bool {
	const before, after = "deep-review", "state"
	for i := strings.IndexByte(t, ':'); i >= 0; {
		if i >= len(before) && i+1+len(after) <= len(t) &&
			strings.EqualFold(t[i-len(before):i], before) && strings.EqualFold(t[i+1:i+1+len(after)], after) {
			return true
		}
		j := strings.IndexByte(t[i+1:], ':')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// plain scrubs text that is shown as plain text (SARIF messages): secrets,
// markers and HTML comments.
func (s *scrubber) plain(t string) string {
	t = s.code(t)
	return commentRE.ReplaceAllString(t, "")
}

// markdown sanitises a Markdown fragment; see Sanitize.
func (s *scrubber) markdown(t string) string {
	t = strings.ReplaceAll(s.code(t), "\r\n", "\n")
	t = strings.ReplaceAll(t, "\r", "\n")
	lines := strings.Split(t, "\n")
	var out, prose []string
	flush := func() {
		if len(prose) > 0 {
			out = append(out, s.prose(strings.Join(prose, "\n")))
			prose = nil
		}
	}
	fence := ""
	for _, line := range lines {
		if fence != "" {
			out = append(out, line)
			if m := fenceRE.FindStringSubmatch(line); m != nil && m[1][0] == fence[0] && len(m[1]) >= len(fence) && strings.TrimSpace(m[2]) == "" {
				fence = ""
			}
			continue
		}
		if m := fenceRE.FindStringSubmatch(line); m != nil && !(m[1][0] == '`' && strings.Contains(m[2], "`")) {
			flush()
			fence = m[1]
			out = append(out, line)
			continue
		}
		prose = append(prose, line)
	}
	flush()
	if fence != "" {
		out = append(out, fence)
	}
	return strings.Join(out, "\n")
}

// prose sanitises Markdown outside fenced blocks.
func (s *scrubber) prose(t string) string {
	// Protect code spans, so their text stays as written.
	var spans []string
	t = replaceCodeSpans(t, func(span string) string {
		spans = append(spans, span)
		return string(phOpen) + strconv.Itoa(len(spans)-1) + string(phClose)
	})
	t = commentRE.ReplaceAllString(t, "")
	t = elementRE.ReplaceAllString(t, "")
	t = s.inline(t)
	t = tagRE.ReplaceAllString(t, "")
	t = openTagRE.ReplaceAllString(t, "&lt;$1")
	// Restore the code spans; a placeholder a tag swallowed is gone.
	var b strings.Builder
	for {
		i := strings.IndexRune(t, phOpen)
		if i < 0 {
			break
		}
		j := strings.IndexRune(t[i:], phClose)
		if j < 0 {
			break
		}
		b.WriteString(t[:i])
		if n, err := strconv.Atoi(t[i+len(string(phOpen)) : i+j]); err == nil && n >= 0 && n < len(spans) {
			b.WriteString(spans[n])
		}
		t = t[i+j+len(string(phClose)):]
	}
	b.WriteString(t)
	return b.String()
}

// replaceCodeSpans calls f for every inline code span of t (a run of n
// backticks closed by the next run of exactly n) and puts its result in the
// span's place.
func replaceCodeSpans(t string, f func(string) string) string {
	var b strings.Builder
	i := 0
	for i < len(t) {
		if t[i] != '`' {
			b.WriteByte(t[i])
			i++
			continue
		}
		n := runLen(t, i)
		end := -1
		for k := i + n; k < len(t); {
			if t[k] != '`' {
				k++
				continue
			}
			m := runLen(t, k)
			if m == n {
				end = k + m
				break
			}
			k += m
		}
		if end < 0 {
			b.WriteString(t[i : i+n])
			i += n
			continue
		}
		b.WriteString(f(t[i:end]))
		i = end
	}
	return b.String()
}

func runLen(t string, i int) int {
	n := 0
	for i+n < len(t) && t[i+n] == '`' {
		n++
	}
	return n
}

// inline rewrites images, links, bare URLs and mentions in prose.
func (s *scrubber) inline(t string) string {
	names := inlineRE.SubexpNames()
	var b strings.Builder
	last := 0
	for _, m := range inlineRE.FindAllStringSubmatchIndex(t, -1) {
		b.WriteString(t[last:m[0]])
		last = m[1]
		group := func(name string) (string, bool) {
			for i, n := range names {
				if n == name && m[2*i] >= 0 {
					return t[m[2*i]:m[2*i+1]], true
				}
			}
			return "", false
		}
		switch {
		case has(group, "image"):
			// Images are dropped: they load from outside and can track.
		case has(group, "link"):
			text, _ := group("ltext")
			url, _ := group("lurl")
			text = s.mentions(text)
			if s.inRepo(url) {
				b.WriteString("[" + text + "](" + url + ")")
				break
			}
			b.WriteString(text)
			if url != "" && url != text {
				if text != "" {
					b.WriteString(" ")
				}
				b.WriteString("(" + codeSpan(url) + ")")
			}
		case has(group, "auto"):
			url, _ := group("aurl")
			if s.inRepo(url) {
				b.WriteString("<" + url + ">")
			} else {
				b.WriteString(codeSpan(url))
			}
		case has(group, "bare"), has(group, "www"):
			url, _ := group("bare")
			if url == "" {
				url, _ = group("www")
			}
			url, rest := trimURL(url)
			if s.inRepo(url) {
				b.WriteString(url)
			} else {
				b.WriteString(codeSpan(url))
			}
			b.WriteString(rest)
		case has(group, "mention"):
			b.WriteString(s.mentions(t[m[0]:m[1]]))
		}
	}
	b.WriteString(t[last:])
	return b.String()
}

func has(group func(string) (string, bool), name string) bool {
	_, ok := group(name)
	return ok
}

// mentions wraps every @mention of t in a code span.
func (s *scrubber) mentions(t string) string {
	return mentionRE.ReplaceAllString(t, "$1`@$2`")
}

// inRepo reports whether url points into the repository.
func (s *scrubber) inRepo(url string) bool {
	if s.repo == "" || len(url) < len(s.repo) || !strings.EqualFold(url[:len(s.repo)], s.repo) {
		return false
	}
	rest := url[len(s.repo):]
	return rest == "" || rest[0] == '/' || rest[0] == '#' || rest[0] == '?'
}

// trimURL splits trailing punctuation, and a closing parenthesis with no
// opening one, off a bare URL.
func trimURL(url string) (string, string) {
	end := len(url)
	for end > 0 {
		c := url[end-1]
		if strings.IndexByte(`.,;:!?'"*_~`, c) >= 0 {
			end--
			continue
		}
		if c == ')' && strings.Count(url[:end], "(") < strings.Count(url[:end], ")") {
			end--
			continue
		}
		break
	}
	return url[:end], url[end:]
}

// codeSpan renders t as an inline code span whose backtick run is longer
// than any inside t. t must already be scrubbed.
func codeSpan(t string) string {
	t = strings.ReplaceAll(t, "\n", " ")
	if t == "" {
		return ""
	}
	ticks := strings.Repeat("`", longestRun(t, '`')+1)
	if strings.HasPrefix(t, "`") || strings.HasSuffix(t, "`") || (strings.HasPrefix(t, " ") && strings.HasSuffix(t, " ") && strings.TrimSpace(t) != "") {
		return ticks + " " + t + " " + ticks
	}
	return ticks + t + ticks
}

// fence returns a backtick fence longer than any backtick run in t, and at
// least three long.
func fence(t string) string {
	return strings.Repeat("`", max(3, longestRun(t, '`')+1))
}

func longestRun(t string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(t); i++ {
		if t[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}
