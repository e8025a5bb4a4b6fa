// Command testserver is the smallest useful workload for topo's tests: a
// static binary, built into a FROM scratch image, that answers HTTP on every
// port named in LISTEN (comma-separated, default 8080) and exits promptly on
// SIGTERM so that stopping a test container never waits for the kill timeout.
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	hostname, _ := os.Hostname()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "ok %s %s\n", hostname, r.URL.Path)
	})

	ports := os.Getenv("LISTEN")
	if ports == "" {
		ports = "8080"
	}
	for _, port := range strings.Split(ports, ",") {
		server := &http.Server{Addr: ":" + strings.TrimSpace(port), Handler: handler}
		go func() {
			if err := server.ListenAndServe(); err != nil && err != http.ErrServerClosed {
				log.Printf("listen %s: %v", server.Addr, err)
			}
		}()
	}
	<-ctx.Done()
}
