// Command testserver is the smallest useful workload for topo's tests: a
// static binary, built into a FROM scratch image, that answers HTTP on every
// port (or HOST:PORT) named in LISTEN (comma-separated, default 8080) and
// exits promptly on SIGTERM so that stopping a test container never waits
// for the kill timeout.
//
// For the flow tests it also makes known traffic: CONNECT=HOST:PORT with
// CONNECTIONS=N opens N TCP connections there and holds them open, and
// FORWARD=PORT=HOST:PORT relays every connection accepted on PORT to
// HOST:PORT (a container bridging two networks). GET=URL with PER_SECOND=N
// asks for URL N times a second, each on a connection of its own.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
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
		addr := strings.TrimSpace(port)
		if !strings.Contains(addr, ":") {
			addr = ":" + addr // a port alone: every address
		}
		server := &http.Server{Addr: addr, Handler: handler}
		go func() {
			if err := server.ListenAndServe(); err != nil && err != http.ErrServerClosed {
				log.Printf("listen %s: %v", server.Addr, err)
			}
		}()
	}
	if addr := os.Getenv("CONNECT"); addr != "" {
		n, _ := strconv.Atoi(os.Getenv("CONNECTIONS"))
		go hold(addr, max(n, 1))
	}
	if url := os.Getenv("GET"); url != "" {
		per, _ := strconv.Atoi(os.Getenv("PER_SECOND"))
		go get(ctx, url, max(per, 1))
	}
	if fwd := os.Getenv("FORWARD"); fwd != "" {
		port, to, _ := strings.Cut(fwd, "=")
		go forward(":"+port, to)
	}
	<-ctx.Done()
}

// hold opens n connections to addr, retrying until each is made (the
// server may start after the client), and keeps them open.
func hold(addr string, n int) {
	var conns []net.Conn
	for len(conns) < n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			log.Printf("connect %s: %v", addr, err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		conns = append(conns, c)
	}
	select {}
}

// get asks for url per times a second, each time on a new connection
// closed after the answer, as nginx does to its upstream.
func get(ctx context.Context, url string, per int) {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	tick := time.NewTicker(time.Second / time.Duration(per))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		resp, err := client.Get(url)
		if err != nil {
			log.Printf("get %s: %v", url, err)
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// forward relays each connection accepted on listen to addr.
func forward(listen, addr string) {
	l, err := net.Listen("tcp", listen)
	if err != nil {
		log.Printf("listen %s: %v", listen, err)
		return
	}
	for {
		in, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer in.Close()
			out, err := net.Dial("tcp", addr)
			if err != nil {
				log.Printf("forward to %s: %v", addr, err)
				return
			}
			defer out.Close()
			go io.Copy(out, in)
			_, _ = io.Copy(in, out)
		}()
	}
}
