package docker

// FlowAgent returns the ID of the agent container f reads through, "" before
// its first sample and after Close.
func FlowAgent(f *Flows) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.agent
}

// SwarmFlowsHold returns the exec by which f marks its use of the flow
// service, "" when it holds none.
func SwarmFlowsHold(f *SwarmFlows) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.holdExec
}
