// Package hostile is the project's hostile-peer and fault suite: each file attacks one door of a
// real node on 127.0.0.1 (a flood, a malformed or oversized request, a stalled database, a peer
// that grows our bookkeeping) and asserts the bound that must hold: memory under a ceiling, the
// attacker disconnected, a legitimate client still served, nothing accepted lost, the right
// status code returned.
//
// `go test -short ./hostile/` is the quick form CI runs; without -short the attacks run at full
// size and print the figures recorded in docs/benchmarks.md.
package hostile
