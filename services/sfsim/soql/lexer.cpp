#include "sfsim/soql/lexer.h"

#include "sfsim/soql/datetime.h"
#include "sfsim/soql/errors.h"

namespace sfbridge::sfsim::soql {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentifierStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsIdentifierPart(char c) { return IsIdentifierStart(c) || IsDigit(c); }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// Characters that can appear in a date, datetime or time literal.
bool IsTemporalPart(char c) {
  return IsDigit(c) || c == '-' || c == ':' || c == '.' || c == '+' || c == 'T' || c == 'Z';
}

class Lexer {
 public:
  explicit Lexer(std::string_view soql) : soql_(soql) {}

  absl::StatusOr<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    while (true) {
      SkipSpace();
      Token token;
      token.position = Here();
      if (pos_ >= soql_.size()) {
        token.kind = TokenKind::kEnd;
        tokens.push_back(std::move(token));
        return tokens;
      }
      if (absl::Status status = Next(token); !status.ok()) return status;
      tokens.push_back(std::move(token));
    }
  }

 private:
  Position Here() const { return Position{row_, static_cast<int>(pos_ - row_start_) + 1}; }

  void SkipSpace() {
    while (pos_ < soql_.size() && IsSpace(soql_[pos_])) {
      if (soql_[pos_] == '\n') {
        ++row_;
        row_start_ = pos_ + 1;
      }
      ++pos_;
    }
  }

  absl::Status Next(Token& token) {
    const std::size_t start = pos_;
    const char c = soql_[pos_];
    auto single = [&](TokenKind kind, std::size_t length) {
      token.kind = kind;
      pos_ += length;
      token.text = soql_.substr(start, length);
      return absl::OkStatus();
    };
    const char next = pos_ + 1 < soql_.size() ? soql_[pos_ + 1] : '\0';
    if (IsIdentifierStart(c)) {
      while (pos_ < soql_.size() && IsIdentifierPart(soql_[pos_])) ++pos_;
      token.kind = TokenKind::kIdentifier;
      token.text = soql_.substr(start, pos_ - start);
      return absl::OkStatus();
    }
    if (c == '\'') return String(token);
    const char after_next = pos_ + 2 < soql_.size() ? soql_[pos_ + 2] : '\0';
    const bool signed_number =
        (c == '-' || c == '+') && (IsDigit(next) || (next == '.' && IsDigit(after_next)));
    if (IsDigit(c) || signed_number || (c == '.' && IsDigit(next))) {
      return NumberOrTemporal(token);
    }
    switch (c) {
      case '(':
        return single(TokenKind::kLeftParen, 1);
      case ')':
        return single(TokenKind::kRightParen, 1);
      case ',':
        return single(TokenKind::kComma, 1);
      case '.':
        return single(TokenKind::kDot, 1);
      case ':':
        return single(TokenKind::kColon, 1);
      case '=':
        return single(TokenKind::kEq, 1);
      case '!':
        if (next == '=') return single(TokenKind::kNe, 2);
        return single(TokenKind::kOther, 1);
      case '<':
        if (next == '=') return single(TokenKind::kLe, 2);
        if (next == '>') return single(TokenKind::kNe, 2);
        return single(TokenKind::kLt, 1);
      case '>':
        if (next == '=') return single(TokenKind::kGe, 2);
        return single(TokenKind::kGt, 1);
      default: {
        // One whole UTF-8 sequence, so that error messages quote a valid character.
        std::size_t length = 1;
        while (pos_ + length < soql_.size() &&
               (static_cast<unsigned char>(soql_[pos_ + length]) & 0xC0) == 0x80) {
          ++length;
        }
        return single(TokenKind::kOther, length);
      }
    }
  }

  absl::Status String(Token& token) {
    const Position opening = Here();
    const std::size_t content_start = ++pos_;
    std::string decoded;
    while (true) {
      if (pos_ >= soql_.size()) {
        return MalformedQueryError("unterminated string literal" + At(opening));
      }
      const char c = soql_[pos_];
      if (c == '\'') break;
      if (c == '\n') {
        ++row_;
        row_start_ = pos_ + 1;
      }
      if (c != '\\') {
        decoded.push_back(c);
        ++pos_;
        continue;
      }
      if (pos_ + 1 >= soql_.size()) {
        return MalformedQueryError("unterminated string literal" + At(opening));
      }
      const char e = soql_[pos_ + 1];
      switch (e) {
        case '\\':
        case '\'':
        case '"':
          decoded.push_back(e);
          break;
        case 'n':
        case 'N':
          decoded.push_back('\n');
          break;
        case 't':
        case 'T':
          decoded.push_back('\t');
          break;
        case 'r':
        case 'R':
          decoded.push_back('\r');
          break;
        case 'b':
        case 'B':
          decoded.push_back('\b');
          break;
        case 'f':
        case 'F':
          decoded.push_back('\f');
          break;
        // Meaningful only to LIKE; elsewhere the backslash is kept.
        case '%':
        case '_':
          decoded.push_back('\\');
          decoded.push_back(e);
          break;
        default: {
          std::size_t end = soql_.find('\'', pos_ + 2);
          if (end == std::string_view::npos) end = soql_.size();
          return MalformedQueryError("Invalid string literal '" +
                                     std::string(soql_.substr(content_start, end - content_start)) +
                                     "'. Illegal character sequence '\\" + std::string(1, e) +
                                     "' in string literal." + At(opening));
        }
      }
      pos_ += 2;
    }
    token.kind = TokenKind::kString;
    token.text = soql_.substr(content_start, pos_ - content_start);
    token.value = Value::String(std::move(decoded));
    ++pos_;  // closing quote
    return absl::OkStatus();
  }

  absl::Status NumberOrTemporal(Token& token) {
    const std::size_t start = pos_;
    auto digits_at = [&](std::size_t at, std::size_t count) {
      for (std::size_t i = 0; i < count; ++i) {
        if (at + i >= soql_.size() || !IsDigit(soql_[at + i])) return false;
      }
      return true;
    };
    const bool date_like =
        digits_at(start, 4) && start + 4 < soql_.size() && soql_[start + 4] == '-';
    const bool time_like =
        digits_at(start, 2) && start + 2 < soql_.size() && soql_[start + 2] == ':';
    if (date_like || time_like) {
      while (pos_ < soql_.size() && IsTemporalPart(soql_[pos_])) ++pos_;
      token.text = soql_.substr(start, pos_ - start);
      if (date_like && token.text.size() == 10) {
        if (auto days = ParseDate(token.text)) {
          token.kind = TokenKind::kDate;
          token.value = Value::Date(*days);
          return absl::OkStatus();
        }
      } else if (date_like) {
        if (auto millis = ParseDateTime(token.text)) {
          token.kind = TokenKind::kDateTime;
          token.value = Value::DateTime(*millis);
          return absl::OkStatus();
        }
      } else if (auto millis = ParseTime(token.text)) {
        token.kind = TokenKind::kTime;
        token.value = Value::Time(*millis);
        return absl::OkStatus();
      }
      return MalformedQueryError(
          std::string(date_like ? "invalid date or datetime literal '" : "invalid time literal '") +
          std::string(token.text) + "'" + At(token.position));
    }
    if (soql_[pos_] == '-' || soql_[pos_] == '+') ++pos_;
    while (pos_ < soql_.size() && IsDigit(soql_[pos_])) ++pos_;
    if (pos_ < soql_.size() && soql_[pos_] == '.') {
      ++pos_;
      while (pos_ < soql_.size() && IsDigit(soql_[pos_])) ++pos_;
    }
    token.text = soql_.substr(start, pos_ - start);
    absl::StatusOr<Value> number = Value::ParseNumber(token.text);
    if (!number.ok()) {
      return MalformedQueryError("invalid number '" + std::string(token.text) + "'" +
                                 At(token.position));
    }
    token.kind = TokenKind::kNumber;
    token.value = *std::move(number);
    return absl::OkStatus();
  }

  std::string_view soql_;
  std::size_t pos_ = 0;
  int row_ = 1;
  std::size_t row_start_ = 0;
};

}  // namespace

std::string At(Position position) {
  return " at Row:" + std::to_string(position.row) + ":Column:" + std::to_string(position.column);
}

std::string DescribeToken(const Token& token) {
  if (token.kind == TokenKind::kEnd) return "'<EOF>'";
  if (token.kind == TokenKind::kString) return "''" + std::string(token.text) + "''";
  return "'" + std::string(token.text) + "'";
}

absl::StatusOr<std::vector<Token>> Tokenize(std::string_view soql) {
  if (soql.size() > kMaxQueryLength) {
    return MalformedQueryError("query is " + std::to_string(soql.size()) +
                               " characters long; the maximum is " +
                               std::to_string(kMaxQueryLength));
  }
  return Lexer(soql).Run();
}

}  // namespace sfbridge::sfsim::soql
