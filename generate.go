// Package wakunode is a Waku v2 node. See README.md; the node itself is in package node.
package wakunode

//go:generate bash scripts/protogen.sh
