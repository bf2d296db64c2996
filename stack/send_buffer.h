// Send side of a stream's data (RFC 9000 §2.2, §3.1, §13.3): the bytes the
// application wrote, kept until the peer acknowledges them, and what to put
// in the next STREAM frame.
//
// Bytes in [acked_end, sent_end) are in flight, lost, or acknowledged out of
// order; two small range sets tell which (whatever is in neither set is in
// flight). Retransmissions go first, lowest offset first, then new data.
//
// Memory: data lives in fixed-size pages from the host Allocator, allocated
// as the application writes and freed once every byte of the page is
// acknowledged (acked_end passes it, or reaches the end of written data). Buffered bytes, from acked_end to the
// end of written data, are bounded by max_buffered: a full buffer refuses
// writes (back-pressure) rather than growing.
//
// The range sets are bounded too. Overflowing them costs retransmissions,
// never correctness (§2.2: data at an offset never changes, so resending
// bytes, even acknowledged ones, is harmless): a lost range that cannot get
// a slot widens its neighbour, and an out-of-order acknowledgement that
// cannot be recorded is treated as lost, so it gets sent and acknowledged
// again.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/allocator.h"
#include "base/bounded.h"
#include "base/bytes.h"
#include "base/intrusive_list.h"
#include "base/range.h"
#include "base/status.h"

namespace quicbed {

class SendBuffer {
 public:
  // Slots of each range set (lost, acknowledged out of order): the holes a
  // window of data can have at once. A slow start overshooting a drop-tail
  // queue loses about every other pair of packets for a round trip (on the
  // interop goodput link some 25 holes at once); 16 slots overflowed there
  // and resent about 17 packets the peer already had.
  static constexpr size_t kMaxRanges = 32;

 private:
  struct Page : ListHook<> {
    uint64_t index = 0;  // holds offsets [index * kPageData, (index + 1) * kPageData)
    uint8_t* data() { return reinterpret_cast<uint8_t*>(this) + sizeof(Page); }
  };

  // Disjoint, non-adjacent inclusive ranges in ascending order.
  class ByteRanges {
   public:

    // Add r, merging it with the ranges it overlaps or touches; false (and
    // unchanged) if it needs a slot of its own and there is none.
    [[nodiscard]] bool add(Range r);
    // Add r; when no slot is free, widen the nearest range to cover it.
    void add_widening(Range r);
    // Remove r; a range r would split in two stays whole if no slot is free.
    void subtract(Range r);
    void remove_below(uint64_t v);
    void clear() { ranges_.clear(); }
    const Range* begin() const { return ranges_.begin(); }
    const Range* end() const { return ranges_.end(); }

   private:
    // Index of the first range not wholly below r and apart from it.
    size_t first_touching(Range r) const;

    BoundedVec<Range, kMaxRanges> ranges_;
  };

 public:
  // One allocation per page, header included: a kmalloc size class.
  static constexpr size_t kPageSize = 4096;
  static constexpr uint64_t kPageData = kPageSize - sizeof(Page);

  // Bytes for one STREAM frame: [offset, offset + len), which may cross
  // pages. `data` is its first piece, up to the end of offset's page; it
  // points into the buffer and stays valid until the next call to write,
  // on_acked or discard. piece() gives the others. `fin`: the frame may
  // carry FIN if it carries all `len` bytes.
  struct Chunk {
    uint64_t offset = 0;
    uint64_t len = 0;
    Bytes data;
    bool fin = false;
  };

  SendBuffer(Allocator& alloc, uint64_t max_buffered);
  ~SendBuffer();
  SendBuffer(const SendBuffer&) = delete;
  SendBuffer& operator=(const SendBuffer&) = delete;

  // Append as much of `data` as the bound allows and return how many bytes
  // that was: 0 when full (back-pressure), fewer when the allocator refused
  // a page part way. kNoMemory if it refused before any byte was stored,
  // kInvalidArgument after finish().
  Result<size_t> write(Bytes data);
  // write() in two steps, so that a host copies the application's bytes
  // straight into the buffer (the kernel from the process's iov_iter):
  // write_space() is where the next bytes go, up to the end of their page
  // and at most writable() (empty when full), the page allocated first
  // (kNoMemory if the allocator refused; kInvalidArgument after finish());
  // commit(n) appends the first n bytes written there, and nothing else
  // may touch the buffer in between.
  Result<MutBytes> write_space();
  void commit(size_t n);
  // The stream ends after the bytes written so far (§3.1: STREAM with FIN).
  // kInvalidArgument if already finished.
  Status finish();
  // Bytes write() would accept now.
  uint64_t writable() const { return max_buffered_ - (write_end_ - acked_end_); }

  // The next STREAM frame's content: lost bytes first (lowest offset), then
  // new bytes below new_data_end (the flow control limit, §4.1; lost bytes
  // were already counted), then a FIN alone. At most max_len bytes; a
  // frame is not cut where a page ends (each frame header costs the data
  // its bytes, §19.8). False if there is nothing to send.
  bool next_chunk(size_t max_len, uint64_t new_data_end, Chunk& out) const;
  // The buffered bytes from `offset` to the end of its page, at most
  // max_len: a chunk's data is copied out piece by piece. `offset` must be
  // in a chunk next_chunk gave (still buffered).
  Bytes piece(uint64_t offset, uint64_t max_len) const;
  // A STREAM frame with [offset, offset + len) and `fin` was sent; offset is
  // at most sent_end(). Returns the bytes beyond sent_end(): new flow
  // control credit used.
  uint64_t on_sent(uint64_t offset, uint64_t len, bool fin);
  // The packet carrying a STREAM frame with these bytes was acknowledged or
  // declared lost (RFC 9002 §6).
  void on_acked(uint64_t offset, uint64_t len, bool fin);
  void on_lost(uint64_t offset, uint64_t len, bool fin);
  // Drop all data and free its memory: the stream was reset (§3.1), so
  // nothing is sent again. Bytes never sent are forgotten.
  void discard();

  // One past the last byte written (the final size once finished).
  uint64_t write_end() const { return write_end_; }
  // One past the highest byte sent: the flow control credit used (§4.5: a
  // RESET_STREAM's final size).
  uint64_t sent_end() const { return sent_end_; }
  // Bytes below this are acknowledged and freed.
  uint64_t acked_end() const { return acked_end_; }
  bool finished() const { return fin_ != Fin::kNone; }
  bool has_unsent_data() const { return sent_end_ < write_end_; }
  // Every byte and the FIN are acknowledged: §3.1 "Data Recvd".
  bool all_acked() const { return fin_ == Fin::kAcked && acked_end_ == write_end_; }

 private:
  enum class Fin : uint8_t { kNone, kQueued, kInFlight, kAcked };

  // The page holding `offset`, which must be buffered.
  Page* page_for(uint64_t offset) const;
  // Free the pages lying wholly below acked_end_.
  void free_acked_pages();
  void free_page(Page* p);

  Allocator& alloc_;
  uint64_t max_buffered_;
  IntrusiveList<Page> pages_;  // contiguous indices, ascending
  ByteRanges lost_;            // to retransmit
  ByteRanges acked_;           // acknowledged above acked_end_
  uint64_t acked_end_ = 0;
  uint64_t sent_end_ = 0;
  uint64_t write_end_ = 0;
  Fin fin_ = Fin::kNone;
};

}  // namespace quicbed
