// Package interop holds interoperability suites that run real third-party clients against a
// wakunode started in-process. js_test.go drives unmodified js-waku (@waku/sdk 0.0.36, pinned in
// js/package.json) over /ws with its stock libp2p stack (noise + mplex only).
package interop
