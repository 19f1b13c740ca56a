// Package cli is deep-review's command line and Action entrypoint: it reads
// the commands, flags and INPUT_* variables into settings, then calls one
// stage after another (gather, review, consolidate, render, publish).
package cli
