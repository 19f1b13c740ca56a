package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Recorder wraps a Model and writes every successful turn (request,
// response and how long it took) to a Session file that Replay can serve
// later. The file is rewritten after each turn through a temporary file and
// a rename, so it is always a complete session, whatever happens to the
// run. It holds only what crosses the Model interface: no API key, base URL
// or header ever reaches it. A failed turn is not recorded; a turn whose
// recording cannot be written fails with that error, so a requested
// recording is never silently lost. Safe for concurrent use, though an
// agent calls it sequentially.
type Recorder struct {
	inner Model
	path  string
	// Now is the clock used to time turns; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	session Session
}

// NewRecorder records inner's turns to path as a session labelled
// "recorded" under id's provider, model and effort. Nothing is written
// until the first turn succeeds.
func NewRecorder(inner Model, id Identity, path string) *Recorder {
	return &Recorder{
		inner: inner,
		path:  path,
		session: Session{
			Provider: id.Provider,
			Model:    id.Model,
			Effort:   id.Effort,
			Label:    "recorded",
		},
	}
}

// Identity names the live model being recorded (no label: its words are a
// live model's).
func (r *Recorder) Identity() Identity {
	return Identity{Provider: r.session.Provider, Model: r.session.Model, Effort: r.session.Effort}
}

// Path is the session file the recorder writes.
func (r *Recorder) Path() string { return r.path }

// Turn calls the wrapped model and records the turn.
func (r *Recorder) Turn(ctx context.Context, req Request) (*Response, error) {
	now := r.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	resp, err := r.inner.Turn(ctx, req)
	if err != nil {
		return nil, err
	}
	delay := now().Sub(start).Milliseconds()

	// Snapshot request and response through JSON, so the agent's later
	// changes to shared slices cannot alter what was recorded.
	var turn Turn
	if err := roundTrip(req, &turn.Request); err != nil {
		return nil, fmt.Errorf("record turn: %w", err)
	}
	if err := roundTrip(resp, &turn.Response); err != nil {
		return nil, fmt.Errorf("record turn: %w", err)
	}
	turn.DelayMS = delay

	r.mu.Lock()
	defer r.mu.Unlock()
	r.session.Turns = append(r.session.Turns, turn)
	if err := r.write(); err != nil {
		return nil, fmt.Errorf("record turn %d to %s: %w", len(r.session.Turns), r.path, err)
	}
	return resp, nil
}

func roundTrip(in, out any) error {
	data, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, out)
}

// write replaces the session file atomically.
func (r *Recorder) write() error {
	data, err := json.MarshalIndent(&r.session, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	dir := filepath.Dir(r.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(r.path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), r.path)
}
