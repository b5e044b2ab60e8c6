#include "proxy/client_output.h"

#include <algorithm>
#include <utility>

namespace sfbridge::proxy {

std::string_view HeldOutput::Before(size_t statement) const {
  if (answers.empty()) return bytes;
  return std::string_view(bytes).substr(0, answers[std::min(statement, answers.size() - 1)].begin);
}

std::string_view HeldOutput::Gap(size_t statement) const {
  const size_t from = statement == 0 ? 0 : answers[statement - 1].end;
  return std::string_view(bytes).substr(from, answers[statement].begin - from);
}

std::string_view HeldOutput::Tail() const {
  return std::string_view(bytes).substr(answers.empty() ? 0 : answers.back().end);
}

void ClientOutput::Hold() {
  if (holding_) return;
  holding_ = true;
  held_ = {};
}

void ClientOutput::AnswerEnds(size_t begin, std::vector<int16_t> result_formats, bool simple) {
  held_.answers.push_back({begin, held_.bytes.size(), std::move(result_formats), simple});
}

HeldOutput ClientOutput::Release() {
  holding_ = false;
  return std::exchange(held_, {});
}

}  // namespace sfbridge::proxy
