#pragma once

// What a session's client is to receive. Sent as it comes (appended to the client's output
// buffer), or, while a unit of writes is held (WritePath::Hold), held back until the unit ends:
// each held statement's provisional answer is marked, so that when the unit is sent to
// Salesforce the session can give the client the bytes around those answers and, in their
// place, the answers over the confirmed rows (or stop at the statement Salesforce refused).
// Pure bookkeeping over bytes: no I/O.
//
// Not thread-safe: belongs to one session.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/byte_buffer.h"

namespace sfbridge::proxy {

// The answer to one held statement within the held bytes, and how to answer it again.
struct HeldAnswer {
  size_t begin = 0, end = 0;  // [begin, end) of HeldOutput::bytes
  std::vector<int16_t> result_formats;
  bool simple = false;  // the statement came in a simple Query
};

// What a unit of held writes kept from the client.
struct HeldOutput {
  std::string bytes;
  std::vector<HeldAnswer> answers;  // in order, not overlapping

  // The bytes before the answer to held statement `statement` (the last one when `statement`
  // is past it); all of them when no answer was held.
  std::string_view Before(size_t statement) const;
  // The bytes between the answer to held statement `statement` - 1 (or the start) and the
  // answer to `statement`.
  std::string_view Gap(size_t statement) const;
  // The bytes after the last held answer; all of them when none was held.
  std::string_view Tail() const;
};

class ClientOutput {
 public:
  // `sent` is the client connection's output buffer; it must outlive this.
  explicit ClientOutput(ByteBuffer& sent) : sent_(sent) {}

  // Messages for the client, as they are.
  void Append(std::string_view raw) {
    if (holding_) {
      held_.bytes.append(raw);
    } else {
      sent_.Append(raw);
    }
  }
  // Where to compose a message for the client in place.
  std::string* Compose() { return holding_ ? &held_.bytes : sent_.back(); }

  bool holding() const { return holding_; }
  // Holds what the client is to receive from now on (nothing when already holding).
  void Hold();
  // Marks the start of a held statement's answer: what is appended from now on.
  size_t AnswerBegins() const { return held_.bytes.size(); }
  // The held statement's answer is what was appended since `begin` (AnswerBegins).
  void AnswerEnds(size_t begin, std::vector<int16_t> result_formats, bool simple);
  // Stops holding: returns what was held (empty when nothing was), for the caller to Append.
  HeldOutput Release();

 private:
  ByteBuffer& sent_;
  bool holding_ = false;
  HeldOutput held_;
};

}  // namespace sfbridge::proxy
