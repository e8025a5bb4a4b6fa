package docker

// FlowAgent returns the ID of the agent container f reads through, "" before
// its first sample and after Close.
func FlowAgent(f *Flows) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.agent
}
