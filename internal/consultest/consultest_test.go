package consultest

import (
	"testing"

	"github.com/hashicorp/consul/api"
)

var apiService = api.AgentServiceRegistration{Name: "probe", Port: 1}

func TestStartRestart(t *testing.T) {
	a := Start(t)
	c := a.Client()
	if err := c.Agent().ServiceRegister(&apiService); err != nil {
		t.Fatalf("register: %v", err)
	}
	a.Restart()
	leader, err := c.Status().Leader()
	if err != nil || leader == "" {
		t.Fatalf("leader after restart = %q, %v", leader, err)
	}
	a.Stop()
	if _, err := c.Status().Leader(); err == nil {
		t.Error("a stopped agent answered")
	}
}
