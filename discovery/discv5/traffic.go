package discv5

import (
	"net"
	"net/netip"
	"sync/atomic"
)

// countingConn counts the UDP bytes discv5 sends and receives, so the share of an idle
// node's traffic that is discovery can be measured (Discovery.Traffic).
type countingConn struct {
	*net.UDPConn
	in, out atomic.Uint64
}

func (c *countingConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	n, addr, err := c.UDPConn.ReadFromUDPAddrPort(b)
	c.in.Add(uint64(max(n, 0)))
	return n, addr, err
}

func (c *countingConn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	n, err := c.UDPConn.WriteToUDPAddrPort(b, addr)
	c.out.Add(uint64(max(n, 0)))
	return n, err
}

// Traffic is the UDP payload bytes discv5 has received and sent since Start.
func (d *Discovery) Traffic() (in, out uint64) {
	return d.conn.in.Load(), d.conn.out.Load()
}
