#include "sfsim/bulk_csv.h"

#include <cstring>

#include "sfsim/soql/datetime.h"

namespace sfbridge::sfsim {
namespace {

// Writes `n` as exactly `width` decimal digits.
char* PutDigits(char* p, int64_t n, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
  return p + width;
}

// `2024-01-02T03:04:05.000Z`. Hand-written because a large job writes millions of them.
void AppendDateTime(std::string& out, int64_t millis) {
  int64_t days = millis >= 0 ? millis / 86'400'000 : (millis - 86'399'999) / 86'400'000;
  int64_t ms_of_day = millis - days * 86'400'000;
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
  days += 719'468;
  const int64_t era = (days >= 0 ? days : days - 146'096) / 146'097;
  const int64_t doe = days - era * 146'097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2);
  if (year < 0 || year > 9999) {  // outside what Salesforce stores; never generated
    out += soql::FormatDateTimeLiteral(millis);
    return;
  }
  char buf[24];
  char* p = PutDigits(buf, year, 4);
  *p++ = '-';
  p = PutDigits(p, month, 2);
  *p++ = '-';
  p = PutDigits(p, day, 2);
  *p++ = 'T';
  p = PutDigits(p, ms_of_day / 3'600'000, 2);
  *p++ = ':';
  p = PutDigits(p, ms_of_day / 60'000 % 60, 2);
  *p++ = ':';
  p = PutDigits(p, ms_of_day / 1000 % 60, 2);
  *p++ = '.';
  p = PutDigits(p, ms_of_day % 1000, 3);
  *p++ = 'Z';
  out.append(buf, static_cast<size_t>(p - buf));
}

}  // namespace

std::optional<char> ColumnDelimiterFromName(std::string_view name) {
  if (name == "COMMA") return ',';
  if (name == "BACKQUOTE") return '`';
  if (name == "CARET") return '^';
  if (name == "PIPE") return '|';
  if (name == "SEMICOLON") return ';';
  if (name == "TAB") return '\t';
  return std::nullopt;
}

std::optional<std::string_view> LineEndingFromName(std::string_view name) {
  if (name == "LF") return std::string_view("\n");
  if (name == "CRLF") return std::string_view("\r\n");
  return std::nullopt;
}

void AppendCsvField(std::string& out, std::string_view text, char delimiter) {
  bool needs_quotes = false;
  for (char c : text) {
    if (c == delimiter || c == '"' || c == '\n' || c == '\r') {
      needs_quotes = true;
      break;
    }
  }
  if (!needs_quotes) {
    out.append(text);
    return;
  }
  out.push_back('"');
  size_t from = 0;
  for (size_t quote = text.find('"'); quote != std::string_view::npos;
       quote = text.find('"', from)) {
    out.append(text.substr(from, quote + 1 - from));
    out.push_back('"');
    from = quote + 1;
  }
  out.append(text.substr(from));
  out.push_back('"');
}

void AppendCsvValue(std::string& out, const soql::Value& value, char delimiter) {
  switch (value.Kind()) {
    case soql::ValueKind::kNull:
      return;
    case soql::ValueKind::kBoolean:
      out.append(value.Bool() ? "true" : "false");
      return;
    case soql::ValueKind::kNumber:
    case soql::ValueKind::kDate:
      // Number text and ISO dates hold no delimiter Salesforce offers, nor quotes.
      AppendCsvField(out, value.Text(), delimiter);
      return;
    case soql::ValueKind::kString:
      AppendCsvField(out, value.Text(), delimiter);
      return;
    case soql::ValueKind::kDateTime:
      AppendDateTime(out, value.Millis());
      return;
    case soql::ValueKind::kTime:
      out.append(soql::FormatTime(static_cast<int32_t>(value.Millis())));
      return;
  }
}

void AppendCsvHeader(std::string& out, const org::ObjectDef& object,
                     const std::vector<size_t>& selected, const CsvFormat& format) {
  for (size_t i = 0; i < selected.size(); ++i) {
    if (i > 0) out.push_back(format.delimiter);
    AppendCsvField(out, object.fields[selected[i]].name, format.delimiter);
  }
  out.append(format.line_ending);
}

void AppendCsvRecord(std::string& out, const org::RecordVersion& record,
                     const std::vector<size_t>& selected, const CsvFormat& format) {
  for (size_t i = 0; i < selected.size(); ++i) {
    if (i > 0) out.push_back(format.delimiter);
    AppendCsvValue(out, record.values[selected[i]], format.delimiter);
  }
  out.append(format.line_ending);
}

}  // namespace sfbridge::sfsim
