// Command devstack runs Onramp's embedded development infrastructure in one process: a Temporal
// server with its Web UI, and FerretDB speaking the MongoDB wire protocol, both on SQLite files.
//
// It lives in its own Go module because go.temporal.io/server does not compile against the
// go.temporal.io/api version that the Onramp app's SDK needs (see shared/PLATFORM.md). The app
// talks to it over the network exactly as it would talk to production servers.
//
// On stdout it prints one KEY=value line per address it serves, then READY; everything else goes
// to stderr. It stops cleanly on SIGINT/SIGTERM, or when stdin closes if -stop-on-stdin-eof is set
// (so a parent that dies without signalling does not leave it behind).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

type options struct {
	dataDir        string
	host           string
	temporalPort   int
	uiPort         int
	mongoPort      int
	namespace      string
	stopOnStdinEOF bool
	logLevel       slog.Level
}

func main() {
	var o options
	var level string
	flag.StringVar(&o.dataDir, "data", ".onramp", "directory for the SQLite files (created when missing)")
	flag.StringVar(&o.host, "host", "127.0.0.1", "address to listen on")
	flag.IntVar(&o.temporalPort, "temporal-port", 7233, "Temporal frontend gRPC port (0 picks a free one)")
	flag.IntVar(&o.uiPort, "ui-port", 8233, "Temporal Web UI port (0 picks a free one, -1 disables the UI)")
	flag.IntVar(&o.mongoPort, "mongo-port", 27017, "MongoDB wire-protocol (FerretDB) port (0 picks a free one)")
	flag.StringVar(&o.namespace, "namespace", "default", "Temporal namespace to create")
	flag.BoolVar(&o.stopOnStdinEOF, "stop-on-stdin-eof", false, "stop when stdin closes (for use as a child process)")
	flag.StringVar(&level, "log-level", "error", "log level: debug, info, warn, error")
	flag.Parse()
	if err := o.logLevel.UnmarshalText([]byte(level)); err != nil {
		fmt.Fprintln(os.Stderr, "devstack: -log-level:", err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		fmt.Println("ERROR", err) // the parent reads stdout; the log may be elsewhere
		os.Exit(1)
	}
}

func run(o options) error {
	started := time.Now()
	logLevel := new(slog.LevelVar)
	logLevel.Set(o.logLevel)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel}))

	if err := os.MkdirAll(o.dataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	dataDir, err := filepath.Abs(o.dataDir)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.stopOnStdinEOF {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}

	mongo, err := startMongo(ctx, filepath.Join(dataDir, "mongo"), net.JoinHostPort(o.host, strconv.Itoa(o.mongoPort)), logger)
	if err != nil {
		return err
	}
	defer mongo.Stop()

	temporalPort, err := portOrFree(o.host, o.temporalPort)
	if err != nil {
		return fmt.Errorf("temporal port: %w", err)
	}
	uiPort := o.uiPort
	if uiPort >= 0 {
		if uiPort, err = portOrFree(o.host, uiPort); err != nil {
			return fmt.Errorf("temporal ui port: %w", err)
		}
	}
	tmp, err := startTemporal(temporalConfig{
		host:      o.host,
		port:      temporalPort,
		uiPort:    uiPort,
		dbFile:    filepath.Join(dataDir, "temporal.sqlite"),
		namespace: o.namespace,
		logger:    logger,
		logLevel:  logLevel,
	})
	if err != nil {
		return err
	}
	defer tmp.Stop()

	fmt.Printf("MONGODB_URI=%s\n", mongo.URI)
	fmt.Printf("TEMPORAL_ADDRESS=%s\n", net.JoinHostPort(o.host, strconv.Itoa(temporalPort)))
	fmt.Printf("TEMPORAL_NAMESPACE=%s\n", o.namespace)
	if uiPort >= 0 {
		fmt.Printf("TEMPORAL_UI_URL=http://%s\n", net.JoinHostPort(o.host, strconv.Itoa(uiPort)))
	}
	fmt.Printf("READY in %s\n", time.Since(started).Round(time.Millisecond))

	<-ctx.Done()
	return nil
}

// portOrFree returns port, or a free port on host when port is 0. A port already taken is an error
// here rather than a confusing failure deep inside a server's start-up.
func portOrFree(host string, port int) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return 0, fmt.Errorf("%s:%d is already in use; stop what uses it or choose another port", host, port)
		}
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
