// Command panetime times what a terminal program draws, for make bench: a
// tmux pane's output, piped to `panetime log FILE` (tmux pipe-pane -O),
// is written to FILE as one line per read, "<unix µs> <text>", where text
// is what the bytes print (escape sequences left out, line breaks as
// spaces). The times are when tmux received the bytes from the program,
// which a screen capture sees only on its next poll (a capture of a
// 200x50 pane takes 15-40 ms).
//
//	panetime find FILE SINCE_US REGEXP...  the time of the read in which
//	    the last of the expressions matched, each in a read after SINCE_US
//	panetime last FILE SINCE_US UNTIL_US   the time of the last read in
//	    (SINCE_US, UNTIL_US]: the frame that a capture at UNTIL_US saw
//
// Both print the time in µs and exit 1 when there is none.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "panetime:", err)
		os.Exit(1)
	}
}

func run(args []string, in io.Reader, out io.Writer) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: panetime log FILE | find FILE SINCE_US REGEXP... | last FILE SINCE_US UNTIL_US")
	}
	if args[0] == "log" {
		f, err := os.Create(args[1])
		if err != nil {
			return err
		}
		defer f.Close()
		return record(in, f, func() int64 { return time.Now().UnixMicro() })
	}
	reads, err := load(args[1])
	if err != nil {
		return err
	}
	var at int64
	var found bool
	switch {
	case args[0] == "find" && len(args) >= 4:
		at, found, err = find(reads, args[2], args[3:])
	case args[0] == "last" && len(args) == 4:
		at, found, err = last(reads, args[2], args[3])
	default:
		return fmt.Errorf("unknown or incomplete command %q", strings.Join(args, " "))
	}
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("no such read in %s", args[1])
	}
	_, err = fmt.Fprintln(out, at)
	return err
}

// record writes one line per read of in. The text filter's state carries
// over from read to read, so a sequence or a character split between two
// reads is still left out or kept whole.
func record(in io.Reader, w io.Writer, now func() int64) error {
	var t text
	buf := make([]byte, 64<<10)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			at := now()
			if _, werr := fmt.Fprintf(w, "%d %s\n", at, t.printed(buf[:n])); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// text keeps what the bytes print, dropping escape sequences (CSI, OSC,
// DCS and the rest); state is where the last read ended.
type text struct {
	state int
	rune  []byte // an incomplete UTF-8 character at the end of a read
}

const (
	plain = iota
	escape
	csi
	stringSeq // OSC, DCS, APC, PM, SOS: up to BEL or ESC \
	stringEsc // ESC inside a string: the ST's first byte
)

func (t *text) printed(p []byte) string {
	var b strings.Builder
	for _, c := range p {
		switch t.state {
		case escape:
			switch c {
			case '[':
				t.state = csi
			case ']', 'P', '_', '^', 'X':
				t.state = stringSeq
			default:
				t.state = plain
			}
		case csi:
			if c >= 0x40 && c <= 0x7e {
				t.state = plain
			}
		case stringSeq:
			if c == 0x1b {
				t.state = stringEsc
			} else if c == 0x07 {
				t.state = plain
			}
		case stringEsc:
			t.state = plain
		default:
			t.plainByte(&b, c)
		}
	}
	return b.String()
}

func (t *text) plainByte(b *strings.Builder, c byte) {
	switch {
	case c == 0x1b:
		t.state = escape
	case c < 0x20 || c == 0x7f:
		b.WriteByte(' ')
	default:
		t.rune = append(t.rune, c)
		if utf8.FullRune(t.rune) || len(t.rune) >= utf8.UTFMax {
			b.Write(t.rune)
			t.rune = t.rune[:0]
		}
	}
}

type read struct {
	at   int64
	text string
}

func load(path string) ([]read, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var reads []read
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		at, txt, _ := strings.Cut(sc.Text(), " ")
		n, err := strconv.ParseInt(at, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: a line without a time: %q", path, at)
		}
		reads = append(reads, read{n, txt})
	}
	return reads, sc.Err()
}

func find(reads []read, since string, exprs []string) (int64, bool, error) {
	from, err := strconv.ParseInt(since, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("SINCE_US %q: %w", since, err)
	}
	res := make([]*regexp.Regexp, len(exprs))
	for i, e := range exprs {
		if res[i], err = regexp.Compile(e); err != nil {
			return 0, false, err
		}
	}
	seen := make([]bool, len(res))
	left := len(res)
	for _, r := range reads {
		if r.at <= from {
			continue
		}
		for i, re := range res {
			if !seen[i] && re.MatchString(r.text) {
				seen[i] = true
				left--
			}
		}
		if left == 0 {
			return r.at, true, nil
		}
	}
	return 0, false, nil
}

func last(reads []read, since, until string) (int64, bool, error) {
	from, err := strconv.ParseInt(since, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("SINCE_US %q: %w", since, err)
	}
	to, err := strconv.ParseInt(until, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("UNTIL_US %q: %w", until, err)
	}
	var at int64
	for _, r := range reads {
		if r.at > from && r.at <= to {
			at = r.at
		}
	}
	return at, at != 0, nil
}
