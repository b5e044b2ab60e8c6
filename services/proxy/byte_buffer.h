#pragma once

// The sending side of a connection: messages are appended (or composed in place) at the back,
// the socket consumes from the front. Consumed space is reclaimed lazily.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace sfbridge::proxy {

class ByteBuffer {
 public:
  std::string_view view() const {
    return std::string_view(data_).substr(start_, data_.size() - start_);
  }
  size_t size() const { return data_.size() - start_; }
  bool empty() const { return size() == 0; }
  void Consume(size_t n) {
    start_ += n;
    if (start_ == data_.size()) Clear();
  }
  void Append(std::string_view s) {
    Compact();
    data_.append(s);
  }
  void Clear() {
    data_.clear();
    start_ = 0;
  }
  // The underlying string, for composing messages in place at the back.
  std::string* back() {
    Compact();
    return &data_;
  }

 private:
  void Compact() {
    if (start_ > 0 && start_ >= data_.size() / 2) {
      data_.erase(0, start_);
      start_ = 0;
    }
  }

  std::string data_;
  size_t start_ = 0;
};

// The receiving side: the socket reads straight into spare room at the back (never zero-filled:
// a read costs no memset of the chunk), whole messages are consumed at the front.
class InputBuffer {
 public:
  std::string_view view() const { return std::string_view(data_.get() + start_, end_ - start_); }
  size_t size() const { return end_ - start_; }
  bool empty() const { return end_ == start_; }
  void Consume(size_t n) {
    start_ += n;
    if (start_ == end_) start_ = end_ = 0;
  }
  void Clear() { start_ = end_ = 0; }
  // Room for `n` more bytes at the back; Commit(k) keeps the first k of them.
  char* PrepareAppend(size_t n) {
    if (start_ > 0 && (capacity_ - end_ < n)) {  // reclaim consumed space first
      std::memmove(data_.get(), data_.get() + start_, end_ - start_);
      end_ -= start_;
      start_ = 0;
    }
    if (capacity_ - end_ < n) {
      size_t capacity = std::max(capacity_ * 2, end_ + n);
      std::unique_ptr<char[]> bigger(new char[capacity]);
      if (end_ > start_) std::memcpy(bigger.get(), data_.get() + start_, end_ - start_);
      end_ -= start_;
      start_ = 0;
      data_ = std::move(bigger);
      capacity_ = capacity;
    }
    return data_.get() + end_;
  }
  void Commit(size_t k) { end_ += k; }

 private:
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t start_ = 0;
  size_t end_ = 0;
};

}  // namespace sfbridge::proxy
