//go:build tools

// This file pins modules that packages landing in parallel will import, so
// that go.mod and go.sum do not churn under concurrent work. Remove an entry
// once a real import uses it.
package main

import (
	_ "github.com/charmbracelet/bubbles/help"
	_ "github.com/charmbracelet/bubbles/key"
	_ "github.com/charmbracelet/bubbles/progress"
	_ "github.com/charmbracelet/bubbles/spinner"
	_ "github.com/charmbracelet/bubbles/textinput"
	_ "github.com/charmbracelet/bubbles/viewport"
	_ "github.com/charmbracelet/bubbletea"
	_ "github.com/charmbracelet/lipgloss"
	_ "github.com/charmbracelet/x/exp/golden"
	_ "github.com/charmbracelet/x/exp/teatest"
	_ "github.com/docker/docker/client"
	_ "github.com/hashicorp/consul/api"
	_ "github.com/spf13/cobra"
	_ "go.mongodb.org/mongo-driver/v2/mongo"
)
