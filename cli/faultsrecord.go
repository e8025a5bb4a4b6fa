package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/topo-dev/topo/model"
	"github.com/topo-dev/topo/ui"
)

// recordEnv names the file a recording goes to. It is a measuring hook for
// scripts/faults.sh, not a feature: unset (always, for a user) nothing is
// recorded and the program is unchanged.
const recordEnv = "TOPO_FAULTS_RECORD"

// faultsRecorder wraps the root model and notes, for scripts/faults.sh, when each
// frame was drawn, how long each engine event took from the engine's clock
// to the model, and the model itself. It writes them to its file on SIGUSR1
// (so the script can compare the model with the engine mid-run) and when
// the program ends.
//
// Frame times are taken in View, which Bubble Tea calls after every
// message; the renderer flushes the latest view at most one frame later
// (1/renderFPS s). A gap between two Views longer than the 1 s clock tick
// means the program loop itself was held up.
type faultsRecorder struct {
	app  *ui.Model
	path string

	// mu guards what the SIGUSR1 goroutine copies out; Update and View
	// run on Bubble Tea's one loop.
	mu       sync.Mutex
	views    []int64    // unix ms of each View
	events   [][2]int64 // unix ms: engine's event time, applied to the model
	topo     model.Topology
	registry *model.Registry
}

// recording is the file's content.
type recording struct {
	WrittenAt int64  `json:"written_at_ms"`
	Why       string `json:"why"`
	// Views are the unix ms of every View call.
	Views []int64 `json:"views_ms"`
	// Events are [engine event time, applied to the model] in unix ms.
	Events   [][2]int64      `json:"events_ms"`
	Topology model.Export    `json:"topology"`
	Registry *model.Registry `json:"registry,omitempty"`
}

func newFaultsRecorder(app *ui.Model, path string) *faultsRecorder {
	return &faultsRecorder{app: app, path: path, topo: app.Topology()}
}

func (r *faultsRecorder) Init() tea.Cmd { return r.app.Init() }

func (r *faultsRecorder) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	// The model applies events to its topology's maps in place: the
	// SIGUSR1 goroutine's Export must not run meanwhile.
	r.mu.Lock()
	defer r.mu.Unlock()
	_, cmd := r.app.Update(msg)
	now := time.Now().UnixMilli()
	switch msg := msg.(type) {
	case ui.EngineUpdateMsg:
		if ev := msg.Update.Event; ev != nil {
			r.events = append(r.events, [2]int64{ev.Time.UnixMilli(), now})
		}
		r.topo = r.app.Topology()
	case ui.RegistryMsg:
		reg := msg.Registry
		r.registry = &reg
	}
	return r, cmd
}

func (r *faultsRecorder) View() string {
	v := r.app.View()
	r.mu.Lock()
	r.views = append(r.views, time.Now().UnixMilli())
	r.mu.Unlock()
	return v
}

// write replaces the file whole (a temporary file renamed), so a reader
// never sees half a recording.
func (r *faultsRecorder) write(why string) error {
	r.mu.Lock()
	// Update changes the topology's maps under the same lock.
	rec := recording{
		WrittenAt: time.Now().UnixMilli(), Why: why,
		Views: append([]int64(nil), r.views...), Events: append([][2]int64(nil), r.events...),
		Topology: r.topo.Export(), Registry: r.registry,
	}
	r.mu.Unlock()
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode the %s recording: %w", recordEnv, err)
	}
	tmp := r.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write the %s recording: %w", recordEnv, err)
	}
	if err := os.Rename(tmp, r.path); err != nil {
		return fmt.Errorf("write the %s recording: %w", recordEnv, err)
	}
	return nil
}
