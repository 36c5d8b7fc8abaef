package main

import (
	"log/slog"

	"github.com/invsys/inv/server"
)

// checkDescriptors has nothing to check on Windows: sockets are handles,
// bounded by memory, with no per-process limit to raise.
func checkDescriptors(*server.Config, *slog.Logger) error { return nil }
