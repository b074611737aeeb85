// Package contracts holds the SWAP chequebook contract (Chequebook.sol), its compiled ABI and
// bytecode, go-ethereum bindings, and Settler, the hard-mode chain backend of package swap.
package contracts

//go:generate bash gen.sh
