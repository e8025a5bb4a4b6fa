package ui

import (
	"fmt"
	"testing"

	"github.com/topo-dev/topo/model"
)

// TestWaitForUpdateTakesWaitingUpdatesInOneMessage is the regression for
// "a burst of events drew one view per event" (issue 18): Bubble Tea draws
// the view after every message, so 10,000 events one message each held
// the screen seconds behind the engine.
func TestWaitForUpdateTakesWaitingUpdatesInOneMessage(t *testing.T) {
	ch := make(chan model.Update, maxBatch+10)
	cmd := waitForUpdate(ch)

	ch <- model.Update{Lost: fmt.Errorf("0")}
	if msg, ok := cmd().(EngineUpdateMsg); !ok || msg.Update.Lost.Error() != "0" {
		t.Fatalf("one waiting update = %#v, want it alone in an EngineUpdateMsg", msg)
	}

	for i := range maxBatch + 10 {
		ch <- model.Update{Lost: fmt.Errorf("%d", i)}
	}
	batch, ok := cmd().(EngineBatchMsg)
	if !ok || len(batch.Updates) != maxBatch {
		t.Fatalf("got %d updates in one message, want the first %d of those waiting", len(batch.Updates), maxBatch)
	}
	for i, u := range batch.Updates {
		if u.Lost.Error() != fmt.Sprint(i) {
			t.Fatalf("update %d of the batch is %q: out of order", i, u.Lost)
		}
	}
	rest, ok := cmd().(EngineBatchMsg)
	if !ok || len(rest.Updates) != 10 || rest.Updates[0].Lost.Error() != fmt.Sprint(maxBatch) {
		t.Fatalf("the next message = %#v, want the 10 left, in order", rest)
	}

	ch <- model.Update{Lost: fmt.Errorf("last")}
	close(ch)
	if msg, ok := cmd().(EngineUpdateMsg); !ok || msg.Update.Lost.Error() != "last" {
		t.Fatalf("the update before the close = %#v", msg)
	}
	if _, ok := cmd().(EngineClosedMsg); !ok {
		t.Fatal("the closed watch was not reported")
	}
}

// A batch shows what the same updates one by one show: the screen and the
// log do not depend on how the updates were grouped.
func TestBatchOfEventsDrawsWhatTheEventsOneByOneDraw(t *testing.T) {
	topo := basicTopo()
	fresh := model.Container{ID: ctrID("newcomer"), Name: "newcomer", Image: "example/new:1", State: model.StateRunning,
		Endpoints: map[string]model.Endpoint{netID("spare"): {NetworkID: netID("spare"), NetworkName: "spare", IPv4: "172.26.0.9"}}}
	exited := fresh
	exited.State = model.StateExited
	evs := []model.Update{
		{Event: &model.Event{Time: testNow, Type: model.EventContainer, Action: "start", ActorID: fresh.ID, Container: &fresh, Attributes: map[string]string{"name": "newcomer"}}},
		{Event: &model.Event{Time: testNow, Type: model.EventContainer, Action: "die", ActorID: fresh.ID, Container: &exited, Attributes: map[string]string{"name": "newcomer", "exitCode": "0"}}},
		{Event: &model.Event{Time: testNow, Type: model.EventContainer, Action: "start", ActorID: fresh.ID, Container: &fresh, Attributes: map[string]string{"name": "newcomer"}}},
	}

	one := newHarness(t, 149, 40, &topo)
	for _, u := range evs {
		one.send(EngineUpdateMsg{Update: u})
	}
	batched := newHarness(t, 149, 40, &topo)
	batched.send(EngineBatchMsg{Updates: evs})

	if a, b := one.view(), batched.view(); a != b {
		t.Fatalf("one by one:\n%s\nin one batch:\n%s", a, b)
	}
}
