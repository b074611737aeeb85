package archive

import (
	"modernc.org/libc"
)

// allocReserve keeps a few pages of modernc's C allocator mapped for the size classes that
// bound payloads use. Its allocator hands out 2-16 KiB blocks from 64 KiB pages and unmaps a
// page as soon as its last block is freed; the driver copies each bound payload into a fresh
// block and frees it after the statement, so every insert statement of 1-10 KB messages
// mapped, faulted in and unmapped pages anew: 29 % of the node's CPU at 10 KB x 1,000 msg/s.
// Holding one block in each of a few pages keeps them (and their free blocks) mapped.
// Should the allocator change, the reserve only costs its few hundred KiB.
type allocReserve struct {
	tls  *libc.TLS
	held []uintptr
}

const (
	allocPage        = 64 << 10 // modernc.org/memory's page size (its pages are aligned to it)
	reserveMinClass  = 2 << 10
	reserveMaxClass  = 16 << 10                 // larger blocks get pages of their own
	reserveFreeSlots = 2*insertRowsPerStmt + 16 // a bound payload and the record built from it, per row
	// reserveFromRows: the writer sets the reserve up at its first batch this large (about
	// 100 msg/s, whose batches wait for CommitRows; 10 msg/s commits ~10 per MaxCommitDelay);
	// below that the churn costs less than the reserve's pages.
	reserveFromRows = 20
)

// newAllocReserve leaves reserveFreeSlots free blocks of each class in pages it pins.
func newAllocReserve() *allocReserve {
	r := &allocReserve{tls: libc.NewTLS()}
	for size := reserveMinClass; size <= reserveMaxClass; size <<= 1 {
		var blocks []uintptr
		pages := map[uintptr]bool{}
		for len(blocks)-len(pages) < reserveFreeSlots {
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
