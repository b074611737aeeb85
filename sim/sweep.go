package sim

import (
	"context"
	"io"
)

// SweepConfig configures Sweep.
type SweepConfig struct {
	Set  string
	Dir  string
	Log  io.Writer
	Base Config
}

// Sweep is filled in below.
func Sweep(ctx context.Context, sc SweepConfig) error { return nil }
