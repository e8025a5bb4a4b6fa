//go:build !unix

package cli

import "context"

// watchSignal does nothing where there is no SIGUSR1 (Windows): the
// recording is written when the program ends. The recorder is a measuring
// hook for scripts/faults.sh, which runs on Linux.
func (r *faultsRecorder) watchSignal(ctx context.Context) {}
