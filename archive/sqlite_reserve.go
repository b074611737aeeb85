package archive

import (
	"math/bits"

	"modernc.org/libc"
)

// allocReserve keeps a few pages of modernc's C allocator mapped for the size classes that
// bound payloads use. Its allocator hands out 2-16 KiB blocks from 64 KiB pages and unmaps a
// page as soon as its last block is freed; the driver copies each bound payload into a fresh
// block and frees it after the statement, so every insert statement of 1-10 KB messages
// mapped, faulted in and unmapped pages anew: 29 % of the node's CPU at 10 KB x 1,000 msg/s.
// Holding one block in each of a few pages keeps them (and their free blocks) mapped.
// Should the allocator change, the reserve only costs its 0.4-1.4 MiB.
type allocReserve struct {
	tls   *libc.TLS
	held  []uintptr
	slots int // free blocks per class it was made for
}

const (
	allocPage       = 64 << 10 // modernc.org/memory's page size (its pages are aligned to it)
	reserveMinClass = 2 << 10
	reserveMaxClass = 16 << 10 // larger blocks get pages of their own
)

// reserveSlots is the free blocks per class a statement of up to rows rows needs: a bound
// payload and the record built from it, per row, and some slack. Rows are rounded up to a power
// of two so that the reserve is remade only a few times as batches grow. At 10 msg/s (about 10
// rows per MaxCommitDelay) that is 48 blocks per class, 0.6 MiB resident (116, 1.4 MiB, from 33
// rows); without it each commit of ten 10 KB messages mapped and unmapped about seven pages,
// half the writer's CPU per message (BenchmarkSQLiteSmallBatches).
func reserveSlots(rows int) int {
	return min(2<<bits.Len(uint(max(rows-1, 0))), 2*insertRowsPerStmt) + 16
}

// newAllocReserve leaves slots free blocks of each class in pages it pins.
func newAllocReserve(slots int) *allocReserve {
	r := &allocReserve{tls: libc.NewTLS(), slots: slots}
	for size := reserveMinClass; size <= reserveMaxClass; size <<= 1 {
		var blocks []uintptr
		pages := map[uintptr]bool{}
		for len(blocks)-len(pages) < slots {
			p := libc.Xmalloc(r.tls, libc.Tsize_t(size))
			if p == 0 {
				break
			}
			blocks = append(blocks, p)
			pages[p&^(allocPage-1)] = true
		}
		for _, p := range blocks {
			if pg := p &^ (allocPage - 1); pages[pg] {
				delete(pages, pg) // the first block of each page pins it
				r.held = append(r.held, p)
				continue
			}
			libc.Xfree(r.tls, p)
		}
	}
	return r
}

func (r *allocReserve) release() {
	for _, p := range r.held {
		libc.Xfree(r.tls, p)
	}
	r.held = nil
	r.tls.Close()
}
