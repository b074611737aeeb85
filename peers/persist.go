package peers

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/enr"
)

// savedPeer is what --peer-persistence keeps of a peer: enough to dial it again and to choose
// it as a relay or service peer before it is reachable.
type savedPeer struct {
	ID     string           `json:"id"`
	Addrs  []string         `json:"addrs"`
	Origin string           `json:"origin"`
	Caps   enr.Capabilities `json:"caps,omitempty"`
	Shards *enr.RelayShards `json:"shards,omitempty"`
}

// Save writes every known peer with its addresses to path, atomically (a temporary file
// renamed over the old one), so a crash never leaves a half-written file.
func (m *Manager) Save(path string) error {
	var out []savedPeer
	for _, st := range m.Known() {
		addrs := m.h.Peerstore().Addrs(st.ID)
		if len(addrs) == 0 {
			continue
		}
		sp := savedPeer{ID: st.ID.String(), Origin: st.Origin, Caps: st.Caps, Shards: st.Shards}
		for _, a := range addrs {
			sp.Addrs = append(sp.Addrs, a.String())
		}
		out = append(out, sp)
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		return fmt.Errorf("save peers: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".peers-*")
	if err != nil {
		return fmt.Errorf("save peers: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("save peers: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save peers: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save peers: %w", err)
	}
	return nil
}

// Load adds the peers saved at path as candidates (keeping their origin); a missing file is
// not an error. Entries that do not parse are skipped. It returns how many were kept.
func (m *Manager) Load(path string) (int, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("load peers: %w", err)
	}
	var saved []savedPeer
	if err := json.Unmarshal(b, &saved); err != nil {
		return 0, fmt.Errorf("load peers %s: %w", path, err)
	}
	kept := 0
	for _, sp := range saved {
		id, err := peer.Decode(sp.ID)
		if err != nil {
			continue
		}
		ai := peer.AddrInfo{ID: id}
		for _, s := range sp.Addrs {
			if a, err := multiaddr.NewMultiaddr(s); err == nil {
				ai.Addrs = append(ai.Addrs, a)
			}
		}
		if len(ai.Addrs) == 0 {
			continue
		}
		var info *enr.Info
		if sp.Caps != 0 || sp.Shards != nil {
			info = &enr.Info{PeerID: id, Addrs: ai.Addrs, Caps: sp.Caps, Shards: sp.Shards}
		}
		if m.AddCandidate(ai, sp.Origin, info) {
			kept++
		}
	}
	return kept, nil
}
