package docker

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/topo-dev/topo/model"
)

// frame builds one message of the engine's multiplexed log stream.
func frame(stream byte, payload string) []byte {
	hdr := make([]byte, 8)
	hdr[0] = stream
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(payload)))
	return append(hdr, payload...)
}

const ts1, ts2 = "2026-12-03T10:00:00.000000001Z", "2026-12-03T10:00:00.5Z"

func TestReadLogs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tty    bool
		stream []byte
		want   []string // stream|text, with "+cut" when cut
	}{
		{
			name: "streams told apart, stamps taken off",
			stream: bytes.Join([][]byte{
				frame(1, ts1+" hello\n"), frame(2, ts2+" oops\n"), frame(1, ts2+" bye\n"),
			}, nil),
			want: []string{"stdout|hello", "stderr|oops", "stdout|bye"},
		},
		{
			name: "a long line split into several stamped messages is joined",
			stream: bytes.Join([][]byte{
				frame(1, ts1+" first half "), frame(2, ts1+" between\n"), frame(1, ts2+" second half\n"),
			}, nil),
			want: []string{"stderr|between", "stdout|first half second half"},
		},
		{
			name:   "several lines in one message, carriage return dropped",
			stream: frame(1, ts1+" a\r\n"+ts2+" b\n"),
			want:   []string{"stdout|a", "stdout|b"},
		},
		{
			name:   "a line over the limit is cut",
			stream: frame(1, ts1+" "+strings.Repeat("x", maxLogLine+10)+"\n"),
			want:   []string{"stdout|" + strings.Repeat("x", maxLogLine) + "+cut"},
		},
		{
			name:   "the engine's own error shows on stderr",
			stream: frame(3, "error from daemon"),
			want:   []string{"stderr|error from daemon"},
		},
		{
			name:   "a terminal's single raw stream",
			tty:    true,
			stream: []byte(ts1 + " one\r\n" + ts2 + " two\n"),
			want:   []string{"stdout|one", "stdout|two"},
		},
		{
			name:   "escape sequences kept raw for the sanitiser",
			stream: frame(1, ts1+" \x1b[31mred\x1b[0m\n"),
			want:   []string{"stdout|\x1b[31mred\x1b[0m"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			err := readLogs(bytes.NewReader(tc.stream), tc.tty, func(l model.LogLine) {
				s := string(l.Stream) + "|" + l.Text
				if l.Cut {
					s += "+cut"
				}
				got = append(got, s)
				if l.Time.IsZero() && !strings.Contains(l.Text, "daemon") {
					t.Errorf("line %q has no time", l.Text)
				}
			})
			if err != io.EOF {
				t.Errorf("readLogs = %v, want EOF", err)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("lines:\n%q\nwant:\n%q", got, tc.want)
			}
		})
	}
}

// TestLogsFloodDoesNotWaitForTheConsumer: 100,000 lines written while the
// consumer takes nothing are all read (the reader never blocks on it), and
// the consumer then gets one batch: the newest lines in order, the rest
// counted as dropped.
func TestLogsFloodDoesNotWaitForTheConsumer(t *testing.T) {
	const total = 100_000
	var stream bytes.Buffer
	for i := 0; i < total; i++ {
		stream.Write(frame(1, fmt.Sprintf("%s line %d\n", ts1, i)))
	}
	q := newLogQueue(logBacklog)
	start := time.Now()
	if err := readLogs(&stream, false, q.push); err != io.EOF {
		t.Fatalf("readLogs = %v", err)
	}
	// A figure for the report, not asserted: how far above 10,000 lines
	// a second the parser and queue run on this machine.
	t.Logf("parsed and queued %d lines in %v (%.0f lines/s)", total, time.Since(start), total/time.Since(start).Seconds())
	q.finish(nil)
	out := make(chan model.LogBatch)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go q.deliver(ctx, out)
	var batches []model.LogBatch
	for b := range out {
		batches = append(batches, b)
	}
	if len(batches) != 1 {
		t.Fatalf("got %d batches, want 1", len(batches))
	}
	b := batches[0]
	if len(b.Lines) > logBacklog || len(b.Lines)+b.Dropped != total {
		t.Fatalf("%d lines + %d dropped, want at most %d lines and %d in all", len(b.Lines), b.Dropped, logBacklog, total)
	}
	for i, l := range b.Lines {
		if want := fmt.Sprintf("line %d", b.Dropped+i); l.Text != want {
			t.Fatalf("line %d = %q, want %q", i, l.Text, want)
		}
	}
}
