#include "proxy/statement_text.h"

#include <cctype>
#include <vector>

#include "common/core/strings.h"

namespace sfbridge::proxy {
namespace {

using core::StrCat;

// An escape-string literal: its meaning does not depend on standard_conforming_strings.
std::string Literal(std::string_view s) {
  std::string out = "E'";
  for (char c : s) {
    if (c == '\0') continue;
    if (c == '\'' || c == '\\') out.push_back(c);
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

bool ValidSqlState(std::string_view code) {
  if (code.size() != 5) return false;
  for (char c : code) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) return false;
  }
  return code.substr(0, 2) != "00";  // "successful completion" is not an error
}

// The words of `sql` in order, lower case, skipping blanks and comments; at most `max`.
std::vector<std::string> FirstWords(std::string_view sql, size_t max) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < sql.size() && words.size() < max) {
    const char c = sql[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == ';') {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      i = sql.find('\n', i);
      if (i == std::string_view::npos) break;
    } else if (sql.substr(i, 2) == "/*") {
      // Block comments nest in PostgreSQL.
      int depth = 0;
      while (i < sql.size()) {
        if (sql.substr(i, 2) == "/*") {
          ++depth;
          i += 2;
        } else if (sql.substr(i, 2) == "*/") {
          i += 2;
          if (--depth == 0) break;
        } else {
          ++i;
        }
      }
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::string word;
      while (i < sql.size() &&
             (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '_')) {
        word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(sql[i]))));
        ++i;
      }
      words.push_back(std::move(word));
    } else {
      break;
    }
  }
  return words;
}

}  // namespace

TransactionControl ClassifyTransactionControl(std::string_view sql) {
  const std::vector<std::string> w = FirstWords(sql, 4);
  if (w.empty()) return TransactionControl::kNone;
  if (w[0] == "commit" || w[0] == "end") {
    // COMMIT PREPARED runs outside any transaction block.
    return w.size() > 1 && w[1] == "prepared" ? TransactionControl::kNone
                                              : TransactionControl::kCommit;
  }
  if (w[0] == "prepare") {
    return w.size() > 1 && w[1] == "transaction" ? TransactionControl::kCommit
                                                 : TransactionControl::kNone;
  }
  if (w[0] == "rollback" || w[0] == "abort") {
    size_t k = 1;
    if (k < w.size() && (w[k] == "work" || w[k] == "transaction")) ++k;
    if (k < w.size() && w[k] == "to") return TransactionControl::kRollbackToSavepoint;
    if (w[0] == "rollback" && k < w.size() && w[k] == "prepared") return TransactionControl::kNone;
    return TransactionControl::kRollback;
  }
  return TransactionControl::kNone;
}

bool MayWrite(std::string_view sql) {
  static constexpr std::string_view kWords[] = {"insert", "update",   "delete", "merge",
                                                "copy",   "truncate", "execute"};
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = static_cast<char>(sql[i] | 0x20);
    if (c != 'i' && c != 'u' && c != 'd' && c != 'm' && c != 'c' && c != 't' && c != 'e') continue;
    for (std::string_view w : kWords) {
      if (w[0] != c || sql.size() - i < w.size()) continue;
      bool match = true;
      for (size_t k = 1; k < w.size() && match; ++k) match = (sql[i + k] | 0x20) == w[k];
      if (match) return true;
    }
  }
  return false;
}

std::string RaiseSql(const PgError& error) {
  std::string body =
      StrCat("BEGIN RAISE EXCEPTION USING MESSAGE = ", Literal(error.message),
             ", ERRCODE = ", Literal(ValidSqlState(error.sqlstate) ? error.sqlstate : "XX000"));
  auto option = [&](std::string_view name, const std::string& value) {
    if (!value.empty()) core::StrAppend(&body, ", ", name, " = ", Literal(value));
  };
  option("DETAIL", error.detail);
  option("HINT", error.hint);
  option("COLUMN", error.column);
  option("TABLE", error.table);
  option("SCHEMA", error.schema);
  body += "; END";
  // A dollar-quote tag that does not occur in the body.
  std::string tag = "$sfbridge$";
  for (int n = 1; body.find(tag) != std::string::npos; ++n) tag = StrCat("$sfbridge", n, "$");
  return StrCat("DO ", tag, body, tag);
}

}  // namespace sfbridge::proxy
