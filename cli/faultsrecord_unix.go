//go:build unix

package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// watchSignal writes the recording on every SIGUSR1 until ctx ends.
func (r *faultsRecorder) watchSignal(ctx context.Context) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	defer signal.Stop(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
			if err := r.write("SIGUSR1"); err != nil {
				fmt.Fprintln(os.Stderr, "topo:", err)
			}
		}
	}
}
