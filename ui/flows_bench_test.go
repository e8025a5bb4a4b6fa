package ui

import (
	"fmt"
	"testing"
	"time"

	"github.com/topo-dev/topo/model"
)

// BenchmarkFlowsSample is the UI's share of one flows sample at the
// benchmark's scale (25 servers, 25 clients of 4 connections each): the
// message made inert, the pane's update and the screen drawn again.
func BenchmarkFlowsSample(b *testing.B) {
	tb := newTopo().net("bench")
	for i := range 25 {
		tb.ctr(fmt.Sprintf("srv%d", i), []string{"bench"})
		tb.ctr(fmt.Sprintf("cli%d", i), []string{"bench"})
	}
	topo := tb.build()
	var tabs []model.SocketTable
	for i := range 25 {
		srv, cli := topo.Containers[ctrID(fmt.Sprintf("srv%d", i))], topo.Containers[ctrID(fmt.Sprintf("cli%d", i))]
		srvIP, cliIP := srv.Endpoints[netID("bench")].IPv4, cli.Endpoints[netID("bench")].IPv4
		s := model.SocketTable{Containers: []string{srv.ID}, Listen: []string{"0.0.0.0:8080"}}
		c := model.SocketTable{Containers: []string{cli.ID}, Listen: []string{"0.0.0.0:8081"}}
		for k := range 4 {
			s.Conns = append(s.Conns, model.SocketConn{Local: srvIP + ":8080", Remote: fmt.Sprintf("%s:%d", cliIP, 40000+k)})
			c.Conns = append(c.Conns, model.SocketConn{Local: fmt.Sprintf("%s:%d", cliIP, 40000+k), Remote: srvIP + ":8080"})
		}
		tabs = append(tabs, s, c)
	}
	fake := &fakeFlows{tables: [][]model.SocketTable{tabs}}
	hs := newHarnessWith(b, 200, 50, &topo, func(cfg *Config) { cfg.Flows = fake })
	hs.flowsOn(6)
	sample := topo.Flows(tabs, nil)
	b.ResetTimer()
	for range b.N {
		at := hs.now
		hs.m.Update(FlowsMsg{Seq: hs.m.flows.seq, Sample: sample, Start: at, At: at.Add(time.Millisecond)})
		hs.m.Update(FlowsTickMsg{Seq: hs.m.flows.seq})
		hs.m.View()
		hs.now = hs.now.Add(time.Second)
	}
}
