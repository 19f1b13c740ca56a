// Package demo is deep-review's offline demonstration: a small fixture
// repository whose head has real defects, and scripted reviewer sessions
// that read it through the real agent loop and tools. Everything it shows
// is labelled as scripted: no model wrote the reviewers' words.
package demo

import "embed"

//go:embed testdata
var files embed.FS
