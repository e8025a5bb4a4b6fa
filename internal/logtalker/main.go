// Command logtalker writes known lines for topo's log tests, in a FROM
// scratch image: LINES lines numbered from 1, odd ones on stdout ("out N")
// and even ones on stderr ("err N"), then "tick N" on stdout every 100 ms
// until SIGTERM, so a test can tell the tail from what it followed. With
// FLOOD=N it writes "flood K" lines at N a second instead of ticks.
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	n, _ := strconv.Atoi(os.Getenv("LINES"))
	for i := 1; i <= n; i++ {
		if i%2 == 1 {
			fmt.Fprintf(os.Stdout, "out %d\n", i)
		} else {
			fmt.Fprintf(os.Stderr, "err %d\n", i)
		}
	}
	if rate, _ := strconv.Atoi(os.Getenv("FLOOD")); rate > 0 {
		flood(ctx, rate)
		return
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 1; ; i++ {
		select {
		case <-tick.C:
			fmt.Fprintf(os.Stdout, "tick %d\n", i)
		case <-ctx.Done():
			return
		}
	}
}

// flood writes rate lines a second, in bursts every 10 ms, numbered from 1.
func flood(ctx context.Context, rate int) {
	w := bufio.NewWriter(os.Stdout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	written := 0
	for {
		select {
		case <-tick.C:
			due := int(time.Since(start).Seconds() * float64(rate))
			for ; written < due; written++ {
				fmt.Fprintf(w, "flood %d\n", written+1)
			}
			w.Flush()
		case <-ctx.Done():
			return
		}
	}
}
