// Receive-side reassembly of a byte stream: STREAM data (RFC 9000 §2.2) and
// CRYPTO data (§19.6) arrive at arbitrary offsets, possibly overlapping or
// repeated, and are read back in order.
//
// Bounded twice, because the peer chooses both offsets and fragmentation:
//  - a window: no byte at or beyond read_offset() + window is accepted (the
//    stream's flow control limit, §4.1; the CRYPTO buffer limit, §7.5);
//  - a maximum number of segments, the disjoint runs of held bytes (each
//    gap the peer leaves costs bookkeeping).
// Crossing either is the error chosen at construction: FLOW_CONTROL_ERROR
// for streams, CRYPTO_BUFFER_EXCEEDED for CRYPTO frames.
//
// Memory comes from the host Allocator on demand: data in fixed-size pages,
// allocated only for offsets that hold data and freed as soon as they are
// read, and one small node per segment. An idle buffer owns no memory.
// Every operation either completes or leaves the buffer as it was.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/allocator.h"
#include "base/assert.h"
#include "base/bytes.h"
#include "base/intrusive_list.h"
#include "base/range.h"
#include "base/status.h"

namespace quicbed {

class ReassemblyBuffer {
  // A run of held bytes, as an inclusive offset range, in a list sorted by
  // offset. All held bytes lie at or above read_offset_.
  struct Segment : ListHook<> {
    Range bytes;
  };
  // Page `index` holds offsets [index * kPageData, (index + 1) * kPageData);
  // its data follows the header in the same allocation. A page exists
  // exactly when it holds at least one held byte.
  struct Page : ListHook<> {
    uint64_t index = 0;
    uint8_t* data() { return reinterpret_cast<uint8_t*>(this) + sizeof(Page); }
  };

 public:
  // One allocation per page, header included: a kmalloc size class, so the
  // kernel host wastes nothing by rounding.
  static constexpr size_t kPageSize = 4096;
  // Stream bytes per page.
  static constexpr uint64_t kPageData = kPageSize - sizeof(Page);

  struct Limits {
    // Bytes accepted beyond read_offset(): the memory bound. The credit the
    // receiver advertised (MAX_STREAM_DATA, RFC 9000 §4.1) is an absolute
    // limit checked by flow control before insert(); it never exceeds this
    // window, so for a compliant peer only that check can fire.
    uint64_t window;
    size_t max_segments;  // disjoint runs of held data, at least 1
    ErrorCode error;      // kFlowControlError or kCryptoBufferExceeded
  };

  ReassemblyBuffer(Allocator& alloc, const Limits& limits);
  ~ReassemblyBuffer();
  ReassemblyBuffer(const ReassemblyBuffer&) = delete;
  ReassemblyBuffer& operator=(const ReassemblyBuffer&) = delete;

  // Accept `data` at stream offset `offset`; `fin` marks offset + size as
  // the final size (§4.5). Bytes already read or already held are ignored
  // (§2.2: data at an offset never changes). Errors, each leaving the buffer
  // unchanged:
  //  - FINAL_SIZE_ERROR (§4.5, §20.1): data beyond a known final size, a
  //    final size different from a known one, or a final size below the
  //    largest offset received;
  //  - limits.error: data beyond the window;
  //  - kLimitExceeded: one segment too many (a bound of ours, not a
  //    violation by the peer);
  //  - kNoMemory: the allocator refused.
  // A RESET_STREAM's final size is checked the same way with empty data:
  // insert(final_size, {}, true).
  Status insert(uint64_t offset, Bytes data, bool fin);

  // Contiguous bytes available at read_offset().
  uint64_t readable() const;
  // The readable bytes stored contiguously in memory (up to a page
  // boundary), without consuming them; empty when nothing is readable.
  Bytes peek() const;
  // Drop n <= readable() bytes from the front, freeing pages read out.
  void consume(uint64_t n);
  // Copy up to out.size() readable bytes into `out` and consume them.
  size_t read(MutBytes out);

  // Offset of the next byte to read: the bytes delivered so far.
  uint64_t read_offset() const { return read_offset_; }
  // One past the largest offset received: what the peer has consumed of
  // the flow control credit (§4.1).
  uint64_t received_end() const { return received_end_; }
  bool final_size_known() const { return final_size_known_; }
  uint64_t final_size() const {
    QB_ASSERT(final_size_known_);
    return final_size_;
  }
  // All data up to the final size has been read: the stream's receiving
  // part reaches "Data Read" (§3.2).
  bool finished() const { return final_size_known_ && read_offset_ == final_size_; }

 private:
  // Hold [start, start + data.size()), all at or above read_offset_.
  Status store(uint64_t start, Bytes data);
  // Make pages first..last exist: all of them, or none on kNoMemory.
  Status allocate_pages(uint64_t first, uint64_t last);
  // Copy into existing pages, walking forward from `page`; returns the
  // page written last.
  Page* copy_in(Page* page, uint64_t offset, Bytes data);
  // The first segment ending at or after start - 1, i.e. not wholly below
  // and apart from data starting at `start`.
  Segment* first_segment_touching(uint64_t start) const;
  // The first page with an index >= `index`.
  Page* first_page_from(uint64_t index) const;
  void free_page(Page* p);

  Allocator& alloc_;
  Limits limits_;
  IntrusiveList<Segment> segments_;
  IntrusiveList<Page> pages_;
  uint64_t read_offset_ = 0;
  uint64_t received_end_ = 0;
  uint64_t final_size_ = 0;
  bool final_size_known_ = false;
};

}  // namespace quicbed
