package model

import "time"

// LogStream says which of a container's output streams a line came from.
type LogStream string

// The streams a container writes.
const (
	StreamStdout LogStream = "stdout"
	StreamStderr LogStream = "stderr"
)

// LogLine is one line a container wrote, as the engine stamped it. Text is
// raw (no trailing newline): it comes from the container and must pass the
// sanitiser before any view draws it.
type LogLine struct {
	Stream LogStream `json:"stream"`
	Time   time.Time `json:"time"`
	Text   string    `json:"text"`
	// Cut says the line was longer than the adapter keeps and Text holds
	// its start only.
	Cut bool `json:"cut,omitempty"`
}

// LogBatch is what a log stream delivers: every line read since the
// consumer last took one, in the engine's order. A consumer slower than
// the container gets fewer, larger batches, and when even that falls
// behind, Dropped counts the lines lost just before Lines (the oldest go
// first: a person following logs wants the newest). Err, on the last batch
// only, says why the stream ended other than by the consumer's own cancel
// (the container's output ended, the engine went away).
type LogBatch struct {
	Lines   []LogLine `json:"lines"`
	Dropped int       `json:"dropped,omitempty"`
	Err     error     `json:"-"`
}
