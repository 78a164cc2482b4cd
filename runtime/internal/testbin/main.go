// Command testbin runs a testprog script given as its arguments. The runtime
// tests build it statically and put it in an image with image.Builder.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/setpoint-dev/setpoint/runtime/internal/testprog"
)

func main() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	term := make(chan struct{})
	go func() {
		<-sigs
		close(term)
	}()
	code := testprog.Run(context.Background(), os.Args[1:], testprog.IO{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Term: term, Getenv: os.Getenv, Sys: testprog.OS{},
	})
	os.Exit(code)
}
