package docker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/topo-dev/topo/model"
)

// LogOptions choose what Logs streams.
type LogOptions struct {
	// Tail is how many of the last lines to send before following; 0
	// means DefaultLogTail, a negative value every line the engine kept.
	Tail int
	// NoFollow ends the stream after the tail instead of following.
	NoFollow bool
}

// DefaultLogTail is how far back a log stream starts: a screen or two of
// context, not the container's whole history (which the engine would send
// in one go).
const DefaultLogTail = 200

// Bounds of a log stream's memory, whatever the container writes.
const (
	// logBacklog is the most lines held for a consumer that has not taken
	// the last batch yet; past it the oldest are dropped and counted. At
	// 10,000 lines a second it is a fifth of a second of output, more
	// than a screen shows.
	logBacklog = 2000
	// maxLogLine cuts longer lines: a container writing megabytes without
	// a newline must not grow one line without bound.
	maxLogLine = 16 << 10
)

// Logs streams a container's output: the last opts.Tail lines, then (unless
// NoFollow) each new line as the engine stamps it, split into stdout and
// stderr lines with their timestamps. Lines reach the channel in batches
// (see model.LogBatch): reading the engine never waits for the consumer,
// so a container writing 10,000 lines a second costs the consumer one
// receive per batch it takes, and past logBacklog lines waiting the oldest
// are dropped with a count. The request to the engine is closed, and the
// channel with it, when ctx ends; the channel also closes when the output
// ends (the container stopped, with NoFollow after the tail), its last
// batch saying why.
func (e *Engine) Logs(ctx context.Context, id string, opts LogOptions) (<-chan model.LogBatch, error) {
	info, err := e.api.ContainerInspect(ctx, id)
	if err != nil {
		return nil, e.actionError(err, id, "logs")
	}
	tail := "all"
	switch {
	case opts.Tail == 0:
		tail = strconv.Itoa(DefaultLogTail)
	case opts.Tail > 0:
		tail = strconv.Itoa(opts.Tail)
	}
	body, err := e.api.ContainerLogs(ctx, id, container.LogsOptions{
		ShowStdout: true, ShowStderr: true, Timestamps: true, Follow: !opts.NoFollow, Tail: tail,
	})
	if err != nil {
		return nil, e.actionError(err, id, "logs")
	}
	// A container with a terminal has one stream, sent raw: the engine
	// frames the two streams only when they are separate.
	tty := info.Config != nil && info.Config.Tty
	out := make(chan model.LogBatch)
	q := newLogQueue(logBacklog)
	go func() {
		// Closing the body ends the request: the transport drops the
		// connection of an unread response rather than reuse it.
		stop := context.AfterFunc(ctx, func() { body.Close() })
		defer stop()
		defer body.Close()
		err := readLogs(body, tty, q.push)
		switch {
		case ctx.Err() != nil, opts.NoFollow && errors.Is(err, io.EOF):
			// The caller ended it, or the tail was all it asked for.
			q.finish(nil)
		default:
			if errors.Is(err, io.EOF) {
				err = errLogsEnded
			}
			q.finish(fmt.Errorf("logs of %s: %w", shortID(id), e.explainIfDown(err)))
		}
	}()
	go q.deliver(ctx, out)
	return out, nil
}

const errLogsEnded = streamError("the container's output ended (it stopped, or the engine closed the stream)")

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// logQueue is the bounded hand-over between the reader of the engine's
// stream and the consumer: the reader pushes without ever blocking, the
// consumer takes everything waiting as one batch.
type logQueue struct {
	mu      sync.Mutex
	lines   []model.LogLine
	dropped int
	max     int
	done    bool
	err     error
	ready   chan struct{} // holds a token when something changed
}

func newLogQueue(max int) *logQueue {
	return &logQueue{max: max, ready: make(chan struct{}, 1)}
}

func (q *logQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *logQueue) push(l model.LogLine) {
	q.mu.Lock()
	if len(q.lines) >= q.max {
		// Drop the oldest half at once rather than one line per push, so
		// a flood costs amortised O(1) per line.
		n := len(q.lines) / 2
		q.dropped += n
		q.lines = append(q.lines[:0], q.lines[n:]...)
	}
	q.lines = append(q.lines, l)
	q.mu.Unlock()
	q.signal()
}

func (q *logQueue) finish(err error) {
	q.mu.Lock()
	q.done, q.err = true, err
	q.mu.Unlock()
	q.signal()
}

// deliver hands batches to out until the reader finished and everything
// waiting was taken, or ctx ended; it closes out.
func (q *logQueue) deliver(ctx context.Context, out chan<- model.LogBatch) {
	defer close(out)
	for {
		select {
		case <-q.ready:
		case <-ctx.Done():
			return
		}
		q.mu.Lock()
		b := model.LogBatch{Lines: q.lines, Dropped: q.dropped}
		done := q.done
		if done {
			b.Err = q.err
		}
		q.lines, q.dropped = nil, 0
		q.mu.Unlock()
		if len(b.Lines) > 0 || b.Dropped > 0 || b.Err != nil {
			select {
			case out <- b:
			case <-ctx.Done():
				return
			}
		}
		if done {
			return
		}
	}
}

// readLogs parses the engine's log stream into lines: framed (an 8-byte
// header naming the stream and the payload's length) unless tty. Each line
// starts with the engine's RFC 3339 timestamp; a line longer than the
// engine's own message limit comes in several messages, each stamped, and
// is joined here.
func readLogs(r io.Reader, tty bool, push func(model.LogLine)) error {
	var partial [3]*pendingLine
	emit := func(stream model.LogStream, data []byte) {
		idx := 1
		if stream == model.StreamStderr {
			idx = 2
		}
		for len(data) > 0 {
			line, rest, complete := bytes.Cut(data, []byte{'\n'})
			data = rest
			p := partial[idx]
			if p == nil {
				ts, text := splitTimestamp(line)
				p = &pendingLine{line: model.LogLine{Stream: stream, Time: ts}}
				p.add(text)
				partial[idx] = p
			} else {
				// A continuation message carries its own stamp.
				_, text := splitTimestamp(line)
				p.add(text)
			}
			if complete {
				push(p.line)
				partial[idx] = nil
			}
		}
	}
	if tty {
		br := bufio.NewReaderSize(r, 32<<10)
		for {
			chunk, err := br.ReadSlice('\n')
			if len(chunk) > 0 {
				emit(model.StreamStdout, chunk)
			}
			if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
				return err
			}
		}
	}
	br := bufio.NewReaderSize(r, 32<<10)
	var hdr [8]byte
	buf := make([]byte, 0, 32<<10)
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return err
		}
		size := int(binary.BigEndian.Uint32(hdr[4:]))
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(br, buf); err != nil {
			return err
		}
		switch hdr[0] {
		case 1:
			emit(model.StreamStdout, buf)
		case 2:
			emit(model.StreamStderr, buf)
		default:
			// Stream 3 is the engine's own error, sent in the middle of
			// the stream: as a line of stderr, so it is seen.
			emit(model.StreamStderr, append(buf, '\n'))
		}
	}
}

type pendingLine struct {
	line model.LogLine
	size int
}

func (p *pendingLine) add(text []byte) {
	if p.line.Cut {
		return
	}
	if p.size+len(text) > maxLogLine {
		text = text[:maxLogLine-p.size]
		p.line.Cut = true
	}
	p.line.Text += string(text)
	p.size += len(text)
}

// splitTimestamp takes the engine's stamp off a line; a line without one
// (the engine's own error) is kept whole.
func splitTimestamp(line []byte) (time.Time, []byte) {
	stamp, rest, _ := bytes.Cut(line, []byte{' '})
	ts, err := time.Parse(time.RFC3339Nano, string(stamp))
	if err != nil {
		return time.Time{}, line
	}
	return ts, bytes.TrimSuffix(rest, []byte{'\r'})
}
