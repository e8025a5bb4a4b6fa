package main

import "github.com/topo-dev/topo/demo/deploy"

// Scalable tells the TUI which demo services + and - can scale: the rest
// run exactly one instance, so + on them scales the app instead.
func (a demoUI) Scalable(service string) bool { return deploy.ValidateScale(service, 1) == nil }
